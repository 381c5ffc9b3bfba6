"""Point in time and outcome maturity: the bureau as of each snapshot month, static fields flagged and
left out unless allowed, outcome rows whose window has not ended never trained on."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ModelError
from cb_core.features import outcome_maturity, snapshot, static_features, training_table

FAST = {"learning_rate": 0.1, "num_boost_round": 150, "early_stopping_rounds": 20, "num_threads": 1}


def test_snapshot_reads_the_bureau_as_of_its_month(small_book):
    ids = small_book.merchants["merchant_id"].iloc[:3].tolist()
    history = pd.DataFrame({
        "merchant_id": [ids[0], ids[0], ids[1]], "month": ["2025-01", "2025-09", "2025-09"],
        "bureau_score": pd.array([800, 610, 700], dtype="Int64"),
        "owner_has_credit_card": pd.array([True, False, True], dtype="boolean")})
    before = snapshot(small_book.merchants, small_book.activity, "2025-06", history)
    after = snapshot(small_book.merchants, small_book.activity, "2025-10", history)
    today = snapshot(small_book.merchants, small_book.activity, "2025-10")
    if ids[0] in before.index:
        assert before.loc[ids[0], "bureau_score"] == 800 and before.loc[ids[0], "owner_has_credit_card"] == 1.0
    assert after.loc[ids[0], "bureau_score"] == 610 and after.loc[ids[0], "owner_has_credit_card"] == 0.0
    if ids[1] in before.index:  # no bureau record yet in June: a thin file then
        assert np.isnan(before.loc[ids[1], "bureau_score"]) and before.loc[ids[1], "thin_file"] == 1.0
    assert after.loc[ids[1], "bureau_score"] == 700
    # without a history: the merchants table's (today's) values
    static = small_book.merchants.set_index("merchant_id")["bureau_score"].astype("Float64").reindex(today.index)
    np.testing.assert_array_equal(today["bureau_score"].to_numpy(), static.to_numpy(dtype=float, na_value=np.nan))
    other = [c for c in after.columns if c not in ("bureau_score", "thin_file", "owner_has_credit_card")]
    pd.testing.assert_frame_equal(after[other], today[other])


def test_demo_book_is_point_in_time(small_book):
    assert small_book.bureau_history is not None
    assert static_features(small_book) == ["region_income_index"]
    assert static_features(replace(small_book, bureau_history=None, _fingerprint=None)) == [
        "bureau_score", "thin_file", "owner_has_credit_card", "region_income_index"]
    # the demo's bureau record does not change, so as-of values equal today's
    snap = snapshot(small_book.merchants, small_book.activity, "2025-07", small_book.bureau_history)
    plain = snapshot(small_book.merchants, small_book.activity, "2025-07")
    pd.testing.assert_frame_equal(snap, plain)


def test_outcome_rows_whose_window_has_not_ended_are_counted_and_never_trained_on(small_book):
    young = small_book.outcomes[small_book.outcomes["snapshot_month"] == "2025-10"].head(40).assign(
        snapshot_month="2026-04")
    book = replace(small_book, outcomes=pd.concat([small_book.outcomes, young], ignore_index=True), _fingerprint=None)
    m = outcome_maturity(book)
    assert m == {"horizon_months": 12, "last_month": "2026-10", "latest_mature_snapshot": "2025-10",
                 "mature_rows": len(small_book.outcomes), "immature_rows": 40, "immature_snapshots": ["2026-04"]}
    X, y, time, _, _ = training_table(book)
    assert "2026-04" not in set(time) and len(X) == len(training_table(small_book)[0])
    only_young = replace(small_book, outcomes=young, _fingerprint=None)
    with pytest.raises(ModelError, match=r"no outcome is known yet: every outcome row's 12-month window ends after "
                                         r"the book's last month 2026-10 \(snapshot months 2026-04\)"):
        training_table(only_young)


def test_static_fields_are_left_out_unless_allowed_and_the_card_says_so(small_book, tmp_path, capsys):
    from cb_core.cli.commands import main as cli_main
    from cb_core.data import write_book

    book_dir = write_book(replace(small_book, bureau_history=None, _fingerprint=None), tmp_path / "book")
    assert cli_main(["train", "--data", str(book_dir), "--out", str(tmp_path / "m")]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    static = ["bureau_score", "thin_file", "owner_has_credit_card", "region_income_index"]
    assert printed["not_point_in_time"] == static and printed["static_features_used"] == []
    assert not set(static) & {f["name"] for f in card["features"]}
    pit = card["validation"]["point_in_time"]
    assert pit["bureau_history"] is False and pit["excluded"] == static
    assert "not point-in-time" in pit["note"] and "bureau_history" in pit["note"]
    assert card["validation"]["outcome_maturity"]["immature_rows"] == 0
    assert cli_main(["train", "--data", str(book_dir), "--allow-static", "--out", str(tmp_path / "m2")]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    card = json.loads((tmp_path / "m2" / "card.json").read_text())
    assert printed["static_features_used"] == static and set(static) <= {f["name"] for f in card["features"]}
    assert "--allow-static" in card["validation"]["point_in_time"]["note"]
