"""The Model report's Streamlit caches: the test window's ROC curve and tables (once per model), the
stability figures and a fixed sample of merchants' points (once per book and model).

Split out of :mod:`ui.cache` (every other cache lives there; tests/app/test_ui_layout.py); it builds on
that module's book, model and frame caches.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.data import Book
from cb_core.explain import points_by_feature
from ui.cache import model_report, scores, snapshot


@st.cache_resource(show_spinner=False, max_entries=2)
def _roc(version: str, max_points: int, _model) -> pd.DataFrame | None:
    import numpy as np

    from cb_core.model import metrics

    v = model_report(_model).get("validation")
    if v is None or not len(v):
        return None
    roc = metrics.roc_table(v["pd"], v["defaulted_12m"])
    if len(roc) <= max_points:
        return roc
    keep = np.unique(np.linspace(0, len(roc) - 1, max_points).round().astype(int))  # both ends kept
    return roc.iloc[keep].reset_index(drop=True)


def roc_curve(model, max_points: int = 400) -> pd.DataFrame | None:
    """The test window's ROC curve (``metrics.roc_table``) thinned to at most ``max_points`` evenly
    spaced thresholds, both ends kept: the chart looks the same and ships a few kB, not one point per
    distinct PD (None without validation rows). Once per model."""
    return _roc(model.version, max_points, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _window_tables(version: str, _model) -> dict[str, pd.DataFrame] | None:
    from cb_core.model import metrics

    extra = model_report(_model)
    v = extra.get("validation")
    if v is None or not len(v):
        return None
    calibration = extra.get("calibration")
    return {"ks": metrics.ks_table(v["pd"], v["defaulted_12m"]),
            "calibration": calibration if calibration is not None else metrics.calibration_table(v["pd"], v["defaulted_12m"]),
            "gains": metrics.gains_table(v["score"], v["defaulted_12m"], kind="score")}


def window_tables(model) -> dict[str, pd.DataFrame] | None:
    """The Model report's KS, calibration and gains tables of the test window's rows (``metrics.ks_table``,
    the report's calibration table or ``metrics.calibration_table``, ``metrics.gains_table`` by score),
    once per model; None without validation rows."""
    return _window_tables(model.version, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _stability(fingerprint: str, version: str, _book: Book, _model) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from cb_core.model import metrics

    extra = model_report(_model)
    score_psi = metrics.psi_table(pd.Series(extra.get("training_scores") or [], dtype=float),
                                  scores(_book, _model)["score"])
    sample = extra.get("training_sample")
    if sample is None:
        return score_psi, None
    features = [f for f in _model.features if f in sample.columns]
    return score_psi, metrics.psi_by_column(sample, snapshot(_book), columns=features)


def stability(book: Book, model) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The Model report's stability figures, once per book and model: the score PSI table (training
    scores vs today's book) and each feature's PSI (None without a training sample)."""
    return _stability(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _sample_points(fingerprint: str, version: str, n: int, _model, _snap) -> tuple[pd.DataFrame, pd.DataFrame]:
    sample = _snap.sample(min(n, len(_snap)), random_state=0)
    return sample, points_by_feature(_model, sample)


def sample_points(book: Book, model, n: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fixed random sample of merchants' features and their points (never the whole book)."""
    return _sample_points(book.fingerprint, model.version, n, model, snapshot(book))
