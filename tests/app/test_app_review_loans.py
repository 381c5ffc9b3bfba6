"""AppTest: Merchant review shows the merchant's booked loans (or says it has none), and Square's rule
holds there and in the partner view: an overdue loan or a freeze means no offer, with the reason."""
from __future__ import annotations

import pytest

from cb_core.i18n import format_days, format_krw, t
from cb_core.loans import blocked_merchants, merchant_loans
from tests.support.app import app_as

T0_NOTE = "Repeated settlement delays; hold offers"


def _review(store, merchant: str, lang: str = "en", user: str = "lee"):
    app = app_as(user, store)
    app.session_state["lang"] = lang
    app.switch_page("views/merchant_review.py").run()
    app.text_input(key="review_query").set_value(merchant).run()
    assert app.selectbox(key="review_merchant").value == merchant
    assert not app.exception, app.exception
    return app


def _frame_with(app, column: str):
    return next((d.value for d in app.dataframe if column in d.value.columns), None)


@pytest.fixture(scope="module")
def cases(small_book):
    """An overdue merchant, one with loans that may get offers, and one without loans."""
    blocked = blocked_merchants(small_book)
    overdue = blocked["merchant_id"].iloc[0]
    with_loans = sorted(set(small_book.loans["merchant_id"]) - set(blocked["merchant_id"]))
    without = sorted(set(small_book.merchants["merchant_id"]) - set(small_book.loans["merchant_id"]))
    return overdue, with_loans[0], without[0]


def test_overdue_merchant_shows_its_loans_and_gets_no_offer(own_store, small_book, cases):
    overdue = cases[0]
    for lang in ("en", "ko"):
        app = _review(own_store, overdue, lang)
        loans = _frame_with(app, t("mloans_col_status", lang))
        expected = merchant_loans(small_book, overdue)
        assert loans[t("mloans_col_loan", lang)].tolist() == expected["loan_id"].tolist()
        assert loans[t("mloans_col_amount", lang)].tolist() == [format_krw(a, lang) for a in expected["amount_krw"]]
        assert loans[t("mloans_col_status", lang)].tolist() == [t(f"loans_status_{s}", lang) for s in expected["status"]]
        late = expected["days_past_due"].max()
        assert t("mloans_past_due", lang, days=format_days(late, lang)) in loans[t("mloans_col_dpd", lang)].tolist()
        assert not any("_" in str(v) for v in loans[t("mloans_col_status", lang)])
        assert t("block_reason_overdue_loan", lang) in [w.value for w in app.warning]
        assert _frame_with(app, t("offers_col_rank", lang)) is None  # no offer table at all
    assert t("block_reason_overdue_loan", "ko") == "연체 중인 대출이 있어 새 제안을 하지 않습니다."


def test_merchant_without_loans_says_so_and_a_freeze_stops_its_offers(own_store, cases):
    _, _, without = cases
    app = _review(own_store, without)
    assert t("mloans_none", "en") in [i.value for i in app.info]
    assert t("block_reason_frozen", "en") not in [w.value for w in app.warning]
    own_store.record_watch_action(without, None, "freeze_offers", T0_NOTE, "lee")
    app = _review(own_store, without)
    assert t("block_reason_frozen", "en") in [w.value for w in app.warning]
    assert _frame_with(app, t("offers_col_rank", "en")) is None
    own_store.record_watch_action(without, None, "unfreeze", "Settlements back on time", "admin")
    app = _review(own_store, without)
    assert t("block_reason_frozen", "en") not in [w.value for w in app.warning]


def test_merchant_with_loans_in_good_standing_shows_them_without_a_block(own_store, small_book, cases):
    _, good, _ = cases
    app = _review(own_store, good)
    loans = _frame_with(app, "Status")
    assert loans["Loan"].tolist() == merchant_loans(small_book, good)["loan_id"].tolist()
    assert not any(w.value.startswith("An overdue loan") for w in app.warning)


def test_partner_view_pool_leaves_blocked_merchants_out(own_store, small_book, trained):
    from cb_core.features import current_snapshot
    from cb_core.i18n import format_count
    from cb_core.offers import load_products
    from cb_core.reports import partner_pool, pool_input
    from cb_core.strategy import strategy_frame

    snap = current_snapshot(small_book)
    frame = pool_input(strategy_frame(snap, trained[0].score(snap), small_book.merchants, small_book.outcomes), snap)
    blocked = blocked_merchants(small_book)
    pool = partner_pool(frame, load_products(), "Hanbit Bank", lgd=0.45, blocked=blocked)
    assert pool.n_blocked > 0 and not set(pool.offers.index) & set(blocked["merchant_id"])
    app = app_as("park", own_store)  # a Hanbit Bank login
    app.session_state["lang"] = "en"
    app.run()
    assert not app.exception, app.exception
    captions = [c.value for c in app.caption if c.value.startswith("Left out of the pool")]
    assert captions == [t("block_pool_caption", "en", n=format_count(pool.n_blocked, "en", unit="merchants"))]
