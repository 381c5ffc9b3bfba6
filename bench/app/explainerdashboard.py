"""explainerdashboard's build on our booster and the rows the app scores, in ``bench/.venv`` (it is no
dependency of the app): the parent runs ``python -m bench.app --ed-child`` there and reads its result."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from .. import procfs
from ..serve import ROOT
from .records import load1, record

BENCH_PYTHON = ROOT / "bench" / ".venv" / "bin" / "python"


def measure_explainerdashboard(folder: Path, merchants: int, rows: int, work: Path, timeout_s: float,
                               bench_python: Path = BENCH_PYTHON) -> dict[str, Any]:
    """Run the explainerdashboard child in bench/.venv on the first ``rows`` rows of the prepared
    snapshot; return its record (status ``timeout`` with the time waited when it did not finish)."""
    load_start = load1()
    if not Path(bench_python).exists():
        return record("explainerdashboard_build", merchants, None, status="skipped", load_start=load_start,
                      notes=f"{bench_python} not found: run bench/setup.sh", rows=rows)
    out = work / f"ed-{merchants}-{rows}.result.json"
    spec = {"ed": str(folder / "ed"), "rows": rows, "out": str(out)}
    stderr = work / f"ed-{merchants}-{rows}.stderr.txt"
    started = time.perf_counter()
    with open(stderr, "wb") as err:
        proc = subprocess.Popen([str(bench_python), "-m", "bench.app", "--ed-child", json.dumps(spec)],
                                cwd=ROOT, stdout=err, stderr=subprocess.STDOUT)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return record("explainerdashboard_build", merchants, None, status="timeout", load_start=load_start,
                          rows=rows, notes=f"stopped after {time.perf_counter() - started:,.0f} s without finishing "
                                           "(a lower bound, not a measurement)", waited_seconds=time.perf_counter() - started)
    if code != 0 or not out.exists():
        tail = " | ".join(stderr.read_text(errors="replace").strip().splitlines()[-4:])
        return record("explainerdashboard_build", merchants, None, status="failed", load_start=load_start, rows=rows,
                      notes=f"exit {code}: {tail}")
    r = json.loads(out.read_text(encoding="utf-8"))
    notes = (f"explainerdashboard {r['version']} (shap {r['shap']}, numpy {r['numpy']}) on {rows:,} rows x "
             f"{r['features']} features, our booster in an LGBMClassifier (max |raw margin - ours| "
             f"{r['margin_diff']:.1e}, max |predict_proba - booster.predict| {r['proba_diff']:.1e}): "
             f"ClassifierExplainer {r['explainer_seconds']:,.1f} s + ExplainerDashboard {r['dashboard_seconds']:,.1f} s "
             f"(built, not served; imports {r['import_seconds']:.1f} s not counted); CPU {r['cpu_seconds']:,.0f} s; "
             f"peak RSS (VmHWM, mark reset after loading the inputs; base {r['base_rss_mb']:,.0f} MiB)")
    return record("explainerdashboard_build", merchants, r["explainer_seconds"] + r["dashboard_seconds"],
                  peak_rss_mb=r["peak_rss_mb"], load_start=load_start, notes=notes, rows=rows,
                  **{k: r[k] for k in ("explainer_seconds", "dashboard_seconds", "import_seconds", "cpu_seconds",
                                       "base_rss_mb", "margin_diff", "proba_diff", "version")})


def ed_child(spec_json: str) -> int:
    """In bench/.venv: build ClassifierExplainer + ExplainerDashboard, timed, peak RSS measured."""
    import warnings

    spec = json.loads(spec_json)
    t_import = time.perf_counter()
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    import shap
    from explainerdashboard import ClassifierExplainer, ExplainerDashboard
    from importlib.metadata import version
    import_seconds = time.perf_counter() - t_import

    ed, rows = Path(spec["ed"]), int(spec["rows"])
    X = pd.read_parquet(ed / "X.parquet").iloc[:rows]
    labels = pd.read_parquet(ed / "y.parquet").iloc[:rows]
    y = labels["y"]
    booster = lgb.Booster(model_file=str(ed / "booster.txt"))
    # The app predicts from a float matrix (categories as their training codes, CreditModel.matrix);
    # the booster was trained from a frame and would insist on pandas categoricals. Without that
    # record it reads X's float columns exactly as the app's matrix (checked below).
    booster.pandas_categorical = None
    # An LGBMClassifier fitted on a few rows gets the scikit-learn state; its booster is then ours.
    model = lgb.LGBMClassifier(n_estimators=1, verbose=-1).fit(X.iloc[:200], np.r_[0, 1, np.zeros(198, int)])
    model._Booster = booster
    margin_diff = float(np.max(np.abs(model.predict(X, raw_score=True) - labels["margin"].to_numpy())))
    proba_diff = float(np.max(np.abs(model.predict_proba(X)[:, 1] - booster.predict(X))))
    if margin_diff > 1e-9 or proba_diff > 1e-9:
        raise SystemExit(f"the wrapped model does not predict as ours: margin {margin_diff}, proba {proba_diff}")
    base = procfs.status_mib("VmRSS")
    procfs.reset_peak()
    warnings.simplefilter("ignore")
    cpu0, t0 = time.process_time(), time.perf_counter()
    explainer = ClassifierExplainer(model, X, y)
    t1 = time.perf_counter()
    ExplainerDashboard(explainer)
    t2 = time.perf_counter()
    result = {"rows": rows, "features": X.shape[1], "explainer_seconds": t1 - t0, "dashboard_seconds": t2 - t1,
              "import_seconds": import_seconds, "cpu_seconds": time.process_time() - cpu0,
              "peak_rss_mb": procfs.status_mib("VmHWM"), "base_rss_mb": base, "margin_diff": margin_diff,
              "proba_diff": proba_diff, "version": version("explainerdashboard"), "shap": shap.__version__,
              "numpy": np.__version__}
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


__all__ = ["BENCH_PYTHON", "ed_child", "measure_explainerdashboard"]
