"""State folders of the app benchmarks: a demo book and its model per size, built once with the app's
own first-start call and reused; the explainerdashboard child's inputs. The engine loads inside the
functions (the module is imported by ``bench/.venv`` too)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import procfs
from ..serve import ROOT
from .records import load1, record

OUT_DIR = ROOT / "bench" / "out" / "app-bench"
BENCH_USER = "bench"
BENCH_PASSWORD = "measure-only password; its state is thrown away"
MONTHS, SEED, END_MONTH = 24, 7, "2026-10"
PREPARED_FILE = "prepared.json"


def state_settings(state: Path, merchants: int) -> dict[str, Any]:
    """The app's settings over the state folder ``state`` of a ``merchants``-sized demo book."""
    from cb_core.config import get_settings

    # database_url "": the SQLite file in the state folder, whatever CB_DATABASE_URL says outside.
    return get_settings(state_dir=str(state), database_url="", demo_merchants=merchants, demo_months=MONTHS,
                        demo_seed=SEED, demo_end_month=END_MONTH)


def prepare(root: Path, merchants: int, ed_rows: int | None) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The state folder of a ``merchants``-sized demo book and its model, built once and reused.

    Returns ``(state folder, prepared facts, record)``. The facts hold the model version, the first
    merchant of the book (the review page's default), and a seeded sample of merchants with their
    scores (the visits); with ``ed_rows`` also the inputs of the explainerdashboard child.
    """
    folder = root / f"n{merchants}"
    state = folder / "state"
    marker = folder / PREPARED_FILE
    load_start = load1()
    if marker.exists():
        facts = json.loads(marker.read_text(encoding="utf-8"))
        if ed_rows and not (folder / "ed" / "X.parquet").exists():
            write_ed_inputs(folder, state, merchants)
        return state, facts, record("prepare", merchants, facts["seconds"], peak_rss_mb=facts["peak_rss_mb"],
                                    notes=f"reused {folder} (built {facts['built_at']})", status="ok",
                                    load_start=load_start)
    # An interrupted build resumes: ensure_demo builds the book and the model only if missing.
    state.mkdir(parents=True, exist_ok=True)
    spec = {"state": str(state), "merchants": merchants, "out": str(folder / "prepare.result.json")}
    started = time.perf_counter()
    # Its own process: peak memory is the build's, and this runner stays small.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bench.app", "--prepare-child", json.dumps(spec)], cwd=ROOT, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"preparing the {merchants:,}-merchant state failed (exit {done.returncode})")
    facts = json.loads(Path(spec["out"]).read_text(encoding="utf-8"))
    facts["seconds"] = time.perf_counter() - started
    facts["built_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    marker.write_text(json.dumps(facts, indent=1), encoding="utf-8")
    if ed_rows:
        write_ed_inputs(folder, state, merchants)
    return state, facts, record("prepare", merchants, facts["seconds"], peak_rss_mb=facts["peak_rss_mb"],
                                notes=f"built {folder}: generate_book + ensure_demo (train_with_report) + "
                                      "users; not an app timing", load_start=load_start)


def prepare_child(spec_json: str) -> int:
    """Build the state (``ensure_demo``: book and model, as on the app's first start), a user, and
    the visit sample. Runs in its own process."""
    import numpy as np

    from cb_core import workspace
    from cb_core.store import Store, default_url

    spec = json.loads(spec_json)
    state, n = Path(spec["state"]), int(spec["merchants"])
    settings = state_settings(state, n)
    book, model = workspace.ensure_demo(settings)
    snapshot = workspace.book_snapshot(book, settings)
    scores = workspace.book_scores(book, model, settings)
    store = Store(default_url(settings))
    store.add_user(BENCH_USER, "admin", password=BENCH_PASSWORD)
    store.close()
    rng = np.random.default_rng(1)
    first = str(book.merchants["merchant_id"].iloc[0])
    pool = scores.index[scores.index.isin(snapshot.index) & (scores.index != first)]
    sample = [str(m) for m in rng.choice(pool.to_numpy(), size=min(60, len(pool)), replace=False)]
    facts = {"merchants": n, "model_version": model.version, "fingerprint": book.fingerprint,
             "first_merchant": first, "first_score": int(scores.loc[first, "score"]),
             "visit_merchants": sample, "visit_scores": [int(scores.loc[m, "score"]) for m in sample],
             "n_trees": model.booster.num_trees(), "n_features": len(model.features),
             "peak_rss_mb": procfs.status_mib("VmHWM")}
    Path(spec["out"]).write_text(json.dumps(facts), encoding="utf-8")
    return 0


def write_ed_inputs(folder: Path, state: Path, merchants: int) -> None:
    """The explainerdashboard child's inputs: the booster input matrix of the snapshot the app scores
    (model column order, categories as their training codes), labels, our raw margin for the check."""
    import numpy as np
    import pandas as pd

    from cb_core import workspace

    settings = state_settings(state, merchants)
    book, model = workspace.current_book(settings), workspace.current_model(settings)
    snapshot = workspace.book_snapshot(book, settings)
    scores = workspace.book_scores(book, model, settings)
    X = pd.DataFrame(model.matrix(snapshot), columns=model.features, index=snapshot.index.astype(str))
    X.index.name = "merchant_id"
    # No outcome exists for the current snapshot (that is what the score predicts): the labels are
    # drawn from our calibrated PD, seeded. They only feed explainerdashboard's metrics.
    y = (np.random.default_rng(0).random(len(X)) < scores.loc[snapshot.index, "pd"].to_numpy()).astype(int)
    ed = folder / "ed"
    ed.mkdir(parents=True, exist_ok=True)
    X.to_parquet(ed / "X.parquet")
    pd.DataFrame({"y": y, "margin": model.margin(snapshot).to_numpy()}, index=X.index).to_parquet(ed / "y.parquet")
    (ed / "booster.txt").write_text(model.booster.model_to_string(), encoding="utf-8")


__all__ = ["BENCH_PASSWORD", "BENCH_USER", "OUT_DIR", "PREPARED_FILE", "prepare", "prepare_child", "state_settings",
           "write_ed_inputs"]
