"""``python -m bench.score`` (bench/score.py): a smoke run on the small book, whole command and shap
alternating, the steps child, and the section it writes; no timing asserts."""
from __future__ import annotations

from datetime import datetime, timezone

from bench import score as bench_score
from cb_core.data import write_book


def test_a_run_measures_the_command_shap_and_every_step(trained, small_book, tmp_path):
    book = write_book(small_book, tmp_path / "book")
    model = trained[0].save(tmp_path / "model")
    result = bench_score.measure(1_500, str(book), str(model), repeats=1, reference=None,
                                 shap_python=bench_score.sys.executable)
    run, cached, shap = result["runs"][0], result["runs_bytecode"][0], result["shap"][0]
    assert run["rc"] == 0 and run["cpu"] > 0 and run["peak_mib"] > 50
    assert cached["rc"] == 0 and cached["cpu"] > 0 and cached["peak_mib"] > 50
    assert shap["rows"] == len(small_book.merchants) and shap["explain_s"] > 0
    for label in bench_score.FLOORS:  # each floor ran once in each mode
        assert [len(result["floors"][label][m]) for m in bench_score.MODES] == [1, 1]
    assert set(result["steps"]) == set(bench_score.MODES)
    for mode in bench_score.MODES:
        steps = [s["step"] for s in result["steps"][mode]["steps"]]
        assert steps[0].startswith("import") and steps[-1] == "write output" and len(steps) == 8
        assert any(s.startswith("kernels: ") and "kernels_beside" in s for s in steps)  # the command's loader
        assert any("full validation" in s for s in steps)  # a folder that is not installed is validated in full
    text = bench_score.section(result, "python -m bench.score (test)", datetime.now(timezone.utc), (0.0,) * 6)
    assert "Ratio shap explanation alone / whole command (as set up)" in text
    assert "Ratio shap explanation alone / whole command (bytecode cached)" in text and "| write output |" in text
    assert "floor: `python -c pass`, bytecode cached" in text
    assert "Reference command" not in text  # none was asked for
