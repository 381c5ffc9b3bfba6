"""The bad-input corpus of issue #8 (``tests/bad_inputs``): every case through its loader, the CLI
and the app.

Book cases go through :func:`read_book`, :func:`read_uploaded`, ``python -m cb_core validate`` and
the Data page's upload; product cases through :func:`load_products` and ``products validate|install``;
model-folder cases (built at test time, see ``make_bad_inputs``) through :func:`load_model`,
``model validate|install`` and the pages that need the model in use. A bad input gives its exact
report, exit code 2 on the command line, no traceback in the app, and whatever was in use before
stays in use.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cb_core.data import sources, _files as sources_files
from cb_core.data.book import Book
from cb_core.cli import main
from cb_core.errors import DataSourceError, SchemaError
from cb_core.offers.catalog import load_products
from cb_core.features.pipeline import current_snapshot
from cb_core.data.schema import validate_tables
from cb_core.data import read_book, read_uploaded
from tests.bad_inputs import make_bad_inputs
from tests.support.app import ROOT
from tests.support.books import TODAY, good_tables
from tests.support.bad_inputs import (BAD, BOOK, CATALOG, MODELS, PRODUCTS, UPLOADABLE, VALID_BOOK, case_files,
                                       one_problem)
from tests.support.bad_inputs import frozen_today  # noqa: F401  (fixture)


# --- the corpus itself ----------------------------------------------------------------------------

def test_every_case_has_an_expectation():
    assert set(BOOK) | set(VALID_BOOK) == set(make_bad_inputs.BOOK_CASES)
    assert not set(BOOK) & set(VALID_BOOK)
    assert set(PRODUCTS) == set(make_bad_inputs.PRODUCT_CASES)
    assert set(MODELS) == set(make_bad_inputs.MODEL_CASES) | {"model_valid"}
    assert set(make_bad_inputs.KIND) == set(make_bad_inputs.CASES) | set(make_bad_inputs.MODEL_CASES)


def test_the_corpus_covers_the_issue():
    kinds = make_bad_inputs.KIND
    assert len(kinds) >= 40
    assert set(kinds.values()) == {"merchants", "monthly_activity", "outcomes", "products", "model"}
    assert all(case.endswith("_valid") == (case in VALID_BOOK or PRODUCTS.get(case, 0) is None)
               for case in make_bad_inputs.CASES)


def test_corpus_on_disk_is_what_the_generator_writes(tmp_path):
    make_bad_inputs.write_cases(tmp_path)
    committed = {p.relative_to(BAD): p.read_bytes() for p in BAD.rglob("*")
                 if p.is_file() and p.parent != BAD and "__pycache__" not in p.parts}
    generated = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert sorted(committed) == sorted(generated)
    assert [k for k in committed if committed[k] != generated[k]] == []
    assert sum(map(len, committed.values())) < 200_000  # the corpus stays small (131 kB now)
    assert {p.name for p in BAD.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(make_bad_inputs.CASES)


# --- books: the loaders -----------------------------------------------------------------------------

def _assert_same_book(got: Book, expected: Book) -> None:
    assert set(got.tables()) == set(expected.tables())
    for name, frame in expected.tables().items():
        pd.testing.assert_frame_equal(got.tables()[name], frame)
    assert got.fingerprint == expected.fingerprint


def _expected_book(case: str) -> Book:
    return validate_tables(VALID_BOOK[case](), today=TODAY)


@pytest.mark.parametrize("case", sorted(BOOK))
def test_bad_book_is_refused_with_its_report(case):
    error, message, problems = BOOK[case]
    with pytest.raises(error, match=message) as info:
        read_book(BAD / case, today=TODAY)
    if problems is not None:
        assert info.value.problems == problems
    if error is SchemaError:
        assert str(info.value).splitlines()[0].endswith(
            f"in {BAD / case} (row numbers count data rows from 1, the first row after the header):")
    else:
        assert str(BAD / case) in str(info.value)  # names the file with its folder


@pytest.mark.parametrize("case", sorted(VALID_BOOK))
def test_odd_but_valid_book_loads_as_its_clean_tables(case):
    _assert_same_book(read_book(BAD / case, today=TODAY), _expected_book(case))


def test_odd_but_valid_books_that_are_the_clean_book():
    clean = validate_tables(good_tables(), today=TODAY)
    for case in ("utf8_bom_valid", "cp949_valid", "mixed_line_endings_valid", "excel_export_valid",
                 "thousands_separators_valid", "columns_reordered_valid"):
        assert read_book(BAD / case, today=TODAY).fingerprint == clean.fingerprint, case


def test_cp949_book_keeps_korean_names():
    loaded = read_book(BAD / "cp949_valid", today=TODAY)
    assert loaded.merchants["business_name"].tolist() == ["한빛상회", "바다식품", "Green Pet Shop", "소담가구"]
    assert (BAD / "cp949_valid" / "merchants.csv").read_bytes().decode("cp949").count("서울특별시") == 1


def test_quoted_line_breaks_stay_in_the_name():
    loaded = read_book(BAD / "quoted_newline_valid", today=TODAY)
    assert loaded.merchants["business_name"].tolist() == ["한빛\n상회", "바다식품", "Green Pet\r\nShop", "소담가구"]


def test_months_out_of_order_give_the_same_features():
    clean = validate_tables(good_tables(), today=TODAY)
    shuffled = read_book(BAD / "months_out_of_order_valid", today=TODAY)
    assert shuffled.activity["month"].tolist()[:4] == ["2026-04", "2026-03", "2026-02", "2026-01"]
    ordered = shuffled.activity.sort_values(["merchant_id", "month"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered, clean.activity)
    pd.testing.assert_frame_equal(current_snapshot(shuffled), current_snapshot(clean))


def test_small_books_give_finite_features():
    one = read_book(BAD / "one_merchant_valid", today=TODAY)
    assert (len(one.merchants), len(one.activity), one.outcomes["defaulted_12m"].tolist()) == (1, 4, [0])
    snap = current_snapshot(read_book(BAD / "merchant_with_one_month_valid", today=TODAY))
    # M004's only month, 2026-04: 1,000,000 x 4 + 250,000 x 3 won
    assert snap.loc["M004", ["months_active", "gmv_3m_avg_krw"]].tolist() == [1.0, 4_750_000.0]
    zero = current_snapshot(read_book(BAD / "all_zero_sales_valid", today=TODAY))
    assert zero.loc["M002", ["gmv_3m_avg_krw", "months_active", "zero_sales_months_12m"]].tolist() == [0.0, 0.0, 4.0]
    for snapshot in (current_snapshot(one), snap, zero):
        assert not np.isinf(snapshot.select_dtypes("number").to_numpy()).any()



@pytest.mark.parametrize("case", UPLOADABLE)
def test_bad_upload_is_refused_with_its_report(case):
    error, message, problems = BOOK[case]
    if case == "missing_table":  # an upload has no folder to name
        error, message, problems = SchemaError, r"monthly_activity\.\*: required table is missing", \
            one_problem("monthly_activity", "*", "required table is missing")
    with pytest.raises(error, match=message) as info:
        read_uploaded(case_files(case), today=TODAY)
    if problems is not None:
        assert info.value.problems == problems
    if error is DataSourceError:
        assert str(BAD) not in str(info.value) and re.match(r"^(monthly_activity|merchants)\.(csv|parquet)",
                                                              str(info.value))


@pytest.mark.parametrize("case", ["excel_export_valid", "quoted_newline_valid", "all_zero_sales_valid"])
def test_valid_upload_loads_as_its_clean_tables(case):
    _assert_same_book(read_uploaded(case_files(case), today=TODAY), _expected_book(case))


# --- books: size limits and unreadable files ----------------------------------------------------------

@pytest.fixture
def bytes_read(monkeypatch):
    """Counts the bytes ``cb_core.data.sources`` reads from files it opens."""
    counter = {"opened": 0, "read": 0}

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            data = self.fh.read(n)
            counter["read"] += len(data)
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def counting_open(path, mode="r", *args, **kwargs):
        counter["opened"] += 1
        return Counting(open(path, mode, *args, **kwargs))

    monkeypatch.setattr(sources_files, "open", counting_open, raising=False)
    return counter


def _book_folder(tmp_path: Path, merchants: bytes) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "merchants.csv").write_bytes(merchants)
    shutil.copy(BAD / "negative_amount" / "monthly_activity.csv", folder / "monthly_activity.csv")
    return folder


def test_a_very_long_line_is_refused_without_reading_the_rest(tmp_path, bytes_read, capsys):
    header = (BAD / "negative_amount" / "merchants.csv").read_bytes().split(b"\n")[0] + b"\n"
    folder = _book_folder(tmp_path, header + b"M001," + b"9" * 5_000_000 + b"\n")
    with pytest.raises(DataSourceError, match=r"merchants\.csv: line 2 is longer than 1,000,000 bytes; a row of a "
                                              r"book table is a few hundred bytes"):
        read_book(folder, today=TODAY)
    assert 0 < bytes_read["read"] <= 2 * sources_files.MAX_LINE_BYTES < (folder / "merchants.csv").stat().st_size
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder / 'merchants.csv'}: line 2 is longer than") and "Traceback" not in err


def test_a_gigabyte_file_of_nothing_is_refused_after_one_chunk(tmp_path, bytes_read):
    """A zip-bomb-like file: 1.5 GiB of NUL bytes and no line break (sparse: no disk used)."""
    folder = _book_folder(tmp_path, b"")
    with open(folder / "merchants.csv", "wb") as fh:
        fh.truncate(3 * 1024 ** 3 // 2)
    with pytest.raises(DataSourceError, match=r"merchants\.csv: line 1 is longer than 1,000,000 bytes"):
        read_book(folder, today=TODAY)
    assert bytes_read["read"] <= 2 * sources_files.MAX_LINE_BYTES


def test_a_file_beyond_the_size_limit_is_refused_before_it_is_opened(tmp_path, bytes_read):
    folder = _book_folder(tmp_path, b"")
    with open(folder / "merchants.csv", "wb") as fh:
        fh.truncate(sources_files.MAX_FILE_BYTES + 1)  # sparse
    with pytest.raises(DataSourceError, match=r"merchants\.csv is 2,048 MiB, more than the 2 GiB a book file may "
                                              r"have here; load a book this size with python -m cb_core batch"):
        read_book(folder, today=TODAY)
    assert bytes_read["opened"] == 0


def test_a_long_line_in_an_upload_is_refused():
    files = {**case_files("negative_amount"), "monthly_activity.csv": b"merchant_id,month\r\n" + b"x" * 1_000_001}
    with pytest.raises(DataSourceError, match=r"^monthly_activity\.csv: line 2 is longer than 1,000,000 bytes"):
        read_uploaded(files, today=TODAY)
    files["monthly_activity.csv"] = b"merchant_id,month\r\n" + b"x" * 1_000_000  # exactly the limit: read on
    with pytest.raises(SchemaError) as info:
        read_uploaded(files, today=TODAY)
    assert info.value.problems[-2:] == (one_problem("monthly_activity", "month", "must not be empty", [1])
                                        + one_problem("monthly_activity", "merchant_id", "merchant_id not found in merchants",
                                               [1], "x" * 60 + "…"))


def test_an_unreadable_file_is_named(tmp_path, monkeypatch):
    """Root reads any file whatever its mode, so the operating system's refusal is simulated."""
    folder = _book_folder(tmp_path, (BAD / "negative_amount" / "merchants.csv").read_bytes())

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(sources_files, "open", refuse, raising=False)
    with pytest.raises(DataSourceError, match=rf"^cannot read {re.escape(str(folder / 'merchants.csv'))}: "
                                              r"Permission denied$"):
        read_book(folder, today=TODAY)
    catalog = BAD / "products_bom_crlf_valid" / CATALOG
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: refuse(self) if self == catalog else original(self))
    with pytest.raises(DataSourceError, match=r"^cannot read product catalog .*loan_products\.json: Permission "
                                              r"denied$"):
        load_products(catalog)


# --- books: the command line --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(BOOK))
def test_cli_validate_reports_a_bad_book_with_exit_2(case, frozen_today, capsys):
    error, message, problems = BOOK[case]
    assert main(["validate", str(BAD / case)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert re.search(message, err)
    if error is SchemaError:
        lines = err.splitlines()
        assert lines[0].endswith(f"in {BAD / case} (row numbers count data rows from 1, the first row after the "
                                 "header):")
        if problems is not None:
            assert lines[1:] == [f"  - {p}" for p in problems]
    else:
        assert err.startswith(f"error: {BAD / case}") or err.startswith(f"error: cannot read {BAD / case}")


@pytest.mark.parametrize("case", sorted(VALID_BOOK))
def test_cli_validate_accepts_an_odd_but_valid_book(case, capsys):
    assert main(["validate", str(BAD / case)]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == _expected_book(case).fingerprint


def test_cli_in_a_real_process_exits_2_without_a_traceback():
    r = subprocess.run([sys.executable, "-m", "cb_core", "validate", str(BAD / "korean_number_words")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert (r.returncode, r.stdout) == (2, "")
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines()[1:] == [f"  - {p}" for p in BOOK["korean_number_words"][2]]


