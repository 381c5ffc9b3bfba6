"""The booked-loan benchmark (bench/bench_loans.py) at a tiny size: well-formed records and sections,
figures that agree with each other, no timing asserts."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import bench_loans
from tests.support.app import ROOT

EARLIER = "# Benchmark results\n\n## an earlier run\n\n| kept | as it was |\n"


def _run(*args, tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(EARLIER, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bench.bench_loans", *args, "--results", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    return done, [json.loads(line) for line in done.stdout.splitlines() if line.strip()], results


@pytest.mark.slow
def test_watchlist_lift_run_and_section(tmp_path):
    done, (result,), results = _run("watchlist", "--merchants", "1500", "--seed", "11", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert result["merchants"] == 1500 and result["loans"] > 100 and result["default_events"] > 50
    assert [r["reading"] for r in result["readings"]] == [label for label, _ in bench_loans.READINGS]
    for r in result["readings"]:
        assert r["observations"] > 500 and 0 <= r["flagged_high"] <= r["observations"]
        assert 0 < r["base_rate"] < 0.2
        if r["flagged_high"]:
            assert r["lift"] == pytest.approx(r["share_high_reaching_90"] / r["base_rate"])
    text = results.read_text(encoding="utf-8")
    assert text.startswith(EARLIER.rstrip("\n"))  # the earlier section is kept as it was
    section = text[len(EARLIER):]
    assert "watch-list lift and lead, 1,500 merchants x 24 months" in section
    assert "Load average (1/5/15 min) at start" in section and "Machine: nproc" in section
    assert section.count("\n| ") == 2 + len(bench_loans.READINGS)  # header, rule, one row per reading


@pytest.mark.slow
def test_commands_run_times_each_whole_command(tmp_path):
    done, records, results = _run("commands", "--merchants", "600", "--model-merchants", "1500", "--seed", "11",
                                  "--workdir", str(tmp_path), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:] + str(records)
    assert [r["command"] for r in records] == ["demo-data", "vintages", "backtest", "watchlist"]
    for r in records:
        assert r["exit"] == 0 and r["seconds"] > 0 and r["peak_rss_mib"] > 30, r
    book = records[0]["summary"]
    assert book["merchants"] == 600 and book["loans"] > 0
    assert set(book["seconds"]) == {"generate", "loans", "total"}
    assert book["seconds"]["generate"] + book["seconds"]["loans"] <= book["seconds"]["total"] + 0.02
    assert records[1]["summary"]["rows"] > 0 and "severity" in records[3]["summary"]
    section = results.read_text(encoding="utf-8")[len(EARLIER):]
    assert "loan commands, 600 merchants x 24 months" in section
    for name in ("demo-data", "vintages", "backtest", "watchlist"):
        assert f"| `{name}` |" in section
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("cb-bench-loans-")]  # work folder removed


def test_bad_sizes_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        bench_loans.main(["watchlist", "--merchants", "0", "--no-results"])
    assert exit_.value.code == 2
    assert "--merchants and --model-merchants must be at least 1" in capsys.readouterr().err


def test_a_failed_command_is_reported_not_hidden(tmp_path):
    r = bench_loans.run_command(["vintages", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "v.csv")])
    assert r["exit"] == 2 and "book folder not found" in r["stderr"]
    section = bench_loans.commands_section([r], 10, 10, {"versions": {k: "x" for k in
                                                                     ("numpy", "pandas", "pyarrow", "lightgbm")},
                                                        "nproc": 2, "mem_total_gib": 1, "cpu_model": "c",
                                                        "python": "3", "commit": "abc", "dirty": False},
                                           "cmd", bench_loans.datetime.now(bench_loans.timezone.utc), 1.0,
                                           (1, 1, 1), (1, 1, 1))
    assert "**failed (exit 2)**" in section and "book folder not found" in section
