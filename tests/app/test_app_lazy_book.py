"""The installed book's tables are read on first use (issue #15): the landing page is shown without the
activity rows once the book's caches exist, the review page reads its merchant's rows alone, and a page that
needs the table gets exactly the stored rows."""
from __future__ import annotations

import pandas as pd

from tests.support.app import app_as


def test_landing_page_reads_no_activity_and_review_gets_the_stored_rows(app_users):
    import streamlit as st

    from cb_core import workspace
    from cb_core.config import state_dir
    from ui import cache
    from ui.labels import count

    book, model = workspace.current_book(), workspace.current_model()
    workspace.book_strategy_frame(book, model)  # the cache file a server that ran before has
    st.cache_resource.clear()  # a server started afresh
    at = app_as("admin", app_users)
    assert at.title[0].value == "포트폴리오"
    assert next(m.value for m in at.metric if m.label == "가맹점 수") == count(len(book.merchants))
    served = cache.current_book()
    assert {"activity", "merchants"} <= set(served.pending())  # neither read for the landing page

    at.switch_page("views/merchant_review.py").run()
    assert not at.exception, at.exception
    # the review read its merchant's rows alone (the row groups that hold them), not the whole table
    assert "activity" in served.pending()
    stored = state_dir() / "books" / book.fingerprint / "monthly_activity.parquet"
    whole = pd.read_parquet(stored)
    shown = str(book.merchants["merchant_id"].iloc[0])  # the page's default merchant
    pd.testing.assert_frame_equal(served.activity_rows(shown).reset_index(drop=True),
                                  whole[whole["merchant_id"] == shown].reset_index(drop=True))
    pd.testing.assert_frame_equal(served.activity, whole)
    pd.testing.assert_frame_equal(served.activity, book.activity)
