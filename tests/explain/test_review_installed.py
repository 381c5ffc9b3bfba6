"""The review page of the installed book before its activity is read: one merchant's rows from the row groups
that hold it (Book.activity_rows) and the category bands from the parts, each equal to what the whole table
gives, and the table still not read."""
from __future__ import annotations

import pandas as pd
import pytest

from cb_core.data import load_current
from cb_core.errors import DataSourceError
from cb_core.explain import activity_of, category_bands, merchant_trends
from tests.features.test_snapshot_parts import _install, changed_after_opening


@pytest.fixture(scope="module")
def installed(small_book, tmp_path_factory):
    activity = small_book.activity.sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    # 7-row groups: nearly every merchant's rows straddle two or more groups
    state, folder = _install(small_book, tmp_path_factory.mktemp("review"), activity, row_group_size=7)
    return state, folder, activity


def test_a_merchants_rows_are_the_whole_tables_without_reading_it(installed, small_book):
    state, _, activity = installed
    book, whole = load_current(state), load_current(state)
    whole.activity  # read whole: activity_rows is then None and activity_of takes the table
    assert whole.activity_rows("M0000001") is None
    ids = activity["merchant_id"].astype(str)
    for merchant in [ids.iloc[0], ids.iloc[len(ids) // 2], ids.iloc[-1]]:
        alone = book.activity_rows(merchant)
        want = whole.activity[whole.activity["merchant_id"] == merchant]
        assert len(alone) == len(want) >= 1
        pd.testing.assert_frame_equal(alone.reset_index(drop=True), want.reset_index(drop=True), check_exact=True)
        pd.testing.assert_frame_equal(merchant_trends(book, merchant), merchant_trends(whole, merchant),
                                      check_exact=True)
    assert activity_of(book, "NO-SUCH-MERCHANT").empty
    assert "activity" in book.pending()  # never read whole


def test_category_bands_from_the_parts_are_the_whole_tables(installed):
    state, _, _ = installed
    book, whole = load_current(state), load_current(state)
    whole.activity
    pd.testing.assert_frame_equal(category_bands(book, per_category=40), category_bands(whole, per_category=40),
                                  check_exact=True)
    assert "activity" in book.pending()


def test_a_merchants_rows_from_a_changed_file_are_refused(small_book, tmp_path):
    book, activity = changed_after_opening(small_book, tmp_path, 100)
    with pytest.raises(DataSourceError, match=r"changed since the book was installed"):
        book.activity_rows(str(activity["merchant_id"].iloc[0]))
