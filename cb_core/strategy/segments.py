"""Inclusion metrics by segment with bootstrap confidence intervals.

The bootstrap resamples merchants with replacement within each segment (segment size ``m``
fixed), ``n_boot`` times, and takes percentile intervals of each rate. It is drawn in a form that
costs O(approved) rather than O(m) per resample, with the same distribution for every rate:
the number of approved merchants drawn is ``K ~ Binomial(m, k/m)`` (``k`` approved of ``m``);
given ``K``, those draws are uniform over the approved merchants, so the PD sum is the sum of
``K`` PDs drawn from them (vectorised with one index array per chunk of resamples), and the
with-outcome and bad counts are ``Multinomial(K, shares among the approved)``. Each interval is a
marginal one, so only each rate's own distribution matters. Resamples where a rate is undefined
(no approved merchant, no outcome) are left out of its interval. Same seed, same intervals.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._inputs import frame_arrays, segment_values
from .policy import Policy
from .results import decisions, ratio

#: Largest number of index draws made at once.
_CHUNK_CELLS = 2_000_000
RATES: tuple[str, ...] = ("approval_rate", "expected_bad_rate", "observed_bad_rate")


def _rates(sums: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Sums (approved, PD of approved, approved with outcome, approved bads) -> the three rates."""
    return {"approval_rate": ratio(sums[..., 0], n), "expected_bad_rate": ratio(sums[..., 1], sums[..., 0]),
            "observed_bad_rate": ratio(sums[..., 3], sums[..., 2])}


def _bootstrap_sums(members: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resampled sums (approved, PD of approved, approved with outcome, approved bads), n_boot x 4."""
    m = len(members)
    approved = members[:, 0] > 0
    k = int(approved.sum())
    pd_approved = members[approved, 1]
    n_drawn = rng.binomial(m, k / m, n_boot) if m else np.zeros(n_boot, dtype=np.int64)
    out = np.zeros((n_boot, 4))
    out[:, 0] = n_drawn
    if k == 0:
        return out
    chunk = max(1, _CHUNK_CELLS // k)
    for start in range(0, n_boot, chunk):
        sizes = n_drawn[start:start + chunk]
        picks = rng.integers(0, k, int(sizes.sum()))
        labels = np.repeat(np.arange(len(sizes)), sizes)
        out[start:start + len(sizes), 1] = np.bincount(labels, weights=pd_approved[picks], minlength=len(sizes))
    n_bad, n_with = members[approved, 3].sum(), members[approved, 2].sum()
    shares = np.array([n_bad, n_with - n_bad, k - n_with]) / k
    counts = rng.multinomial(n_drawn, np.clip(shares, 0, None))
    out[:, 2], out[:, 3] = counts[:, 0] + counts[:, 1], counts[:, 0]
    return out


def _percentile_interval(stats: np.ndarray, level: float) -> tuple[float, float]:
    finite = stats[~np.isnan(stats)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def segment_rates(frame: pd.DataFrame, policy: Policy, by: str = "thin_file") -> pd.DataFrame:
    """The point estimates of :func:`segment_table` without the bootstrap: O(n), for every slider move.

    Returns
    -------
    DataFrame
        One row per segment (sorted): ``<by>``, ``n``, ``share``, ``n_approved``, ``approval_rate``,
        ``expected_bad_rate``, ``n_approved_with_outcome``, ``observed_bad_rate`` (the same values
        as :func:`segment_table` gives for ``policy``).
    """
    arrays = frame_arrays(frame)
    codes, labels = pd.factorize(segment_values(frame, by), sort=True, use_na_sentinel=False)
    approved = (decisions(frame, policy) == "approve").to_numpy()
    values = np.column_stack([approved, arrays.pd * approved, arrays.has_outcome & approved,
                              arrays.bad & approved]).astype(float)
    sums = np.column_stack([np.bincount(codes, weights=values[:, j], minlength=len(labels)) for j in range(4)])
    sizes = np.bincount(codes, minlength=len(labels))
    rates = {rate: _rates(sums, 1)[rate] for rate in RATES}
    rates["approval_rate"] = ratio(sums[:, 0], sizes)
    return pd.DataFrame({by: labels, "n": sizes, "share": sizes / arrays.n, "n_approved": sums[:, 0].astype(int),
                         "approval_rate": rates["approval_rate"], "expected_bad_rate": rates["expected_bad_rate"],
                         "n_approved_with_outcome": sums[:, 2].astype(int),
                         "observed_bad_rate": rates["observed_bad_rate"]})


def segment_table(frame: pd.DataFrame, policy: Policy, by: str = "thin_file", n_boot: int = 200, seed: int = 0,
                  level: float = 0.95) -> pd.DataFrame:
    """Approval rate and bad rates per segment, with bootstrap confidence intervals.

    Parameters
    ----------
    frame : DataFrame
        Strategy frame.
    policy : Policy
    by : str
        ``thin_file``, ``tenure_lt_12m`` (tenure under one year), ``category``, ``region`` or any
        frame column; missing values form their own segment.
    n_boot : int
        Resamples (>= 1).
    seed : int
        Random seed.
    level : float
        Interval coverage, e.g. 0.95.

    Returns
    -------
    DataFrame
        One row per segment (sorted): ``<by>``, ``n``, ``share``, ``n_approved``, then for each of
        ``approval_rate``, ``expected_bad_rate``, ``observed_bad_rate`` the point estimate and
        ``<rate>_low`` / ``<rate>_high``; ``n_approved_with_outcome`` before the observed rate.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ConfigError(f"n_boot must be a whole number of at least 1; got {n_boot!r}", key="err_segments_n_boot_whole_number", n_boot=n_boot)
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1; got {level}", key="err_segments_level_between_got_level", level=level)
    arrays = frame_arrays(frame)
    codes, labels = pd.factorize(segment_values(frame, by), sort=True, use_na_sentinel=False)
    approved = (decisions(frame, policy) == "approve").to_numpy()
    values = np.column_stack([approved, arrays.pd * approved, arrays.has_outcome & approved,
                              arrays.bad & approved]).astype(float)
    rng = np.random.default_rng(seed)
    rows = []
    for g, label in enumerate(labels):
        members = values[codes == g]
        m = len(members)
        point = _rates(members.sum(axis=0), m)
        resampled = _rates(_bootstrap_sums(members, n_boot, rng), m)
        row = {by: label, "n": m, "share": m / arrays.n, "n_approved": int(members[:, 0].sum())}
        for rate in RATES:
            if rate == "observed_bad_rate":
                row["n_approved_with_outcome"] = int(members[:, 2].sum())
            row[rate] = float(point[rate])
            row[f"{rate}_low"], row[f"{rate}_high"] = _percentile_interval(resampled[rate], level)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update({"n_boot": int(n_boot), "seed": seed, "level": level})
    return out
