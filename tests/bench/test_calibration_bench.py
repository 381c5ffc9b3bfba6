"""bench.calibration: the model of one demo book scored at decision on another seed's book."""
from __future__ import annotations

import re

import pytest

from bench import calibration


def test_calibration_bench_reports_each_independent_book(capsys):
    assert calibration.main(["--merchants", "600", "--seeds", "8", "--no-write"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| independent book")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] == "8" and int(cells[2].replace(",", "")) > 0
    auc, oracle, gap = (float(c) for c in cells[4:7])
    assert 0 <= auc <= 1 and 0.5 < oracle <= 1 and gap == pytest.approx(oracle - auc, abs=2e-4)
    assert re.fullmatch(r"\d+\.\d\d", cells[7]) and cells[8] in {"yes", "no"}


def test_the_training_seed_is_not_an_independent_book():
    with pytest.raises(SystemExit):
        calibration.main(["--train-seed", "8", "--seeds", "8", "--no-write"])
