"""Square's rule on the hand-made book (hand_book.py): an open loan past due on its latest month, or
a freeze, means no new offer; a repaid or cured loan lets offers back. Also a merchant's loans and
its sales strip, worked out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cb_core.data import Book
from cb_core.errors import ConfigError
from cb_core.loans import (BLOCK_COLUMNS, MERCHANT_LOAN_COLUMNS, block_offers, block_reason, blocked_merchants,
                           merchant_loans, sales_strips)
from cb_core.offers import load_products, match_book
from cb_core.reports import partner_pool
from tests.loans.hand_book import hand_book


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_overdue_open_loans_block_their_merchants_at_the_last_month():
    b = blocked_merchants(hand_book())
    assert list(b.columns) == list(BLOCK_COLUMNS)
    # A current, B charged off (terminal), C repaid (terminal): only D, 110 days past due, blocks M004
    assert _rows(b) == [("M004", "overdue_loan", "D", 110)]
    assert block_reason(b, "M004") == "overdue_loan" and block_reason(b, "M002") is None


def test_past_due_blocks_and_cured_or_repaid_lets_offers_back():
    book = hand_book()
    # 2025-03: B is 45 days past due, C 15 days
    assert _rows(blocked_merchants(book, as_of="2025-03")) == [("M002", "overdue_loan", "B", 45),
                                                               ("M003", "overdue_loan", "C", 15)]
    # 2025-04: C is cured (0 days): M003 may get offers again; B rolled to 75 days
    assert _rows(blocked_merchants(book, as_of="2025-04")) == [("M002", "overdue_loan", "B", 75)]
    # 2025-05: C repaid; 2025-06: B charged off, a terminal status: no open overdue loan at all
    assert "M003" not in set(blocked_merchants(book, as_of="2025-05")["merchant_id"])
    assert blocked_merchants(book, as_of="2025-06").empty
    # 2025-11: D is 20 days past due
    assert _rows(blocked_merchants(book, as_of="2025-11")) == [("M004", "overdue_loan", "D", 20)]


def test_frozen_merchants_are_blocked_and_an_overdue_loan_is_named_first():
    b = blocked_merchants(hand_book(), {"M001", "M004"})
    assert _rows(b) == [("M001", "frozen", None, 0), ("M004", "overdue_loan", "D", 110)]
    no_loans = Book(merchants=hand_book().merchants, activity=hand_book().activity, source="hand")
    assert _rows(blocked_merchants(no_loans, ["M002"])) == [("M002", "frozen", None, 0)]
    assert blocked_merchants(no_loans).empty


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="frozen must be a collection of merchant ids, not one text; got 'M001'"):
        blocked_merchants(hand_book(), "M001")
    with pytest.raises(ConfigError, match="as_of must be a month YYYY-MM; got 'May'"):
        blocked_merchants(hand_book(), as_of="May")


def _frame() -> pd.DataFrame:
    ids = ["M001", "M002", "M003", "M004"]
    return pd.DataFrame({"score": 900, "grade": 1, "pd": 0.01, "months_active": 36, "gmv_3m_avg_krw": 30_000_000.0,
                         "category": "fashion"}, index=pd.Index(ids, name="merchant_id"))


def test_block_offers_takes_only_the_blocked_rows_out_of_a_books_matching():
    products = load_products()
    matched = match_book(_frame(), products)
    assert (matched[("best", "n_eligible")] > 0).all()  # every merchant has offers before the rule
    out = block_offers(matched, blocked_merchants(hand_book(), {"M001"}))  # M001 frozen, M004 overdue
    blocked, free = ["M001", "M004"], ["M002", "M003"]
    pd.testing.assert_frame_equal(out.loc[free], matched.loc[free])
    assert not out.loc[blocked, "eligible"].to_numpy().any()
    assert (out.loc[blocked, ("best", "n_eligible")] == 0).all()
    assert out.loc[blocked, ("best", "limit_krw")].isna().all()
    assert out.loc[blocked, "limit_krw"].isna().to_numpy().all()
    assert out.loc[blocked, ("best", "product_id")].isna().all()
    assert (matched[("best", "n_eligible")] > 0).all()  # the input is not changed
    pd.testing.assert_frame_equal(block_offers(matched, []), matched)


def test_partner_pool_leaves_blocked_merchants_out():
    products = load_products()
    partner = str(products["partner"].iloc[0])
    free = partner_pool(_frame(), products, partner, lgd=0.45)
    held = partner_pool(_frame(), products, partner, lgd=0.45, blocked=blocked_merchants(hand_book(), ["M002"]))
    assert free.n_eligible == 4 and free.n_blocked == 0
    assert sorted(held.offers.index) == ["M001", "M003"] and held.n_blocked == 2 and held.n_merchants == 4
    assert held.by_product["eligible_merchants"].max() <= 2


def test_merchant_loans_as_of_each_loans_latest_month():
    book = hand_book()
    b = merchant_loans(book, "M002")
    assert list(b.columns) == list(MERCHANT_LOAN_COLUMNS)
    assert _rows(b) == [("B", "Hanbit Bank", "BANK-01", "2025-01", 2_000_000, "2025-06", 2_000_000, 135,
                         "charged_off")]
    assert _rows(merchant_loans(book, "M004")) == [("D", "Nuri Capital", "CAP-01", "2025-02", 3_000_000, "2026-02",
                                                    3_000_000, 110, "dpd_90_plus")]
    assert _rows(merchant_loans(book, "M003"))[0][-3:] == (0, 0, "repaid")
    assert merchant_loans(book, "M999").empty and list(merchant_loans(book, "M999").columns) == list(
        MERCHANT_LOAN_COLUMNS)
    with pytest.raises(ConfigError, match="merchant_id must be a non-empty text; got None"):
        merchant_loans(book, None)


def test_sales_strips_last_months_oldest_first_missing_months_zero():
    strips = sales_strips(hand_book(), ["M001", "M004", "M404"], months=4)
    # M001 sold 1,000,000 a month, 300,000 in the last three months (2025-12..2026-02)
    assert strips["M001"] == [1_000_000.0, 300_000.0, 300_000.0, 300_000.0]
    assert strips["M004"] == [1_000_000.0] * 4 and strips["M404"] == [0.0] * 4
    assert sales_strips(hand_book(), ["M001"], months=3, as_of="2025-03")["M001"] == [1_000_000.0] * 3
    with pytest.raises(ConfigError, match="months must be a whole number within 2–60; got 1"):
        sales_strips(hand_book(), ["M001"], months=1)
    assert np.isclose(sum(strips["M001"]), 1_900_000)
