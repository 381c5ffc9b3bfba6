"""Benchmark: wall time of matching a whole book against the product catalog (``match_book``).

Usage::

    python bench/bench_offers.py --merchants 1000000

Builds a synthetic merchant frame with numpy (score, grade, months with sales, 3-month average
sales, category), then times :func:`cb_core.offers.match_book` over every merchant x every product
of the shipped catalog. Prints one JSON line: merchants, products, best and median wall seconds
over ``--repeat`` runs, merchants with at least one offer, and the peak resident set size.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cb_core.data.catalog import categories  # noqa: E402
from cb_core.offers import load_products, match_book  # noqa: E402
from cb_core.model.scale import grade_of  # noqa: E402


def synthetic_frame(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` merchants with plausible score, grade, months with sales, sales and category."""
    rng = np.random.default_rng(seed)
    score = np.clip(np.round(rng.normal(600, 45, n)), 1, 1000)
    codes = list(categories())
    return pd.DataFrame({
        "score": score,
        "grade": grade_of(score),
        "months_active": rng.integers(0, 61, n).astype(float),
        "gmv_3m_avg_krw": np.round(np.exp(rng.normal(14.5, 1.2, n)), -3),
        "category": pd.Categorical.from_codes(rng.integers(0, len(codes), n), categories=codes),
    }, index=pd.Index([f"M{i:07d}" for i in range(n)], name="merchant_id"))


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    products = load_products()
    frame = synthetic_frame(args.merchants, args.seed)
    walls = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = match_book(frame, products)
        walls.append(time.perf_counter() - started)
    out = {
        "benchmark": "offers.match_book",
        "merchants": args.merchants,
        "products": len(products),
        "cells": args.merchants * len(products),
        "best_seconds": round(min(walls), 2),
        "median_seconds": round(float(np.median(walls)), 2),
        "with_an_offer": int((result[("best", "n_eligible")] > 0).sum()),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "python": platform.python_version(),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
