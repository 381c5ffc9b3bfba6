"""The credit model: LightGBM with monotone constraints, out-of-time validation, Platt calibration
linear in the margin, and a versioned artifact folder; plus a WoE scorecard challenger.

The model is generic over a feature table: features named in the catalog get its monotone
constraint (``risk_direction``, a constraint on the PD) and its labels; other columns get no
constraint and their own name as label.

Split by concern: inputs and layout in :mod:`cb_core.model._inputs`, the validation windows in
:mod:`cb_core.model._windows`, calibration and booster fitting in :mod:`cb_core.model._training`,
the scorecard challenger in :mod:`cb_core.model.scorecard`; a small own table's choice of LightGBM, a
WoE/logistic scorecard or their blend (all LightGBM trees) in :mod:`cb_core.model._choice`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit

from . import metrics as M
from ..data import FeatureSpec, feature_catalog
from ..diskio import disk_errors
from ..errors import ConfigError, MissingFeaturesError, ModelError
from .scale import GradeBands, ScoreScale, grade_of, score_from_logit
from ._inputs import (
    _REQUIRED_CARD_KEYS, BOOSTER_FILE, CARD_FILE, CARD_FORMAT, DEFAULT_EARLY_STOPPING_ROUNDS,
    DEFAULT_NUM_BOOST_ROUND, DEFAULT_PARAMS, SINGLE_THREAD_ROWS, _aligned, _check_target, _frame, booster_names,
    feature_layout, feature_matrix,
)
from ._choice import SMALL_TABLE_ROWS, fit_out_of_time_with_choice, fit_with_choice
from ._training import _check_folds, _fit_nested, _fit_out_of_time, checked_windows
from ._windows import TEST_SHARE, VALID_SHARE
log = logging.getLogger(__name__)

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
            raise MissingFeaturesError(f"model needs features missing from the data: {', '.join(missing)}", key="err_model_features_missing", missing=', '.join(missing))

    def matrix(self, X: pd.DataFrame | pd.Series) -> np.ndarray:
        """``X`` (a frame, or one merchant as a Series) as the float matrix the booster reads:
        model column order, categories as their training code, unseen categories missing."""
        self.check_features(X)
        return feature_matrix(X, self.features, self.categorical_levels, self._level_codes)

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
            raise ModelError(f"refusing to overwrite {target}: it exists and is not a model folder", key="err_credit_model_refusing_overwrite_target_exists", target=target)
        with disk_errors(target, "the model"):
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
        raise (ModelError(f"{folder} is a file, not a model folder", key="err_model_folder_is_file", folder=folder)
               if folder.exists() else ModelError(f"model folder not found: {folder}", key="err_model_folder_not_found", folder=folder))
    for name in (BOOSTER_FILE, CARD_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"model folder {folder} has no {name}", key="err_credit_model_model_folder_folder_name", folder=folder, name=name)
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / CARD_FILE} is not valid JSON: {exc}", key="err_credit_model_folder_valid_json_exc", folder=folder / CARD_FILE, exc=exc) from None
    except OSError as exc:
        raise ModelError(f"cannot read {folder / CARD_FILE}: {exc.strerror or exc}", key="err_credit_model_cannot_read_folder_value", folder=folder / CARD_FILE, value=exc.strerror or exc) from None
    if not isinstance(card, dict):
        raise ModelError(f"{folder / CARD_FILE} must hold a JSON object; got {type(card).__name__}", key="err_credit_model_folder_hold_json_object", folder=folder / CARD_FILE, kind=type(card).__name__)
    missing = [k for k in _REQUIRED_CARD_KEYS if k not in card]
    if missing:
        raise ModelError(f"{folder / CARD_FILE} lacks {', '.join(missing)}", key="err_credit_model_folder_lacks_missing", folder=folder / CARD_FILE, missing=', '.join(missing))
    booster_path, card_path = folder / BOOSTER_FILE, folder / CARD_FILE
    try:
        text = booster_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{booster_path} is corrupted: not a LightGBM model text", key="err_credit_model_booster_path_corrupted_lightgbm", booster_path=booster_path) from None
    except OSError as exc:
        raise ModelError(f"cannot read {booster_path}: {exc.strerror or exc}", key="err_credit_model_cannot_read_booster_path", booster_path=booster_path, value=exc.strerror or exc) from None
    # LightGBM aborts the whole process on some malformed model strings, so nothing reaches it
    # before the text is known to be whole and to be the one the card describes
    names = re.search(r"^feature_names=(.*)$", text, flags=re.MULTILINE)
    if not text.startswith("tree") or "end of trees" not in text or names is None:
        raise ModelError(f"{booster_path} is corrupted: not a complete LightGBM model text", key="err_credit_model_booster_path_corrupted_complete", booster_path=booster_path)
    try:
        card_features = [f["name"] for f in card["features"]]
        digest = _content_hash(text, card)
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{card_path} has an invalid features entry: {exc!r}", key="err_credit_model_card_path_invalid_features", card_path=card_path, exc=exc) from None
    booster_features = names.group(1).split()
    if booster_features != booster_names([str(f) for f in card_features]):
        raise ModelError(f"feature list of {card_path} ({', '.join(map(str, card_features))}) does not match "
                         f"{booster_path} ({', '.join(booster_features)})", key="err_credit_model_feature_list_card_path", card_path=card_path, value=', '.join(map(str, card_features)), booster_path=booster_path, booster_features=', '.join(booster_features))
    if digest != card["version"]:
        raise ModelError(f"{folder} does not match its card: content hash {digest}, card version "
                         f"{card['version']}; booster.txt or card.json was changed or corrupted", key="err_credit_model_folder_does_match_card", folder=folder, digest=digest, card=card['version'])
    try:
        model = CreditModel(text, card)
    except lgb.basic.LightGBMError as exc:
        raise ModelError(f"{booster_path} is corrupted: {exc}", key="err_credit_model_booster_path_corrupted_exc", booster_path=booster_path, exc=exc) from None
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelError(f"{card_path} has an invalid entry: {exc}", key="err_credit_model_card_path_invalid_entry", card_path=card_path, exc=exc) from None
    return model


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
