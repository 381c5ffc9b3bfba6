"""Training internals of :func:`cb_core.model.credit_model.train_model`: Platt calibration, booster
fitting on three disjoint out-of-time windows or by nested cross-validation, and metric helpers.

Early stopping and calibration never see the rows the metrics are measured on: out of time they use
the window between training and test; without time each outer fold early-stops and calibrates on a
part of its own training rows (nested cross-validation)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from . import metrics as M
from ..errors import ConfigError, ModelError
from ._inputs import _aligned, _frame, booster_names
from .scale import pd_from_logit
from ._windows import TimeWindows, outcome_gap, purge, time_windows


# ------------------------------------------------------------------ split and calibration

@dataclass(frozen=True)
class TimeSplit:
    """Two-window out-of-time split (the Dask trainer's): the latest periods form the validation
    window. :func:`cb_core.model._windows.time_windows` gives the three windows ``train_model`` uses."""

    train_mask: np.ndarray
    valid_mask: np.ndarray
    train_periods: list[Any]
    valid_periods: list[Any]


def out_of_time_split(time: Any, valid_share: float = 0.3) -> TimeSplit:
    """Split rows by period: the latest whole periods holding closest to ``valid_share`` of the
    rows validate, everything earlier trains. Never shuffles.

    Parameters
    ----------
    time : array-like or Series of sortable periods (e.g. "YYYY-MM")
    valid_share : float in (0, 1)

    Returns
    -------
    TimeSplit
    """
    if not 0 < valid_share < 1:
        raise ConfigError(f"valid_share must be between 0 and 1; got {valid_share}", key="err_training_valid_share_between_got", valid_share=valid_share)
    t = pd.Series(np.asarray(time))
    if t.isna().any():
        raise ConfigError(f"time must not be missing; got {int(t.isna().sum())} missing", key="err_training_time_missing_got_value", value=int(t.isna().sum()))
    counts = t.value_counts().sort_index()
    if len(counts) < 2:
        raise ConfigError(f"out-of-time validation needs at least 2 periods in time; got {len(counts)}", key="err_training_out_time_validation_needs", n_counts=len(counts))
    from_latest = counts.iloc[::-1].cumsum().to_numpy() / len(t)
    k = int(np.argmin(np.abs(from_latest[:-1] - valid_share))) + 1  # keep at least one training period
    valid_periods = counts.index[-k:].tolist()
    valid_mask = t.isin(valid_periods).to_numpy()
    return TimeSplit(~valid_mask, valid_mask, counts.index[:-k].tolist(), valid_periods)


def fit_platt(margin: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Logistic calibration linear in the margin: ``logit(PD) = a * margin + b`` (maximum
    likelihood, Newton steps with step halving).

    Returns
    -------
    (a, b) : tuple of float
    """
    m = np.asarray(margin, dtype=float)
    t = np.asarray(y, dtype=float)
    design = np.column_stack([m, np.ones_like(m)])

    def loss(w: np.ndarray) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0.0, z) - t * z))

    w = np.array([1.0, 0.0])
    current = loss(w)
    for _ in range(max_iter):
        p = pd_from_logit(design @ w)
        grad = design.T @ (p - t)
        hess = design.T @ (design * (p * (1 - p))[:, None]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        size = 1.0
        while size > 1e-10:
            candidate = w - size * step
            new = loss(candidate)
            if new <= current + 1e-12:
                break
            size /= 2
        w, improvement, current = candidate, current - new, new
        if np.max(np.abs(size * step)) < 1e-10 or improvement < 1e-12:
            break
    return float(w[0]), float(w[1])


# ------------------------------------------------------------------ training

def _train_booster(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], matrix: np.ndarray,
                   target: np.ndarray, fit_rows: np.ndarray, stop_rows: np.ndarray | None, num_boost_round: int,
                   early_stopping_rounds: int) -> tuple[lgb.Booster, int]:
    """A booster fitted on ``fit_rows`` (indices), early-stopped on ``stop_rows`` when given.

    Every fit goes through here, so a test can watch which rows ever early-stop a model."""
    names = booster_names(features)
    cat = [n for n, f in zip(names, features) if f in levels]

    def frame(rows: np.ndarray) -> pd.DataFrame:
        return _frame(matrix[rows], features, levels).set_axis(names, axis=1)

    dtrain = lgb.Dataset(frame(fit_rows), label=target[fit_rows],
                         categorical_feature=cat or "auto", params=params, free_raw_data=True)
    if stop_rows is None:
        booster = lgb.train(params, dtrain, num_boost_round=num_boost_round)
        return booster, booster.current_iteration()
    dvalid = lgb.Dataset(frame(stop_rows), label=target[stop_rows], reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=num_boost_round, valid_sets=[dvalid],
                        valid_names=["valid"],
                        callbacks=[lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)])
    best = booster.best_iteration or booster.current_iteration()
    return booster, int(best)


@dataclass
class _Fit:
    booster: lgb.Booster
    best: int
    a: float
    b: float
    metrics: dict[str, Any]
    train_rows: np.ndarray   # mask of the rows the kept booster was fitted on
    validation: dict[str, Any]
    test_rows: np.ndarray    # mask of the rows the metrics were measured on
    test_pd: np.ndarray      # calibrated PD of those rows, in row order
    params: dict[str, Any] | None = None  # the chosen model's parameters, when a choice was made
    calibrated_on: str = ""  # what the kept model's calibration was fitted on, when not the default


def _both_classes(name: str, mask: np.ndarray, target: np.ndarray, periods: list[Any]) -> None:
    if not mask.any():
        raise ConfigError(f"the {name} window ({', '.join(map(str, periods))}) has no rows left", key="err_training_name_window_value_rows", name=name, value=', '.join(map(str, periods)))
    if target[mask].min() == target[mask].max():
        raise ConfigError(f"the {name} window ({', '.join(map(str, periods))}) has only "
                          f"{'bads' if target[mask][0] else 'goods'}; it needs both", key="err_training_name_window_value_only", name=name, value=', '.join(map(str, periods)), value2='bads' if target[mask][0] else 'goods')


def _checked_split(time: Any, X: pd.DataFrame, target: np.ndarray, valid_share: float) -> TimeSplit:
    split = out_of_time_split(_aligned(time, X, "time"), valid_share)
    _both_classes("training", split.train_mask, target, split.train_periods)
    _both_classes("validation", split.valid_mask, target, split.valid_periods)
    return split


def checked_windows(time: Any, X: pd.DataFrame, target: np.ndarray, *, test_share: float, valid_share: float,
                    groups: Any | None = None, horizon_months: int | None = None) -> TimeWindows:
    """The three windows of ``time`` (purged by ``groups``), each checked to hold goods and bads."""
    t = _aligned(time, X, "time")
    windows = purge(time_windows(t, test_share, valid_share),
                    None if groups is None else _aligned(groups, X, "groups"), t, horizon_months)
    _both_classes("training", windows.train_mask, target, windows.train_periods)
    _both_classes("early-stopping/calibration", windows.valid_mask, target, windows.valid_periods)
    _both_classes("test", windows.test_mask, target, windows.test_periods)
    return windows


def _check_folds(target: np.ndarray, n_folds: int) -> None:
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise ConfigError(f"n_folds must be a whole number of at least 2; got {n_folds!r}", key="err_training_n_folds_whole_number", n_folds=n_folds)
    bads, goods = int(target.sum()), int((1 - target).sum())
    if bads < 2 * n_folds or goods < 2 * n_folds:
        raise ConfigError(f"nested {n_folds}-fold validation needs at least {2 * n_folds} bads and goods; "
                          f"got {bads} bads and {goods} goods", key="err_training_nested_n_folds_fold", n_folds=n_folds, value=2 * n_folds, bads=bads, goods=goods)


def _window(mask: np.ndarray, y: np.ndarray, periods: list[Any]) -> dict[str, Any]:
    return {"periods": [str(p) for p in periods], "rows": int(mask.sum()), "bads": int(y[mask].sum())}


def _fit_out_of_time(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], matrix: np.ndarray,
                     target: np.ndarray, windows: TimeWindows, num_boost_round: int, early_stopping_rounds: int,
                     oracle: np.ndarray | None, horizon_months: int | None) -> _Fit:
    """Fit on the train window, early-stop and calibrate on the valid window, measure on the test window."""
    tr, va, te = windows.train_mask, windows.valid_mask, windows.test_mask
    booster, best = _train_booster(params, features, levels, matrix, target, np.flatnonzero(tr), np.flatnonzero(va),
                                   num_boost_round, early_stopping_rounds)
    a, b = _platt(booster.predict(matrix[va], raw_score=True, num_iteration=best), target[va])
    test_pd = pd_from_logit(a * booster.predict(matrix[te], raw_score=True, num_iteration=best) + b)
    result = held_out_metrics(test_pd, target[te], None if oracle is None else oracle[te])
    validation = {"method": "out_of_time", "period_order": windows.order,
                  "train": {**_window(tr, target, windows.train_periods), "role": "fits the trees"},
                  "valid": {**_window(va, target, windows.valid_periods), "role": "early stopping and calibration"},
                  "test": {**_window(te, target, windows.test_periods), "role": "metrics only"},
                  "purged_rows": int(windows.purged_mask.sum()),
                  "outcome_overlap": outcome_gap(windows, horizon_months)}
    return _Fit(booster, best, a, b, result, tr, validation, te, test_pd)


def _inner_split(rows: np.ndarray, target: np.ndarray, seed: int, share: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import StratifiedShuffleSplit

    inner = StratifiedShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    fit, stop = next(inner.split(np.zeros(len(rows)), target[rows]))
    return rows[fit], rows[stop]




def _fit_nested(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], matrix: np.ndarray,
                target: np.ndarray, n_folds: int, seed: int, num_boost_round: int, early_stopping_rounds: int,
                oracle: np.ndarray | None, candidates: dict[str, dict[str, Any]] | None = None) -> _Fit:
    """Nested cross-validation: each outer training fold is split again; its inner part early-stops
    and calibrates the fold's model, which then predicts the outer test fold it never saw. The kept
    booster is fitted on every row with the folds' mean best iteration and calibrated on the outer
    folds' margins.

    With ``candidates`` (name -> parameter overrides), each outer fold fits every candidate and keeps
    the one with the lowest log loss on its inner part, so the choice is part of what the outer
    folds measure; the kept model is the candidate with the lowest mean inner log loss."""
    from sklearn.model_selection import StratifiedKFold

    candidates = candidates or {"given": {}}
    oof_pd, oof_margin = np.empty(len(target)), np.empty(len(target))
    folds = []
    losses: dict[str, list[float]] = {name: [] for name in candidates}
    bests: dict[str, list[int]] = {name: [] for name in candidates}
    outer = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    for k, (outer_train, outer_test) in enumerate(outer.split(matrix, target)):
        fit_rows, stop_rows = _inner_split(outer_train, target, seed + k)
        fitted = {}
        for name, overrides in candidates.items():
            booster, best = _train_booster({**params, **overrides}, features, levels, matrix, target, fit_rows,
                                           stop_rows, num_boost_round, early_stopping_rounds)
            margin = booster.predict(matrix[stop_rows], raw_score=True, num_iteration=best)
            losses[name].append(float(np.mean(np.logaddexp(0.0, margin) - target[stop_rows] * margin)))
            bests[name].append(int(best))
            fitted[name] = (booster, best, margin)
        chosen = min(candidates, key=lambda n: losses[n][-1])
        booster, best, margin = fitted[chosen]
        a, b = _platt(margin, target[stop_rows])
        oof_margin[outer_test] = booster.predict(matrix[outer_test], raw_score=True, num_iteration=best)
        oof_pd[outer_test] = pd_from_logit(a * oof_margin[outer_test] + b)
        folds.append({"fit_rows": int(len(fit_rows)), "stop_rows": int(len(stop_rows)),
                      "test_rows": int(len(outer_test)), "test_bads": int(target[outer_test].sum()),
                      "best_iteration": int(best), "calibration": {"a": a, "b": b}, "model": chosen})
    kept = min(candidates, key=lambda n: float(np.mean(losses[n])))
    best = max(1, int(round(float(np.mean(bests[kept])))))
    every = np.arange(len(target))
    booster, _ = _train_booster({**params, **candidates[kept]}, features, levels, matrix, target, every, None, best,
                                early_stopping_rounds)
    a, b = _platt(oof_margin, target)
    result = held_out_metrics(oof_pd, target, oracle)
    all_rows = np.ones(len(target), dtype=bool)
    validation = {"method": "nested_cv", "n_folds": n_folds, "seed": seed,
                  "inner": "a stratified 25% of each outer training fold early-stops and calibrates that fold",
                  "folds": folds, "fold_best_iterations": [f["best_iteration"] for f in folds],
                  "train": {**_window(all_rows, target, []), "role": "outer training folds"},
                  "test": {**_window(all_rows, target, []), "role": "outer test folds (each row once)"}}
    if len(candidates) > 1:
        validation["model_choice"] = {
            "chosen": kept, "rule": "lowest log loss on the inner 25% of each outer training fold",
            "candidates": {n: {"params": candidates[n], "inner_logloss": losses[n],
                               "mean_inner_logloss": float(np.mean(losses[n])),
                               "chosen_in_folds": sum(f["model"] == n for f in folds)} for n in candidates}}
    fit = _Fit(booster, best, a, b, result, all_rows, validation, all_rows, oof_pd)
    fit.params = {**params, **candidates[kept]}
    return fit


def _platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    a, b = fit_platt(margin, y)
    if not a > 0:
        raise ModelError(f"calibration slope must be positive; got {a:.4g}: the model does not rank the "
                         "calibration rows (too little data or no signal)", key="err_training_calibration_slope_positive_got", a=a)
    return a, b


def _metrics(pd_: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"auc": M.auc(pd_, y), "gini": M.gini(pd_, y), "ks": M.ks(pd_, y), "brier": M.brier(pd_, y),
            "ece": M.ece(pd_, y)}


def held_out_metrics(pd_: np.ndarray, y: np.ndarray, oracle: np.ndarray | None = None) -> dict[str, Any]:
    """``auc``, ``gini``, ``ks``, ``brier``, ``ece`` (10 equal-count bins), ``bad_rate``, ``mean_pd``
    of calibrated PDs on held-out rows, and ``oracle_auc`` when a true PD without gaps is given."""
    result: dict[str, Any] = _metrics(pd_, y)
    result["bad_rate"] = float(np.mean(y))
    result["mean_pd"] = float(np.mean(pd_))
    if oracle is not None and not np.isnan(oracle).any():
        result["oracle_auc"] = M.auc(oracle, y)
    return result


def calibrate(oos_margin: np.ndarray, oos_y: np.ndarray, oracle: np.ndarray | None = None
              ) -> tuple[float, float, dict[str, Any]]:
    """Platt scaling on the margins of held-out rows and the metrics of the calibrated PD on those
    same rows: ``(a, b, metrics)``. Used by the two-window Dask trainer; ``train_model`` measures on
    a window its calibration never saw (:func:`held_out_metrics`)."""
    a, b = _platt(oos_margin, oos_y)
    return a, b, held_out_metrics(pd_from_logit(a * oos_margin + b), oos_y, oracle)
