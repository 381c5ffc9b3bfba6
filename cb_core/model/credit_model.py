"""Training the credit model: LightGBM with monotone constraints, out-of-time validation, Platt
calibration linear in the margin, and a versioned artifact folder; plus a WoE scorecard challenger.

The model is generic over a feature table: features named in the catalog get its monotone
constraint (``risk_direction``, a constraint on the PD) and its labels; other columns get no
constraint and their own name as label.

Split by concern: the model as it is loaded and scored (no LightGBM) in :mod:`cb_core.model.artifact`
(re-exported here), inputs and layout in :mod:`cb_core.model._inputs`, the validation windows in
:mod:`cb_core.model._windows`, calibration and booster fitting in :mod:`cb_core.model._training`,
the scorecard challenger in :mod:`cb_core.model.scorecard`; a small own table's choice of LightGBM, a
WoE/logistic scorecard or their blend (all LightGBM trees) in :mod:`cb_core.model._choice`.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd

from . import metrics as M
from ..data import FeatureSpec, feature_catalog
from .artifact import CreditModel, _content_hash, load_model
from .scale import GradeBands, ScoreScale, score_from_logit
from ._inputs import (
    CARD_FORMAT, DEFAULT_EARLY_STOPPING_ROUNDS, DEFAULT_NUM_BOOST_ROUND, DEFAULT_PARAMS, _aligned, _check_target,
    feature_layout, feature_matrix,
)
from ._choice import SMALL_TABLE_ROWS, fit_out_of_time_with_choice, fit_with_choice
from ._training import _check_folds, _fit_nested, _fit_out_of_time, checked_windows
from ._windows import TEST_SHARE, VALID_SHARE

__all__ = ["CreditModel", "assemble_model", "load_model", "train_model"]
log = logging.getLogger(__name__)


def assemble_model(booster: lgb.Booster, booster_text: str, *, entries: list[dict[str, Any]],
                   levels: dict[str, list[Any]], excluded: list[str], params: dict[str, Any],
                   num_boost_round: int, early_stopping_rounds: int, best: int, validation: dict[str, Any],
                   data_fingerprint: str, metrics: dict[str, Any], calibration: dict[str, Any],
                   scale: ScoreScale, bands: GradeBands, train_scores: np.ndarray) -> CreditModel:
    """A trained booster and what was measured about it, as a model with its card: the one place a
    card is put together (``train_model`` and the Dask trainer in ``batch_train`` both end here)."""
    features = [e["name"] for e in entries]
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "version": "",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_type": "lightgbm_binary",
        "lightgbm_version": lgb.__version__,
        "features": entries,
        "categorical_levels": levels,
        "monotone_constraints": {e["name"]: e["monotone"] for e in entries},
        "excluded_sensitive": excluded,
        # features no tree splits on (e.g. empty in the training rows): they always get 0 points
        "unused_features": [f for f, n in zip(features, booster.feature_importance("split")) if n == 0],
        "params": params,
        "num_boost_round": num_boost_round,
        "early_stopping_rounds": early_stopping_rounds,
        "best_iteration": best,
        "validation": validation,
        "data_fingerprint": data_fingerprint,
        "metrics": metrics,
        "calibration": calibration,
        "scale": scale.to_dict(),
        "grade_boundaries": list(bands.boundaries),
        # score distribution of the training rows, for the report and drift checks
        "score_quantiles": {f"p{q}": float(np.quantile(train_scores, q / 100)) for q in range(0, 101, 10)},
    }
    card["version"] = _content_hash(booster_text, card)
    return CreditModel(booster_text, card)


def train_model(X: pd.DataFrame, y: pd.Series, *, time: pd.Series | None = None,
                exclude_sensitive: bool = False, params: dict[str, Any] | None = None,
                scale: ScoreScale | None = None, bands: GradeBands | None = None,
                catalog: Mapping[str, FeatureSpec] | None = None, valid_share: float = VALID_SHARE,
                test_share: float = TEST_SHARE, n_folds: int = 5, seed: int = 0, data_fingerprint: str = "",
                oracle_pd: pd.Series | None = None, groups: pd.Series | None = None,
                horizon_months: int | None = None, notes: Mapping[str, Any] | None = None) -> CreditModel:
    """Train, early-stop, calibrate and test a LightGBM credit model, each on its own rows.

    Parameters
    ----------
    X : DataFrame
        Feature table, one row per merchant; every column is a feature. Pandas categorical,
        string and object columns are categorical (levels fixed at training), the rest numeric.
    y : Series of 0/1 (1 = default)
    time : Series, optional
        Period of each row (numbers, dates or ``YYYY-MM``; sorted in their real order). Given: three
        disjoint windows of whole periods: the earliest train, the next (≈ ``valid_share`` of
        rows) early-stop and calibrate, the latest (≈ ``test_share``) only measure. Not given:
        nested ``n_folds``-fold cross-validation (each outer training fold early-stops and
        calibrates on an inner 25%; metrics on the outer test folds); the kept model is fitted on
        every row with the folds' mean best iteration and calibrated on the outer folds' margins; but
        up to ``SMALL_TABLE_ROWS`` rows without ``params`` choose their model (``validation.model_choice``);
        with ``time`` too (inside the train window), unless ``horizon_months`` says it is a book.
    exclude_sensitive : bool (drop catalog features flagged sensitive)
    params : dict, optional
        Overrides of :data:`DEFAULT_PARAMS` (and ``num_boost_round``, ``early_stopping_rounds``).
    scale, bands : ScoreScale, GradeBands, optional
        Stored with the model (default: the settings' scale, ``GradeBands()``); a loaded model
        scores with them whatever the settings say later.
    catalog : dict, optional
        Feature name -> FeatureSpec (monotone constraints, labels); default: the shipped catalog.
    valid_share, test_share, n_folds, seed, data_fingerprint
        Validation settings; the data's fingerprint for the card.
    oracle_pd : Series, optional
        Known true PD per row (demo books); its AUC on the test rows is ``oracle_auc``.
    groups : Series, optional
        Merchant (or borrower) of each row, with ``time``: training-window rows of a merchant that has
        a test row, whose outcome window overlaps that test row's, are left out (``purged_rows``).
    horizon_months : int, optional
        Length of the outcome window in months when ``time`` holds ``YYYY-MM`` (12 for a book).
    notes : dict, optional
        More facts for the card's ``validation`` (outcome maturity, point in time).

    Returns
    -------
    CreditModel
        With ``card["metrics"]`` holding the test window's (or the outer folds') ``auc``, ``gini``,
        ``ks``, ``brier``, ``ece`` (and ``oracle_auc`` when given), and ``card["validation"]``
        each window's periods, rows and bads.
    """
    catalog = feature_catalog() if catalog is None else catalog
    entries, levels, excluded = feature_layout(X, catalog, exclude_sensitive)
    target = _check_target(y, X)
    features = [e["name"] for e in entries]
    matrix = feature_matrix(X, features, levels, {f: {v: i for i, v in enumerate(lv)} for f, lv in levels.items()})
    oracle = None if oracle_pd is None else pd.to_numeric(pd.Series(_aligned(oracle_pd, X, "oracle_pd")),
                                                          errors="raise").to_numpy(dtype=float)
    windows = None if time is None else checked_windows(time, X, target, test_share=test_share,
                                                        valid_share=valid_share, groups=groups,
                                                        horizon_months=horizon_months)
    if windows is None:
        _check_folds(target, n_folds)
    merged = {**DEFAULT_PARAMS, **(params or {})}
    num_boost_round = int(merged.pop("num_boost_round", DEFAULT_NUM_BOOST_ROUND))
    early_stopping_rounds = int(merged.pop("early_stopping_rounds", DEFAULT_EARLY_STOPPING_ROUNDS))
    merged.setdefault("seed", seed)
    merged["monotone_constraints"] = monotone = [e["monotone"] for e in entries]
    scale, bands = scale or ScoreScale.from_settings(), bands or GradeBands()
    small = params is None and len(X) <= SMALL_TABLE_ROWS and horizon_months is None  # own tables, not books
    if windows is not None:
        fit = (fit_out_of_time_with_choice(merged, features, levels, monotone, matrix, target, windows,
                                           num_boost_round, early_stopping_rounds, oracle, seed) if small else
               _fit_out_of_time(merged, features, levels, matrix, target, windows, num_boost_round,
                                early_stopping_rounds, oracle, horizon_months))
        fit.validation.update(valid_share=valid_share, test_share=test_share)
    else:
        args = (matrix, target, n_folds, seed, num_boost_round, early_stopping_rounds, oracle)
        fit = (fit_with_choice(merged, features, levels, monotone, *args) if small
               else _fit_nested(merged, features, levels, *args))
    merged = fit.params or merged
    fit.validation.update(notes or {})
    booster, best, a, b, result = fit.booster, fit.best, fit.a, fit.b, fit.metrics

    booster_text = booster.model_to_string(num_iteration=best)
    final = lgb.Booster(model_str=booster_text)
    train_margin = final.predict(matrix[fit.train_rows], raw_score=True)
    result["train_auc"] = M.auc(train_margin, target[fit.train_rows])
    train_scores = score_from_logit(a * train_margin + b, scale)
    model = assemble_model(
        final, booster_text, entries=entries, levels=levels, excluded=excluded,
        params={k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in merged.items()},
        num_boost_round=num_boost_round, early_stopping_rounds=early_stopping_rounds, best=best,
        validation=fit.validation, data_fingerprint=data_fingerprint, metrics=result,
        calibration={"a": a, "b": b, "fitted_on": fit.calibrated_on or ("early-stopping/calibration window"
                     if windows is not None else "outer folds' out-of-fold margins")},
        scale=scale, bands=bands, train_scores=train_scores)
    log.info("trained model %s: %d features, %d trees, test auc %.3f", model.version, len(features), best,
             result["auc"])
    return model
