"""Cutoff tuning: move the cutoffs, watch approval, bad rate, loss, revenue; compare; publish."""
from __future__ import annotations

import hashlib

import streamlit as st

from cb_core.strategy import DECISIONS, Policy
from ui import cache
from ui.charts import curves_figure
from ui.cutoff_panels import render_bureau, render_rescue, render_segments
from ui.errors import engine_errors, require_book_and_model
from ui.display import decision_matrix, decision_word, show_present, value_label
from ui.labels import count, krw, pct, tr
from ui.policy import draft_payload, policy_actions, policy_in_force, policy_label
from ui.session import lang
from ui.tables import show_flash
from ui.text import show_frame

MONOTONE_UNITS = {"risk_direction": "num", "rows_checked": "count", "rows_violating": "count", "worst_move": "num3",
                  "value_from": "num2", "value_to": "num2"}
CHANGES_SHOWN = 500  # merchants who change decision, best score first
_FIGURE_KEY = "cut_curves_figure"  # (curves key, figure) of this session

st.title(tr("nav_cutoffs"))
show_flash()
book, model = require_book_and_model()
in_force = policy_in_force()  # the baseline the draft is compared with
published = in_force.policy
with engine_errors():
    # both frames prepared once per book and model: each figure below is a few array passes a move
    tuning_book = cache.tuning_book(book, model)


def _curves_chart(table, approve: int):
    """The curves over every cutoff, redrawn only when the curves change (economics, overrides,
    language); an approve-cutoff move only moves the dashed line to the slider."""
    labels = {"approval": tr("approval_rate"), "bad": tr("expected_bad_rate"), "profit": tr("profit"),
              "loss": tr("expected_loss"), "x": tr("approve_cutoff")}
    drawn = table[["approve_cutoff", "approval_rate", "expected_bad_rate", "profit_krw", "expected_loss_krw"]]
    key = (hashlib.sha256(drawn.to_numpy().tobytes()).hexdigest(), tuple(labels.values()))
    kept = st.session_state.get(_FIGURE_KEY)
    if kept is None or kept[0] != key:
        kept = (key, curves_figure(table, approve, labels, lang()))
        st.session_state[_FIGURE_KEY] = kept
    else:
        kept[1].update_shapes(x0=approve, x1=approve, selector={"type": "line"})  # the cutoff lines
    return kept[1]


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
        result, base = tuning_book.result(draft), tuning_book.result(published)
        table = tuning_book.table(draft, step=5)
        comparison = tuning_book.comparison(draft, published, limit=CHANGES_SHOWN)
    k = st.columns(4)
    k[0].metric(tr("approval_rate"), pct(result.approval_rate),
                pct(result.approval_rate - base.approval_rate, signed=True))
    k[1].metric(tr("refer_rate"), pct(result.refer_rate))
    k[2].metric(tr("expected_bad_rate"), pct(result.expected_bad_rate, 2),
                pct(result.expected_bad_rate - base.expected_bad_rate, 2, signed=True), delta_color="inverse")
    k[3].metric(tr("observed_bad_rate"), "–" if result.n_approved_with_outcome == 0 else pct(result.observed_bad_rate, 2),
                help=tr("observed_help", n=count(result.n_approved_with_outcome)))
    k = st.columns(4)
    k[0].metric(tr("expected_loss"), krw(result.expected_loss_krw, short=True))
    k[1].metric(tr("interest_revenue"), krw(result.interest_revenue_krw, short=True))
    k[2].metric(tr("broker_fee_revenue"), krw(result.broker_fee_revenue_krw, short=True))
    k[3].metric(tr("profit"), krw(result.profit_krw, short=True))
    st.plotly_chart(_curves_chart(table, approve), width="stretch")

    st.subheader(tr("compare_title", published=policy_label(in_force)))
    show_frame(decision_matrix(comparison.matrix), width="content")
    words = {d: decision_word(d) for d in DECISIONS}  # once a run, not twice per row
    show_present(comparison.changes, {"score": "score"}, "decision_changes.csv", "dl_changes",
                 {"old": words.__getitem__, "new": words.__getitem__})
    policy_actions(draft, in_force, tuning_book.today.frame)
    # every figure below is of the draft on screen: the fragment reruns them with the sliders
    render_bureau(tuning_book, draft)
    render_rescue(tuning_book, draft)
    render_segments(tuning_book, draft)


tuning()
broken_monotone = cache.monotone_violations(book, model)
st.subheader(tr("check_monotone"))
st.caption(tr("check_monotone_model"))  # a property of the model: the same for every cutoff
st.metric(tr("check_monotone"), count(len(broken_monotone)), help=tr("check_monotone_help"))
if len(broken_monotone):
    show_present(broken_monotone.head(1000), MONOTONE_UNITS, "monotone_violations.csv", "dl_monotone_violations.csv",
                 {"feature": value_label})
