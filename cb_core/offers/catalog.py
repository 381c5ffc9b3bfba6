"""The partner product catalog: fields, loading and validation.

The catalog (``data/loan_products.json``) is a JSON list of products, one object each, with the
fields of :data:`PRODUCT_FIELDS`. Money is in won, rates and fees in percent (``6.2`` = 6.2%).

Two kinds of product:

- ``amortizing``: a term loan repaid in equal monthly instalments. ``apr_by_grade`` maps each
  eligible grade to its APR; grades not in the table are not offered.
- ``daily_settlement_pct``: a revenue-based advance. A fixed fee instead of interest
  (``fixed_fee_pct`` of the advance), repaid by withholding ``withhold_pct`` of every daily
  settlement; at least ``min_payment_pct`` of the total repayable is due in every
  ``min_payment_every_days`` window, and whatever is left falls due at ``max_term_months``
  (which is also its ``term_months``). It has no APR table: ``eligible_grades`` lists the grades
  it is offered to.

Validation (:func:`validate_products`, checks in :mod:`cb_core.offers._fields`) checks scalar
fields with a pandera schema and the rest (missing and unknown fields, grade tables, categories,
fields of the other kind of product) with plain code, and raises one :class:`~cb_core.errors.SchemaError` listing every problem, each naming
the product and the field. Nothing is returned half-checked: callers keep their last good frame.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..config import DATA_DIR
from ..errors import DataSourceError, Problem, SchemaError
from ._fields import (
    AMORTIZING, LIMIT_STEP_KRW, MAX_APR_PCT, PRODUCT_FIELDS, REPAYMENT_TYPES, REVENUE_BASED, SCALAR_KINDS, TABLE,
    FieldSpec, Report, check_apr_table, check_categories, check_grades, check_records, check_scalars, missing,
    number,
)

__all__ = ["PRODUCTS_FILE", "PRODUCT_FIELDS", "PRODUCTS_SCHEMA", "REPAYMENT_TYPES", "AMORTIZING", "REVENUE_BASED",
           "MAX_APR_PCT", "LIMIT_STEP_KRW", "FieldSpec", "load_products", "validate_products",
           "products_to_records"]

PRODUCTS_FILE = DATA_DIR / "loan_products.json"

_TEXT = pd.StringDtype(na_value=np.nan)  # pandas' default string dtype


def _output_column(spec: FieldSpec) -> pa.Column:
    optional = spec.needed_by != "all"
    if spec.kind in ("id", "text", "choice"):
        return pa.Column(_TEXT, unique=spec.kind == "id")
    if spec.kind == "whole":
        return pa.Column("Int64" if optional else "int64", nullable=optional)
    if spec.kind == "number":
        return pa.Column("float64", nullable=optional)
    return pa.Column(object, nullable=spec.kind != "grades")


#: The validated frame's columns and dtypes: what every consumer of :func:`load_products` can rely on.
PRODUCTS_SCHEMA = pa.DataFrameSchema({name: _output_column(spec) for name, spec in PRODUCT_FIELDS.items()},
                                     strict=True, ordered=True, name=TABLE)


# ------------------------------------------------------------------ public API

def validate_products(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Check a catalog and return it as a frame.

    Parameters
    ----------
    records : iterable of dict
        One dict per product, fields as in :data:`PRODUCT_FIELDS` (from the JSON file or edits
        in the app).

    Returns
    -------
    DataFrame
        One row per product in the given order (RangeIndex), the columns of
        :data:`PRODUCT_FIELDS`: numbers parsed, ``apr_by_grade`` a dict int grade -> APR % (None
        for advances), ``eligible_grades`` a tuple of ints for every product (the APR table's
        grades for amortizing loans), ``eligible_categories`` a tuple of codes or None (all),
        advance-only fields NaN / <NA> on amortizing loans.

    Raises
    ------
    SchemaError
        Listing every problem, each "product <id>: <field> <rule>"; nothing is returned then.
    """
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise SchemaError([Problem(TABLE, "*", "the catalog must be a list of products")],
                          f"the product catalog must be a list of products; got {type(records).__name__}")
    records = list(records)
    report = Report()
    if not records:
        report.add("*", -1, "*", "catalog is empty: at least one product is needed")
        report.raise_if_any()
    records, labels = check_records(records, report)
    scalar = [f for f, s in PRODUCT_FIELDS.items() if s.kind in SCALAR_KINDS]
    frame = pd.DataFrame([{f: None if missing(rec.get(f)) else rec.get(f) for f in scalar} for rec in records],
                         columns=scalar, dtype=object)
    check_scalars(frame, labels, report)
    _check_magnitudes(frame, labels, report)

    apr_tables: list[dict[int, float] | None] = []
    grade_lists: list[tuple[int, ...] | None] = []
    cats: list[tuple[str, ...] | None] = []
    for pos, rec in enumerate(records):
        label, kind = labels[pos], rec.get("repayment")
        table = grades = None
        if kind == AMORTIZING and not missing(rec.get("apr_by_grade")):
            table = check_apr_table(rec["apr_by_grade"], label, pos, report)
            grades = tuple(table) if table else None
        if kind == REVENUE_BASED and not missing(rec.get("eligible_grades")):
            grades = check_grades(rec["eligible_grades"], label, pos, report)
        apr_tables.append(table)
        grade_lists.append(grades)
        cats.append(check_categories(rec.get("eligible_categories"), label, pos, report))
    report.raise_if_any()
    return _canonical(frame, apr_tables, grade_lists, cats)


#: Whole numbers at or beyond this are not exact as floats (and would wrap around as int64).
_MAX_WHOLE = 2 ** 53


def _check_magnitudes(frame: pd.DataFrame, labels: list[str], report: Report) -> None:
    """Whole-number fields without an upper bound (amounts in won) must stay exact."""
    for field, spec in PRODUCT_FIELDS.items():
        if spec.kind != "whole" or spec.high is not None:
            continue  # a bounded field already reports a value above its bound
        for pos, value in enumerate(frame[field]):
            v = None if value is None else number(value)
            if v is not None and abs(v) >= _MAX_WHOLE:
                report.add(labels[pos], pos, field, f"is too large: at most {_MAX_WHOLE - 1:,}", value)


def _canonical(frame: pd.DataFrame, apr_tables: list, grade_lists: list, cats: list) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for field, spec in PRODUCT_FIELDS.items():
        if spec.kind in ("id", "text", "choice"):
            out[field] = frame[field].map(str.strip).astype(_TEXT)
        elif spec.kind in ("whole", "number"):
            values = frame[field].map(lambda v: np.nan if v is None else number(v)).astype(float)
            if spec.kind == "whole":
                values = values.astype("Int64" if spec.needed_by != "all" else "int64")
            out[field] = values
        elif spec.kind == "apr_table":
            out[field] = pd.Series(apr_tables, dtype=object)
        elif spec.kind == "grades":
            out[field] = pd.Series(grade_lists, dtype=object)
        else:
            out[field] = pd.Series(cats, dtype=object)
    return PRODUCTS_SCHEMA.validate(out)


def load_products(path: str | Path | None = None) -> pd.DataFrame:
    """The product catalog from a JSON file (default: the shipped ``data/loan_products.json``).

    The file is UTF-8 JSON (a BOM, as Windows editors write, is allowed). JSON's own rules are
    kept strictly: ``NaN``/``Infinity`` are not numbers (reported per product and field) and a
    product that names a field twice is refused rather than one of the two values kept.

    Returns
    -------
    DataFrame
        As :func:`validate_products`.

    Raises
    ------
    DataSourceError
        The file is missing, not a file, unreadable, too large, empty or not UTF-8 JSON.
    SchemaError
        The catalog breaks a rule (every problem listed).
    """
    file = Path(path) if path is not None else PRODUCTS_FILE
    try:
        if not file.is_file():
            if not file.exists():
                raise DataSourceError(f"product catalog not found: {file}", key="err_catalog_not_found", file=file)
            raise DataSourceError(f"product catalog {file} is a folder, not a JSON file", key="err_catalog_is_folder",
                                  file=file)
        if file.stat().st_size > MAX_CATALOG_BYTES:
            raise DataSourceError(f"product catalog {file} is {file.stat().st_size:,} bytes, more than the "
                                  f"{MAX_CATALOG_BYTES:,} a catalog may have; is it the right file?", key="err_catalog_product_catalog_file_st", file=file, st_size=file.stat().st_size, MAX_CATALOG_BYTES=MAX_CATALOG_BYTES)
        raw = file.read_bytes()
    except OSError as exc:
        raise DataSourceError(f"cannot read product catalog {file}: {exc.strerror or exc}", key="err_catalog_cannot_read_product_catalog", file=file, value=exc) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataSourceError(f"product catalog {file}: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
                              f"(line {line}) is not valid UTF-8 text; save it as UTF-8", key="err_catalog_product_catalog_file_byte", file=file, raw=raw[exc.start], start=exc.start, line=line) from None
    if not text.strip():
        raise DataSourceError(f"product catalog {file} is empty: expected a JSON list of products", key="err_catalog_product_catalog_file_empty", file=file)
    try:
        records = json.loads(text, parse_constant=_NotANumber, parse_float=_finite_float,
                             object_pairs_hook=_fields_once)
    except json.JSONDecodeError as exc:
        raise DataSourceError(f"product catalog {file} is not valid JSON: {exc}", key="err_catalog_product_catalog_file_valid", file=file, exc=exc) from None
    except _RepeatedField as exc:
        raise DataSourceError(f"product catalog {file}: {exc}", key="err_catalog_product_catalog_file_exc", file=file, exc=exc) from None
    if not isinstance(records, list):
        raise SchemaError([Problem(TABLE, "*", "the catalog must be a JSON list of products")],
                          f"product catalog {file} must be a JSON list of products; got {type(records).__name__}")
    try:
        return validate_products(records)
    except SchemaError as exc:  # the same report, naming the file
        raise SchemaError(exc.problems, str(exc).replace("in the product catalog", f"in the product catalog {file}",
                                                         1)) from None


#: Largest catalog file read; the shipped one has a few kB.
MAX_CATALOG_BYTES = 10 * 1024 ** 2


class _NotANumber:
    """``NaN``/``Infinity`` in a catalog file: kept as a token that no field accepts, so the field
    that holds it is reported (with the token as written) instead of taking a non-finite value."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __str__(self) -> str:
        return self.token

    __repr__ = __str__


def _finite_float(token: str) -> float | _NotANumber:
    value = float(token)
    return value if math.isfinite(value) else _NotANumber(token)  # 1e400: beyond any float


class _RepeatedField(ValueError):
    pass


def _fields_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            pid = dict(pairs).get("product_id")
            where = f"product {pid}" if isinstance(pid, str) else "a product"
            raise _RepeatedField(f"{where} lists the field {key!r} twice; keep one value")
        seen[key] = value
    return seen


def products_to_records(products: pd.DataFrame) -> list[dict[str, Any]]:
    """A validated catalog frame back to JSON-ready dicts (what :func:`validate_products` reads).

    Fields a product does not use are left out; grade keys become text as in the JSON file.
    """
    records = []
    for row in products.to_dict(orient="records"):
        rec: dict[str, Any] = {}
        for field, spec in PRODUCT_FIELDS.items():
            value = row[field]
            if field == "eligible_grades" and row["repayment"] == AMORTIZING:
                continue
            if value is None or (not isinstance(value, (dict, tuple)) and pd.isna(value)):
                continue
            if spec.kind == "apr_table":
                value = {str(g): float(a) for g, a in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, (np.integer, int)):
                value = int(value)
            elif isinstance(value, (np.floating, float)):
                value = float(value)
            rec[field] = value
        records.append(rec)
    return records
