"""The policy in force in the app, its label, and the drafts of Cutoff tuning: save, list, reopen,
discard, and publish after a confirmation with the impact and a note.

Every page asks :func:`policy_in_force` (one engine call: ``cb_core.strategy.policy_in_force``);
none reads the cutoffs from the settings.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.errors import ConflictError
from cb_core.store import PolicyVersion
from cb_core.strategy import (DEFAULT_POLICY_NAME, Policy, PolicyInForce, policy_in_force as find_policy_in_force,
                              publication_impact)
from ui import cache
from ui.errors import engine_errors
from ui.labels import krw, kst, pct, tr
from ui.session import can, user_name
from ui.tables import flash

POLICY_NAME = DEFAULT_POLICY_NAME
_BASE_KEY = "cut_base_version"
_PAYLOAD_KEY = "cut_payload"      # a reopened draft's payload: what the sliders edit
_CONFIRM_KEY = "policy_confirming"


def policy_in_force() -> PolicyInForce:
    """The latest published version of the app's policy, or the settings' defaults.

    Read from the store on each call (one small query), not cached across runs: a version may be
    published by any process, and a page must never decide on a superseded one. Call it once per
    page run and hand the result to the panels.
    """
    with engine_errors():
        return find_policy_in_force(cache.store(), POLICY_NAME)


def policy_label(in_force: PolicyInForce) -> str:
    """"published policy v3" / "default settings (no published policy)" in the session's language."""
    if in_force.version is None:
        return tr("policy_from_settings")
    return tr("policy_version", version=in_force.version)


def draft_payload(in_force: PolicyInForce) -> dict:
    """What the sliders edit: a reopened draft's payload (its overrides and grades kept), else the
    published policy's."""
    return st.session_state.get(_PAYLOAD_KEY) or in_force.policy.to_dict()


def policy_actions(draft: Policy, in_force: PolicyInForce, frame) -> None:
    """Save the draft, list the open drafts (reopen into the sliders, discard one's own), and publish
    after a confirmation with the impact summary and a required note (``edit_policy``).

    The base version is the published version the user saw when they started (or the reopened
    draft's base); if someone publishes meanwhile, publishing is refused with the store's conflict
    message and the draft is kept. The refused user now sees the newer version, so it becomes their
    base: publishing again (after reviewing) goes through unless someone publishes yet again."""
    if not can("edit_policy"):
        return
    base = st.session_state.setdefault(_BASE_KEY, in_force.version)
    c = st.columns([1, 1, 3])
    save = c[0].button(tr("policy_save_draft"), key="policy_save")
    if c[1].button(tr("policy_publish"), type="primary", key="policy_publish"):
        st.session_state[_CONFIRM_KEY] = True
    store = cache.store()
    if save:
        with engine_errors():
            store.save_draft(POLICY_NAME, draft.to_dict(), user_name(), base_version=base)
        flash(tr("policy_draft_saved"))
        st.rerun()
    with engine_errors():
        mine = store.draft_for(POLICY_NAME, user_name())
    c[2].caption(tr("policy_base", base=base if base is not None else "–") +
                 ("" if mine is None else " · " + tr("policy_has_draft", at=kst(mine.updated_at))))
    if st.session_state.get(_CONFIRM_KEY):
        _confirm_publish(draft, in_force, frame, base)
    _drafts(in_force)


def _confirm_publish(draft: Policy, in_force: PolicyInForce, frame, base: int | None) -> None:
    with st.container(border=True):
        st.subheader(tr("policy_confirm_title", published=policy_label(in_force)))
        with engine_errors():
            impact = publication_impact(frame, draft, in_force.policy)
        t = impact.table
        k = st.columns(5)
        k[0].metric(tr("approval_rate"), pct(t.at["approval_rate", "draft"]),
                    pct(t.at["approval_rate", "change"], signed=True))
        k[1].metric(tr("expected_bad_rate"), pct(t.at["expected_bad_rate", "draft"], 2),
                    pct(t.at["expected_bad_rate", "change"], 2, signed=True), delta_color="inverse")
        k[2].metric(tr("expected_loss"), krw(t.at["expected_loss_krw", "draft"], short=True),
                    krw(t.at["expected_loss_krw", "change"], short=True), delta_color="inverse")
        k[3].metric(tr("profit"), krw(t.at["profit_krw", "draft"], short=True), krw(t.at["profit_krw", "change"], short=True))
        k[4].metric(tr("policy_n_changed"), f"{impact.n_changed:,}")
        note = st.text_area(tr("policy_note"), key="policy_note", max_chars=2000)
        b = st.columns([1, 1, 3])
        confirm = b[0].button(tr("policy_confirm"), type="primary", key="policy_confirm")
        if b[1].button(tr("policy_cancel"), key="policy_cancel"):
            st.session_state[_CONFIRM_KEY] = False
            st.rerun()
    if not confirm:
        return
    if not note.strip():
        st.error(tr("policy_note_required"), icon="⚠️")  # nothing saved or published
        return
    store = cache.store()
    with engine_errors():
        saved = store.save_draft(POLICY_NAME, draft.to_dict(), user_name(), base_version=base)
        try:
            version = store.publish(POLICY_NAME, saved.id, user_name(), expected_base_version=base, note=note.strip())
        except ConflictError:
            # Without this the session kept the stale base and every later publish conflicted.
            st.session_state[_BASE_KEY] = policy_in_force().version
            raise
    st.session_state[_BASE_KEY] = version.version
    st.session_state[_CONFIRM_KEY] = False
    st.session_state.pop(_PAYLOAD_KEY, None)
    flash(tr("policy_published", version=version.version))
    st.rerun()


def _reopen(draft: PolicyVersion) -> None:
    """Button callback (before the widgets of the next run exist): the draft into the sliders."""
    policy = Policy.from_dict(draft.payload)
    st.session_state.update({"cut_approve": int(policy.approve_cutoff), "cut_refer": int(policy.refer_cutoff),
                             "cut_lgd": float(policy.lgd), "cut_apr": float(policy.apr * 100),
                             _PAYLOAD_KEY: draft.payload, _BASE_KEY: draft.based_on_version})


def _drafts(in_force: PolicyInForce) -> None:
    """Open drafts of every user (author, time, base version, cutoffs); reopen any, discard one's own."""
    store = cache.store()
    with engine_errors():
        drafts = store.open_drafts(POLICY_NAME)
    st.subheader(tr("policy_drafts"))
    if not drafts:
        st.caption(tr("policy_no_drafts"))
        return
    rows = {d.id: d for d in drafts}
    st.dataframe(pd.DataFrame([{tr("policy_draft_author"): d.created_by,
                                tr("policy_draft_at"): kst(d.updated_at),
                                tr("policy_draft_base"): "–" if d.based_on_version is None else f"v{d.based_on_version}",
                                tr("approve_cutoff"): d.payload.get("approve_cutoff"),
                                tr("refer_cutoff"): d.payload.get("refer_cutoff")} for d in drafts]),
                 hide_index=True, width="stretch")
    c = st.columns([3, 1, 1])
    picks = {i: f"{d.created_by} · {kst(d.updated_at)}" for i, d in rows.items()}  # bound now, in this run
    chosen = c[0].selectbox(tr("policy_draft_pick"), list(rows), key="policy_draft_pick", format_func=picks.get)
    if chosen is None:
        return
    c[1].button(tr("policy_reopen"), key="policy_reopen", on_click=_reopen, args=(rows[chosen],))
    if c[2].button(tr("policy_discard"), key="policy_discard", disabled=rows[chosen].created_by != user_name()):
        with engine_errors():
            store.discard_draft(chosen, user_name())
        flash(tr("policy_discarded"))
        st.rerun()
