"""Cutoff tuning's figures of the draft on screen: swap sets, thin-file uplift, the rescue view and
the positive-only check, inclusion by segment.

Each takes the draft from the sliders of the same run (they are drawn inside the page's fragment),
so every figure describes the cutoffs on screen after every move. They read the page's
:class:`~cb_core.strategy.TuningBook` (:func:`ui.cache.tuning_book`): both frames, the fitted
bureau-only and platform-only scores and the segment codes prepared once per book and model, so a
move costs a few array passes. Only the bootstrap intervals are for the last *applied* draft, which
the page says, with a button to apply.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.strategy import Policy, TuningBook, aligned_segment_table
from ui.charts_report import INTERVAL_RATES, interval_figure
from ui.errors import engine_errors
from ui.display import segment_label, show_present, value_label
from ui.labels import count, label_func, number, pct, tr
from ui.session import translated_picker

#: Units of the columns of the swap, rescue and segment tables (ui.display).
GROUP_UNITS = {"n": "count", "share": "pct", "expected_bad_rate": "pct2", "observed_bad_rate": "pct2",
               "n_with_outcome": "count", "n_thin_file": "count", "n_approved": "count", "approval_rate": "pct",
               "n_approved_with_outcome": "count"}
INTERVAL_UNITS = {f"{rate}_{end}": "pct" if rate == "approval_rate" else "pct2"
                  for rate in ("approval_rate", "expected_bad_rate", "observed_bad_rate") for end in ("low", "high")}
POSITIVE_ONLY_UNITS = {"final_score": "num1", "bureau_only_score": "num1", "shortfall_points": "num2"}

_APPLIED_KEY = "seg_applied"  # (policy dict, by) -> bootstrap table of the last applied draft


def render_bureau(book: TuningBook, draft: Policy) -> None:
    """Swap sets against the bureau score and the thin-file uplift, for ``draft``."""
    st.subheader(tr("swap_title"))
    match = st.radio(tr("swap_match"), ["approval", "bad_rate"], horizontal=True, key="swap_match",
                     format_func=label_func("swap_match_"))
    st.caption(tr("observed_at_decision_caption"))
    with engine_errors():
        swaps = book.swap_sets(draft, match)
        uplift = book.uplift(draft)
    c = [*st.columns(3), *st.columns(3)]  # two rows of three: five long labels clipped in one row at 1440 px
    c[0].metric(tr("thin_approval"), pct(uplift.thin_file_approval_rate),
                pct(uplift.thin_file_uplift, signed=True) + " " + tr("vs_bureau"))
    c[1].metric(tr("upgraded_share"), pct(uplift.upgraded_share_of_applicants))
    c[2].metric(tr("bureau_cutoff"), number(swaps.bureau_cutoff))  # inf (no cutoff) shows as "–"
    c[3].metric(tr("swap_in_count"), count(swaps.summary.loc["swap_in", "n"]))
    c[4].metric(tr("swap_out_count"), count(swaps.summary.loc["swap_out", "n"]))
    show_present(_groups(swaps.summary), GROUP_UNITS, "swap_sets.csv", "dl_swaps", {"group": value_label})


def render_rescue(book: TuningBook, draft: Policy) -> None:
    """The positive-only option, the two-stage rescue and the positive-only promise check, for ``draft``."""
    st.subheader(tr("rescue_title"))
    st.caption(tr("rescue_help"))
    with engine_errors():
        summary = book.rescue(draft)
    show_present(_groups(summary), GROUP_UNITS, "rescue.csv", "dl_rescue", {"group": value_label})
    # final = max(our score, bureau-only score) whatever the cutoffs: checked once per book and model
    broken = book.positive_only_violations
    st.metric(tr("check_positive_only"), count(0 if broken is None else len(broken)), help=tr("check_positive_only_help"))
    if broken is not None and len(broken):
        show_present(broken.head(1000), POSITIVE_ONLY_UNITS, "positive_only_violations.csv",
                     "dl_positive_only_violations.csv")


def _groups(summary: pd.DataFrame) -> pd.DataFrame:
    """A swap or rescue summary with its set names in a ``group`` column."""
    return summary.rename_axis("group").reset_index()


def render_segments(book: TuningBook, draft: Policy) -> None:
    """Rates by segment for ``draft`` (O(n) a move); bootstrap intervals for the last applied draft."""
    st.subheader(tr("segments_title"))
    by = st.selectbox(tr("portfolio_group_by"), ["thin_file", "tenure_lt_12m", "category", "region"], key=translated_picker("seg_by"),
                      format_func=label_func("segment_"))
    with engine_errors():
        rates = book.segment_rates(draft, by)
        show_present(rates, GROUP_UNITS, f"segments_{by}.csv", "dl_segments", {by: segment_label(by)})
    applied = st.session_state.get(_APPLIED_KEY)
    if applied is None or applied[1] != by:
        applied = (draft.to_dict(), by, None)
    if st.button(tr("segments_apply"), key="seg_apply", disabled=applied[2] is not None and applied[0] == draft.to_dict()):
        applied = (draft.to_dict(), by, None)
    if applied[2] is None:
        with engine_errors():
            shown_policy = Policy.from_dict(applied[0])
            seen = None if book.seen is None else book.seen.frame
            table = aligned_segment_table(book.today.frame, seen, shown_policy, by=by, n_boot=200)
            applied = (applied[0], by, table)
        st.session_state[_APPLIED_KEY] = applied
    shown = Policy.from_dict(applied[0])
    st.caption(tr("segments_intervals_current") if applied[0] == draft.to_dict() else
               tr("segments_intervals_stale", approve=int(shown.approve_cutoff), refer=int(shown.refer_cutoff)))
    interval_columns = [by, *[c for c in applied[2].columns if c.endswith(("_low", "_high"))]]
    show_present(applied[2][interval_columns], INTERVAL_UNITS, f"segment_intervals_{by}.csv", "dl_segment_intervals",
                 {by: segment_label(by)})
    st.plotly_chart(interval_figure(applied[2], by, segment_label(by), {
        "title": tr("chart_intervals_current" if applied[0] == draft.to_dict() else "chart_intervals_stale",
                    approve=int(shown.approve_cutoff), refer=int(shown.refer_cutoff)),
        "x": tr("chart_intervals_x"), "interval": tr("chart_interval"),
        **{rate: tr(rate) for rate in INTERVAL_RATES}}), width="stretch", key="seg_interval_chart")
