"""AppTest: the Watch-list page (officer and admin, ko and en), watch actions saved and audited,
Square's rule in Merchant review and the partner view, and Merchant review's booked loans."""
from __future__ import annotations

import pytest

from cb_core.i18n import format_krw, format_months, t
from cb_core.loans import blocked_merchants, watchlist
from tests.support.app import app_as


@pytest.fixture(scope="module")
def expected(small_book, trained):
    """The engine's watch-list for the same book and model (computed here, not by the app)."""
    return watchlist(small_book, trained[0])


def _watch_page(store, user: str, lang: str):
    app = app_as(user, store)
    app.session_state["lang"] = lang
    app.switch_page("views/watchlist.py").run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("user,lang", [("lee", "ko"), ("admin", "en"), ("lee", "en"), ("admin", "ko")])
def test_rows_equal_the_engines_watchlist_in_words(own_store, expected, user, lang):
    app = _watch_page(own_store, user, lang)
    assert app.title[0].value == t("nav_watchlist", lang)
    table = app.dataframe[0].value
    assert len(expected) > 0 and len(table) == len(expected)
    col = lambda key: t(key, lang)  # noqa: E731
    assert table[col("watch_col_loan")].tolist() == expected["loan_id"].tolist()
    assert table[col("watch_col_merchant")].str.split(" · ").str[0].tolist() == expected["merchant_id"].tolist()
    assert table[col("watch_col_severity")].tolist() == [t(f"loans_severity_{s}", lang) for s in expected["severity"]]
    assert table[col("watch_col_triggers")].tolist() == [
        ", ".join(t(f"loans_trigger_{k}", lang) for k in ks.split(";")) for ks in expected["triggers"]]
    assert table[col("watch_col_balance")].tolist() == [format_krw(b, lang) for b in expected["balance_krw"]]
    assert table[col("watch_col_months")].tolist() == [format_months(m, lang) for m in expected["months_since_booking"]]
    # severity order: every high before every medium before every low
    rank = expected["severity"].map({"high": 0, "medium": 1, "low": 2}).tolist()
    assert rank == sorted(rank)
    strips = table[col("watch_col_trend")]
    assert all(len(s) == 12 for s in strips)
    text = " ".join(str(v) for v in table.to_numpy().ravel() if isinstance(v, str))
    for code in ("past_due", "sales_drop", "refund_spike", "high", "nan", "None"):
        assert code not in text


def test_filter_by_severity_and_trigger(own_store, expected):
    app = _watch_page(own_store, "lee", "en")
    app.multiselect(key="watch_severity").set_value(["high"]).run()
    table = app.dataframe[0].value
    assert table["Loan"].tolist() == expected.loc[expected["severity"] == "high", "loan_id"].tolist()
    app.multiselect(key="watch_severity").set_value([]).run()
    app.multiselect(key="watch_trigger").set_value(["past_due"]).run()
    table = app.dataframe[0].value
    assert table["Loan"].tolist() == expected.loc[expected["triggers"].str.contains("past_due"), "loan_id"].tolist()


def test_an_action_is_saved_with_user_and_time_audited_and_a_freeze_blocks_offers(own_store, expected,
                                                                                   small_book):
    app = _watch_page(own_store, "lee", "en")
    merchant = app.selectbox(key="watch_merchant").value
    assert merchant == expected["merchant_id"].iloc[0]
    # a freeze without a note is refused, nothing saved
    app.radio(key=f"watch_action_{merchant}").set_value("freeze_offers")
    [b for b in app.button if b.label == "Record the action"][0].click().run()
    assert any("note saying why" in e.value for e in app.error)
    assert own_store.watch_actions(merchant) == []
    app.radio(key=f"watch_action_{merchant}").set_value("freeze_offers")
    app.text_area(key=f"watch_note_{merchant}_0").set_value("Three months of falling sales; call first")
    [b for b in app.button if b.label == "Record the action"][0].click().run()
    assert not app.exception, app.exception
    [action] = own_store.watch_actions(merchant)
    assert (action.action, action.user, action.note, action.loan_id) == (
        "freeze_offers", "lee", "Three months of falling sales; call first", expected["loan_id"].iloc[0])
    [entry] = own_store.audit_log({"action": "watch.freeze_offers"})
    assert (entry.user, entry.entity, entry.entity_id) == ("lee", "merchant", merchant)
    assert any(f"Recorded: Freeze further offers for {merchant}." in s.value for s in app.success)
    history = app.dataframe[1].value
    assert history["By"].tolist() == ["lee"] and history["Action"].tolist() == ["Freeze further offers"]
    assert history["When"].iloc[0].endswith("KST")
    assert set(own_store.frozen_merchants()) == {merchant}
    table = app.dataframe[0].value
    offers = table.loc[table["Merchant"].str.startswith(merchant + " · "), "New offers"]
    blocked = blocked_merchants(small_book, [merchant]).set_index("merchant_id")["reason"]
    assert offers.tolist() == [t(f"block_reason_{blocked[merchant]}", "en")] * len(offers)


def test_pm_and_partner_cannot_open_the_page(own_store):
    from cb_core.access import can, roles_with
    from ui.nav import pages_for

    assert roles_with("watch_loans") == ("admin", "officer")
    for user in ("kim", "park"):
        app = app_as(user, own_store)
        role = own_store.get_user(user).role
        assert not can(role, "watch_loans") and "views/watchlist.py" not in [p.file for p in pages_for(role)]
        with pytest.raises(ValueError, match="Could not find a navigation page for .*watchlist.py"):
            app.switch_page("views/watchlist.py")  # the page is not in this role's navigation at all


def test_a_hostile_note_and_user_text_stay_plain_text(own_store, expected):
    merchant = str(expected["merchant_id"].iloc[0])
    note = "[click](https://evil.example) <img src=x onerror=alert(1)> **bold** :smile:"
    own_store.record_watch_action(merchant, None, "freeze_offers", note, "admin")
    app = _watch_page(own_store, "lee", "en")
    assert app.selectbox(key="watch_merchant").value == merchant
    history = app.dataframe[1].value
    assert history["Note"].tolist() == [note]  # a dataframe cell: shown as given, never rendered
    assert any(w.value.startswith("New offers to this merchant are frozen since") for w in app.warning)
    markdown = [m.value for m in app.markdown] + [w.value for w in app.warning] + [c.value for c in app.caption]
    assert not any("<img" in m or "](https://evil" in m for m in markdown)
