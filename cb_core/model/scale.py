"""PD -> score points (PDO scaling) -> grade.

``score = offset + factor * ln(odds good:bad) = offset - factor * logit(PD)`` with
``factor = PDO / ln 2`` and ``offset = base_score - factor * ln(base_odds)``; scores are clipped
to 1–1000. Grades run from 1 (best) to 10 and come from nine descending score boundaries: a score
at or above ``boundaries[0]`` is grade 1, a score below ``boundaries[8]`` is grade 10.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Settings, get_settings
from ..errors import ConfigError
from ..lazy import LazyModule

pd = LazyModule("pandas")

SCORE_MIN: float = 1.0
SCORE_MAX: float = 1000.0
N_GRADES: int = 10
DEFAULT_GRADE_BOUNDARIES: tuple[float, ...] = (680, 660, 640, 620, 600, 580, 560, 540, 500)


@dataclass(frozen=True)
class ScoreScale:
    """Points-to-double-odds scaling of a log-odds model into score points.

    Parameters
    ----------
    pdo : float
        Points that double the good:bad odds (> 0).
    base_score : float
        Score at ``base_odds``.
    base_odds : float
        Good:bad odds that map to ``base_score`` (> 0), e.g. 50 for 50:1.
    """

    pdo: float = 40.0
    base_score: float = 600.0
    base_odds: float = 50.0

    def __post_init__(self) -> None:
        for name in ("pdo", "base_score", "base_odds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number; got {value!r}", key="err_scale_name_finite_number_got", name=name, value=value)
        if self.pdo <= 0:
            raise ConfigError(f"pdo must be greater than 0; got {self.pdo}", key="err_scale_pdo_greater_than_got", pdo=self.pdo)
        if self.base_odds <= 0:
            raise ConfigError(f"base_odds must be greater than 0; got {self.base_odds}", key="err_scale_base_odds_greater_than", base_odds=self.base_odds)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ScoreScale:
        """The scale configured in the settings (``pdo``, ``base_score``, ``base_odds``; default: the
        current :func:`~cb_core.config.get_settings`): the scale a model is trained with."""
        s = settings or get_settings()
        return cls(pdo=s.pdo, base_score=s.base_score, base_odds=s.base_odds)

    @property
    def factor(self) -> float:
        """Points per unit of log-odds: ``pdo / ln 2``."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score at even odds (1:1): ``base_score - factor * ln(base_odds)``."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def to_dict(self) -> dict[str, float]:
        return {"pdo": float(self.pdo), "base_score": float(self.base_score), "base_odds": float(self.base_odds)}


@dataclass(frozen=True)
class GradeBands:
    """Score boundaries of grades 1 (best) to 10.

    Parameters
    ----------
    boundaries : tuple of 9 floats
        Strictly descending scores within 1–1000; ``boundaries[i]`` is the lowest score of
        grade ``i + 1``.
    """

    boundaries: tuple[float, ...] = DEFAULT_GRADE_BOUNDARIES

    def __post_init__(self) -> None:
        b = tuple(self.boundaries)
        if len(b) != N_GRADES - 1:
            raise ConfigError(f"grade boundaries must be {N_GRADES - 1} scores; got {len(b)}: {list(b)}", key="err_scale_grade_boundaries_n_grades", N_GRADES=N_GRADES - 1, n_b=len(b), b=list(b))
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                   and math.isfinite(v) for v in b):
            raise ConfigError(f"grade boundaries must be finite numbers; got {list(b)}", key="err_scale_grade_boundaries_finite_numbers", b=list(b))
        if any(later >= earlier for earlier, later in zip(b, b[1:])):
            raise ConfigError(f"grade boundaries must be strictly descending; got {list(b)}", key="err_scale_grade_boundaries_strictly_descending", b=list(b))
        if b[0] > SCORE_MAX or b[-1] < SCORE_MIN:
            raise ConfigError(f"grade boundaries must be within 1–1000; got {list(b)}", key="err_scale_grade_boundaries_within_got", b=list(b))
        object.__setattr__(self, "boundaries", tuple(float(v) for v in b))

    def table(self, scale: ScoreScale | None = None) -> pd.DataFrame:
        """One row per grade: score range and the PD at its edges.

        Returns
        -------
        DataFrame
            ``grade``, ``score_from`` (inclusive), ``score_to`` (exclusive; 1000 inclusive for
            grade 1), ``pd_at_score_from``, ``pd_at_score_to``.
        """
        upper = (SCORE_MAX, *self.boundaries)
        lower = (*self.boundaries, SCORE_MIN)
        frame = pd.DataFrame({"grade": np.arange(1, N_GRADES + 1), "score_from": lower, "score_to": upper})
        frame["pd_at_score_from"] = pd_from_score(frame["score_from"].to_numpy(), scale)
        frame["pd_at_score_to"] = pd_from_score(frame["score_to"].to_numpy(), scale)
        return frame


def _as_float_array(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be numeric; got {type(values).__name__}", key="err_scale_name_numeric_got_kind", name=name, kind=type(values).__name__) from None


def _restore(result: np.ndarray, like: Any, name: str) -> Any:
    if pd.loaded() and isinstance(like, pd.Series):
        return pd.Series(result, index=like.index, name=name)
    if np.ndim(like) == 0:
        return result.item()
    return result


def score_from_logit(logit: Any, scale: ScoreScale | None = None, *, clip: bool = True,
                     rounded: bool = False) -> Any:
    """Score points of a log-odds of *bad*: ``offset - factor * logit``.

    Parameters
    ----------
    logit : float, array-like or Series
        ``ln(PD / (1 - PD))``.
    scale : ScoreScale, optional
        Defaults to ``ScoreScale()`` (PDO 40, 600 at 50:1).
    clip : bool
        Clip to 1–1000.
    rounded : bool
        Round to whole points (after clipping).

    Returns
    -------
    float, ndarray or Series
        Same shape as the input (a Series keeps its index).
    """
    s = scale or ScoreScale()
    z = _as_float_array(logit, "logit")
    with np.errstate(over="ignore", invalid="ignore"):
        out = s.offset - s.factor * z
    if clip:
        out = np.clip(out, SCORE_MIN, SCORE_MAX)
    if rounded:
        out = np.round(out)
    return _restore(out, logit, "score")


def score_from_pd(pd_: Any, scale: ScoreScale | None = None, *, clip: bool = True,
                  rounded: bool = False) -> Any:
    """Score points of a probability of default.

    Parameters
    ----------
    pd_ : float, array-like or Series
        Probabilities of default within [0, 1]; NaN stays NaN. PD 0 scores 1000, PD 1 scores 1
        when clipped.
    scale, clip, rounded
        As in :func:`score_from_logit`.

    Returns
    -------
    float, ndarray or Series
        E.g. PD 1/51 -> 600, PD 1/101 -> 639.5 with the default scale.
    """
    p = _as_float_array(pd_, "pd")
    finite = p[~np.isnan(p)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise ConfigError(f"pd must be within 0–1; got values from {finite.min()} to {finite.max()}", key="err_scale_pd_within_got_values", value=finite.min(), value2=finite.max())
    with np.errstate(divide="ignore"):
        logit = np.log(p) - np.log1p(-p)
    return _restore(np.asarray(score_from_logit(logit, scale, clip=clip, rounded=rounded)), pd_, "score")


def pd_from_score(score: Any, scale: ScoreScale | None = None) -> Any:
    """Probability of default that a score stands for (the inverse of :func:`score_from_pd`).

    Returns
    -------
    float, ndarray or Series
        ``1 / (1 + exp((score - offset) / factor))``.
    """
    s = scale or ScoreScale()
    x = _as_float_array(score, "score")
    logit = (s.offset - x) / s.factor
    with np.errstate(over="ignore"):
        out = 1.0 / (1.0 + np.exp(-logit))
    return _restore(out, score, "pd")


def pd_from_logit(logit: Any) -> np.ndarray:
    """Probability of default of calibrated log-odds, ``1 / (1 + exp(-logit))``: the formula of
    ``scipy.special.expit`` (equal to it within one unit in the last place: numpy's ``exp`` is not
    the C library's everywhere), without importing scipy, a quarter of a second of every ``score``
    process.

    Returns
    -------
    ndarray of float
        Same shape as ``logit``; NaN stays NaN, very negative log-odds give 0.
    """
    z = np.asarray(logit, dtype=float)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def grade_of(score: Any, bands: GradeBands | None = None) -> Any:
    """Grade 1 (best) to 10 of each score; a score equal to a boundary gets the better grade.

    Parameters
    ----------
    score : float, array-like or Series
        Finite scores.
    bands : GradeBands, optional
        Defaults to ``GradeBands()``.

    Returns
    -------
    int, ndarray of int or Series of int
    """
    b = bands or GradeBands()
    x = _as_float_array(score, "score")
    if np.isnan(x).any():
        raise ConfigError(f"scores must not be missing to get a grade; got {int(np.isnan(x).sum())} missing", key="err_scale_scores_missing_get_grade", value=int(np.isnan(x).sum()))
    # boundaries descend; count how many boundaries lie strictly above the score
    ascending = np.asarray(b.boundaries[::-1])
    above = len(ascending) - np.searchsorted(ascending, x, side="right")
    out = (above + 1).astype(np.int64)
    return _restore(out, score, "grade")
