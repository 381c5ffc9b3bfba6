"""The scored book frame that cutoff analytics read, and how to build it from the engine's outputs.

A *strategy frame* has one row per merchant (index ``merchant_id``) and these columns:

==================  ========  ================================================================
column              required  meaning
==================  ========  ================================================================
``score``           yes       score points, 1–1000 (whole points from ``CreditModel.score``)
``pd``              yes       calibrated 12-month probability of default, 0–1
``exposure_krw``    yes       the limit the merchant would be offered (KRW, >= 0)
``grade``           no        the model's grade (1 best .. 10)
``apr``             no        yearly interest rate of this merchant's loan, a fraction (0.057);
                              when present it replaces ``Policy.apr`` for that merchant
``apr_pct``         no        the same in percent (5.7), as offers quote it; a frame has one of
                              ``apr`` and ``apr_pct``, not both
``broker_fee_pct``  no        the platform's fee in percent of the limit (1.0 = 1%); when
                              present it replaces ``Policy.broker_fee_pct``
``category``,       no        segments (policy overrides and inclusion tables)
``thin_file``,
``tenure_months``,
``region``
``bureau_score``    no        traditional bureau score, NaN for a thin file (swap sets)
``defaulted_12m``   no        observed outcome 0/1, NaN when unknown
``bureau_only_score`` no      the merchant's score from a model without platform data, on our
                              points scale (the positive-only policy option)
==================  ========  ================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..model import SCORE_MAX, SCORE_MIN

REQUIRED_COLUMNS: tuple[str, ...] = ("score", "pd", "exposure_krw")
SEGMENT_COLUMNS: tuple[str, ...] = ("category", "thin_file", "tenure_months", "region")
#: Segments :func:`segment_values` knows how to derive, besides any frame column.
DERIVED_SEGMENTS: dict[str, str] = {"tenure_lt_12m": "tenure_months"}

#: Default limit rule (see :func:`default_exposure`).
EXPOSURE_SHARE_OF_ANNUAL_SALES: float = 0.25
EXPOSURE_ROUND_KRW: int = 100_000
EXPOSURE_CAP_KRW: int = 50_000_000


def default_exposure(snapshot: pd.DataFrame, *, share: float = EXPOSURE_SHARE_OF_ANNUAL_SALES,
                     round_to_krw: int = EXPOSURE_ROUND_KRW, cap_krw: int = EXPOSURE_CAP_KRW) -> pd.Series:
    """The limit each merchant would be offered when no partner product says otherwise.

    Income is estimated the way Naver does it, by annualising three months of sales:
    ``annual = 12 * gmv_3m_avg_krw``. The limit is ``share`` of that (25%, i.e. three months of
    sales), rounded *down* to a multiple of ``round_to_krw`` (100,000 KRW) and capped at
    ``cap_krw`` (50,000,000 KRW, the largest seller loan in the market). A merchant without
    sales in the last three months (missing or zero average) gets 0.

    Parameters
    ----------
    snapshot : DataFrame
        Feature snapshot with ``gmv_3m_avg_krw``.
    share, round_to_krw, cap_krw
        The rule's constants.

    Returns
    -------
    Series
        ``exposure_krw`` (float KRW), index of ``snapshot``. E.g. 1,234,567 KRW a month ->
        3,700,000; 20,000,000 a month -> 50,000,000.
    """
    if "gmv_3m_avg_krw" not in snapshot:
        raise ConfigError("default_exposure needs the snapshot column gmv_3m_avg_krw", key="err_inputs_default_exposure_needs_snapshot")
    if not share >= 0 or not round_to_krw > 0 or not cap_krw >= 0:
        raise ConfigError(f"share, round_to_krw and cap_krw must be positive; got {share}, {round_to_krw}, {cap_krw}", key="err_inputs_share_round_krw_cap", share=share, round_krw=round_to_krw, cap_krw=cap_krw)
    monthly = pd.to_numeric(snapshot["gmv_3m_avg_krw"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    annual = 12.0 * np.nan_to_num(np.clip(monthly, 0, None), nan=0.0)
    # round before flooring so 0.25 * 12 * x does not lose a unit to binary fractions
    limit = np.floor(np.round(share * annual / round_to_krw, 9)) * round_to_krw
    return pd.Series(np.minimum(limit, cap_krw), index=snapshot.index, name="exposure_krw")


#: What :func:`strategy_frame` reads of the snapshot and of the merchants table.
_SNAPSHOT_COLUMNS = ("gmv_3m_avg_krw", "category", "bureau_score", "thin_file", "tenure_months")
_MERCHANT_COLUMNS = ("region", "category", "bureau_score")


def _rows_at(frame: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """``frame``'s rows at ``ids``: itself when its index is already those ids in that order."""
    return frame if frame.index.equals(ids) else frame.loc[ids]


def strategy_frame(snapshot: pd.DataFrame, scores: pd.DataFrame, merchants: pd.DataFrame,
                   outcomes: pd.DataFrame | None = None, *, exposure: pd.Series | None = None,
                   outcome_month: str | None = None) -> pd.DataFrame:
    """Assemble the strategy frame from a snapshot, its scores and the merchants table.

    Parameters
    ----------
    snapshot : DataFrame
        Feature snapshot (index ``merchant_id``) with ``gmv_3m_avg_krw``, ``tenure_months``,
        ``thin_file``, ``bureau_score``, ``category``.
    scores : DataFrame
        ``pd``, ``score``, ``grade`` per merchant (``CreditModel.score(snapshot)``); every
        merchant of ``scores`` must be in ``snapshot``. Its rows define the frame's rows.
    merchants : DataFrame
        The ``merchants`` table (``merchant_id``, ``region``; ``category`` and ``bureau_score``
        are used when the snapshot lacks them).
    outcomes : DataFrame, optional
        The ``outcomes`` table. Rows of ``snapshot_month == outcome_month`` are used; without
        ``outcome_month``, each merchant's latest outcome row: with today's scores that compares
        a present score with a past outcome, so observed rates should come from
        :func:`decision_frame` instead. Merchants without an outcome get NaN.
    exposure : Series, optional
        Limit per merchant; defaults to :func:`default_exposure` of the snapshot.
    outcome_month : str, optional
        ``YYYY-MM``.

    Returns
    -------
    DataFrame
        Index ``merchant_id``; columns ``score``, ``pd``, ``grade``, ``exposure_krw``,
        ``category``, ``thin_file`` (0/1), ``tenure_months``, ``region``, ``bureau_score``,
        ``defaulted_12m``.
    """
    for name in ("pd", "score"):
        if name not in scores:
            raise ConfigError(f"scores must have a {name} column; got {list(scores.columns)}", key="err_inputs_scores_name_column_got", name=name, columns=list(scores.columns))
    missing = scores.index.difference(snapshot.index)
    if len(missing):
        raise ConfigError(f"{len(missing)} scored merchant(s) are not in the snapshot, e.g. {list(missing[:3])}", key="err_inputs_n_missing_scored_merchant", n_missing=len(missing), missing=list(missing[:3]))
    ids = scores.index
    # only the columns read here, and rows taken only when not already the scores' (the app's 1,000,000
    # merchants: whole copies of the snapshot and the merchants table, 100,000 fresh pages, were most of it)
    snap = _rows_at(snapshot[[c for c in _SNAPSHOT_COLUMNS if c in snapshot]], ids)
    by_id = merchants[["merchant_id", *(c for c in _MERCHANT_COLUMNS if c in merchants)]]
    by_id = by_id.assign(merchant_id=by_id["merchant_id"].astype(str)).set_index("merchant_id")
    text_ids = pd.Index(ids.astype(str))
    absent = pd.Index([]) if text_ids.equals(by_id.index) else text_ids.difference(by_id.index)
    if len(absent):
        raise ConfigError(f"{len(absent)} scored merchant(s) are not in the merchants table, e.g. {list(absent[:3])}", key="err_inputs_n_absent_scored_merchant", n_absent=len(absent), absent=list(absent[:3]))
    rows = _rows_at(by_id, text_ids)

    out = pd.DataFrame(index=pd.Index(ids, name="merchant_id"))
    out["score"] = scores["score"].to_numpy()
    out["pd"] = scores["pd"].to_numpy(dtype=float)
    if "grade" in scores:
        out["grade"] = scores["grade"].to_numpy()
    limit = default_exposure(snap) if exposure is None else exposure.reindex(ids)
    if limit.isna().any():
        raise ConfigError(f"exposure is missing for {int(limit.isna().sum())} scored merchant(s)", key="err_inputs_exposure_missing_value_scored", value=int(limit.isna().sum()))
    out["exposure_krw"] = limit.to_numpy(dtype=float)
    category = snap["category"] if "category" in snap else rows["category"]
    out["category"] = category.astype(str).to_numpy()
    bureau = snap["bureau_score"] if "bureau_score" in snap else pd.to_numeric(rows["bureau_score"], errors="coerce")
    out["bureau_score"] = bureau.to_numpy(dtype=float, na_value=np.nan)
    thin = snap["thin_file"] if "thin_file" in snap else np.isnan(out["bureau_score"])
    out["thin_file"] = np.asarray(thin, dtype=float).astype(np.int64)
    out["tenure_months"] = snap["tenure_months"].to_numpy(dtype=float) if "tenure_months" in snap else np.nan
    out["region"] = rows["region"].astype(str).to_numpy()
    out["defaulted_12m"] = np.nan
    if outcomes is not None and len(outcomes):
        chosen = outcomes
        if outcome_month is not None:
            chosen = outcomes[outcomes["snapshot_month"].astype(str) == outcome_month]
        latest = (chosen.assign(merchant_id=chosen["merchant_id"].astype(str))
                  .sort_values("snapshot_month").drop_duplicates("merchant_id", keep="last")
                  .set_index("merchant_id")["defaulted_12m"])
        out["defaulted_12m"] = pd.to_numeric(latest, errors="coerce").reindex(ids.astype(str)).to_numpy(dtype=float)
    return out


#: ``frame.attrs["scored_at"]`` of a :func:`decision_frame`: what its observed rates mean.
SCORED_AT_DECISION = "score at decision: each outcome row scored as of its own snapshot month"


def decision_frame(book: Book, model: Any, *, exposure: Callable[[pd.DataFrame], pd.Series] | None = None
                   ) -> pd.DataFrame:
    """Score-at-decision strategy frame: one row per known outcome row, scored by ``model`` on the
    snapshot as of that row's own ``snapshot_month`` (what ``python -m cb_core score --as-of MONTH``
    gives), with that row's outcome.

    Observed bad rates and ranking must come from this frame: today's scores set against outcomes
    whose windows ended long ago compare a merchant's present with its past (a merchant that
    defaulted has collapsed since, and scores low today *because* of the default). The current
    book's expected figures come from today's PD (:func:`strategy_frame` of the current snapshot).

    Parameters
    ----------
    book : Book
        With an ``outcomes`` table; rows whose 12-month window has not ended are left out.
    model
        Anything with ``score(snapshot) -> DataFrame`` of ``pd``, ``score`` (``CreditModel``).
    exposure : callable, optional
        Snapshot -> limit per merchant; default :func:`default_exposure` as of each month.

    Returns
    -------
    DataFrame
        The columns of :func:`strategy_frame` plus ``snapshot_month``; index ``merchant_id`` (a
        merchant appears once per outcome row); ``attrs["scored_at"]`` is :data:`SCORED_AT_DECISION`.
    """
    from ..features import outcome_maturity, snapshot

    if book.outcomes is None or book.outcomes.empty:
        raise ConfigError("score-at-decision figures need an outcomes table; the book has none", key="err_inputs_score_decision_figures_need")
    latest = outcome_maturity(book)["latest_mature_snapshot"]
    if latest is None:
        raise ConfigError(f"no outcome is known yet in the book (last month {book.last_month})", key="err_inputs_outcome_known_yet_book", last_month=book.last_month)
    known = book.outcomes[book.outcomes["snapshot_month"].astype(str) <= latest]
    # Features are per merchant: each month's snapshot is built from the rows of the merchants with an
    # outcome that month only (the same features as the whole book's snapshot, for a fraction of the
    # rows); the merchant of every activity and bureau row is found once, not once a month.
    merchant_ids = pd.Index(book.merchants["merchant_id"].astype(str).to_numpy())
    act_code = merchant_ids.get_indexer(book.activity["merchant_id"].astype(str).to_numpy())
    history = book.bureau_history
    hist_code = None if history is None else merchant_ids.get_indexer(history["merchant_id"].astype(str).to_numpy())
    parts = []
    for month, rows in known.groupby(known["snapshot_month"].astype(str), sort=True):
        wanted = merchant_ids.isin(rows["merchant_id"].astype(str).to_numpy())
        snap = snapshot(book.merchants[wanted], book.activity[_rows_of(act_code, wanted)], month,
                        None if history is None else history[_rows_of(hist_code, wanted)])
        ids = snap.index[snap.index.isin(rows["merchant_id"].astype(str))]
        if len(ids) == 0:
            continue
        scored = model.score(snap.loc[ids])
        part = strategy_frame(snap, scored, book.merchants, rows, outcome_month=month,
                              exposure=None if exposure is None else exposure(snap.loc[ids]))
        part.insert(0, "snapshot_month", month)
        parts.append(part)
    frame = pd.concat(parts) if parts else pd.DataFrame()
    frame.attrs["scored_at"] = SCORED_AT_DECISION
    return frame


def _rows_of(codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Rows whose merchant code (-1: not a merchant of the book) is a ``wanted`` merchant."""
    return (codes >= 0) & wanted[np.maximum(codes, 0)]


@dataclass(frozen=True)
class FrameArrays:
    """The frame's columns as numpy arrays (validated once, read many times)."""

    score: np.ndarray
    pd: np.ndarray
    exposure: np.ndarray
    apr: np.ndarray | None
    fee_pct: np.ndarray | None
    has_outcome: np.ndarray
    bad: np.ndarray

    @property
    def n(self) -> int:
        return len(self.score)


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    try:
        return pd.to_numeric(frame[name]).to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise ConfigError(f"strategy frame column {name} must be numeric; got dtype {frame[name].dtype}", key="err_inputs_strategy_column_not_numeric", name=name, dtype=frame[name].dtype) from None


def _count_bad(name: str, bad: np.ndarray, rule: str, values: np.ndarray) -> None:
    if bad.any():
        raise ConfigError(f"strategy frame column {name} must be {rule}; got {int(bad.sum())} row(s) outside, "
                          f"e.g. {values[bad][:3].tolist()}", key="err_inputs_strategy_frame_column_name", name=name, rule=rule, bad=int(bad.sum()), values=values[bad][:3].tolist())


def frame_arrays(frame: pd.DataFrame) -> FrameArrays:
    """Validate a strategy frame and return its columns as arrays.

    Raises
    ------
    ConfigError
        Naming the column and how many rows break its rule.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"a strategy frame must be a pandas DataFrame; got {type(frame).__name__}", key="err_inputs_strategy_frame_pandas_dataframe", kind=type(frame).__name__)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame]
    if missing:
        raise ConfigError(f"strategy frame is missing column(s): {', '.join(missing)}", key="err_inputs_strategy_frame_missing_column", missing=', '.join(missing))
    score, pd_, exposure = (_numeric(frame, c) for c in REQUIRED_COLUMNS)
    _count_bad("score", ~((score >= SCORE_MIN) & (score <= SCORE_MAX)), "within 1–1000 and not missing", score)
    _count_bad("pd", ~((pd_ >= 0) & (pd_ <= 1)), "within 0–1 and not missing", pd_)
    _count_bad("exposure_krw", ~((exposure >= 0) & np.isfinite(exposure)), "at least 0 and not missing", exposure)
    apr = fee = None
    if "apr" in frame and "apr_pct" in frame:
        raise ConfigError("strategy frame has both apr (a fraction) and apr_pct (percent); keep one", key="err_inputs_strategy_frame_both_apr")
    if "apr" in frame:
        apr = _numeric(frame, "apr")
        _count_bad("apr", ~((apr >= 0) & (apr <= 1)), "a yearly fraction within 0–1 and not missing", apr)
    elif "apr_pct" in frame:
        pct = _numeric(frame, "apr_pct")
        _count_bad("apr_pct", ~((pct >= 0) & (pct <= 100)), "a yearly percent within 0–100 and not missing", pct)
        apr = pct / 100.0
    if "broker_fee_pct" in frame:
        fee = _numeric(frame, "broker_fee_pct")
        _count_bad("broker_fee_pct", ~((fee >= 0) & (fee <= 100)), "a percent within 0–100 and not missing", fee)
    if "defaulted_12m" in frame:
        outcome = _numeric(frame, "defaulted_12m")
        _count_bad("defaulted_12m", ~(np.isnan(outcome) | (outcome == 0) | (outcome == 1)), "0, 1 or missing", outcome)
        has_outcome = ~np.isnan(outcome)
        bad = outcome == 1
    else:
        has_outcome = np.zeros(len(frame), dtype=bool)
        bad = has_outcome
    return FrameArrays(score, pd_, exposure, apr, fee, has_outcome, bad)


def segment_values(frame: pd.DataFrame, by: str) -> pd.Series:
    """The segment of each merchant: a frame column, or ``tenure_lt_12m`` (1 when
    ``tenure_months < 12``, 0 otherwise, missing when tenure is)."""
    if by in DERIVED_SEGMENTS:
        source = DERIVED_SEGMENTS[by]
        if source not in frame:
            raise ConfigError(f"segment {by} needs the frame column {source}", key="err_inputs_segment_by_needs_frame", by=by, source=source)
        tenure = pd.to_numeric(frame[source])
        return (tenure < 12).astype("Int64").where(tenure.notna()).rename(by)
    if by not in frame:
        raise ConfigError(f"segment {by!r} is not a frame column; have {list(frame.columns)}", key="err_inputs_segment_by_frame_column", by=by, columns=list(frame.columns))
    return frame[by]
