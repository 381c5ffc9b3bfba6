"""Checkers of the promises a policy makes: positive-only scores, monotone features.

Both return a DataFrame of what is broken; an empty frame means the promise holds.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..data import FeatureSpec, feature_catalog
from ..errors import ConfigError

POSITIVE_ONLY_COLUMNS: tuple[str, ...] = ("merchant_id", "final_score", "bureau_only_score", "shortfall_points")
MONOTONE_COLUMNS: tuple[str, ...] = ("feature", "risk_direction", "measure", "rows_checked", "rows_violating",
                                     "worst_move", "merchant_id", "value_from", "value_to")


def check_positive_only(final: pd.Series, bureau_only: pd.Series, tolerance: float = 1e-9) -> pd.DataFrame:
    """Every merchant whose final score is below its bureau-only score (or missing while the
    bureau-only score is not): alternative data lowered it, which the positive-only option forbids.

    Parameters
    ----------
    final, bureau_only : Series
        Same index; a missing bureau-only score (thin file) promises nothing.
    tolerance : float
        Points a final score may fall short by (rounding).

    Returns
    -------
    DataFrame
        ``merchant_id``, ``final_score``, ``bureau_only_score``, ``shortfall_points``; largest
        shortfall first. Empty when the promise holds.
    """
    if not isinstance(final, pd.Series) or not isinstance(bureau_only, pd.Series):
        raise ConfigError("final and bureau_only must be pandas Series with the same index", key="err_checks_final_bureau_only_pandas")
    if not final.index.equals(bureau_only.index):
        raise ConfigError("final and bureau_only must have the same index", key="err_checks_final_bureau_only_same")
    f = pd.to_numeric(final).to_numpy(dtype=float, na_value=np.nan)
    b = pd.to_numeric(bureau_only).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        broken = ~np.isnan(b) & (np.isnan(f) | (f < b - tolerance))
    out = pd.DataFrame({"merchant_id": final.index[broken], "final_score": f[broken], "bureau_only_score": b[broken],
                        "shortfall_points": (b - f)[broken]}, columns=list(POSITIVE_ONLY_COLUMNS))
    return out.sort_values("shortfall_points", ascending=False, kind="stable", na_position="first"
                           ).reset_index(drop=True)


def _risk(scored: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Risk that must move with the catalog's direction: PD when given, else minus the score."""
    if "pd" in scored:
        return scored["pd"].to_numpy(dtype=float), "pd"
    if "score" in scored:
        return -scored["score"].to_numpy(dtype=float), "points"
    raise ConfigError(f"model.score must return a pd or score column; got {list(scored.columns)}", key="err_checks_model_score_return_pd", columns=list(scored.columns))


def check_monotone(model: Any, X: pd.DataFrame, features: Sequence[str] | None = None, n_rows: int = 200,
                   grid: int = 15, *, seed: int = 0, catalog: Mapping[str, FeatureSpec] | None = None,
                   tolerance: float = 1e-12) -> pd.DataFrame:
    """Sweep each constrained feature over a grid on sample rows; report moves against the constraint.

    For every catalog feature with a non-zero ``risk_direction`` (+1: more of it must never lower
    the PD; -1: never raise it), ``n_rows`` sample rows of ``X`` get the feature set to each of
    ``grid`` quantiles of its values in ``X``, everything else held; the model scores all of them
    in one call. A step between neighbouring grid values that moves the risk against the
    direction by more than ``tolerance`` is a violation.

    Parameters
    ----------
    model : object
        Anything with ``score(DataFrame) -> DataFrame`` holding ``pd`` (preferred) or ``score``
        (more points = less risk), e.g. :class:`~cb_core.model.credit_model.CreditModel`.
    X : DataFrame
        Feature rows (the model's input).
    features : list of str, optional
        Features to check; default every constrained catalog feature present in ``X`` (and in
        ``model.features`` when the model has that attribute).
    n_rows, grid : int
        Sample rows (deterministic by ``seed``) and grid points.
    catalog : mapping, optional
        Feature catalog; defaults to the shipped one.
    tolerance : float
        Largest move against the constraint ignored (PD units, or points when only a score is given).

    Returns
    -------
    DataFrame
        One row per violating feature: ``feature``, ``risk_direction``, ``measure`` (``pd`` or
        ``points``), ``rows_checked``, ``rows_violating``, ``worst_move`` (largest move against the
        constraint), and where it happened: ``merchant_id``, ``value_from``, ``value_to``. Empty
        when every constraint holds.
    """
    catalog = feature_catalog() if catalog is None else catalog
    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        raise ConfigError("X must be a non-empty DataFrame", key="err_checks_x_non_empty_dataframe")
    if n_rows < 1 or grid < 2:
        raise ConfigError(f"n_rows must be at least 1 and grid at least 2; got {n_rows} and {grid}", key="err_checks_n_rows_least_grid", n_rows=n_rows, grid=grid)
    if features is None:
        in_model = set(getattr(model, "features", X.columns))
        features = [f for f, spec in catalog.items() if spec.risk_direction and f in X and f in in_model]
    else:
        unknown = [f for f in features if f not in X]
        unconstrained = [f for f in features if f in X and not (f in catalog and catalog[f].risk_direction)]
        if unknown or unconstrained:
            raise ConfigError(f"features must be columns of X with a catalog risk direction; "
                              f"not in X: {unknown}, no direction: {unconstrained}", key="err_checks_features_columns_x_catalog", unknown=unknown, unconstrained=unconstrained)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(n_rows, len(X)), replace=False))
    base = X.iloc[rows].reset_index(drop=True)
    m = len(base)
    parts, plan = [], []
    for f in features:
        values = pd.to_numeric(X[f], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        if values.size == 0:
            continue
        grid_values = np.unique(np.quantile(values, np.linspace(0, 1, grid)))
        if grid_values.size < 2:
            continue
        swept = base.iloc[np.repeat(np.arange(m), grid_values.size)].reset_index(drop=True)
        swept[f] = np.tile(grid_values, m)
        parts.append(swept)
        plan.append((f, grid_values))
    if not parts:
        return pd.DataFrame(columns=list(MONOTONE_COLUMNS))
    risk, measure = _risk(model.score(pd.concat(parts, ignore_index=True)))
    found, start = [], 0
    for f, grid_values in plan:
        g = grid_values.size
        block = risk[start:start + m * g].reshape(m, g)
        start += m * g
        direction = int(catalog[f].risk_direction)
        against = -direction * np.diff(block, axis=1)  # > 0: risk moved the forbidden way
        bad_rows = (against > tolerance).any(axis=1)
        if not bad_rows.any():
            continue
        r, step = np.unravel_index(int(np.nanargmax(against)), against.shape)
        found.append({"feature": f, "risk_direction": direction, "measure": measure, "rows_checked": m,
                      "rows_violating": int(bad_rows.sum()), "worst_move": float(against[r, step]),
                      "merchant_id": X.index[rows[r]], "value_from": float(grid_values[step]),
                      "value_to": float(grid_values[step + 1])})
    return pd.DataFrame(found, columns=list(MONOTONE_COLUMNS))
