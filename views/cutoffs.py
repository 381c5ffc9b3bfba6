"""Cutoff tuning: move the cutoffs, watch approval, bad rate, loss, revenue; compare; publish."""
from __future__ import annotations

import streamlit as st

from cb_core.strategy import (Policy, bureau_only_scores, check_positive_only, compare_policies, rescue_view,
                              segment_table, swap_sets, thin_file_uplift)
from ui import cache
from ui.charts import curves_figure
from ui.errors import engine_errors, require_book_and_model
from ui.labels import krw, label_func, tr
from ui.policy import policy_actions, policy_in_force, policy_label
from ui.tables import show_flash, show_table

st.title(tr("nav_cutoffs"))
show_flash()
book, model = require_book_and_model()
in_force = policy_in_force()  # the baseline the draft is compared with
published = in_force.policy
frame = cache.strategy_frame(book, model)
curves = cache.cutoff_curves(book, model)


@st.fragment
def tuning() -> None:
    c = st.columns([2, 2, 1, 1])
    approve = c[0].slider(tr("approve_cutoff"), 300, 800, int(published.approve_cutoff), key="cut_approve")
    refer = c[1].slider(tr("refer_cutoff"), 300, 800, int(min(published.refer_cutoff, approve)), key="cut_refer")
    lgd = c[2].number_input(tr("lgd"), 0.0, 1.0, float(published.lgd), 0.05, key="cut_lgd")
    apr = c[3].number_input(tr("apr_pct"), 0.0, 20.0, float(published.apr * 100), 0.1, key="cut_apr")
    with engine_errors():
        draft = Policy.from_dict({**published.to_dict(), "approve_cutoff": approve,
                                  "refer_cutoff": min(refer, approve), "lgd": lgd, "apr": apr / 100})
        result = curves.evaluate(draft)
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
    st.session_state["cut_draft"] = draft.to_dict()

    st.subheader(tr("compare_title", published=policy_label(in_force)))
    comparison = compare_policies(frame, draft, published)
    st.dataframe(comparison.matrix, width="content")
    show_table(comparison.changes.head(500), "decision_changes.csv", "dl_changes")


tuning()
draft = Policy.from_dict(st.session_state.get("cut_draft", published.to_dict()))
policy_actions(draft, in_force)

st.subheader(tr("swap_title"))
match = st.radio(tr("swap_match"), ["approval", "bad_rate"], horizontal=True, key="swap_match",
                 format_func=label_func("swap_match_"))
with engine_errors():
    swaps = swap_sets(frame, draft, match=match)
    bureau_pts = bureau_only_scores(frame, model.scale)
    uplift = thin_file_uplift(frame, draft, bureau_pts, model.scale)
c = st.columns(3)
c[0].metric(tr("thin_approval"), f"{uplift.thin_file_approval_rate:.1%}",
            f"{uplift.thin_file_uplift:+.1%} " + tr("vs_bureau"))
c[1].metric(tr("upgraded_share"), f"{uplift.upgraded_share_of_applicants:.1%}")
c[2].metric(tr("bureau_cutoff"), "–" if swaps.bureau_cutoff == float("inf") else f"{swaps.bureau_cutoff:.0f}")
show_table(swaps.summary.reset_index().round(4), "swap_sets.csv", "dl_swaps")

st.subheader(tr("rescue_title"))
st.caption(tr("rescue_help"))
with engine_errors():
    platform = cache.platform_only_scores(book, model)
    rescue = rescue_view(frame, draft, bureau_pts, platform)
show_table(rescue.summary.reset_index().round(4), "rescue.csv", "dl_rescue")
broken_promise = check_positive_only(rescue.merchants["positive_only_score"], rescue.merchants["bureau_only_score"])
broken_monotone = cache.monotone_violations(book, model)
c = st.columns(2)
c[0].metric(tr("check_positive_only"), f"{len(broken_promise):,}", help=tr("check_positive_only_help"))
c[1].metric(tr("check_monotone"), f"{len(broken_monotone):,}", help=tr("check_monotone_help"))
for found, name in ((broken_promise, "positive_only_violations.csv"), (broken_monotone, "monotone_violations.csv")):
    if len(found):
        show_table(found.head(1000), name, f"dl_{name}")

st.subheader(tr("segments_title"))
by = st.selectbox(tr("portfolio_group_by"), ["thin_file", "tenure_lt_12m", "category", "region"], key="seg_by",
                  format_func=label_func("segment_"))
show_table(segment_table(frame, draft, by=by, n_boot=200).round(4), f"segments_{by}.csv", "dl_segments")
