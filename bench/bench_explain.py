"""Benchmark: exact TreeSHAP explanations, ``cb_core.explain.fastshap`` against ``shap.TreeExplainer`` and
LightGBM's ``pred_contrib``, on the same model and the same rows, in one run.

Usage::

    python bench/bench_explain.py --rows 20000                       # the issue's shape
    python bench/bench_explain.py --rows 20000 --shape demo          # the demo model
    python bench/bench_explain.py --rows 20000 --trees 300 --leaves 31 --features 40
    python bench/bench_explain.py --rows 20000 --shape demo --model .state/models/current

Shapes: ``reference`` trains LightGBM on synthetic rows like the issue's measurements (40
features with a categorical code, a zero-heavy column and missing values; 300 trees x 31 leaves,
no early stopping); ``demo`` builds the demo book (``generate_book``, 20,000 merchants x 24 months
as on first start) and trains the production model on it (``train_model``: 35 features, num_leaves
15, up to 600 rounds with early stopping), or loads a saved model with ``--model``, then explains
the book's current snapshot.

Every method runs ``--repeat`` times, interleaved (the order rotates each round), and the medians
are reported: ``shap.TreeExplainer(booster).shap_values(X)`` (for LightGBM it calls
``booster.predict(pred_contrib=True)`` with LightGBM's default threads), ``pred_contrib`` with 1
and with all threads, and ``FastTreeShap.contributions`` warm with 1 and with all threads
(``--recursive`` adds the numba recursion, ``max_table_features=0``, for comparison). Explainer
construction and numba's first-call cost are timed apart; ``--compile`` also measures a cold
compile in a child process with an empty numba cache.

Prints one JSON line: rows/s of each method, ratios against shap and against ``pred_contrib``
with the same threads, the largest absolute difference from both references, and the median
milliseconds to explain a single row (200 rows, the methods alternating). The machine
is shared: read the ``load_1m`` fields next to the times.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench_explain")


# ------------------------------------------------------------------ models and rows

def synthetic_rows(n: int, n_features: int, seed: int, n_levels: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Column 0 a category code, 1 zero-heavy, 2, 3 and 5 with 15% missing, the rest normal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    X[:, 0] = rng.integers(0, n_levels, n)
    X[:, 1] = np.where(rng.random(n) < 0.6, 0.0, np.abs(X[:, 1]))
    for j in (2, 3, 5):
        if j < n_features:
            X[rng.random(n) < 0.15, j] = np.nan
    logit = (0.8 * X[:, 4] - 0.5 * np.nan_to_num(X[:, 2]) + 0.7 * (X[:, 1] > 0.5) + np.sin(2 * X[:, 6])
             + 0.3 * X[:, 7] * X[:, 8] + np.where(np.isin(X[:, 0], [1, 3, 7]), 0.8, -0.2) - 1.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def reference_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, dict[str, Any]]:
    import lightgbm as lgb

    X, y = synthetic_rows(args.train_rows, args.features, seed=0)
    params = {"objective": "binary", "num_leaves": args.leaves, "learning_rate": 0.05, "num_threads": 2,
              "verbose": -1, "seed": 0, "deterministic": True}
    started = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[0], params=params),
                        num_boost_round=args.trees)
    info = {"train_rows": args.train_rows, "train_seconds": round(time.perf_counter() - started, 1)}
    rows, _ = synthetic_rows(args.rows, args.features, seed=1)
    return booster, rows, info


def demo_model(args: argparse.Namespace) -> tuple[Any, np.ndarray, dict[str, Any]]:
    from cb_core.model.credit_model import load_model, train_model
    from cb_core.features.pipeline import current_snapshot, training_table
    from cb_core.synth.generate import generate_book

    started = time.perf_counter()
    book = generate_book(args.demo_merchants, 24, seed=7)
    info: dict[str, Any] = {"demo_merchants": args.demo_merchants,
                            "book_seconds": round(time.perf_counter() - started, 1)}
    if args.model:
        model = load_model(args.model)
        info["model"] = str(args.model)
    else:
        X, y, period, true_pd, _ = training_table(book)
        started = time.perf_counter()
        model = train_model(X, y, time=period, oracle_pd=true_pd)
        info.update(train_rows=len(X), train_seconds=round(time.perf_counter() - started, 1),
                    auc=round(model.card["metrics"]["auc"], 4))
    matrix = model.matrix(current_snapshot(book))
    if args.rows != len(matrix):
        # more (or fewer) rows than merchants: sample merchants with replacement
        pick = np.random.default_rng(3).integers(0, len(matrix), args.rows)
        info["rows_sampled_from_merchants"] = len(matrix)
        matrix = matrix[pick]
    return model.booster, np.ascontiguousarray(matrix), info


def model_shape(booster: Any) -> dict[str, Any]:
    dump = booster.dump_model()

    def depth(node: dict[str, Any]) -> int:
        if "split_index" not in node:
            return 0
        return 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    depths = [depth(t["tree_structure"]) for t in dump["tree_info"]]
    return {"features": booster.num_feature(), "trees": booster.num_trees(),
            "max_leaves": max(t["num_leaves"] for t in dump["tree_info"]),
            "max_depth": max(depths), "mean_depth": round(float(np.mean(depths)), 2)}


# ------------------------------------------------------------------ timing

def interleaved(methods: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Wall seconds of every method per round, the order rotating each round; last outputs."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    outputs: dict[str, Any] = {}
    names = list(methods)
    for round_ in range(repeat):
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in order:
            started = time.perf_counter()
            outputs[name] = methods[name]()
            times[name].append(time.perf_counter() - started)
            log.info("round %d %-22s %.2f s", round_ + 1, name, times[name][-1])
    return times, outputs


def one_row_ms(methods: dict[str, Callable[[np.ndarray], Any]], X: np.ndarray, calls: int = 200) -> dict[str, float]:
    """Median milliseconds to explain one row, the methods alternating row by row."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    for i in range(calls):
        row = X[i % len(X): i % len(X) + 1]
        for name, method in methods.items():
            started = time.perf_counter()
            method(row)
            times[name].append(time.perf_counter() - started)
    return {name: round(1000 * statistics.median(t), 3) for name, t in times.items()}


def compile_child() -> None:
    """In a child with an empty NUMBA_CACHE_DIR: seconds to import, build (table kernel) and the
    first serial and parallel calls on a tiny model, as JSON."""
    import lightgbm as lgb

    started = time.perf_counter()
    from cb_core.explain.fastshap import SERIAL_ROWS, FastTreeShap
    marks = {"import": time.perf_counter() - started}
    X, y = synthetic_rows(2000, 10, seed=0)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[0], params=params), num_boost_round=5)
    started = time.perf_counter()
    explainer = FastTreeShap(booster)
    marks["build_first"] = time.perf_counter() - started
    started = time.perf_counter()
    explainer.contributions(X[:10])
    marks["serial_first_call"] = time.perf_counter() - started
    started = time.perf_counter()
    explainer.contributions(X[:SERIAL_ROWS * 2])
    marks["parallel_first_call"] = time.perf_counter() - started
    print(json.dumps({k: round(v, 2) for k, v in marks.items()}))


def first_call_costs(cold: bool) -> dict[str, float]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run([sys.executable, __file__, "--compile-child"], env=env, check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def load_1m() -> float:
    return os.getloadavg()[0]


# ------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows explained by every method")
    parser.add_argument("--shape", choices=("reference", "demo"), default="reference")
    parser.add_argument("--trees", type=int, default=300, help="reference shape: boosting rounds")
    parser.add_argument("--leaves", type=int, default=31, help="reference shape: num_leaves")
    parser.add_argument("--features", type=int, default=40, help="reference shape: features (at least 9)")
    parser.add_argument("--train-rows", type=int, default=50_000, help="reference shape: training rows")
    parser.add_argument("--demo-merchants", type=int, default=20_000, help="demo shape: merchants in the book")
    parser.add_argument("--model", type=Path, help="demo shape: a saved model folder instead of training")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every method (median reported)")
    parser.add_argument("--recursive", action="store_true", help="also time the numba recursion (no tables)")
    parser.add_argument("--compile", action="store_true", help="also time a cold numba compile in a child")
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_child:
        compile_child()
        return {}
    if args.repeat < 1 or args.rows < 1 or args.features < 9:
        parser.error("--repeat and --rows must be at least 1 and --features at least 9")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    import lightgbm as lgb
    import numba
    import shap

    from cb_core.explain.fastshap import FastTreeShap

    load_start = load_1m()
    booster, X, info = (reference_model if args.shape == "reference" else demo_model)(args)
    log.info("model ready: %s", info)
    threads = numba.config.NUMBA_NUM_THREADS

    started = time.perf_counter()
    fast = FastTreeShap(booster)
    fast_build = time.perf_counter() - started
    started = time.perf_counter()
    fast.contributions(X[:10])
    fast.contributions(X[: max(1000, min(len(X), 2000))])
    fast_first = time.perf_counter() - started
    started = time.perf_counter()
    explainer = shap.TreeExplainer(booster)
    shap_build = time.perf_counter() - started

    methods: dict[str, Callable[[], Any]] = {
        "shap": lambda: explainer.shap_values(X),
        "pred_contrib_1": lambda: booster.predict(X, pred_contrib=True, num_threads=1),
        f"pred_contrib_{threads}": lambda: booster.predict(X, pred_contrib=True, num_threads=threads),
        "fastshap_1": lambda: fast.contributions(X, n_threads=1),
        f"fastshap_{threads}": lambda: fast.contributions(X, n_threads=threads),
    }
    recursive = None
    if args.recursive:
        recursive = FastTreeShap(booster, max_table_features=0)
        recursive.contributions(X[:1000])
        methods[f"recursive_{threads}"] = lambda: recursive.contributions(X, n_threads=threads)
    times, outputs = interleaved(methods, args.repeat)
    single = one_row_ms({"shap": explainer.shap_values,
                         "pred_contrib": lambda row: booster.predict(row, pred_contrib=True, num_threads=1),
                         "fastshap": fast.contributions}, X)

    reference = outputs[f"pred_contrib_{threads}"]
    shap_values = np.asarray(outputs["shap"])
    ours = outputs[f"fastshap_{threads}"]
    rate = {name: round(len(X) / statistics.median(t), 1) for name, t in times.items()}
    result: dict[str, Any] = {
        "benchmark": "explain.tree_shap", "shape": args.shape, "rows": len(X), **model_shape(booster), **info,
        "threads": threads, "repeat": args.repeat,
        "rows_per_s": rate,
        "ratio_vs_shap": round(rate[f"fastshap_{threads}"] / rate["shap"], 2),
        "ratio_vs_shap_fast_1_thread": round(rate["fastshap_1"] / rate["shap"], 2),
        "ratio_vs_pred_contrib_1_thread": round(rate["fastshap_1"] / rate["pred_contrib_1"], 2),
        f"ratio_vs_pred_contrib_{threads}_threads":
            round(rate[f"fastshap_{threads}"] / rate[f"pred_contrib_{threads}"], 2),
        "max_abs_diff_vs_pred_contrib": float(np.max(np.abs(ours - reference))),
        "max_abs_diff_vs_shap": float(max(np.max(np.abs(ours[:, :-1] - shap_values)),
                                          abs(fast.expected_value - float(np.ravel(explainer.expected_value)[0])))),
        "max_abs_diff_fastshap_1_vs_all_threads": float(np.max(np.abs(outputs["fastshap_1"] - ours))),
        "one_row_ms": single,
        "seconds": {name: [round(s, 3) for s in t] for name, t in times.items()},
        "fastshap_build_seconds": round(fast_build, 3),
        "fastshap_first_calls_seconds": round(fast_first, 3),
        "fastshap_tables_mib": round(fast.table_values * 8 / 2**20, 1),
        "fastshap_table_trees": fast.n_table_trees,
        "shap_explainer_build_seconds": round(shap_build, 3),
        "shap_threads": "LightGBM default (OpenMP: all cores)",
        "load_1m_start": round(load_start, 2), "load_1m_end": round(load_1m(), 2),
        "versions": {"lightgbm": lgb.__version__, "shap": shap.__version__, "numba": numba.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
    }
    if recursive is not None:
        result["max_abs_diff_recursive_vs_pred_contrib"] = float(
            np.max(np.abs(outputs[f"recursive_{threads}"] - reference)))
    if args.compile:
        result["numba_cold_compile_seconds"] = first_call_costs(cold=True)
        result["numba_cached_first_call_seconds"] = first_call_costs(cold=False)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
