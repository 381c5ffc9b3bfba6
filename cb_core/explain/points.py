"""Why a score is what it is: per-feature contributions in score points, reason codes, what-if.

LightGBM's TreeSHAP contributions (``pred_contrib=True``) are in margin units and add up to the
margin. Calibration is linear in the margin and the score linear in the calibrated log-odds, so
``points_j = -factor * a * contrib_j`` and ``base_points = offset - factor * (a * expected + b)``
add up exactly to the score before rounding and clipping.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError, MissingFeaturesError
from ..model import CreditModel
from ..model import grade_of, pd_from_logit, score_from_logit
from .reasons import reason_kind, reason_text, value_text
from ..lazy import LazyModule

pd = LazyModule("pandas")

POINTS_PREFIX = "points__"
BASE_COLUMN = "base_points"
LANGS = ("ko", "en")


def points_column(feature: str) -> str:
    """Column of ``feature`` in a points frame."""
    return f"{POINTS_PREFIX}{feature}"


def _contrib(model: CreditModel, X: pd.DataFrame | pd.Series) -> np.ndarray:
    """Exact TreeSHAP contributions (+ expected value last), as LightGBM's ``pred_contrib`` gives
    them, computed by :mod:`cb_core.explain.fastshap` (equal to 1e-9; 20-70x faster, bench/RESULTS.md)."""
    from .fastshap import pred_contrib  # lazily: the kernels load on the first explanation

    return pred_contrib(model, X)


def _feature_columns(points_frame: pd.DataFrame) -> list[str]:
    cols = [c for c in points_frame.columns if str(c).startswith(POINTS_PREFIX)]
    if not cols:
        raise ConfigError(f"a points frame needs {POINTS_PREFIX}<feature> columns; "
                          f"got {list(points_frame.columns)[:5]}", key="err_points_points_frame_needs_points", POINTS_PREFIX=POINTS_PREFIX, columns=list(points_frame.columns)[:5])
    return cols


def _index(X: pd.DataFrame | pd.Series) -> pd.Index:
    return pd.Index([X.name]) if isinstance(X, pd.Series) else X.index


def contributions_to_points(model: CreditModel, contrib: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """TreeSHAP contributions (margin units, expected value last) in score points: ``points_j = -factor
    * a * contrib_j`` and ``base = offset - factor * (a * expected + b)`` (DESIGN.md), so
    ``score = base + sum(points)`` before rounding and clipping."""
    names, values = points_values(model, contrib)
    return pd.DataFrame(values, index=index, columns=names, copy=False)


def points_values(model: CreditModel, contrib: np.ndarray) -> tuple[list[str], np.ndarray]:
    """:func:`contributions_to_points` as its column names (``base_points``, ``points__<feature>``) and a
    matrix, one column each."""
    a, b = model.calibration
    factor, offset = model.scale.factor, model.scale.offset
    values = np.empty_like(contrib)
    values[:, 0] = offset - factor * (a * contrib[:, -1] + b)
    np.multiply(contrib[:, :-1], -factor * a, out=values[:, 1:])  # no temporary (1M merchants: 240 MB)
    return [BASE_COLUMN, *map(points_column, model.features)], values


def contributions(model: CreditModel, X: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """TreeSHAP contributions in margin (log-odds) units.

    Returns
    -------
    DataFrame
        One column per model feature plus ``expected_value``; each row sums to the margin.
    """
    contrib = _contrib(model, X)
    return pd.DataFrame(contrib, index=_index(X), columns=[*model.features, "expected_value"])


def points_by_feature(model: CreditModel, X: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Each feature's contribution to the score, in points.

    Parameters
    ----------
    model : CreditModel
    X : DataFrame, or one merchant as a Series (fast path)

    Returns
    -------
    DataFrame
        ``base_points`` and ``points__<feature>`` per row, index preserved. Per row,
        ``base_points + sum(points__*)`` equals ``offset - factor * (a * margin + b)``, the score
        before rounding and clipping. Negative points lower the score.
    """
    contrib = _contrib(model, X)
    return contributions_to_points(model, contrib, _index(X))


def reference_points(points_frame: pd.DataFrame, scores: Any, cutoff: float, band: float = 20) -> pd.Series:
    """Mean points of the merchants just above the approval cutoff (``cutoff <= score <=
    cutoff + band``): what a merchant is compared with in reason codes.

    Falls back to the whole population's mean when no merchant lies in the band; the result's
    ``attrs`` record ``rows`` used and ``population_fallback``.

    Returns
    -------
    Series
        Indexed like the columns of ``points_frame``.
    """
    s = np.asarray(scores, dtype=float).ravel()
    if s.size != len(points_frame):
        raise ConfigError(f"scores must have one value per row of the points frame ({len(points_frame)}); got {s.size}", key="err_points_scores_one_value_per", n_points_frame=len(points_frame), size=s.size)
    if isinstance(scores, pd.Series) and not scores.index.equals(points_frame.index):
        raise ConfigError("scores must have the same index as the points frame", key="err_points_scores_same_index_as")
    if not band >= 0:
        raise ConfigError(f"band must be at least 0 points; got {band}", key="err_points_band_least_points_got", band=band)
    in_band = (s >= cutoff) & (s <= cutoff + band)
    fallback = not in_band.any()
    rows = points_frame.to_numpy(dtype=float) if fallback else points_frame.to_numpy(dtype=float)[in_band]
    out = pd.Series(rows.mean(axis=0), index=points_frame.columns, name="reference_points")
    out.attrs.update({"rows": int(len(rows)), "population_fallback": bool(fallback),
                      "cutoff": float(cutoff), "band": float(band)})
    return out


def peer_percentiles(values_frame: pd.DataFrame, groups: Any = None) -> pd.DataFrame:
    """Percentile (0–100) of each numeric value among the peers of its group (e.g. category).

    A value's percentile is its average rank within the group divided by the group's count of
    non-missing values; missing values, and non-numeric columns, get NaN.

    Parameters
    ----------
    values_frame : DataFrame
        Feature values, one row per merchant.
    groups : Series or array-like, optional
        Group of each row; None compares everyone with everyone.

    Returns
    -------
    DataFrame
        Same index and columns as ``values_frame``.
    """
    types = pd.api.types
    numeric = [c for c in values_frame.columns
               if types.is_numeric_dtype(values_frame[c].dtype) and not types.is_bool_dtype(values_frame[c].dtype)]
    data = values_frame[numeric].astype(float)
    if groups is None:
        ranked = data.rank(pct=True, method="average")
    else:
        keys = groups if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups), index=values_frame.index)
        if len(keys) != len(values_frame):
            raise ConfigError(f"groups must have one value per row ({len(values_frame)}); got {len(keys)}", key="err_points_groups_one_value_per", n_values_frame=len(values_frame), n_keys=len(keys))
        if not keys.index.equals(values_frame.index):
            raise ConfigError("groups must have the same index as the values frame", key="err_points_groups_same_index_as")
        ranked = data.groupby(keys.to_numpy(), dropna=False).rank(pct=True, method="average")
        ranked.index = values_frame.index
    return (ranked * 100).reindex(columns=values_frame.columns)


def _one_row(obj: Any, name: str) -> pd.Series:
    if isinstance(obj, pd.DataFrame):
        if len(obj) != 1:
            raise ConfigError(f"{name} must be one merchant's row; got {len(obj)} rows", key="err_points_name_one_merchant_s", name=name, n_obj=len(obj))
        return obj.iloc[0]
    if isinstance(obj, pd.Series):
        return obj
    raise ConfigError(f"{name} must be a pandas Series; got {type(obj).__name__}", key="err_points_name_pandas_series_got", name=name, kind=type(obj).__name__)


def reason_codes(model: CreditModel, x_row_points: pd.Series, values: pd.Series, *,
                 reference_points: pd.Series, peer_percentiles: pd.Series | None,
                 lang: str = "ko", k: int = 4) -> pd.DataFrame:
    """The features that cost this merchant the most points against a reference.

    Parameters
    ----------
    model : CreditModel
    x_row_points : Series
        The merchant's row of :func:`points_by_feature`.
    values : Series
        The merchant's feature values (shown next to each reason).
    reference_points : Series
        From :func:`reference_points`.
    peer_percentiles : Series or None
        The merchant's row of :func:`peer_percentiles`.
    lang : {"ko", "en"}
    k : int
        At most this many reasons.

    Returns
    -------
    DataFrame
        Up to ``k`` rows, most points lost first, only features with a negative delta:
        ``rank``, ``feature``, ``label``, ``delta_points`` (merchant minus reference),
        ``points``, ``reference_points``, ``value``, ``value_text`` (the value as shown: never
        ``nan``), ``peer_percentile``, ``kind`` (``missing``, ``adverse`` or ``relative``: see
        :mod:`cb_core.explain.reasons`), ``reason`` (worded by kind, true of the value),
        ``actionable``. A missing value is its own reason, never "low X".
    """
    if lang not in LANGS:
        raise ConfigError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}", key="err_points_lang_one_langs_got", LANGS=', '.join(LANGS), lang=lang)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a whole number of at least 1; got {k!r}", key="err_points_k_whole_number_least", k=k)
    row = _one_row(x_row_points, "x_row_points")
    cols = [points_column(f) for f in model.features]
    missing = [c for c in cols if c not in row.index or c not in reference_points.index]
    if missing:
        raise ConfigError(f"points missing for: {', '.join(c[len(POINTS_PREFIX):] for c in missing)}", key="err_points_points_missing_value", value=', '.join((c[len(POINTS_PREFIX):] for c in missing)))
    mine = row[cols].to_numpy(dtype=float)
    ref = reference_points[cols].to_numpy(dtype=float)
    delta = mine - ref
    order = np.argsort(delta, kind="mergesort")
    chosen = [j for j in order if delta[j] < 0][:k]
    vals = _one_row(values, "values")
    pct = _one_row(peer_percentiles, "peer_percentiles") if peer_percentiles is not None else pd.Series(dtype=float)
    records = []
    for rank, j in enumerate(chosen, start=1):
        f = model.features[j]
        value, percentile, label = vals.get(f, np.nan), float(pct.get(f, np.nan)), model.feature_label(f, lang)
        kind = reason_kind(f, value, percentile)
        records.append({
            "rank": rank, "feature": f, "label": label,
            "delta_points": float(delta[j]), "points": float(mine[j]), "reference_points": float(ref[j]),
            "value": value, "value_text": value_text(f, value, lang), "peer_percentile": percentile, "kind": kind,
            "reason": reason_text(f, kind, label, model.feature_reason(f, lang), lang),
            "actionable": model.feature_actionable(f),
        })
    columns = ["rank", "feature", "label", "delta_points", "points", "reference_points", "value", "value_text",
               "peer_percentile", "kind", "reason", "actionable"]
    return pd.DataFrame.from_records(records, columns=columns)


def what_if(model: CreditModel, x_row: pd.Series, changes: dict[str, Any]) -> dict[str, Any]:
    """Score one merchant again with some feature values changed.

    Parameters
    ----------
    model : CreditModel
    x_row : Series
        The merchant's feature values.
    changes : dict
        Feature -> new value (a category must be one the model knows).

    Returns
    -------
    dict
        ``pd``, ``score`` (whole points), ``grade``, ``points`` (the new row of
        :func:`points_by_feature`), and ``pd_before``, ``score_before``, ``grade_before``,
        ``score_change``.
    """
    row = _one_row(x_row, "x_row")
    unknown = [c for c in changes if c not in model.features]
    if unknown:
        raise ConfigError(f"what-if changes name features the model does not use: {', '.join(map(str, unknown))}", key="err_points_what_if_changes_name", value=', '.join(map(str, unknown)))
    for f, v in changes.items():
        levels = model.categorical_levels.get(f)
        if levels is not None and v is not None and not (isinstance(v, float) and np.isnan(v)) and v not in levels:
            raise ConfigError(f"{f} must be one of {', '.join(map(str, levels))}; got {v!r}", key="err_points_f_one_value_got", f=f, value=', '.join(map(str, levels)), v=v)
    changed = pd.Series({**row.to_dict(), **changes}, dtype=object, name=row.name)
    from .fastshap import explainer_for

    contrib = explainer_for(model).contributions(np.vstack([model.matrix(row), model.matrix(changed)]))
    a, b = model.calibration
    logit = a * contrib.sum(axis=1) + b
    scores = score_from_logit(logit, model.scale, rounded=True)
    grades = grade_of(scores, model.bands)
    points = contributions_to_points(model, contrib[1:], pd.Index([row.name])).iloc[0]
    return {
        "pd": float(pd_from_logit(logit[1])), "score": int(scores[1]), "grade": int(grades[1]), "points": points,
        "pd_before": float(pd_from_logit(logit[0])), "score_before": int(scores[0]), "grade_before": int(grades[0]),
        "score_change": int(scores[1] - scores[0]),
    }


def importance(points_frame: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute points per feature over the rows, largest first.

    Returns
    -------
    DataFrame
        ``feature``, ``mean_abs_points``, ``mean_points``, ``share`` (of the total mean absolute
        points).
    """
    cols = _feature_columns(points_frame)
    values = points_frame[cols].to_numpy(dtype=float)
    mean_abs = np.abs(values).mean(axis=0)
    total = mean_abs.sum()
    out = pd.DataFrame({
        "feature": [c[len(POINTS_PREFIX):] for c in cols], "mean_abs_points": mean_abs,
        "mean_points": values.mean(axis=0), "share": mean_abs / total if total > 0 else np.zeros_like(mean_abs),
    })
    return out.sort_values("mean_abs_points", ascending=False, kind="mergesort").reset_index(drop=True)


def dependence(points_frame: pd.DataFrame, X: pd.DataFrame, feature: str) -> pd.DataFrame:
    """A feature's value against its points, row by row (for a dependence plot).

    Returns
    -------
    DataFrame
        ``value`` and ``points``, index of ``points_frame``.
    """
    col = points_column(feature)
    if col not in points_frame.columns:
        raise ConfigError(f"the points frame has no points for {feature}", key="err_points_points_frame_points_feature", feature=feature)
    if feature not in X.columns:
        raise MissingFeaturesError(f"model needs features missing from the data: {feature}", key="err_points_model_needs_features_missing", feature=feature)
    if not X.index.equals(points_frame.index):
        raise ConfigError("X must have the same index as the points frame", key="err_points_x_same_index_as")
    return pd.DataFrame({"value": X[feature], "points": points_frame[col]}, index=points_frame.index)
