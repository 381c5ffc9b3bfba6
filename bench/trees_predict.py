"""``TreeEnsemble.raw_margin``, numpy pass against numba pass: ``python -m bench.trees_predict --model M``.

Rows: the model folder's ``training_sample.parquet`` (real feature rows) through ``CreditModel.matrix``,
tiled to ``--rows``. Both passes run alternately in this process (``--repeats`` each, numba's kernel
loaded first), and are checked equal bit for bit. A fresh child measures what the numba pass costs a
process that has not imported numba (import + cached kernel load + a one-row call): with the
per-row saving this gives the break-even row count behind ``_trees_fast.COLD_ROWS``.
Appends a section to bench/RESULTS.md (``--no-results``: print only).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

from .results import machine_facts, publish
from .serve import ROOT

_COLD = """
import time, numpy as np
from cb_core.model import load_model
m = load_model({model!r}); X = np.zeros((1, m.trees.n_features))
m.trees.raw_margin(X, engine="numpy")
t = time.perf_counter(); m.trees.raw_margin(X, engine="numba"); print(time.perf_counter() - t)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model folder (booster.txt, training_sample.parquet)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd

    from cb_core.model import load_model

    model = load_model(args.model)
    sample = model.matrix(pd.read_parquet(f"{args.model}/training_sample.parquet"))
    X = np.ascontiguousarray(np.resize(sample, (args.rows, sample.shape[1])))
    trees = model.trees
    trees.raw_margin(X[:5000], engine="numba")  # kernel loaded (compiled on a machine's first run)
    times: dict[str, list[float]] = {"numpy": [], "numba": []}
    loads: list[float] = []
    got = {}
    for _ in range(args.repeats):
        for engine in ("numpy", "numba"):
            loads.append(os.getloadavg()[0])
            start = time.perf_counter()
            got[engine] = trees.raw_margin(X, engine=engine)
            times[engine].append(time.perf_counter() - start)
    equal = bool(np.array_equal(got["numpy"], got["numba"]))
    cold = [float(subprocess.run([sys.executable, "-c", _COLD.format(model=args.model)], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout) for _ in range(3)]
    per_row = (min(times["numpy"]) - min(times["numba"])) / args.rows
    facts = machine_facts()
    lines = [f"## raw_margin numpy vs numba, {args.rows:,} rows ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
             f"`python -m bench.trees_predict --model {args.model} --rows {args.rows} --repeats {args.repeats}`; "
             f"commit {facts['commit']}{' (dirty)' if facts['dirty'] else ''}, {facts['nproc']} cores, "
             f"{model.trees.n_trees} trees, load average {min(loads):.2f}-{max(loads):.2f} during the runs", "",
             "| pass | runs (s) | best (s) |", "|---|---|---|"]
    for engine, ts in times.items():
        lines.append(f"| {engine} | {', '.join(f'{t:.2f}' for t in ts)} | {min(ts):.2f} |")
    lines += ["", f"Margins equal bit for bit: {equal}. numba's cost to a process without it (import + cached "
              f"kernel load + one row), 3 fresh children: {', '.join(f'{c:.2f}' for c in cold)} s; saving "
              f"{per_row * 1e6:.2f} µs a row: break-even at ~{min(cold) / per_row:,.0f} rows.", ""]
    publish("\n".join(lines), write=not args.no_results)


if __name__ == "__main__":
    main()
