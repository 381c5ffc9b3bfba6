"""Partner loan products and the brokerage: catalog, matching, recourse, repayment simulation.

The platform lends nothing: it matches merchants to partner lenders' products. This module is the
public face of that engine; the work is split by concern:

- :mod:`cb_core.offers.catalog` — the product catalog (``data/loan_products.json``): fields,
  :func:`load_products`, :func:`validate_products` (every problem named by product and field).
- :mod:`cb_core.offers.editor` — the catalog as the Products page's editable table and back
  (:func:`editor_table`, :func:`records_from_editor`, :func:`editor_problems`).
- :mod:`cb_core.offers.match` — eligibility, limit, APR, instalment, total cost and ranking for
  one merchant (:func:`offers_for`, with reasons in Korean and English) and for a whole book at
  once (:func:`match_book`, vectorised).
- :mod:`cb_core.offers.recourse` — :func:`recourse`: the smallest changes of actionable features
  that would make a merchant eligible.
- :mod:`cb_core.offers.repayment` — :func:`simulate`: the repayment schedule or daily withholding path
  under sales scenarios.
"""
from __future__ import annotations

from .catalog import (
    AMORTIZING, LIMIT_STEP_KRW, PRODUCT_FIELDS, PRODUCTS_FILE, PRODUCTS_SCHEMA, REPAYMENT_TYPES,
    REVENUE_BASED, load_products, products_to_records, validate_products,
)
from .editor import EDITOR_PROBLEM_COLUMNS, editor_problems, editor_table, records_from_editor
from .match import (
    BOOK_FIELDS, OFFER_COLUMNS, RULES, advance_apr_pct, annuity_payment, failed_rules, match_book,
    offers_for, round_down_limit,
)
from .recourse import RECOURSE_COLUMNS, recourse
from .repayment import SCENARIOS, scenario_sales, simulate

__all__ = [
    "AMORTIZING", "REVENUE_BASED", "REPAYMENT_TYPES", "LIMIT_STEP_KRW", "PRODUCT_FIELDS", "PRODUCTS_FILE",
    "PRODUCTS_SCHEMA", "load_products", "validate_products", "products_to_records",
    "RULES", "OFFER_COLUMNS", "BOOK_FIELDS", "offers_for", "match_book", "failed_rules",
    "round_down_limit", "annuity_payment", "advance_apr_pct",
    "RECOURSE_COLUMNS", "recourse",
    "SCENARIOS", "simulate", "scenario_sales",
    "EDITOR_PROBLEM_COLUMNS", "editor_table", "records_from_editor", "editor_problems",
]
