"""Training internals of :func:`cb_core.model.credit_model.train_model`: out-of-time split, Platt calibration,
booster fitting (out-of-time or k-fold) and metric helpers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit

from . import metrics as M
from ..errors import ConfigError, ModelError
from ._inputs import _aligned, _frame


# ------------------------------------------------------------------ split and calibration

@dataclass(frozen=True)
class TimeSplit:
    """Out-of-time split: the latest periods form the validation window."""

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
        raise ConfigError(f"valid_share must be between 0 and 1; got {valid_share}")
    t = pd.Series(np.asarray(time))
    if t.isna().any():
        raise ConfigError(f"time must not be missing; got {int(t.isna().sum())} missing")
    counts = t.value_counts().sort_index()
    if len(counts) < 2:
        raise ConfigError(f"out-of-time validation needs at least 2 periods in time; got {len(counts)}")
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
        p = expit(design @ w)
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

def _train_booster(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]],
                   X: np.ndarray, y: np.ndarray, num_boost_round: int, early_stopping_rounds: int,
                   valid: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[lgb.Booster, int]:
    cat = [f for f in features if f in levels]
    dtrain = lgb.Dataset(_frame(X, features, levels), label=y, categorical_feature=cat or "auto",
                         params=params, free_raw_data=True)
    if valid is None:
        booster = lgb.train(params, dtrain, num_boost_round=num_boost_round)
        return booster, booster.current_iteration()
    dvalid = lgb.Dataset(_frame(valid[0], features, levels), label=valid[1], reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=num_boost_round, valid_sets=[dvalid],
                        valid_names=["valid"],
                        callbacks=[lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)])
    best = booster.best_iteration or booster.current_iteration()
    return booster, int(best)


@dataclass
class _Fit:
    booster: lgb.Booster
    best: int
    oos_margin: np.ndarray   # margins of the out-of-sample rows, in row order
    oos_rows: np.ndarray     # mask of the rows the metrics and calibration use
    train_rows: np.ndarray   # mask of the rows the kept booster was trained on
    validation: dict[str, Any]


def _checked_split(time: Any, X: pd.DataFrame, target: np.ndarray, valid_share: float) -> TimeSplit:
    split = out_of_time_split(_aligned(time, X, "time"), valid_share)
    for name, mask, periods in (("training", split.train_mask, split.train_periods),
                                ("validation", split.valid_mask, split.valid_periods)):
        if target[mask].min() == target[mask].max():
            raise ConfigError(f"the {name} window ({', '.join(map(str, periods))}) has only "
                              f"{'bads' if target[mask][0] else 'goods'}; it needs both")
    return split


def _check_folds(target: np.ndarray, n_folds: int) -> None:
    if isinstance(n_folds, bool) or not isinstance(n_folds, int) or n_folds < 2:
        raise ConfigError(f"n_folds must be a whole number of at least 2; got {n_folds!r}")
    bads, goods = int(target.sum()), int((1 - target).sum())
    if bads < n_folds or goods < n_folds:
        raise ConfigError(f"{n_folds}-fold validation needs at least {n_folds} bads and goods; "
                          f"got {bads} bads and {goods} goods")


def _fit_out_of_time(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], matrix: np.ndarray,
                     target: np.ndarray, split: TimeSplit, num_boost_round: int, early_stopping_rounds: int) -> _Fit:
    """Train on the earlier periods with early stopping on the validation window; keep that booster."""
    tr, va = split.train_mask, split.valid_mask
    booster, best = _train_booster(params, features, levels, matrix[tr], target[tr], num_boost_round,
                                   early_stopping_rounds, valid=(matrix[va], target[va]))
    oos_margin = booster.predict(matrix[va], raw_score=True, num_iteration=best)
    validation = {"method": "out_of_time", "train": _window(tr, target, split.train_periods),
                  "valid": _window(va, target, split.valid_periods)}
    return _Fit(booster, best, oos_margin, va, tr, validation)


def _fit_kfold(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], matrix: np.ndarray,
               target: np.ndarray, n_folds: int, seed: int, num_boost_round: int, early_stopping_rounds: int) -> _Fit:
    """Out-of-fold margins with early stopping per fold; final booster on all rows, mean best iteration."""
    from sklearn.model_selection import StratifiedKFold

    oos_margin = np.empty(len(target))
    bests = []
    for fit_idx, hold_idx in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(matrix, target):
        fold, best_fold = _train_booster(params, features, levels, matrix[fit_idx], target[fit_idx], num_boost_round,
                                         early_stopping_rounds, valid=(matrix[hold_idx], target[hold_idx]))
        oos_margin[hold_idx] = fold.predict(matrix[hold_idx], raw_score=True, num_iteration=best_fold)
        bests.append(best_fold)
    best = max(1, int(round(float(np.mean(bests)))))
    booster, _ = _train_booster(params, features, levels, matrix, target, best, early_stopping_rounds)
    every = np.ones(len(target), dtype=bool)
    validation = {"method": "stratified_kfold", "n_folds": n_folds, "fold_best_iterations": bests,
                  "train": _window(every, target, []), "valid": _window(every, target, [])}
    return _Fit(booster, best, oos_margin, every, every, validation)


def _metrics(pd_: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"auc": M.auc(pd_, y), "gini": M.gini(pd_, y), "ks": M.ks(pd_, y), "brier": M.brier(pd_, y)}


def _window(mask: np.ndarray, y: np.ndarray, periods: list[Any]) -> dict[str, Any]:
    return {"periods": [str(p) for p in periods], "rows": int(mask.sum()), "bads": int(y[mask].sum())}


def calibrate(oos_margin: np.ndarray, oos_y: np.ndarray, oracle: np.ndarray | None = None
              ) -> tuple[float, float, dict[str, Any]]:
    """Platt scaling on the out-of-sample margins and the metrics of the calibrated PD: ``(a, b,
    metrics)``; ``oracle_auc`` when a true PD without gaps is given. Shared by both trainers."""
    a, b = fit_platt(oos_margin, oos_y)
    if not a > 0:
        raise ModelError(f"calibration slope must be positive; got {a:.4g}: the model does not rank the "
                         "validation rows (too little data or no signal)")
    oos_pd = expit(a * oos_margin + b)
    result = _metrics(oos_pd, oos_y)
    result["bad_rate"] = float(oos_y.mean())
    result["mean_pd"] = float(oos_pd.mean())
    if oracle is not None and not np.isnan(oracle).any():
        result["oracle_auc"] = M.auc(oracle, oos_y)
    return a, b, result
