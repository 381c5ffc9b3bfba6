"""Admin: the append-only audit log in sentences (KST) and user management (ui.admin_panel)."""
from __future__ import annotations

import streamlit as st

from ui.admin_panel import render_audit_log, render_users
from ui.labels import tr
from ui.tables import show_flash

st.title(tr("nav_admin"))
show_flash()
render_audit_log()
st.subheader(tr("users_title"))
render_users()
st.caption(tr("users_cli_help"))
