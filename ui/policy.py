"""The policy in force for the app: the published version from the store, else the settings."""
from __future__ import annotations

from cb_core.strategy import Policy
from ui.common import engine_errors, flash, role, tr, user_name

POLICY_NAME = "default"


def published_version():
    """The latest published version record of the default policy, or None."""
    from ui.engine import store

    with engine_errors():
        return store().published_policy(POLICY_NAME)


def current_policy() -> tuple[Policy, str]:
    """(policy, label): the latest published version of the default policy, or the settings' cutoffs."""
    published = published_version()
    if published is None:
        return Policy.from_settings(), tr("policy_from_settings")
    return Policy.from_dict(published.payload), tr("policy_version", version=published.version)


def policy_actions(draft: Policy) -> None:
    """Save the draft and publish it (pm and admin). The base version is the published version the
    user saw when they started; if someone publishes meanwhile, publishing is refused with the
    store's conflict message and the draft is kept. The refused user now sees the newer version, so
    it becomes their base: publishing again (after reviewing) goes through unless someone publishes
    yet again."""
    import streamlit as st

    from cb_core.errors import ConflictError
    from ui.engine import store

    if role() not in ("pm", "admin"):
        return
    seen = published_version()
    base = st.session_state.setdefault("cut_base_version", None if seen is None else seen.version)
    c = st.columns([1, 1, 3])
    save = c[0].button(tr("policy_save_draft"), key="policy_save")
    publish = c[1].button(tr("policy_publish"), type="primary", key="policy_publish")
    if save or publish:
        with engine_errors():
            saved = store().save_draft(POLICY_NAME, draft.to_dict(), user_name(), base_version=base)
            if publish:
                try:
                    version = store().publish(POLICY_NAME, saved.id, user_name(), expected_base_version=base)
                except ConflictError:
                    # Without this the session kept the stale base and every later publish conflicted.
                    latest = published_version()
                    st.session_state["cut_base_version"] = None if latest is None else latest.version
                    raise
                st.session_state["cut_base_version"] = version.version
                flash(tr("policy_published", version=version.version))
            else:
                flash(tr("policy_draft_saved"))
        st.rerun()
    mine = store().draft_for(POLICY_NAME, user_name())
    c[2].caption(tr("policy_base", base=base if base is not None else "–") +
                 ("" if mine is None else " · " + tr("policy_has_draft", at=f"{mine.updated_at:%Y-%m-%d %H:%M}")))
