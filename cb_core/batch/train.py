"""Training on a Dask cluster: :class:`lightgbm.dask.DaskLGBMClassifier` over the training rows of
every partition, with the parameters, monotone constraints, the three out-of-time windows (trees
fitted on the earliest periods, early stopping and Platt calibration on the next, metrics on the
latest, with the same purge), and the point-in-time rule of :func:`cb_core.model.train_with_report`.

Why the booster is not bit-identical to one trained by :func:`~cb_core.model.credit_model.train_model` on the
same rows: LightGBM's data-parallel learner builds each worker's histograms from its own rows
and sums them over the network (a different floating-point summation order), finds the feature
bins from a sample drawn per worker, and bags rows per worker with its own random stream. Split
gains therefore differ in the last bits, and sometimes another split wins. The model is as good,
not the same; scoring and explaining with a given model is identical on one machine and on a
cluster (see :mod:`cb_core.batch.run`).

Early stopping: LightGBM's Dask estimator has no early stopping, and its evaluation results are
one worker's share of the validation rows. So all ``num_boost_round`` rounds are trained, the
validation log-loss after every round is computed over all validation rows (from each row's leaf
in every tree), and the model is cut at the iteration ``lightgbm.early_stopping`` would have kept.

Monotone constraints: the same constraint per feature, but LightGBM's distributed learners only
implement ``monotone_constraints_method="basic"`` and switch to it from ``"intermediate"`` by
themselves; ``basic`` constrains more tightly (the constraints hold either way). The card's
``params`` record the method and tree learner the booster really used.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd

from ..data import OUTCOME_HORIZON_MONTHS, FeatureSpec, feature_catalog
from ..errors import ConfigError, ModelError
from ..features import feature_names, static_features
from ..model import (
    DEFAULT_EARLY_STOPPING_ROUNDS, DEFAULT_NUM_BOOST_ROUND, DEFAULT_PARAMS, TEST_SHARE, VALID_SHARE, CreditModel,
    GradeBands, ScoreScale, TimeWindows, assemble_model, feature_layout, feature_matrix, fit_platt, held_out_metrics,
    outcome_gap, purge, score_from_logit, time_windows,
)
from ..model import metrics as M
from ._partition import training_meta, training_partition

__all__ = ["TRAINER", "train_on_cluster", "early_stopping_iteration"]

log = logging.getLogger(__name__)

TRAINER = "lightgbm.dask.DaskLGBMClassifier"
#: LightGBM parameter -> its name in the scikit-learn interface (the estimator warns on aliases).
_SKLEARN_NAMES = {"min_data_in_leaf": "min_child_samples", "feature_fraction": "colsample_bytree",
                  "bagging_fraction": "subsample", "bagging_freq": "subsample_freq", "lambda_l2": "reg_lambda",
                  "seed": "random_state"}
_ROWS_PER_BLOCK = 4096  # rows x trees of leaf outputs held at once while computing validation losses


def early_stopping_iteration(losses: np.ndarray, rounds: int) -> int:
    """The iteration (1-based) ``lightgbm.early_stopping(rounds)`` keeps for these per-round
    validation losses: the first lowest loss seen before ``rounds`` rounds pass without a lower one."""
    best_i, best = 0, np.inf
    for i, loss in enumerate(np.asarray(losses, dtype=float)):
        if loss < best:
            best_i, best = i, loss
        elif i - best_i >= rounds:
            break
    return best_i + 1


def _leaf_values(booster: lgb.Booster) -> list[np.ndarray]:
    trees = booster.dump_model(num_iteration=-1)["tree_info"]
    return [np.array([booster.get_leaf_output(t, leaf) for leaf in range(tree["num_leaves"])])
            for t, tree in enumerate(trees)]


def _valid_loss_sums(rows: pd.DataFrame, booster_text: str, features: list[str], levels: dict[str, list[Any]],
                     valid_periods: list[str]) -> np.ndarray:
    """Sum over this partition's validation rows of the log-loss after each round."""
    booster = lgb.Booster(model_str=booster_text)
    leaf_values = _leaf_values(booster)
    rows = rows[rows["snapshot_month"].isin(valid_periods)]
    sums = np.zeros(len(leaf_values))
    if len(rows) == 0:
        return sums
    codes = {f: {v: i for i, v in enumerate(lv)} for f, lv in levels.items()}
    matrix = feature_matrix(rows, features, levels, codes)
    y = rows["defaulted_12m"].to_numpy(dtype=float)
    for start in range(0, len(rows), _ROWS_PER_BLOCK):
        block = slice(start, start + _ROWS_PER_BLOCK)
        leaves = booster.predict(matrix[block], pred_leaf=True, num_threads=1).reshape(-1, len(leaf_values))
        per_tree = np.column_stack([leaf_values[t][leaves[:, t]] for t in range(len(leaf_values))])
        margin = np.cumsum(per_tree, axis=1)
        sums += (np.logaddexp(0.0, margin) - y[block, None] * margin).sum(axis=0)
    return sums


def _margins(rows: pd.DataFrame, booster_text: str, features: list[str], levels: dict[str, list[Any]],
             periods: list[str]) -> pd.DataFrame:
    booster = lgb.Booster(model_str=booster_text)
    codes = {f: {v: i for i, v in enumerate(lv)} for f, lv in levels.items()}
    margin = booster.predict(feature_matrix(rows, features, levels, codes), raw_score=True, num_threads=1) \
        if len(rows) else np.empty(0)
    return pd.DataFrame({"margin": margin, "y": rows["defaulted_12m"].to_numpy(dtype=np.int64),
                         "true_pd": rows["true_pd"].to_numpy(dtype=float),
                         "merchant_id": rows["merchant_id"].to_numpy(), "snapshot_month": rows["snapshot_month"].to_numpy(),
                         "wanted": rows["snapshot_month"].isin(periods).to_numpy()})


def _windows(keys: pd.DataFrame) -> TimeWindows:
    """The three windows :func:`~cb_core.model.train_model` picks for a book, from each training row's
    ``merchant_id``, ``snapshot_month`` and ``defaulted_12m`` (purged the same way)."""
    windows = purge(time_windows(keys["snapshot_month"], TEST_SHARE, VALID_SHARE), keys["merchant_id"],
                    keys["snapshot_month"], OUTCOME_HORIZON_MONTHS)
    y = keys["defaulted_12m"].to_numpy()
    for name, mask, periods in (("training", windows.train_mask, windows.train_periods),
                                ("early-stopping/calibration", windows.valid_mask, windows.valid_periods),
                                ("test", windows.test_mask, windows.test_periods)):
        bads, rows = int(y[mask].sum()), int(mask.sum())
        if bads in (0, rows):
            raise ConfigError(f"the {name} window ({', '.join(map(str, periods))}) has only "
                              f"{'bads' if bads else 'goods'}; it needs both")
    return windows


def _train_rows(rows: pd.DataFrame, train_periods: list[str], purged: pd.MultiIndex) -> pd.DataFrame:
    """This partition's rows of the train window that the purge kept."""
    rows = rows[rows["snapshot_month"].isin(train_periods)]
    keep = ~pd.MultiIndex.from_arrays([rows["merchant_id"], rows["snapshot_month"]]).isin(purged)
    return rows[keep]


def _effective_params(booster_text: str, keys: tuple[str, ...]) -> dict[str, str]:
    """Values LightGBM wrote into the model's ``parameters:`` block (what it really used)."""
    found = {}
    for key in keys:
        match = re.search(rf"^\[{key}: (.*)\]$", booster_text, flags=re.MULTILINE)
        if match:
            found[key] = match.group(1)
    return found


def _estimator_params(merged: dict[str, Any], num_boost_round: int) -> dict[str, Any]:
    params = {_SKLEARN_NAMES.get(k, k): v for k, v in merged.items() if k != "num_threads"}
    params["n_estimators"] = num_boost_round
    return params


def train_on_cluster(client: Any, merchants: Any, activity: Any, outcomes: Any, *, today: Any,
                     exclude_sensitive: bool = False, params: dict[str, Any] | None = None,
                     scale: ScoreScale | None = None, bands: GradeBands | None = None,
                     catalog: Mapping[str, FeatureSpec] | None = None, allow_static: bool = False,
                     seed: int = 0, data_fingerprint: str = "") -> CreditModel:
    """Train, early-stop, calibrate and test a credit model on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
    merchants, activity, outcomes : dask DataFrame
        The book's tables partitioned by merchant (:func:`cb_core.batch.run.partition_by_merchant`,
        the same divisions for all three).
    today : date
        For the validation of each partition.
    exclude_sensitive, params, scale, bands, catalog, allow_static, seed, data_fingerprint
        As in :func:`~cb_core.model.train_with_report` (always out-of-time on ``snapshot_month``;
        a batch reads no ``bureau_history``, so the bureau fields are static and left out unless
        ``allow_static``).

    Returns
    -------
    CreditModel
        Its card records ``validation.trainer`` = :data:`TRAINER` and the number of workers.
    """
    import dask
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    catalog = feature_catalog() if catalog is None else catalog
    rows = dd.map_partitions(training_partition, merchants, activity, outcomes, today=today,
                             meta=training_meta(), align_dataframes=False)
    rows = client.persist(rows)
    keys = rows[["merchant_id", "snapshot_month", "defaulted_12m"]].compute().reset_index(drop=True)
    if len(keys) == 0:
        raise ModelError("the book has no outcomes table rows with activity: training needs rows of "
                         "merchant_id, snapshot_month, defaulted_12m")
    windows = _windows(keys)
    purged = pd.MultiIndex.from_frame(keys.loc[windows.purged_mask, ["merchant_id", "snapshot_month"]])
    y_all = keys["defaulted_12m"].to_numpy()

    static = static_features(bureau_history=False)
    layout_frame = training_meta()[feature_names()].reindex([0])
    if not allow_static:
        layout_frame = layout_frame.drop(columns=[f for f in static if f in layout_frame.columns])
    entries, levels, excluded = feature_layout(layout_frame, catalog, exclude_sensitive)
    features = [e["name"] for e in entries]
    merged = {**DEFAULT_PARAMS, **(params or {})}
    num_boost_round = int(merged.pop("num_boost_round", DEFAULT_NUM_BOOST_ROUND))
    early_stopping_rounds = int(merged.pop("early_stopping_rounds", DEFAULT_EARLY_STOPPING_ROUNDS))
    merged.setdefault("seed", seed)
    merged["monotone_constraints"] = [e["monotone"] for e in entries]

    train_rows = rows.map_partitions(_train_rows, windows.train_periods, purged, meta=training_meta())
    workers = len(client.scheduler_info()["workers"])
    log.info("training on %d workers: %d rows in %s, early stopping on %s, testing on %s", workers,
             int(windows.train_mask.sum()), windows.train_periods, windows.valid_periods, windows.test_periods)
    estimator = DaskLGBMClassifier(client=client, **_estimator_params(merged, num_boost_round))
    estimator.fit(train_rows[features], train_rows["defaulted_12m"])
    full_text = estimator.booster_.model_to_string()

    loss_sums = [dask.delayed(_valid_loss_sums)(part, full_text, features, levels, windows.valid_periods)
                 for part in rows.to_delayed()]
    losses = np.sum(dask.compute(*loss_sums), axis=0) / int(windows.valid_mask.sum())
    best = early_stopping_iteration(losses, early_stopping_rounds)
    booster_text = estimator.booster_.model_to_string(num_iteration=best)

    meta = {"margin": float, "y": np.int64, "true_pd": float, "merchant_id": object, "snapshot_month": object,
            "wanted": bool}
    scored = rows.map_partitions(_margins, booster_text, features, levels,
                                 windows.train_periods + windows.valid_periods + windows.test_periods,
                                 meta=meta).compute()
    client.cancel(rows)
    in_window = {name: scored["snapshot_month"].isin(periods).to_numpy() for name, periods in
                 (("train", windows.train_periods), ("valid", windows.valid_periods), ("test", windows.test_periods))}
    in_window["train"] = in_window["train"] & ~pd.MultiIndex.from_arrays([scored["merchant_id"], scored["snapshot_month"]]).isin(purged)
    margin, y, oracle = scored["margin"].to_numpy(), scored["y"].to_numpy(), scored["true_pd"].to_numpy()
    a, b = fit_platt(margin[in_window["valid"]], y[in_window["valid"]])
    if not a > 0:
        raise ModelError(f"calibration slope must be positive; got {a:.4g}: the model does not rank the "
                         "calibration rows (too little data or no signal)")
    test = in_window["test"]
    result = held_out_metrics(1 / (1 + np.exp(-(a * margin[test] + b))), y[test], oracle[test])
    result["train_auc"] = M.auc(margin[in_window["train"]], y[in_window["train"]])

    scale, bands = scale or ScoreScale.from_settings(), bands or GradeBands()
    train_scores = score_from_logit(a * margin[in_window["train"]] + b, scale)
    final = lgb.Booster(model_str=booster_text)

    def window(mask: np.ndarray, periods: list[Any], role: str) -> dict[str, Any]:
        return {"periods": [str(p) for p in periods], "rows": int(mask.sum()), "bads": int(y_all[mask].sum()),
                "role": role}

    validation = {"method": "out_of_time", "period_order": windows.order,
                  "train": window(windows.train_mask, windows.train_periods, "fits the trees"),
                  "valid": window(windows.valid_mask, windows.valid_periods, "early stopping and calibration"),
                  "test": window(windows.test_mask, windows.test_periods, "metrics only"),
                  "purged_rows": int(windows.purged_mask.sum()),
                  "outcome_overlap": outcome_gap(windows, OUTCOME_HORIZON_MONTHS),
                  "trainer": TRAINER, "workers": workers, "valid_logloss": float(losses[best - 1]),
                  "point_in_time": {"bureau_history": False, "static_features": static,
                                    "used": static if allow_static else [], "excluded": [] if allow_static else static}}
    model = assemble_model(
        final, booster_text, entries=entries, levels=levels, excluded=excluded,
        params={**{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in merged.items()
                   if k != "num_threads"},
                **_effective_params(booster_text, ("tree_learner", "monotone_constraints_method"))},
        num_boost_round=num_boost_round, early_stopping_rounds=early_stopping_rounds, best=best,
        validation=validation, data_fingerprint=data_fingerprint, metrics=result,
        calibration={"a": a, "b": b, "fitted_on": "early-stopping/calibration window"},
        scale=scale, bands=bands, train_scores=train_scores)
    log.info("trained model %s on the cluster: %d features, %d trees, test auc %.3f", model.version, len(features),
             best, result["auc"])
    return model
