"""``python -m cb_core users ...`` against a SQLite file: add, list, disable, reset-password."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.app import ROOT


def _users(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cb_core", "users", "--database-url", url, *args], cwd=ROOT,
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_users_lifecycle(tmp_path):
    from cb_core.errors import AuthError
    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    first = _users(url, "ensure-admin")
    assert first.returncode == 0, first.stderr
    admin_pw = first.stdout.strip().rsplit(": ", 1)[1]
    assert len(admin_pw) >= 16
    assert _users(url, "ensure-admin").stdout == ""  # only on an empty store
    r = _users(url, "add", "park", "--role", "partner", "--partner", "Hanbit Bank", "--password-stdin",
               stdin="s3cret-pass-phrase\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"user": "park", "role": "partner", "partner": "Hanbit Bank"}
    r = _users(url, "add", "lee", "--role", "officer")
    generated = r.stdout.strip().splitlines()[-1].rsplit(": ", 1)[1]
    listed = [json.loads(line) for line in _users(url, "list").stdout.splitlines()]
    assert sorted(u["user"] for u in listed) == ["admin", "lee", "park"]
    store = Store(url)
    assert store.authenticate("admin", admin_pw).role == "admin"
    assert store.authenticate("park", "s3cret-pass-phrase").partner == "Hanbit Bank"
    assert store.authenticate("lee", generated).role == "officer"
    r = _users(url, "reset-password", "lee")
    new_pw = r.stdout.strip().rsplit(": ", 1)[1]
    with pytest.raises(AuthError):
        store.authenticate("lee", generated)
    assert store.authenticate("lee", new_pw).name == "lee"
    assert _users(url, "disable", "lee").returncode == 0
    with pytest.raises(AuthError):
        store.authenticate("lee", new_pw)
    store.close()
    assert "$argon2id$" in (tmp_path / "cb.sqlite").read_bytes().decode("latin-1")
    assert new_pw.encode() not in (tmp_path / "cb.sqlite").read_bytes()


def test_bad_role_and_duplicate_user_exit_2(tmp_path):
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    r = _users(url, "add", "x", "--role", "root")
    assert r.returncode == 2 and "invalid choice: 'root'" in r.stderr
    assert _users(url, "add", "kim", "--role", "pm").returncode == 0
    r = _users(url, "add", "kim", "--role", "pm")
    assert r.returncode == 2 and "kim" in r.stderr
