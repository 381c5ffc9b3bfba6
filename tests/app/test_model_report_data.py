"""The Model report's figures computed once per model/book in ui.cache: the thinned ROC curve keeps
the curve (ends, order, area) while shipping few points; the stability tables equal the engine's."""
from __future__ import annotations

import numpy as np
import pandas as pd


def test_roc_curve_is_the_full_curve_thinned(app_state_with_model):
    from sklearn.metrics import roc_auc_score

    from cb_core.model import metrics
    from ui import cache, cache_report

    model = cache.current_model()
    v = cache.model_report(model)["validation"]
    full = metrics.roc_table(v["pd"], v["defaulted_12m"])
    assert len(full) > 50  # else nothing to thin
    thin = cache_report.roc_curve(model, max_points=50)
    assert 2 <= len(thin) <= 50
    assert (thin.iloc[0]["fpr"], thin.iloc[0]["tpr"]) == (0.0, 0.0) and np.isinf(thin.iloc[0]["threshold"])
    assert (thin.iloc[-1]["fpr"], thin.iloc[-1]["tpr"]) == (1.0, 1.0)
    merged = thin.merge(full, on=["threshold", "fpr", "tpr"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # every kept point is a point of the full curve
    assert thin["threshold"].is_monotonic_decreasing and thin["fpr"].is_monotonic_increasing
    area = np.trapezoid(thin["tpr"], thin["fpr"])
    assert abs(area - roc_auc_score(v["defaulted_12m"], v["pd"])) < 0.01  # the same curve to the eye
    small = cache_report.roc_curve(model, max_points=len(full) + 5)
    pd.testing.assert_frame_equal(small, full)  # nothing to thin: the curve as it is


def test_stability_equals_the_engine_tables(app_state_with_model):
    from cb_core.model import metrics
    from ui import cache, cache_report

    book, model = cache.book_and_model()
    extra = cache.model_report(model)
    score_psi, feature_psi = cache_report.stability(book, model)
    want = metrics.psi_table(pd.Series(extra["training_scores"], dtype=float), cache.scores(book, model)["score"])
    pd.testing.assert_frame_equal(score_psi, want)
    feats = [f for f in model.features if f in extra["training_sample"].columns]
    pd.testing.assert_frame_equal(feature_psi, metrics.psi_by_column(extra["training_sample"], cache.snapshot(book),
                                                                    columns=feats))
