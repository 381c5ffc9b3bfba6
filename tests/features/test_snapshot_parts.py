"""The current snapshot computed from the activity in parts of whole merchants (issue #15's cold start at
1,000,000 merchants): the same frame, value for value, as the snapshot of the whole table, whatever the
parts; the installed book gives its sorted activity file so, with the file's digest checked, a merchant
whose rows straddle row groups kept whole, and an unordered file read whole as before."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cb_core.data import _installed, load_current, save_current
from cb_core.data._installed import _digests
from cb_core.errors import DataSourceError
from cb_core.features import ACTIVITY_FEATURES, current_snapshot, feature_names, snapshot, snapshot_in_parts


def _whole(book, month=None):
    return snapshot(book.merchants, book.activity, month or book.last_month, book.bureau_history)


def test_activity_features_are_the_catalog_features_not_from_the_merchants_table():
    static = {"tenure_months", "business_age_months", "bureau_score", "thin_file", "owner_has_credit_card",
              "region_income_index", "category"}
    assert set(ACTIVITY_FEATURES) == set(feature_names()) - static
    assert len(ACTIVITY_FEATURES) == len(set(ACTIVITY_FEATURES))


@pytest.mark.parametrize("seed", [0, 1])
def test_any_split_into_whole_merchants_gives_the_same_snapshot(small_book, seed):
    rng = np.random.default_rng(seed)
    activity = small_book.activity
    ids = activity["merchant_id"].astype(str).unique()
    group_of = dict(zip(ids, rng.integers(0, 5, len(ids))))  # merchants dealt to 5 parts at random
    groups = activity["merchant_id"].astype(str).map(group_of).to_numpy()
    parts = [activity[groups == g].sample(frac=1.0, random_state=seed) for g in range(5)]  # rows shuffled too
    parts.append(activity.iloc[:0])  # an empty part changes nothing
    for month in (small_book.last_month, "2025-06"):  # also as of an earlier month: later rows left out
        expected = _whole(small_book, month)
        got = snapshot_in_parts(small_book.merchants, iter(parts), month, small_book.bureau_history)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_merchant_without_rows_in_any_part_is_left_out(small_book):
    first = small_book.merchants["merchant_id"].astype(str).iloc[0]
    rest = small_book.activity[small_book.activity["merchant_id"].astype(str) != first]
    got = snapshot_in_parts(small_book.merchants, [rest], small_book.last_month, small_book.bureau_history)
    assert first not in got.index and len(got) == len(_whole(small_book)) - 1
    pd.testing.assert_frame_equal(got, _whole(small_book).drop(index=first), check_exact=True)


def _install(book, tmp_path, activity: pd.DataFrame, row_group_size: int):
    """``book`` installed, its activity file rewritten as ``activity`` in row groups of ``row_group_size``
    rows, with the pointer's digests recorded for the new bytes (as if it had been installed so)."""
    state = tmp_path / "state"
    folder = save_current(book, state)
    pq.write_table(pa.Table.from_pandas(activity, preserve_index=False), folder / "monthly_activity.parquet",
                   row_group_size=row_group_size)
    pointer = json.loads((state / "current_book.json").read_text())
    pointer["files"] = _digests(folder)
    (state / "current_book.json").write_text(json.dumps(pointer))
    return state, folder


def test_the_installed_sorted_book_gives_whole_merchants_and_the_same_snapshot(small_book, tmp_path, monkeypatch):
    activity = small_book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    # 7-row groups: nearly every merchant's rows straddle two or more groups (24 months span four)
    state, folder = _install(small_book, tmp_path, activity, row_group_size=7)
    monkeypatch.setattr(_installed, "PART_ROWS", 50)
    loaded = load_current(state)
    parts = list(loaded.activity_parts())
    assert len(parts) > 100 and "activity" in loaded.pending()  # given in parts, never read whole
    assert all(isinstance(part, pa.Table) for part in parts)  # Arrow tables: no frame is made of a part
    seen: dict[str, int] = {}
    for number, part in enumerate(parts):
        for merchant in set(part.column("merchant_id").to_pylist()):
            assert seen.setdefault(merchant, number) == number, f"{merchant} is split between parts"
    together = pa.concat_tables(parts).to_pandas()
    pd.testing.assert_frame_equal(together, activity)  # every row once, in the file's order, same dtypes

    stored = pq.read_schema(folder / "monthly_activity.parquet")
    encoded = list(loaded.activity_parts(dictionaries=True))  # what the snapshot reads
    assert [p.num_rows for p in encoded] == [p.num_rows for p in parts]
    for part in encoded:  # ids and months as Parquet stores them, against their distinct values; the rest as the file
        assert [(f.name, f.type) for f in part.schema if f.name not in _installed.DICTIONARY_COLUMNS] == \
            [(f.name, f.type) for f in stored if f.name not in _installed.DICTIONARY_COLUMNS]
        for name in _installed.DICTIONARY_COLUMNS:
            assert pa.types.is_dictionary(part.schema.field(name).type)
            held = set(part.column(name).to_pylist())
            # a part's dictionary holds its own values, and at most the id of the merchant moved to the next part
            words = set().union(*(chunk.dictionary.to_pylist() for chunk in part.column(name).chunks))
            assert held <= words and (name != "merchant_id" or len(words - held) <= 1)
    pd.testing.assert_frame_equal(pa.concat_tables([p.cast(stored) for p in encoded]).to_pandas(), activity)

    loaded = load_current(state)
    pd.testing.assert_frame_equal(current_snapshot(loaded), _whole(small_book), check_exact=True)
    assert "activity" in loaded.pending()


def test_an_unordered_file_is_read_whole_with_the_same_snapshot(small_book, tmp_path):
    shuffled = small_book.activity.sample(frac=1.0, random_state=3).reset_index(drop=True)
    state, _ = _install(small_book, tmp_path, shuffled, row_group_size=500)  # row groups' id ranges overlap
    loaded = load_current(state)
    assert loaded.activity_parts() is None
    pd.testing.assert_frame_equal(current_snapshot(loaded), _whole(small_book), check_exact=True)
    assert "activity" not in loaded.pending()


def test_a_table_already_read_is_not_given_in_parts(small_book, tmp_path):
    state, _ = _install(small_book, tmp_path, small_book.activity, row_group_size=10_000)
    loaded = load_current(state)
    assert loaded.activity_parts() is not None
    loaded.activity
    assert loaded.activity_parts() is None


def changed_after_opening(book, tmp_path, row_group_size: int):
    """``book`` installed sorted by merchant and opened, then its activity file changed (one amount) without
    the pointer's digests: the opened book and the activity as installed."""
    activity = book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    state, folder = _install(book, tmp_path, activity, row_group_size=row_group_size)
    loaded = load_current(state)
    changed = activity.copy()
    changed.loc[0, "gmv_krw"] += 1
    pq.write_table(pa.Table.from_pandas(changed, preserve_index=False), folder / "monthly_activity.parquet",
                   row_group_size=row_group_size)
    return loaded, activity


def test_a_file_changed_since_it_was_installed_is_refused_before_any_part(small_book, tmp_path):
    loaded, _ = changed_after_opening(small_book, tmp_path, 1_000)
    with pytest.raises(DataSourceError, match=r"monthly_activity\.parquet changed since the book was installed") as caught:
        current_snapshot(loaded)
    assert caught.value.key == "err_installed_file_changed"


def test_an_installed_book_is_written_in_row_groups_and_read_in_at_least_eight_parts(small_book, tmp_path, monkeypatch):
    """write_book writes the activity in row groups of part_rows(rows) rows: an eighth of the table (here, with
    parts of at least 100 rows), at most PART_ROWS; the installed book is read a row group a part, each of
    whole merchants, with the same snapshot as the whole table."""
    monkeypatch.setattr(_installed, "MIN_PART_ROWS", 100)
    activity = small_book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    sorted_book = type(small_book)(merchants=small_book.merchants, activity=activity, outcomes=small_book.outcomes,
                                   bureau_history=small_book.bureau_history)
    state = tmp_path / "state"
    folder = save_current(sorted_book, state)
    rows = len(activity)
    size = -(-rows // _installed.MIN_PARTS)
    assert size > 100 and _installed.part_rows(rows) == size
    meta = pq.read_metadata(folder / "monthly_activity.parquet")
    assert meta.num_row_groups == _installed.MIN_PARTS and meta.row_group(0).num_rows == size
    assert pq.read_metadata(folder / "merchants.parquet").num_row_groups == 1  # the other tables as before
    assert _installed.part_rows(10**9) == _installed.PART_ROWS  # big tables: parts of at most PART_ROWS rows
    assert _installed.part_rows(50) == 100  # small ones: one part
    loaded = load_current(state)
    parts = list(loaded.activity_parts())
    assert len(parts) == _installed.MIN_PARTS  # a merchant across two groups moves to the next part whole
    owners = [set(p.column("merchant_id").to_pylist()) for p in parts]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1:])  # no merchant in two parts
    assert sum(map(len, parts)) == rows
    loaded = load_current(state)
    pd.testing.assert_frame_equal(current_snapshot(loaded), _whole(sorted_book), check_exact=True)
