"""Discrimination, calibration and stability metrics of a credit score.

Every function takes the model output first and the outcome second: ``(pd, y)``. ``y`` is 1 for
a bad (default) and 0 for a good. Ranking metrics treat a higher value as riskier: pass a PD as is,
and a score (higher = safer) negated, or use the ``kind`` argument where offered.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError

PSI_WATCH: float = 0.10
PSI_SHIFT: float = 0.25
#: Floor of a bin's share in PSI, so an empty bin contributes a large but finite amount.
PSI_MIN_SHARE: float = 1e-4


def _predictions(values: Any, name: str = "pd") -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be numeric; got {type(values).__name__}", key="err_metrics_name_numeric_got_kind", name=name, kind=type(values).__name__) from None
    if np.isnan(arr).any():
        raise ConfigError(f"{name} must not contain missing values; got {int(np.isnan(arr).sum())}", key="err_metrics_name_contain_missing_values", name=name, value=int(np.isnan(arr).sum()))
    return arr


def _outcomes(y: Any, n: int, *, both_classes: bool) -> np.ndarray:
    try:
        arr = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ConfigError(f"y must be 0/1; got {type(y).__name__}", key="err_metrics_y_got_kind", kind=type(y).__name__) from None
    if arr.size != n:
        raise ConfigError(f"predictions and y must have the same length; got {n} and {arr.size}", key="err_metrics_predictions_y_same_length", n=n, size=arr.size)
    if n == 0:
        raise ConfigError("metrics need at least one row; got 0", key="err_metrics_metrics_need_least_one")
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise ConfigError(f"y must be 0/1; got {arr[bad][:5].tolist()}", key="err_metrics_y_got_arr", arr=arr[bad][:5].tolist())
    if both_classes and (arr.min() == arr.max()):
        raise ConfigError(f"y must contain both goods (0) and bads (1); got only {int(arr[0])}", key="err_metrics_y_contain_both_goods", arr=int(arr[0]))
    return arr.astype(np.int64)


def auc(pd_: Any, y: Any) -> float:
    """Area under the ROC curve (ties count one half).

    Returns
    -------
    float
        Probability that a random bad has a higher ``pd_`` than a random good.
    """
    p = _predictions(pd_)
    t = _outcomes(y, p.size, both_classes=True)
    from scipy.stats import rankdata  # on use: 0.7 s of import the app's landing page does not need

    ranks = rankdata(p, method="average")
    n_bad = int(t.sum())
    n_good = t.size - n_bad
    return float((ranks[t == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def gini(pd_: Any, y: Any) -> float:
    """Gini coefficient (accuracy ratio): ``2 * auc - 1``."""
    return 2.0 * auc(pd_, y) - 1.0


def roc_table(pd_: Any, y: Any) -> pd.DataFrame:
    """ROC curve, one row per distinct threshold, riskiest first.

    Returns
    -------
    DataFrame
        ``threshold`` (flag rows with ``pd_ >= threshold``; the first row is +inf, nothing
        flagged), ``tpr`` (share of bads flagged), ``fpr`` (share of goods flagged).
    """
    p = _predictions(pd_)
    t = _outcomes(y, p.size, both_classes=True)
    order = np.argsort(-p, kind="mergesort")
    p_sorted, t_sorted = p[order], t[order]
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    cum_bad = np.cumsum(t_sorted)[last_of_tie]
    cum_good = np.cumsum(1 - t_sorted)[last_of_tie]
    return pd.DataFrame({
        "threshold": np.r_[np.inf, p_sorted[last_of_tie]],
        "tpr": np.r_[0.0, cum_bad / t.sum()],
        "fpr": np.r_[0.0, cum_good / (t.size - t.sum())],
    })


def ks(pd_: Any, y: Any) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the bads' and goods' cumulative
    distributions over all thresholds (0–1)."""
    roc = roc_table(pd_, y)
    return float(np.abs(roc["tpr"] - roc["fpr"]).max())


def brier(pd_: Any, y: Any) -> float:
    """Brier score: mean squared difference between PD and outcome."""
    p = _predictions(pd_)
    t = _outcomes(y, p.size, both_classes=False)
    if p.min() < 0 or p.max() > 1:
        raise ConfigError(f"pd must be within 0–1 for the Brier score; got {p.min()} to {p.max()}", key="err_metrics_pd_within_brier_score", value=p.min(), value2=p.max())
    return float(np.mean((p - t) ** 2))


def _rank_bins(risk: np.ndarray, n: int) -> np.ndarray:
    """Bin 1..n of each value, 1 = riskiest; equal values share a bin, so bins are near-equal."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"number of bins must be a whole number of at least 1; got {n!r}", key="err_metrics_number_bins_whole_number", n=n)
    from scipy.stats import rankdata

    ranks = rankdata(-risk, method="max")
    return np.ceil(ranks * n / risk.size).astype(np.int64)


def ks_table(pd_: Any, y: Any, n: int = 10) -> pd.DataFrame:
    """KS by risk bin (riskiest first).

    Returns
    -------
    DataFrame
        ``bin``, ``min``, ``max``, ``count``, ``bads``, ``goods``, ``cum_bad_share``,
        ``cum_good_share``, ``ks`` (= their difference) per bin.
    """
    p = _predictions(pd_)
    t = _outcomes(y, p.size, both_classes=True)
    g = _grouped(p, t, _rank_bins(p, n))
    g["goods"] = g["count"] - g["bads"]
    g["cum_bad_share"] = g["bads"].cumsum() / t.sum()
    g["cum_good_share"] = g["goods"].cumsum() / (t.size - t.sum())
    g["ks"] = g["cum_bad_share"] - g["cum_good_share"]
    return g[["bin", "min", "max", "count", "bads", "goods", "cum_bad_share", "cum_good_share", "ks"]]


def _grouped(values: np.ndarray, t: np.ndarray, bins: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"bin": bins, "v": values, "y": t})
    g = frame.groupby("bin", sort=True).agg(min=("v", "min"), max=("v", "max"), count=("y", "size"),
                                              bads=("y", "sum"), mean=("v", "mean"))
    return g.reset_index()


def calibration_table(pd_: Any, y: Any, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed bad rate in PD quantile bins, lowest PD first.

    Returns
    -------
    DataFrame
        ``bin`` (1 = lowest PD), ``pd_min``, ``pd_max``, ``count``, ``bads``, ``mean_pd``,
        ``bad_rate``, ``difference`` (= ``bad_rate - mean_pd``).
    """
    p = _predictions(pd_)
    t = _outcomes(y, p.size, both_classes=False)
    # rank the negated PD so bin 1 holds the lowest PDs
    g = _grouped(p, t, _rank_bins(-p, bins))
    out = pd.DataFrame({
        "bin": g["bin"], "pd_min": g["min"], "pd_max": g["max"], "count": g["count"],
        "bads": g["bads"], "mean_pd": g["mean"], "bad_rate": g["bads"] / g["count"],
    })
    out["difference"] = out["bad_rate"] - out["mean_pd"]
    return out


def ece(pd_: Any, y: Any, bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean of ``|bad rate - mean PD|`` over
    ``bins`` equal-count PD bins (those of :func:`calibration_table`), as a share (0.01 = 1 pp)."""
    cal = calibration_table(pd_, y, bins)
    return float(np.sum(cal["count"] * np.abs(cal["difference"])) / cal["count"].sum())


def gains_table(score_or_pd: Any, y: Any, n: int = 10, *,
                kind: Literal["auto", "pd", "score"] = "auto") -> pd.DataFrame:
    """Gains (lift) table by risk decile, riskiest first.

    Parameters
    ----------
    score_or_pd : array-like
        PDs (higher = riskier) or scores (higher = safer).
    y : array-like of 0/1
    n : int
        Number of bins (10 = deciles).
    kind : {"auto", "pd", "score"}
        "auto" reads values all within 0–1 as PDs and anything else as scores.

    Returns
    -------
    DataFrame
        ``bin`` (1 = riskiest), ``min``, ``max`` (of the input values), ``count``, ``bads``,
        ``bad_rate``, ``cum_count_share``, ``cum_bad_capture`` (share of all bads in this and
        riskier bins), ``lift`` (bad rate over the overall bad rate), ``cum_lift``.
    """
    v = _predictions(score_or_pd, "score_or_pd")
    t = _outcomes(y, v.size, both_classes=False)
    if kind not in ("auto", "pd", "score"):
        raise ConfigError(f"kind must be 'auto', 'pd' or 'score'; got {kind!r}", key="err_metrics_kind_auto_pd_score", kind=kind)
    is_pd = (v.min() >= 0 and v.max() <= 1) if kind == "auto" else kind == "pd"
    risk = v if is_pd else -v
    total_bads = t.sum()
    if total_bads == 0:
        raise ConfigError("a gains table needs at least one bad (y = 1); got none", key="err_metrics_gains_table_needs_least")
    g = _grouped(v, t, _rank_bins(risk, n))
    g["bad_rate"] = g["bads"] / g["count"]
    g["cum_count_share"] = g["count"].cumsum() / t.size
    g["cum_bad_capture"] = g["bads"].cumsum() / total_bads
    overall = total_bads / t.size
    g["lift"] = g["bad_rate"] / overall
    g["cum_lift"] = g["cum_bad_capture"] / g["cum_count_share"]
    return g[["bin", "min", "max", "count", "bads", "bad_rate", "cum_count_share", "cum_bad_capture",
              "lift", "cum_lift"]]


# ---------------------------------------------------------------- stability

def psi_band(value: float) -> str:
    """"stable" below 0.10, "watch" from 0.10 to below 0.25, "shift" from 0.25."""
    if value < PSI_WATCH:
        return "stable"
    if value < PSI_SHIFT:
        return "watch"
    return "shift"


def _is_numeric(values: Any) -> bool:
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def psi_table(expected: Any, actual: Any, bins: int = 10) -> pd.DataFrame:
    """Population stability by bin between a reference (``expected``) and a current (``actual``)
    sample.

    Numeric values are cut at the reference's quantiles (right-closed intervals; repeated edges
    merged); other values use one bin per level. Missing values get their own bin when either
    sample has any. A share of 0 is floored at 0.0001.

    Returns
    -------
    DataFrame
        ``bin`` (label), ``lower``, ``upper`` (NaN for level and missing bins),
        ``expected_count``, ``actual_count``, ``expected_share``, ``actual_share``, ``psi``
        (this bin's term ``(a - e) * ln(a / e)``; the column sums to :func:`psi`).
    """
    e = pd.Series(expected).reset_index(drop=True)
    a = pd.Series(actual).reset_index(drop=True)
    if e.size == 0:
        raise ConfigError("expected sample is empty", key="err_metrics_expected_sample_empty")
    if a.size == 0:
        raise ConfigError("actual sample is empty", key="err_metrics_actual_sample_empty")
    if _is_numeric(e) and _is_numeric(a):
        ev = e.to_numpy(dtype=float, na_value=np.nan)
        av = a.to_numpy(dtype=float, na_value=np.nan)
        finite = ev[~np.isnan(ev)]
        if not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ConfigError(f"bins must be a whole number of at least 1; got {bins!r}", key="err_metrics_bins_whole_number_least", bins=bins)
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))[1:-1]) if finite.size else np.array([])
        lower = np.r_[-np.inf, edges]
        upper = np.r_[edges, np.inf]
        e_idx = np.searchsorted(edges, ev, side="left")
        a_idx = np.searchsorted(edges, av, side="left")
        k = edges.size + 1
        e_counts = np.bincount(e_idx[~np.isnan(ev)], minlength=k).astype(float)
        a_counts = np.bincount(a_idx[~np.isnan(av)], minlength=k).astype(float)
        labels = [f"({lo:g}, {hi:g}]" for lo, hi in zip(lower, upper)]
        e_missing, a_missing = float(np.isnan(ev).sum()), float(np.isnan(av).sum())
    else:
        levels = sorted(set(e.dropna().astype(str)) | set(a.dropna().astype(str)))
        e_counts = e.dropna().astype(str).value_counts().reindex(levels, fill_value=0).to_numpy(dtype=float)
        a_counts = a.dropna().astype(str).value_counts().reindex(levels, fill_value=0).to_numpy(dtype=float)
        labels, lower, upper = levels, np.full(len(levels), np.nan), np.full(len(levels), np.nan)
        e_missing, a_missing = float(e.isna().sum()), float(a.isna().sum())
    if e_missing or a_missing:
        e_counts, a_counts = np.r_[e_counts, e_missing], np.r_[a_counts, a_missing]
        labels = [*labels, "missing"]
        lower, upper = np.r_[lower, np.nan], np.r_[upper, np.nan]
    e_share = np.maximum(e_counts / e.size, PSI_MIN_SHARE)
    a_share = np.maximum(a_counts / a.size, PSI_MIN_SHARE)
    return pd.DataFrame({
        "bin": labels, "lower": lower, "upper": upper,
        "expected_count": e_counts.astype(np.int64), "actual_count": a_counts.astype(np.int64),
        "expected_share": e_counts / e.size, "actual_share": a_counts / a.size,
        "psi": (a_share - e_share) * np.log(a_share / e_share),
    })


def psi(expected: Any, actual: Any, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (see :func:`psi_table`)."""
    return float(psi_table(expected, actual, bins)["psi"].sum())


def psi_by_column(expected: pd.DataFrame, actual: pd.DataFrame, bins: int = 10,
                  columns: list[str] | None = None) -> pd.DataFrame:
    """PSI of each shared column (e.g. score and every feature), worst first.

    Returns
    -------
    DataFrame
        ``column``, ``psi``, ``band`` (stable / watch / shift).
    """
    cols = columns if columns is not None else [c for c in expected.columns if c in actual.columns]
    missing = [c for c in cols if c not in expected.columns or c not in actual.columns]
    if missing:
        raise ConfigError(f"columns missing from one of the samples: {', '.join(map(str, missing))}", key="err_metrics_columns_missing_from_one", value=', '.join(map(str, missing)))
    values = [psi(expected[c], actual[c], bins) for c in cols]
    out = pd.DataFrame({"column": cols, "psi": values})
    out["band"] = [psi_band(v) for v in values]
    return out.sort_values("psi", ascending=False, kind="mergesort").reset_index(drop=True)
