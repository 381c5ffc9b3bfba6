"""Why a merchant scores what it scores: exact TreeSHAP contributions in score points (fastshap),
reason codes measured against merchants just above the cutoff, what-if, the merchant review
(trends, peers, waterfall) and the batch scoring frame with points.

May import the base modules, ``data``, ``features`` and ``model``. The front loads lazily: numba
loads with the first explanation, not on import.
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "points": ("BASE_COLUMN", "LANGS", "POINTS_PREFIX", "contributions", "contributions_to_points", "dependence",
               "importance", "peer_percentiles", "points_by_feature", "points_column", "points_values", "reason_codes",
               "reference_points", "what_if"),
    "scoring": ("kernels_beside", "score_columns", "score_frame"),
    "review": ("TREND_METRICS", "MerchantExplanation", "activity_of", "category_bands", "cutoff_reference",
               "explain_merchant", "find_merchants", "merchant_trends", "percentiles_of_row", "waterfall_table"),
    "reasons": ("FACT_WORDING", "REASON_KINDS", "is_missing", "reason_kind", "reason_text", "value_text"),
    "fastshap": ("SERIAL_ROWS", "FastTreeShap", "explainer_for", "pred_contrib"),
})
