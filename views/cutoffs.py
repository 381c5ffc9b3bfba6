"""Cutoff tuning: move the cutoffs, watch approval, bad rate, loss, revenue; compare; publish."""
from __future__ import annotations

import streamlit as st

from cb_core.strategy import Policy, aligned_result, compare_policies
from ui import cache
from ui.charts import curves_figure
from ui.cutoff_panels import render_bureau, render_rescue, render_segments
from ui.errors import engine_errors, require_book_and_model
from ui.labels import krw, tr
from ui.policy import draft_payload, policy_actions, policy_in_force, policy_label
from ui.tables import show_flash, show_table

st.title(tr("nav_cutoffs"))
show_flash()
book, model = require_book_and_model()
in_force = policy_in_force()  # the baseline the draft is compared with
published = in_force.policy
frame = cache.strategy_frame(book, model)
curves = cache.cutoff_curves(book, model)
seen_curves = cache.decision_curves(book, model)  # observed rates: scores at decision


@st.fragment
def tuning() -> None:
    c = st.columns([2, 2, 1, 1])
    approve = c[0].slider(tr("approve_cutoff"), 300, 800, int(published.approve_cutoff), key="cut_approve")
    refer = c[1].slider(tr("refer_cutoff"), 300, 800, int(min(published.refer_cutoff, approve)), key="cut_refer")
    lgd = c[2].number_input(tr("lgd"), 0.0, 1.0, float(published.lgd), 0.05, key="cut_lgd")
    apr = c[3].number_input(tr("apr_pct"), 0.0, 20.0, float(published.apr * 100), 0.1, key="cut_apr")
    with engine_errors():
        draft = Policy.from_dict({**draft_payload(in_force), "approve_cutoff": approve,
                                  "refer_cutoff": min(refer, approve), "lgd": lgd, "apr": apr / 100})
        result = aligned_result(curves, seen_curves, draft)
    k = st.columns(4)
    base = curves.evaluate(published)
    k[0].metric(tr("approval_rate"), f"{result.approval_rate:.1%}", f"{result.approval_rate - base.approval_rate:+.1%}")
    k[1].metric(tr("refer_rate"), f"{result.refer_rate:.1%}")
    k[2].metric(tr("expected_bad_rate"), f"{result.expected_bad_rate:.2%}",
                f"{result.expected_bad_rate - base.expected_bad_rate:+.2%}", delta_color="inverse")
    k[3].metric(tr("observed_bad_rate"), "–" if result.n_approved_with_outcome == 0 else f"{result.observed_bad_rate:.2%}",
                help=tr("observed_help", n=f"{result.n_approved_with_outcome:,}"))
    k = st.columns(4)
    k[0].metric(tr("expected_loss"), krw(result.expected_loss_krw))
    k[1].metric(tr("interest_revenue"), krw(result.interest_revenue_krw))
    k[2].metric(tr("broker_fee_revenue"), krw(result.broker_fee_revenue_krw))
    k[3].metric(tr("profit"), krw(result.profit_krw))
    table = curves.table(step=5, policy=draft)
    st.plotly_chart(curves_figure(table, approve, {"approval": tr("approval_rate"), "bad": tr("expected_bad_rate"),
                                                   "profit": tr("profit"), "loss": tr("expected_loss"),
                                                   "x": tr("approve_cutoff")}), width="stretch")

    st.subheader(tr("compare_title", published=policy_label(in_force)))
    comparison = compare_policies(frame, draft, published)
    st.dataframe(comparison.matrix, width="content")
    show_table(comparison.changes.head(500), "decision_changes.csv", "dl_changes")
    policy_actions(draft, in_force, frame)
    # every figure below is of the draft on screen: the fragment reruns them with the sliders
    render_bureau(book, model, frame, draft)
    render_rescue(book, model, frame, draft)
    render_segments(frame, cache.decision_frame(book, model), draft)


tuning()
broken_monotone = cache.monotone_violations(book, model)
st.subheader(tr("check_monotone"))
st.caption(tr("check_monotone_model"))  # a property of the model: the same for every cutoff
st.metric(tr("check_monotone"), f"{len(broken_monotone):,}", help=tr("check_monotone_help"))
if len(broken_monotone):
    show_table(broken_monotone.head(1000), "monotone_violations.csv", "dl_monotone_violations.csv")
