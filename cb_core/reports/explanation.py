"""Explanation records for automated credit decisions.

Korea's Credit Information Act art. 36-2 gives a person evaluated by an automated system the right
to an explanation: the result, the main criteria, the information used and its weight by category,
and the right to submit information, ask for correction and for re-calculation. PIPA art. 37-2
(since 2024-03) adds the right to refuse an automated decision or ask for human review, answered
within 30 days. :func:`explanation_record` assembles what such an answer needs from a scored and
explained merchant; :func:`explanation_text` renders it as plain text for the merchant.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd

from ..data import feature_catalog
from ..i18n import KST_OFFSET_HOURS, t

INFO_GROUPS: tuple[str, ...] = ("sales", "returns", "customers", "operations", "marketing", "business", "credit",
                                "region")


def information_weights(points: pd.Series, lang: str = "ko") -> pd.DataFrame:
    """Points this merchant got from each category of information, and each category's weight.

    Parameters
    ----------
    points : Series
        One row of ``explain.points_by_feature`` (``points__<feature>`` entries).

    Returns
    -------
    DataFrame
        ``group``, ``label``, ``points`` (sum over the group's features, signed), ``weight``
        (share of the merchant's total absolute points, 0–1), ``features`` (count), largest weight first.
    """
    catalog = feature_catalog()
    rows: dict[str, dict] = {}
    for col, value in points.items():
        if not str(col).startswith("points__"):
            continue
        name = str(col)[len("points__"):]
        group = catalog[name].info_group if name in catalog else "other"
        row = rows.setdefault(group, {"group": group, "points": 0.0, "abs": 0.0, "features": 0})
        row["points"] += float(value)
        row["abs"] += abs(float(value))
        row["features"] += 1
    frame = pd.DataFrame(list(rows.values()))
    total = frame["abs"].sum()
    frame["weight"] = frame["abs"] / total if total > 0 else 0.0
    frame["label"] = [t(f"info_group_{g}", lang) if g in INFO_GROUPS else g for g in frame["group"]]
    return (frame.drop(columns="abs").sort_values("weight", ascending=False, kind="mergesort")
            .reset_index(drop=True)[["group", "label", "points", "weight", "features"]])


@dataclass
class ExplanationRecord:
    """What an explanation request about one automated evaluation is answered with."""

    merchant_id: str
    business_name: str
    score: int
    grade: int
    pd: float
    decision: str | None
    data_month: str
    model_version: str
    policy_version: int | None
    reasons: pd.DataFrame
    weights: pd.DataFrame
    issued_on: str = field(default_factory=lambda: issue_date())


def issue_date(now: datetime | None = None) -> str:
    """The date of issue in Korea (``now``, default the current time; naive is taken as UTC): a
    record asked for at 20:00 UTC is issued on the next day in Korea, not on the server's date."""
    now = datetime.now(timezone.utc) if now is None else now
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone(timedelta(hours=KST_OFFSET_HOURS))).date().isoformat()


def explanation_record(ex, business_name: str, data_month: str, model_version: str, lang: str = "ko",
                       decision: str | None = None, policy_version: int | None = None) -> ExplanationRecord:
    """Build the record from a ``review.MerchantExplanation`` (score, points, reason codes).

    The reasons keep the engine's wording (a missing value is its own reason, never "low X") and the
    value as text (``value_text``: "no data", never ``nan``)."""
    reasons = ex.reasons[["label", "kind", "reason", "value", "value_text", "delta_points", "actionable"]].copy()
    return ExplanationRecord(ex.merchant_id, business_name, ex.score, ex.grade, ex.pd, decision, data_month,
                             model_version, policy_version, reasons, information_weights(ex.points, lang))


def explanation_text(record: ExplanationRecord, lang: str = "ko") -> str:
    """The record as plain text (no markup) for the merchant: result, reasons, information used and
    weights, data date, and the merchant's rights."""
    lines = [t("expl_heading", lang), "",
             t("expl_merchant", lang, name=record.business_name, id=record.merchant_id),
             t("expl_result", lang, score=record.score, grade=record.grade, pd=f"{record.pd:.2%}"),
             t("expl_decision", lang, decision=t(f"decision_{record.decision}", lang) if record.decision else "–"),
             t("expl_basis", lang, month=record.data_month, model=record.model_version,
               policy=t("policy_from_settings", lang) if record.policy_version is None else f"v{record.policy_version}"),
             "",
             t("expl_reasons", lang)]
    if record.reasons.empty:
        lines.append("  " + t("expl_no_reasons", lang))
    for i, r in enumerate(record.reasons.itertuples(), start=1):
        lines.append(f"  {i}. {r.reason} ({r.label}: {r.value_text}; {r.delta_points:+.1f}" + t("expl_points", lang) + ")")
    lines += ["", t("expl_weights", lang)]
    for r in record.weights.itertuples():
        lines.append(f"  - {r.label}: {r.weight:.0%} ({r.points:+.1f}" + t("expl_points", lang) + ")")
    lines += ["", t("expl_rights", lang), "", t("expl_issued", lang, date=record.issued_on)]
    return "\n".join(lines)


__all__ = ["INFO_GROUPS", "ExplanationRecord", "explanation_record", "explanation_text", "information_weights"]
