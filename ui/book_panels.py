"""Panels of the Book performance page: vintages, roll rates, the backtest by grade, early reads and
the validation pack. Each reads its widgets, takes the engine's frames from :mod:`ui.cache` and
draws; tables are the labelled frames of :mod:`cb_core.reports` (the pack shows the same ones), and
every chart and table names the delinquency definition it counts."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from cb_core.i18n import format_count, format_krw, format_pct
from cb_core.loans import DEFINITIONS, roll_matrix
from cb_core.reports import (LIGHTS, backtest_table, definition_note, early_reads_table, group_labels,
                             roll_table, status_label, validation_pack_html, vintage_table)
from ui import cache
from ui.charts_book import backtest_figure, roll_heatmap_figure, vintage_figure
from ui.errors import engine_errors
from ui.labels import label_func, tr
from ui.session import LANGUAGES, lang, translated_picker
from ui.tables import audit
from ui.text import cell, plain, show_frame

GROUPINGS: tuple[str, ...] = ("none", "grade", "partner", "product", "category")
#: Cohorts drawn by default: the latest ones observed at least DEFAULT_MIN_MOB months (younger
#: ones are flat lines at zero), at most DEFAULT_COHORTS (more lines are hard to tell apart).
DEFAULT_COHORTS = 6
DEFAULT_MIN_MOB = 6


def default_cohorts(v: pd.DataFrame) -> list[str]:
    """The cohorts the vintage chart starts with (see :data:`DEFAULT_MIN_MOB`); the latest ones when
    none is that old."""
    seen = v.groupby("cohort")["mob"].max()
    old = sorted(seen.index[seen >= DEFAULT_MIN_MOB])
    return (old or sorted(seen.index))[-DEFAULT_COHORTS:]
PACK_ACTION = "validation_pack.export"
ROLL_VALUES: tuple[str, ...] = ("share", "loans", "balance_krw")


def render_vintages(book) -> None:
    """Vintage curves: definition and grouping chosen, cohorts (and groups) filtered, chart and table."""
    st.subheader(tr("bp_vintage_heading"))
    language = lang()
    left, right = st.columns(2)
    bad = left.selectbox(tr("bp_choose_definition"), list(DEFINITIONS), format_func=label_func("loans_def_"),
                         key=translated_picker("bp_definition", default="dpd_90"))  # 90+ days past due first
    by_key = right.selectbox(tr("bp_choose_group"), GROUPINGS, format_func=label_func("bp_by_"), key=translated_picker("bp_by"))
    by = None if by_key == "none" else by_key
    with engine_errors():
        v = cache.book_vintages(book, bad, by)
    cohorts = sorted(v["cohort"].unique())
    chosen = st.multiselect(tr("bp_choose_cohorts"), cohorts, default=default_cohorts(v), key="bp_cohorts",
                            placeholder=tr("choose_options"))
    names = {g: cell(n, 120) for g, n in group_labels(by, v["group"].unique(), language).items()}
    if by is not None:
        groups = sorted(names, key=lambda g: (len(g), g)) if by == "grade" else sorted(names)
        shown = st.multiselect(tr("bp_choose_group_value"), groups, default=groups, format_func=names.get,
                               placeholder=tr("choose_options"),
                               key=f"bp_groups_{by}")
        v = v[v["group"].isin(shown)]
    if not chosen:
        st.info(tr("bp_no_cohort"))
        return
    v = v[v["cohort"].isin(chosen)]
    definition = tr(f"loans_def_{bad}")
    st.plotly_chart(vintage_figure(v, names, {
        "title": tr("bp_vintage_title", definition=definition), "x": tr("bp_axis_mob"), "y": tr("bp_axis_cum_bad"),
        "cohort": tr("bp_hover_cohort"), "loans": tr("bp_col_loans")}), width="stretch", key="bp_vintage_chart")
    st.caption(definition_note(bad, language))
    show_frame(vintage_table(v, language, by))


def _roll_text(value: str, matrix: pd.DataFrame, language: str) -> pd.DataFrame:
    if value == "share":
        return matrix.map(lambda x: format_pct(x, language, 1))
    if value == "loans":
        return matrix.map(lambda x: format_count(x, language))
    return matrix.map(lambda x: format_krw(x, language))


def render_rolls(book) -> None:
    """Roll-rate heatmap between delinquency states (in words), and the table with transition counts."""
    st.subheader(tr("bp_rolls_heading"))
    language = lang()
    rates = cache.loan_views(book)["rolls"]
    value = st.radio(tr("bp_roll_value"), ROLL_VALUES, format_func=label_func("bp_roll_"),
                     horizontal=True, key="bp_roll_value")
    matrix = roll_matrix(rates, value)
    words = matrix.rename(index=lambda s: status_label(s, language), columns=lambda s: status_label(s, language))
    st.plotly_chart(roll_heatmap_figure(words, _roll_text(value, words, language), {
        "title": tr("bp_rolls_heading"), "x": tr("bp_axis_to"), "y": tr("bp_axis_from")}), width="stretch",
        key="bp_roll_chart")
    st.caption(tr("bp_rolls_caption"))
    show_frame(roll_table(rates, language))


def render_backtest(book) -> None:
    """Predicted PD against the observed 12-month bad rate by grade, each grade's light in words and colour."""
    st.subheader(tr("bp_backtest_heading"))
    language = lang()
    bt = cache.loan_views(book)["backtest"]
    if bt.empty:
        st.info(tr("bp_backtest_empty"))
        return
    counts = bt["light"].value_counts()
    st.markdown(tr("bp_lights_summary", **{k: format_count(counts.get(k, 0), language) for k in LIGHTS}))
    grade = tr("bp_grade_n", grade="{g}").split("{g}")
    st.plotly_chart(backtest_figure(bt, {k: tr(f"bp_light_short_{k}") for k in LIGHTS}, {
        "title": tr("bp_backtest_heading") + " · " + tr("loans_def_bad"), "x": tr("bp_col_grade"),
        "y": tr("bp_col_observed"), "observed": tr("bp_col_observed"), "predicted": tr("bp_col_predicted_pd"),
        "loans": tr("bp_col_loans"), "grade_prefix": grade[0], "grade_suffix": grade[1]}), width="stretch",
        key="bp_backtest_chart")
    st.caption(tr("bp_backtest_caption") + " " + definition_note("bad", language))
    show_frame(backtest_table(bt, language))


def render_early_reads(book) -> None:
    """Early reads per booking cohort (first-payment default, 30+ by month 3, 12-month results)."""
    st.subheader(tr("bp_early_heading"))
    st.caption(tr("bp_early_caption") + " " + definition_note("bad", lang()))
    show_frame(early_reads_table(cache.loan_views(book)["early"], lang()))


def render_pack(book, model) -> None:
    """The validation pack: built on request (it scores the book month by month), then downloaded."""
    st.subheader(tr("bp_pack_heading"))
    st.caption(tr("bp_pack_help"))
    doc_lang = st.radio(tr("bp_pack_lang"), list(LANGUAGES), index=list(LANGUAGES).index(lang()),
                        format_func=label_func("bp_lang_"), horizontal=True, key="bp_pack_lang")
    if not st.toggle(tr("bp_pack_prepare"), key="bp_pack_prepare"):
        return
    with engine_errors(), st.spinner(tr("bp_pack_building")):
        tables = cache.validation_tables(book, model)
    page = validation_pack_html(tables, lang=doc_lang, generated_at=datetime.now(timezone.utc))
    name = f"validation_pack_{re.sub(r'[^A-Za-z0-9]+', '_', model.version)}_{doc_lang}.html"
    if st.download_button(tr("bp_pack_download"), page.encode("utf-8"), file_name=name, mime="text/html",
                          type="primary", key="bp_pack_download"):
        audit(PACK_ACTION, "model", model.version, {"book": book.fingerprint, "lang": doc_lang,
                                                   "loans": tables.loans})
    st.caption(plain(name))
