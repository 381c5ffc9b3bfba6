"""Admin: the append-only audit log, filtered; users at a glance. Nothing here edits or deletes."""
from __future__ import annotations

from datetime import datetime, time, timezone

import pandas as pd
import streamlit as st

from ui.cache import store
from ui.errors import engine_errors
from ui.labels import tr
from ui.tables import show_table
from ui.text import show_frame

st.title(tr("nav_admin"))
c = st.columns(4)
who = c[0].text_input(tr("audit_user"), key="au_user").strip()
action = c[1].text_input(tr("audit_action"), key="au_action", help=tr("audit_action_help")).strip()
since = c[2].date_input(tr("audit_since"), value=None, key="au_since")
limit = c[3].number_input(tr("audit_limit"), 10, 100_000, 1000, 100, key="au_limit")
filters = {**({"user": who} if who else {}), **({"action": action} if action else {}),
           **({"since": datetime.combine(since, time.min, tzinfo=timezone.utc)} if since else {})}
with engine_errors():
    entries = store().audit_log(filters, limit=int(limit))
st.caption(tr("audit_count", n=f"{len(entries):,}"))
if entries:
    show_table(pd.DataFrame([{tr("decision_id"): e.id, tr("decision_at"): f"{e.at:%Y-%m-%d %H:%M:%S}",
                              tr("audit_user"): e.user, tr("audit_action"): e.action, tr("audit_entity"): e.entity,
                              tr("audit_entity_id"): e.entity_id or "", tr("audit_before"): "" if e.before is None else str(e.before),
                              tr("audit_after"): "" if e.after is None else str(e.after)} for e in entries]),
               "audit_log.csv", "dl_audit")

st.subheader(tr("users_title"))
with engine_errors():
    users = store().list_users()
show_frame(pd.DataFrame([{tr("login_user"): u.name, tr("users_role"): tr(f"role_{u.role}"), tr("users_partner"): u.partner or "",
                            tr("users_disabled"): u.disabled, tr("users_locked_until"): "" if u.locked_until is None else f"{u.locked_until:%Y-%m-%d %H:%M}"}
                           for u in users]))
st.caption(tr("users_cli_help"))
