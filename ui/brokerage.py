"""The brokerage in the app: the product catalog in use, its editor, partner pools.

The catalog in use is the store's newest saved version, or the shipped ``data/loan_products.json``
while none was saved. Every page that shows offers reads it through :func:`catalog_in_use`
(validated once per version, cached in ``ui.cache``). The conversion between catalog records and
the editor's flat table is the engine's (``cb_core.offers.editor``); only the editor's column
widgets are drawn here.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cb_core.errors import ConflictError, SchemaError
from cb_core.i18n import translate_rule
from cb_core.offers import PRODUCT_FIELDS, PRODUCTS_FILE, REPAYMENT_TYPES, editor_problems, editor_table
from cb_core.reports import PartnerPool
from ui import cache
from ui.errors import engine_errors, show_engine_error
from ui.labels import label_func, tr
from ui.session import lang, user_name
from ui.text import show_frame

#: The audit action of a partner report download.
EXPORT_ACTION = "partner_report.export"


# ------------------------------------------------------------------ the catalog in use

def catalog_in_use() -> tuple[int | None, pd.DataFrame]:
    """``(version, products)``: the store's newest catalog version, or ``(None, shipped catalog)``."""
    with engine_errors():
        current = cache.store().current_products()
        if current is None:
            return None, cache.shipped_catalog()
        version, records = current
        return version, cache.saved_catalog(version, records)


def catalog_version_products(version: int | None) -> pd.DataFrame:
    """Saved catalog ``version`` (None: the shipped file), validated and cached."""
    with engine_errors():
        if version is None:
            return cache.shipped_catalog()
        return cache.saved_catalog(version, cache.store().product_version(version).catalog)


def catalog_key(version: int | None) -> str:
    """A key naming a catalog version (of this database, or of the shipped file as it is now)."""
    return f"{cache.store().url}#{version}" if version is not None else f"file#{PRODUCTS_FILE.stat().st_mtime_ns}"


# ------------------------------------------------------------------ the editor

def editor_columns() -> dict[str, Any]:
    """Column config of the editor: the catalog's field names, their help, a type per kind."""
    config = {}
    for field, spec in PRODUCT_FIELDS.items():
        label, help_text = tr(f"prodfield_{field}"), tr(f"prodfield_{field}_help")
        if spec.kind == "whole":
            config[field] = st.column_config.NumberColumn(label, help=help_text, step=1, format="%d")
        elif spec.kind == "number":
            config[field] = st.column_config.NumberColumn(label, help=help_text, step=0.1)
        elif spec.kind == "choice":
            config[field] = st.column_config.SelectboxColumn(label, help=help_text, options=list(REPAYMENT_TYPES),
                                                             format_func=label_func("offers_repay_"))
        else:
            config[field] = st.column_config.TextColumn(label, help=help_text)
    return config


def editor_frame(products: pd.DataFrame) -> pd.DataFrame:
    """The editor's table with empty text cells as "" (a missing text would be drawn as "None")."""
    table = editor_table(products)
    for field, spec in PRODUCT_FIELDS.items():
        if spec.kind not in ("whole", "number"):
            table[field] = table[field].astype(object).where(table[field].notna(), "")
    return table


def save_catalog(records: list[dict[str, Any]], base_version: int | None) -> int | None:
    """Save ``records`` as the next version and return it; on broken rules (every problem listed)
    or a conflict show why and return None: nothing is saved and the catalog in use stays."""
    with engine_errors():
        try:
            return cache.store().save_products(records, user_name(), expected_version=base_version)
        except SchemaError as exc:
            st.error(tr("prodcat_invalid", n=len(exc.problems)), icon="⚠️")
            show_frame(problems_table(exc, records))
        except ConflictError as exc:  # who saved which version meanwhile, in the user's language
            show_engine_error(exc, "prodcat_conflict")
    return None


def problems_table(exc: SchemaError, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every problem of a rejected catalog: row, product, field, what is wrong, what was given."""
    table = editor_problems(exc, records)
    table["field"] = [tr(f"prodfield_{f}") if f in PRODUCT_FIELDS else f for f in table["field"]]
    table["problem"] = [translate_rule(p, lang()) for p in table["problem"]]  # through its rule key
    return table.rename(columns={
        "row": tr("prodcat_col_row"), "product": tr("prodcat_col_product"), "field": tr("prodcat_col_field"),
        "problem": tr("prodcat_col_problem"), "given": tr("prodcat_col_given")})


# ------------------------------------------------------------------ partner pools

def partner_pool_for(book, model, partner: str, lgd: float) -> PartnerPool:
    """``partner``'s pool under the current book, model and catalog, without blocked merchants (cached)."""
    version, products = catalog_in_use()
    blocked = blocked_now(book)
    with engine_errors():
        return cache.partner_pool(book, model, catalog_key(version), products, partner, lgd, blocked)


# ------------------------------------------------------------------ Square's rule

def blocked_now(book) -> pd.DataFrame:
    """Merchants who get no new offer now (``cb_core.loans.blocked_merchants``): an overdue loan in
    the book, or frozen by a watch action (read from the store on every run)."""
    with engine_errors():
        frozen = tuple(cache.store().frozen_merchants())
        return cache.blocked(book, frozen)
