"""Decisions: the decision log and merchants' requests (explanation, correction, re-calculation, review)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.store import REQUEST_KINDS, REQUEST_STATUSES
from cb_core.strategy import DECISIONS
from ui.cache import known_merchants, store
from ui.errors import engine_errors
from ui.labels import count, kst, label_func, tr
from ui.session import translated_picker, user_name
from ui.tables import flash, show_flash, show_table


st.title(tr("nav_decisions"))
show_flash()
tab_decisions, tab_requests = st.tabs([tr("decisions_log"), tr("requests_title")])

with tab_decisions:
    c = st.columns(3)
    merchant = c[0].text_input(tr("review_merchant"), key="dl_merchant").strip()
    kind = c[1].selectbox(tr("decision_choice"), ["all", *DECISIONS], key=translated_picker("dl_kind"),
                          format_func=label_func("decision_"))
    current_only = c[2].toggle(tr("decisions_current_only"), value=True, key="dl_current")
    filters = {"current_only": current_only, **({"merchant_id": merchant} if merchant else {}),
               **({"decision": kind} if kind != "all" else {})}
    with engine_errors():
        rows = store().list_decisions(filters, limit=2000)
    table = pd.DataFrame([{tr("decision_id"): d.id, tr("decision_at"): kst(d.created_at),
                           tr("review_merchant"): d.merchant_id, tr("decision_choice"): tr(f"decision_{d.decision}"),
                           tr("review_score"): d.score, tr("review_grade"): d.grade, tr("decision_user"): d.user,
                           tr("decision_policy"): "–" if d.policy_version is None else f"v{d.policy_version}",
                           tr("decision_note"): d.note} for d in rows])
    st.caption(tr("decisions_count", n=count(len(rows))))
    if rows:
        show_table(table, "decisions.csv", "dl_decision_log")

with tab_requests:
    st.caption(tr("requests_help"))
    overdue_only = st.toggle(tr("requests_overdue_only"), key="rq_overdue")
    with engine_errors():
        requests = store().list_requests(overdue_only=overdue_only)
    if requests:
        frame = pd.DataFrame([{tr("decision_id"): r.id, tr("review_merchant"): r.merchant_id,
                               tr("requests_kind"): tr(f"request_{r.kind}"), tr("requests_status"): tr(f"status_{r.status}"),
                               tr("requests_received"): kst(r.received_at), tr("requests_due"): kst(r.due_at),
                               tr("requests_overdue"): "⚠️" if r.overdue else "", tr("requests_details"): r.details,
                               tr("requests_resolution"): r.resolution or ""} for r in requests])
        n_overdue = sum(r.overdue for r in requests)
        if n_overdue:
            st.error(tr("requests_overdue_count", n=n_overdue))
        show_table(frame, "requests.csv", "dl_requests")
    with st.form("new_request", clear_on_submit=True):
        st.markdown(f"**{tr('requests_new')}**")
        c = st.columns(2)
        rq_merchant = c[0].text_input(tr("review_merchant"), key="rq_merchant")
        rq_kind = c[1].selectbox(tr("requests_kind"), REQUEST_KINDS, key=translated_picker("rq_kind"), format_func=label_func("request_"))
        rq_details = st.text_area(tr("requests_details"), key="rq_details")
        if st.form_submit_button(tr("requests_open")):
            with engine_errors():
                opened = store().open_request(rq_merchant.strip(), rq_kind, rq_details.strip(), user_name(),
                                              known_merchants=known_merchants())
            flash(tr("requests_opened", id=opened.id, due=kst(opened.due_at)))
            st.rerun()
    open_ids = [r.id for r in requests if r.status != "resolved"]
    if open_ids:
        with st.form("update_request"):
            st.markdown(f"**{tr('requests_update')}**")
            c = st.columns(2)
            rid = c[0].selectbox(tr("decision_id"), open_ids, key="ru_id")
            status = c[1].selectbox(tr("requests_status"), REQUEST_STATUSES[1:], key=translated_picker("ru_status"), format_func=label_func("status_"))
            resolution = st.text_area(tr("requests_resolution"), key="ru_resolution", help=tr("requests_resolution_help"))
            if st.form_submit_button(tr("requests_save")):
                with engine_errors():
                    store().update_request(rid, status, resolution.strip(), user_name())
                flash(tr("requests_updated", id=rid))
                st.rerun()
