"""The measured steps, one function per step group, each run in a step process of its own by
``python -m bench --child SPEC`` (:mod:`bench.runner`): it reads its inputs from the parquet files
earlier groups wrote into the work folder, times its engine calls (:class:`bench.meter.Meter`) and
writes its records. bench/README.md says what each step is.

The engine is imported inside each group through its public names; at the top this module imports
only the standard library, since the ``reference`` group runs under ``bench/.venv``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from .meter import Meter, profiled, timed_calls

EXPLAIN_CALLS = 50
SLIDER_CALLS = 200
#: The snapshot's windows: (months back of the first, of the last month).
WINDOWS = {"3m": (2, 0), "prior3m": (5, 3), "6m": (5, 0), "12m": (11, 0), "yoy3m": (14, 12)}


def _read(work: Path, name: str, **kwargs: Any):
    import pandas as pd

    return pd.read_parquet(work / f"{name}.parquet", **kwargs)


def _group_generate(spec: dict[str, Any], records: list) -> None:
    from cb_core import generate_book

    n = spec["merchants"]
    with Meter(records, "generate_book", n, n) as m:
        book = generate_book(n, spec["months"], spec["seed"], spec["end_month"])
    m.record["rows"] = len(book.activity)
    m.note(f"{n:,} merchants x {spec['months']} months: {len(book.activity):,} activity rows, "
           f"{len(book.outcomes):,} outcome rows")
    work = Path(spec["work"])
    for name, frame in (("merchants", book.merchants), ("activity", book.activity), ("outcomes", book.outcomes)):
        frame.to_parquet(work / f"{name}.parquet")


def _group_snapshot(spec: dict[str, Any], records: list) -> None:
    from cb_core import snapshot

    work = Path(spec["work"])
    merchants, activity = _read(work, "merchants"), _read(work, "activity")
    with Meter(records, "snapshot", spec["merchants"], len(activity)) as m:
        snap = snapshot(merchants, activity, spec["end_month"])
    m.note(f"{len(activity):,} activity rows -> {len(snap):,} merchants x {snap.shape[1]} features as of "
           f"{spec['end_month']}; single-threaded numpy")
    snap.to_parquet(work / "snapshot.parquet")


def _group_reference(spec: dict[str, Any], records: list) -> None:
    """Runs under bench/.venv: polars and DuckDB, no pandas."""
    import duckdb
    import polars as pl

    from cb_core.features import SUM_FIELDS

    work, fields, n = Path(spec["work"]), list(SUM_FIELDS), spec["merchants"]
    end = int(spec["end_month"][:4]) * 12 + int(spec["end_month"][5:7]) - 1
    windows = {w: (end - back_lo, end - back_hi) for w, (back_lo, back_hi) in WINDOWS.items()}
    what = (f"first month, months with sales and {len(fields)} fields x {len(windows)} windows "
            f"({', '.join(windows)}) summed per merchant, month text parsed inside the timing")
    act = pl.read_parquet(work / "activity.parquet", columns=["merchant_id", "month", *fields])
    month = (pl.col("month").str.slice(0, 4).cast(pl.Int32) * 12 + pl.col("month").str.slice(5, 2).cast(pl.Int32) - 1)
    aggs = [pl.col("mi").min().alias("first_month"), (pl.col("gmv_krw") > 0).sum().alias("months_active")]
    aggs += [pl.col(f).filter(pl.col("mi").is_between(lo, hi)).sum().alias(f"{f}_{w}")
             for w, (lo, hi) in windows.items() for f in fields]
    with Meter(records, "reference_polars", n, act.height) as m:
        ours = act.lazy().with_columns(month.alias("mi")).filter(pl.col("mi") <= end).group_by("merchant_id") \
            .agg(aggs).collect()
    m.note(f"polars {pl.__version__}, {pl.thread_pool_size()} threads: {what}")
    snap = pl.read_parquet(work / "snapshot.parquet", columns=["merchant_id", "gmv_12m_total_krw"])
    joined = snap.join(ours.select("merchant_id", "gmv_krw_12m"), on="merchant_id", how="full")
    diff = (joined["gmv_12m_total_krw"] - joined["gmv_krw_12m"]).abs().max()
    m.note(f"check: {joined.height:,} merchants, max |gmv_12m_total_krw - polars sum| = {diff}")
    del ours, act
    con = duckdb.connect()
    con.execute(f"CREATE TABLE act AS SELECT merchant_id, month, {', '.join(fields)} "
                f"FROM read_parquet('{work / 'activity.parquet'}')")
    sums = ", ".join(f"sum({f}) FILTER (WHERE mi BETWEEN {lo} AND {hi}) AS {f}_{w}"
                     for w, (lo, hi) in windows.items() for f in fields)
    sql = (f"CREATE TABLE res AS SELECT merchant_id, min(mi) AS first_month, count(*) FILTER (WHERE gmv_krw > 0) "
           f"AS months_active, {sums} FROM (SELECT *, CAST(substr(month, 1, 4) AS INTEGER) * 12 "
           f"+ CAST(substr(month, 6, 2) AS INTEGER) - 1 AS mi FROM act) WHERE mi <= {end} GROUP BY merchant_id")
    rows = con.execute("SELECT count(*) FROM act").fetchone()[0]
    with Meter(records, "reference_duckdb", n, rows) as m:
        con.execute(sql)
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    out_rows, total = con.execute("SELECT count(*), sum(gmv_krw_12m) FROM res").fetchone()
    m.note(f"duckdb {duckdb.__version__}, {threads} threads, result kept as a DuckDB table: {what}")
    m.note(f"check: {out_rows:,} merchants, total 12m GMV {total:,} vs ours {int(snap['gmv_12m_total_krw'].sum()):,}")


def _group_train(spec: dict[str, Any], records: list) -> None:
    from cb_core import Book, train_model, training_table

    work, n = Path(spec["work"]), spec["merchants"]
    book = Book(_read(work, "merchants"), _read(work, "activity"), _read(work, "outcomes"))
    with Meter(records, "training_table", n, len(book.outcomes)) as m:
        X, y, period, true_pd, _ = training_table(book)
    m.note(f"{book.outcomes['snapshot_month'].nunique()} outcome snapshots -> {len(X):,} rows x {X.shape[1]} features")
    del book, _
    with Meter(records, "train_model", n, len(X)) as m:
        model = train_model(X, y, time=period, oracle_pd=true_pd)
    card = model.card
    params = card.get("params", {})
    chosen = card["validation"].get("model_choice", {}).get("chosen", "LightGBM")  # small tables choose a model
    m.note(f"{chosen}, {card.get('best_iteration', '—')} trees x {params.get('num_leaves', '—')} leaves (early "
           f"stopping), {params.get('num_threads', '—')} threads; out-of-time AUC {card['metrics']['auc']:.4f}, "
           f"oracle AUC {card['metrics'].get('oracle_auc', float('nan')):.4f}; "
           f"train {card['validation']['train']['rows']:,} / valid {card['validation']['valid']['rows']:,} rows")
    model.save(work / "model")


def _group_score(spec: dict[str, Any], records: list) -> None:
    from cb_core import load_model

    work = Path(spec["work"])
    snap, model = _read(work, "snapshot"), load_model(work / "model")
    with Meter(records, "score_book", spec["merchants"], len(snap)) as m:
        scores = model.score(snap)
    m.note(f"pd, score, grade for {len(scores):,} merchants ({model.card['best_iteration']} trees)")
    scores.to_parquet(work / "scores.parquet")


def _group_points(spec: dict[str, Any], records: list) -> None:
    import importlib

    from cb_core import load_model
    from cb_core.explain import contributions_to_points

    work, n = Path(spec["work"]), spec["merchants"]
    snap, model = _read(work, "snapshot"), load_model(work / "model")
    sampled = len(snap) > spec["points_full_max"]
    rows = snap.sample(spec["points_sample"], random_state=0) if sampled else snap
    with Meter(records, "points_book", n, len(rows)) as m:
        pts = contributions_to_points(model, model.booster_predict(model.matrix(rows), pred_contrib=True), rows.index)
    m.note(f"LightGBM pred_contrib -> points, {len(model.features)} features, {model.card['best_iteration']} trees "
           "(the reference: the app's points_by_feature uses cb_core.explain.fastshap)")
    if sampled:
        m.record["extrapolated_seconds"] = m.record["seconds"] * len(snap) / len(rows)
        m.note(f"MEASURED ON A RANDOM {len(rows):,}-ROW SAMPLE, extrapolated linearly to the whole book "
               f"({len(snap):,} rows): {m.record['extrapolated_seconds']:.0f} s; the peak memory is the sample's")
    try:
        fast = importlib.import_module("cb_core.explain.fastshap")
    except ImportError:
        return
    if not hasattr(fast, "pred_contrib"):
        m.note("cb_core.explain.fastshap is importable but has no pred_contrib(model, X): not measured")
        return
    try:  # another engineer's module in progress: its failure is reported, not fatal to the run
        _fastshap_points(fast, model, rows, pts, m, len(snap), records)
    except Exception as exc:  # noqa: BLE001
        m.note(f"cb_core.explain.fastshap failed: {type(exc).__name__}: {exc}")


def _fastshap_points(fast: Any, model: Any, rows: Any, pts: Any, lgb_meter: Meter, book_rows: int,
                     records: list) -> None:
    """``cb_core.explain.fastshap.pred_contrib`` on the rows ``points_by_feature`` explained, as points."""
    import hashlib

    import numpy as np

    from cb_core.explain import contributions_to_points

    n = lgb_meter.record["merchants"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(Path(fast.__file__).parent.glob("*fastshap*.py"))))
    with Meter(records, "fastshap_build", n, 10) as b:
        fast.explainer_for(model)
        fast.pred_contrib(model, rows.iloc[:10])
    b.note("cb_core.explain.fastshap.explainer_for (parse the booster, build the tables) and a first call on 10 rows "
           f"(loads or compiles the numba kernels), once per model; source of cb_core/explain/*fastshap*.py "
           f"sha256 {digest.hexdigest()[:12]} (work in progress)")
    with Meter(records, "points_fastshap", n, len(rows)) as f:
        fast_pts = contributions_to_points(model, fast.pred_contrib(model, rows), rows.index)
    diff = float(np.nanmax(np.abs(fast_pts.to_numpy(dtype=float) - pts.to_numpy(dtype=float))))
    f.record["speedup_over_pred_contrib"] = lgb_meter.record["seconds"] / f.record["seconds"]
    cpu_ratio = lgb_meter.record["cpu_seconds"] / max(f.record["cpu_seconds"], 1e-9)
    f.note(f"cb_core.explain.fastshap.pred_contrib -> points on the same rows: {f.record['speedup_over_pred_contrib']:.2f}x "
           f"faster than LightGBM pred_contrib by wall time, {cpu_ratio:.2f}x by CPU time; "
           f"max |difference| {diff:.3g} points")
    if len(rows) < book_rows:
        f.record["extrapolated_seconds"] = f.record["seconds"] * book_rows / len(rows)
        f.note(f"MEASURED ON THE SAME SAMPLE, extrapolated linearly to {book_rows:,} rows: "
               f"{f.record['extrapolated_seconds']:.0f} s")


def _group_explain(spec: dict[str, Any], records: list) -> None:
    import numpy as np

    from cb_core import Policy, load_model
    from cb_core.explain.review import cutoff_reference, explain_merchant

    work, n = Path(spec["work"]), spec["merchants"]
    snap, scores, model = _read(work, "snapshot"), _read(work, "scores"), load_model(work / "model")
    cutoff = Policy().approve_cutoff
    with Meter(records, "cutoff_reference", n, min(400, len(snap))) as m:
        reference = cutoff_reference(model, snap, scores, cutoff=cutoff)
    m.note(f"mean points of <= 400 merchants scoring {cutoff:.0f}-{cutoff + 20:.0f} (once per book and cutoff)")
    ids = np.random.default_rng(1).choice(snap.index.to_numpy(), EXPLAIN_CALLS, replace=False)
    with Meter(records, "explain_one", n, 1) as m:
        timed_calls(m, [lambda i=i: explain_merchant(model, snap, i, reference) for i in ids])
    m.note("explain_merchant (points, score, category peer percentiles, reason codes) with the reference above")


def _group_curves(spec: dict[str, Any], records: list) -> None:
    import numpy as np

    from cb_core.strategy import CutoffCurves, Policy, strategy_frame

    work, n = Path(spec["work"]), spec["merchants"]
    snap, scores = _read(work, "snapshot"), _read(work, "scores")
    merchants, outcomes = _read(work, "merchants"), _read(work, "outcomes")
    with Meter(records, "strategy_frame", n, len(scores)) as m:
        frame = strategy_frame(snap, scores, merchants, outcomes)
    m.note("scores + snapshot + merchants + latest outcome per merchant (once per book and model)")
    del merchants, outcomes
    policy = Policy()
    with Meter(records, "curve_precompute", n, len(frame)) as m:
        curves = CutoffCurves.precompute(frame, policy)
    m.note(f"sort by score and running sums; {len(curves.scores_desc)} distinct scores")
    cutoffs = np.random.default_rng(2).integers(450, 751, SLIDER_CALLS).astype(float)
    with Meter(records, "slider_at", n, 1) as m:
        timed_calls(m, [lambda c=c: curves.at(c) for c in cutoffs])
    m.note("CutoffCurves.at at random approve cutoffs 450-750 (one slider move)")


def _group_offers(spec: dict[str, Any], records: list) -> None:
    from cb_core.offers import load_products, match_book

    work, n = Path(spec["work"]), spec["merchants"]
    snap = _read(work, "snapshot", columns=["months_active", "gmv_3m_avg_krw", "category"])
    frame = _read(work, "scores").join(snap)
    products = load_products()
    with Meter(records, "match_book", n, len(frame)) as m:
        result = match_book(frame, products)
    with_offer = int((result[("best", "n_eligible")] > 0).sum())
    m.note(f"{len(frame):,} merchants x {len(products)} products; {with_offer:,} merchants with an offer")


#: Step group -> the function that runs it (in run order; :data:`bench.runner.GROUPS` has the same keys).
GROUP_STEPS: dict[str, Callable[[dict[str, Any], list], None]] = {
    "generate": _group_generate, "snapshot": _group_snapshot, "reference": _group_reference,
    "train": _group_train, "score": _group_score, "points": _group_points, "explain": _group_explain,
    "curves": _group_curves, "offers": _group_offers,
}


def child(spec_path: str) -> int:
    """The step process: run the group ``spec_path`` names (a JSON spec the runner wrote) and write its
    records (JSON) where the spec says."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    records: list[dict[str, Any]] = []
    run = GROUP_STEPS[spec["group"]]
    if spec.get("profile"):
        profiled(run, spec, records)
    else:
        run(spec, records)
    for r in records:
        r["notes"] = "; ".join(r["notes"])
    Path(spec["out"]).write_text(json.dumps(records), encoding="utf-8")
    return 0


__all__ = ["EXPLAIN_CALLS", "GROUP_STEPS", "SLIDER_CALLS", "WINDOWS", "child"]
