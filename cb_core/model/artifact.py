"""The credit model as it is used: a model folder (booster text + card) read, checked and scored,
without LightGBM.

Scoring walks the trees with our own predictor (:mod:`cb_core.model.trees`, equal to
``Booster.predict``), so loading and scoring a model imports neither LightGBM nor the scikit-learn
LightGBM's Python package pulls in; :attr:`CreditModel.booster` builds the LightGBM booster on first
use, for what needs LightGBM itself (training, ``pred_contrib`` comparisons). Training is
:mod:`cb_core.model.credit_model`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..diskio import disk_errors
from ..errors import ConfigError, MissingFeaturesError, ModelError
from .scale import GradeBands, ScoreScale, grade_of, pd_from_logit, score_from_logit
from ._inputs import BOOSTER_FILE, CARD_FILE, _REQUIRED_CARD_KEYS, SINGLE_THREAD_ROWS, _frame, booster_names, feature_matrix
from .trees import TreeEnsemble
from ..lazy import LazyModule

pd = LazyModule("pandas")

if TYPE_CHECKING:
    import lightgbm as lgb

    from ..features import FeatureColumns

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
        self.trees = TreeEnsemble(booster_text)
        self._booster: lgb.Booster | None = None
        self.features: list[str] = [f["name"] for f in card["features"]]
        self.categorical_levels: dict[str, list[Any]] = {k: list(v) for k, v in card["categorical_levels"].items()}
        self._level_codes = {f: {v: i for i, v in enumerate(lv)} for f, lv in self.categorical_levels.items()}
        self.calibration: tuple[float, float] = (float(card["calibration"]["a"]), float(card["calibration"]["b"]))
        self.scale = ScoreScale(**card["scale"])
        self.bands = GradeBands(tuple(card["grade_boundaries"]))
        self._entries = {f["name"]: f for f in card["features"]}
        #: The folder :func:`load_model` read it from (None when trained or built in memory): what is
        #: derived from the model once per model (the explainer's tables) may be kept there.
        self.folder: Path | None = None

    def __repr__(self) -> str:
        return f"CreditModel(version={self.version!r}, features={len(self.features)})"

    @property
    def booster(self) -> lgb.Booster:
        """The LightGBM booster of :attr:`booster_text`, built on first use (scoring does not need it)."""
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    @property
    def version(self) -> str:
        """Content hash of booster, calibration, features, scale and grade boundaries (12 hex)."""
        return str(self.card["version"])

    # -------------------------------------------------------------- data in
    def check_features(self, X: pd.DataFrame | pd.Series | FeatureColumns) -> None:
        """Raise :class:`MissingFeaturesError` naming every model feature absent from ``X``."""
        present = X.columns if hasattr(X, "columns") else X.index  # a Series (one merchant) has no columns
        missing = [f for f in self.features if f not in present]
        if missing:
            raise MissingFeaturesError(f"model needs features missing from the data: {', '.join(missing)}", key="err_model_features_missing", missing=', '.join(missing))

    def matrix(self, X: pd.DataFrame | pd.Series | FeatureColumns) -> np.ndarray:
        """``X`` (a frame, one merchant as a Series, or a snapshot's columns) as the float matrix the booster reads:
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
        raw = self.trees.raw_margin(self.matrix(X))  # = booster.predict(raw_score=True), without LightGBM
        return pd.Series(raw, index=self._index(X), name="margin")

    def logit(self, X: pd.DataFrame | pd.Series) -> pd.Series:
        """Calibrated log-odds of default: ``a * margin + b``."""
        a, b = self.calibration
        return (a * self.margin(X) + b).rename("logit")

    def predict_pd(self, X: pd.DataFrame | pd.Series) -> pd.Series:
        """Calibrated probability of default per row."""
        return pd.Series(pd_from_logit(self.logit(X).to_numpy()), index=self._index(X), name="pd")

    def score(self, X: pd.DataFrame | pd.Series) -> pd.DataFrame:
        """PD, score (whole points, clipped to 1–1000) and grade per row, index preserved."""
        return self.score_margin(self.margin(X).to_numpy(), self._index(X))

    def score_margin(self, margin: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """:meth:`score` from raw margins already computed (one per row of ``index``)."""
        return pd.DataFrame(self.score_values(margin), index=index)

    def score_values(self, margin: np.ndarray) -> dict[str, np.ndarray]:
        """``pd``, ``score`` (whole points, clipped to 1–1000) and ``grade`` arrays of raw margins."""
        a, b = self.calibration
        logit = a * np.asarray(margin, dtype=float) + b
        score = score_from_logit(logit, self.scale, rounded=True)
        return {"pd": pd_from_logit(logit), "score": score.astype(np.int64), "grade": grade_of(score, self.bands)}

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
               if folder.exists() else ModelError(f"model folder not found: {folder}", key="err_model_folder_not_found",
                                                  folder=folder))
    for name in (BOOSTER_FILE, CARD_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"model folder {folder} has no {name}", key="err_credit_model_model_folder_folder_name", folder=folder, name=name)
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{folder / CARD_FILE} is not valid JSON: {exc}", key="err_credit_model_folder_valid_json_exc", folder=folder / CARD_FILE, exc=exc) from None
    except OSError as exc:
        raise ModelError(f"cannot read {folder / CARD_FILE}: {exc.strerror or exc}", key="err_credit_model_cannot_read_folder_value", folder=folder / CARD_FILE, value=exc) from None
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
        raise ModelError(f"cannot read {booster_path}: {exc.strerror or exc}", key="err_credit_model_cannot_read_booster_path", booster_path=booster_path, value=exc) from None
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
    except ModelError as exc:  # the trees themselves do not parse
        raise ModelError(f"{booster_path} is corrupted: {exc}", key="err_credit_model_booster_path_corrupted_exc", booster_path=booster_path, exc=exc) from None
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise ModelError(f"{card_path} has an invalid entry: {exc}", key="err_credit_model_card_path_invalid_entry", card_path=card_path, exc=exc) from None
    model.folder = folder
    return model
