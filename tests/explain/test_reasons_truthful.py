"""Every reason of every merchant of a demo book is true of that merchant's value (issue #13).

A thin-file merchant was told "Low owner bureau score (value: nan)". Here the reasons of all
merchants of the seeded demo book (and their explanation records) are checked against the values
themselves: a missing value gets the missing-value reason and nothing else; "low X" / "high X" and
the catalog's other adverse wordings only where the value is on that side (of the category peers'
median, or of the fact the wording states); no text shows nan, None or inf.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from cb_core.data import feature_catalog
from cb_core.i18n import t

NOT_SHOWN = re.compile(r"\b(nan|NaN|None|inf|Infinity|NaT)\b")
# The catalog wordings that state a fact of the value, re-stated here independently of the engine.
FACTS = {"gmv_trend_3m": lambda v: v < 0, "gmv_yoy": lambda v: v < 0, "orders_trend_3m": lambda v: v < 0,
         "return_rate_trend": lambda v: v > 0, "rating_trend": lambda v: v < 0, "dispute_trend": lambda v: v > 0,
         "search_clicks_trend": lambda v: v < 0, "zero_sales_months_12m": lambda v: v > 0,
         "thin_file": lambda v: v == 1, "owner_has_credit_card": lambda v: v == 0}


def _missing(v) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and not math.isfinite(v)) or v is pd.NA


def _percentile(peers: pd.Series, v: float) -> float:
    present = peers.dropna().to_numpy(dtype=float)
    return ((present < v).sum() + ((present == v).sum() + 1) / 2) / len(present) * 100


@pytest.fixture(scope="module")
def book_reasons(small_book, trained):
    """Reason codes (en and ko) of every merchant of the book, against the reference near 590."""
    from cb_core.explain import cutoff_reference, peer_percentiles, points_by_feature, reason_codes
    from cb_core.features import current_snapshot

    model, _ = trained
    snap = current_snapshot(small_book)
    scores = model.score(snap)
    reference = cutoff_reference(model, snap, scores, 590)
    points = points_by_feature(model, snap)
    pct = peer_percentiles(snap[model.features], snap["category"])
    rows = []
    for merchant_id in snap.index:
        for lang in ("en", "ko"):
            codes = reason_codes(model, points.loc[merchant_id], snap.loc[merchant_id], reference_points=reference,
                                 peer_percentiles=pct.loc[merchant_id], lang=lang)
            rows.append(codes.assign(merchant_id=merchant_id, lang=lang))
    return model, snap, pd.concat(rows, ignore_index=True)


def test_every_reason_of_every_merchant_is_true_of_its_value(book_reasons):
    model, snap, reasons = book_reasons
    catalog = feature_catalog()
    assert reasons["merchant_id"].nunique() > len(snap) // 2  # most merchants have reasons: not vacuous
    for r in reasons.itertuples():
        value = snap.at[r.merchant_id, r.feature]
        label = model.feature_label(r.feature, r.lang)
        spec = catalog.get(r.feature)
        assert not NOT_SHOWN.search(r.reason) and not NOT_SHOWN.search(r.value_text), (r.merchant_id, r.reason)
        if _missing(value):
            assert r.kind == "missing", (r.merchant_id, r.feature, r.reason)
            assert r.value_text == t("value_missing", r.lang) and math.isnan(r.peer_percentile)
            assert r.reason != spec.__getattribute__(f"reason_{r.lang}")
            if r.feature == "bureau_score":
                assert r.reason.startswith("No bureau record: thin file" if r.lang == "en" else
                                           "대표자 신용평가 기록이 없습니다(신파일러)")
            continue
        assert r.kind in ("adverse", "relative"), (r.merchant_id, r.feature, r.kind)
        if r.feature in FACTS:
            holds = FACTS[r.feature](float(value))
        elif spec.risk_direction == 0 or spec.kind != "numeric":
            holds = False
        else:
            peers = snap.loc[snap["category"] == snap.at[r.merchant_id, "category"], r.feature]
            percentile = _percentile(peers, float(value))
            assert r.peer_percentile == pytest.approx(percentile)
            holds = percentile < 50 if spec.risk_direction < 0 else percentile > 50
        if r.kind == "adverse":
            assert holds and r.reason == getattr(spec, f"reason_{r.lang}"), (r.merchant_id, r.feature, value)
        else:
            assert not holds and r.reason == t("reason_relative", r.lang, label=label), (r.merchant_id, r.feature)
        # the wording convention of the catalog: "Low"/"Few"/"Short"/"Small" with more-is-better
        # features, "High"/"Frequent" with more-is-worse ones; only ever when adverse
        if r.lang == "en" and re.match(r"(Low|Few|Short|Young|Slow|Recent sales are small)", r.reason):
            assert r.kind == "adverse" and (r.feature in FACTS or r.peer_percentile < 50)
        if r.lang == "en" and re.match(r"(High|Frequent)", r.reason):
            assert r.kind == "adverse" and (r.feature in FACTS or r.peer_percentile > 50)


def test_the_book_exercises_every_kind_and_thin_files(book_reasons):
    _, snap, reasons = book_reasons
    en = reasons[reasons["lang"] == "en"]
    assert set(en["kind"]) == {"missing", "adverse", "relative"}
    thin = en[(en["feature"] == "bureau_score") & en["merchant_id"].map(snap["bureau_score"].isna())]
    assert len(thin) > 0 and (thin["kind"] == "missing").all()
    assert not en["reason"].str.contains("Low owner bureau score").any() or \
        (en.loc[en["reason"] == "Low owner bureau score", "merchant_id"].map(snap["bureau_score"]).notna()).all()


def test_explanation_records_of_every_merchant_show_no_nan(small_book, trained):
    from cb_core.explain import cutoff_reference, explain_merchant
    from cb_core.features import current_snapshot
    from cb_core.reports import explanation_record, explanation_text

    model, _ = trained
    snap = current_snapshot(small_book)
    reference = cutoff_reference(model, snap, model.score(snap), 590)
    thin_seen = 0
    for i, merchant_id in enumerate(snap.index):
        lang = "ko" if i % 2 else "en"
        ex = explain_merchant(model, snap, merchant_id, reference, lang=lang)
        text = explanation_text(explanation_record(ex, "상회", small_book.last_month, model.version, lang), lang)
        assert not NOT_SHOWN.search(text), (merchant_id, text)
        for r in ex.reasons.itertuples():
            assert f"{r.reason} ({r.label}: {r.value_text};" in text
        if (ex.reasons["feature"] == "bureau_score").any() and pd.isna(snap.at[merchant_id, "bureau_score"]):
            thin_seen += 1
            assert ("No bureau record: thin file" if lang == "en" else "신파일러") in text
            assert "Low owner bureau score" not in text and "대표자 신용점수가 낮습니다" not in text
    assert thin_seen > 0
