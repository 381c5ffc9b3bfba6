"""Validation windows: the real order of periods, the three disjoint out-of-time windows (train,
early-stop/calibrate, test) and the purge that keeps one merchant's default from labelling both a
fitting row and a test row.

Why three windows: a window that chose the number of trees and fitted the calibration has been
fitted to; metrics measured on it flatter the model. The test window touches neither.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

#: Default share of rows in the test window and in the early-stop/calibration window.
TEST_SHARE: float = 0.2
VALID_SHARE: float = 0.2


def period_order(time: Any) -> tuple[pd.Series, str]:
    """Sortable keys of ``time`` in the periods' real order, and how they were read.

    Numbers (or text that is all numbers) sort as numbers (period 10 after period 9); ``YYYY-MM``
    months and dates sort as dates; anything else as text.

    Returns
    -------
    (Series of keys, kind) : kind is ``"number"``, ``"date"`` or ``"text"``.
    """
    t = pd.Series(np.asarray(time, dtype=object))
    if t.isna().any():
        raise ConfigError(f"time must not be missing; got {int(t.isna().sum())} missing", key="err_windows_time_missing_got_value", value=int(t.isna().sum()))
    if len(t) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in t):
        return t.astype(float), "number"
    text = t.astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all():
        return numbers.astype(float), "number"
    months = text.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
    if months.all():
        return text, "date"  # YYYY-MM sorts as text in its real order
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    if dates.notna().all():
        return pd.Series(dates.to_numpy().astype("datetime64[ns]").astype(np.int64)), "date"
    return text, "text"


def sorted_periods(time: Any) -> list[Any]:
    """The distinct periods of ``time`` in their real order (see :func:`period_order`)."""
    keys, _ = period_order(time)
    t = pd.Series(np.asarray(time, dtype=object))
    first = pd.DataFrame({"key": keys.to_numpy(), "label": t.to_numpy()}).drop_duplicates("key")
    return first.sort_values("key", kind="mergesort")["label"].tolist()


@dataclass(frozen=True)
class TimeWindows:
    """Three disjoint windows of whole periods, earliest first: ``train`` fits the trees, ``valid``
    early-stops and calibrates, ``test`` only reports. ``purged`` rows (in train or valid) are left
    out of the train window because their merchant's outcome window overlaps a test outcome window."""

    train_mask: np.ndarray
    valid_mask: np.ndarray
    test_mask: np.ndarray
    train_periods: list[Any]
    valid_periods: list[Any]
    test_periods: list[Any]
    order: str = "text"
    purged_mask: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _take_latest(counts: pd.Series, share: float, n_rows: int, keep: int) -> int:
    """How many of the latest periods hold closest to ``share`` of ``n_rows`` (at least 1, leaving
    at least ``keep`` earlier periods)."""
    from_latest = counts.iloc[::-1].cumsum().to_numpy() / n_rows
    usable = from_latest[: len(counts) - keep]
    return int(np.argmin(np.abs(usable - share))) + 1


def time_windows(time: Any, test_share: float = TEST_SHARE, valid_share: float = VALID_SHARE) -> TimeWindows:
    """Split rows by period into train < valid < test (never shuffled, whole periods each).

    The latest periods holding closest to ``test_share`` of the rows are the test window; of the
    periods before it, the latest holding closest to ``valid_share`` of all rows early-stop and
    calibrate; the rest train. Needs at least three periods.
    """
    for name, share in (("test_share", test_share), ("valid_share", valid_share)):
        if not 0 < share < 1:
            raise ConfigError(f"{name} must be between 0 and 1; got {share}", key="err_windows_name_between_got_share", name=name, share=share)
    if test_share + valid_share >= 1:
        raise ConfigError(f"test_share + valid_share must be below 1; got {test_share + valid_share}", key="err_windows_test_share_valid_share", test_share=test_share + valid_share)
    keys, order = period_order(time)
    counts = keys.value_counts().sort_index()
    if len(counts) < 3:
        raise ConfigError("out-of-time validation needs at least 3 periods in time (train, early-stop/calibrate, "
                          f"test); got {len(counts)}", key="err_windows_out_time_validation_needs", n_counts=len(counts))
    n = len(keys)
    k_test = _take_latest(counts, test_share, n, keep=2)
    rest = counts.iloc[:-k_test]
    k_valid = _take_latest(rest, valid_share, n, keep=1)
    test_keys = counts.index[-k_test:]
    valid_keys = rest.index[-k_valid:]
    test_mask = keys.isin(test_keys).to_numpy()
    valid_mask = keys.isin(valid_keys).to_numpy()
    train_mask = ~(test_mask | valid_mask)
    labels = sorted_periods(time)
    train_p, valid_p = labels[: len(rest) - k_valid], labels[len(rest) - k_valid: len(rest)]
    return TimeWindows(train_mask, valid_mask, test_mask, train_p, valid_p, labels[len(rest):], order,
                       np.zeros(n, dtype=bool))


def purge(windows: TimeWindows, groups: Any | None, time: Any, horizon_months: int | None) -> TimeWindows:
    """Leave out of the train window the rows whose merchant (``groups``) also has a test row and
    whose outcome window overlaps that test row's: then one merchant's default cannot label both
    a row the trees are fitted on and a test row. The early-stopping/calibration window keeps its
    rows: it fits three numbers (tree count, Platt slope and intercept), which cannot memorise a
    merchant, and halving it would make the calibration noisy.

    With ``horizon_months`` (the outcome window, e.g. 12 for ``defaulted_12m``) and ``YYYY-MM``
    periods, a fitting row overlaps when its snapshot is less than ``horizon_months`` months before
    the merchant's first test snapshot; without it every fitting row of a test merchant counts.
    """
    if groups is None:
        return windows
    g = pd.Series(np.asarray(groups, dtype=object)).astype(str)
    test_ids = set(g[windows.test_mask])
    shared = g.isin(test_ids).to_numpy() & ~windows.test_mask
    if horizon_months is not None and windows.order == "date":
        month = _month_number(pd.Series(np.asarray(time, dtype=object)).astype(str))
        first_test = pd.Series(month[windows.test_mask], index=g[windows.test_mask]).groupby(level=0).min()
        their_first_test = g.map(first_test).to_numpy(dtype=float)
        shared &= (their_first_test - month) < horizon_months
    purged = shared & windows.train_mask
    return TimeWindows(windows.train_mask & ~purged, windows.valid_mask, windows.test_mask,
                       windows.train_periods, windows.valid_periods, windows.test_periods, windows.order, purged)


def _month_number(text: pd.Series) -> np.ndarray:
    return (text.str.slice(0, 4).astype(int) * 12 + text.str.slice(5, 7).astype(int) - 1).to_numpy(dtype=float)


def outcome_gap(windows: TimeWindows, horizon_months: int | None) -> dict[str, Any]:
    """How the latest fitting outcome window sits against the first test snapshot: months of
    overlap (0 = each test outcome window starts after every fitting one ends)."""
    if horizon_months is None or windows.order != "date" or not all(
            len(str(p)) == 7 for p in windows.valid_periods + windows.test_periods):
        return {"horizon_months": horizon_months, "overlap_months": None}
    last_fit = _month_number(pd.Series([str(windows.valid_periods[-1])]))[0]
    first_test = _month_number(pd.Series([str(windows.test_periods[0])]))[0]
    return {"horizon_months": horizon_months,
            "overlap_months": int(max(0, last_fit + horizon_months - first_test))}
