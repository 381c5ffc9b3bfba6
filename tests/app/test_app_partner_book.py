"""AppTest: the Partner view's booked-book tab, as a partner and as an admin, in Korean and English,
against figures computed here from the small book's loan tables (independently of the engine)."""
from __future__ import annotations

import json
import re

import pytest

from cb_core.i18n import format_count, format_krw, format_pct
from cb_core.loans import definition
from tests.support.app import app_as
from ui.text import unescape

PARTNER = "Hanbit Bank"  # the partner of the test user park
TERMINAL = ("repaid", "charged_off")


def _text(app) -> str:
    """Everything the page shows as text: elements, metrics, table cells and headers, chart specs."""
    parts = [str(e.value) for kind in ("markdown", "title", "header", "subheader", "caption", "info", "warning",
                                       "error", "success", "code") for e in getattr(app, kind)]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [f.value.to_csv() for f in app.dataframe]
    parts += [c.proto.spec for c in app.get("plotly_chart")]
    return "\n".join(parts)


def _metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def _expected(book, partner: str) -> dict:
    loans = book.loans[book.loans["partner"] == partner]
    months = book.loan_months
    last = months["month"].max()
    at = months[(months["month"] == last) & months["loan_id"].isin(loans["loan_id"]) & ~months["status"].isin(TERMINAL)]
    balance = at["balance_krw"].sum()
    return {"loans": len(loans), "booked": loans["amount_krw"].sum(), "open": len(at), "balance": balance,
            "dpd30": at.loc[at["days_past_due"] >= 30, "balance_krw"].sum() / balance,
            "late": set(at.loc[at["days_past_due"] >= 30, "loan_id"]), "last": last}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_partner_sees_its_own_booked_book_only(own_store, small_book, lang):
    app = app_as("park", own_store)
    app.session_state["lang"] = lang
    app.switch_page("views/partner_view.py").run()
    assert not app.exception, app.exception
    assert app.title[0].value == ("제휴사 뷰" if lang == "ko" else "Partner view")
    assert unescape(app.header[0].value) == ("제휴사: 한빛은행" if lang == "ko" else "Partner: Hanbit Bank")
    assert [t.label for t in app.tabs] == (["대상 가맹점 풀", "실행 대출 현황"] if lang == "ko"
                                           else ["Eligible pool", "Booked book"])

    want = _expected(small_book, PARTNER)
    assert want["loans"] > 100 and want["late"]  # the small book gives the test something to find
    ko = lang == "ko"
    assert _metric(app, "실행 대출 수" if ko else "Loans booked") == format_count(want["loans"], lang)
    assert _metric(app, "실행 금액" if ko else "Amount booked") == format_krw(want["booked"], lang)
    assert _metric(app, "잔액 보유 대출 수" if ko else "Open loans") == format_count(want["open"], lang)
    assert _metric(app, "대출 잔액" if ko else "Outstanding balance") == format_krw(want["balance"], lang)
    assert _metric(app, "30일 이상 연체 잔액 비중" if ko else "30+ days past due, share of balance") == format_pct(
        want["dpd30"], lang)
    late = next(d.value for d in app.dataframe if ("대출 ID" if ko else "Loan id") in d.value.columns)
    assert set(late.iloc[:, 0]) == want["late"]

    text = _text(app)
    others = small_book.loans.loc[small_book.loans["partner"] != PARTNER, "loan_id"]
    assert not [i for i in others if i in text]  # another partner's loans never reach the page
    people = small_book.merchants
    assert not [n for n in people["owner_name"] if n in text]
    assert not [r for r in people["business_reg_no"] if r in text]
    shown = text[:text.index("{")] if "{" in text else text  # the chart specs come last
    assert not re.search(r"\b(nan|NaN|None|inf)\b|dpd_|_krw|_share", shown)

    charts = [json.loads(c.proto.spec)["layout"] for c in app.get("plotly_chart")][1:]  # [0]: the pool's grade mix
    titles = [c["title"]["text"] for c in charts]
    assert titles == (["월별 대출 잔액과 실행 건수", f"빈티지 곡선: {definition('dpd_30').label('ko')}",
                       "등급별 연체 잔액 비중"] if ko else
                      ["Outstanding balance and loans booked by month",
                       f"Vintage curves: {definition('dpd_30').label('en')}", "Past-due share of balance by grade"])
    assert all(c["xaxis"]["title"]["text"] and c["yaxis"]["title"]["text"] for c in charts)
    if ko:  # won ticks read in 만/억
        assert all(t.endswith("원") for t in charts[0]["yaxis"]["ticktext"])

    app.get("download_button")[0].click().run()
    [entry] = own_store.audit_log({"action": "partner_report.export"})
    assert (entry.user, entry.entity_id, entry.after["booked_loans"]) == ("park", PARTNER, want["loans"])
    csv = {b.proto.id.rsplit("-", 1)[-1]: b for b in app.get("download_button")[1:]}
    assert set(csv) == {f"pv_book_{p}_csv" for p in ("volume", "vintages", "delinquency", "hhi", "category",
                                                      "region", "grade", "past_due")}
    csv["pv_book_past_due_csv"].click().run()
    [export] = own_store.audit_log({"action": "export.csv"})
    assert (export.entity_id, export.after["rows"]) == ("partner_book_past_due.csv", len(want["late"]))


def test_the_definition_chosen_renames_and_recounts_the_vintages(own_store, small_book):
    app = app_as("park", own_store)
    app.session_state["lang"] = "en"
    app.switch_page("views/partner_view.py").run()
    app.selectbox(key="pv_book_def").set_value("dpd_90").run()
    assert not app.exception, app.exception
    vintage = json.loads(app.get("plotly_chart")[2].proto.spec)
    assert vintage["layout"]["title"]["text"] == f"Vintage curves: {definition('dpd_90').label('en')}"
    loans = small_book.loans[small_book.loans["partner"] == PARTNER]
    assert len(vintage["data"]) == loans["booked_month"].nunique()  # one line per booking month


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_admin_chooses_any_partner_and_one_without_loans_reads_a_sentence(own_store, small_book, lang):
    app = app_as("admin", own_store)
    app.session_state["lang"] = lang
    app.switch_page("views/partner_view.py").run()
    app.selectbox(key="pv_partner").set_value("Nuri Capital").run()
    assert not app.exception, app.exception
    assert unescape(app.header[0].value) == ("제휴사: 누리캐피탈" if lang == "ko" else "Partner: Nuri Capital")
    want = _expected(small_book, "Nuri Capital")
    assert _metric(app, "대출 잔액" if lang == "ko" else "Outstanding balance") == format_krw(want["balance"], lang)
    text = _text(app)
    assert not [i for i in small_book.loans.loc[small_book.loans["partner"] != "Nuri Capital", "loan_id"] if i in text]

    assert small_book.loans["partner"].eq("Daon Savings Bank").sum() == 0
    app.selectbox(key="pv_partner").set_value("Daon Savings Bank").run()
    assert not app.exception, app.exception
    assert unescape(app.header[0].value) == ("제휴사: 다온저축은행" if lang == "ko" else "Partner: Daon Savings Bank")
    assert [i.value for i in app.info][-1] == ("이 제휴사를 통해 실행된 대출이 아직 없습니다." if lang == "ko"
                                               else "No loans have been booked with this partner yet.")
    assert len(app.get("plotly_chart")) == 1  # the pool's grade mix only: no empty booked-book chart
    assert not [m for m in app.metric if m.label in ("대출 잔액", "Outstanding balance")]


def test_round_ticks_of_the_volume_chart():
    from ui.charts_partner_book import round_ticks

    assert round_ticks(1_530_000_000) == [0, 500_000_000, 1_000_000_000, 1_500_000_000, 2_000_000_000]
    assert round_ticks(21, whole=True) == [0, 5, 10, 15, 20, 25]
    assert round_ticks(1, whole=True) == [0, 1]  # counts never get a tick at 0.2
    assert round_ticks(1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert round_ticks(0) == [0.0] and round_ticks(float("nan")) == [0.0]
