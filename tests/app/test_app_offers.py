"""AppTest: the offers panel, the partner view and the products page over the small book and its model.

Each test gets its own app database (``CB_DATABASE_URL`` in ``tmp_path``), so saved catalogs and
audit entries never leak into other tests.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cb_core.i18n import format_krw
from cb_core.offers import PRODUCTS_FILE, load_products, match_book, offers_for, recourse, simulate
from cb_core.loans import blocked_merchants
from ui.offers_panel import SIMULATOR_OPEN
from tests.support.app import app_as, edit_catalog, offers_script, products_page
from ui.text import unescape

OTHER_PARTNERS_OF_HANBIT = ("Nuri Capital", "Daon Savings Bank", "FlowPay")


def _rendered_text(app) -> str:
    parts = [str(e.value) for kind in ("markdown", "title", "subheader", "caption", "info", "warning", "error",
                                       "success", "code") for e in getattr(app, kind)]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [f.value.to_csv() for f in app.dataframe]
    return "\n".join(parts)


def _metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def _table_with(app, column: str) -> pd.DataFrame:
    return next(f.value for f in app.dataframe if column in f.value.columns)


# ------------------------------------------------------------------ offers panel (render_offers)

@pytest.fixture(scope="module")
def candidate(scored, small_book):
    """A merchant with several offers, the advance RBF-01 among them, that misses BANK-01 on its score
    alone by a few points (so that recourse has options), and no overdue loan (Square's rule)."""
    book = match_book(scored, load_products())
    ok = (book[("best", "n_eligible")] >= 2) & book[("eligible", "RBF-01")] & (book[("failed", "BANK-01")] == 1)
    ok &= ~book.index.isin(blocked_merchants(small_book)["merchant_id"])
    return book.index[ok & (scored["score"] >= 585)][0]


def _panel(merchant_id: str, lang: str = "en") -> AppTest:
    app = AppTest.from_function(offers_script, args=(merchant_id,), default_timeout=120)
    app.session_state["lang"] = lang
    app.run()
    assert not app.exception, app.exception
    return app


def test_offers_are_ranked_with_terms_and_missed_products_say_why(own_store, scored, candidate):
    app = _panel(candidate)
    expected = offers_for(scored.loc[candidate], load_products())
    eligible, missed = expected[expected["eligible"]], expected[~expected["eligible"]]
    shown = app.dataframe[0].value
    assert shown["Product"].tolist() == eligible["name_en"].tolist()
    assert shown["Rank"].tolist() == list(range(1, len(eligible) + 1))
    assert shown["Limit"].tolist() == [format_krw(v, "en") for v in eligible["limit_krw"]]
    assert shown["Total cost of credit"].tolist() == [format_krw(v, "en") for v in eligible["total_cost_krw"]]
    advance = shown.set_index("Product").loc["FlowPay Settlement Advance"]
    assert advance["APR"].startswith("≈ ") and advance["Repayment"].startswith("12% of daily settlements withheld")
    out = app.dataframe[1].value  # one row per failed rule
    assert out["Product"].tolist() == [n for n, r in zip(missed["name_en"], missed["reasons_en"]) for _ in r]
    assert out["Failed rules"].tolist() == [rule for r in missed["reasons_en"] for rule in r]


def test_failed_rules_follow_the_session_language(own_store, scored, candidate):
    app = _panel(candidate, lang="ko")
    expected = offers_for(scored.loc[candidate], load_products())
    missed = expected[~expected["eligible"]]
    out = app.dataframe[1].value
    assert out["상품"].tolist() == [n for n, r in zip(missed["name"], missed["reasons_ko"]) for _ in r]
    assert out["미충족 조건"].tolist() == [rule for r in missed["reasons_ko"] for rule in r]


def test_recourse_for_a_missed_product_lists_changes_with_points(own_store, scored, candidate, trained):
    app = _panel(candidate)
    app.selectbox(key="offers_recourse_product").set_value("BANK-01").run()
    assert not app.exception, app.exception
    product = load_products().set_index("product_id", drop=False).loc["BANK-01"]
    expected = recourse(trained[0], scored.loc[candidate, trained[0].features], product, scored.loc[candidate])
    table = _table_with(app, "Change (points it adds)")
    assert table["Change (points it adds)"].tolist() == expected["message_en"].tolist()
    changes = expected[expected["kind"] == "change"]
    assert len(changes) and all(m.endswith(" points") for m in changes["message_en"])
    assert table["Option"].iloc[-1] == f"Option {changes['option'].iloc[-1]}"


def test_simulator_shows_the_path_schedule_and_summary_of_a_scenario(own_store, small_book, scored, candidate):
    app = _panel(candidate)
    assert not app.get("plotly_chart")  # drawn only once its expander is opened
    app.session_state[SIMULATOR_OPEN] = True
    app.run()
    app.selectbox(key="offers_sim_offer").set_value("RBF-01").run()
    app.radio(key="offers_sim_scenario").set_value("stop_3m").run()
    assert not app.exception, app.exception
    offer = offers_for(scored.loc[candidate], load_products()).set_index("product_id", drop=False).loc["RBF-01"]
    sales = small_book.activity[small_book.activity["merchant_id"] == candidate].sort_values("month")
    schedule, summary = simulate(offer, sales.set_index("month")["gmv_krw"], "stop_3m")
    assert summary["missed_minimums"] >= 1  # three months without sales miss a 60-day minimum
    assert _metric(app, "Missed minimums") == str(summary["missed_minimums"])
    assert _metric(app, "Repaid on") == summary["repaid_on"]
    assert _metric(app, "Total cost") == format_krw(summary["total_cost"], "en")
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in figure["data"]} == {"Balance", "Withheld", "Debited for the minimum"}
    table = _table_with(app, "Withheld")
    assert len(table) == len(schedule) and table["Balance"].iloc[-1] == "₩0"
    # every won of each day, with the one formatter (a daily balance never rounds to a repeated value)
    assert table["Balance"].tolist() == [format_krw(round(v), "en", exact=True) for v in schedule["balance_krw"]]
    assert table["Debited for the minimum"].ne("₩0").sum() == summary["missed_minimums"] + (
        summary["balance_due_at_max_term"] > 0)


# ------------------------------------------------------------------ partner view

def test_admin_partner_view_numbers_equal_an_independent_computation(own_store, scored, small_book):
    app = app_as("admin", own_store)
    app.session_state["lang"] = "en"
    app.switch_page("views/partner_view.py").run()
    app.selectbox(key="pv_partner").set_value("Nuri Capital").run()
    assert not app.exception, app.exception
    products = load_products()
    mine = products[products["partner"] == "Nuri Capital"]
    best = match_book(scored, mine)["best"]
    best = best[(best["n_eligible"] > 0) & ~best.index.isin(blocked_merchants(small_book)["merchant_id"])]
    fee = best["product_id"].map(mine.set_index("product_id")["broker_fee_pct"]) / 100 * best["limit_krw"]
    pd_ = scored.loc[best.index, "pd"]
    assert _metric(app, "Eligible merchants") == f"{len(best):,}"
    assert _metric(app, "Share of the book") == f"{len(best) / len(scored):.1%}"
    assert _metric(app, "Total limit volume") == format_krw(best["limit_krw"].sum(), "en")
    assert _metric(app, "Expected bad rate") == f"{pd_.mean():.2%}"
    assert _metric(app, "Expected loss (PD×LGD×limit)") == format_krw((pd_ * 0.6 * best["limit_krw"]).sum(), "en")
    assert _metric(app, "Broker fee") == format_krw(fee.sum(), "en")
    assert app.dataframe[0].value["Product id"].tolist() == mine["product_id"].tolist()
    mix = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    counts = scored.loc[best.index, "grade"].value_counts().reindex(range(1, 11), fill_value=0)
    assert _plain(mix["y"]) == counts.tolist()


def _plain(value) -> list:
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def test_a_partner_sees_only_its_own_products_and_masked_merchants(own_store, small_book):
    app = app_as("park", own_store)  # role partner, partner Hanbit Bank
    app.switch_page("views/partner_view.py").run()
    assert not app.exception, app.exception
    assert not [s for s in app.selectbox if s.key == "pv_partner"]  # no choosing another partner
    products = load_products()
    text = _rendered_text(app)
    for name in products.loc[products["partner"] == "Hanbit Bank", "name"]:
        assert name in text
    others = products[products["partner"] != "Hanbit Bank"]
    leaked = [v for col in ("product_id", "name", "name_en", "partner", "partner_ko") for v in others[col] if v in text]
    assert not leaked
    sample = next(d.value for d in app.dataframe if "최적 상품" in d.value.columns)  # the pool tab's sample
    people = small_book.merchants.set_index("merchant_id").loc[sample["가맹점 ID"]]
    assert not [n for n in people["owner_name"] if n in text]
    assert not [r for r in people["business_reg_no"] if r in text]
    assert sample["사업자등록번호"].tolist() == [r[:7] + "*****" for r in people["business_reg_no"]]

    app.get("download_button")[0].click().run()
    [entry] = own_store.audit_log({"action": "partner_report.export"})
    assert (entry.user, entry.entity, entry.entity_id) == ("park", "partner", "Hanbit Bank")
    assert entry.after["products"] == ["BANK-01", "BANK-02"]


def test_a_report_export_the_audit_log_cannot_take_is_said_plainly(own_store, monkeypatch):
    from cb_core.errors import StoreUnavailableError
    from cb_core.store import Store

    app = app_as("park", own_store)
    app.session_state["lang"] = "en"
    app.switch_page("views/partner_view.py").run()

    def unavailable(self, *args, **kwargs):
        raise StoreUnavailableError("the database cannot be reached; nothing was saved")

    monkeypatch.setattr(Store, "audit", unavailable)
    app.get("download_button")[0].click().run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [
        "This was done, but it could not be recorded in the audit log. Tell an administrator."]
    assert app.code[-1].value == "the database cannot be reached; nothing was saved"
    monkeypatch.undo()
    assert own_store.audit_log({"action": "partner_report.export"}) == []


# ------------------------------------------------------------------ products page

def test_a_bad_edit_shows_every_problem_and_keeps_the_catalog(own_store):
    app = products_page(own_store)
    edit_catalog(app, 0, {0: {"limit_cap_krw": -1}, 4: {"apr_by_grade": "2: 6.9, 3: 8.4, 5: 11.9"}})
    assert any("2 problem(s)" in e.value and "nothing was saved" in e.value for e in app.error)
    problems = app.dataframe[1].value
    assert problems[["Product", "Field"]].values.tolist() == [["BANK-01", "Highest limit (KRW)"], ["SAV-01", "APR by grade (%)"]]
    assert "has no APR for grade 4" in problems["Problem"].iloc[1]
    assert own_store.current_products() is None
    assert own_store.audit_log({"action": "products.save"}) == []


def test_a_good_edit_saves_version_n_plus_one_with_history(own_store):
    app = products_page(own_store)
    edit_catalog(app, 0, {0: {"min_score": 620}})
    assert [s.value for s in app.success] == ["Saved as version 1; offers now use it."]
    version, catalog = own_store.current_products()
    assert version == 1 and catalog[0]["min_score"] == 620
    edit_catalog(app, 1, {2: {"broker_fee_pct": 2.2}})
    version, catalog = own_store.current_products()
    assert version == 2 and catalog[2]["broker_fee_pct"] == 2.2 and catalog[0]["min_score"] == 620
    history = app.dataframe[-1].value
    assert history["Version"].tolist() == [2, 1] and set(history["Saved by"]) == {"kim"}
    assert history["Changed"].tolist() == ["CAP-01", "BANK-01"]
    assert [e.user for e in own_store.audit_log({"action": "products.save"})] == ["kim", "kim"]


def test_saving_after_someone_else_saved_is_a_conflict(own_store):
    app = products_page(own_store)  # kim starts from the shipped catalog
    records = json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))
    records[1]["min_score"] = 650
    own_store.save_products(records, "admin", expected_version=None)
    edit_catalog(app, 0, {0: {"min_score": 620}})
    said = [unescape(e.value) for e in app.error]  # the page's title, then who saved which version (catalog key)
    assert any(s.startswith("Someone else saved first: nothing was saved.\n\n")
               and "the product catalog was saved as version 1 by admin at " in s and " KST while you edited" in s
               for s in said), said
    assert own_store.current_products()[0] == 1 and own_store.current_products()[1][0]["min_score"] == 600
    assert any("Someone saved version 1" in w.value for w in app.warning)
    app.button(key="prod_reload").click().run()
    assert not app.warning and pd.notna(app.session_state["prod_base_version"])
