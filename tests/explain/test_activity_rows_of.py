"""One merchant's activity from the installed book's file alone (the review page's first visit at 1,000,000
merchants: 10 s to read and index the whole table before): the rows, labels and dtypes activity_of gives from
the whole table, for merchants whose rows straddle row groups, an unknown merchant, an unordered file (read
whole), a table already read, and a file changed since it was installed (refused)."""
from __future__ import annotations

import pandas as pd
import pytest

from cb_core.data import load_current
from cb_core.errors import DataSourceError
from cb_core.explain import activity_of, merchant_trends
from tests.features.test_snapshot_parts import _install, change_one_value


def _sorted(book) -> pd.DataFrame:
    return book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)


def test_a_merchants_rows_from_its_row_groups_are_those_of_the_whole_table(small_book, tmp_path):
    activity = _sorted(small_book)
    # 7-row groups: a merchant's 24 months straddle four or five groups
    state, _ = _install(small_book, tmp_path, activity, row_group_size=7)
    whole = load_current(state)
    whole.activity  # read whole: activity_of then uses its index
    ids = activity["merchant_id"].astype(str).unique()
    for merchant in [ids[0], ids[len(ids) // 2], ids[-1]]:
        alone = load_current(state)
        got = activity_of(alone, merchant)
        assert "activity" in alone.pending()  # the table was not read
        expected = activity_of(whole, merchant)
        assert len(expected) > 7
        pd.testing.assert_frame_equal(got, expected, check_exact=True)  # rows, labels, dtypes
        pd.testing.assert_frame_equal(merchant_trends(load_current(state), merchant), merchant_trends(whole, merchant))


def test_an_unknown_merchant_has_no_rows_and_the_contracts_columns(small_book, tmp_path):
    state, _ = _install(small_book, tmp_path, _sorted(small_book), row_group_size=50)
    got = activity_of(load_current(state), "NO-SUCH-MERCHANT")
    assert got.empty and list(got.columns) == list(small_book.activity.columns)
    assert list(got.dtypes) == list(activity_of(load_current(state), str(small_book.activity["merchant_id"].iloc[0])).dtypes)


def test_an_unordered_file_or_a_table_already_read_use_the_whole_table(small_book, tmp_path):
    shuffled = small_book.activity.sample(frac=1.0, random_state=3).reset_index(drop=True)
    state, _ = _install(small_book, tmp_path, shuffled, row_group_size=500)
    loaded = load_current(state)
    merchant = str(shuffled["merchant_id"].iloc[0])
    assert loaded.activity_rows_of(merchant) is None
    assert len(activity_of(loaded, merchant)) > 0 and "activity" not in loaded.pending()

    state2, _ = _install(small_book, tmp_path / "sorted", _sorted(small_book), row_group_size=500)
    loaded = load_current(state2)
    loaded.activity
    assert loaded.activity_rows_of(merchant) is None


def test_a_file_changed_since_it_was_installed_is_refused(small_book, tmp_path):
    activity = _sorted(small_book)
    state, folder = _install(small_book, tmp_path, activity, row_group_size=100)
    loaded = load_current(state)
    change_one_value(folder, activity, row_group_size=100)
    with pytest.raises(DataSourceError, match=r"changed since the book was installed") as caught:
        activity_of(loaded, str(activity["merchant_id"].iloc[0]))
    assert caught.value.key == "err_installed_file_changed"
