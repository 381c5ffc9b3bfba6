"""The policy in force in the app, its label, and saving and publishing a draft (Cutoff tuning).

Every page asks :func:`policy_in_force` (one engine call: ``cb_core.strategy.policy_in_force``);
none reads the cutoffs from the settings.
"""
from __future__ import annotations

import streamlit as st

from cb_core.errors import ConflictError
from cb_core.strategy import DEFAULT_POLICY_NAME, Policy, PolicyInForce, policy_in_force as find_policy_in_force
from ui import cache
from ui.errors import engine_errors
from ui.labels import tr
from ui.session import can, user_name
from ui.tables import flash

POLICY_NAME = DEFAULT_POLICY_NAME
_BASE_KEY = "cut_base_version"


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


def policy_actions(draft: Policy, in_force: PolicyInForce) -> None:
    """Save the draft and publish it (``edit_policy``). The base version is the published version the
    user saw when they started; if someone publishes meanwhile, publishing is refused with the
    store's conflict message and the draft is kept. The refused user now sees the newer version, so
    it becomes their base: publishing again (after reviewing) goes through unless someone publishes
    yet again."""
    if not can("edit_policy"):
        return
    base = st.session_state.setdefault(_BASE_KEY, in_force.version)
    c = st.columns([1, 1, 3])
    save = c[0].button(tr("policy_save_draft"), key="policy_save")
    publish = c[1].button(tr("policy_publish"), type="primary", key="policy_publish")
    store = cache.store()
    if save or publish:
        with engine_errors():
            saved = store.save_draft(POLICY_NAME, draft.to_dict(), user_name(), base_version=base)
            if publish:
                try:
                    version = store.publish(POLICY_NAME, saved.id, user_name(), expected_base_version=base)
                except ConflictError:
                    # Without this the session kept the stale base and every later publish conflicted.
                    st.session_state[_BASE_KEY] = policy_in_force().version
                    raise
                st.session_state[_BASE_KEY] = version.version
                flash(tr("policy_published", version=version.version))
            else:
                flash(tr("policy_draft_saved"))
        st.rerun()
    with engine_errors():
        mine = store.draft_for(POLICY_NAME, user_name())
    c[2].caption(tr("policy_base", base=base if base is not None else "–") +
                 ("" if mine is None else " · " + tr("policy_has_draft", at=f"{mine.updated_at:%Y-%m-%d %H:%M}")))
