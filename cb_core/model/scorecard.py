"""The challenger: a WoE logistic-regression scorecard (optbinning), validated on the same split
as :func:`cb_core.model.credit_model.train_model`."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..data import FeatureSpec, feature_catalog
from ..errors import ConfigError
from ._inputs import _check_target, _isna, feature_layout
from ._training import _check_folds, _metrics, _window, checked_windows
from ._windows import TEST_SHARE, VALID_SHARE
from .scale import ScoreScale


@dataclass
class ScorecardResult:
    """The WoE logistic-regression challenger.

    Attributes
    ----------
    scorecard : optbinning.Scorecard
        Fitted on the training window (with ``time``) or on all rows (without).
    metrics : dict
        Out-of-sample ``auc``, ``gini``, ``ks``, ``brier`` on the same rows as the LightGBM
        model's (validation window, or out-of-fold).
    table : DataFrame
        ``Variable``, ``Bin``, ``Points`` of the scorecard.
    features : list of str
        Features binned (every usable one).
    validation : dict
        Method and windows, as in the model card.
    dropped_features : dict
        Feature -> why it was left out (e.g. no values in the training rows).
    """

    scorecard: Any
    metrics: dict[str, float]
    table: pd.DataFrame
    features: list[str]
    validation: dict[str, Any] = field(default_factory=dict)
    dropped_features: dict[str, str] = field(default_factory=dict)

    def predict_pd(self, X: pd.DataFrame) -> np.ndarray:
        """PD of each row from the fitted scorecard."""
        return self.scorecard.predict_proba(_scorecard_frame(X, self.features, self._levels))[:, 1]

    @property
    def _levels(self) -> set[str]:
        return set(self.scorecard.binning_process.categorical_variables or [])


def _scorecard_frame(X: pd.DataFrame, features: list[str], categorical: set[str]) -> pd.DataFrame:
    cols = {}
    for f in features:
        col = X[f]
        if f in categorical:
            cols[f] = np.array([np.nan if _isna(v) else str(v) for v in col.astype(object)], dtype=object)
        else:
            cols[f] = col.to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(cols, index=X.index)


def _fit_scorecard(frame: pd.DataFrame, y: np.ndarray, features: list[str], categorical: list[str],
                   trends: dict[str, str], scale: ScoreScale) -> Any:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    binning = BinningProcess(
        variable_names=features, categorical_variables=categorical or None, max_n_prebins=20,
        min_prebin_size=0.05, binning_fit_params={f: {"monotonic_trend": t} for f, t in trends.items()},
    )
    scorecard = Scorecard(
        binning_process=binning, estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": scale.pdo, "odds": scale.base_odds, "scorecard_points": scale.base_score},
    )
    with warnings.catch_warnings():
        # optbinning 1.0 uses pandas idioms that pandas 3.1 deprecates; nothing to act on here
        warnings.simplefilter("ignore", category=pd.errors.Pandas4Warning)
        # missing values get the WoE observed for them rather than a neutral 0
        return scorecard.fit(frame, y, metric_missing="empirical", metric_special="empirical")


def train_scorecard(X: pd.DataFrame, y: pd.Series, time: pd.Series | None = None, *,
                    exclude_sensitive: bool = False, catalog: Mapping[str, FeatureSpec] | None = None,
                    scale: ScoreScale | None = None, valid_share: float = VALID_SHARE,
                    test_share: float = TEST_SHARE, n_folds: int = 5, seed: int = 0,
                    groups: pd.Series | None = None, horizon_months: int | None = None) -> ScorecardResult:
    """Challenger: optimal WoE binning (optbinning ``BinningProcess``, monotone trends from the
    catalog) and a logistic-regression ``Scorecard``, measured on the same test rows as
    :func:`train_model` with the same arguments (with ``time``: fitted on the train and
    early-stopping/calibration windows, which it needs neither for; without: the same outer
    folds); its points are on ``scale`` (default: the settings' scale, as in :func:`train_model`).

    Returns
    -------
    ScorecardResult
    """
    catalog = feature_catalog() if catalog is None else catalog
    entries, levels, _ = feature_layout(X, catalog, exclude_sensitive)
    target = _check_target(y, X)
    split = None if time is None else checked_windows(time, X, target, test_share=test_share,
                                                      valid_share=valid_share, groups=groups,
                                                      horizon_months=horizon_months)
    fit_rows = (split.train_mask | split.valid_mask) if split is not None else np.ones(len(X), dtype=bool)
    # optbinning cannot bin a column without at least two distinct values in the fitting rows
    distinct = X.loc[fit_rows, [e["name"] for e in entries]].nunique(dropna=True)
    dropped = {f: f"{int(n)} distinct value(s) in the training rows" for f, n in distinct.items() if n < 2}
    entries = [e for e in entries if e["name"] not in dropped]
    if not entries:
        raise ConfigError("no feature has at least two distinct values in the training rows", key="err_scorecard_feature_least_two_distinct")
    features = [e["name"] for e in entries]
    categorical = [f for f in features if f in levels]
    trends = {}
    for e in entries:
        if e["kind"] == "numeric" and e["monotone"]:
            trends[e["name"]] = "ascending" if e["monotone"] > 0 else "descending"  # event rate vs value
    frame = _scorecard_frame(X, features, set(categorical))
    scale = scale or ScoreScale.from_settings()
    if split is not None:
        te = split.test_mask
        scorecard = _fit_scorecard(frame[fit_rows], target[fit_rows], features, categorical, trends, scale)
        oos_pd, oos_y = scorecard.predict_proba(frame[te])[:, 1], target[te]
        validation = {"method": "out_of_time",
                      "train": _window(fit_rows, target, split.train_periods + split.valid_periods),
                      "test": _window(te, target, split.test_periods)}
    else:
        from sklearn.model_selection import StratifiedKFold

        _check_folds(target, n_folds)
        oos_pd = np.empty(len(target))
        for fit_idx, hold_idx in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(frame, target):
            fold = _fit_scorecard(frame.iloc[fit_idx], target[fit_idx], features, categorical, trends, scale)
            oos_pd[hold_idx] = fold.predict_proba(frame.iloc[hold_idx])[:, 1]
        scorecard = _fit_scorecard(frame, target, features, categorical, trends, scale)
        oos_y = target
        validation = {"method": "stratified_kfold", "n_folds": n_folds}
    result = _metrics(oos_pd, oos_y)
    table = scorecard.table(style="summary").reset_index(drop=True)
    return ScorecardResult(scorecard=scorecard, metrics=result, table=table,
                           features=features, validation=validation, dropped_features=dropped)
