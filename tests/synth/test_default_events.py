"""The demo book's published default events (``default_events``): what they say, that they agree with
the outcomes, that validation holds them to it, and that no model ever sees them."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cb_core.data import DEFAULT_EVENT_COLUMNS, validate_tables, write_book
from cb_core.errors import ConfigError, Problem, SchemaError
from cb_core.features import month_index, training_table
from cb_core.synth import generate_book, true_pd_at, true_pd_path

N, MONTHS, SEED = 3_000, 24, 5


@pytest.fixture(scope="module")
def book():
    return generate_book(N, MONTHS, seed=SEED)


def test_one_row_per_defaulting_merchant_in_the_books_months(book):
    ev = book.default_events
    assert list(ev.columns) == list(DEFAULT_EVENT_COLUMNS)
    assert ev["merchant_id"].is_unique and ev["merchant_id"].isin(book.merchants["merchant_id"]).all()
    assert ev["merchant_id"].is_monotonic_increasing
    assert ev["merchant_id"].dtype == "str" and ev["default_month"].dtype == "str"
    # 24 months: the last outcome window (snapshot 2025-10) ends with the book, so every event is inside it
    assert ev["default_month"].between("2024-12", "2026-10").all()
    # a merchant defaults only once it has a row (its PD needs one): after its first month
    first = book.activity.groupby("merchant_id")["month"].min()
    assert (ev["default_month"].to_numpy() > first.reindex(ev["merchant_id"]).to_numpy()).all()
    # about 4-5% a year of the book over two years
    assert 0.04 < len(ev) / N < 0.2


def test_events_are_the_outcome_labels(book):
    """Recomputed by hand: a row is labelled 1 exactly when the merchant's event lies in the 12 months
    after its snapshot, and no row is at or after the event."""
    o = book.outcomes.merge(book.default_events, on="merchant_id", how="left")
    t = month_index(o["snapshot_month"])
    d = np.array([month_index(x) if isinstance(x, str) else np.nan for x in o["default_month"]])
    assert not (t >= d).any()
    expected = ((d > t) & (d <= t + 12)).astype(int)
    assert (o["defaulted_12m"].to_numpy() == expected).all()
    assert o["defaulted_12m"].sum() > 50


def test_activity_collapses_in_the_default_month(book):
    a = book.activity.merge(book.default_events, on="merchant_id")
    a = a.assign(k=month_index(a["month"]) - month_index(a["default_month"]))
    sales = a.groupby("k")["gmv_krw"].median()
    assert sales[0] < 0.7 * sales[-1] and sales[2] < 0.5 * sales[-1]


def test_default_events_far_past_a_short_books_end():
    short = generate_book(2_000, 12, seed=3)  # one snapshot, the last month: its window is the year after
    ev = short.default_events
    assert (ev["default_month"] > "2026-10").any() and ev["default_month"].max() <= "2027-10"
    validate_tables(short.tables(), source="short")  # months past the end are allowed here


def test_same_seed_same_bytes_and_validation_round_trip(book, tmp_path):
    write_book(book, tmp_path / "a")
    write_book(generate_book(N, MONTHS, seed=SEED), tmp_path / "b")
    assert (tmp_path / "a" / "default_events.parquet").read_bytes() == (tmp_path / "b" / "default_events.parquet").read_bytes()
    back = validate_tables(book.tables(), source="demo")
    pd.testing.assert_frame_equal(back.default_events, book.default_events)
    assert back.fingerprint == book.fingerprint
    # a book without the table keeps the fingerprint it had before the table existed
    assert replace(book, default_events=None, _fingerprint=None).fingerprint != book.fingerprint


def _problems(tables):
    with pytest.raises(SchemaError) as err:
        validate_tables(tables, source="t")
    return err.value.problems


def test_bad_default_events_are_named(book):
    tables = {k: v.astype(str) if k != "outcomes" else v for k, v in book.tables().items()}
    ev = book.default_events.astype(object).copy()
    ev.loc[0, "merchant_id"] = "M9999999"
    ev.loc[1, "default_month"] = "2026-13"
    ev = pd.concat([ev, ev.iloc[[2]]], ignore_index=True)
    found = _problems({**tables, "default_events": ev})
    by_rule = {(p.table, p.column, p.rule): p for p in found}
    assert ("default_events", "merchant_id", "merchant_id not found in merchants") in by_rule
    assert by_rule[("default_events", "merchant_id", "merchant_id not found in merchants")].rows == (1,)
    month = [p for p in found if p.table == "default_events" and p.column == "default_month"]
    assert month and month[0].rows == (2,)
    dup = [p for p in found if p.table == "default_events" and p.column == "merchant_id" and p.rows != (1,)]
    assert dup and 3 in dup[0].rows and len(ev) in dup[0].rows


def test_events_that_disagree_with_the_outcomes_are_named(book):
    o = book.outcomes
    ev = book.default_events
    bad_row = int(np.flatnonzero(o["defaulted_12m"].to_numpy() == 1)[0])
    who = o["merchant_id"].iloc[bad_row]
    # drop that merchant's event: its label 1 has no event behind it
    found = _problems({**book.tables(), "default_events": ev[ev["merchant_id"] != who]})
    assert [(p.table, p.column) for p in found] == [("outcomes", "defaulted_12m")]
    labelled = o.index[(o["merchant_id"] == who) & (o["defaulted_12m"] == 1)] + 1
    assert found[0].rows == tuple(labelled)
    assert "defaulted_12m does not match default_events" in found[0].rule
    first = labelled[0] - 1  # the example is the first reported row's
    assert found[0].example == f"{who} {o['snapshot_month'][first]}, default none, defaulted_12m 1"
    # move the event before the merchant's outcome rows: the rows are now after the default
    early = ev.copy()
    early.loc[early["merchant_id"] == who, "default_month"] = "2024-12"
    found = _problems({**book.tables(), "default_events": early})
    rules = {(p.table, p.column, p.rule) for p in found}
    assert ("outcomes", "snapshot_month", "outcome row at or after the merchant's default_month in default_events") in rules
    after = next(p for p in found if p.column == "snapshot_month")
    first = o.index[o["merchant_id"] == who][0]
    assert after.rows[0] == first + 1 and after.example == f"{who} {o['snapshot_month'][first]}, default 2024-12"


def test_no_model_input_reads_the_default_events(book):
    """The trainer's table is the same with the events, without them and with made-up ones."""
    X, y, time, _, ids = training_table(book)
    assert not [c for c in X.columns if "default" in c]
    for other in (replace(book, default_events=None, _fingerprint=None),
                  replace(book, default_events=book.default_events.assign(default_month="2026-10"),
                          _fingerprint=None)):
        X2, y2, *_ = training_table(other)
        pd.testing.assert_frame_equal(X, X2)
        pd.testing.assert_series_equal(y, y2)


def test_true_pd_path_is_true_pd_at_for_every_month(book):
    months = ["2024-11", "2025-06", "2026-10"]
    path = true_pd_path(book, months)
    assert list(path.columns) == months and path.index.equals(pd.Index(book.merchants["merchant_id"]))
    for m in months:
        at = true_pd_at(book, m)
        np.testing.assert_array_equal(path.loc[at.index, m].to_numpy(), at.to_numpy())
        assert path[m].drop(at.index).isna().all()
    assert true_pd_path(book).shape == (N, MONTHS)
    with pytest.raises(ConfigError, match=r"months must be a month of the book \(2024-11 to 2026-10\); got '2027-01'"):
        true_pd_path(book, ["2026-10", "2027-01"])
