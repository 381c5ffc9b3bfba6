"""Watch-list panels: filters, the flagged loans with a sales strip each, the actions form with the
merchant's action history; and, for Merchant review, its booked loans and the no-offer notice.

The engine computes (``cb_core.loans``: ``watchlist``, ``sales_strips``, ``merchant_loans``,
``blocked_merchants``); the store records the actions (``Store.record_watch_action``, audited).
Merchant names and notes are untrusted text: tables go through ``ui.text.show_frame``.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.errors import ConflictError
from cb_core.loans import SEVERITIES, TRIGGERS, block_reason, merchant_loans
from cb_core.reports import mask_frame
from cb_core.store import WATCH_ACTIONS, WATCH_NOTE_REQUIRED
from ui import cache
from ui.errors import engine_errors
from ui.labels import days, krw, kst, label_func, months, tr
from ui.session import can, lang, role, user_name
from ui.tables import flash
from ui.text import cell, plain, show_frame


# ------------------------------------------------------------------ tables (frames only, no drawing)

def filter_flagged(flagged: pd.DataFrame, severities: list[str], triggers: list[str]) -> pd.DataFrame:
    """The flagged loans of the chosen severities having any of the chosen triggers (none chosen: all)."""
    keep = flagged["severity"].isin(severities) if severities else pd.Series(True, index=flagged.index)
    if triggers:
        keep &= flagged["triggers"].str.split(";").map(lambda found: bool(set(found) & set(triggers)))
    return flagged[keep]


def merchant_labels(book, merchant_ids) -> dict[str, str]:
    """``id · business name`` per merchant (personal data masked for the role; untrusted text as a cell)."""
    merchants = mask_frame(book.merchants, role()).set_index("merchant_id")["business_name"]
    return {m: cell(f"{m} · {merchants.get(m, '')}", 300) for m in merchant_ids}


def offers_word(reason: str | None) -> str:
    """Whether a merchant may get new offers, in words (the no-offer reason when it may not)."""
    return tr("watch_offers_open") if reason is None else tr(f"block_reason_{reason}")


def watch_table(flagged: pd.DataFrame, labels: dict[str, str], strips: pd.Series,
                blocked: pd.DataFrame) -> pd.DataFrame:
    """The flagged loans as shown: severity, merchant, loan, months since booking, balance, the sales
    strip, whether new offers are allowed and, last (the longest text), the triggers in words."""
    return pd.DataFrame({
        tr("watch_col_severity"): [tr(f"loans_severity_{s}") for s in flagged["severity"]],
        tr("watch_col_merchant"): [labels[m] for m in flagged["merchant_id"]],
        tr("watch_col_loan"): flagged["loan_id"].astype(str).to_numpy(),
        tr("watch_col_months"): [months(n) for n in flagged["months_since_booking"]],
        tr("watch_col_balance"): [krw(b) for b in flagged["balance_krw"]],
        tr("watch_col_trend"): [strips.get(m, []) for m in flagged["merchant_id"]],
        tr("watch_col_offers"): [offers_word(block_reason(blocked, m)) for m in flagged["merchant_id"]],
        tr("watch_col_triggers"): [", ".join(tr(f"loans_trigger_{k}") for k in found.split(";") if k)
                                   for found in flagged["triggers"]],
    })


def history_table(actions) -> pd.DataFrame:
    """A merchant's watch actions, newest first, with KST times."""
    return pd.DataFrame([{tr("watch_col_at"): kst(a.created_at), tr("watch_col_user"): a.user,
                          tr("watch_col_action"): tr(f"watch_action_{a.action}"),
                          tr("watch_col_loan"): a.loan_id or "–", tr("watch_col_note"): a.note}
                         for a in reversed(actions)])


def loans_table(loans: pd.DataFrame, products: pd.DataFrame, language: str) -> pd.DataFrame:
    """A merchant's booked loans as shown: product and partner by name, amounts, days past due and
    status in words."""
    catalog = products.set_index("product_id")
    name, partner = ("name", "partner_ko") if language == "ko" else ("name_en", "partner")
    partners = dict(zip(products["partner"], products[partner]))
    return pd.DataFrame({
        tr("mloans_col_loan"): loans["loan_id"].astype(str).to_numpy(),
        tr("mloans_col_product"): [catalog[name].get(p, p) for p in loans["product_id"]],
        tr("mloans_col_partner"): [partners.get(p, p) for p in loans["partner"]],
        tr("mloans_col_booked"): loans["booked_month"].to_numpy(),
        tr("mloans_col_amount"): [krw(a) for a in loans["amount_krw"]],
        tr("mloans_col_balance"): [krw(b) for b in loans["balance_krw"]],
        tr("mloans_col_dpd"): [tr("mloans_past_due", days=days(d)) if d > 0 else tr("mloans_not_past_due")
                               for d in loans["days_past_due"]],
        tr("mloans_col_status"): [tr(f"loans_status_{s}") for s in loans["status"]],
        tr("mloans_col_as_of"): loans["latest_month"].to_numpy(),
    })


# ------------------------------------------------------------------ panels

def render_filters() -> tuple[list[str], list[str]]:
    """Severity and trigger filters (nothing chosen: everything)."""
    left, right = st.columns(2)
    severities = left.multiselect(tr("watch_filter_severity"), list(SEVERITIES), key="watch_severity",
                                  format_func=label_func("loans_severity_"), placeholder=tr("watch_filter_any"))
    triggers = right.multiselect(tr("watch_filter_trigger"), list(TRIGGERS), key="watch_trigger",
                                 format_func=label_func("loans_trigger_"), placeholder=tr("watch_filter_any"))
    return severities, triggers


def render_watch_table(book, shown: pd.DataFrame, strips: pd.Series, blocked: pd.DataFrame) -> None:
    """The flagged loans with a sparkline of each merchant's sales."""
    if shown.empty:
        st.info(tr("watch_none"))
        return
    table = watch_table(shown, merchant_labels(book, shown["merchant_id"].unique()), strips, blocked)
    show_frame(table, column_config={tr("watch_col_trend"): st.column_config.LineChartColumn(
        tr("watch_col_trend"), help=tr("watch_trend_help"), y_min=0)})


def render_actions(book, shown: pd.DataFrame, frozen: dict) -> None:
    """Pick a flagged merchant, record an action (audited, with user and time), see its history."""
    st.subheader(tr("watch_actions_title"))
    if shown.empty:
        return
    ids = list(dict.fromkeys(shown["merchant_id"]))
    labels = merchant_labels(book, ids)
    merchant = st.selectbox(tr("watch_pick"), ids, format_func=labels.get, key="watch_merchant")
    loan = str(shown.loc[shown["merchant_id"] == merchant, "loan_id"].iloc[0])
    if merchant in frozen:
        st.warning(tr("watch_frozen_now", at=kst(frozen[merchant].created_at), user=plain(frozen[merchant].user)))
    if can("watch_loans"):
        generation = st.session_state.get(f"watch_gen_{merchant}", 0)
        with st.form(f"watch_form_{merchant}_{generation}"):
            action = st.radio(tr("watch_action"), WATCH_ACTIONS, horizontal=True, key=f"watch_action_{merchant}",
                              format_func=label_func("watch_action_"))
            note = st.text_area(tr("watch_note"), key=f"watch_note_{merchant}_{generation}", max_chars=2000)
            submitted = st.form_submit_button(tr("watch_save"), type="primary")
        if submitted and action in WATCH_NOTE_REQUIRED and not note.strip():
            st.error(tr("watch_note_required"), icon="⚠️")
        elif submitted:
            with engine_errors():
                try:
                    cache.store().record_watch_action(merchant, loan, action, note, user_name(),
                                                      known_merchants=cache.known_merchants())
                except ConflictError:
                    st.error(tr("watch_conflict"), icon="⚠️")
                else:
                    st.session_state[f"watch_gen_{merchant}"] = generation + 1
                    flash(tr("watch_saved", action=tr(f"watch_action_{action}"), merchant=plain(merchant)))
                    st.rerun()
    st.markdown(f"**{tr('watch_history')}**")
    with engine_errors():
        actions = cache.store().watch_actions(merchant)
    if actions:
        show_frame(history_table(actions))
    else:
        st.caption(tr("watch_history_none"))


def render_merchant_loans(book, merchant_id: str, products: pd.DataFrame) -> None:
    """Merchant review: the merchant's booked loans and their status, or a plain line saying it has none."""
    st.subheader(tr("mloans_title"))
    with engine_errors():
        loans = merchant_loans(book, merchant_id)
    if loans.empty:
        st.info(tr("mloans_none"))
    else:
        show_frame(loans_table(loans, products, lang()))


def render_block_notice(blocked: pd.DataFrame, merchant_id: str) -> bool:
    """Say why ``merchant_id`` gets no new offer (Square's rule); True when it is blocked."""
    reason = block_reason(blocked, merchant_id)
    if reason is None:
        return False
    st.warning(tr(f"block_reason_{reason}"), icon="⛔")
    row = blocked.loc[blocked["merchant_id"] == merchant_id].iloc[0]
    if row["loan_id"] is not None and row["days_past_due"] > 0:
        st.caption(tr("block_detail_overdue", loan=plain(row["loan_id"]), days=days(row["days_past_due"])))
    return True
