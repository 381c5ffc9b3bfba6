"""AppTest: the charts of the Model report (gains of the test window, feature PSI) and Cutoff tuning
(bootstrap intervals) hold the engine's numbers, computed here independently; what-if inputs in the
feature's unit; times in Korea time with the zone (issue #13)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import numpy as np
import pytest

from cb_core.i18n import t
from tests.support.app import app_as
from tests.support.visible import _figure_strings, text_problems


def _array(value) -> list:
    """Plotly JSON arrays may be typed (base64 ``bdata``); return a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _charts(app) -> dict[str, dict]:
    """The page's plotly figures by title."""
    out = {}
    for chart in app.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        title = (fig["layout"].get("title") or {}).get("text", "")
        out[title] = fig
    return out


def _page(app_users, user: str, file: str, lang: str):
    app = app_as(user, app_users)
    app.session_state["lang"] = lang
    app.switch_page(file).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_model_report_draws_the_test_windows_gains_and_the_feature_psi(app_users, small_book, trained, lang):
    from cb_core.data import feature_catalog
    from cb_core.features.pipeline import current_snapshot
    from cb_core.model import metrics as M

    model, report = trained
    app = _page(app_users, "kim", "views/model_report.py", lang)
    gains_prefix = t("chart_gains_title", lang, window="\x00").split("\x00")[0]
    assert gains_prefix and not any(title.startswith(gains_prefix) for title in _charts(app))  # a closed tab: not drawn
    app.session_state["report_tab"] = t("tab_gains", lang)  # the gains tab opened
    app.run()
    assert not app.exception, app.exception
    periods = model.card["validation"]["test"]["periods"]
    charts = _charts(app)
    window = "–".join(dict.fromkeys([periods[0], periods[-1]]))  # one month, or first–last
    gains = charts[t("chart_gains_title", lang, window=window)]
    # the test window's rows, riskiest (lowest score) first: bads captured against merchants reviewed
    v = report.validation
    order = np.argsort(v["score"].to_numpy(), kind="stable")
    bad = v["defaulted_12m"].to_numpy()[order]
    table = M.gains_table(v["score"], v["defaulted_12m"], kind="score")
    ends = np.cumsum(table["count"].to_numpy())
    assert _array(gains["data"][0]["y"]) == pytest.approx([0.0, *[bad[:e].sum() / bad.sum() for e in ends]])
    assert _array(gains["data"][0]["x"]) == pytest.approx([0.0, *(ends / len(v))])
    assert gains["layout"]["xaxis"]["title"]["text"] == t("chart_gains_x", lang)
    assert gains["layout"]["yaxis"]["title"]["text"] == t("chart_gains_y", lang)
    # the gains table is still there, with the same captures the chart draws
    shown = [d.value for d in app.dataframe if len(d.value) == len(table) and len(d.value.columns) == len(table.columns)]
    captures = [f"{100 * c:.1f}%" for c in table["cum_bad_capture"]]
    assert any(captures in [list(f[c]) for c in f.columns] for f in shown)

    psi = charts[t("chart_psi_title", lang)]
    feats = [f for f in model.features if f in report.training_sample.columns]
    expected = M.psi_by_column(report.training_sample, current_snapshot(small_book), columns=feats).iloc[::-1]
    assert _array(psi["data"][0]["x"]) == pytest.approx(expected["psi"].tolist())
    catalog = feature_catalog()
    assert _array(psi["data"][0]["y"]) == [catalog[f].label(lang) if f in catalog else f for f in expected["column"]]
    assert sorted(s["x0"] for s in psi["layout"]["shapes"]) == [0.1, 0.25]
    assert psi["layout"]["xaxis"]["title"]["text"] == t("chart_psi_x", lang)
    for fig in (gains, psi):
        assert text_problems(list(_figure_strings(json.dumps(fig))), lang) == []


@pytest.fixture(scope="module")
def frame(small_book, trained):
    from cb_core.features.pipeline import current_snapshot
    from cb_core.strategy import strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    return strategy_frame(snap, model.score(snap), small_book.merchants)


def test_cutoff_interval_chart_holds_the_bootstrap_intervals_of_the_applied_draft(app_users, small_book, trained,
                                                                                   frame):
    from cb_core.strategy import Policy, aligned_segment_table, decision_frame, policy_in_force

    published = policy_in_force(app_users).policy
    app = _page(app_users, "kim", "views/cutoffs.py", "en")
    title = t("chart_intervals_current", "en", approve=int(published.approve_cutoff),
              refer=int(published.refer_cutoff))
    chart = _charts(app)[title]
    table = aligned_segment_table(frame, decision_frame(small_book, trained[0]), published, by="thin_file", n_boot=200)
    approval = chart["data"][0]
    assert _array(approval["x"]) == pytest.approx(table["approval_rate"].tolist())
    assert _array(approval["error_x"]["array"]) == pytest.approx((table["approval_rate_high"] - table["approval_rate"]).tolist())
    assert _array(approval["error_x"]["arrayminus"]) == pytest.approx(
        (table["approval_rate"] - table["approval_rate_low"]).tolist())
    assert approval["y"] == ["With credit history", "Thin file"]
    assert chart["layout"]["xaxis"]["title"]["text"] == "Rate (%)"
    # a slider move: the intervals stay those of the last applied draft, and the chart says so
    moved = min(int(published.approve_cutoff) + 25, 900)
    app.slider(key="cut_approve").set_value(moved).run()
    assert not app.exception, app.exception
    stale = _charts(app)[t("chart_intervals_stale", "en", approve=int(published.approve_cutoff),
                           refer=int(published.refer_cutoff))]
    assert _array(stale["data"][0]["x"]) == pytest.approx(table["approval_rate"].tolist())
    app.button(key="seg_apply").click().run()
    draft = Policy.from_dict({**published.to_dict(), "approve_cutoff": moved})
    applied = _charts(app)[t("chart_intervals_current", "en", approve=moved, refer=int(draft.refer_cutoff))]
    fresh = aligned_segment_table(frame, decision_frame(small_book, trained[0]), draft, by="thin_file", n_boot=200)
    assert _array(applied["data"][0]["x"]) == pytest.approx(fresh["approval_rate"].tolist())


def test_korean_interval_chart_reads_in_korean(app_users):
    app = _page(app_users, "kim", "views/cutoffs.py", "ko")
    figs = [f for title, f in _charts(app).items() if "신뢰구간" in title]
    assert len(figs) == 1
    assert figs[0]["layout"]["xaxis"]["title"]["text"] == "비율 (%)"
    assert text_problems(list(_figure_strings(json.dumps(figs[0]))), "ko") == []


def test_what_if_in_percent_moves_the_score_as_the_engine_does_with_the_fraction(app_users, small_book, trained):
    from cb_core.explain.points import what_if
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    merchant_id = small_book.merchants["merchant_id"].iloc[0]
    row = current_snapshot(small_book).loc[merchant_id]
    app = _page(app_users, "admin", "views/merchant_review.py", "en")
    app.multiselect(key="wi_features").set_value(["return_rate_6m", "gmv_3m_avg_krw"]).run()
    rate, money = app.number_input(key="wi_return_rate_6m"), app.number_input(key="wi_gmv_3m_avg_krw")
    assert rate.label.endswith("(%)") and money.label.endswith("(KRW)")
    assert rate.value == pytest.approx(round(row["return_rate_6m"] * 100, 1))  # 0.0362 shows as 3.6
    assert money.value == round(row["gmv_3m_avg_krw"]) and isinstance(money.value, int)  # whole won
    score_label = t("review_score", "en")
    untouched = [m for m in app.metric if m.label == score_label][-1]
    assert untouched.value == str(what_if(model, row, {})["score"])  # untouched: the merchant's own score
    assert untouched.proto.delta in ("0", "")
    for shown, fraction in ((12.5, 0.125), (0.0, 0.0), (40.0, 0.4)):
        app.number_input(key="wi_return_rate_6m").set_value(shown).run()
        expected = what_if(model, row, {"return_rate_6m": fraction})
        scores = [m.value for m in app.metric if m.label == score_label]
        assert scores[-1] == str(expected["score"]), (shown, scores)
        assert [m.value for m in app.metric if m.label == t("review_pd", "en")][-1] == f"{100 * expected['pd']:.2f}%"


def test_times_show_in_korea_time_with_the_zone(own_store, monkeypatch, small_book, trained):
    """2026-03-01 20:00 UTC is already 2026-03-02 05:00 in Korea."""
    from cb_core.store import decisions as store_decisions, policies as store_policies
    from cb_core.strategy import DEFAULT_POLICY_NAME, policy_in_force

    at = datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(store_policies, "aware", lambda now=None, name="now": at)
    monkeypatch.setattr(store_decisions, "aware", lambda now=None, name="now": at)
    own_store.save_draft(DEFAULT_POLICY_NAME, {**policy_in_force(own_store).policy.to_dict(), "approve_cutoff": 640},
                         "kim")
    app = _page(own_store, "kim", "views/cutoffs.py", "ko")
    drafts = next(d.value for d in app.dataframe if "작성자" in d.value.columns)
    assert drafts["저장 시각"].tolist() == ["2026-03-02 05:00 KST"]
    assert app.selectbox(key="policy_draft_pick").options == ["kim · 2026-03-02 05:00 KST"]
    assert any("2026-03-02 05:00 KST" in c.value for c in app.caption)  # "my saved draft ..."
    # an officer's decision history on Merchant review
    merchant_id = small_book.merchants["merchant_id"].iloc[0]
    own_store.save_decision(merchant_id, "refer", "check the returns", "lee", 600, 5, 0.05, [], None, None,
                            trained[0].version)
    app = _page(own_store, "lee", "views/merchant_review.py", "ko")
    assert app.selectbox(key="review_merchant").value == merchant_id
    history = next(d.value for d in app.dataframe if "일시" in d.value.columns)
    assert history["일시"].tolist() == ["2026-03-02 05:00 KST"]


def test_data_page_says_since_when_the_book_is_in_use_in_korea_time(app_users, monkeypatch):
    import pandas as pd

    from cb_core import workspace

    books = pd.DataFrame({"fingerprint": ["abc", "old"], "in_use": [True, False],
                          "last_in_use": [pd.Timestamp("2026-03-01 20:00", tz="UTC"),
                                          pd.Timestamp("2026-01-01 00:00", tz="UTC")]})
    monkeypatch.setattr(workspace, "stored_books", lambda settings=None: books)
    for lang, expected in (("ko", "이 북을 사용하기 시작한 시각: 2026-03-02 05:00 KST"),
                           ("en", "In use since 2026-03-02 05:00 KST")):
        app = _page(app_users, "admin", "views/data.py", lang)
        assert expected in [c.value for c in app.caption]


def test_the_explanation_record_is_issued_on_the_korean_date():
    from cb_core.reports import issue_date

    assert issue_date(datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)) == "2026-03-02"  # 05:00 KST
    assert issue_date(datetime(2026, 3, 1, 14, 59)) == "2026-03-01"  # naive = UTC: 23:59 KST
    assert issue_date(datetime(2026, 3, 1, 15, 0)) == "2026-03-02"


def test_korean_what_if_inputs_name_their_units(app_users, small_book):
    from cb_core.data import feature_catalog
    from cb_core.features.pipeline import current_snapshot
    from cb_core.i18n import format_krw

    merchant_id = small_book.merchants["merchant_id"].iloc[0]
    row = current_snapshot(small_book).loc[merchant_id]
    catalog = feature_catalog()
    app = _page(app_users, "admin", "views/merchant_review.py", "ko")
    chosen = ["return_rate_6m", "gmv_3m_avg_krw", "zero_sales_months_12m", "orders_3m_avg"]
    app.multiselect(key="wi_features").set_value(chosen).run()
    assert not app.exception, app.exception
    labels = [app.number_input(key=f"wi_{f}").label for f in chosen]
    assert labels == [f"{catalog['return_rate_6m'].label_ko} (%)", f"{catalog['gmv_3m_avg_krw'].label_ko} (원)",
                      f"{catalog['zero_sales_months_12m'].label_ko} (개월)", catalog["orders_3m_avg"].label_ko]
    assert app.number_input(key="wi_zero_sales_months_12m").value == int(row["zero_sales_months_12m"])
    assert app.number_input(key="wi_orders_3m_avg").value == round(row["orders_3m_avg"])  # a count: whole
    assert format_krw(round(row["gmv_3m_avg_krw"]), "ko") in [c.value for c in app.caption]  # 51만원, as read
    texts = [("number_input.label", x) for x in labels] + [("caption.body", c.value) for c in app.caption]
    assert text_problems(texts, "ko") == []
