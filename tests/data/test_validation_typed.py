"""Typed (Parquet-like) frames through the fast paths of validation: a column of numbers that is
clean is passed with a few reductions, one that is not is checked cell by cell with the same rules
and messages as text; ids repeated across rows are checked once per distinct value (issue #15)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cb_core.data import TABLES, conforms, validate_tables
from cb_core.errors import Problem, SchemaError
from tests.support.books import TODAY, good_tables


def _typed() -> dict[str, pd.DataFrame]:
    return validate_tables(good_tables(), today=TODAY).tables()


def _problems(tables: dict[str, pd.DataFrame]) -> list[Problem]:
    with pytest.raises(SchemaError) as info:
        validate_tables(tables, today=TODAY)
    return info.value.problems


def test_a_typed_book_comes_back_as_the_same_frames_and_conforms():
    tables = _typed()
    book = validate_tables(tables, today=TODAY)
    for name, frame in book.tables().items():
        assert conforms(name, frame)
        pd.testing.assert_frame_equal(frame, tables[name])


@pytest.mark.parametrize(("column", "values", "rule", "rows", "example"), [
    ("gmv_krw", {2: -1}, "must be ≥ 0", (3,), "-1"),                                   # int64: min < low
    ("repeat_buyer_rate", {0: 1.5}, "must be within [0, 1]", (1,), "1.5"),              # float: max > high
    ("repeat_buyer_rate", {4: np.inf}, "must be a finite number (not NaN or infinity)", (5,), "inf"),
    ("orders", {1: 2.5}, "must be a whole number", (2,), "2.5"),                        # float in a whole column
    ("orders", {3: 2.0 ** 53}, "too large: at most 9,007,199,254,740,991 (larger whole numbers are not exact)",
     (4,), "9007199254740992.0"),
])
def test_a_typed_number_column_that_is_not_clean_is_checked_cell_by_cell(column, values, rule, rows, example):
    tables = _typed()
    frame = tables["monthly_activity"].copy()
    if any(isinstance(v, float) for v in values.values()):
        frame[column] = frame[column].astype("float64")
    for at, value in values.items():
        frame.loc[at, column] = value
    tables["monthly_activity"] = frame
    found = [p for p in _problems(tables) if p.column == column]
    assert [(p.rule, p.rows, p.example) for p in found] == [(rule, rows, example)]


def test_a_nan_in_a_required_typed_column_is_an_empty_cell():
    tables = _typed()
    frame = tables["monthly_activity"].copy()
    frame["inventory_turnover"] = frame["inventory_turnover"].astype("float64")
    frame.loc[[1, 6], "inventory_turnover"] = np.nan
    tables["monthly_activity"] = frame
    assert [(p.column, p.rule, p.rows) for p in _problems(tables)] == [
        ("inventory_turnover", "must not be empty", (2, 7))]


def test_a_repeated_id_with_spaces_is_reported_on_every_row_that_holds_it():
    tables = _typed()
    frame = tables["monthly_activity"].copy()
    first = frame["merchant_id"].iloc[0]
    rows = np.flatnonzero(frame["merchant_id"].eq(first).to_numpy())
    frame["merchant_id"] = frame["merchant_id"].where(~frame["merchant_id"].eq(first), first + " ")
    tables["monthly_activity"] = frame
    found = [p for p in _problems(tables) if p.column == "merchant_id"]
    assert [(p.rule, p.rows, p.example) for p in found] == [
        ("must not start or end with spaces", tuple(int(r) + 1 for r in rows[:20]), first + " ")]


def test_conforms_is_false_for_other_dtypes_order_or_columns():
    tables = _typed()
    assert all(conforms(name, tables[name]) for name in tables if name in TABLES)
    merchants = tables["merchants"]
    assert not conforms("merchants", merchants.astype({"bureau_score": "float64"}))
    assert not conforms("merchants", merchants[list(reversed(merchants.columns))])
    assert not conforms("merchants", merchants.drop(columns=["region"]))
    assert not conforms("merchants", merchants.assign(extra=1))
    assert conforms("outcomes", tables["outcomes"].drop(columns=["true_pd"], errors="ignore"))
