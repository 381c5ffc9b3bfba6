"""Offers inside Merchant review: ranked offers, why the others are out, recourse, the simulator.

``render_offers`` draws the panel for one merchant from the catalog in use
(:func:`ui.brokerage.catalog_in_use`); the engine does the work (``cb_core.offers``).
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from cb_core.explain import activity_of
from cb_core.offers import AMORTIZING, SCENARIOS, offers_for, simulate
from ui import cache
from ui.brokerage import blocked_now, catalog_in_use, catalog_key
from ui.charts_offers import repayment_figure
from ui.errors import engine_errors
from ui.cache_figures import kept_figure
from ui.labels import krw, label_func, tr
from ui.session import lang, translated_picker
from ui.tables import download_csv
from ui.text import cell, show_frame
from ui.watch_panels import render_block_notice

#: Session key of the repayment simulator's expander (open: drawn; a test opens it by this key).
SIMULATOR_OPEN = "offers_sim_open"


def _name(row: pd.Series, language: str) -> tuple[str, str]:
    return (row["partner_ko"], row["name"]) if language == "ko" else (row["partner"], row["name_en"])


def merchant_row(values: pd.Series, score: int, grade: int, merchant_id: str) -> pd.Series:
    """What the product rules read: the score and grade, months with sales, sales, category."""
    category = values.get("category")
    return pd.Series({"score": score, "grade": grade, "months_active": values.get("months_active"),
                      "gmv_3m_avg_krw": values.get("gmv_3m_avg_krw"),
                      "category": None if pd.isna(category) else str(category)}, name=merchant_id)


def offers_table(eligible: pd.DataFrame, language: str) -> pd.DataFrame:
    """Eligible offers as shown: rank, partner, product, limit, APR, repayment, total cost."""
    rows = []
    for _, o in eligible.iterrows():
        partner, product = _name(o, language)
        if o["repayment"] == AMORTIZING:
            pays = tr("offers_pays_monthly", amount=krw(o["monthly_payment_krw"]))
        else:
            pays = tr("offers_pays_withhold", pct=f"{o['withhold_pct']:g}", amount=krw(o["monthly_payment_krw"]))
        rows.append({tr("offers_col_rank"): int(o["rank"]), tr("offers_col_partner"): partner,
                     tr("offers_col_product"): product, tr("offers_col_limit"): krw(o["limit_krw"]),
                     tr("offers_col_apr"): ("≈ " if o["apr_is_estimate"] else "") + f"{o['apr_pct']:.1f}%",
                     tr("offers_col_term"): int(o["term_months"]), tr("offers_col_repayment"): pays,
                     tr("offers_col_total_cost"): krw(o["total_cost_krw"])})
    return pd.DataFrame(rows)


def missed_table(missed: pd.DataFrame, language: str) -> pd.DataFrame:
    """Products the merchant is not eligible for, one row per failed rule in ``language`` (joined on
    one line, three rules ran past the column's edge at 1440 px)."""
    rows = [(*_name(o, language), rule) for _, o in missed.iterrows() for rule in o[f"reasons_{language}"]]
    return pd.DataFrame(rows, columns=[tr("offers_col_partner"), tr("offers_col_product"), tr("offers_col_failed")])


def recourse_table(found: pd.DataFrame, language: str) -> pd.DataFrame:
    """Recourse rows as shown: which option, what to change (with the points it adds), the score after."""
    option = [tr("offers_recourse_needed") if o == 0 else tr("offers_recourse_option", n=o) for o in found["option"]]
    return pd.DataFrame({tr("offers_col_option"): option, tr("offers_col_change"): found[f"message_{language}"],
                         tr("offers_col_score_after"): found["score_after"].astype("Int64"),
                         tr("offers_col_eligible_after"): found["eligible_after"].map({True: "✓", False: "✗"})})


@st.fragment
def recourse_panel(model, values: pd.Series, merchant: pd.Series, missed: pd.DataFrame,
                   products: pd.DataFrame, key: str) -> None:
    language = lang()
    labels = {o["product_id"]: cell(" · ".join(_name(o, language)), 300) for _, o in missed.iterrows()}
    chosen = st.selectbox(tr("offers_recourse_pick"), list(labels), format_func=labels.get, index=None,
                          placeholder=tr("offers_recourse_placeholder"), key=translated_picker("offers_recourse_product"))
    if chosen is None:
        return
    product = products.loc[products["product_id"] == chosen].iloc[0]
    with engine_errors():
        found = cache.recourse(model, merchant, values, product, key)
    if not (found["kind"] == "change").any():
        st.info(tr("offers_recourse_none"))
    show_frame(recourse_table(found, language))


def schedule_table(schedule: pd.DataFrame, repayment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(shown, raw)`` of the schedule: labelled columns, won amounts as Koreans read them on screen
    (8,567원, 221만 7,433원: every won, as a schedule needs; ₩2,217,433 in English) and as whole won with the unit in the header in the CSV."""
    if repayment == AMORTIZING:
        columns = {"month": "offers_col_month", "sales_krw": "offers_col_sales", "payment_krw": "offers_col_payment",
                   "interest_krw": "offers_col_interest", "principal_krw": "offers_col_principal",
                   "balance_krw": "offers_col_balance"}
    else:
        columns = {"date": "offers_col_date", "sales_krw": "offers_col_sales", "withheld_krw": "offers_col_withheld",
                   "top_up_krw": "offers_col_top_up", "balance_krw": "offers_col_balance"}
    won = {c: schedule[c].round(0).astype("int64") for c in columns if c.endswith("_krw")}
    unit = tr("unit_krw")
    shown = pd.DataFrame({tr(k): [krw(v, exact=True) for v in won[c]] if c in won else schedule[c].astype(str).to_numpy()
                          for c, k in columns.items()})
    raw = pd.DataFrame({f"{tr(k)} [{unit}]" if c in won else tr(k): won[c].to_numpy() if c in won
                        else schedule[c].astype(str).to_numpy() for c, k in columns.items()})
    return shown, raw


@st.fragment
def simulator_panel(book, merchant_id: str, eligible: pd.DataFrame) -> None:
    language = lang()
    labels = {o["product_id"]: cell(f"{int(o['rank'])}. " + " · ".join(_name(o, language)), 300)
              for _, o in eligible.iterrows()}
    c = st.columns([2, 3])
    chosen = c[0].selectbox(tr("offers_sim_offer"), list(labels), format_func=labels.get, key=translated_picker("offers_sim_offer"))
    scenario = c[1].radio(tr("offers_sim_scenario"), list(SCENARIOS), horizontal=True, key="offers_sim_scenario",
                          format_func=label_func("offers_scn_"))
    offer = eligible.loc[eligible["product_id"] == chosen].iloc[0]
    sales = activity_of(book, merchant_id).set_index("month")["gmv_krw"]
    with engine_errors():
        schedule, summary = simulate(offer, sales, scenario)
    advance = summary["repayment"] != AMORTIZING
    k = st.columns(4)
    k[0].metric(tr("offers_sim_repaid_on"), summary["repaid_on"] or "–")
    k[1].metric(tr("offers_sim_total_paid"), krw(summary["total_paid"], short=True))
    k[2].metric(tr("offers_sim_total_cost"), krw(summary["total_cost"], short=True))
    if advance:
        k[3].metric(tr("offers_sim_missed"), f"{summary['missed_minimums']}",
                    help=tr("offers_sim_missed_help", days=int(offer["min_payment_every_days"]),
                            first=summary["first_missed_on"] or "–", debited=krw(summary["shortfall_debited"])))
    else:
        k[3].metric(tr("offers_sim_stress"), f"{summary['stress_months']}", help=tr("offers_sim_stress_help"))
    # kept per schedule drawn (its every number) and language: a revisit does not rebuild it
    drawn = hashlib.sha256(pd.util.hash_pandas_object(schedule, index=True).to_numpy().tobytes()).hexdigest()
    st.plotly_chart(kept_figure("offers_repayment", (drawn, *schedule.columns, summary["repayment"], language), lambda: repayment_figure(
        schedule, summary["repayment"], {"balance": tr("offers_col_balance"), "paid": tr("offers_col_payment"),
                                         "withheld": tr("offers_col_withheld"), "top_up": tr("offers_col_top_up")})),
                    width="stretch", key="offers_sim_chart")
    shown, raw = schedule_table(schedule, summary["repayment"])
    st.dataframe(shown, hide_index=True, width="stretch", height=280)
    download_csv(raw, f"schedule_{merchant_id}_{chosen}_{scenario}.csv", "offers_sim_download")


def render_offers(book, model, merchant_id: str, values: pd.Series, score: int, grade: int) -> None:
    """The offers panel of Merchant review for one merchant.

    Parameters
    ----------
    book, model
        The book and model in use (``ui.cache.book_and_model()``).
    merchant_id : str
    values : Series
        The merchant's feature values (``MerchantExplanation.values``): what the model scores.
    score, grade : int
        The merchant's score and grade.

    A merchant blocked by Square's rule (an overdue loan, or frozen from the Watch-list) gets no
    offer: the panel says why instead.
    """
    st.subheader(tr("offers_title"))
    version, products = catalog_in_use()
    st.caption(tr("offers_caption") + " " + (tr("offers_catalog_version", version=version) if version is not None
                                             else tr("offers_catalog_shipped")))
    if render_block_notice(blocked_now(book), merchant_id):
        return  # Square's rule: an overdue loan or a freeze, no new offer (nor its simulator or recourse)
    language = lang()
    merchant = merchant_row(values, score, grade, merchant_id)
    with engine_errors():
        offers = offers_for(merchant, products)
    eligible, missed = offers[offers["eligible"]], offers[~offers["eligible"]]
    if eligible.empty:
        st.info(tr("offers_none"))
    else:
        show_frame(offers_table(eligible, language))
    if not missed.empty:
        st.markdown(f"**{tr('offers_missed')}**")
        show_frame(missed_table(missed, language))
        st.markdown(f"**{tr('offers_recourse_title')}**")
        recourse_panel(model, values, merchant, missed, products, catalog_key(version))
    if not eligible.empty:
        # drawn only while open: its chart and daily schedule, with the explanation record, were about half of
        # the browser's work for every merchant shown (bench/RESULTS.md); once opened it stays open
        box = st.expander(tr("offers_sim_title"), key=SIMULATOR_OPEN, on_change="rerun")
        if box.open:
            with box:
                simulator_panel(book, merchant_id, eligible)
