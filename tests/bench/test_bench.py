"""The benchmark runner (``python -m bench``, bench/runner.py): a smoke run on a tiny book, one record per
step, no timing asserts; and ``python -m cb_core bench``, which only hands its arguments over."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench import runner as bench
from bench.results import results_section
from tests.support.app import ROOT

GROUPS = "generate,snapshot,train,score,points,explain,curves,offers"
STEPS = {"generate_book", "snapshot", "training_table", "train_model", "score_book", "points_book",
         "cutoff_reference", "explain_one", "strategy_frame", "curve_precompute", "slider_at", "match_book"}
OPTIONAL = {"fastshap_build", "points_fastshap"}  # only while cb_core.explain.fastshap is importable
EARLIER = "# Benchmark results\n\n## an earlier run\n\n| kept | as it was |\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    results = tmp / "RESULTS.md"
    results.write_text(EARLIER, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--merchants", "2000",
                           "--steps", GROUPS, "--workdir", str(tmp), "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done, records, results, tmp


@pytest.mark.slow
def test_quick_run_gives_one_well_formed_record_per_step(quick_run):
    done, records, _, tmp = quick_run
    assert done.returncode == 0, done.stderr[-2000:]
    steps = [r["step"] for r in records]
    assert STEPS <= set(steps) and set(steps) <= STEPS | OPTIONAL
    assert len(steps) == len(set(steps))
    for r in records:
        assert set(bench.RECORD_KEYS) <= set(r), r
        assert r["status"] == "ok", r
        assert r["merchants"] == 2000
        assert r["seconds"] > 0, r
        assert 0 < r["base_rss_mb"] <= r["peak_rss_mb"], r
        assert r["cpu_seconds"] >= 0, r
        assert isinstance(r["notes"], str) and r["notes"], r
    by = {r["step"]: r for r in records}
    assert by["snapshot"]["rows"] == by["generate_book"]["rows"]          # every activity row read
    n_snapshot = by["score_book"]["rows"]
    assert 0 < n_snapshot <= 2000
    for step in ("points_book", "strategy_frame", "curve_precompute", "match_book"):
        assert by[step]["rows"] == n_snapshot, step
    assert by["explain_one"]["rows"] == by["slider_at"]["rows"] == 1
    assert "median of 50 calls" in by["explain_one"]["notes"]
    assert "median of 200 calls" in by["slider_at"]["notes"]
    assert "extrapolated_seconds" not in by["points_book"]                  # 2,000 rows: the whole book
    assert list(tmp.glob("cb-bench-*")) == []                               # work folder removed


@pytest.mark.slow
def test_quick_run_appends_a_section_and_keeps_earlier_ones(quick_run):
    _, records, results, _ = quick_run
    text = results.read_text(encoding="utf-8")
    assert text.startswith(EARLIER)
    section = text[len(EARLIER):]
    assert section.count("\n## ") == 1 and "2,000 merchants" in section
    for fact in ("nproc", "GiB total memory", "CPU `", "Load average (1/5/15 min) at start", "upper bound",
                 "--steps " + GROUPS):
        assert fact in section, fact
    rows = [line for line in section.splitlines() if line.startswith("| ") and "| 2,000 |" in line]
    assert [row.split(" | ")[0][2:] for row in rows] == [r["step"] for r in records]


@pytest.mark.slow
def test_reference_is_skipped_without_the_bench_venv(tmp_path):
    records = bench.run([300], steps=["reference"], workdir=tmp_path, bench_python=tmp_path / "no-python")
    assert len(records) == 1
    (r,) = records
    assert (r["step"], r["status"], r["merchants"], r["seconds"]) == ("reference", "skipped", 300, None)
    assert "bench/setup.sh" in r["notes"] and "no-python" in r["notes"]


def test_unknown_step_group_is_refused():
    from cb_core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown step group.*explainz"):
        bench.run([10], steps=["snapshot", "explainz"])


def test_bad_child_env_exits_2_with_the_value(capsys):
    assert bench.main(["--merchants", "10", "--child-env", "NOEQUALS", "--no-results"]) == 2
    assert "--child-env takes KEY=VALUE; got NOEQUALS" in capsys.readouterr().err


def test_results_table_formats_times_and_failures():
    facts = {"nproc": 2, "mem_total_gib": 23.4, "cpu_model": "Test CPU", "python": "3.11.7", "commit": "abc1234",
             "dirty": False, "versions": {"numpy": "1", "pandas": "2", "pyarrow": "3", "lightgbm": "4"}}
    ok = {"step": "slider_at", "merchants": 1_000_000, "rows": 1, "seconds": 0.0000437, "peak_rss_mb": 912.44,
          "notes": "a | b", "status": "ok", "cpu_seconds": 0.0000412, "base_rss_mb": 900.0, "load_1m_start": 1.5, "load_1m_end": 2.25}
    failed = {**ok, "step": "train", "rows": None, "seconds": None, "peak_rss_mb": None, "status": "failed",
              "notes": "exit 1", "cpu_seconds": None, "load_1m_end": None}
    slow = {**ok, "step": "snapshot", "seconds": 75.456, "cpu_seconds": 80.04}
    from datetime import datetime, timezone

    text = results_section([ok, failed, slow], facts, "python -m bench", (1.0, 2.0, 3.0),
                           (4.0, 5.0, 6.0), datetime(2026, 11, 24, 22, 5, tzinfo=timezone.utc), 12.3)
    assert text.startswith("## 2026-11-24 22:05 UTC: 1,000,000 merchants\n")
    assert "at start 1.00 / 2.00 / 3.00, at end 4.00 / 5.00 / 6.00" in text
    assert "| slider_at | 1,000,000 | 1 | 0.04 ms | 4.12e-05 | 912 | 1.50 -> 2.25 | a \\| b |" in text
    assert "| train | 1,000,000 | — | — | — | — | — | **failed**: exit 1 |" in text
    assert "| snapshot | 1,000,000 | 1 | 75.46 s | 80 | 912 |" in text


def _cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _records(done: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_engine_command_line_prints_the_runners_options():
    direct, engine = _cli("-m", "bench", "--help"), _cli("-m", "cb_core", "bench", "--help")
    assert direct.returncode == engine.returncode == 0, engine.stderr
    assert engine.stdout == direct.stdout
    for option in ("--quick", "--merchants", "--steps", "--child-env", "--app-args", "--no-results"):
        assert option in engine.stdout, option


def test_engine_command_line_hands_everything_over(tmp_path):
    """``python -m cb_core bench ...``, even from another folder: the runner's JSON lines and its exit code
    (0, or 1 when a step failed: not the engine CLI's own 2)."""
    done = _cli("-m", "cb_core", "bench", "--quick", "--merchants", "300", "--steps", "generate", "--no-results",
                "--workdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (record,) = _records(done)
    assert (record["step"], record["merchants"], record["status"]) == ("generate_book", 300, "ok")
    failed = _cli("-m", "cb_core", "bench", "--merchants", "10", "--months", "0", "--steps", "generate",
                  "--no-results", "--workdir", str(tmp_path), cwd=tmp_path)
    assert failed.returncode == 1, failed.stderr[-2000:]
    (record,) = _records(failed)
    assert (record["step"], record["status"]) == ("generate", "failed")
    assert "n_months must be within 1–120; got 0" in record["notes"]
    assert list(tmp_path.iterdir()) == []  # work folders removed, no RESULTS.md written
