"""The decision form and the merchant's decision history (Merchant review)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.explain import MerchantExplanation
from cb_core.errors import PolicyError
from cb_core.strategy import DECISIONS, PolicyInForce, check_decision_note
from ui import cache
from ui.errors import engine_errors
from ui.labels import kst, label_func, tr
from ui.session import can, user_name
from ui.tables import flash, show_table


def render_decision(merchant_id: str, ex: MerchantExplanation, model_version: str, in_force: PolicyInForce,
                    policy_decision: str | None):
    """Record a decision (``decide``) with the score, reasons and the policy version in force
    (``in_force``, read in this run); a new decision supersedes the current one, nothing is edited or
    deleted. Returns the current decision (or None).

    The form presets ``policy_decision`` (what the policy in force decides for this merchant's score,
    segment cutoffs included), or nothing when there is none; a decision other than it is refused
    without a note (``check_decision_note``) and nothing is saved.

    The decision superseded is the one the form showed when the officer filled it in (kept in session
    state from the previous run), and the store refuses it with a conflict if another officer decided
    in between; re-reading it at submit time silently replaced decisions nobody had seen, and two
    first decisions at once started two chains (seen under load, bench/bench_load.py)."""
    st.subheader(tr("decision_title"))
    with engine_errors():
        history = cache.store().decisions_for(merchant_id)
    current = next((d for d in reversed(history) if d.superseded_by_id is None), None)
    shown_key = f"decision_shown_{merchant_id}"
    shown = st.session_state.get(shown_key, None if current is None else current.id)
    st.session_state[shown_key] = None if current is None else current.id
    if can("decide"):
        # Fresh widgets per merchant and per saved decision (keys carry both): a keyed widget's state
        # outlives its form, and one shared radio across merchants once stored another choice than
        # the form showed under load. A refused save keeps what the officer typed.
        generation = st.session_state.get(f"decision_gen_{merchant_id}", 0)
        suffix = f"{merchant_id}_{generation}"
        preset = DECISIONS.index(policy_decision) if policy_decision in DECISIONS else None
        with st.form(f"decision_{suffix}"):
            choice = st.radio(tr("decision_choice"), DECISIONS, horizontal=True, key=f"decision_choice_{suffix}",
                              format_func=label_func("decision_"), index=preset)
            st.caption(tr("decision_policy_says", decision=tr(f"decision_{policy_decision}")) if preset is not None
                       else tr("decision_policy_silent"))
            note = st.text_area(tr("decision_note"), key=f"decision_note_{suffix}", max_chars=2000)
            if current is not None:
                st.caption(tr("decision_supersedes", id=current.id, decision=tr(f"decision_{current.decision}")))
            submitted = st.form_submit_button(tr("decision_save"), type="primary")
        refusal = _refusal(choice, policy_decision, note) if submitted else None
        if refusal:
            st.error(refusal, icon="⚠️")  # nothing is saved; the form keeps what the officer typed
        elif submitted:
            note_text = note.strip()
            reasons = [{"feature": r.feature, "delta_points": round(float(r.delta_points), 2), "reason": r.reason}
                       for r in ex.reasons.itertuples()]
            with engine_errors():
                saved = cache.store().save_decision(
                    merchant_id, choice, note_text, user_name(), ex.score, ex.grade, ex.pd, reasons,
                    in_force.name if in_force.published else None, in_force.version, model_version,
                    supersedes=shown, require_current=True)
            st.session_state[f"decision_gen_{merchant_id}"] = generation + 1
            flash(tr("decision_saved", id=saved.id))
            st.rerun()
    if history:
        table = pd.DataFrame([{tr("decision_id"): d.id, tr("decision_at"): kst(d.created_at),
                               tr("decision_user"): d.user, tr("decision_choice"): tr(f"decision_{d.decision}"),
                               tr("review_score"): d.score, tr("review_grade"): d.grade,
                               tr("decision_policy"): "–" if d.policy_version is None else f"v{d.policy_version}",
                               tr("decision_note"): d.note,
                               tr("decision_superseded_by"): "" if d.superseded_by_id is None else str(d.superseded_by_id)} for d in reversed(history)])
        show_table(table, f"decisions_{merchant_id}.csv", "dl_decisions")
    return current


def _refusal(choice: str | None, policy_decision: str | None, note: str) -> str | None:
    """Why the engine's rule (``check_decision_note``) refuses this decision, in the user's language."""
    try:
        check_decision_note(choice, policy_decision, note)
    except PolicyError:
        if choice is None:
            return tr("decision_choose")
        return tr("decision_note_required", choice=tr(f"decision_{choice}"),
                  policy=tr(f"decision_{policy_decision}") if policy_decision else "–")
    return None
