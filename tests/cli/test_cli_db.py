"""``python -m cb_core db ...`` and ``users unlock`` against a SQLite file, and the password rule in
the CLI's error."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.app import ROOT

RULE = "the rule: at least 10 characters, not one of the common passwords on our list, and not containing the user name"


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, timeout=120)


def test_users_add_explains_the_password_rule(tmp_path):
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    for password, problem in (("password123", "this password is one of the most common passwords"),
                              ("kim-2026-secret", "a password must not contain the user name"),
                              ("short", "a password must be at least 10 characters; got 5 characters")):
        r = _cli("users", "--database-url", url, "add", "kim", "--role", "pm", "--password-stdin",
                 stdin=password + "\n")
        assert (r.returncode, r.stderr) == (2, f"error: {problem}; {RULE}\n")


def test_users_unlock_ends_a_lock_at_once(tmp_path):
    from cb_core.store import LoginError, Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    assert _cli("users", "--database-url", url, "add", "oh", "--role", "officer", "--password-stdin",
                stdin="quiet river stone 7\n").returncode == 0
    with Store(url) as store:
        for _ in range(5):
            with pytest.raises(LoginError):
                store.authenticate("oh", "wrong password", client="10.0.0.1")
        assert store.get_user("oh").locked_until is not None
    r = _cli("users", "--database-url", url, "unlock", "oh")
    assert (r.returncode, json.loads(r.stdout)) == (0, {"user": "oh", "locked_until": None})
    with Store(url) as store:
        assert store.get_user("oh").locked_until is None
        assert store.audit_log({"action": "user.unlock"})[0].user == "cli"
    r = _cli("users", "--database-url", url, "unlock", "nobody")
    assert (r.returncode, r.stderr) == (2, "error: no user named 'nobody'\n")


def test_db_backup_check_restore_and_confirm_empty(tmp_path):
    from cb_core.store import Store

    db = tmp_path / "state" / "cb.sqlite"
    db.parent.mkdir()
    url = f"sqlite:///{db}"
    assert _cli("users", "--database-url", url, "add", "kim", "--role", "pm", "--password-stdin",
                stdin="quiet river stone 7\n").returncode == 0
    r = _cli("db", "--database-url", url, "check")
    assert (r.returncode, json.loads(r.stdout)["ok"]) == (0, True)
    r = _cli("db", "--database-url", url, "backup", str(tmp_path / "cb-backup.sqlite"))
    assert r.returncode == 0, r.stderr
    # The file is lost: the app would refuse to start on an empty database ...
    for name in ("cb.sqlite", "cb.sqlite-wal", "cb.sqlite-shm"):
        (db.parent / name).unlink(missing_ok=True)
    r = _cli("users", "--database-url", url, "list")
    assert r.returncode == 2 and r.stderr.startswith("error: the database is empty, but a database with users")
    assert str(tmp_path) not in r.stderr
    r = _cli("db", "--database-url", url, "init")
    assert r.returncode == 2 and "--confirm-empty" in r.stderr
    # ... until the backup is restored:
    r = _cli("db", "--database-url", url, "restore", str(tmp_path / "cb-backup.sqlite"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["revision"] == "0005"
    with Store(url) as store:
        assert [u.name for u in store.list_users()] == ["kim"]


def test_db_init_confirm_empty_starts_afresh_with_a_new_admin(tmp_path):
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    assert _cli("users", "--database-url", url, "ensure-admin").returncode == 0
    (tmp_path / "cb.sqlite").write_bytes(b"")
    for name in ("cb.sqlite-wal", "cb.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    r = _cli("db", "--database-url", url, "init", "--confirm-empty")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["confirmed_empty"] is True
    assert r.stdout.splitlines()[1].startswith("created user 'admin' (admin), password (shown once): ")


def test_db_check_on_a_corrupted_file_exits_2_without_a_traceback(tmp_path):
    (tmp_path / "cb.sqlite").write_bytes(b"garbage " * 512)
    r = _cli("db", "--database-url", f"sqlite:///{tmp_path / 'cb.sqlite'}", "check")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: the database file is damaged (not a readable database)")
