"""The credit model: LightGBM with monotone constraints, out-of-time validation, Platt calibration
linear in the margin, and a versioned artifact folder; plus a WoE scorecard challenger.

The model is generic over a feature table: features named in the catalog get its monotone
constraint (``risk_direction``, a constraint on the PD) and its labels; other columns get no
constraint and their own name as label.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit

from . import metrics as M
from .catalog import FeatureSpec, feature_catalog
from .errors import ConfigError, MissingFeaturesError, ModelError
from .scoring import GradeBands, ScoreScale, grade_of, score_from_logit

log = logging.getLogger(__name__)

#: LightGBM parameters for small-to-medium tabular credit data; ``params`` in
#: :func:`train_model` overrides any of them.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "metric": "binary_logloss",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": -1,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "min_data_per_group": 50,
    "max_cat_threshold": 16,
    "monotone_constraints_method": "intermediate",
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
#: Boosting rounds at most, and rounds without improvement before early stopping.
DEFAULT_NUM_BOOST_ROUND: int = 600
DEFAULT_EARLY_STOPPING_ROUNDS: int = 50

#: Predictions on fewer rows than this run single-threaded.
SINGLE_THREAD_ROWS: int = 1000

BOOSTER_FILE = "booster.txt"
CARD_FILE = "card.json"
CARD_FORMAT = 1
_REQUIRED_CARD_KEYS = ("version", "features", "categorical_levels", "calibration", "scale", "grade_boundaries")
# LightGBM rewrites whitespace and rejects JSON punctuation in feature names
_BAD_NAME = re.compile(r'[\s,:"\[\]{}]')


# ------------------------------------------------------------------ input checks and layout

def _aligned(values: Any, X: pd.DataFrame, name: str) -> np.ndarray:
    if isinstance(values, pd.Series) and not values.index.equals(X.index):
        raise ConfigError(f"{name} must have the same index as X")
    arr = np.asarray(values)
    if arr.shape[0] != len(X):
        raise ConfigError(f"{name} must have one value per row of X ({len(X)}); got {arr.shape[0]}")
    return arr


def _check_target(y: Any, X: pd.DataFrame) -> np.ndarray:
    raw = pd.Series(_aligned(y, X, "y"))
    if raw.isna().any():
        raise ConfigError(f"y must not be missing; got {int(raw.isna().sum())} missing")
    try:
        arr = raw.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"y must be 0/1; got values like {raw.iloc[:3].tolist()}") from None
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise ConfigError(f"y must be 0/1; got {sorted(set(arr[bad].tolist()))[:5]}")
    if arr.min() == arr.max():
        raise ConfigError(f"y must contain both goods (0) and bads (1); got only {int(arr[0])}")
    return arr.astype(np.int64)


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype))


def _layout(X: pd.DataFrame, catalog: Mapping[str, FeatureSpec], exclude_sensitive: bool
            ) -> tuple[list[dict[str, Any]], dict[str, list[Any]], list[str]]:
    """Feature entries for the card, fixed category levels, and features dropped as sensitive."""
    if not isinstance(X, pd.DataFrame):
        raise ConfigError(f"X must be a pandas DataFrame; got {type(X).__name__}")
    if len(X) == 0 or X.shape[1] == 0:
        raise ConfigError(f"X must have rows and feature columns; got shape {X.shape}")
    names = list(X.columns)
    dup = sorted({str(c) for c in names if names.count(c) > 1})
    if dup:
        raise ConfigError(f"X has duplicate columns: {', '.join(dup)}")
    bad = [str(c) for c in names if not isinstance(c, str) or not c or _BAD_NAME.search(c)]
    if bad:
        raise ConfigError(f"feature names must be text without spaces or any of , : \" [ ] {{ }}; got {bad}")
    excluded = [c for c in names if exclude_sensitive and c in catalog and catalog[c].sensitive]
    entries: list[dict[str, Any]] = []
    levels: dict[str, list[Any]] = {}
    for name in names:
        if name in excluded:
            continue
        col = X[name]
        if pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_timedelta64_dtype(col.dtype):
            raise ConfigError(f"feature {name} is a date/duration column ({col.dtype}); turn it into a number first")
        spec = catalog.get(name)
        if _is_categorical(col):
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels[name] = col.cat.categories.tolist()
            else:
                levels[name] = sorted(col.dropna().astype(str).unique().tolist())
            kind, monotone = "categorical", 0  # LightGBM cannot constrain a categorical split
        else:
            kind, monotone = "numeric", int(spec.risk_direction) if spec else 0
        entries.append({"name": name, "kind": kind, "monotone": monotone,
                        "catalog": asdict(spec) if spec else None})
    if not entries:
        raise ConfigError("no features left to train on after excluding sensitive ones")
    return entries, levels, excluded


def _matrix(X: pd.DataFrame | pd.Series, features: list[str], levels: dict[str, list[Any]],
            level_codes: dict[str, dict[Any, int]]) -> np.ndarray:
    """Float matrix in model column order; categories become their code (unseen or missing: NaN)."""
    if isinstance(X, pd.Series):  # one merchant: plain Python is faster than pandas here
        row = np.empty((1, len(features)))
        for j, f in enumerate(features):
            v = X[f]
            if f in levels:
                row[0, j] = np.nan if _isna(v) else level_codes[f].get(v, np.nan)
            else:
                try:
                    row[0, j] = np.nan if _isna(v) else float(v)
                except (TypeError, ValueError):
                    raise ModelError(f"feature {f} must be numeric; got {v!r}") from None
        return row
    out = np.empty((len(X), len(features)))
    for j, f in enumerate(features):
        col = X[f]
        if f in levels:
            codes = pd.Index(levels[f]).get_indexer(col)  # -1: missing or not seen in training
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            try:
                out[:, j] = col.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise ModelError(f"feature {f} must be numeric; got dtype {col.dtype}") from None
    return out


def _isna(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT


def _frame(matrix: np.ndarray, features: list[str], levels: dict[str, list[Any]]) -> pd.DataFrame:
    """The matrix as a frame LightGBM reads, categoricals with their fixed levels."""
    cols: dict[str, Any] = {}
    for j, f in enumerate(features):
        if f in levels:
            codes = np.where(np.isnan(matrix[:, j]), -1, matrix[:, j]).astype(np.int64)
            cols[f] = pd.Categorical.from_codes(codes, categories=levels[f])
        else:
            cols[f] = matrix[:, j]
    return pd.DataFrame(cols)


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


# ------------------------------------------------------------------ the model

class CreditModel:
    """A trained model: booster, ordered features, category levels, calibration, scale, card.

    Build one with :func:`train_model` or :func:`load_model`; both go through this constructor,
    so a loaded model predicts exactly like the trained one.

    Parameters
    ----------
    booster_text : str
        LightGBM model string (``booster.txt``).
    card : dict
        The model card (``card.json``).
    """

    def __init__(self, booster_text: str, card: dict[str, Any]) -> None:
        self.booster_text = booster_text
        self.card = card
        self.booster = lgb.Booster(model_str=booster_text)
        self.features: list[str] = [f["name"] for f in card["features"]]
        self.categorical_levels: dict[str, list[Any]] = {k: list(v) for k, v in card["categorical_levels"].items()}
        self._level_codes = {f: {v: i for i, v in enumerate(lv)} for f, lv in self.categorical_levels.items()}
        self.calibration: tuple[float, float] = (float(card["calibration"]["a"]), float(card["calibration"]["b"]))
        self.scale = ScoreScale(**card["scale"])
        self.bands = GradeBands(tuple(card["grade_boundaries"]))
        self._entries = {f["name"]: f for f in card["features"]}

    def __repr__(self) -> str:
        return f"CreditModel(version={self.version!r}, features={len(self.features)})"

    @property
    def version(self) -> str:
        """Content hash of booster, calibration, features, scale and grade boundaries (12 hex)."""
        return str(self.card["version"])

    # -------------------------------------------------------------- data in
    def check_features(self, X: pd.DataFrame | pd.Series) -> None:
        """Raise :class:`MissingFeaturesError` naming every model feature absent from ``X``."""
        present = X.index if isinstance(X, pd.Series) else X.columns
        missing = [f for f in self.features if f not in present]
        if missing:
            raise MissingFeaturesError(f"model needs features missing from the data: {', '.join(missing)}")

    def matrix(self, X: pd.DataFrame | pd.Series) -> np.ndarray:
        """``X`` (a frame, or one merchant as a Series) as the float matrix the booster reads:
        model column order, categories as their training code, unseen categories missing."""
        self.check_features(X)
        return _matrix(X, self.features, self.categorical_levels, self._level_codes)

    def frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` coerced to the model's columns and dtypes (categoricals with the training levels;
        unseen categories missing), index preserved."""
        out = _frame(self.matrix(X), self.features, self.categorical_levels)
        out.index = X.index
        return out

    # -------------------------------------------------------------- predictions
    def _index(self, X: pd.DataFrame | pd.Series) -> pd.Index:
        return pd.Index([X.name]) if isinstance(X, pd.Series) else X.index

    def booster_predict(self, matrix: np.ndarray, **kwargs: Any) -> np.ndarray:
        """``booster.predict`` on a matrix from :meth:`matrix`; ``kwargs`` as in LightGBM
        (``raw_score``, ``pred_contrib``).

        Small inputs run on one thread: waking a thread pool costs milliseconds on a busy
        machine, far more than scoring one merchant.
        """
        if len(matrix) < SINGLE_THREAD_ROWS:
            kwargs.setdefault("num_threads", 1)
        return self.booster.predict(matrix, **kwargs)

    def margin(self, X: pd.DataFrame | pd.Series) -> pd.Series:
        """Raw LightGBM log-odds margin per row, before calibration."""
        raw = self.booster_predict(self.matrix(X), raw_score=True)
        return pd.Series(raw, index=self._index(X), name="margin")

    def logit(self, X: pd.DataFrame | pd.Series) -> pd.Series:
        """Calibrated log-odds of default: ``a * margin + b``."""
        a, b = self.calibration
        return (a * self.margin(X) + b).rename("logit")

    def predict_pd(self, X: pd.DataFrame | pd.Series) -> pd.Series:
        """Calibrated probability of default per row."""
        return pd.Series(expit(self.logit(X).to_numpy()), index=self._index(X), name="pd")

    def score(self, X: pd.DataFrame | pd.Series) -> pd.DataFrame:
        """PD, score (whole points, clipped to 1–1000) and grade per row, index preserved."""
        logit = self.logit(X)
        score = score_from_logit(logit.to_numpy(), self.scale, rounded=True)
        return pd.DataFrame({"pd": expit(logit.to_numpy()), "score": score.astype(np.int64),
                             "grade": grade_of(score, self.bands)}, index=logit.index)

    # -------------------------------------------------------------- catalog view
    def feature_label(self, feature: str, lang: str = "ko") -> str:
        """Catalog label of a feature, or its name when it is not in the catalog."""
        spec = self._entries[feature]["catalog"]
        return spec[f"label_{'ko' if lang == 'ko' else 'en'}"] if spec else feature

    def feature_reason(self, feature: str, lang: str = "ko") -> str:
        """Catalog reason-code text of a feature; a generic sentence when it is not in the catalog."""
        spec = self._entries[feature]["catalog"]
        if spec:
            return spec[f"reason_{'ko' if lang == 'ko' else 'en'}"]
        return f"{feature} 항목이 점수를 낮췄습니다" if lang == "ko" else f"{feature} lowered the score"

    def feature_actionable(self, feature: str) -> bool:
        """Whether the merchant can act on the feature (catalog flag; False when not in the catalog)."""
        spec = self._entries[feature]["catalog"]
        return bool(spec and spec["actionable"])

    # -------------------------------------------------------------- artifact
    def save(self, path: str | Path) -> Path:
        """Write ``booster.txt`` and ``card.json`` into the folder ``path``, atomically: files go
        to a temporary sibling folder that is then renamed into place. An existing model folder
        is replaced; an existing folder that is not a model is refused.

        Returns
        -------
        Path
            The folder written.
        """
        target = Path(path)
        if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / CARD_FILE).exists())):
            raise ModelError(f"refusing to overwrite {target}: it exists and is not a model folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            (tmp / BOOSTER_FILE).write_text(self.booster_text, encoding="utf-8")
            (tmp / CARD_FILE).write_text(json.dumps(self.card, indent=2, ensure_ascii=False), encoding="utf-8")
            old = None
            if target.exists():
                old = target.parent / f".{target.name}.old-{os.getpid()}-{tmp.name[-8:]}"
                os.replace(target, old)
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target


def _content_hash(booster_text: str, card: Mapping[str, Any]) -> str:
    content = {
        "calibration": card["calibration"],
        "features": [f["name"] for f in card["features"]],
        "categorical_levels": card["categorical_levels"],
        "scale": card["scale"],
        "grade_boundaries": card["grade_boundaries"],
    }
    h = hashlib.sha256(booster_text.encode("utf-8"))
    h.update(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:12]


def load_model(path: str | Path) -> CreditModel:
    """Read and validate a model folder written by :meth:`CreditModel.save`.

    Raises
    ------
    ModelError
        The folder or a file is missing, ``card.json`` is not valid JSON or lacks entries,
        ``booster.txt`` cannot be parsed, the files do not match the card's version hash, or
        the booster's features differ from the card's.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelError(f"model folder not found: {folder}")
    for name in (BOOSTER_FILE, CARD_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"model folder {folder} has no {name}")
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / CARD_FILE} is not valid JSON: {exc}") from None
    if not isinstance(card, dict):
        raise ModelError(f"{folder / CARD_FILE} must hold a JSON object; got {type(card).__name__}")
    missing = [k for k in _REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise ModelError(f"{folder / CARD_FILE} lacks {', '.join(missing)}")
    booster_path, card_path = folder / BOOSTER_FILE, folder / CARD_FILE
    try:
        text = booster_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{booster_path} is corrupted: not a LightGBM model text") from None
    # LightGBM aborts the whole process on some malformed model strings, so nothing reaches it
    # before the text is known to be whole and to be the one the card describes
    names = re.search(r"^feature_names=(.*)$", text, flags=re.MULTILINE)
    if not text.startswith("tree") or "end of trees" not in text or names is None:
        raise ModelError(f"{booster_path} is corrupted: not a complete LightGBM model text")
    try:
        card_features = [f["name"] for f in card["features"]]
        digest = _content_hash(text, card)
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{card_path} has an invalid features entry: {exc!r}") from None
    booster_features = names.group(1).split()
    if booster_features != card_features:
        raise ModelError(f"feature list of {card_path} ({', '.join(map(str, card_features))}) does not match "
                         f"{booster_path} ({', '.join(booster_features)})")
    if digest != card["version"]:
        raise ModelError(f"{folder} does not match its card: content hash {digest}, card version "
                         f"{card['version']}; booster.txt or card.json was changed or corrupted")
    try:
        model = CreditModel(text, card)
    except lgb.basic.LightGBMError as exc:
        raise ModelError(f"{booster_path} is corrupted: {exc}") from None
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelError(f"{card_path} has an invalid entry: {exc}") from None
    return model


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


def train_model(X: pd.DataFrame, y: pd.Series, *, time: pd.Series | None = None,
                exclude_sensitive: bool = False, params: dict[str, Any] | None = None,
                scale: ScoreScale | None = None, bands: GradeBands | None = None,
                catalog: Mapping[str, FeatureSpec] | None = None, valid_share: float = 0.3,
                n_folds: int = 5, seed: int = 0, data_fingerprint: str = "",
                oracle_pd: pd.Series | None = None) -> CreditModel:
    """Train, validate and calibrate a LightGBM credit model.

    Parameters
    ----------
    X : DataFrame
        Feature table, one row per merchant; every column is a feature. Pandas categorical,
        string and object columns are categorical (levels fixed at training), the rest numeric.
    y : Series of 0/1
        1 = default (bad).
    time : Series, optional
        Sortable period of each row (e.g. "YYYY-MM"). Given: out-of-time validation on the latest
        periods (≈ ``valid_share`` of rows) with early stopping there; the model trained on the
        earlier periods is the one kept. Not given: stratified ``n_folds``-fold out-of-fold
        predictions, early stopping per fold, final model on all rows with the mean best
        iteration.
    exclude_sensitive : bool
        Drop catalog features flagged sensitive.
    params : dict, optional
        Overrides of :data:`DEFAULT_PARAMS`; may also hold ``num_boost_round`` and
        ``early_stopping_rounds``.
    scale, bands : optional
        Score scale and grade boundaries stored with the model (defaults: ``ScoreScale()``,
        ``GradeBands()``).
    catalog : dict, optional
        Feature name -> FeatureSpec; defaults to the shipped catalog.
    valid_share, n_folds, seed
        Validation settings.
    data_fingerprint : str
        Fingerprint of the training data, recorded in the card.
    oracle_pd : Series, optional
        Known true PD per row (synthetic books); its AUC on the validation rows is recorded as
        ``oracle_auc``.

    Returns
    -------
    CreditModel
        With ``card["metrics"]`` holding out-of-sample ``auc``, ``gini``, ``ks``, ``brier``
        (and ``oracle_auc`` when given).
    """
    catalog = feature_catalog() if catalog is None else catalog
    entries, levels, excluded = _layout(X, catalog, exclude_sensitive)
    target = _check_target(y, X)
    features = [e["name"] for e in entries]
    matrix = _matrix(X, features, levels, {f: {v: i for i, v in enumerate(lv)} for f, lv in levels.items()})
    oracle = None
    if oracle_pd is not None:
        oracle = pd.to_numeric(pd.Series(_aligned(oracle_pd, X, "oracle_pd")), errors="raise").to_numpy(dtype=float)
    if time is None:
        _check_folds(target, n_folds)

    merged = {**DEFAULT_PARAMS, **(params or {})}
    num_boost_round = int(merged.pop("num_boost_round", DEFAULT_NUM_BOOST_ROUND))
    early_stopping_rounds = int(merged.pop("early_stopping_rounds", DEFAULT_EARLY_STOPPING_ROUNDS))
    merged.setdefault("seed", seed)
    merged["monotone_constraints"] = [e["monotone"] for e in entries]
    scale = scale or ScoreScale()
    bands = bands or GradeBands()

    if time is not None:
        fit = _fit_out_of_time(merged, features, levels, matrix, target, _checked_split(time, X, target, valid_share),
                               num_boost_round, early_stopping_rounds)
        fit.validation["valid_share"] = valid_share
    else:
        fit = _fit_kfold(merged, features, levels, matrix, target, n_folds, seed, num_boost_round,
                         early_stopping_rounds)
    booster, best, oos_margin, oos_rows = fit.booster, fit.best, fit.oos_margin, fit.oos_rows
    oos_y = target[oos_rows]

    a, b = fit_platt(oos_margin, oos_y)
    if not a > 0:
        raise ModelError(f"calibration slope must be positive; got {a:.4g}: the model does not rank the "
                         "validation rows (too little data or no signal)")
    oos_pd = expit(a * oos_margin + b)
    result = _metrics(oos_pd, oos_y)
    result["bad_rate"] = float(oos_y.mean())
    result["mean_pd"] = float(oos_pd.mean())
    if oracle is not None:
        result["oracle_auc"] = M.auc(oracle[oos_rows], oos_y)

    booster_text = booster.model_to_string(num_iteration=best)
    final = lgb.Booster(model_str=booster_text)
    train_margin = final.predict(matrix[fit.train_rows], raw_score=True)
    result["train_auc"] = M.auc(train_margin, target[fit.train_rows])
    train_scores = score_from_logit(a * train_margin + b, scale)
    clean_params = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in merged.items()}
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
        "unused_features": [f for f, n in zip(features, final.feature_importance("split")) if n == 0],
        "params": clean_params,
        "num_boost_round": num_boost_round,
        "early_stopping_rounds": early_stopping_rounds,
        "best_iteration": best,
        "validation": fit.validation,
        "data_fingerprint": data_fingerprint,
        "metrics": result,
        "calibration": {"a": a, "b": b,
                        "fitted_on": "validation window" if time is not None else "out-of-fold margins"},
        "scale": scale.to_dict(),
        "grade_boundaries": list(bands.boundaries),
        # score distribution of the training rows, for the report and drift checks
        "score_quantiles": {f"p{q}": float(np.quantile(train_scores, q / 100)) for q in range(0, 101, 10)},
    }
    card["version"] = _content_hash(booster_text, card)
    model = CreditModel(booster_text, card)
    log.info("trained model %s: %d features, %d trees, auc %.3f", model.version, len(features), best, result["auc"])
    return model


# ------------------------------------------------------------------ challenger scorecard

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
                    scale: ScoreScale | None = None, valid_share: float = 0.3, n_folds: int = 5,
                    seed: int = 0) -> ScorecardResult:
    """Challenger: optimal WoE binning (optbinning ``BinningProcess``, monotone trends from the
    catalog) and a logistic-regression ``Scorecard``, validated on the same split as
    :func:`train_model` with the same arguments.

    Returns
    -------
    ScorecardResult
    """
    catalog = feature_catalog() if catalog is None else catalog
    entries, levels, _ = _layout(X, catalog, exclude_sensitive)
    target = _check_target(y, X)
    split = _checked_split(time, X, target, valid_share) if time is not None else None
    fit_rows = split.train_mask if split is not None else np.ones(len(X), dtype=bool)
    # optbinning cannot bin a column without at least two distinct values in the fitting rows
    distinct = X.loc[fit_rows, [e["name"] for e in entries]].nunique(dropna=True)
    dropped = {f: f"{int(n)} distinct value(s) in the training rows" for f, n in distinct.items() if n < 2}
    entries = [e for e in entries if e["name"] not in dropped]
    if not entries:
        raise ConfigError("no feature has at least two distinct values in the training rows")
    features = [e["name"] for e in entries]
    categorical = [f for f in features if f in levels]
    trends = {}
    for e in entries:
        if e["kind"] == "numeric" and e["monotone"]:
            trends[e["name"]] = "ascending" if e["monotone"] > 0 else "descending"  # event rate vs value
    frame = _scorecard_frame(X, features, set(categorical))
    scale = scale or ScoreScale()
    if split is not None:
        tr, va = split.train_mask, split.valid_mask
        scorecard = _fit_scorecard(frame[tr], target[tr], features, categorical, trends, scale)
        oos_pd, oos_y = scorecard.predict_proba(frame[va])[:, 1], target[va]
        validation = {"method": "out_of_time", "train": _window(tr, target, split.train_periods),
                      "valid": _window(va, target, split.valid_periods)}
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
