"""The command line takes the book installed in a state folder as stored when its files' digests
match what was recorded at install time, and validates anything else in full (issue #15)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cb_core.data import TRUSTED, open_book, save_current, write_book
from cb_core.data import schema
from cb_core.errors import SchemaError
from cb_core.loans import with_demo_loans
from cb_core.synth import generate_book
from tests.support.app import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, object]:
    """A 60-merchant demo book with loans: written as a plain folder, and installed in a state folder."""
    root = tmp_path_factory.mktemp("trusted")
    book = with_demo_loans(generate_book(60, 8, seed=5), 5)
    plain = write_book(book, root / "plain")
    folder = save_current(book, root / "state", keep_replaced=0)
    return plain, folder, book


def _cli(*args: str) -> tuple[int, dict, str]:
    done = subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    lines = done.stdout.strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {}, done.stderr


def test_open_book_trusts_only_the_installed_book_with_matching_digests(installed, monkeypatch):
    plain, folder, book = installed
    calls = []
    real = schema._validate  # what sources calls to validate (imported there when a book is validated)
    monkeypatch.setattr(schema, "_validate", lambda *a, **k: calls.append(1) or real(*a, **k))
    trusted, how = open_book(folder)
    assert how == TRUSTED and calls == []  # not validated again
    assert trusted.fingerprint == book.fingerprint and trusted.source == str(folder)
    pd.testing.assert_frame_equal(trusted.activity, book.activity)
    again, how = open_book(plain)  # the same book outside a state folder: validated in full
    assert how == "full" and calls == [1] and again.fingerprint == book.fingerprint


def test_cli_validate_says_which_path_it_took(installed):
    plain, folder, book = installed
    code, line, err = _cli("validate", str(folder))
    assert code == 0, err
    assert line["validation"] == TRUSTED and line["fingerprint"] == book.fingerprint
    assert line["merchants"] == 60 and line["activity_rows"] == len(book.activity)
    code, line, err = _cli("validate", str(plain))
    assert code == 0, err
    assert line["validation"] == "full" and line["fingerprint"] == book.fingerprint


def test_a_tampered_installed_book_is_validated_in_full_and_its_problem_reported(tmp_path):
    book = generate_book(40, 6, seed=9)
    folder = save_current(book, tmp_path / "state", keep_replaced=0)
    activity = book.activity.copy()
    activity.loc[3, "gmv_krw"] = -5  # same columns and dtypes, one bad value: only the digest tells
    activity.to_parquet(folder / "monthly_activity.parquet", index=False)
    book_after, how = None, None
    with pytest.raises(SchemaError) as caught:
        book_after, how = open_book(folder)
    assert book_after is None and how is None
    [problem] = caught.value.problems
    assert (problem.table, problem.column, problem.rule, problem.rows, problem.example) == (
        "monthly_activity", "gmv_krw", "must be ≥ 0", (4,), "-5")
    code, line, err = _cli("validate", str(folder))
    assert code == 2 and line == {}
    assert "1 problem(s) in " in err and "monthly_activity.gmv_krw: rows 4: must be ≥ 0 e.g. '-5'" in err


def test_a_replaced_book_or_a_pointer_to_another_book_is_not_trusted(tmp_path):
    first = generate_book(30, 6, seed=1)
    second = generate_book(30, 6, seed=2)
    state = tmp_path / "state"
    old = save_current(first, state, keep_replaced=1)
    save_current(second, state, keep_replaced=1)
    assert old.is_dir()  # kept as a replaced book, but the pointer names the other one
    book, how = open_book(old)
    assert how == "full" and book.fingerprint == first.fingerprint
    pointer = json.loads((state / "current_book.json").read_text(encoding="utf-8"))
    pointer["files"] = "not a dict"
    (state / "current_book.json").write_text(json.dumps(pointer), encoding="utf-8")
    assert open_book(state / "books" / second.fingerprint)[1] == "full"
