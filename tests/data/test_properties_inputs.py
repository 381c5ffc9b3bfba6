"""Property tests over the input side: validators and the feature snapshot.

Whatever lands in a cell or a file, loading either gives a Book or the documented errors
(SchemaError with its problems, DataSourceError); a book that passed the contract always gets a
feature snapshot with one row per merchant and no infinite value, and its scores stay in 1–1000.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from cb_core.data import ACTIVITY_COLUMNS, MERCHANT_COLUMNS, Book
from cb_core.errors import DataSourceError, SchemaError
from cb_core.features import feature_names
from cb_core.features import current_snapshot
from cb_core.data import validate_tables
from cb_core.data import read_uploaded
from tests.support.books import MONTHS, TODAY, good_tables

# What people type into cells: numbers in every spelling, words, huge and odd values, blanks.
_CELL = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1,200,000", "1,20,0", "120만원", "백만", "1e400",
                     "0x10", "TRUE", "no", "2026-13", "2026-02-30", "9999-12", "=SUM(A1)", "NULL", "N/A",
                     "１２３", "1 000", "\u00a0", "0.5", "-0"]),
    st.text(max_size=12),
)
_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_or_documented_error(load) -> Book | None:
    try:
        return load()
    except SchemaError as exc:
        assert exc.problems and all(p.table and p.column and p.rule for p in exc.problems)
        return None
    except DataSourceError as exc:
        assert str(exc)
        return None


@_SETTINGS
@given(data=st.data())
def test_any_cell_value_gives_a_book_or_a_schema_report(data):
    tables = good_tables(with_outcomes=data.draw(st.booleans()))
    for _ in range(data.draw(st.integers(1, 4))):
        name = data.draw(st.sampled_from(sorted(tables)))
        frame = tables[name]
        row = data.draw(st.integers(0, len(frame) - 1))
        column = data.draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, column] = data.draw(_CELL)
    book = _load_or_documented_error(lambda: validate_tables(tables, today=TODAY, source="hypothesis"))
    if book is not None:
        assert len(book.merchants) == 4 and book.merchants["merchant_id"].is_unique


@_SETTINGS
@given(data=st.data())
def test_any_damage_to_the_bytes_gives_a_book_or_a_clear_error(data):
    files = {f"{name}.csv": frame.to_csv(index=False).encode("utf-8")
             for name, frame in good_tables(with_outcomes=False).items()}
    name = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[name])
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(content)))
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.binary(min_size=1, max_size=4))
        if kind == "insert":
            content[at:at] = chunk
        elif kind == "delete":
            del content[at:at + len(chunk)]
        else:
            content[at:at + len(chunk)] = chunk
    files[name] = bytes(content)
    _load_or_documented_error(lambda: read_uploaded(files, today=TODAY))


_AMOUNT = st.integers(0, 10**12)
_RATE = st.floats(0, 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_valid_book_always_gets_a_finite_snapshot_and_scores_in_range(trained, data):
    """Valid but extreme activity (all zeros, huge sales, a merchant with one month, blanks where
    the contract allows them): one snapshot row per merchant, no inf, scores within 1–1000."""
    tables = good_tables(with_outcomes=False)
    activity = tables["monthly_activity"]
    first_month = data.draw(st.sampled_from(MONTHS))  # a merchant may start late: fewer months
    keep = ~((activity["merchant_id"] == "M002") & (activity["month"] < first_month))
    activity = activity[keep].reset_index(drop=True)
    for i in range(len(activity)):
        for column in ("gmv_krw", "refund_krw", "settlement_krw", "ad_spend_krw"):
            activity.loc[i, column] = str(data.draw(st.one_of(st.just(0), _AMOUNT)))
        for column in ("orders", "returns", "unique_buyers", "active_listings", "reviews", "disputes",
                       "search_clicks"):
            activity.loc[i, column] = str(data.draw(st.integers(0, 10**6)))
        for column in ("repeat_buyer_rate", "ship_delay_rate"):
            activity.loc[i, column] = repr(data.draw(_RATE))
        activity.loc[i, "avg_rating"] = data.draw(st.one_of(st.just(pd.NA), st.floats(1, 5).map(repr)))
    tables["monthly_activity"] = activity.astype("str").replace("<NA>", pd.NA)
    book = validate_tables(tables, today=TODAY, source="hypothesis")  # valid by construction
    snap = current_snapshot(book)
    assert snap.index.is_unique and set(snap.index) == set(book.merchants["merchant_id"])
    numeric = snap[[c for c in feature_names() if c in snap.columns and c != "category"]].select_dtypes("number")
    assert not np.isinf(numeric.to_numpy(dtype=float)).any()
    model, _ = trained
    scores = model.score(snap)
    assert scores["score"].between(1, 1000).all()


def test_the_contract_columns_are_what_the_generators_above_fill():
    assert set(good_tables()["merchants"].columns) == set(MERCHANT_COLUMNS)
    assert set(good_tables()["monthly_activity"].columns) == set(ACTIVITY_COLUMNS)
