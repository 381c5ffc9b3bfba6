"""Calibration on books the model never saw: ``python -m bench.calibration [--merchants N] [--train-seed S]
[--seeds S ...]``.

Issue #14's goal: on the demo book, the model's calibration error (ECE, 10 equal-count bins) is at
most 1 percentage point on an *independent* book — another seed of the generator, so other merchants
and other default draws — and its AUC within 0.02 of the oracle (the generator's true PD) there.

The model is trained on the demo book of ``--train-seed`` exactly as ``python -m cb_core train``
trains it (three windows: fit, early-stop and calibrate, test). Each other seed's book is scored the
way ``python -m cb_core score --as-of MONTH`` scores it: every mature outcome row with the snapshot
as of its own month (:func:`cb_core.strategy.decision_frame`), and compared with its outcome. The
card's own test-window figures are printed beside them. A section is appended to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone

from .results import machine_facts, publish


def _independent(book, model) -> dict:
    import numpy as np

    from cb_core.model import metrics
    from cb_core.strategy import decision_frame

    seen = decision_frame(book, model)
    truth = book.outcomes.assign(merchant_id=book.outcomes["merchant_id"].astype(str),
                                 snapshot_month=book.outcomes["snapshot_month"].astype(str))
    truth = truth.set_index(["merchant_id", "snapshot_month"])["true_pd"]
    keys = list(zip(seen.index.astype(str), seen["snapshot_month"].astype(str)))
    oracle = truth.reindex(keys).to_numpy(dtype=float)
    y = seen["defaulted_12m"].to_numpy(dtype=float)
    p = seen["pd"].to_numpy(dtype=float)
    return {"rows": len(seen), "bads": int(y.sum()), "months": seen["snapshot_month"].nunique(),
            "auc": metrics.auc(p, y), "oracle_auc": metrics.auc(oracle, y), "ece": metrics.ece(p, y),
            "mean_pd": float(np.mean(p)), "bad_rate": float(np.mean(y))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--end-month", default="2026-09")
    parser.add_argument("--train-seed", type=int, default=7)
    parser.add_argument("--seeds", type=int, nargs="+", default=[8, 9, 10])
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.train_seed in args.seeds:
        parser.error("the independent books must use other seeds than --train-seed")

    from cb_core.model import train_with_report
    from cb_core.synth import generate_book

    started, load_start, t0 = datetime.now(timezone.utc), os.getloadavg(), time.perf_counter()
    train_book = generate_book(args.merchants, args.months, args.train_seed, args.end_month)
    model, _ = train_with_report(train_book, seed=0)
    test = model.card["metrics"]
    rows = [("test window of the training book", args.train_seed, model.card["validation"]["test"]["rows"],
             model.card["validation"]["test"]["bads"], test["auc"], test.get("oracle_auc", float("nan")), test["ece"])]
    for seed in args.seeds:
        r = _independent(generate_book(args.merchants, args.months, seed, args.end_month), model)
        rows.append((f"independent book ({r['months']} snapshot months, score at decision)", seed, r["rows"],
                     r["bads"], r["auc"], r["oracle_auc"], r["ece"]))
    wall, load_end, facts = time.perf_counter() - t0, os.getloadavg(), machine_facts()
    command = "python -m bench.calibration " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"## {started:%Y-%m-%d %H:%M} UTC: calibration on independent books (issue #14), "
             f"{args.merchants:,} merchants", "",
             f"- Command: `{command.strip()}` (total {wall:,.0f} s wall)",
             f"- Machine: nproc {facts['nproc']}, {facts['mem_total_gib']} GiB; Python {facts['python']}, "
             f"lightgbm {facts['versions']['lightgbm']}; commit {facts['commit']}"
             f"{' with uncommitted changes' if facts['dirty'] else ''}",
             f"- Load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f} (quality figures; time is "
             "not the point here)",
             f"- Model trained on the seed-{args.train_seed} demo book; goals: ECE ≤ 1.0 pp and AUC within 0.02 of "
             "the oracle on each independent book", "",
             "| book | seed | rows | bads | AUC | oracle AUC | AUC gap | ECE (pp) | goals met |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, seed, n, bads, a, oracle, e in rows:
        gap = oracle - a
        met = "—" if name.startswith("test window") else ("yes" if e <= 0.01 and gap <= 0.02 else "no")
        lines.append(f"| {name} | {seed} | {n:,} | {bads:,} | {a:.4f} | {oracle:.4f} | {gap:+.4f} | "
                     f"{e * 100:.2f} | {met} |")
    section = "\n".join(lines) + "\n"
    publish(section, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
