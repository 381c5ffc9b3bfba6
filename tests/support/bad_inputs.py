"""The bad-input corpus's expectations, shared by tests/data/test_bad_inputs*.py and
tests/app/test_bad_inputs_app.py: the exact report of every case, and the fixtures and helpers that
feed a case to a loader. Import what you use by name (the fixtures too: pytest finds them there).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cb_core.data import schema
from cb_core.errors import DataSourceError, Problem, SchemaError
from tests.bad_inputs import make_bad_inputs
from tests.support.books import TODAY, good_tables

BAD = Path(__file__).resolve().parent.parent / "bad_inputs"
CATALOG = make_bad_inputs.PRODUCTS_FILE


__all__ = ["BAD", "CATALOG", "BOOK", "VALID_BOOK", "PRODUCTS", "MODELS", "UPLOADABLE", "one_problem",
           "product_problem", "case_files", "UploadedFile", "frozen_today", "model_cases"]


def one_problem(table, column, rule, rows=(), example=""):
    """A report holding one :class:`Problem`: ``rows`` are data-row numbers, ``example`` the first bad value."""
    return [Problem(table, column, rule, tuple(rows), len(rows), example)]


def product_problem(field, rule, example="", position=1, label="BANK-01"):
    """A report holding one problem of catalog product ``label`` (its ``position`` in the list, from 1)."""
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
                   one_problem("merchants", "*", "table is empty: no header and no rows")),
    "header_only": (SchemaError, r"monthly_activity\.\*: table is empty: header only",
                    one_problem("monthly_activity", "*", "table is empty: header only, no data rows")),
    "missing_table": (SchemaError, r"monthly_activity\.\*: required table is missing: no monthly_activity"
                                   r"\.parquet or monthly_activity\.csv in .*missing_table", None),
    "missing_column": (SchemaError, r"monthly_activity\.orders: missing column",
                       one_problem("monthly_activity", "orders", "missing column")),
    "extra_column": (SchemaError, r"merchants\.email: unknown column 'email'",
                     one_problem("merchants", "email", "unknown column 'email' (not in the data contract)")),
    "wrong_type": (SchemaError, r"monthly_activity\.gmv_krw: rows 5: wrong type: expected a whole number of "
                                r"KRW e\.g\. 'pending'",
                   one_problem("merchants", "bureau_score", "wrong type: expected a whole number", [2], "unknown")
                   + one_problem("monthly_activity", "gmv_krw", "wrong type: expected a whole number of KRW", [5],
                          "pending")),
    "fractional_amount": (SchemaError, r"monthly_activity\.refund_krw: rows 7: must be a whole number of KRW",
                          one_problem("monthly_activity", "refund_krw", "must be a whole number of KRW", [7], "1500.5")),
    "duplicate_key": (SchemaError, r"merchants\.merchant_id: rows 1, 5: duplicate value",
                      one_problem("merchants", "merchant_id", "duplicate value: must be unique", [1, 5], "M001")
                      + one_problem("monthly_activity", "merchant_id+month",
                             "duplicate merchant_id + month: one row per merchant_id and month", [3, 17],
                             "M001 2026-03")),
    "negative_amount": (SchemaError, r"monthly_activity\.refund_krw: rows 6: must be ≥ 0 e\.g\. '-5000'",
                        one_problem("monthly_activity", "refund_krw", "must be ≥ 0", [6], "-5000")),
    "rate_out_of_range": (SchemaError, r"monthly_activity\.repeat_buyer_rate: rows 2: must be within \[0, 1\]",
                          one_problem("monthly_activity", "repeat_buyer_rate", "must be within [0, 1]", [2], "1.3")
                          + one_problem("monthly_activity", "ship_delay_rate", "must be within [0, 1]", [9], "-0.1")),
    "unknown_merchant": (SchemaError, r"monthly_activity\.merchant_id: rows 17, 18: merchant_id not found",
                         one_problem("monthly_activity", "merchant_id", "merchant_id not found in merchants", [17, 18],
                              "M999")),
    "month_in_future": (SchemaError, r"monthly_activity\.month: rows 17: must not be after the current month",
                        one_problem("monthly_activity", "month", "must not be after the current month (2026-06)", [17],
                             "2099-01")),
    "undecodable_bytes": (DataSourceError, r"merchants\.csv: byte 0xff at byte offset 361 \(line 4\) is not "
                                           r"valid UTF-8 text", None),
    "excel_renamed_csv": (DataSourceError, r"merchants\.csv is an Excel workbook, not CSV: save it as CSV "
                                           r"\(UTF-8\)", None),
    "bad_reg_no": (SchemaError, r"merchants\.business_reg_no: rows 2: must be a business number",
                   one_problem("merchants", "business_reg_no",
                        "must be a business number NNN-NN-NNNNN (e.g. '123-45-67890')", [2], "234-5678-901")),
    "unknown_region": (SchemaError, r"merchants\.region: rows 1: unknown region",
                       one_problem("merchants", "region", REGION, [1], "Seoul")),
    "id_with_spaces": (SchemaError, r"merchants\.merchant_id: rows 3: must not start or end with spaces",
                       one_problem("merchants", "merchant_id", "must not start or end with spaces", [3], "M003 ")),
    "joined_before_opened": (SchemaError, r"merchants\.joined_platform_on: rows 4: must not be before opened_on",
                             one_problem("merchants", "joined_platform_on", "must not be before opened_on", [4],
                                  "2023-01-31 < 2023-09-09")),
    "gap_in_months": (SchemaError, r"monthly_activity\.month: rows 6: months not contiguous for merchant M002: "
                                   r"missing 2026-02, 2026-03",
                      one_problem("monthly_activity", "month", "months not contiguous for merchant M002: missing "
                           "2026-02, 2026-03 (add a row for every month, with zeros where nothing was sold)", [6],
                           "M002")),
    "outcome_not_binary": (SchemaError, r"outcomes\.defaulted_12m: rows 2: must be 0 or 1",
                           one_problem("outcomes", "defaulted_12m", "must be 0 or 1", [2], "2")),
    "outcome_duplicate": (SchemaError, r"outcomes\.merchant_id\+snapshot_month: rows 2, 4: duplicate",
                          one_problem("outcomes", "merchant_id+snapshot_month", "duplicate merchant_id + snapshot_month: "
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
                                   one_problem("merchants", "region", REGION, [3], "Seoul")),
    # how numbers are written
    "bad_thousands_grouping": (SchemaError, r"monthly_activity\.gmv_krw: rows 5, 9: thousands separators in the "
                                            r"wrong places: write digits",
                               one_problem("monthly_activity", "gmv_krw", GROUPING, [5, 9], "20,00,000")
                               + one_problem("monthly_activity", "settlement_krw", GROUPING, [8], "1,7,14,000")),
    "korean_number_words": (SchemaError, r"monthly_activity\.gmv_krw: rows 3, 4: Korean number words or units: "
                                         r"write the amount in digits",
                            one_problem("monthly_activity", "gmv_krw", KOREAN, [3, 4], "150만원")
                            + one_problem("monthly_activity", "refund_krw", KOREAN, [10], "1만 2천")),
    "nan_and_inf": (SchemaError, r"monthly_activity\.gmv_krw: rows 2: must be a finite number",
                    one_problem("monthly_activity", "gmv_krw", FINITE, [2], "NaN")
                    + one_problem("monthly_activity", "refund_krw", FINITE, [3], "inf")
                    + one_problem("monthly_activity", "inventory_turnover", FINITE, [5], "nan")
                    + one_problem("monthly_activity", "avg_rating", FINITE, [4], "-Infinity")),
    "huge_numbers": (SchemaError, r"monthly_activity\.orders: rows 3: too large: at most 9,007,199,254,740,991",
                     one_problem("merchants", "bureau_score", TOO_LARGE_WHOLE, [1], "1e30")
                     + one_problem("monthly_activity", "gmv_krw", TOO_LARGE_WHOLE, [2], "99999999999999999999999")
                     + one_problem("monthly_activity", "orders", TOO_LARGE_WHOLE, [3], "9223372036854775808")
                     + one_problem("monthly_activity", "inventory_turnover", TOO_LARGE_NUMBER, [4], "1e400")),
    # ids
    "id_with_invisible_characters": (SchemaError, r"merchants\.merchant_id: rows 3: must not contain tabs",
                                     one_problem("merchants", "merchant_id", INVISIBLE, [3], "\ufeffM003")
                                     + one_problem("monthly_activity", "merchant_id", INVISIBLE, [6], "M002\u200b")),
    "activity_id_with_spaces": (SchemaError, r"monthly_activity\.merchant_id: rows 6: must not start or end",
                                one_problem("monthly_activity", "merchant_id", "must not start or end with spaces", [6],
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
                            one_problem("loan_products", "*", "the catalog must be a JSON list of products")),
    "products_empty_list": (SchemaError, r"catalog is empty: at least one product is needed",
                            [Problem("loan_products", "*", "product *: * catalog is empty: at least one product "
                                     "is needed", (0,), 1, "")]),
    "products_missing_field": (SchemaError, r"product BANK-01: min_score is missing",
                               product_problem("min_score", "is missing")),
    "products_unknown_field": (SchemaError, r"product BANK-01: broker_fee is not a catalog field",
                               product_problem("broker_fee", "is not a catalog field; did you mean 'broker_fee_pct'?")),
    "products_wrong_type": (SchemaError, r"product BANK-01: min_score wrong type: expected a whole number "
                                         r"\(got 'high'\)",
                            product_problem("min_score", "wrong type: expected a whole number", "high")),
    "products_bad_grouping": (SchemaError, r"limit_cap_krw wrong type: expected a whole number \(got '5,00,00,000'\)",
                              product_problem("limit_cap_krw", "wrong type: expected a whole number", "5,00,00,000")),
    "products_korean_amount": (SchemaError, r"min_avg_monthly_gmv_krw wrong type: expected a whole number",
                               product_problem("min_avg_monthly_gmv_krw", "wrong type: expected a whole number", "50만원")),
    "products_nan_inf": (SchemaError, r"limit_multiple_of_monthly_gmv wrong type: expected a number \(got 'NaN'\)",
                         product_problem("limit_multiple_of_monthly_gmv", "wrong type: expected a number", "NaN")
                         + product_problem("broker_fee_pct", "wrong type: expected a number", "Infinity")),
    "products_huge_numbers": (SchemaError, r"limit_cap_krw is too large: at most 9,007,199,254,740,991",
                              product_problem("min_avg_monthly_gmv_krw", "wrong type: expected a whole number", "1e400")
                              + product_problem("limit_cap_krw", "is too large: at most 9,007,199,254,740,991",
                                         "1" + "0" * 30)),
    "products_repeated_field": (DataSourceError, r"loan_products\.json: product BANK-01 lists the field "
                                                 r"'min_score' twice; keep one value", None),
    "products_duplicate_id": (SchemaError, r"product BANK-01: product_id duplicates product #1",
                              product_problem("product_id", "duplicates product #1", position=3)),
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


def case_files(case: str) -> dict[str, bytes]:
    """The files of a committed case, name -> bytes: what a user would upload from its folder."""
    return {p.name: p.read_bytes() for p in sorted((BAD / case).iterdir())}


class _Today(date):
    @classmethod
    def today(cls):
        return TODAY


@pytest.fixture
def frozen_today(monkeypatch):
    """The CLI and the app judge "future" against the real date; the expectations were written for TODAY."""
    monkeypatch.setattr(schema, "date", _Today)


@pytest.fixture(scope="module")
def model_cases(tmp_path_factory) -> dict[str, Path]:
    return make_bad_inputs.write_model_cases(tmp_path_factory.mktemp("model_cases"))


class UploadedFile:
    """What ``st.file_uploader`` returns: a name and the bytes."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name, self._content = name, content

    def getvalue(self) -> bytes:
        return self._content

