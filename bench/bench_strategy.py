"""Benchmark: cutoff curves on a large scored book — precompute once, then slider moves.

Usage::

    python bench/bench_strategy.py --merchants 1000000

Builds a synthetic scored strategy frame with numpy (no model: a latent risk gives the PD, the
score follows from it on the default scale, exposures are lognormal limits capped at 50M KRW,
30% thin file, 60% of merchants with an observed outcome), then times

- ``precompute``: :meth:`CutoffCurves.precompute` (validation, one sort, running sums);
- ``at``: the median (and 95th percentile) of ``--calls`` calls of :meth:`CutoffCurves.at` at
  random cutoffs — one slider move; the target is well under 50 ms;
- ``table``: one :meth:`CutoffCurves.table` over every cutoff 1–1000;
- ``evaluate``: one direct :func:`evaluate` (a full pass over the book), for comparison.

Prints one JSON line. Also checks that ``at`` agrees with ``evaluate`` at the last cutoff.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cb_core.model.scale import score_from_logit  # noqa: E402
from cb_core.strategy import CutoffCurves, Policy, evaluate  # noqa: E402


def synthetic_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A scored strategy frame of ``n`` merchants (numpy only)."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-3.3, 1.1, n)
    pd_ = 1.0 / (1.0 + np.exp(-logit))
    score = np.round(score_from_logit(logit)).astype(np.int64)
    exposure = np.minimum(np.floor(np.exp(rng.normal(15.5, 1.2, n)) / 1e5) * 1e5, 5e7)
    thin = rng.random(n) < 0.3
    bureau = np.where(thin, np.nan, np.clip(np.round(750 - 60 * (logit + 3.3) + rng.normal(0, 80, n)), 1, 1000))
    outcome = np.where(rng.random(n) < 0.6, (rng.random(n) < pd_).astype(float), np.nan)
    return pd.DataFrame({"score": score, "pd": pd_, "exposure_krw": exposure, "bureau_score": bureau,
                         "thin_file": thin.astype(np.int64), "defaulted_12m": outcome},
                        index=pd.Index([f"M{i:08d}" for i in range(n)], name="merchant_id"))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    frame = synthetic_frame(args.merchants, args.seed)
    policy = Policy(approve_cutoff=590, refer_cutoff=550)

    started = time.perf_counter()
    curves = CutoffCurves.precompute(frame, policy)
    precompute = time.perf_counter() - started

    rng = np.random.default_rng(args.seed + 1)
    cutoffs = rng.integers(450, 751, args.calls)
    timings = []
    for c in cutoffs:
        t0 = time.perf_counter()
        result = curves.at(float(c))
        timings.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    table = curves.table()
    table_seconds = time.perf_counter() - t0

    last = Policy(approve_cutoff=float(cutoffs[-1]), refer_cutoff=min(550.0, float(cutoffs[-1])))
    t0 = time.perf_counter()
    direct = evaluate(frame, last)
    evaluate_seconds = time.perf_counter() - t0
    agree = all(math.isclose(getattr(result, k), getattr(direct, k), rel_tol=1e-9, abs_tol=1e-6)
                or (getattr(result, k) != getattr(result, k) and getattr(direct, k) != getattr(direct, k))
                for k in result.to_dict())

    out = {
        "benchmark": "strategy.CutoffCurves",
        "merchants": args.merchants,
        "precompute_ms": _ms(precompute),
        "at_median_ms": _ms(float(np.median(timings))),
        "at_p95_ms": _ms(float(np.percentile(timings, 95))),
        "at_calls": args.calls,
        "table_ms": _ms(table_seconds),
        "table_rows": len(table),
        "evaluate_ms": _ms(evaluate_seconds),
        "at_equals_evaluate": bool(agree),
        "python": platform.python_version(),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
