"""Merchant CB: routes and frames. Page config, language, first-start build, navigation."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from cb_core import workspace
from ui.auth import keep_cookie, logout, require_login
from ui.errors import engine_errors
from ui.labels import tr
from ui.nav import PAGES, pages_for
from ui.page_paths import take_missing
from ui.session import language_switch
from ui import warm
from ui.text import plain

HERE = Path(__file__).resolve().parent

# An emoji icon is drawn in the browser (a data: SVG); a :material/...: icon would be fetched from
# fonts.gstatic.com, a request to a third party on every page (and refused by the proxy's CSP).
st.set_page_config(page_title="Merchant CB", page_icon="💳", layout="wide")


def _pages(defs) -> list:
    return [st.Page(str(HERE / p.file), title=tr(p.title_key), icon=p.icon) for p in defs]


user = require_login(_pages(PAGES))
pages = _pages(pages_for(user.role))
# Widgets of the entrypoint must come after st.navigation, or they reset on every page run.
navigation = st.navigation(pages)
language_switch()
with st.sidebar:
    st.caption(tr("signed_in_as", user=plain(user.name), role=tr(f"role_{user.role}")))
    if st.button(tr("logout"), key="logout"):
        logout()
        st.rerun()
    keep_cookie()

if workspace.current_fingerprint() is None or workspace.current_model_dir() is None:
    with engine_errors(), st.status(tr("first_start_title"), expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message_key: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=tr(message_key))

        workspace.ensure_demo(progress=progress)
        bar.progress(1.0, text=tr("progress_done"))
        status.update(label=tr("first_start_done"), state="complete", expanded=False)
missing = take_missing(st.query_params)  # server.py sent a path that is no page here (ui.page_paths)
if missing is not None:
    st.warning(tr("page_missing", path=plain(missing)))
warming = warm.progress()
if warming is not None:
    st.sidebar.caption(tr("warming_up", done=warming[0], total=warming[1]))

with warm.user_run():  # the background warm-up starts no new step meanwhile
    navigation.run()
