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
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit
from argon2 import PasswordHasher

from cb_core import schema, sources, sources_files
from cb_core.book import Book
from cb_core.cli import main
from cb_core.errors import DataSourceError, ModelError, Problem, SchemaError
from cb_core.i18n import t
from cb_core.model import load_model
from cb_core.offers_catalog import load_products, validate_products
from cb_core.pipeline import current_snapshot
from cb_core.schema import validate_tables
from cb_core.sources import read_book, read_uploaded
from tests.bad_inputs import make_bad_inputs
from tests.conftest import PASSWORD, ROOT, app_as
from tests.conftest_book import TODAY, good_tables

BAD = Path(__file__).resolve().parent / "bad_inputs"
CATALOG = make_bad_inputs.PRODUCTS_FILE


def _one(table, column, rule, rows=(), example=""):
    return [Problem(table, column, rule, tuple(rows), len(rows), example)]


def _product(field, rule, example="", position=1, label="BANK-01"):
    return [Problem("loan_products", field, f"product {label}: {field} {rule}", (position,), 1, example)]


REGION = ("unknown region; expected the official name of one of the 17 provinces/metropolitan cities, "
          "e.g. '서울특별시' (not '서울')")
GROUPING = "thousands separators in the wrong places: write digits (1200000 or 1,200,000)"
KOREAN = "Korean number words or units: write the amount in digits (120만원 → 1200000)"
FINITE = "must be a finite number (not NaN or infinity)"
TOO_LARGE_WHOLE = "too large: at most 9,007,199,254,740,991 (larger whole numbers are not exact)"
TOO_LARGE_NUMBER = "too large: beyond the largest number a computer can hold (about 1.8e308)"
INVISIBLE = "must not contain tabs, line breaks or other control or invisible characters"

# --- expectations -------------------------------------------------------------------------------

#: Book case -> (error type, regex the message must contain, exact problems of a SchemaError).
#: Error messages about one file name the file; read from a folder, its whole path.
BOOK = {
    "empty_file": (SchemaError, r"merchants\.\*: table is empty",
                   _one("merchants", "*", "table is empty: no header and no rows")),
    "header_only": (SchemaError, r"monthly_activity\.\*: table is empty: header only",
                    _one("monthly_activity", "*", "table is empty: header only, no data rows")),
    "missing_table": (SchemaError, r"monthly_activity\.\*: required table is missing: no monthly_activity"
                                   r"\.parquet or monthly_activity\.csv in .*missing_table", None),
    "missing_column": (SchemaError, r"monthly_activity\.orders: missing column",
                       _one("monthly_activity", "orders", "missing column")),
    "extra_column": (SchemaError, r"merchants\.email: unknown column 'email'",
                     _one("merchants", "email", "unknown column 'email' (not in the data contract)")),
    "wrong_type": (SchemaError, r"monthly_activity\.gmv_krw: rows 5: wrong type: expected a whole number of "
                                r"KRW e\.g\. 'pending'",
                   _one("merchants", "bureau_score", "wrong type: expected a whole number", [2], "unknown")
                   + _one("monthly_activity", "gmv_krw", "wrong type: expected a whole number of KRW", [5],
                          "pending")),
    "fractional_amount": (SchemaError, r"monthly_activity\.refund_krw: rows 7: must be a whole number of KRW",
                          _one("monthly_activity", "refund_krw", "must be a whole number of KRW", [7], "1500.5")),
    "duplicate_key": (SchemaError, r"merchants\.merchant_id: rows 1, 5: duplicate value",
                      _one("merchants", "merchant_id", "duplicate value: must be unique", [1, 5], "M001")
                      + _one("monthly_activity", "merchant_id+month",
                             "duplicate merchant_id + month: one row per merchant_id and month", [3, 17],
                             "M001 2026-03")),
    "negative_amount": (SchemaError, r"monthly_activity\.refund_krw: rows 6: must be ≥ 0 e\.g\. '-5000'",
                        _one("monthly_activity", "refund_krw", "must be ≥ 0", [6], "-5000")),
    "rate_out_of_range": (SchemaError, r"monthly_activity\.repeat_buyer_rate: rows 2: must be within \[0, 1\]",
                          _one("monthly_activity", "repeat_buyer_rate", "must be within [0, 1]", [2], "1.3")
                          + _one("monthly_activity", "ship_delay_rate", "must be within [0, 1]", [9], "-0.1")),
    "unknown_merchant": (SchemaError, r"monthly_activity\.merchant_id: rows 17, 18: merchant_id not found",
                         _one("monthly_activity", "merchant_id", "merchant_id not found in merchants", [17, 18],
                              "M999")),
    "month_in_future": (SchemaError, r"monthly_activity\.month: rows 17: must not be after the current month",
                        _one("monthly_activity", "month", "must not be after the current month (2026-06)", [17],
                             "2099-01")),
    "undecodable_bytes": (DataSourceError, r"merchants\.csv: byte 0xff at byte offset 361 \(line 4\) is not "
                                           r"valid UTF-8 text", None),
    "excel_renamed_csv": (DataSourceError, r"merchants\.csv is an Excel workbook, not CSV: save it as CSV "
                                           r"\(UTF-8\)", None),
    "bad_reg_no": (SchemaError, r"merchants\.business_reg_no: rows 2: must be a business number",
                   _one("merchants", "business_reg_no",
                        "must be a business number NNN-NN-NNNNN (e.g. '123-45-67890')", [2], "234-5678-901")),
    "unknown_region": (SchemaError, r"merchants\.region: rows 1: unknown region",
                       _one("merchants", "region", REGION, [1], "Seoul")),
    "id_with_spaces": (SchemaError, r"merchants\.merchant_id: rows 3: must not start or end with spaces",
                       _one("merchants", "merchant_id", "must not start or end with spaces", [3], "M003 ")),
    "joined_before_opened": (SchemaError, r"merchants\.joined_platform_on: rows 4: must not be before opened_on",
                             _one("merchants", "joined_platform_on", "must not be before opened_on", [4],
                                  "2023-01-31 < 2023-09-09")),
    "gap_in_months": (SchemaError, r"monthly_activity\.month: rows 6: months not contiguous for merchant M002: "
                                   r"missing 2026-02, 2026-03",
                      _one("monthly_activity", "month", "months not contiguous for merchant M002: missing "
                           "2026-02, 2026-03 (add a row for every month, with zeros where nothing was sold)", [6],
                           "M002")),
    "outcome_not_binary": (SchemaError, r"outcomes\.defaulted_12m: rows 2: must be 0 or 1",
                           _one("outcomes", "defaulted_12m", "must be 0 or 1", [2], "2")),
    "outcome_duplicate": (SchemaError, r"outcomes\.merchant_id\+snapshot_month: rows 2, 4: duplicate",
                          _one("outcomes", "merchant_id+snapshot_month", "duplicate merchant_id + snapshot_month: "
                               "one row per merchant_id and snapshot_month", [2, 4], "M002 2026-01")),
    # encodings and line structure
    "utf16_export": (DataSourceError, r"merchants\.csv is UTF-16 text \(Excel's 'Unicode Text'\), not CSV: save "
                                      r"it as CSV \(UTF-8\)", None),
    # 구 (EA B5 AC) lost its last byte; EA is the 10th byte of 소담가구 in line 5 (row 4)
    "damaged_utf8_korean": (DataSourceError, r"merchants\.csv: byte 0xea at byte offset 454 \(line 5\) is not "
                                             r"valid UTF-8 text; save the file as CSV \(UTF-8\)", None),
    # 64 NUL bytes after the last line break of a 17-line file
    "nul_bytes": (DataSourceError, r"monthly_activity\.csv: NUL bytes at line 18: not a CSV text file", None),
    # data row 5 is file line 6; 2,000,000 unquoted makes 17 + 2 fields
    "unquoted_thousands_separator": (DataSourceError, r"monthly_activity\.csv is not a well-formed CSV table: "
                                     r"line 6 has 19 fields but the header has 17; a value that contains a comma "
                                     r"\(such as 1,200,000 or a name\) must be in double quotes", None),
    "quoted_newline_row_numbers": (SchemaError, r"merchants\.region: rows 3: unknown region",
                                   _one("merchants", "region", REGION, [3], "Seoul")),
    # how numbers are written
    "bad_thousands_grouping": (SchemaError, r"monthly_activity\.gmv_krw: rows 5, 9: thousands separators in the "
                                            r"wrong places: write digits",
                               _one("monthly_activity", "gmv_krw", GROUPING, [5, 9], "20,00,000")
                               + _one("monthly_activity", "settlement_krw", GROUPING, [8], "1,7,14,000")),
    "korean_number_words": (SchemaError, r"monthly_activity\.gmv_krw: rows 3, 4: Korean number words or units: "
                                         r"write the amount in digits",
                            _one("monthly_activity", "gmv_krw", KOREAN, [3, 4], "150만원")
                            + _one("monthly_activity", "refund_krw", KOREAN, [10], "1만 2천")),
    "nan_and_inf": (SchemaError, r"monthly_activity\.gmv_krw: rows 2: must be a finite number",
                    _one("monthly_activity", "gmv_krw", FINITE, [2], "NaN")
                    + _one("monthly_activity", "refund_krw", FINITE, [3], "inf")
                    + _one("monthly_activity", "inventory_turnover", FINITE, [5], "nan")
                    + _one("monthly_activity", "avg_rating", FINITE, [4], "-Infinity")),
    "huge_numbers": (SchemaError, r"monthly_activity\.orders: rows 3: too large: at most 9,007,199,254,740,991",
                     _one("merchants", "bureau_score", TOO_LARGE_WHOLE, [1], "1e30")
                     + _one("monthly_activity", "gmv_krw", TOO_LARGE_WHOLE, [2], "99999999999999999999999")
                     + _one("monthly_activity", "orders", TOO_LARGE_WHOLE, [3], "9223372036854775808")
                     + _one("monthly_activity", "inventory_turnover", TOO_LARGE_NUMBER, [4], "1e400")),
    # ids
    "id_with_invisible_characters": (SchemaError, r"merchants\.merchant_id: rows 3: must not contain tabs",
                                     _one("merchants", "merchant_id", INVISIBLE, [3], "\ufeffM003")
                                     + _one("monthly_activity", "merchant_id", INVISIBLE, [6], "M002\u200b")),
    "activity_id_with_spaces": (SchemaError, r"monthly_activity\.merchant_id: rows 6: must not start or end",
                                _one("monthly_activity", "merchant_id", "must not start or end with spaces", [6],
                                     " M002")),
    # files that are not tables
    "truncated_parquet": (DataSourceError, r"monthly_activity\.parquet is not a complete Parquet file "
                                           r"\(truncated, corrupt or another format\)", None),
    "table_is_a_folder": (DataSourceError, r"cannot read .*table_is_a_folder/merchants\.csv: it is a folder, not "
                                           r"a table file", None),
}


def _multi_line_names() -> dict[str, pd.DataFrame]:
    tables = good_tables(with_outcomes=False)
    tables["merchants"].loc[0, "business_name"] = "한빛\n상회"
    tables["merchants"].loc[2, "business_name"] = "Green Pet\r\nShop"
    return tables


def _only_m001() -> dict[str, pd.DataFrame]:
    return {name: frame[frame["merchant_id"] == "M001"].reset_index(drop=True)
            for name, frame in good_tables().items()}


def _m004_only_april() -> dict[str, pd.DataFrame]:
    tables = good_tables(with_outcomes=False)
    activity = tables["monthly_activity"]
    tables["monthly_activity"] = activity[~((activity["merchant_id"] == "M004") & (activity["month"] < "2026-04"))
                                          ].reset_index(drop=True)
    return tables


def _m002_sold_nothing() -> dict[str, pd.DataFrame]:
    tables = good_tables(with_outcomes=False)
    activity = tables["monthly_activity"]
    rows = activity["merchant_id"] == "M002"
    for column in activity.columns[2:]:
        if column != "active_listings":  # its listings stay up; nothing else happens
            activity.loc[rows, column] = pd.NA if column == "avg_rating" else "0"
    return tables


#: Valid book case -> the tables it must load as (all-string, as a CSV reader gives them).
VALID_BOOK = {
    "utf8_bom_valid": good_tables,
    "cp949_valid": good_tables,
    "mixed_line_endings_valid": good_tables,
    "excel_export_valid": good_tables,
    "thousands_separators_valid": good_tables,
    "columns_reordered_valid": good_tables,
    "quoted_newline_valid": _multi_line_names,
    "months_out_of_order_valid": lambda: {**good_tables(), "monthly_activity":
                                          good_tables()["monthly_activity"].iloc[::-1].reset_index(drop=True)},
    "one_merchant_valid": _only_m001,
    "merchant_with_one_month_valid": _m004_only_april,
    "all_zero_sales_valid": _m002_sold_nothing,
}

#: Product case -> (error type, regex, exact problems of a SchemaError); None: valid, the clean catalog.
PRODUCTS = {
    "products_bom_crlf_valid": None,
    "products_fields_reordered_valid": None,
    "products_grouped_amount_valid": None,
    "products_truncated_json": (DataSourceError, r"loan_products\.json is not valid JSON: Unterminated string "
                                                 r"starting at: line \d+ column \d+", None),
    "products_empty_file": (DataSourceError, r"loan_products\.json is empty: expected a JSON list of products",
                            None),
    "products_not_a_list": (SchemaError, r"loan_products\.json must be a JSON list of products; got dict",
                            _one("loan_products", "*", "the catalog must be a JSON list of products")),
    "products_empty_list": (SchemaError, r"catalog is empty: at least one product is needed",
                            [Problem("loan_products", "*", "product *: * catalog is empty: at least one product "
                                     "is needed", (0,), 1, "")]),
    "products_missing_field": (SchemaError, r"product BANK-01: min_score is missing",
                               _product("min_score", "is missing")),
    "products_unknown_field": (SchemaError, r"product BANK-01: broker_fee is not a catalog field",
                               _product("broker_fee", "is not a catalog field; did you mean 'broker_fee_pct'?")),
    "products_wrong_type": (SchemaError, r"product BANK-01: min_score wrong type: expected a whole number "
                                         r"\(got 'high'\)",
                            _product("min_score", "wrong type: expected a whole number", "high")),
    "products_bad_grouping": (SchemaError, r"limit_cap_krw wrong type: expected a whole number \(got '5,00,00,000'\)",
                              _product("limit_cap_krw", "wrong type: expected a whole number", "5,00,00,000")),
    "products_korean_amount": (SchemaError, r"min_avg_monthly_gmv_krw wrong type: expected a whole number",
                               _product("min_avg_monthly_gmv_krw", "wrong type: expected a whole number", "50만원")),
    "products_nan_inf": (SchemaError, r"limit_multiple_of_monthly_gmv wrong type: expected a number \(got 'NaN'\)",
                         _product("limit_multiple_of_monthly_gmv", "wrong type: expected a number", "NaN")
                         + _product("broker_fee_pct", "wrong type: expected a number", "Infinity")),
    "products_huge_numbers": (SchemaError, r"limit_cap_krw is too large: at most 9,007,199,254,740,991",
                              _product("min_avg_monthly_gmv_krw", "wrong type: expected a whole number", "1e400")
                              + _product("limit_cap_krw", "is too large: at most 9,007,199,254,740,991",
                                         "1" + "0" * 30)),
    "products_repeated_field": (DataSourceError, r"loan_products\.json: product BANK-01 lists the field "
                                                 r"'min_score' twice; keep one value", None),
    "products_duplicate_id": (SchemaError, r"product BANK-01: product_id duplicates product #1",
                              _product("product_id", "duplicates product #1", position=3)),
    # the first Korean letter (한 of 한빛은행, C7 D1 in CP949) is in line 5
    "products_cp949": (DataSourceError, r"loan_products\.json: byte 0xc7 at byte offset 84 \(line 5\) is not valid "
                                        r"UTF-8 text; save it as UTF-8", None),
    "products_is_a_folder": (DataSourceError, r"loan_products\.json is a folder, not a JSON file", None),
}

#: Model case -> regex of its ModelError (None: loads, and a book can be scored with it).
#: ``load``: load_model itself refuses it; otherwise it loads but cannot score a merchant book.
MODELS = {
    "model_valid": None,
    "model_other_feature_set": (False, r"model_other_feature_set was trained on another feature set: a merchant "
                                       r"book gives no my_signal, loan_count \(2 of its 3 features\)"),
    "model_feature_kind_differs": (False, r"trained on another feature set: category is numeric in the model but "
                                          r"categorical in a merchant book"),
    "model_booster_truncated": (True, r"model_booster_truncated/booster\.txt is corrupted: not a complete LightGBM "
                                      r"model text"),
    "model_booster_edited": (True, r"model_booster_edited does not match its card: content hash [0-9a-f]{12}, "
                                   r"card version [0-9a-f]{12}"),
    "model_booster_binary": (True, r"model_booster_binary/booster\.txt is corrupted: not a LightGBM model text"),
    "model_card_not_json": (True, r"model_card_not_json/card\.json is not valid JSON"),
    "model_card_lacks_calibration": (True, r"model_card_lacks_calibration/card\.json lacks calibration"),
    "model_missing_booster": (True, r"model folder .*model_missing_booster has no booster\.txt"),
    "model_empty_folder": (True, r"model folder .*model_empty_folder has no booster\.txt"),
    "model_is_a_file": (True, r"model_is_a_file is a file, not a model folder"),
}

UPLOADABLE = sorted(c for c in BOOK if c != "table_is_a_folder")  # a folder cannot be uploaded


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


def _upload(case: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((BAD / case).iterdir())}


@pytest.mark.parametrize("case", UPLOADABLE)
def test_bad_upload_is_refused_with_its_report(case):
    error, message, problems = BOOK[case]
    if case == "missing_table":  # an upload has no folder to name
        error, message, problems = SchemaError, r"monthly_activity\.\*: required table is missing", \
            _one("monthly_activity", "*", "required table is missing")
    with pytest.raises(error, match=message) as info:
        read_uploaded(_upload(case), today=TODAY)
    if problems is not None:
        assert info.value.problems == problems
    if error is DataSourceError:
        assert str(BAD) not in str(info.value) and re.match(r"^(monthly_activity|merchants)\.(csv|parquet)",
                                                              str(info.value))


@pytest.mark.parametrize("case", ["excel_export_valid", "quoted_newline_valid", "all_zero_sales_valid"])
def test_valid_upload_loads_as_its_clean_tables(case):
    _assert_same_book(read_uploaded(_upload(case), today=TODAY), _expected_book(case))


# --- books: size limits and unreadable files ----------------------------------------------------------

@pytest.fixture
def bytes_read(monkeypatch):
    """Counts the bytes ``cb_core.sources`` reads from files it opens."""
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
    assert 0 < bytes_read["read"] <= 2 * sources.MAX_LINE_BYTES < (folder / "merchants.csv").stat().st_size
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
    assert bytes_read["read"] <= 2 * sources.MAX_LINE_BYTES


def test_a_file_beyond_the_size_limit_is_refused_before_it_is_opened(tmp_path, bytes_read):
    folder = _book_folder(tmp_path, b"")
    with open(folder / "merchants.csv", "wb") as fh:
        fh.truncate(sources.MAX_FILE_BYTES + 1)  # sparse
    with pytest.raises(DataSourceError, match=r"merchants\.csv is 2,048 MiB, more than the 2 GiB a book file may "
                                              r"have here; load a book this size with python -m cb_core batch"):
        read_book(folder, today=TODAY)
    assert bytes_read["opened"] == 0


def test_a_long_line_in_an_upload_is_refused():
    files = {**_upload("negative_amount"), "monthly_activity.csv": b"merchant_id,month\r\n" + b"x" * 1_000_001}
    with pytest.raises(DataSourceError, match=r"^monthly_activity\.csv: line 2 is longer than 1,000,000 bytes"):
        read_uploaded(files, today=TODAY)
    files["monthly_activity.csv"] = b"merchant_id,month\r\n" + b"x" * 1_000_000  # exactly the limit: read on
    with pytest.raises(SchemaError) as info:
        read_uploaded(files, today=TODAY)
    assert info.value.problems[-2:] == (_one("monthly_activity", "month", "must not be empty", [1])
                                        + _one("monthly_activity", "merchant_id", "merchant_id not found in merchants",
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

class _Today(date):
    @classmethod
    def today(cls):
        return TODAY


@pytest.fixture
def frozen_today(monkeypatch):
    """The CLI and the app judge "future" against the real date; the expectations were written for TODAY."""
    monkeypatch.setattr(schema, "date", _Today)


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


# --- the product catalog ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clean_catalog() -> pd.DataFrame:
    return validate_products(make_bad_inputs.PRODUCTS)


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_product_case(case, clean_catalog):
    path = BAD / case / CATALOG
    if PRODUCTS[case] is None:
        pd.testing.assert_frame_equal(load_products(path), clean_catalog)
        return
    error, message, problems = PRODUCTS[case]
    with pytest.raises(error, match=message) as info:
        load_products(path)
    assert str(path) in str(info.value)
    if problems is not None:
        assert info.value.problems == problems


@pytest.mark.parametrize("case", sorted(PRODUCTS))
def test_cli_products_validate(case, capsys):
    code = main(["products", "validate", str(BAD / case / CATALOG)])
    out, err = capsys.readouterr()
    if PRODUCTS[case] is None:
        assert code == 0 and json.loads(out) == {"valid": True, "products": 2, "product_ids": ["BANK-01", "RBF-01"]}
        return
    assert (code, out) == (2, "") and "Traceback" not in err
    assert re.search(PRODUCTS[case][1], err)


@pytest.fixture
def own_store(tmp_path):
    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    store = Store(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    store.add_user("kim", "pm", password=PASSWORD)
    store.add_user("lee", "officer", password=PASSWORD)
    yield url, store
    store.close()


def test_cli_products_install_refuses_every_bad_catalog_and_keeps_the_one_in_use(own_store, capsys):
    url, store = own_store
    good = BAD / "products_bom_crlf_valid" / CATALOG
    assert main(["products", "install", str(good), "--user", "kim", "--database-url", url]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    in_use = store.current_products()
    assert in_use[0] == 1 and [p["product_id"] for p in in_use[1]] == ["BANK-01", "RBF-01"]
    for case, expected in PRODUCTS.items():
        if expected is None:
            continue
        assert main(["products", "install", str(BAD / case / CATALOG), "--user", "kim", "--database-url", url]) == 2
        out, err = capsys.readouterr()
        assert out == "" and re.search(expected[1], err), case
        assert store.current_products() == in_use, case
    assert [v.version for v in store.product_history()] == [1]
    # an officer may not change the catalog, even with a valid file
    assert main(["products", "install", str(BAD / "products_grouped_amount_valid" / CATALOG), "--user", "lee",
                 "--database-url", url]) == 2
    assert "only pm and admin users may change the product catalog" in capsys.readouterr().err
    assert store.current_products() == in_use


# --- model folders ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_cases(tmp_path_factory) -> dict[str, Path]:
    return make_bad_inputs.write_model_cases(tmp_path_factory.mktemp("model_cases"))


def test_model_cases_are_what_they_say(model_cases):
    good = model_cases["model_valid"]
    assert (model_cases["model_booster_edited"] / "booster.txt").read_bytes() != (good / "booster.txt").read_bytes()
    assert (model_cases["model_booster_edited"] / "card.json").read_bytes() == (good / "card.json").read_bytes()
    assert load_model(good).features == ["return_rate_6m", "months_active", "category"]


@pytest.mark.parametrize("case", sorted(MODELS))
def test_model_case_loads_or_says_why_not(case, model_cases):
    from cb_core.catalog import feature_catalog
    from cb_core.model_inputs import check_book_features

    path = model_cases[case]
    if MODELS[case] is None:
        model = load_model(path)
        check_book_features(model.card["features"], feature_catalog(), str(path))
        return
    at_load, message = MODELS[case]
    if at_load:
        with pytest.raises(ModelError, match=message):
            load_model(path)
    else:
        model = load_model(path)
        with pytest.raises(ModelError, match=message):
            check_book_features(model.card["features"], feature_catalog(), str(path))


@pytest.mark.parametrize("case", sorted(MODELS))
def test_cli_model_validate(case, model_cases, capsys):
    code = main(["model", "validate", str(model_cases[case])])
    out, err = capsys.readouterr()
    if MODELS[case] is None:
        assert code == 0 and json.loads(out)["features"] == 3
        return
    assert (code, out) == (2, "") and "Traceback" not in err
    assert err.startswith("error: ") and re.search(MODELS[case][1], err)


def test_cli_model_install_never_replaces_the_model_in_use_with_a_bad_folder(model_cases, tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.setenv("CB_STATE_DIR", str(tmp_path / "state"))
    assert main(["model", "install", str(model_cases["model_valid"])]) == 0
    installed = json.loads(capsys.readouterr().out)
    version = load_model(model_cases["model_valid"]).version
    assert (installed["model"], installed["previous"]) == (version, None)
    pointer = (tmp_path / "state" / "current_model.json").read_bytes()
    assert json.loads(pointer) == {"version": version}
    for case, expected in MODELS.items():
        if expected is None:
            continue
        assert main(["model", "install", str(model_cases[case])]) == 2, case
        out, err = capsys.readouterr()
        assert out == "" and re.search(expected[1], err), case
        assert (tmp_path / "state" / "current_model.json").read_bytes() == pointer, case
        assert [p.name for p in (tmp_path / "state" / "models").iterdir()] == [version], case
    # a damaged copy of the model in use is repaired by installing the good folder again
    installed_booster = tmp_path / "state" / "models" / version / "booster.txt"
    installed_booster.write_text(installed_booster.read_text()[:100])
    with pytest.raises(ModelError, match="corrupted"):
        load_model(installed_booster.parent)
    assert main(["model", "install", str(model_cases["model_valid"])]) == 0
    assert load_model(installed_booster.parent).version == version


def test_cli_score_with_a_bad_model_exits_2(model_cases, tmp_path, capsys):
    assert main(["score", "--model", str(model_cases["model_card_not_json"]), "--data",
                 str(BAD / "utf8_bom_valid"), "--out", str(tmp_path / "scores.csv")]) == 2
    assert re.search(MODELS["model_card_not_json"][1], capsys.readouterr().err)
    assert not (tmp_path / "scores.csv").exists()


# --- the app ---------------------------------------------------------------------------------------------

class _Upload:
    """What ``st.file_uploader`` returns: a name and the bytes."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self._content = name, content

    def getvalue(self) -> bytes:
        return self._content


@pytest.fixture(scope="module")
def data_page(app_users):
    """The Data page signed in as admin, in English, with ``st.file_uploader`` handing over ``files``.

    AppTest cannot drive a file uploader; it runs the script in this process, so the uploader is
    replaced by a function returning the files a test puts in ``files``."""
    files: list[_Upload] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(streamlit, "file_uploader", lambda *args, **kwargs: list(files))
        at = app_as("admin", app_users)
        at.session_state["lang"] = "en"
        at.switch_page("views/data.py").run()
        assert not at.exception, at.exception
        yield at, files


def _submit(at, files: list[_Upload], uploads: dict[str, bytes]) -> None:
    files[:] = [_Upload(name, content) for name, content in uploads.items()]
    labels = [b.label for b in at.button]
    at.button[labels.index(t("data_validate_and_load", "en"))].click().run()


LONG_LINE = {"merchants.csv": b"merchant_id\n" + b"M" * 1_200_000 + b"\n"}


@pytest.mark.parametrize("case", UPLOADABLE + ["long_line"])
def test_data_page_shows_the_report_and_keeps_the_book(case, data_page, frozen_today):
    from cb_core import workspace

    at, files = data_page
    before = workspace.current_fingerprint()
    _submit(at, files, LONG_LINE if case == "long_line" else _upload(case))
    assert not at.exception, at.exception
    if case == "long_line":
        error, message, problems = DataSourceError, r"^merchants\.csv: line 2 is longer than 1,000,000 bytes", None
    else:
        error, message, problems = BOOK[case]
    if case == "missing_table":
        problems = _one("monthly_activity", "*", "required table is missing")
    if error is SchemaError:
        assert [e.value for e in at.error] == [t("error_schema", "en", n=len(problems))]
        shown = at.dataframe[-1].value
        assert shown["Table"].tolist() == [p.table for p in problems]
        assert shown["Column"].tolist() == [p.column for p in problems]
        assert shown["Rule"].tolist() == [p.rule for p in problems]
    else:
        assert [e.value for e in at.error] == [t("error_title", "en")]
        assert re.search(message, at.code[-1].value)
    assert workspace.current_fingerprint() == before
    assert before in [m.value for m in at.metric]  # the page still shows the book in use


@pytest.fixture
def private_state(app_state_with_model, tmp_path, monkeypatch):
    """A copy of the app state (book and model) and an own database: what a test breaks stays here."""
    from cb_core.store import Store
    from ui import engine

    state = tmp_path / "state"
    state.mkdir()
    for name in ("books", "models"):
        shutil.copytree(app_state_with_model / name, state / name)
    for name in ("current_book.json", "current_model.json"):
        shutil.copy(app_state_with_model / name, state / name)
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    monkeypatch.setenv("CB_STATE_DIR", str(state))
    monkeypatch.setenv("CB_DATABASE_URL", url)
    store = Store(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    store.add_user("admin", "admin", password=PASSWORD)
    engine._model.clear()  # cached by version: a damaged copy of the same version must really be read
    yield state, store
    store.close()
    engine._model.clear()


def test_a_valid_upload_through_the_same_path_replaces_the_book(private_state, monkeypatch):
    """The control for the Data page tests: the replaced uploader does reach the loader."""
    from cb_core import workspace

    state, store = private_state
    files: list[_Upload] = []
    monkeypatch.setattr(streamlit, "file_uploader", lambda *args, **kwargs: list(files))
    at = app_as("admin", store)
    at.session_state["lang"] = "en"
    at.switch_page("views/data.py").run()
    _submit(at, files, _upload("excel_export_valid"))
    assert not at.exception, at.exception
    expected = validate_tables(good_tables(), today=TODAY)
    assert workspace.current_fingerprint() == expected.fingerprint
    assert [s.value for s in at.success][0] == t("data_loaded", "en", merchants="4", fingerprint=expected.fingerprint)


def _portfolio(store):
    at = app_as("admin", store)
    at.session_state["lang"] = "en"
    at.switch_page("views/portfolio.py").run()
    return at


@pytest.mark.parametrize("damage", ["booster_truncated", "other_feature_set"])
def test_an_unusable_model_in_use_is_explained_not_a_traceback(damage, private_state, model_cases):
    state, store = private_state
    pointer = state / "current_model.json"
    if damage == "booster_truncated":
        folder = state / "models" / json.loads(pointer.read_text())["version"]
        booster = folder / "booster.txt"
        booster.write_text(booster.read_text()[: len(booster.read_text()) // 2])
        message = rf"{re.escape(str(booster))} is corrupted: not a complete LightGBM model text"
    else:  # put there by hand: `model install` refuses it
        model = load_model(model_cases["model_other_feature_set"])
        folder = shutil.copytree(model_cases["model_other_feature_set"], state / "models" / model.version)
        pointer.write_text(json.dumps({"version": model.version}))
        message = r"was trained on another feature set: a merchant book gives no my_signal, loan_count"
    before = pointer.read_bytes(), sorted(p.name for p in (state / "models").iterdir())
    at = _portfolio(store)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [t("error_model_unusable", "en")]
    assert re.search(message, at.code[-1].value)
    # nothing replaced, nothing retrained
    assert (pointer.read_bytes(), sorted(p.name for p in (state / "models").iterdir())) == before
