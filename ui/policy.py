"""The policy in force for the app: the published version from the store, else the settings."""
from __future__ import annotations

from cb_core.strategy import Policy
from ui.common import tr

POLICY_NAME = "default"


def current_policy() -> tuple[Policy, str]:
    """(policy, label): the latest published version of the default policy, or the settings' cutoffs."""
    try:
        from cb_core.store import get_store
    except ImportError:
        return Policy.from_settings(), tr("policy_from_settings")
    published = get_store().published_policy(POLICY_NAME)
    if published is None:
        return Policy.from_settings(), tr("policy_from_settings")
    return Policy.from_dict(published.payload), tr("policy_version", version=published.version)


def policy_actions(draft: Policy) -> None:
    """Save the draft / publish it (for roles allowed); filled in with the store."""
    import streamlit as st

    st.caption(tr("policy_store_pending"))
