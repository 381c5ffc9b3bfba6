"""bench.byo's summary: means over splits and the gap to the best classical reference, by hand."""
from bench.byo import summary


def test_summary_compares_ours_with_the_best_reference():
    records = [{"data": "t", "ours": o, "onehot_lr": h, "woe_lr": w, "lightgbm_only": g, "chosen": c,
                "train_seconds": 10}
               for o, h, w, g, c in ((0.80, 0.79, 0.78, 0.75, "woe_scorecard"), (0.76, 0.79, 0.74, 0.73, "blend"))]
    records.append({"data": "u", "ours": 0.70, "onehot_lr": 0.71, "woe_lr": 0.60, "lightgbm_only": 0.69,
                    "chosen": "lightgbm", "train_seconds": 5})
    lines = summary(records).splitlines()
    t_row, u_row = lines[2], lines[3]
    # t: ours 0.78, one-hot 0.79 (best), WoE 0.76; u: ours 0.70 against one-hot 0.71
    assert t_row.startswith("| t | 2 | 0.7800 ± 0.0283 | 0.7900 ± 0.0000 | 0.7600 ± 0.0283 | 0.7400 ± 0.0141 |")
    assert "| -0.0100 | no | woe_scorecard 1, blend 1 | 10 |" in t_row
    assert u_row.startswith("| u | 1 | 0.7000 ± 0.0000 |") and "| -0.0100 | no | lightgbm 1 | 5 |" in u_row
