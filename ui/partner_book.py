"""The Partner view's "Booked book" tab: the partner's own booked loans, how many, how much is
outstanding, their vintages, delinquency by grade, concentration (HHI) and the loans past due.

Figures come from :func:`cb_core.reports.partner_book` (the partner's loans only, masked) through
``ui.cache``; this module only chooses the definition, lays out and draws. Tables show rounded,
formatted figures; their CSV downloads keep full precision (won, fractions 0–1, units in headers).
"""
from __future__ import annotations

import streamlit as st

from cb_core.data import Book
from cb_core.loans import DEFINITIONS, definition
from cb_core.reports import (CONCENTRATION_BY, DELINQUENCY_KEYS, PartnerBook, book_kpis, concentration_summary,
                             concentration_table, delinquency_table, delinquent_table, partner_vintage_table,
                             raw_table, volume_table)
from ui import cache
from ui.charts_partner_book import delinquency_figure, vintage_figure, volume_figure
from ui.errors import engine_errors
from ui.labels import krw, tr
from ui.session import lang
from ui.tables import download_csv
from ui.text import show_frame

#: Session key of the vintages' definition, and the definition a partner sees first.
DEFINITION_KEY = "pv_book_def"
DEFAULT_DEFINITION = "dpd_30"


def chosen_definition() -> str:
    """The definition chosen on the tab (kept in the session), else :data:`DEFAULT_DEFINITION`."""
    key = st.session_state.get(DEFINITION_KEY, DEFAULT_DEFINITION)
    return key if key in DEFINITIONS else DEFAULT_DEFINITION


def booked_book_for(book: Book, partner: str) -> PartnerBook:
    """``partner``'s booked book under the chosen definition (cached per book, partner, definition)."""
    with engine_errors():
        return cache.partner_book(book, partner, chosen_definition())


def render_booked_book(book: Book, booked: PartnerBook) -> None:
    """The tab: a plain sentence when the partner has no booked loans, else every figure of ``booked``."""
    if booked.empty:
        st.info(tr("pbook_no_tables" if book.loans is None else "pbook_none"))
        return
    lg = lang()
    st.caption(tr("pbook_caption", month=booked.as_of))
    figures = book_kpis(booked, lg)
    for row in (figures[:3], figures[3:]):
        for column, (label, value) in zip(st.columns(3), row):
            column.metric(label, value)

    st.subheader(tr("pbook_volume"))
    st.plotly_chart(volume_figure(booked.volume, {
        "title": tr("pbook_chart_volume"), "x": tr("pbook_axis_month"), "y": tr("pbook_axis_balance"),
        "y2": tr("pbook_axis_booked"), "balance": tr("pbook_col_outstanding"), "booked": tr("pbook_col_booked_loans")},
        krw), width="stretch", key="pv_book_volume_chart")
    _table(booked, volume_table(booked, lg), "volume")

    st.subheader(tr("pbook_vintages"))
    options = list(DEFINITIONS)
    st.selectbox(tr("pbook_choose_def"), options, index=options.index(booked.bad), key=DEFINITION_KEY,
                 format_func=lambda key: definition(key).label(lg))
    name = definition(booked.bad).label(lg)
    st.plotly_chart(vintage_figure(booked.vintages, {
        "title": tr("pbook_chart_vintage", name=name), "x": tr("pbook_axis_mob"), "y": tr("pbook_axis_cum_bad")},
        lambda cohort: tr("pbook_cohort_series", cohort=cohort)), width="stretch", key="pv_book_vintage_chart")
    _table(booked, partner_vintage_table(booked, lg), "vintages")

    st.subheader(tr("pbook_delinquency"))
    st.caption(tr("pbook_delinquency_help"))
    if booked.delinquency.empty:
        st.info(tr("pbook_no_open"))
    else:
        st.plotly_chart(delinquency_figure(
            booked.delinquency, DELINQUENCY_KEYS,
            {"title": tr("pbook_chart_delinquency"), "x": tr("pbook_axis_grade"), "y": tr("pbook_axis_share")},
            {k: tr("pbook_series_dpd", days=k.split("_")[1]) for k in DELINQUENCY_KEYS},
            lambda g: tr("pbook_grade_n", grade=g)), width="stretch", key="pv_book_delinquency_chart")
        _table(booked, delinquency_table(booked, lg), "delinquency")

    st.subheader(tr("pbook_concentration"))
    st.caption(tr("pbook_concentration_help"))
    _table(booked, concentration_summary(booked, lg), "hhi")
    for column, by in zip(st.columns(len(CONCENTRATION_BY)), CONCENTRATION_BY):
        with column:
            frame = concentration_table(booked, by, lg)
            if frame.empty:
                st.info(tr("pbook_no_open"))
            else:
                _table(booked, frame, by)

    st.subheader(tr("pbook_delinquent"))
    late = delinquent_table(booked, lg)
    if late.empty:
        st.info(tr("pbook_no_delinquent"))
    else:
        _table(booked, late, "past_due")


def _table(booked: PartnerBook, shown, part: str) -> None:
    """The readable table, and its CSV download with full-precision values (units in the headers)."""
    show_frame(shown)
    download_csv(raw_table(booked, part, lang()), f"partner_book_{part}.csv", key=f"pv_book_{part}_csv")
