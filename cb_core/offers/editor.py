"""The catalog as an editable flat table, and back: what the Products page shows in its editor.

:func:`editor_table` turns validated products into one row per product and one column per catalog
field, the grade table and the lists as short text ("1: 3.2, 2: 4.1" / "1, 2, 3" / "food, living").
:func:`records_from_editor` turns an edited table back into catalog records without guessing:
a blank cell is left out and a cell that does not parse is passed on as typed, so that
:func:`~cb_core.offers.catalog.validate_products` names it (product, field, what is wrong, what was
given). :func:`editor_problems` lays out such a rejection as one row per problem.

The shipped catalog survives the round trip exactly:
``records_from_editor(editor_table(load_products())) == json.load(PRODUCTS_FILE)``.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import SchemaError
from .catalog import PRODUCT_FIELDS, products_to_records

#: Fields shown as comma-separated text in the editor.
LIST_FIELDS: tuple[str, ...] = ("eligible_grades", "eligible_categories")
#: Columns of :func:`editor_problems`.
EDITOR_PROBLEM_COLUMNS: tuple[str, ...] = ("row", "product", "field", "problem", "given")


def editor_table(products: pd.DataFrame) -> pd.DataFrame:
    """One row per product, one column per catalog field (in :data:`PRODUCT_FIELDS` order).

    Parameters
    ----------
    products : DataFrame
        A validated catalog (:func:`~cb_core.offers.catalog.load_products`).

    Returns
    -------
    DataFrame
        Whole-number fields ``Int64``, other numbers ``float64``, the rest ``object``;
        ``apr_by_grade`` as ``"1: 3.2, 2: 4.1"``, the lists as ``"1, 2, 3"`` / ``"food, living"``,
        absent values as missing cells.
    """
    rows = []
    for rec in products_to_records(products):
        row = {f: rec.get(f) for f in PRODUCT_FIELDS}
        if rec.get("apr_by_grade"):
            row["apr_by_grade"] = ", ".join(f"{g}: {a:g}" for g, a in rec["apr_by_grade"].items())
        for f in LIST_FIELDS:
            if rec.get(f):
                row[f] = ", ".join(str(v) for v in rec[f])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(PRODUCT_FIELDS))
    for field, spec in PRODUCT_FIELDS.items():
        if spec.kind == "whole":
            frame[field] = pd.array(frame[field].to_numpy(dtype=object), dtype="Int64")
        elif spec.kind == "number":
            frame[field] = pd.to_numeric(frame[field], errors="coerce").astype(float)
        else:
            frame[field] = frame[field].astype(object)
    return frame


def _blank(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _apr_table(text: Any) -> Any:
    """"1: 3.2, 2: 4.1" -> {"1": 3.2, "2": 4.1}; anything else is passed on as typed, for the
    validator to name."""
    table: dict[str, Any] = {}
    for part in (p.strip() for p in str(text).split(",") if p.strip()):
        grade, sep, apr = part.partition(":")
        if not sep:
            return text
        try:
            table[grade.strip()] = float(apr)
        except ValueError:
            table[grade.strip()] = apr.strip()
    return table


def _items(text: Any, numbers: bool) -> list[Any]:
    items = [p.strip() for p in re.split(r"[,\s]+", str(text)) if p.strip()]
    return [int(p) if numbers and p.isdigit() else p for p in items]


def records_from_editor(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The edited table back to catalog records.

    Blank cells are left out (the validator says which are needed); nothing is guessed: a cell
    that does not parse reaches the validator as typed. Whole numbers become ``int``, other
    numbers ``float``, text is stripped.

    Parameters
    ----------
    frame : DataFrame
        :func:`editor_table`'s layout, as edited (rows may be added or removed).

    Returns
    -------
    list of dict
        One record per row, only the catalog's fields, for
        :func:`~cb_core.offers.catalog.validate_products` or the store's ``save_products``.
    """
    records = []
    for row in frame.to_dict(orient="records"):
        rec: dict[str, Any] = {}
        for field, spec in PRODUCT_FIELDS.items():
            value = row.get(field)
            if _blank(value):
                continue
            if field == "apr_by_grade":
                value = _apr_table(value)
            elif field in LIST_FIELDS:
                value = _items(value, numbers=field == "eligible_grades")
            elif isinstance(value, str):
                value = value.strip()
            elif spec.kind == "whole" and float(value) == int(value):
                value = int(value)
            elif spec.kind in ("whole", "number"):
                value = float(value)
            rec[field] = value
        records.append(rec)
    return records


def editor_problems(error: SchemaError, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Every problem of a rejected catalog, one row each, for showing next to the editor.

    Parameters
    ----------
    error : SchemaError
        What :func:`~cb_core.offers.catalog.validate_products` raised for ``records``.
    records : list of dict
        The records that were checked (:func:`records_from_editor`), to name each row's product.

    Returns
    -------
    DataFrame
        :data:`EDITOR_PROBLEM_COLUMNS`: ``row`` (1-based editor row, "" for the whole catalog),
        ``product`` (its id, ``#<row>`` without one, ``*`` for the whole catalog), ``field``,
        ``problem`` (the validator's sentence), ``given`` (the value given, "" when none).
    """
    def product(row: int) -> str:
        pid = records[row - 1].get("product_id") if 0 < row <= len(records) else None
        return pid if isinstance(pid, str) and pid else f"#{row}"

    return pd.DataFrame([{"row": p.rows[0] if p.rows else "", "product": product(p.rows[0]) if p.rows else "*",
                          "field": p.column, "problem": p.rule, "given": p.example} for p in error.problems],
                        columns=list(EDITOR_PROBLEM_COLUMNS))


__all__ = ["LIST_FIELDS", "EDITOR_PROBLEM_COLUMNS", "editor_problems", "editor_table", "records_from_editor"]
