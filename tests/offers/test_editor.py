"""The Products page's editable table: the catalog to a flat table and back, and its problems."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cb_core.errors import SchemaError
from cb_core.offers import (EDITOR_PROBLEM_COLUMNS, PRODUCT_FIELDS, PRODUCTS_FILE, editor_problems, editor_table,
                            load_products, records_from_editor, validate_products)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return editor_table(load_products())


def _rejected(frame: pd.DataFrame) -> tuple[SchemaError, list[dict]]:
    records = records_from_editor(frame)
    with pytest.raises(SchemaError) as caught:
        validate_products(records)
    return caught.value, records


def test_the_shipped_catalog_round_trips_exactly(table):
    assert records_from_editor(table) == json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))


def test_the_table_has_one_column_per_field_and_short_text_for_tables_and_lists(table):
    assert list(table.columns) == list(PRODUCT_FIELDS)
    assert table["product_id"].tolist() == ["BANK-01", "BANK-02", "CAP-01", "CAP-02", "SAV-01", "SAV-02", "RBF-01",
                                            "RBF-02"]
    row = table.set_index("product_id")
    assert row.loc["BANK-01", "apr_by_grade"] == "1: 3.2, 2: 4.1, 3: 5, 4: 6.2, 5: 7.8, 6: 9.9"
    assert row.loc["SAV-02", "eligible_categories"] == "food, living, kids, pets"
    assert row.loc["RBF-02", "eligible_grades"] == "1, 2, 3, 4, 5, 6"
    assert pd.isna(row.loc["RBF-02", "apr_by_grade"]) and pd.isna(row.loc["BANK-01", "eligible_grades"])
    assert str(table["min_score"].dtype) == "Int64" and str(table["broker_fee_pct"].dtype) == "float64"
    assert table["min_payment_every_days"].isna().sum() == 6  # the six loans have no advance fields


def test_edits_are_typed_stripped_and_blank_cells_left_out(table):
    edited = table.head(1).copy()
    edited["name_en"] = "  Hanbit Growth  "
    edited["min_score"] = pd.array([610], dtype="Int64")
    edited["limit_multiple_of_monthly_gmv"] = 5.0
    edited["partner_ko"] = "   "
    [record] = records_from_editor(edited)
    assert record["name_en"] == "Hanbit Growth"
    assert record["min_score"] == 610 and type(record["min_score"]) is int
    assert record["limit_multiple_of_monthly_gmv"] == 5.0 and type(record["limit_multiple_of_monthly_gmv"]) is float
    assert "partner_ko" not in record and "eligible_grades" not in record
    assert record["apr_by_grade"] == {"1": 3.2, "2": 4.1, "3": 5.0, "4": 6.2, "5": 7.8, "6": 9.9}


def test_bad_cells_reach_the_validator_as_typed_and_are_named(table):
    edited = table.copy()
    edited.loc[0, "limit_cap_krw"] = -1
    edited.loc[1, "apr_by_grade"] = "1: x, 2: 4"
    edited.loc[2, "apr_by_grade"] = "cheap"
    edited.loc[3, "product_id"] = None
    edited.loc[4, "apr_by_grade"] = "2: 6.9, 3: 8.4, 5: 11.9"
    edited.loc[5, "eligible_categories"] = "food, moon"
    error, records = _rejected(edited)
    assert records[1]["apr_by_grade"] == {"1": "x", "2": 4.0} and records[2]["apr_by_grade"] == "cheap"
    assert str(error) == "\n".join([
        "6 problem(s) in the product catalog; nothing was changed:",
        "  - product BANK-01: limit_cap_krw must not be negative (got '-1')",
        "  - product BANK-02: apr_by_grade has APR 'x' for grade 1; an APR must be a number > 0 and ≤ 20% "
        "(the legal maximum rate)",
        "  - product CAP-01: apr_by_grade must be a table of grade -> APR % (e.g. {\"1\": 3.2, \"2\": 4.1}) "
        "(got 'cheap')",
        "  - product #4: product_id is missing",
        "  - product SAV-01: apr_by_grade has no APR for grade 4 (holes between grades 2 and 5)",
        "  - product SAV-02: eligible_categories has unknown category 'moon'; expected one of fashion, beauty, "
        "food, living, digital, furniture, kids, sports, pets, hobby",
    ])
    problems = editor_problems(error, records)
    assert tuple(problems.columns) == EDITOR_PROBLEM_COLUMNS
    assert problems[["row", "product", "field", "given"]].values.tolist() == [
        [1, "BANK-01", "limit_cap_krw", "-1"], [2, "BANK-02", "apr_by_grade", ""],
        [3, "CAP-01", "apr_by_grade", "cheap"], [4, "#4", "product_id", ""], [5, "SAV-01", "apr_by_grade", ""],
        [6, "SAV-02", "eligible_categories", ""]]
    assert problems["problem"].iloc[0] == "product BANK-01: limit_cap_krw must not be negative"


def test_an_added_empty_row_names_every_missing_field(table):
    edited = pd.concat([table.head(1), pd.DataFrame([{}], columns=table.columns)], ignore_index=True)
    error, records = _rejected(edited)
    assert records[1] == {}
    problems = editor_problems(error, records)
    required = [f for f, spec in PRODUCT_FIELDS.items() if spec.needed_by == "all"]
    assert problems["field"].tolist() == required
    assert set(problems["product"]) == {"#2"} and set(problems["row"]) == {2}
    assert problems["problem"].iloc[0] == "product #2: product_id is missing"
