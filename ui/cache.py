"""Every ``st.cache_*`` of the app: engine objects cached by version, not by object.

The store per database URL; the book by its fingerprint; the model by its version; frames by
``(book fingerprint, model version)``; the reason-code reference also by the policy version and
cutoff it is for; catalogs by their version; partner pools by book, model, catalog, partner and LGD;
a partner's booked book by book, partner and definition.
Arguments starting with ``_`` are not hashed (Streamlit's rule): the key is the version before them.

What is *not* cached here: which policy version is in force (``ui.policy``). Any process may publish
(another server, the command line), so it is read from the store on every page run.
"""
from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from cb_core import workspace
from cb_core.data import Book
from cb_core.explain import cutoff_reference
from cb_core.loans import blocked_merchants, sales_strips, watchlist
from cb_core.offers import PRODUCTS_FILE, load_products, recourse as find_recourse, validate_products
from cb_core.loans import backtest, cohort_metrics, roll_rates, vintages
from cb_core.reports import (PartnerBook, PartnerPool, ValidationTables, partner_book as make_partner_book,
                             partner_pool as make_partner_pool, pool_input)
from cb_core.reports import validation_tables as make_validation_tables
from cb_core.store import Store, default_url
from cb_core.errors import ConfigError
from cb_core.strategy import CutoffCurves, PolicyInForce, TuningBook, bureau_only_scores, check_monotone

# ------------------------------------------------------------------ the store


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(url: str):
    return Store(url)


def store():
    """The app database (one Store per URL per server process; it reconnects by itself)."""
    return _store(default_url())


# ------------------------------------------------------------------ book and model


@st.cache_resource(show_spinner=False, max_entries=2)
def _book_by_fingerprint(fingerprint: str) -> Book | None:
    return workspace.current_book()


def current_book() -> Book | None:
    """The book in use, cached by its fingerprint (reloaded only when another is installed)."""
    fingerprint = workspace.current_fingerprint()
    return None if fingerprint is None else _book_by_fingerprint(fingerprint)


@st.cache_resource(show_spinner=False, max_entries=2)
def _merchant_ids(fingerprint: str, _book: Book):
    return workspace.merchant_ids(_book)


def known_merchants():
    """The ids of the book in use (an id typed by a user is checked against them); empty without a book."""
    book = current_book()
    return () if book is None else _merchant_ids(book.fingerprint, book)


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


class MerchantSearch:
    """:func:`cb_core.explain.find_merchants` over a book's merchants, with the work done once per book:
    the ids upper-cased and sorted (an id prefix is a binary search), the names lower-cased in one
    Arrow array (a substring test is one vectorised pass). Same rows in the same order as
    ``find_merchants``; at 1,000,000 merchants a search costs milliseconds instead of a second."""

    def __init__(self, merchants: pd.DataFrame) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self._merchants = merchants
        upper = merchants["merchant_id"].astype(str).str.upper().to_numpy(dtype=object)
        self._order = np.argsort(upper, kind="stable")
        self._sorted = upper[self._order].astype(str)
        self._names = pc.utf8_lower(pa.array(merchants["business_name"].astype(str).to_numpy(dtype=object),
                                             type=pa.string()))

    def find(self, query: str, limit: int = 50) -> pd.DataFrame:
        import numpy as np
        import pyarrow.compute as pc

        columns = ["merchant_id", "business_name", "category", "region"]
        q = (query or "").strip()
        if not q:
            return self._merchants.iloc[:0][columns]
        hit = np.array(pc.match_substring(self._names, q.lower()).to_numpy(zero_copy_only=False), dtype=bool)
        prefix = q.upper()
        lo = np.searchsorted(self._sorted, prefix, side="left")
        hi = np.searchsorted(self._sorted, prefix + "\U0010ffff", side="left")  # every id starting with it
        hit[self._order[lo:hi]] = True
        return self._merchants.iloc[np.flatnonzero(hit)[:limit]][columns]


@st.cache_resource(show_spinner=False, max_entries=2)
def _search(fingerprint: str, _book: Book) -> MerchantSearch:
    return MerchantSearch(_book.merchants)


def find_merchants(book: Book, query: str, limit: int = 50) -> pd.DataFrame:
    """Merchants whose id starts with ``query`` or whose business name contains it (case-insensitive),
    in book order, at most ``limit``: ``cb_core.explain.find_merchants`` on an index built once per book."""
    return _search(book.fingerprint, book).find(query, limit)


def book_and_model() -> tuple[Book | None, object | None]:
    return current_book(), current_model()


@st.cache_resource(show_spinner=False, max_entries=2)
def _report(version: str) -> dict:
    return workspace.model_report_data(workspace.current_model_dir())


def model_report(model) -> dict:
    """What the Model report shows beyond the card (challenger, validation rows, training sample)."""
    return _report(model.version)


# ------------------------------------------------------------------ frames per book and model


@st.cache_resource(show_spinner=False, max_entries=2)
def _snapshot(fingerprint: str, _book: Book) -> pd.DataFrame:
    return workspace.book_snapshot(_book)


def snapshot(book: Book) -> pd.DataFrame:
    """The book's as-of feature snapshot, one row per merchant."""
    return _snapshot(book.fingerprint, book)


@st.cache_resource(show_spinner=False, max_entries=2)
def _scores(fingerprint: str, version: str, _book: Book, _model) -> pd.DataFrame:
    return workspace.book_scores(_book, _model)


def scores(book: Book, model) -> pd.DataFrame:
    """Score, grade and PD of every merchant of the book."""
    return _scores(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _bands(fingerprint: str, _book: Book) -> pd.DataFrame:
    return workspace.book_category_bands(_book)


def category_bands(book: Book) -> pd.DataFrame:
    """Each category's p25/median/p75 of the trend metrics, month by month."""
    return _bands(book.fingerprint, book)


@st.cache_resource(show_spinner=False, max_entries=8)
def _reference(fingerprint: str, version: str, policy_version: int | None, cutoff: float, band: float, _model,
               _snap, _scores) -> pd.Series:
    return cutoff_reference(_model, _snap, _scores, cutoff, band)


def reference(book: Book, model, in_force: PolicyInForce, band: float) -> pd.Series:
    """Mean points of the merchants just above the approve cutoff of the policy in force (the reason
    codes' reference), cached by book, model, policy version, cutoff and band."""
    return _reference(book.fingerprint, model.version, in_force.version, float(in_force.policy.approve_cutoff),
                      float(band), model, snapshot(book), scores(book, model))


@st.cache_resource(show_spinner=False, max_entries=2)
def _strategy_frame(fingerprint: str, version: str, _book: Book, _model) -> pd.DataFrame:
    # from the cache folder when it is there: then neither the snapshot nor the scores are read
    return workspace.book_strategy_frame(_book, _model, lambda: snapshot(_book), lambda: scores(_book, _model))


def strategy_frame(book: Book, model) -> pd.DataFrame:
    """Today's book: one row per merchant with today's score, PD, grade, exposure and segments, and no
    outcome (observed rates come from :func:`decision_frame`); cached per book and model."""
    return _strategy_frame(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _decision_frame(fingerprint: str, version: str, _book: Book, _model) -> pd.DataFrame | None:
    if _book.outcomes is None or _book.outcomes.empty:
        return None
    try:
        return workspace.book_decision_frame(_book, _model)
    except ConfigError:  # no outcome has matured yet: nothing observed to show
        return None


def decision_frame(book: Book, model) -> pd.DataFrame | None:
    """Score at decision: each known outcome row scored as of its own snapshot month (None when the
    book has no mature outcome); where every observed bad rate comes from."""
    return _decision_frame(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _decision_curves(fingerprint: str, version: str, _frame: pd.DataFrame | None):
    return None if _frame is None else CutoffCurves.precompute(_frame)


def decision_curves(book: Book, model):
    """:class:`CutoffCurves` of the score-at-decision frame (None without outcomes)."""
    return _decision_curves(book.fingerprint, model.version, decision_frame(book, model))


@st.cache_resource(show_spinner=False, max_entries=2)
def _curves(fingerprint: str, version: str, _frame: pd.DataFrame):
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
def _bureau_points(fingerprint: str, version: str, which: str, _frame: pd.DataFrame, _fit_on, _scale) -> pd.Series:
    return bureau_only_scores(_frame, _scale, fit_on=_fit_on)


def bureau_points(book: Book, model) -> pd.Series:
    """The bureau-only score of today's book on our points scale, its mapping fitted on the bureau
    scores merchants had at decision (a fitted model: once per book and model, not per slider move)."""
    return _bureau_points(book.fingerprint, model.version, "today", strategy_frame(book, model),
                          decision_frame(book, model), model.scale)


def bureau_points_at_decision(book: Book, model) -> pd.Series | None:
    """The same bureau-only mapping applied to the score-at-decision frame (None without outcomes)."""
    seen = decision_frame(book, model)
    if seen is None:
        return None
    return _bureau_points(book.fingerprint, model.version, "decision", seen, seen, model.scale)


@st.cache_resource(show_spinner=False, max_entries=2)
def _tuning_book(fingerprint: str, version: str, _book: Book, _model) -> TuningBook:
    return TuningBook.precompute(strategy_frame(_book, _model), decision_frame(_book, _model),
                                 bureau_today=bureau_points(_book, _model),
                                 bureau_at_decision=bureau_points_at_decision(_book, _model),
                                 platform_today=platform_only_scores(_book, _model),
                                 curves=cutoff_curves(_book, _model), seen_curves=decision_curves(_book, _model))


def tuning_book(book: Book, model) -> TuningBook:
    """Cutoff tuning's :class:`TuningBook`: today's book and the score-at-decision frame prepared once
    per book and model (with the bureau-only and platform-only scores), so every figure of a draft
    follows each slider move within milliseconds."""
    return _tuning_book(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _monotone(fingerprint: str, version: str, _model, _snap) -> pd.DataFrame:
    return check_monotone(_model, _snap, n_rows=200, grid=15)


def monotone_violations(book: Book, model) -> pd.DataFrame:
    """Features whose score moves against their catalog direction on sample merchants (empty = none)."""
    return _monotone(book.fingerprint, model.version, model, snapshot(book))


@st.cache_resource(show_spinner=False, max_entries=2)
def _watch(fingerprint: str, version: str, _book: Book, _model) -> tuple[pd.DataFrame, pd.Series]:
    flagged = watchlist(_book, _model)
    return flagged, sales_strips(_book, flagged["merchant_id"].unique(), months=12)


def watch(book: Book, model) -> tuple[pd.DataFrame, pd.Series]:
    """The watch-list of the book's open loans (re-scored with the model) and each flagged merchant's
    last 12 months of sales, once per book and model."""
    return _watch(book.fingerprint, model.version, book, model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _loans_as_of(fingerprint: str, _book: Book) -> str | None:
    if _book.loan_months is None or _book.loan_months.empty:
        return None
    return str(_book.loan_months["month"].astype(str).max())  # YYYY-MM sorts as text


def loans_as_of(book: Book) -> str | None:
    """The last month of the booked loans' monthly rows (None without loans), once per book: at
    1,000,000 merchants those rows are millions, not something to read on every page run."""
    return _loans_as_of(book.fingerprint, book)


# ------------------------------------------------------------------ the product catalog and partner pools


@st.cache_data(show_spinner=False, max_entries=4)
def _shipped(path: str, mtime_ns: int) -> pd.DataFrame:
    return load_products(path)


def shipped_catalog() -> pd.DataFrame:
    """The shipped ``data/loan_products.json``, validated (cached until the file changes)."""
    return _shipped(str(PRODUCTS_FILE), PRODUCTS_FILE.stat().st_mtime_ns)


@st.cache_data(show_spinner=False, max_entries=16)
def _saved(url: str, version: int, _records: list[dict[str, Any]]) -> pd.DataFrame:
    return validate_products(_records)


def saved_catalog(version: int, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Saved catalog ``version`` (its ``records``), validated once per database and version."""
    return _saved(store().url, version, records)


@st.cache_resource(show_spinner=False, max_entries=2)
def _pool_input(fingerprint: str, model_version: str, _book, _model) -> pd.DataFrame:
    return pool_input(strategy_frame(_book, _model), snapshot(_book))


@st.cache_data(show_spinner=False, max_entries=16)
def _pool(fingerprint: str, model_version: str, catalog_key: str, partner: str, lgd: float, blocked_key: str,
          _frame: pd.DataFrame, _products: pd.DataFrame, _blocked: pd.DataFrame) -> PartnerPool:
    return make_partner_pool(_frame, _products, partner, lgd=lgd, blocked=_blocked)


def partner_pool(book: Book, model, catalog_key: str, products: pd.DataFrame, partner: str,
                 lgd: float, blocked: pd.DataFrame) -> PartnerPool:
    """``partner``'s pool under the book, model and catalog (``catalog_key`` names its version),
    without the ``blocked`` merchants (:func:`blocked`)."""
    frame = _pool_input(book.fingerprint, model.version, book, model)
    key = hashlib.sha256("\n".join(blocked["merchant_id"]).encode()).hexdigest()
    return _pool(book.fingerprint, model.version, catalog_key, partner, float(lgd), key, frame, products, blocked)


@st.cache_data(show_spinner=False, max_entries=8)
def _blocked(fingerprint: str, frozen: tuple[str, ...], _book: Book) -> pd.DataFrame:
    return blocked_merchants(_book, frozen)


def blocked(book: Book, frozen: tuple[str, ...]) -> pd.DataFrame:
    """Merchants who get no new offer (an overdue loan, or ``frozen`` in the store) and why; per book
    and frozen list (the store's list is read on every run: a freeze applies at once)."""
    return _blocked(book.fingerprint, tuple(sorted(frozen)), book)


@st.cache_data(show_spinner=False, max_entries=16)
def _partner_book(fingerprint: str, partner: str, bad: str, _book: Book) -> PartnerBook:
    return make_partner_book(_book, partner, bad=bad)


def partner_book(book: Book, partner: str, bad: str) -> PartnerBook:
    """``partner``'s booked loans summed up under definition ``bad`` (cached by book, partner, definition)."""
    return _partner_book(book.fingerprint, partner, bad, book)


@st.cache_data(show_spinner=False, max_entries=64)
def _recourse(model_version: str, merchant_id: str, product_id: str, catalog_key: str, score: int, _model,
              _values: pd.Series, _product: pd.Series, _merchant: pd.Series) -> pd.DataFrame:
    return find_recourse(_model, _values, _product, _merchant)


def recourse(model, merchant: pd.Series, values: pd.Series, product: pd.Series, catalog_key: str) -> pd.DataFrame:
    """The smallest changes that make ``merchant`` eligible for ``product`` (cached per model, merchant,
    product, catalog version and score)."""
    return _recourse(model.version, str(merchant.name), str(product["product_id"]), catalog_key,
                     int(merchant["score"]), model, values, product, merchant)


# ------------------------------------------------------------------ the booked book (loans)


@st.cache_resource(show_spinner=False, max_entries=16)
def _vintages(fingerprint: str, bad: str, by: str | None, _book: Book) -> pd.DataFrame:
    return vintages(_book, by=by, bad=bad)


def book_vintages(book: Book, bad: str, by: str | None) -> pd.DataFrame:
    """Vintages of the booked loans under definition ``bad``, grouped ``by`` (cached per book)."""
    return _vintages(book.fingerprint, bad, by, book)


@st.cache_resource(show_spinner=False, max_entries=2)
def _loan_views(fingerprint: str, _book: Book) -> dict[str, pd.DataFrame]:
    return {"rolls": roll_rates(_book), "backtest": backtest(_book), "early": cohort_metrics(_book)}


def loan_views(book: Book) -> dict[str, pd.DataFrame]:
    """Roll rates, the backtest by grade and the early reads of the booked loans (cached per book:
    they read the PD recorded at booking, not the model in use)."""
    return _loan_views(book.fingerprint, book)


@st.cache_resource(show_spinner=False, max_entries=2)
def _validation(fingerprint: str, version: str, _book: Book, _model) -> ValidationTables:
    return make_validation_tables(_book, _model, model_report(_model))


def validation_tables(book: Book, model) -> ValidationTables:
    """Every figure of the validation pack, language-neutral (cached per book and model version)."""
    return _validation(book.fingerprint, model.version, book, model)

