"""The brokerage in the app: the product catalog in use, its editor table, partner pools, exports.

The catalog in use is the store's newest saved version, or the shipped ``data/loan_products.json``
while none was saved. Every page that shows offers reads it through :func:`current_products`
(validated once per version, cached). Partner pools are cached by book, model, catalog version,
partner and LGD.
"""
from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
import streamlit as st

from cb_core.errors import CBError, ConflictError, SchemaError
from cb_core.offers import (PRODUCT_FIELDS, PRODUCTS_FILE, REPAYMENT_TYPES, load_products, products_to_records,
                            validate_products)
from cb_core.reports.partner import PartnerPool, partner_pool, pool_input
from ui import engine
from ui.common import engine_errors, lang, tr, user_name

EXPORT_ACTION = "partner_report.export"


# ------------------------------------------------------------------ the catalog in use

@st.cache_data(show_spinner=False, max_entries=4)
def _shipped(path: str, mtime_ns: int) -> pd.DataFrame:
    return load_products(path)


@st.cache_data(show_spinner=False, max_entries=16)
def _saved(url: str, version: int, _records: list[dict[str, Any]]) -> pd.DataFrame:
    return validate_products(_records)


def catalog_in_use() -> tuple[int | None, pd.DataFrame]:
    """``(version, products)``: the store's newest catalog version, or ``(None, shipped catalog)``."""
    with engine_errors():
        current = engine.store().current_products()
        if current is None:
            return None, _shipped(str(PRODUCTS_FILE), PRODUCTS_FILE.stat().st_mtime_ns)
        version, records = current
        return version, _saved(engine.store().url, version, records)


def current_products() -> pd.DataFrame:
    """The validated catalog in use (cached per version); what every offer in the app is made from."""
    return catalog_in_use()[1]


def catalog_version_products(version: int | None) -> pd.DataFrame:
    """Saved catalog ``version`` (None: the shipped file), validated and cached."""
    with engine_errors():
        if version is None:
            return _shipped(str(PRODUCTS_FILE), PRODUCTS_FILE.stat().st_mtime_ns)
        saved = engine.store().product_version(version)
        return _saved(engine.store().url, version, saved.catalog)


def catalog_key(version: int | None) -> str:
    return f"{engine.store().url}#{version}" if version is not None else f"file#{PRODUCTS_FILE.stat().st_mtime_ns}"


# ------------------------------------------------------------------ the editor's flat table

def editor_table(products: pd.DataFrame) -> pd.DataFrame:
    """One row per product, one column per catalog field; the grade table and the lists as short text
    ("1: 3.2, 2: 4.1" / "1, 2, 3" / "food, living")."""
    rows = []
    for rec in products_to_records(products):
        row = {f: rec.get(f) for f in PRODUCT_FIELDS}
        if rec.get("apr_by_grade"):
            row["apr_by_grade"] = ", ".join(f"{g}: {a:g}" for g, a in rec["apr_by_grade"].items())
        for f in ("eligible_grades", "eligible_categories"):
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


def editor_columns() -> dict[str, Any]:
    """Column config of the editor: the catalog's field names, their help, a type per kind."""
    config = {}
    for field, spec in PRODUCT_FIELDS.items():
        if spec.kind == "whole":
            config[field] = st.column_config.NumberColumn(field, help=spec.help, step=1, format="%d")
        elif spec.kind == "number":
            config[field] = st.column_config.NumberColumn(field, help=spec.help, step=0.1)
        elif spec.kind == "choice":
            config[field] = st.column_config.SelectboxColumn(field, help=spec.help, options=list(REPAYMENT_TYPES))
        else:
            config[field] = st.column_config.TextColumn(field, help=spec.help)
    return config


def _blank(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _apr_table(text: str) -> Any:
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


def _items(text: str, numbers: bool) -> list[Any]:
    items = [p.strip() for p in re.split(r"[,\s]+", str(text)) if p.strip()]
    return [int(p) if numbers and p.isdigit() else p for p in items]


def records_from_editor(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The edited table back to catalog records; blank cells are left out (the validator says which
    are needed), nothing is guessed."""
    records = []
    for row in frame.to_dict(orient="records"):
        rec: dict[str, Any] = {}
        for field, spec in PRODUCT_FIELDS.items():
            value = row.get(field)
            if _blank(value):
                continue
            if field == "apr_by_grade":
                value = _apr_table(value)
            elif field in ("eligible_grades", "eligible_categories"):
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


def save_catalog(records: list[dict[str, Any]], base_version: int | None) -> int | None:
    """Save ``records`` as the next version and return it; on broken rules (every problem listed)
    or a conflict show why and return None: nothing is saved and the catalog in use stays."""
    with engine_errors():
        try:
            return engine.store().save_products(records, user_name(), expected_version=base_version)
        except SchemaError as exc:
            st.error(tr("prodcat_invalid", n=len(exc.problems)), icon="⚠️")
            st.dataframe(problems_table(exc, records), hide_index=True, width="stretch")
        except ConflictError as exc:
            st.error(tr("prodcat_conflict"), icon="⚠️")
            st.code(str(exc), language=None, wrap_lines=True)
    return None


def problems_table(exc: SchemaError, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every problem of a rejected catalog: row, product, field, what is wrong, what was given."""
    def product(row: int) -> str:
        pid = records[row - 1].get("product_id") if 0 < row <= len(records) else None
        return pid if isinstance(pid, str) and pid else f"#{row}"

    return pd.DataFrame([{tr("prodcat_col_row"): p.rows[0] if p.rows else "", tr("prodcat_col_product"): product(
        p.rows[0]) if p.rows else "*", tr("prodcat_col_field"): p.column, tr("prodcat_col_problem"): p.rule,
        tr("prodcat_col_given"): p.example} for p in exc.problems])


# ------------------------------------------------------------------ partner pools and exports

@st.cache_resource(show_spinner=False, max_entries=2)
def _pool_input(fingerprint: str, model_version: str, _book, _model) -> pd.DataFrame:
    return pool_input(engine.strategy_frame(_book, _model), engine.snapshot(_book))


@st.cache_data(show_spinner=False, max_entries=16)
def _pool(fingerprint: str, model_version: str, key: str, partner: str, lgd: float, _frame: pd.DataFrame,
          _products: pd.DataFrame) -> PartnerPool:
    return partner_pool(_frame, _products, partner, lgd=lgd)


def partner_pool_for(book, model, partner: str, lgd: float) -> PartnerPool:
    """``partner``'s pool under the current book, model and catalog (cached)."""
    version, products = catalog_in_use()
    frame = _pool_input(book.fingerprint, model.version, book, model)
    with engine_errors():
        return _pool(book.fingerprint, model.version, catalog_key(version), partner, float(lgd), frame, products)


def record_export(partner: str, details: dict[str, Any]) -> None:
    """Download callback: audit the export of a partner report (who, which partner, what it held)."""
    try:
        engine.store().audit(user_name(), EXPORT_ACTION, "partner", partner, None, {**details, "lang": lang()})
    except CBError as exc:
        st.session_state["pv_export_error"] = str(exc)
