"""A catalog edit that breaks a rule is refused, and the app keeps making offers from the last good catalog.

The path under test is the product's own: the Products page's editor -> ``ui.brokerage.save_catalog``
-> ``Store.save_products`` (validates; saves nothing when a rule is broken) -> ``ui.brokerage.catalog_in_use``,
which the Products page and every panel that shows offers read. The test has its own app database
(``CB_DATABASE_URL`` in ``tmp_path``), so the versions it saves never reach other tests.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cb_core.i18n import format_kst, t
from cb_core.offers import load_products, match_book, offers_for, validate_products
from tests.support.app import edit_catalog, offers_script, products_page

KEPT, REFUSED = "Kept Loan", "Refused Loan"  # BANK-01's English name in the saved and in the refused catalog


@pytest.fixture(scope="module")
def between(scored, small_book):
    """A merchant BANK-01 takes under the shipped catalog (min_score 600) and not at min_score 620
    (and without an overdue loan: Square's rule would give it no offer at all)."""
    from cb_core.loans import blocked_merchants

    shipped = load_products()
    assert shipped.set_index("product_id").loc["BANK-01", "min_score"] == 600
    book = match_book(scored, shipped)
    free = ~book.index.isin(blocked_merchants(small_book)["merchant_id"])
    return book.index[book[("eligible", "BANK-01")] & scored["score"].between(600, 619) & free][0]


def test_a_refused_edit_keeps_the_last_saved_catalog_in_use(own_store, scored, between):
    app = products_page(own_store)
    edit_catalog(app, 0, {0: {"name_en": KEPT, "min_score": 620}})  # row 0 is BANK-01
    assert [s.value for s in app.success] == [t("prodcat_saved", "en", version=1)]
    last_good = own_store.current_products()
    assert last_good[0] == 1 and (last_good[1][0]["name_en"], last_good[1][0]["min_score"]) == (KEPT, 620)

    edit_catalog(app, 1, {0: {"name_en": REFUSED, "limit_cap_krw": -1}})
    assert [e.value for e in app.error] == [t("prodcat_invalid", "en", n=1)]
    assert app.dataframe[1].value[["Product", "Field"]].values.tolist() == [["BANK-01", "Highest limit (KRW)"]]
    assert own_store.current_products() == last_good  # nothing saved ...
    assert [v.version for v in own_store.product_history()] == [1]
    assert [e.entity_id for e in own_store.audit_log({"action": "products.save"})] == ["1"]

    # ... and the app still uses version 1: the Products page says so ...
    again = products_page(own_store)
    assert [c.value for c in again.caption if c.value.startswith("In use")] == [
        t("prodcat_in_use", "en", version=1, user="kim", n=len(last_good[1]),
          at=format_kst(own_store.product_history()[0].created_at))]

    # ... and the offers panel makes its offers from it (not from the shipped file, not from the refused edit)
    panel = AppTest.from_function(offers_script, args=(between,), default_timeout=120)
    panel.session_state["lang"] = "en"
    panel.run()
    assert not panel.exception, panel.exception
    assert any(c.value.endswith(t("offers_catalog_version", "en", version=1)) for c in panel.caption)
    expected = offers_for(scored.loc[between], validate_products(last_good[1]))
    eligible, missed = expected[expected["eligible"]], expected[~expected["eligible"]]
    assert panel.dataframe[0].value["Product"].tolist() == eligible["name_en"].tolist()
    # one row per failed rule of each missed product
    assert panel.dataframe[1].value["Product"].tolist() == [n for n, r in zip(missed["name_en"], missed["reasons_en"])
                                                            for _ in r]
    assert panel.dataframe[1].value["Failed rules"].tolist() == [rule for r in missed["reasons_en"] for rule in r]
    assert KEPT in missed["name_en"].tolist()  # 600-619 points: BANK-01 missed at 620, as saved
    shown = panel.dataframe[0].value["Product"].tolist() + panel.dataframe[1].value["Product"].tolist()
    assert REFUSED not in shown
