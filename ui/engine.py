"""Engine objects cached by version, not by object: model by version, frames by fingerprint."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core import workspace
from cb_core.data.book import Book
from ui.common import current_book


@st.cache_resource(show_spinner=False, max_entries=2)
def _model(version: str):
    # The exact explainer (cb_core.explain.fastshap, 1.6 s at 100,000 merchants with its numba import) is
    # built on the first explanation and kept per model version: the pages that do not explain
    # (Portfolio, the landing page) do not wait for it.
    return workspace.current_model()


def current_model():
    """The model in use (cached by its version), or None."""
    folder = workspace.current_model_dir()
    return None if folder is None else _model(folder.name)


@st.cache_resource(show_spinner=False, max_entries=2)
def _snapshot(fingerprint: str, _book: Book) -> pd.DataFrame:
    return workspace.book_snapshot(_book)


@st.cache_resource(show_spinner=False, max_entries=2)
def _scores(fingerprint: str, version: str, _book: Book, _model) -> pd.DataFrame:
    return workspace.book_scores(_book, _model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _bands(fingerprint: str, _book: Book) -> pd.DataFrame:
    return workspace.book_category_bands(_book)


@st.cache_resource(show_spinner=False, max_entries=8)
def _reference(fingerprint: str, version: str, cutoff: float, band: float, _model, _snap, _scores) -> pd.Series:
    from cb_core.explain.review import cutoff_reference

    return cutoff_reference(_model, _snap, _scores, cutoff, band)


def book_and_model() -> tuple[Book | None, object | None]:
    return current_book(), current_model()


def require_book_and_model() -> tuple[Book, object]:
    """The book and model in use; without them, say where to load a book and stop the page."""
    from cb_core.data.catalog import feature_catalog
    from cb_core.errors import ModelError
    from cb_core.model._inputs import check_book_features
    from ui.common import tr

    try:  # an unreadable model, or one from another feature set: say so, change nothing
        book, model = book_and_model()
        if model is not None:
            check_book_features(model.card["features"], feature_catalog(), str(workspace.current_model_dir()))
    except ModelError as exc:
        st.error(tr("error_model_unusable"), icon="⚠️")
        st.code(str(exc), language=None, wrap_lines=True)
        st.stop()
    if book is None or model is None:
        st.info(tr("review_no_model"))
        st.stop()
    return book, model


def snapshot(book: Book) -> pd.DataFrame:
    return _snapshot(book.fingerprint, book)


def scores(book: Book, model) -> pd.DataFrame:
    return _scores(book.fingerprint, model.version, book, model)


def category_bands(book: Book) -> pd.DataFrame:
    return _bands(book.fingerprint, book)


def reference(book: Book, model, cutoff: float, band: float) -> pd.Series:
    return _reference(book.fingerprint, model.version, float(cutoff), float(band), model,
                      snapshot(book), scores(book, model))


@st.cache_resource(show_spinner=False, max_entries=2)
def _sample_points(fingerprint: str, version: str, n: int, _model, _snap) -> tuple[pd.DataFrame, pd.DataFrame]:
    from cb_core.explain.points import points_by_feature

    sample = _snap.sample(min(n, len(_snap)), random_state=0)
    return sample, points_by_feature(_model, sample)


def sample_points(book: Book, model, n: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fixed random sample of merchants' features and their points (never the whole book)."""
    return _sample_points(book.fingerprint, model.version, n, model, snapshot(book))


@st.cache_resource(show_spinner=False, max_entries=2)
def _report(version: str) -> dict:
    folder = workspace.current_model_dir()
    return workspace.model_report_data(folder)


def model_report(model) -> dict:
    return _report(model.version)


@st.cache_resource(show_spinner=False, max_entries=2)
def _strategy_frame(fingerprint: str, version: str, _book: Book, _model) -> pd.DataFrame:
    from cb_core.strategy import strategy_frame

    return strategy_frame(snapshot(_book), scores(_book, _model), _book.merchants, _book.outcomes)


def strategy_frame(book: Book, model) -> pd.DataFrame:
    """One row per merchant: score, PD, grade, exposure, segments, outcome (cached per book and model)."""
    return _strategy_frame(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _curves(fingerprint: str, version: str, _frame: pd.DataFrame):
    from cb_core.strategy import CutoffCurves

    return CutoffCurves.precompute(_frame)


def cutoff_curves(book: Book, model):
    """Sorted scores and cumulative sums, precomputed once per book and model."""
    return _curves(book.fingerprint, model.version, strategy_frame(book, model))


@st.cache_resource(show_spinner=False, max_entries=2)
def _platform_scores(fingerprint: str, version: str, _book: Book, _model):
    return workspace.platform_only_scores(_book, _model)


def platform_only_scores(book: Book, model):
    """Stage-2 (platform data only) scores, or None when the model has no platform-only sibling."""
    return _platform_scores(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(url: str):
    from cb_core.store import Store

    return Store(url)


def store():
    """The app database (one Store per URL per server process; it reconnects by itself)."""
    from cb_core.store import default_url

    return _store(default_url())


@st.cache_resource(show_spinner=False, max_entries=2)
def _monotone(fingerprint: str, version: str, _model, _snap) -> pd.DataFrame:
    from cb_core.strategy import check_monotone

    return check_monotone(_model, _snap, n_rows=200, grid=15)


def monotone_violations(book: Book, model) -> pd.DataFrame:
    """Features whose score moves against their catalog direction on sample merchants (empty = none)."""
    return _monotone(book.fingerprint, model.version, model, snapshot(book))
