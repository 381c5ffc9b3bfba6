"""What leaves the product for someone else to read: the partner pool, the partner's booked book
(its loans' volume, vintages, delinquency and concentration) and their static HTML report,
the explanation record of an automated evaluation (Credit Information Act art. 36-2), masking of
personal data by role, formula-safe CSV, and the validation pack of the model and the booked book
(``validation`` computes its tables, ``validation_html`` lays them out, ``book_tables`` labels the
booked book's tables for the pack and the Book performance page).

May import the base modules, ``data``, ``features``, ``model``, ``explain``, ``strategy``, ``offers`` and
``loans`` (Square's rule: no offer to a blocked merchant).
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "partner": ("POOL_INPUT_COLUMNS", "PARTNER_ROLE", "PartnerPool", "by_product_table", "kpis", "partner_pool",
                "partner_products", "partners", "pool_input", "products_table", "report_html", "sample_merchants"),
    "explanation": ("INFO_GROUPS", "ExplanationRecord", "explanation_record", "explanation_text",
                    "information_weights", "issue_date"),
    "booked_book": ("CONCENTRATION_BY", "DELINQUENCY_KEYS", "HHI_HIGH", "HHI_MODERATE", "PartnerBook", "hhi",
                    "hhi_reading", "partner_book"),
    "booked_tables": ("PARTNER_VINTAGE_MOBS", "RAW_PARTS", "book_kpis", "booked_book_html", "concentration_summary",
                      "concentration_table", "delinquency_table", "delinquent_table", "group_label",
                      "partner_vintage_table", "raw_table", "volume_table"),
    "masking": ("mask_frame", "mask_name", "mask_reg_no"),
    "safe_csv": ("FORMULA_PREFIXES", "csv_bytes", "neutralise_formulas"),
    "validation": ("BAD_LOAN_SAMPLE", "POINTS_SAMPLE", "ValidationTables", "information_weights_of", "sample_points",
                   "validation_tables"),
    "validation_html": ("validation_pack_html", "vintage_svg"),
    "book_tables": ("LIGHTS", "VINTAGE_MOBS", "backtest_table", "bad_loans_table", "calibration_table_text",
                    "definition_note", "early_reads_table", "feature_psi_table", "group_labels", "light_label",
                    "metrics_table", "roll_table", "score_psi_table", "status_label", "vintage_table",
                    "weights_table", "windows_table"),
})
