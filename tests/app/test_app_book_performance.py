"""Book performance page (AppTest): who sees it, and that its figures are the engine's for the same book.

The tables on screen are compared cell by cell with the labelled frames built here from the engine
(``cb_core.loans`` on the same small book): a page that computed its own figures, or dropped a row,
would differ.
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from cb_core.i18n import t
from cb_core.loans import backtest, cohort_metrics, roll_rates, vintages
from cb_core.reports import backtest_table, early_reads_table, roll_table, vintage_table
from tests.support.app import app_as
from ui.nav import pages_for

PAGE = "views/book_performance.py"
SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


def _open(store, user: str, lang: str):
    app = app_as(user, store)
    app.session_state["lang"] = lang
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _default_cohorts(book) -> list[str]:
    """Booking months with at least 6 months on book by the book's last loan month, the latest six."""
    last = pd.Period(book.loan_months["month"].max(), "M")
    old = sorted(c for c in book.loans["booked_month"].unique() if (last - pd.Period(c, "M")).n >= 6)
    return old[-6:]


def _charts(app) -> list[str]:
    """Each plotly chart's figure JSON as text (non-ASCII as itself)."""
    return [json.dumps(json.loads(e.proto.spec), ensure_ascii=False) for e in app.get("plotly_chart")]


def _frames(app) -> list:
    return [d.value for d in app.dataframe]


def _find(frames, expected):
    """The frame on screen with ``expected``'s columns (None when none has them)."""
    return next((f for f in frames if list(f.columns) == list(expected.columns)), None)


def _same(shown, expected) -> None:
    assert shown is not None, f"no table with columns {list(expected.columns)}"
    assert shown.reset_index(drop=True).astype(str).equals(expected.reset_index(drop=True).astype(str))


@pytest.mark.parametrize("user,lang", [("kim", "ko"), ("kim", "en"), ("admin", "ko"), ("admin", "en")])
def test_pm_and_admin_see_the_engine_figures(app_users, small_book, user, lang):
    app = _open(app_users, user, lang)
    assert app.title[0].value == t("nav_book_performance", lang)
    frames = _frames(app)
    _same(_find(frames, backtest_table(backtest(small_book), lang)), backtest_table(backtest(small_book), lang))
    _same(_find(frames, roll_table(roll_rates(small_book), lang)), roll_table(roll_rates(small_book), lang))
    early = early_reads_table(cohort_metrics(small_book), lang)
    _same(_find(frames, early), early)
    # the vintage table: under 90+, the latest six cohorts observed six months or more (the page's defaults)
    v = vintages(small_book, bad="dpd_90")
    v = v[v["cohort"].isin(_default_cohorts(small_book))]
    _same(_find(frames, vintage_table(v, lang)), vintage_table(v, lang))
    # every chart and table names its definition
    captions = " ".join(c.value for c in app.caption)
    assert t("loans_def_dpd_90", lang) in captions and t("loans_def_bad", lang) in captions
    charts = _charts(app)
    assert len(charts) == 3
    assert t("loans_def_dpd_90", lang) in charts[0]
    # the roll heatmap's states are words, never the contract's codes
    assert "dpd_30_59" not in charts[1] and t("loans_status_dpd_30_59", lang) in charts[1]
    if lang == "ko":  # a Korean page shows no snake_case ids, no nan/None
        text = " ".join([*(c.value for c in app.caption), *(s.value for s in app.subheader),
                         *(f.to_csv() for f in frames)])
        assert not SNAKE.findall(text), SNAKE.findall(text)[:5]
        assert not re.search(r"\b(nan|None|NaN)\b", text)


def test_definition_and_grouping_change_the_vintages(app_users, small_book):
    app = _open(app_users, "kim", "en")
    app.selectbox(key="bp_definition").set_value("dpd_30").run()
    app.selectbox(key="bp_by").set_value("grade").run()
    assert not app.exception, app.exception
    v = vintages(small_book, by="grade", bad="dpd_30")
    v = v[v["cohort"].isin(_default_cohorts(small_book))]
    _same(_find(_frames(app), vintage_table(v, "en", "grade")), vintage_table(v, "en", "grade"))
    assert t("loans_def_dpd_30", "en") in _charts(app)[0]
    app.multiselect(key="bp_cohorts").set_value([]).run()
    assert t("bp_no_cohort", "en") in [i.value for i in app.info]


def test_pack_is_built_on_request_and_offered_for_download(app_users):
    app = _open(app_users, "kim", "ko")
    assert not app.get("download_button") or all("bp_pack" not in str(b.proto.id) for b in app.get("download_button"))
    app.toggle(key="bp_pack_prepare").set_value(True).run()
    assert not app.exception, app.exception
    labels = [b.proto.label for b in app.get("download_button")]
    assert t("bp_pack_download", "ko") in labels


@pytest.mark.parametrize("user", ["lee", "park"])  # an officer and a partner
def test_officer_and_partner_cannot_open_it(app_users, user):
    from tests.support.app import USERS

    assert PAGE not in [p.file for p in pages_for(USERS[user][0])]
    app = app_as(user, app_users)
    # the role's navigation does not hold the page, so a session cannot be switched to it
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)
    assert not any(title.value == t("nav_book_performance", "ko") for title in app.title)
