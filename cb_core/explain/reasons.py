"""The wording of a reason code, checked against the merchant's value.

A reason says *why* a feature cost points, so it must be true of the merchant's value:

- a missing value (``NaN``, ``None``, ``±inf``) is its own reason, ``missing``: "no bureau record:
  thin file", "not enough sales history to measure ..." with what the merchant can submit. It is
  never worded "low X";
- the catalog's adverse wording ("Low owner bureau score", "High return rate"), ``adverse``, only
  when the value is on the adverse side: for a level, below the category peers' median when more is
  better (``risk_direction`` -1) and above it when more is worse (+1); for a trend, count or flag
  whose wording states a fact ("Sales are falling", "Months without sales", "No credit card"),
  when that fact holds of the value (:data:`FACT_WORDING`);
- otherwise ``relative``: the feature added fewer points than for the merchants just above the
  approval cutoff (true by construction: only features with a negative delta become reasons).

:func:`value_text` renders a value for a reason, a table or a record, never as ``nan``, ``None``,
``inf`` or in scientific notation.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable

from ..data import feature_catalog
from ..i18n import format_krw, t

#: Reason kinds, in the ``kind`` column of :func:`cb_core.explain.reason_codes`.
REASON_KINDS: tuple[str, ...] = ("missing", "adverse", "relative")

#: Features whose catalog wording states a fact about the value itself (not a comparison with
#: peers): feature -> (comparison, threshold) that must hold for the wording to be true.
FACT_WORDING: dict[str, tuple[Callable[[float, float], bool], float]] = {
    "gmv_trend_3m": (operator.lt, 0.0),          # Sales are falling
    "gmv_yoy": (operator.lt, 0.0),               # Sales are below last year
    "orders_trend_3m": (operator.lt, 0.0),       # Orders are falling
    "return_rate_trend": (operator.gt, 0.0),     # Return rate is rising
    "rating_trend": (operator.lt, 0.0),          # Ratings are falling
    "dispute_trend": (operator.gt, 0.0),         # Disputes are rising
    "search_clicks_trend": (operator.lt, 0.0),   # Search interest is falling
    "zero_sales_months_12m": (operator.gt, 0.0),  # Months without sales
    "thin_file": (operator.eq, 1.0),             # Thin credit file
    "owner_has_credit_card": (operator.eq, 0.0),  # No credit card
}

#: Features with their own missing-value text (``reason_missing_<feature>``); others use the text
#: for their source table.
OWN_MISSING_TEXT: tuple[str, ...] = ("bureau_score", "owner_has_credit_card", "avg_rating_6m", "rating_trend")


def is_missing(value: Any) -> bool:
    """True for None, NaN, ±inf and pandas' missing markers."""
    if value is None:
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value) in ("", "nan", "NaN", "None", "<NA>", "NaT")
    return not math.isfinite(number)


def reason_kind(feature: str, value: Any, peer_percentile: float | None) -> str:
    """``missing``, ``adverse`` or ``relative`` (see the module docstring) for a feature that cost
    points, given the merchant's value and its percentile (0–100) among category peers."""
    if is_missing(value):
        return "missing"
    spec = feature_catalog().get(feature)
    if spec is None:
        return "relative"
    if feature in FACT_WORDING:
        compare, threshold = FACT_WORDING[feature]
        try:
            return "adverse" if compare(float(value), threshold) else "relative"
        except (TypeError, ValueError):
            return "relative"
    if spec.risk_direction == 0 or spec.kind != "numeric" or is_missing(peer_percentile):
        return "relative"
    below = float(peer_percentile) < 50.0
    above = float(peer_percentile) > 50.0
    return "adverse" if (below if spec.risk_direction < 0 else above) else "relative"


def reason_text(feature: str, kind: str, label: str, catalog_reason: str, lang: str = "ko") -> str:
    """The sentence for a reason of ``kind`` (see :func:`reason_kind`)."""
    if kind == "adverse":
        return catalog_reason
    if kind == "relative":
        return t("reason_relative", lang, label=label)
    if feature in OWN_MISSING_TEXT:
        return t(f"reason_missing_{feature}", lang)
    spec = feature_catalog().get(feature)
    source = spec.source if spec is not None else ""
    return t("reason_missing_activity" if source == "monthly_activity" else "reason_missing", lang, label=label)


def value_text(feature: str, value: Any, lang: str = "ko") -> str:
    """A feature's value as a reason or record shows it: missing -> "no data", flags as yes/no,
    KRW in won, ratios as percentages, counts with separators; no scientific notation."""
    if is_missing(value):
        return t("value_missing", lang)
    spec = feature_catalog().get(feature)
    unit = spec.unit if spec is not None else ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if unit == "flag":
        return t("value_yes" if number >= 0.5 else "value_no", lang)
    if unit == "KRW":
        return format_krw(number, lang)
    if unit == "ratio":
        return f"{number:,.1%}"
    if unit == "months":
        return t("value_months", lang, n=f"{number:,.0f}")
    if unit in ("points", "count") and abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:,.2f}"


__all__ = ["FACT_WORDING", "OWN_MISSING_TEXT", "REASON_KINDS", "is_missing", "reason_kind", "reason_text",
           "value_text"]
