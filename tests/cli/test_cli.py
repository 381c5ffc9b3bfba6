"""``python -m cb_core`` end to end in a subprocess: demo-data, validate, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.support.app import ROOT


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_demo_data_then_validate_both_formats(tmp_path):
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        r = _cli("demo-data", "--merchants", "300", "--months", "24", "--seed", "3", "--out", str(out),
                 "--format", fmt)
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["merchants"] == 300
        assert sorted(p.name for p in out.iterdir()) == [
            f"{t}.{fmt}" for t in ("bureau_history", "default_events", "loan_months", "loans", "merchants",
                                   "monthly_activity", "outcomes")]
        assert info["bureau_history_rows"] == 300
        v = _cli("validate", str(out))
        assert v.returncode == 0, v.stderr
        assert json.loads(v.stdout)["fingerprint"] == info["fingerprint"]


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert _cli("demo-data", "--merchants", "200", "--seed", "5", "--out", str(out)).returncode == 0
    for f in a.iterdir():
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_validate_reports_problems_with_exit_2(tmp_path):
    out = tmp_path / "book"
    assert _cli("demo-data", "--merchants", "50", "--out", str(out), "--format", "csv").returncode == 0
    path = out / "monthly_activity.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("gmv_krw")] = "-5000"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _cli("validate", str(out))
    assert r.returncode == 2
    assert "monthly_activity.gmv_krw" in r.stderr and "-5000" in r.stderr and "3" in r.stderr
    assert r.stdout == ""


def test_validate_missing_folder_exit_2(tmp_path):
    r = _cli("validate", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "nope" in r.stderr
