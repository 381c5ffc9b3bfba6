"""AppTest: Merchant review and Model report against the small book and its model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.support.app import app_as
from ui.text import unescape


@pytest.fixture
def at(app_users):
    return app_as("admin", app_users)


def _array(value) -> list:
    """Plotly JSON arrays may be typed (base64 ``bdata``); return a plain list."""
    import base64

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_the_picker_shows_id_name_category_region_and_score(at, small_book, trained):
    from cb_core.data import categories, regions
    from cb_core.features.pipeline import current_snapshot

    merchants = small_book.merchants
    scores = trained[0].score(current_snapshot(small_book))["score"]
    at.switch_page("views/merchant_review.py").run()
    first = merchants.iloc[3]
    at.text_input(key="review_query").set_value(str(first["business_name"])).run()
    options = at.selectbox(key="review_merchant").options
    shown = merchants.set_index("merchant_id").loc[at.selectbox(key="review_merchant").value]
    expected = " · ".join([at.selectbox(key="review_merchant").value, str(shown["business_name"]),
                           categories()[shown["category"]]["ko"], regions()[shown["region"]]["ko"],
                           f"{int(scores[at.selectbox(key='review_merchant').value])}점"])
    assert expected in options
    assert len(set(options)) == len(options)  # no two options read the same


def test_review_shows_score_grade_pd_and_reasons_of_the_chosen_merchant(at, small_book, trained):
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    snap = current_snapshot(small_book)
    scores = model.score(snap)
    low = scores["score"].idxmin()  # a merchant well below the cutoff has reasons
    at.switch_page("views/merchant_review.py").run()
    at.session_state["lang"] = "en"
    at.run()
    at.text_input(key="review_query").set_value(low).run()
    assert at.selectbox(key="review_merchant").value == low
    assert _metric(at, "Score") == str(int(scores.loc[low, "score"]))
    assert _metric(at, "Grade") == str(int(scores.loc[low, "grade"]))
    assert _metric(at, "PD (12 months)") == f"{scores.loc[low, 'pd']:.2%}"
    reasons = at.dataframe[1].value  # [0] is the profile
    assert 1 <= len(reasons) <= 4
    assert (reasons["Points vs reference"] < 0).all()
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    waterfall = next(f for f in figures if f["data"][0]["type"] == "waterfall")
    steps = _array(waterfall["data"][0]["x"])
    assert steps[-1] == pytest.approx(sum(steps[:-1]), abs=1e-6)  # base + steps = score
    assert round(steps[-1]) == int(scores.loc[low, "score"]) or not 1 <= steps[-1] <= 1000
    trends = next(f for f in figures if f["data"][0]["type"] == "scatter")
    mine = [t for t in trends["data"] if t.get("name") == "This merchant"]
    assert len(mine) == 7  # one line per metric, over the category band
    activity = small_book.activity[small_book.activity["merchant_id"] == low].sort_values("month")
    assert _array(mine[0]["y"]) == activity["gmv_krw"].astype(float).tolist()


def test_review_masks_personal_data_for_non_admin_roles(app_users, small_book):
    merchant = small_book.merchants.iloc[0]
    at = app_as("lee", app_users)  # an officer
    at.switch_page("views/merchant_review.py").run()
    profile = at.dataframe[0].value
    shown = " ".join(profile.iloc[:, 1].astype(str))
    assert merchant["owner_name"] not in shown
    assert merchant["business_reg_no"] not in shown
    assert merchant["business_reg_no"][:7] + "*****" in shown


def test_what_if_rescores_one_merchant(at, small_book, trained):
    from cb_core.explain.points import what_if
    from cb_core.features.pipeline import current_snapshot

    model, _ = trained
    merchant_id = small_book.merchants["merchant_id"].iloc[0]
    at.switch_page("views/merchant_review.py").run()
    at.multiselect(key="wi_features").set_value(["return_rate_6m"]).run()
    at.number_input(key="wi_return_rate_6m").set_value(0.0).run()
    expected = what_if(model, current_snapshot(small_book).loc[merchant_id], {"return_rate_6m": 0.0})
    assert [m.value for m in at.metric if m.label == "신용점수"][-1] == str(expected["score"])


def test_unknown_merchant_search_says_so(at):
    at.switch_page("views/merchant_review.py").run()
    at.text_input(key="review_query").set_value("zzzz-nobody").run()
    assert any("zzzz-nobody" in unescape(w.value) for w in at.warning)  # the search text, escaped (ui.text)


def test_model_report_numbers_match_the_card(at, trained):
    model, report = trained
    from cb_core.i18n import t

    at.switch_page("views/model_report.py").run()
    at.session_state["lang"] = "en"
    at.run()
    at.session_state["report_tab"] = t("tab_gains", "en")  # only the open tab is drawn: the gains one
    at.run()
    assert not at.exception
    assert [len(tab.children) > 0 for tab in at.tabs] == [False, False, False, True]
    m = model.card["metrics"]
    assert _metric(at, "AUC (out of time)") == f"{m['auc']:.3f}"
    assert _metric(at, "Oracle AUC") == f"{m['oracle_auc']:.3f}"
    frames = [d.value for d in at.dataframe]  # the windows, the challenger comparison, the gains table, ...
    compare = next(f for f in frames if "Model" in f.columns).set_index("Model")
    assert compare.loc["WoE logistic scorecard (challenger)", "AUC"] == f"{report.challenger['auc']:.3f}"
    assert compare.loc["LightGBM without sensitive features", "AUC"] == f"{report.without_sensitive['auc']:.3f}"
    gains = next(f for f in frames if {"Merchants", "Defaults", "Lift"} <= set(f.columns))
    assert gains["Merchants"].str.replace(",", "").astype(int).sum() == len(report.validation)
    assert gains["Defaults"].str.replace(",", "").astype(int).sum() == int(report.validation["defaulted_12m"].sum())
    assert np.isfinite(float(_metric(at, "Score PSI")))


def test_the_explanation_record_is_written_only_once_opened_and_names_the_merchant(at, small_book):
    from ui.explanation_panel import EXPLANATION_OPEN

    merchant = small_book.merchants.iloc[2]
    at.switch_page("views/merchant_review.py").run()
    at.text_input(key="review_query").set_value(str(merchant["merchant_id"])).run()
    assert not at.code  # closed: nothing of it sent
    at.session_state[EXPLANATION_OPEN] = True
    at.run()
    assert not at.exception, at.exception
    [record] = at.code
    assert merchant["merchant_id"] in record.value and str(merchant["business_name"]) in unescape(record.value)
