"""Partner loan products and the brokerage: the catalog, matching, recourse and repayment simulation.

The platform lends nothing: it matches merchants to partner lenders' products.

- ``catalog`` — the product catalog (``data/loan_products.json``): fields, :func:`load_products`,
  :func:`validate_products` (every problem named by product and field).
- ``editor`` — the catalog as the Products page's editable table and back (:func:`editor_table`,
  :func:`records_from_editor`, :func:`editor_problems`).
- ``match`` — eligibility, limit, APR, instalment, total cost and ranking for one merchant
  (:func:`offers_for`, with reasons in Korean and English) and for a whole book (:func:`match_book`).
- :func:`recourse` — the smallest changes of actionable features that would make a merchant eligible.
- ``repayment`` — :func:`simulate`: the repayment schedule or daily withholding under sales scenarios.

May import the base modules, ``data``, ``features``, ``model`` and ``explain``. The front loads lazily:
the catalog alone does not load LightGBM.
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "catalog": ("AMORTIZING", "LIMIT_STEP_KRW", "PRODUCT_FIELDS", "PRODUCTS_FILE", "PRODUCTS_SCHEMA",
                "REPAYMENT_TYPES", "REVENUE_BASED", "load_products", "products_to_records", "validate_products"),
    "editor": ("EDITOR_PROBLEM_COLUMNS", "editor_problems", "editor_table", "records_from_editor"),
    "match": ("BOOK_FIELDS", "MERCHANT_FIELDS", "OFFER_COLUMNS", "RULES", "advance_apr_pct", "annuity_payment",
              "failed_rules", "match_book", "offers_for", "round_down_limit"),
    "_recourse": ("RECOURSE_COLUMNS", "recourse"),
    "repayment": ("SCENARIOS", "scenario_sales", "simulate"),
})
