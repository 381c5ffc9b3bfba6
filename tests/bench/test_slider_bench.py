"""bench.slider: the Cutoff tuning page, whole, after each move of both sliders (a smoke run on a tiny
book), every move's figures checked against an independent computation of the draft on screen."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from bench import slider
from cb_core.i18n import format_count, strings
from cb_core.strategy import Policy, bureau_only_scores, compare_policies
from tests.strategy.test_strategy import random_frame


def _rows(out: str) -> dict[str, str]:
    rows = dict(line.strip("|").split("|")[:2] for line in out.splitlines() if line.startswith("| ") and "---" not in line)
    return {k.strip(): v.strip() for k, v in rows.items()}


def test_slider_bench_moves_both_sliders_and_checks_every_figure(capsys, monkeypatch):
    import os

    monkeypatch.setenv("CB_DATABASE_URL", "sqlite:////nowhere/before.sqlite")
    monkeypatch.delenv("CB_STATE_DIR", raising=False)
    assert slider.main(["--merchants", "800", "--moves", "4", "--no-write"]) == 0
    # its temporary state is gone: the environment is as it was before the run
    assert os.environ["CB_DATABASE_URL"] == "sqlite:////nowhere/before.sqlite" and "CB_STATE_DIR" not in os.environ
    out = capsys.readouterr().out
    rows = _rows(out)
    for stat in ("fastest", "median", "p95", "slowest"):
        assert rows[f"one slider move, {stat} of 4"].endswith(" s")
    times = [float(rows[f"one slider move, {stat} of 4"][:-2]) for stat in ("fastest", "median", "p95", "slowest")]
    assert times == sorted(times)
    assert rows["goal: every move within 1 s"].startswith(("met", "not met ("))
    # 4 moves, approve and refer in turn, each listed with its time and the load
    moves = out.split("Every move (slider, value, time, load average 1 min after it): ")[1].splitlines()[0].split(", ")
    assert [m.split()[0] for m in moves] == ["approve", "refer", "approve", "refer"]
    # the first visit and each of the 4 moves: 8 metrics, 9 matrix cells and the curves' line compared
    assert "after every move, 90 figures in all equal an independent computation" in out


def test_plan_alternates_sliders_with_new_values_within_range():
    moves = slider.plan(590, 550, 24)
    assert len(moves) == 24 and [k for k, _ in moves[:4]] == ["cut_approve", "cut_refer"] * 2
    for key in ("cut_approve", "cut_refer"):
        values = [v for k, v in moves if k == key]
        assert all(300 <= v <= 800 for v in values) and all(a != b for a, b in zip(values, values[1:]))
    assert [v for k, v in moves if k == "cut_approve"][:4] == [605, 580, 620, 570]
    assert slider.plan(795, 305, 4) == [("cut_approve", 800), ("cut_refer", 300), ("cut_approve", 785),
                                        ("cut_refer", 315)]


@pytest.fixture(scope="module")
def reference():
    frame, seen = random_frame(2000, seed=21), random_frame(1500, seed=22)
    return slider.Reference(frame, seen, bureau_only_scores(frame, fit_on=seen), Policy(approve_cutoff=600,
                                                                                      refer_cutoff=550))


def _page(ref: slider.Reference, approve: int, refer: int, line: int | None = None):
    """A stand-in for an AppTest page showing the figures of the draft (approve, refer)."""
    metrics = [SimpleNamespace(label=k, value=v) for k, v in ref.shown(approve, refer).items()]
    matrix = ref.matrix(approve, refer)
    table = pd.DataFrame({strings()["col_published_decision"]["en"]: ["Approve", "Refer", "Decline"],
                          **{f"draft {j}": [format_count(matrix[i][j], "en") for i in range(3)] for j in range(3)}})
    spec = json.dumps({"layout": {"shapes": [{"type": "line", "x0": approve if line is None else line}] * 2}})
    chart = SimpleNamespace(proto=SimpleNamespace(spec=spec))
    return SimpleNamespace(metric=metrics, dataframe=[SimpleNamespace(value=table)], get=lambda kind: [chart])


def test_check_page_passes_the_draft_on_screen_and_catches_stale_figures(reference):
    assert slider.check_page(_page(reference, 620, 560), reference, 620, 560) == 18
    # the page still shows the figures of 590 while the sliders say 620: caught, named
    with pytest.raises(AssertionError, match="'Approval rate' shows .* approve 620 / refer 560 gives"):
        slider.check_page(_page(reference, 590, 560), reference, 620, 560)
    with pytest.raises(AssertionError, match="cutoff line is at \\[590\\], the slider at 620"):
        slider.check_page(_page(reference, 620, 560, line=590), reference, 620, 560)
    stale = _page(reference, 620, 560)
    stale.dataframe[0].value.iloc[0, 1] = "0"
    with pytest.raises(AssertionError, match="decision matrix shows"):
        slider.check_page(stale, reference, 620, 560)
    # the reference itself is the engine's, by another route: the matrix is compare_policies' counts
    draft = Policy(approve_cutoff=620, refer_cutoff=560)
    counts = compare_policies(reference.frame, draft, reference.published).matrix.to_numpy()
    assert reference.matrix(620, 560) == counts.tolist() and int(np.sum(counts)) == 2000
