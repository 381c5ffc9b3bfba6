"""What leaves the product for someone else to read: the partner pool and its static HTML report,
the explanation record of an automated evaluation (Credit Information Act art. 36-2), masking of
personal data by role, and formula-safe CSV.

May import the base modules, ``data``, ``features``, ``model``, ``explain``, ``strategy``, ``offers`` and
``loans`` (Square's rule: no offer to a blocked merchant).
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "partner": ("POOL_INPUT_COLUMNS", "PARTNER_ROLE", "PartnerPool", "by_product_table", "kpis", "partner_pool",
                "partner_products", "partners", "pool_input", "products_table", "report_html", "sample_merchants"),
    "explanation": ("INFO_GROUPS", "ExplanationRecord", "explanation_record", "explanation_text",
                    "information_weights"),
    "masking": ("mask_frame", "mask_name", "mask_reg_no"),
    "safe_csv": ("FORMULA_PREFIXES", "csv_bytes", "neutralise_formulas"),
})
