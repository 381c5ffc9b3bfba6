"""Score stability by month since training: each month's score distribution against the training window's.

The reference is the training rows' scores (``training_scores`` saved beside a model by
``save_bundle``) or, without them, the model card's ``score_quantiles`` (its training deciles: each
of the ten bins then holds 10% of the training rows by construction). Each month after the last
month of the training window (``card["validation"]["train"]["periods"]``) up to the book's last
month, every merchant with activity up to that month (of a fixed random sample of at most
``max_merchants`` merchants, ``random_state=0``: PSI over 5,000 scores moves by about 0.002 from
sampling alone, far below the 0.10 band, and a month's snapshot costs time in proportion) is scored
on its as-of snapshot (nothing after the month is read) and compared with the reference:

    PSI = sum over bins of (actual share - expected share) * ln(actual share / expected share)

with :func:`cb_core.model.metrics.psi_table`'s bins (the reference's deciles, right-closed, a share
of 0 floored at 0.0001) and its bands: ``stable`` below 0.10, ``watch`` below 0.25, ``shift`` from 0.25.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..features import month_index, month_label, snapshot
from ..model import metrics

__all__ = ["STABILITY_COLUMNS", "psi_by_month", "score_psi_by_month", "training_end"]

STABILITY_COLUMNS: tuple[str, ...] = ("month", "months_since_training", "merchants", "psi", "band")
#: The months scored at most (the latest ones): each is a snapshot of the (sampled) book.
DEFAULT_MAX_MONTHS = 24
#: Merchants scored each month at most (a fixed random sample beyond that).
DEFAULT_MAX_MERCHANTS = 5_000


def training_end(card: Mapping[str, Any]) -> str:
    """The last month ``YYYY-MM`` of the card's training window; a ConfigError naming what is missing."""
    periods = ((card.get("validation") or {}).get("train") or {}).get("periods") or []
    months = [str(p) for p in periods]
    if not months:
        raise ConfigError("the model card has no training window months (validation.train.periods); score "
                          "stability by month since training needs a model trained on time windows", key="err_stability_model_card_training_window")
    try:
        return month_label(max(month_index(m) for m in months))
    except (ValueError, TypeError):
        raise ConfigError(f"the model card's training months are not YYYY-MM; got {months[:3]}", key="err_stability_model_card_s_training", months=months[:3]) from None


def _quantile_table(quantiles: Mapping[str, float], actual: np.ndarray) -> pd.DataFrame:
    """PSI terms against a reference given by its deciles (``{"p0": .., "p10": .., ..., "p100": ..}``)."""
    try:
        levels = sorted((float(k[1:]) / 100, float(v)) for k, v in quantiles.items())
    except (ValueError, TypeError, IndexError):
        raise ConfigError(f"score_quantiles must map pNN to a score; got {dict(quantiles)!r}", key="err_stability_score_quantiles_map_pnn", value=dict(quantiles)) from None
    if len(levels) < 3 or levels[0][0] != 0 or levels[-1][0] != 1:
        raise ConfigError(f"score_quantiles must run from p0 to p100; got {', '.join(quantiles)}", key="err_stability_score_quantiles_run_from", quantiles=', '.join(quantiles))
    interior = levels[1:-1]
    edges = np.unique([v for _, v in interior])
    # share of the reference up to each edge: the highest level with that value
    upto = np.array([max(q for q, v in interior if v == e) for e in edges])
    expected = np.diff(np.r_[0.0, upto, 1.0])
    counts = np.bincount(np.searchsorted(edges, actual, side="left"), minlength=edges.size + 1).astype(float)
    share = counts / actual.size
    e, a = np.maximum(expected, metrics.PSI_MIN_SHARE), np.maximum(share, metrics.PSI_MIN_SHARE)
    return pd.DataFrame({"expected_share": expected, "actual_share": share, "psi": (a - e) * np.log(a / e)})


def psi_by_month(scores: pd.DataFrame, reference: Any, *, trained_through: str, bins: int = 10) -> pd.DataFrame:
    """PSI of each month's scores against the reference (see the module docstring).

    Parameters
    ----------
    scores : DataFrame
        ``month`` (YYYY-MM) and ``score``, one row per merchant and month.
    reference : array-like or mapping
        The training rows' scores, or the card's ``score_quantiles`` (``p0`` .. ``p100``).
    trained_through : str
        Last month of the training window: ``months_since_training`` counts from it.

    Returns
    -------
    DataFrame
        :data:`STABILITY_COLUMNS`, one row per month, oldest first.
    """
    missing = [c for c in ("month", "score") if c not in scores]
    if missing:
        raise ConfigError(f"scores need column(s) {', '.join(missing)}", key="err_stability_scores_need_column_s", missing=', '.join(missing))
    if isinstance(reference, Mapping):
        table = lambda values: _quantile_table(reference, values)  # noqa: E731
    else:
        ref = np.asarray(reference, dtype=float)
        if ref.size == 0:
            raise ConfigError("the reference (training) scores are empty", key="err_stability_reference_training_scores_are")
        table = lambda values: metrics.psi_table(ref, values, bins)  # noqa: E731
    end = month_index(trained_through)
    rows = []
    for month, group in scores.groupby(scores["month"].astype(str), sort=True):
        value = float(table(group["score"].to_numpy(dtype=float))["psi"].sum())
        rows.append({"month": month, "months_since_training": int(month_index(month) - end),
                     "merchants": len(group), "psi": value, "band": metrics.psi_band(value)})
    return pd.DataFrame(rows, columns=list(STABILITY_COLUMNS)).astype(
        {"months_since_training": "int64", "merchants": "int64", "psi": "float64"})


def _sampled(frame: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame | None:
    return None if frame is None else frame[frame["merchant_id"].isin(ids)]


def score_psi_by_month(book: Book, model, training_scores: Any = None, *, max_months: int = DEFAULT_MAX_MONTHS,
                       max_merchants: int = DEFAULT_MAX_MERCHANTS) -> pd.DataFrame:
    """Score PSI of every month after the model's training window, up to the book's last month.

    Parameters
    ----------
    book : Book
    model : CreditModel
        Its card gives the training window and, without ``training_scores``, the reference deciles.
    training_scores : array-like, optional
        The training rows' scores (``report.json`` beside the model); preferred over the card's deciles.
    max_months : int
        Score at most this many months (the latest).
    max_merchants : int
        Score at most this many merchants a month: ``book.merchants["merchant_id"].sample(max_merchants,
        random_state=0)`` when the book has more.

    Returns
    -------
    DataFrame
        :data:`STABILITY_COLUMNS`; empty when the book ends inside the training window.
    """
    for name, value in (("max_months", max_months), ("max_merchants", max_merchants)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1; got {value!r}", key="err_stability_name_whole_number_least", name=name, value=value)
    end = training_end(model.card)
    reference = training_scores if training_scores is not None and len(training_scores) else \
        model.card.get("score_quantiles")
    if reference is None:
        raise ConfigError("no training score reference: the model folder has no training scores and the card "
                          "no score_quantiles", key="err_stability_training_score_reference_model")
    first, last = month_index(end) + 1, month_index(book.last_month)
    months = [month_label(i) for i in range(max(first, last - max_months + 1), last + 1)]
    ids = book.merchants["merchant_id"]
    ids = pd.Index(ids.sample(max_merchants, random_state=0) if len(ids) > max_merchants else ids)
    merchants, activity = _sampled(book.merchants, ids), _sampled(book.activity, ids)
    bureau = _sampled(book.bureau_history, ids)
    parts = []
    for month in months:
        snap = snapshot(merchants, activity, month, bureau)
        if len(snap):
            parts.append(pd.DataFrame({"month": month, "score": model.score(snap)["score"].to_numpy(dtype=float)}))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"month": [], "score": []})
    return psi_by_month(scores, reference, trained_through=end)
