"""bench.slider: the Cutoff tuning page, whole, after each slider move (a smoke run on a tiny book)."""
from __future__ import annotations

from bench import slider


def test_slider_bench_moves_the_slider_and_reports_each_figure(capsys, monkeypatch):
    import os

    monkeypatch.setenv("CB_DATABASE_URL", "sqlite:////nowhere/before.sqlite")
    monkeypatch.delenv("CB_STATE_DIR", raising=False)
    assert slider.main(["--merchants", "800", "--moves", "2", "--no-write"]) == 0
    # its temporary state is gone: the environment is as it was before the run
    assert os.environ["CB_DATABASE_URL"] == "sqlite:////nowhere/before.sqlite" and "CB_STATE_DIR" not in os.environ
    out = capsys.readouterr().out
    rows = dict(line.strip("|").split("|")[:2] for line in out.splitlines() if line.startswith("| ") and "---" not in line)
    rows = {k.strip(): v.strip() for k, v in rows.items()}
    assert rows["one slider move, median of 2"].endswith(" s")
    assert rows["distinct approval rates shown over the moves"] in {"1", "2"}
