"""Training on a Dask cluster: :class:`lightgbm.dask.DaskLGBMClassifier` over the training rows of
every partition, with the parameters, monotone constraints, out-of-time split, early stopping and
Platt calibration of :func:`cb_core.model.credit_model.train_model`.

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

from ..model import metrics as M
from ._partition import training_meta, training_partition
from ..data import FeatureSpec, feature_catalog
from ..errors import ConfigError, ModelError
from ..features import feature_names
from ..model import (
    DEFAULT_EARLY_STOPPING_ROUNDS, DEFAULT_NUM_BOOST_ROUND, DEFAULT_PARAMS, CreditModel, feature_layout, feature_matrix, assemble_model, calibrate, out_of_time_split,
)
from ..model import GradeBands, ScoreScale, score_from_logit

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
             valid_periods: list[str]) -> pd.DataFrame:
    booster = lgb.Booster(model_str=booster_text)
    codes = {f: {v: i for i, v in enumerate(lv)} for f, lv in levels.items()}
    margin = booster.predict(feature_matrix(rows, features, levels, codes), raw_score=True, num_threads=1) \
        if len(rows) else np.empty(0)
    return pd.DataFrame({"margin": margin, "y": rows["defaulted_12m"].to_numpy(dtype=np.int64),
                         "true_pd": rows["true_pd"].to_numpy(dtype=float),
                         "valid": rows["snapshot_month"].isin(valid_periods).to_numpy()})


def _split(windows: pd.DataFrame, valid_share: float) -> tuple[list[str], list[str]]:
    """Training and validation periods exactly as :func:`~cb_core.model.credit_model.out_of_time_split` picks
    them, from the row count and bads of each period."""
    periods = windows.index.astype(str).tolist()
    split = out_of_time_split(np.repeat(np.arange(len(periods)), windows["rows"].to_numpy()), valid_share)
    train = [periods[i] for i in split.train_periods]
    valid = [periods[i] for i in split.valid_periods]
    for name, chosen in (("training", train), ("validation", valid)):
        bads, rows = int(windows.loc[chosen, "bads"].sum()), int(windows.loc[chosen, "rows"].sum())
        if bads in (0, rows):
            raise ConfigError(f"the {name} window ({', '.join(chosen)}) has only {'bads' if bads else 'goods'}; "
                              "it needs both")
    return train, valid


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
                     catalog: Mapping[str, FeatureSpec] | None = None, valid_share: float = 0.3,
                     seed: int = 0, data_fingerprint: str = "") -> CreditModel:
    """Train, validate and calibrate a credit model on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client
    merchants, activity, outcomes : dask DataFrame
        The book's tables partitioned by merchant (:func:`cb_core.batch.run.partition_by_merchant`,
        the same divisions for all three).
    today : date
        For the validation of each partition.
    exclude_sensitive, params, scale, bands, catalog, valid_share, seed, data_fingerprint
        As in :func:`~cb_core.model.credit_model.train_model` (always out-of-time validation on
        ``snapshot_month``).

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
    windows = rows.groupby("snapshot_month")["defaulted_12m"].agg(["count", "sum"]).compute()
    windows = windows.rename(columns={"count": "rows", "sum": "bads"}).sort_index()
    if windows["rows"].sum() == 0:
        raise ModelError("the book has no outcomes table rows with activity: training needs rows of "
                         "merchant_id, snapshot_month, defaulted_12m")
    train_periods, valid_periods = _split(windows, valid_share)

    entries, levels, excluded = feature_layout(training_meta()[feature_names()].reindex([0]), catalog, exclude_sensitive)
    features = [e["name"] for e in entries]
    merged = {**DEFAULT_PARAMS, **(params or {})}
    num_boost_round = int(merged.pop("num_boost_round", DEFAULT_NUM_BOOST_ROUND))
    early_stopping_rounds = int(merged.pop("early_stopping_rounds", DEFAULT_EARLY_STOPPING_ROUNDS))
    merged.setdefault("seed", seed)
    merged["monotone_constraints"] = [e["monotone"] for e in entries]

    train_rows = rows[rows["snapshot_month"].isin(train_periods)]
    workers = len(client.scheduler_info()["workers"])
    log.info("training on %d workers: %d rows in %s, validating on %s", workers,
             int(windows.loc[train_periods, "rows"].sum()), train_periods, valid_periods)
    estimator = DaskLGBMClassifier(client=client, **_estimator_params(merged, num_boost_round))
    estimator.fit(train_rows[features], train_rows["defaulted_12m"])
    full_text = estimator.booster_.model_to_string()

    loss_sums = [dask.delayed(_valid_loss_sums)(part, full_text, features, levels, valid_periods)
                 for part in rows.to_delayed()]
    losses = np.sum(dask.compute(*loss_sums), axis=0) / windows.loc[valid_periods, "rows"].sum()
    best = early_stopping_iteration(losses, early_stopping_rounds)
    booster_text = estimator.booster_.model_to_string(num_iteration=best)

    scored = rows.map_partitions(_margins, booster_text, features, levels, valid_periods,
                                 meta={"margin": float, "y": np.int64, "true_pd": float, "valid": bool}).compute()
    client.cancel(rows)
    valid = scored["valid"].to_numpy()
    oos_margin, oos_y = scored["margin"].to_numpy()[valid], scored["y"].to_numpy()[valid]
    a, b, result = calibrate(oos_margin, oos_y, scored["true_pd"].to_numpy()[valid])
    train_margin, train_y = scored["margin"].to_numpy()[~valid], scored["y"].to_numpy()[~valid]
    result["train_auc"] = M.auc(train_margin, train_y)

    scale, bands = scale or ScoreScale.from_settings(), bands or GradeBands()
    train_scores = score_from_logit(a * train_margin + b, scale)
    final = lgb.Booster(model_str=booster_text)

    def window(periods: list[str]) -> dict[str, Any]:
        return {"periods": periods, "rows": int(windows.loc[periods, "rows"].sum()),
                "bads": int(windows.loc[periods, "bads"].sum())}

    model = assemble_model(
        final, booster_text, entries=entries, levels=levels, excluded=excluded,
        params={**{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in merged.items()
                   if k != "num_threads"},
                **_effective_params(booster_text, ("tree_learner", "monotone_constraints_method"))},
        num_boost_round=num_boost_round, early_stopping_rounds=early_stopping_rounds, best=best,
        validation={"method": "out_of_time", "train": window(train_periods), "valid": window(valid_periods),
                    "valid_share": valid_share, "trainer": TRAINER, "workers": workers,
                    "valid_logloss": float(losses[best - 1])},
        data_fingerprint=data_fingerprint, metrics=result,
        calibration={"a": a, "b": b, "fitted_on": "validation window"},
        scale=scale, bands=bands, train_scores=train_scores)
    log.info("trained model %s on the cluster: %d features, %d trees, auc %.3f", model.version, len(features),
             best, result["auc"])
    return model
