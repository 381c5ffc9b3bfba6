"""The snapshot computed from the installed book's Arrow tables without pandas (issue #15's 50,000-merchant
score): the same merchants and values as the frame, whatever the parts, with and without a bureau history
and as of an earlier month; its pieces (bureau as of a month, dates, category codes) against the frame
path's own code, kept here as the reference."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cb_core.data import _installed, load_current, save_current
from cb_core.data._installed import _digests
from cb_core.features import FeatureColumns, current_columns, current_snapshot, feature_names, snapshot_columns
from cb_core.features import asof
from cb_core.features._columns import positions_in


def _same(columns: FeatureColumns, frame: pd.DataFrame) -> None:
    assert columns.index.to_pylist() == list(frame.index) and columns.columns == list(frame.columns)
    for name in frame.columns:
        if name == "category":
            assert columns[name].to_pylist() == frame[name].astype(object).where(frame[name].notna(), None).tolist()
        else:
            np.testing.assert_array_equal(columns[name], frame[name].to_numpy(dtype=float), err_msg=name)


def _install_sorted(book, tmp_path, row_group_size: int):
    """``book`` installed with its activity sorted by merchant in row groups of ``row_group_size`` rows (nearly
    every merchant straddling two), the pointer's digests recorded for those bytes."""
    state = tmp_path / "state"
    folder = save_current(book, state)
    activity = book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(activity, preserve_index=False), folder / "monthly_activity.parquet",
                   row_group_size=row_group_size)
    pointer = json.loads((state / "current_book.json").read_text())
    pointer["files"] = _digests(folder)
    (state / "current_book.json").write_text(json.dumps(pointer))
    return state


@pytest.mark.parametrize("history", [True, False])
def test_the_installed_books_columns_are_the_frame_value_for_value(small_book, tmp_path, monkeypatch, history):
    book = small_book if history else type(small_book)(merchants=small_book.merchants, activity=small_book.activity,
                                                       outcomes=small_book.outcomes)
    state = _install_sorted(book, tmp_path, row_group_size=7)
    monkeypatch.setattr(_installed, "PART_ROWS", 50)  # many parts, merchants moved whole to the next one
    monkeypatch.setattr(_installed, "MIN_PART_ROWS", 50)
    for month in (None, "2025-06"):
        started = []
        got, _ = current_columns(load_current(state), month, then=started.append)
        assert started == [len(book.merchants)]
        loaded = load_current(state)
        _same(got, current_snapshot(loaded, month))
        assert "activity" in loaded.pending()  # the frame path also read it in parts


def test_a_book_read_already_or_an_unordered_file_has_no_columns(small_book, tmp_path):
    state = _install_sorted(small_book, tmp_path, row_group_size=10_000)
    loaded = load_current(state)
    loaded.merchants
    assert current_columns(loaded) is None  # the merchants were read as a frame: the frame path
    assert current_columns(small_book) is None  # a book in memory


def test_bureau_as_of_a_month_is_the_latest_row_up_to_it(small_book):
    """Against the frame path's former code: sort by merchant and month, keep the last, reindex."""
    merchants = small_book.merchants.iloc[:300]
    history = small_book.bureau_history
    rng = np.random.default_rng(4)
    extra = history.sample(200, random_state=4).copy()  # a second row for some merchant-months ...
    extra["bureau_score"] = pd.array(rng.integers(300, 900, len(extra)), dtype="Int64")
    extra.loc[extra.index[:20], "bureau_score"] = pd.NA  # ... some missing
    unknown = history.iloc[:5].copy()
    unknown["merchant_id"] = [f"X{i}" for i in range(5)]  # and merchants not in the table
    h = pd.concat([history, extra, unknown], ignore_index=True)
    months = sorted(history["month"].astype(str).unique())
    for as_of in (months[len(months) // 2], small_book.last_month):
        end = asof.month_index(as_of)
        ref = h[h["month"].astype(str) <= as_of]
        ref = ref.sort_values(["merchant_id", "month"], kind="mergesort").drop_duplicates("merchant_id", keep="last")
        ref = ref.set_index(ref["merchant_id"].astype(str)).reindex(merchants["merchant_id"].astype(str).to_numpy())
        want_bureau = pd.to_numeric(ref["bureau_score"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        want_card = ref["owner_has_credit_card"].astype("boolean").astype("Float64").to_numpy(float, na_value=np.nan)
        for m, b in ((merchants, h), (pa.Table.from_pandas(merchants), pa.Table.from_pandas(h, preserve_index=False))):
            ids = m.column("merchant_id") if isinstance(m, pa.Table) else m["merchant_id"]
            bureau, card = asof._bureau_as_of(m, b, end, positions_in(ids))
            np.testing.assert_array_equal(bureau, want_bureau)
            np.testing.assert_array_equal(card, want_card)
        assert np.isnan(want_bureau).any() and not np.isnan(want_bureau).all()  # both kinds are there


def test_dates_read_from_arrow_are_pandas_reading(monkeypatch):
    values = ["2024-01-31", "1999-12-01", None, "2024-01-31"]
    odd = values + ["2024-02-30"]  # not a date: pandas reads it as missing, and so does the Arrow path
    for given in (values, odd, ["2024-1-31", "31/01/2024", "2024-01-31T00:00"]):
        parsed = pd.to_datetime(pd.Series(given, dtype=object), format="%Y-%m-%d", errors="coerce")
        want = (parsed.dt.year * 12 + parsed.dt.month - 1).to_numpy(dtype=float)  # pandas' own reading
        np.testing.assert_array_equal(asof._date_month_index(pa.array(given, pa.large_string())), want)
        for dtype in ("str", "string[pyarrow]", object):  # a frame's column: read as its Arrow array when it is one
            np.testing.assert_array_equal(asof._date_month_index(pd.Series(given, dtype=dtype)), want, err_msg=dtype)
    assert asof._date_month_index(pa.array(values))[:2].tolist() == [2024 * 12, 1999 * 12 + 11]


def test_category_codes_are_the_frames_categorical_codes():
    shipped = ["a", "b", "c"]
    values = pa.array(["b", None, "z", "a", "c", "b"])  # z: not shipped
    columns = FeatureColumns(pa.array(["m"] * 6), {"category": values}, ["category"], shipped)
    levels = ["c", "b", "q"]  # a model's levels: a shipped one it never saw (a) is missing too
    as_frame = pd.Categorical([v if v in shipped else None for v in values.to_pylist()], categories=shipped)
    frame_codes = pd.Index(levels).get_indexer(as_frame)  # what feature_matrix does with the frame's column
    want = np.where(frame_codes < 0, np.nan, frame_codes)
    np.testing.assert_array_equal(columns.codes("category", levels), want)


def test_snapshot_columns_refuses_a_month_that_is_not_one(small_book):
    merchants = pa.Table.from_pandas(small_book.merchants)
    with pytest.raises(Exception, match="as_of must be a month"):
        snapshot_columns(merchants, [], "2024-13")
    nobody = snapshot_columns(merchants, [], "2024-06")  # no activity: no merchant has a snapshot row
    assert len(nobody) == 0 and nobody.columns == feature_names() and len(nobody["gmv_3m_avg_krw"]) == 0


def test_positions_of_a_run_of_ids_and_of_any_other_ids_are_a_dicts(monkeypatch):
    """A part's distinct ids that stand in the merchants table one after the other are found by one comparison of
    that run; ids that do not (a gap, another order, an id not there, one past the end) one by one; every answer
    is the position a plain dict of the merchants' ids gives (-1: not there)."""
    merchants = [f"M{i:03d}" for i in range(40)]
    truth = {m: i for i, m in enumerate(merchants)}
    asked = [merchants[5:17], merchants[:1], merchants[30:], ["M005", "M007", "M006"], merchants[38:] + ["M999"],
             ["M999", "M000"], merchants[10:12] + ["M013"]]
    for ids in (pa.array(merchants, pa.large_string()), pd.Series(merchants, dtype="string[pyarrow]"),
                pd.Series(merchants, dtype=object)):
        lookup = positions_in(ids)
        for distinct in asked:
            for given in (pa.array(distinct), pa.array(distinct).dictionary_encode().dictionary):
                assert lookup(given).tolist() == [truth.get(m, -1) for m in distinct], (type(ids), distinct)
