"""The data contract: every rule reported with table, column, rows and an example; canonical dtypes."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cb_core.data import ACTIVITY_COLUMNS, MERCHANT_COLUMNS, OUTCOME_COLUMNS, OUTCOME_OPTIONAL_COLUMNS, Book
from cb_core.errors import ConfigError, Problem, SchemaError
from cb_core.data import CANONICAL_SCHEMAS, CONTRACT, MAX_PROBLEMS, ROW_NUMBERS_NOTE, validate_tables
from tests.support.books import TODAY, good_tables


def _problems(tables: dict[str, pd.DataFrame], **kwargs) -> list[Problem]:
    with pytest.raises(SchemaError) as info:
        validate_tables(tables, today=TODAY, **kwargs)
    return info.value.problems


def _with(table: str, row: int, column: str, value: object) -> dict[str, pd.DataFrame]:
    """The good book with one cell changed; ``row`` is the 1-based data row number."""
    tables = good_tables()
    frame = tables[table].copy()
    if not isinstance(value, str):
        frame[column] = frame[column].astype(object)
    frame.loc[row - 1, column] = value
    tables[table] = frame
    return tables


# --- the good book -----------------------------------------------------------------------------

def test_good_book_validates_into_canonical_dtypes():
    book = validate_tables(good_tables(), today=TODAY, source="hand-made")

    assert isinstance(book, Book) and book.source == "hand-made"
    assert list(book.merchants.columns) == list(MERCHANT_COLUMNS)
    assert list(book.activity.columns) == list(ACTIVITY_COLUMNS)
    assert {c: str(t) for c, t in book.merchants.dtypes.items() if str(t) != "str"} == {
        "bureau_score": "Int64", "owner_has_credit_card": "boolean", "region_income_index": "float64"}
    assert book.activity["gmv_krw"].dtype == "int64" and book.activity["avg_rating"].dtype == "float64"
    assert book.outcomes.dtypes.astype(str).to_dict() == {
        "merchant_id": "str", "snapshot_month": "str", "defaulted_12m": "int64", "true_pd": "float64"}
    assert book.merchants["bureau_score"].tolist() == [712, pd.NA, 655, 1000]
    # true/FALSE/blank/1 from the CSV become True/False/NA/True
    assert book.merchants["owner_has_credit_card"].tolist() == [True, False, pd.NA, True]
    assert book.activity.loc[0, "gmv_krw"] == 1_000_000
    assert np.isnan(book.activity.loc[8, "avg_rating"])  # M003's first month has no rating
    assert book.last_month == "2026-04"
    assert book.merchants.index.equals(pd.RangeIndex(4))


def test_typed_frames_give_the_same_book_as_strings():
    book = validate_tables(good_tables(), today=TODAY)
    again = validate_tables(book.tables(), today=TODAY)
    for name, frame in book.tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], frame)
    assert again.fingerprint == book.fingerprint


def test_database_style_types_are_accepted():
    """Dates as datetimes, months as first-of-month timestamps, ids that went through floats."""
    book = validate_tables(good_tables(), today=TODAY)
    merchants = book.merchants.assign(
        opened_on=pd.to_datetime(book.merchants["opened_on"]),
        joined_platform_on=pd.to_datetime(book.merchants["joined_platform_on"]).dt.date,
        bureau_score=book.merchants["bureau_score"].astype("float64"),
        owner_has_credit_card=book.merchants["owner_has_credit_card"].astype(object))
    activity = book.activity.assign(month=pd.to_datetime(book.activity["month"] + "-01"))
    typed = validate_tables({"merchants": merchants, "monthly_activity": activity,
                             "outcomes": book.outcomes}, today=TODAY)
    pd.testing.assert_frame_equal(typed.merchants, book.merchants)
    pd.testing.assert_frame_equal(typed.activity, book.activity)

    numeric_ids = {"merchants": book.merchants.assign(merchant_id=[1001.0, 1002.0, 1003.0, 1004.0]),
                   "monthly_activity": book.activity.assign(
                       merchant_id=book.activity["merchant_id"].str[1:].astype(int) + 1000)}
    assert validate_tables(numeric_ids, today=TODAY).merchants["merchant_id"].tolist() == [
        "1001", "1002", "1003", "1004"]


def test_contract_follows_the_column_lists_of_book_py():
    assert tuple(CONTRACT["merchants"]) == MERCHANT_COLUMNS
    assert tuple(CONTRACT["monthly_activity"]) == ACTIVITY_COLUMNS
    assert tuple(CONTRACT["outcomes"]) == OUTCOME_COLUMNS + OUTCOME_OPTIONAL_COLUMNS


def test_canonical_schemas_describe_the_output():
    book = validate_tables(good_tables(), today=TODAY)
    CANONICAL_SCHEMAS["merchants"].validate(book.merchants)
    CANONICAL_SCHEMAS["monthly_activity"].validate(book.activity)
    CANONICAL_SCHEMAS["outcomes"].validate(book.outcomes)


# --- one rule at a time --------------------------------------------------------------------------

CELL_RULES = [
    # table, row, column, bad value, expected rule
    ("merchants", 2, "merchant_id", " M002", "must not start or end with spaces"),
    ("merchants", 1, "business_name", "   ", "must not be empty"),
    ("merchants", 3, "owner_name", None, "must not be empty"),
    ("merchants", 2, "business_reg_no", "2345678901", "must be a business number NNN-NN-NNNNN (e.g. '123-45-67890')"),
    ("merchants", 1, "category", "toys", "unknown category; expected one of fashion, beauty, food, living, "
                                         "digital, furniture, kids, sports, pets, hobby"),
    ("merchants", 4, "region", "제주", "unknown region; expected the official name of one of the 17 "
                                      "provinces/metropolitan cities, e.g. '서울특별시' (not '서울')"),
    ("merchants", 1, "opened_on", "2019/03/01", "wrong type: expected a date YYYY-MM-DD"),
    ("merchants", 1, "opened_on", "2019-02-30", "wrong type: expected a date YYYY-MM-DD"),
    ("merchants", 2, "joined_platform_on", "2026-06-16", "must not be in the future (after 2026-06-15)"),
    ("merchants", 3, "bureau_score", "0", "must be within [1, 1000]"),
    ("merchants", 3, "bureau_score", "655.5", "must be a whole number"),
    ("merchants", 1, "owner_has_credit_card", "yes", "wrong type: expected true/false (or 1/0)"),
    ("merchants", 2, "region_income_index", "0", "must be > 0"),
    ("monthly_activity", 3, "gmv_krw", "-5000", "must be ≥ 0"),
    ("monthly_activity", 4, "orders", "1.5", "must be a whole number"),
    ("monthly_activity", 5, "refund_krw", "1.5", "must be a whole number of KRW"),
    ("monthly_activity", 6, "settlement_krw", "abc", "wrong type: expected a whole number of KRW"),
    ("monthly_activity", 7, "ad_spend_krw", "99999999999999999999",
     "too large: at most 9,007,199,254,740,991 (larger whole numbers are not exact)"),
    ("monthly_activity", 8, "unique_buyers", "nan", "must be a finite number (not NaN or infinity)"),
    ("monthly_activity", 9, "repeat_buyer_rate", "1.01", "must be within [0, 1]"),
    ("monthly_activity", 10, "ship_delay_rate", "-0.2", "must be within [0, 1]"),
    ("monthly_activity", 11, "inventory_turnover", "-1", "must be ≥ 0"),
    ("monthly_activity", 12, "avg_rating", "0.5", "must be within [1, 5]"),
    ("monthly_activity", 13, "avg_rating", "-inf", "must be a finite number (not NaN or infinity)"),
    ("monthly_activity", 14, "month", "2026-4", "wrong type: expected a month YYYY-MM"),
    ("monthly_activity", 16, "month", "2026-07", "must not be after the current month (2026-06)"),
    ("monthly_activity", 15, "disputes", None, "must not be empty"),
    ("outcomes", 1, "snapshot_month", "2026-00", "wrong type: expected a month YYYY-MM"),
    ("outcomes", 2, "defaulted_12m", "yes", "must be 0 or 1"),
    ("outcomes", 3, "true_pd", "1.5", "must be within [0, 1]"),
]


@pytest.mark.parametrize("table, row, column, value, rule", CELL_RULES,
                         ids=[f"{c[2]}={c[3]!r}" for c in CELL_RULES])
def test_each_cell_rule_names_table_column_row_and_example(table, row, column, value, rule):
    problems = _problems(_with(table, row, column, value))

    example = "" if value is None or not str(value).strip() else str(value)
    assert problems == [Problem(table, column, rule, (row,), 1, example)]


def test_report_line_reads_like_the_contract_says():
    tables = _with("monthly_activity", 3, "gmv_krw", "-5000")
    tables["monthly_activity"].loc[6, "gmv_krw"] = "-7"
    with pytest.raises(SchemaError, match=r"monthly_activity\.gmv_krw: rows 3, 7: must be ≥ 0 e\.g\. '-5000'"):
        validate_tables(tables, today=TODAY, source="upload")
    with pytest.raises(SchemaError) as info:
        validate_tables(tables, today=TODAY, source="upload")
    assert str(info.value).splitlines()[0] == f"1 problem(s) in upload ({ROW_NUMBERS_NOTE}):"


def test_joined_before_opened_is_reported_on_joined():
    problems = _problems(_with("merchants", 4, "joined_platform_on", "2023-01-31"))
    assert problems == [Problem("merchants", "joined_platform_on", "must not be before opened_on", (4,), 1,
                                "2023-01-31 < 2023-09-09")]


def test_duplicates_name_every_row_of_the_key():
    tables = good_tables()
    tables["merchants"] = pd.concat([tables["merchants"], tables["merchants"].iloc[[1]]], ignore_index=True)
    tables["monthly_activity"] = pd.concat([tables["monthly_activity"], tables["monthly_activity"].iloc[[4]]],
                                           ignore_index=True)
    tables["outcomes"] = pd.concat([tables["outcomes"], tables["outcomes"].iloc[[0]]], ignore_index=True)
    assert _problems(tables) == [
        Problem("merchants", "merchant_id", "duplicate value: must be unique", (2, 5), 2, "M002"),
        Problem("monthly_activity", "merchant_id+month",
                "duplicate merchant_id + month: one row per merchant_id and month", (5, 17), 2, "M002 2026-01"),
        Problem("outcomes", "merchant_id+snapshot_month",
                "duplicate merchant_id + snapshot_month: one row per merchant_id and snapshot_month",
                (1, 4), 2, "M001 2026-01"),
    ]


def test_unknown_merchants_in_activity_and_outcomes():
    tables = _with("monthly_activity", 16, "merchant_id", "M404")
    tables["outcomes"].loc[2, "merchant_id"] = "M405"
    problems = _problems(tables)
    assert Problem("monthly_activity", "merchant_id", "merchant_id not found in merchants", (16,), 1,
                   "M404") in problems
    assert Problem("outcomes", "merchant_id", "merchant_id not found in merchants", (3,), 1, "M405") in problems


def test_gap_names_merchant_and_missing_months():
    tables = good_tables()
    activity = tables["monthly_activity"]
    tables["monthly_activity"] = activity.drop(index=[5, 6]).reset_index(drop=True)  # M002 Feb, Mar
    assert _problems(tables) == [Problem(
        "monthly_activity", "month",
        "months not contiguous for merchant M002: missing 2026-02, 2026-03 "
        "(add a row for every month, with zeros where nothing was sold)", (6,), 1, "M002")]


def test_gaps_are_listed_for_max_rows_merchants_then_summarised():
    activity = pd.concat([good_tables()["monthly_activity"].iloc[[0, 2]]] * 30, ignore_index=True)
    activity["merchant_id"] = [f"M{i // 2:03d}" for i in range(len(activity))]
    merchants = pd.concat([good_tables()["merchants"].iloc[[0]]] * 30, ignore_index=True)
    merchants["merchant_id"] = [f"M{i:03d}" for i in range(30)]
    problems = _problems({"merchants": merchants, "monthly_activity": activity}, max_rows=5)
    assert [p.example for p in problems[:5]] == ["M000", "M001", "M002", "M003", "M004"]
    assert problems[5] == Problem("monthly_activity", "month",
                                  "months not contiguous for 25 more merchant(s) not listed")


# --- tables and columns --------------------------------------------------------------------------

def test_table_level_problems_are_each_named():
    tables = good_tables()
    tables["merchants"] = tables["merchants"].assign(email="x@example.com", Region="서울특별시")
    tables["monthly_activity"] = tables["monthly_activity"].drop(columns=["orders", "returns"])
    tables["outcomes"] = tables["outcomes"].iloc[0:0]
    tables["repayments"] = tables["outcomes"]
    assert _problems(tables) == [
        Problem("merchants", "email", "unknown column 'email' (not in the data contract)"),
        Problem("merchants", "Region", "unknown column 'Region' (not in the data contract); did you mean 'region'?"),
        Problem("monthly_activity", "orders", "missing column"),
        Problem("monthly_activity", "returns", "missing column"),
        Problem("outcomes", "*", "table is empty: header only, no data rows"),
        Problem("repayments", "*", "unknown table; expected merchants, monthly_activity, outcomes, bureau_history, "
                "loans, loan_months, default_events"),
    ]


def test_missing_and_empty_tables():
    assert _problems({"merchants": pd.DataFrame()}) == [
        Problem("merchants", "*", "table is empty: no header and no rows"),
        Problem("monthly_activity", "*", "required table is missing"),
    ]


def test_outcomes_are_optional():
    book = validate_tables(good_tables(with_outcomes=False), today=TODAY)
    assert book.outcomes is None and set(book.tables()) == {"merchants", "monthly_activity"}


def test_duplicate_column_names():
    merchants = good_tables()["merchants"]
    doubled = pd.concat([merchants, merchants[["region"]]], axis=1)
    problems = _problems({**good_tables(), "merchants": doubled})
    assert problems == [Problem("merchants", "region", "column appears more than once in the header")]


# --- many problems at once -------------------------------------------------------------------------

def test_one_run_reports_every_problem_across_tables():
    tables = _with("merchants", 2, "business_reg_no", "bad")
    tables["merchants"].loc[0, "region"] = "Seoul"
    tables["monthly_activity"].loc[2, "gmv_krw"] = "-1"
    tables["monthly_activity"].loc[3, "ship_delay_rate"] = "2"
    tables["outcomes"] = tables["outcomes"].drop(columns=["defaulted_12m"])
    problems = _problems(tables)
    assert [(p.table, p.column, p.rows) for p in problems] == [
        ("merchants", "business_reg_no", (2,)), ("merchants", "region", (1,)),
        ("monthly_activity", "gmv_krw", (3,)), ("monthly_activity", "ship_delay_rate", (4,)),
        ("outcomes", "defaulted_12m", ()),
    ]


def test_row_numbers_are_capped_on_a_big_bad_table():
    activity = pd.concat([good_tables()["monthly_activity"]] * 250, ignore_index=True)  # 4,000 rows
    activity["month"] = [f"{1900 + i // 12:04d}-{i % 12 + 1:02d}" for i in range(len(activity) // 4)] * 4
    activity["merchant_id"] = [f"M{1 + i // 1000:03d}" for i in range(len(activity))]
    activity["gmv_krw"] = "-1"
    tables = {"merchants": good_tables()["merchants"], "monthly_activity": activity}

    problems = _problems(tables)
    assert problems == [Problem("monthly_activity", "gmv_krw", "must be ≥ 0", tuple(range(1, 21)), 4000, "-1")]
    assert "rows 1, 2, 3, 4, 5 (+3995 more): must be ≥ 0" in str(_problems(tables, max_rows=5)[0])


def test_max_rows_must_be_positive():
    with pytest.raises(ConfigError, match="max_rows must be a whole number ≥ 1; got 0"):
        validate_tables(good_tables(), today=TODAY, max_rows=0)


def test_number_of_problems_is_capped_with_a_final_note():
    merchants = good_tables()["merchants"]
    tables = {**good_tables(), "merchants": merchants.assign(**{f"x{i:03d}": "1" for i in range(250)})}
    with pytest.raises(SchemaError) as info:
        validate_tables(tables, today=TODAY)
    problems = info.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1] == Problem("report", "*", "50 more problem(s) not listed; fix the ones above and "
                                                  "validate again")
    assert str(info.value).startswith("250 problem(s) in the input tables")


# --- typed input -------------------------------------------------------------------------------------

def test_typed_bad_values_are_reported_per_row():
    book = validate_tables(good_tables(), today=TODAY)
    activity = book.activity.assign(gmv_krw=book.activity["gmv_krw"].astype("float64"))
    activity.loc[1, "gmv_krw"] = np.nan
    activity.loc[2, "gmv_krw"] = np.inf
    activity.loc[3, "gmv_krw"] = 10.25
    activity["orders"] = activity["orders"].astype(bool)
    problems = _problems({"merchants": book.merchants, "monthly_activity": activity})
    assert problems == [
        Problem("monthly_activity", "gmv_krw", "must not be empty", (2,), 1, ""),
        Problem("monthly_activity", "gmv_krw", "must be a finite number (not NaN or infinity)", (3,), 1, "inf"),
        Problem("monthly_activity", "gmv_krw", "must be a whole number of KRW", (4,), 1, "10.25"),
        Problem("monthly_activity", "orders", "wrong type: expected a whole number", tuple(range(1, 17)), 16,
                "True"),
    ]


def test_timestamps_with_a_time_of_day_are_not_dates():
    book = validate_tables(good_tables(), today=TODAY)
    merchants = book.merchants.assign(opened_on=pd.to_datetime(book.merchants["opened_on"]))
    merchants.loc[0, "opened_on"] = pd.Timestamp("2019-03-01 13:30")
    problems = _problems({"merchants": merchants, "monthly_activity": book.activity})
    assert problems == [Problem("merchants", "opened_on", "wrong type: expected a date YYYY-MM-DD", (1,), 1,
                                "2019-03-01 13:30:00")]


def test_today_defaults_to_the_real_date():
    tables = _with("merchants", 1, "opened_on", (date.today() + pd.Timedelta(days=1)).isoformat())
    with pytest.raises(SchemaError, match=r"merchants\.opened_on: rows 1: must not be in the future"):
        validate_tables(tables)


# --- property: bad input never crashes ---------------------------------------------------------------

_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10 ** 20), 10 ** 20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["", " ", "nan", "inf", "-0", "1e400", "TRUE", "0x10", "١٢", "M001", " M001", "2026-02-30",
                     "2026-13", "2099-01", "2026-01", "1,000", "서울특별시", "\x00", "1.0", "0"]),
    st.dates().map(str), st.datetimes().map(pd.Timestamp),
)
_TABLE = st.sampled_from(["merchants", "monthly_activity", "outcomes"])


@st.composite
def _mutations(draw):
    tables = good_tables()
    if draw(st.booleans()):
        tables = dict(validate_tables(tables, today=TODAY).tables())
    for _ in range(draw(st.integers(1, 4))):
        name = draw(_TABLE)
        if name not in tables:
            continue
        frame = tables[name].copy()
        kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_column", "add_column", "rename",
                                     "duplicate_row", "drop_row", "empty", "drop_table"]))
        column = draw(st.sampled_from(list(frame.columns))) if len(frame.columns) else None
        if kind == "cell" and column is not None and len(frame):
            frame[column] = frame[column].astype(object)
            frame.iat[draw(st.integers(0, len(frame) - 1)), frame.columns.get_loc(column)] = draw(_ODD_VALUES)
        elif kind == "drop_column" and column is not None:
            frame = frame.drop(columns=[column])
        elif kind == "add_column":
            frame[draw(st.text(max_size=6))] = draw(_ODD_VALUES)
        elif kind == "rename" and column is not None:
            frame = frame.rename(columns={column: draw(st.text(max_size=6))})
        elif kind == "duplicate_row" and len(frame):
            frame = pd.concat([frame, frame.iloc[[draw(st.integers(0, len(frame) - 1))]]], ignore_index=True)
        elif kind == "drop_row" and len(frame):
            frame = frame.drop(index=frame.index[draw(st.integers(0, len(frame) - 1))])
        elif kind == "empty":
            frame = frame.iloc[0:0]
        elif kind == "drop_table":
            del tables[name]
            continue
        tables[name] = frame
    return tables


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_mutated_books_give_a_book_or_a_schema_error(tables):
    try:
        book = validate_tables(tables, today=TODAY)
    except SchemaError as exc:
        assert exc.problems and str(exc)
        assert not [p for p in exc.problems if p.rule.startswith("could not be checked")]
    else:
        for name, frame in book.tables().items():
            CANONICAL_SCHEMAS[name].validate(frame)


# --- bureau_history (optional) -------------------------------------------------------------------

def _history(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["merchant_id", "month", "bureau_score", "owner_has_credit_card"], dtype="str")


def test_bureau_history_is_optional_and_validates_into_canonical_dtypes():
    assert validate_tables(good_tables(), today=TODAY).bureau_history is None
    tables = good_tables()
    tables["bureau_history"] = _history([("M001", "2025-11", "720", "true"), ("M001", "2026-01", "655", "true"),
                                         ("M002", "2025-11", None, None)])
    book = validate_tables(tables, today=TODAY)
    h = book.bureau_history
    assert h["bureau_score"].dtype == "Int64" and h["owner_has_credit_card"].dtype == "boolean"
    assert h["bureau_score"].tolist()[:2] == [720, 655] and h["bureau_score"].isna().tolist() == [False, False, True]
    CANONICAL_SCHEMAS["bureau_history"].validate(h)
    # a book without the table keeps its fingerprint; with it, the fingerprint covers it
    assert book.fingerprint != validate_tables(good_tables(), today=TODAY).fingerprint


def test_bureau_history_problems_are_named():
    tables = good_tables()
    tables["bureau_history"] = _history([("M001", "2025-11", "1200", "true"), ("M009", "2025-11", "700", "false"),
                                         ("M002", "2025-12", "700", "maybe"), ("M002", "2025-12", "701", "true")])
    problems = {(p.table, p.column, p.rule) for p in _problems(tables)}
    assert ("bureau_history", "merchant_id", "merchant_id not found in merchants") in problems
    assert any(t == "bureau_history" and c == "bureau_score" for t, c, _ in problems)
    assert any(t == "bureau_history" and c == "owner_has_credit_card" for t, c, _ in problems)
    assert any(t == "bureau_history" and c == "merchant_id+month" and r.startswith("duplicate") for t, c, r in problems)
