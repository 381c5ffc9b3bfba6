"""Choosing the model of a small bring-your-own table: LightGBM with small-data settings, a WoE/logistic
scorecard (:mod:`cb_core.model.woe`) or their blend, by cross-validation inside the training rows.

One procedure, :func:`choose_and_fit`, takes a set of training rows, runs ``INNER_FOLDS``-fold
cross-validation inside them (each inner fold's LightGBM early-stops on a quarter of that fold's own
training rows, never on the rows it is scored on), keeps the candidate with the highest inner AUC,
refits it on all the given rows and calibrates it on its inner out-of-fold margins. Nested
cross-validation (:func:`fit_with_choice`) runs it on each outer training fold, so the choice is part of
what the outer test folds measure; the kept model is the same procedure on every row.

Whichever wins is one LightGBM model text: the scorecard as one tree per feature, the blend as the
LightGBM trees and the scorecard trees, each scaled (``BLEND_WEIGHT`` of each calibrated log-odds).
Points stay additive: TreeSHAP of a sum of trees is the sum of the trees' TreeSHAP, and a scorecard
tree reads one feature only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from . import _training as T
from . import metrics as M
from . import woe as W
from ._inputs import booster_names
from .scale import pd_from_logit

#: The candidates, simplest first: the chosen one is the simplest whose inner AUC is within
#: ``AUC_TOLERANCE`` of the best (a blend must beat both its parts by more than that to be kept).
MODEL_CANDIDATES: tuple[str, ...] = ("woe_scorecard", "lightgbm", "blend")
AUC_TOLERANCE: float = 0.002
#: LightGBM overrides of DEFAULT_PARAMS for small tables (the ``lightgbm`` candidate and the blend's trees).
SMALL_DATA_PARAMS: dict[str, Any] = {"num_leaves": 4, "min_data_in_leaf": 20, "min_data_per_group": 20,
                                     "lambda_l2": 5.0}
#: Folds of the cross-validation inside the training rows that chooses the model.
INNER_FOLDS: int = 3
#: Weight of LightGBM's calibrated log-odds in the blend (the scorecard's gets the rest).
BLEND_WEIGHT: float = 0.5
#: Tables up to this many rows (without ``time`` and without explicit ``params``) choose their model.
SMALL_TABLE_ROWS: int = 5000
SCORECARD_PARAMS: dict[str, Any] = {"max_prebins": W.MAX_PREBINS, "min_share": W.MIN_SHARE,
                                    "prior_rows": W.PRIOR_ROWS, "min_iv": W.MIN_IV, "logistic_C": W.LOGISTIC_C}


@dataclass
class _Setup:
    params: dict[str, Any]
    features: list[str]
    levels: dict[str, list[Any]]
    monotone: list[int]
    num_boost_round: int
    early_stopping_rounds: int

    def scorecard(self, matrix: np.ndarray, target: np.ndarray, rows: np.ndarray) -> W.WoeScorecard:
        return W.fit_woe_scorecard(matrix[rows], target[rows], [f in self.levels for f in self.features],
                                   [len(self.levels.get(f, [])) for f in self.features], self.monotone)

    def lightgbm(self, matrix: np.ndarray, target: np.ndarray, rows: np.ndarray, seed: int,
                 rounds: int | None = None) -> tuple[lgb.Booster, int]:
        """Fitted on ``rows``: early-stopped on a stratified quarter of them, or ``rounds`` trees on all."""
        params = {**self.params, **SMALL_DATA_PARAMS}
        if rounds is not None:
            return T._train_booster(params, self.features, self.levels, matrix, target, rows, None, rounds,
                                    self.early_stopping_rounds)
        fit, stop = T._inner_split(rows, target, seed)
        return T._train_booster(params, self.features, self.levels, matrix, target, fit, stop,
                                self.num_boost_round, self.early_stopping_rounds)


@dataclass
class Choice:
    """What :func:`choose_and_fit` returns: the chosen candidate as a booster and its calibration."""

    chosen: str
    booster: lgb.Booster
    a: float
    b: float
    inner_auc: dict[str, float]
    inner_rows: list[np.ndarray]  # the held-out rows of each inner fold (row numbers of the table)
    scorecard: dict[str, Any] | None


def _blend(margins: dict[str, np.ndarray], platt: dict[str, tuple[float, float]]) -> np.ndarray:
    (al, bl), (as_, bs) = platt["lightgbm"], platt["woe_scorecard"]
    return (BLEND_WEIGHT * (al * margins["lightgbm"] + bl)
            + (1 - BLEND_WEIGHT) * (as_ * margins["woe_scorecard"] + bs))


def choose_and_fit(setup: _Setup, matrix: np.ndarray, target: np.ndarray, rows: np.ndarray, seed: int) -> Choice:
    """Inner cross-validation on ``rows`` only, the candidate with the highest AUC there, refitted on
    ``rows`` and calibrated on its inner out-of-fold margins. No row outside ``rows`` is read."""
    from sklearn.model_selection import StratifiedKFold

    y = target[rows]
    oof = {"lightgbm": np.empty(len(rows)), "woe_scorecard": np.empty(len(rows))}
    bests, held = [], []
    for k, (tr, ho) in enumerate(StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed).split(rows, y)):
        booster, best = setup.lightgbm(matrix, target, rows[tr], seed + 1000 + k)
        oof["lightgbm"][ho] = booster.predict(matrix[rows[ho]], raw_score=True, num_iteration=best)
        oof["woe_scorecard"][ho] = setup.scorecard(matrix, target, rows[tr]).margin(matrix[rows[ho]])
        bests.append(best)
        held.append(rows[ho])
    platt = {n: T.fit_platt(m, y) for n, m in oof.items()}
    oof["blend"] = _blend(oof, platt)
    platt["blend"] = T.fit_platt(oof["blend"], y)
    auc = {n: float(M.auc(oof[n], y)) for n in MODEL_CANDIDATES}
    chosen = next(n for n in MODEL_CANDIDATES if auc[n] >= max(auc.values()) - AUC_TOLERANCE)
    names = booster_names(setup.features)
    card = None
    if chosen == "lightgbm":
        booster, _ = setup.lightgbm(matrix, target, rows, seed, rounds=max(1, int(round(np.mean(bests)))))
        text = booster.model_to_string()
    else:
        sc = setup.scorecard(matrix, target, rows)
        card = sc.summary(setup.features)
        if chosen == "woe_scorecard":
            text = W.model_text(W.header_for(names, matrix[rows]), W.scorecard_trees(sc))
        else:
            booster, _ = setup.lightgbm(matrix, target, rows, seed, rounds=max(1, int(round(np.mean(bests)))))
            (al, bl), (as_, bs) = platt["lightgbm"], platt["woe_scorecard"]
            head, trees, tail = W.scaled_blocks(booster.model_to_string(), BLEND_WEIGHT * al,
                                                BLEND_WEIGHT * bl + (1 - BLEND_WEIGHT) * bs)
            text = W.model_text(head, W.renumber(trees + W.scorecard_trees(sc, (1 - BLEND_WEIGHT) * as_)), tail)
    a, b = platt[chosen]
    if not a > 0:
        a, b = T._platt(oof[chosen], y)  # raises the usual "does not rank" error
    return Choice(chosen, lgb.Booster(model_str=text), a, b, auc, held, card)


def chosen_params(setup: _Setup, chosen: str) -> dict[str, Any]:
    """The card's ``params`` of the kept candidate."""
    lightgbm = {**setup.params, **SMALL_DATA_PARAMS}
    if chosen == "lightgbm":
        return lightgbm
    if chosen == "woe_scorecard":
        return {"model": "woe_scorecard", "seed": setup.params.get("seed"), **SCORECARD_PARAMS}
    return {**lightgbm, "blend_weight": BLEND_WEIGHT, "scorecard": SCORECARD_PARAMS}


def _choice_card(kept: Choice) -> dict[str, Any]:
    return {"chosen": kept.chosen, "inner_folds": INNER_FOLDS, "blend_weight": BLEND_WEIGHT,
            "rule": (f"AUC of {INNER_FOLDS}-fold cross-validation inside the training rows (never the test rows): "
                     f"the simplest candidate (scorecard, LightGBM, blend) within {AUC_TOLERANCE} of the best"),
            "auc_tolerance": AUC_TOLERANCE, "scorecard": kept.scorecard,
            "candidates": {n: {"inner_auc": kept.inner_auc[n]} for n in MODEL_CANDIDATES}}


def fit_out_of_time_with_choice(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]],
                                monotone: list[int], matrix: np.ndarray, target: np.ndarray, windows: Any,
                                num_boost_round: int, early_stopping_rounds: int, oracle: np.ndarray | None,
                                seed: int) -> T._Fit:
    """Out of time: :func:`choose_and_fit` on the training window only; the chosen model is calibrated on
    the early-stopping/calibration window (its trees' count came from the inner folds) and measured on
    the test window, which neither the choice nor the calibration saw."""
    setup = _Setup(params, features, levels, monotone, num_boost_round, early_stopping_rounds)
    tr, va, te = windows.train_mask, windows.valid_mask, windows.test_mask
    kept = choose_and_fit(setup, matrix, target, np.flatnonzero(tr), seed)
    a, b = T._platt(kept.booster.predict(matrix[va], raw_score=True), target[va])
    test_pd = pd_from_logit(a * kept.booster.predict(matrix[te], raw_score=True) + b)
    validation = {"method": "out_of_time", "period_order": windows.order,
                  "train": {**T._window(tr, target, windows.train_periods),
                            "role": "chooses the model by inner cross-validation and fits it"},
                  "valid": {**T._window(va, target, windows.valid_periods), "role": "calibration"},
                  "test": {**T._window(te, target, windows.test_periods), "role": "metrics only"},
                  "purged_rows": int(windows.purged_mask.sum()), "model_choice": _choice_card(kept)}
    fit = T._Fit(kept.booster, kept.booster.num_trees(), a, b,
                 T.held_out_metrics(test_pd, target[te], None if oracle is None else oracle[te]), tr, validation,
                 te, test_pd)
    fit.params = chosen_params(setup, kept.chosen)
    fit.calibrated_on = "early-stopping/calibration window"
    return fit


def fit_with_choice(params: dict[str, Any], features: list[str], levels: dict[str, list[Any]], monotone: list[int],
                    matrix: np.ndarray, target: np.ndarray, n_folds: int, seed: int, num_boost_round: int,
                    early_stopping_rounds: int, oracle: np.ndarray | None) -> T._Fit:
    """Nested cross-validation of :func:`choose_and_fit`: each outer training fold chooses and fits its
    model and predicts the outer test fold it never saw; the kept model is the choice on every row."""
    from sklearn.model_selection import StratifiedKFold

    setup = _Setup(params, features, levels, monotone, num_boost_round, early_stopping_rounds)
    oof_pd = np.empty(len(target))
    folds = []
    for k, (outer_train, outer_test) in enumerate(
            StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(matrix, target)):
        c = choose_and_fit(setup, matrix, target, outer_train, seed + k)
        oof_pd[outer_test] = pd_from_logit(c.a * c.booster.predict(matrix[outer_test], raw_score=True) + c.b)
        folds.append({"fit_rows": int(len(outer_train)), "test_rows": int(len(outer_test)),
                      "test_bads": int(target[outer_test].sum()), "model": c.chosen,
                      "inner_auc": c.inner_auc, "calibration": {"a": c.a, "b": c.b}})
    every = np.arange(len(target))
    kept = choose_and_fit(setup, matrix, target, every, seed + n_folds)
    all_rows = np.ones(len(target), dtype=bool)
    choice = _choice_card(kept)
    for n in MODEL_CANDIDATES:
        choice["candidates"][n].update(outer_folds_inner_auc=[f["inner_auc"][n] for f in folds],
                                       chosen_in_folds=sum(f["model"] == n for f in folds))
    validation = {
        "method": "nested_cv", "n_folds": n_folds, "seed": seed,
        "inner": (f"{INNER_FOLDS}-fold cross-validation inside each outer training fold chooses the model, sets "
                  "LightGBM's number of trees (each inner fold early-stops on a quarter of its own training rows) "
                  "and calibrates"),
        "folds": folds, "train": {**T._window(all_rows, target, []), "role": "outer training folds"},
        "test": {**T._window(all_rows, target, []), "role": "outer test folds (each row once)"},
        "model_choice": choice}
    fit = T._Fit(kept.booster, kept.booster.num_trees(), kept.a, kept.b,
                 T.held_out_metrics(oof_pd, target, oracle), all_rows, validation, all_rows, oof_pd)
    fit.params = chosen_params(setup, kept.chosen)
    fit.calibrated_on = f"out-of-fold margins of the {INNER_FOLDS}-fold cross-validation on every row"
    return fit
