"""The admin page's panels: the audit log as sentences in the user's language (times in KST), and
user management (add, disable / enable, reset password, change role and partner) through the
store's verbs, each audited by the store with the signed-in admin as the actor.

The CSV of the audit log keeps the raw entries (action codes, JSON before/after, UTC times).
"""
from __future__ import annotations

import json
from datetime import datetime, time, timezone
from typing import Any

import pandas as pd
import streamlit as st

from cb_core.access import ROLES, can
from cb_core.i18n import strings
from ui.brokerage import catalog_in_use
from ui.cache import store
from ui.display import decision_word, value_label
from ui.errors import engine_errors
from ui.labels import count, kst, label_func, tr
from ui.session import lang, translated_picker, user_name
from ui.tables import download_csv, flash
from ui.text import plain, show_frame

#: Audit actions the app writes (the store's verbs and the app's own), for the filter.
ACTIONS: tuple[str, ...] = (
    "login", "login.failed", "logout", "user.add", "user.disable", "user.enable", "user.reset_password", "user.role",
    "user.unlock", "decision.save", "request.open", "request.update", "policy.draft", "policy.discard_draft",
    "policy.publish", "products.save", "data.load", "export.csv", "export.explanation", "partner_report.export")
#: Fields of an entry's before/after shown in its details (the rest is in the CSV).
DETAIL_FIELDS: tuple[str, ...] = ("role", "partner", "disabled", "reason", "merchant_id", "decision", "score", "grade",
                                  "note", "version", "based_on_version", "kind", "status", "due_at", "rows", "merchants",
                                  "lock_bypassed", "failed_logins")


def _key(action: str) -> str:
    return action.replace(".", "_")


def action_name(action: str) -> str:
    """An action code as a short name (``user.add`` -> 사용자 추가)."""
    key = f"audit_act_{_key(action)}"
    return tr(key) if key in strings() else action


def _value(field: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return tr("yes") if value else tr("no")
    if field == "role":
        return tr(f"role_{value}") if f"role_{value}" in strings() else str(value)
    if field == "decision":
        return decision_word(value)
    if field in ("kind", "status"):
        key = f"{'request' if field == 'kind' else 'status'}_{value}"
        return tr(key) if key in strings() else str(value)
    if field == "reason":
        code = str(value).replace(" ", "_").replace(";", "")
        return value_label(code) if f"val_{code}" in strings() else str(value)
    if field == "due_at":
        return kst(value)
    if isinstance(value, (int, float)):
        return count(value) if float(value).is_integer() else f"{value:,.2f}"
    return plain(value, 80) if isinstance(value, str) else "…"


def _field(field: str) -> str:
    key = f"audit_field_{field}"
    return tr(key) if key in strings() else value_label(field)


def details(before: Any, after: Any) -> str:
    """What an entry changed, in words: ``역할: 상품 관리자 → 심사역``, ``사유: 비밀번호 틀림``."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    parts = []
    for field in DETAIL_FIELDS:
        if field not in before and field not in after:
            continue
        if field in before and field in after and before[field] != after[field]:
            parts.append(f"{_field(field)}: {_value(field, before[field])} → {_value(field, after[field])}")
        elif field in after:
            parts.append(f"{_field(field)}: {_value(field, after[field])}")
    changes = after.get("changes") if isinstance(after.get("changes"), dict) else {}
    for kind in ("added", "changed", "removed"):
        if changes.get(kind):
            parts.append(f"{tr(f'prodcat_col_{kind}')}: {', '.join(map(str, changes[kind]))}")
    return " · ".join(parts)


def actor(name: str) -> str:
    """Who did it: a user name, or the command line / the app itself (``system``)."""
    return tr("audit_system") if name == "system" else name


def sentence(entry: Any) -> str:
    """One audit entry as a sentence in the user's language."""
    key = f"audit_do_{_key(entry.action)}"
    target = "" if entry.entity_id is None else str(entry.entity_id)
    if key in strings():
        return tr(key, actor=actor(entry.user), target=target)
    return tr("audit_do_other", actor=actor(entry.user), action=action_name(entry.action), target=target)


def render_audit_log() -> None:
    """Filters, the log as sentences, and the raw log as CSV."""
    c = st.columns(4)
    who = c[0].text_input(tr("audit_user"), key="au_user").strip()
    names = {"": tr("audit_all_actions"), **{a: action_name(a) for a in ACTIONS}}  # bound now: see label_func
    action = c[1].selectbox(tr("audit_action"), list(names), key=translated_picker("au_action"), format_func=names.get)
    since = c[2].date_input(tr("audit_since"), value=None, key="au_since", format="YYYY-MM-DD")
    limit = c[3].number_input(tr("audit_limit"), 10, 100_000, 1000, 100, key="au_limit")
    filters = {**({"user": who} if who else {}), **({"action": action} if action else {}),
               **({"since": datetime.combine(since, time.min, tzinfo=timezone.utc)} if since else {})}
    with engine_errors():
        entries = store().audit_log(filters, limit=int(limit))
    st.caption(tr("audit_count", n=count(len(entries))))
    if not entries:
        return
    show_frame(pd.DataFrame([{tr("decision_id"): e.id, tr("audit_at_kst"): kst(e.at, seconds=True),
                              tr("audit_user"): actor(e.user), tr("audit_what"): sentence(e),
                              tr("audit_details"): details(e.before, e.after)} for e in entries]))
    raw = pd.DataFrame([{"id": e.id, "at_utc": pd.Timestamp(e.at).isoformat(), "user": e.user, "action": e.action,
                         "entity": e.entity, "entity_id": e.entity_id or "",
                         "before": "" if e.before is None else json.dumps(e.before, ensure_ascii=False, default=str),
                         "after": "" if e.after is None else json.dumps(e.after, ensure_ascii=False, default=str)}
                        for e in entries])
    download_csv(raw, "audit_log.csv", "dl_audit")


def belongs_to_a_partner(role: str) -> bool:
    """Whether a user of ``role`` sees one partner's view only (so it needs the partner it belongs to)."""
    return can(role, "view_partner") and not can(role, "all_partners")


def _partners() -> dict[str, str]:
    """Partner key -> its name in the session's language (from the catalog in use)."""
    _version, products = catalog_in_use()
    names = products.drop_duplicates("partner").set_index("partner")
    column = "partner_ko" if lang() == "ko" and "partner_ko" in names.columns else None
    return {p: str(names.loc[p, column]) if column else str(p) for p in names.index}


def render_users() -> None:
    """Add a user; disable / enable, reset the password of, or change the role of one; then the list."""
    partners = {"": tr("users_no_partner"), **_partners()}
    with st.expander(tr("users_add_title")), st.form("user_add", clear_on_submit=True):
        c = st.columns(4)
        name = c[0].text_input(tr("login_user"), key="ua_name")
        role = c[1].selectbox(tr("users_role"), ROLES, key=translated_picker("ua_role"), format_func=label_func("role_"))
        partner = c[2].selectbox(tr("users_partner"), list(partners), key=translated_picker("ua_partner"), format_func=partners.get,
                                 help=tr("users_partner_help"))
        password = c[3].text_input(tr("users_password"), type="password", key="ua_password", help=tr("users_password_help"))
        if st.form_submit_button(tr("users_add"), type="primary"):
            added = None
            with engine_errors(stop=False):
                added = store().add_user(name.strip(), role, (partner or None) if belongs_to_a_partner(role) else None,
                                         password or None, actor=user_name())
            if added is not None:
                user, generated = added
                st.success(tr("users_added", name=plain(user.name), role=tr(f"role_{user.role}")))
                if generated:
                    st.info(tr("users_generated_password"))
                    st.code(generated, language=None)

    with engine_errors():
        users = store().list_users()
    names = [u.name for u in users]
    if names:
        with st.expander(tr("users_manage_title"), expanded=False):
            chosen = st.selectbox(tr("login_user"), names, key="um_user")
            target = next(u for u in users if u.name == chosen)
            c = st.columns(3)
            if target.disabled:
                if c[0].button(tr("users_enable"), key="um_enable"):
                    _do("users_enabled", lambda: store().enable_user(chosen, actor=user_name()), chosen)
            elif c[0].button(tr("users_disable"), key="um_disable"):
                _do("users_disabled_done", lambda: store().disable_user(chosen, actor=user_name()), chosen)
            if c[1].button(tr("users_reset_password"), key="um_reset"):
                new_password = None
                with engine_errors(stop=False):
                    new_password = store().reset_password(chosen, actor=user_name())
                if new_password is not None:
                    st.success(tr("users_password_reset", name=plain(chosen)))
                    st.code(new_password, language=None)
            with c[2].form("user_role"):
                # one picker per language, starting at the user's role: a switch draws it anew in the new
                # language (an unsaved choice in it is dropped), since index= may not be set again
                new_role = st.selectbox(tr("users_role"), ROLES, index=ROLES.index(target.role),
                                        key=f"um_role_{lang()}", format_func=label_func("role_"))
                new_partner = st.selectbox(tr("users_partner"), list(partners), key=translated_picker("um_partner"),
                                           format_func=partners.get)
                if st.form_submit_button(tr("users_change_role")):
                    _do("users_role_changed", lambda: store().set_role(chosen, new_role, new_partner or None,
                                                                      actor=user_name()), chosen)
        with engine_errors():
            users = store().list_users()  # as they are after what was just done
    show_frame(pd.DataFrame([{tr("login_user"): u.name, tr("users_role"): tr(f"role_{u.role}"),
                              tr("users_partner"): partners.get(u.partner, u.partner) if u.partner else "–",
                              tr("users_disabled"): u.disabled, tr("users_locked_until"): kst(u.locked_until)}
                             for u in users]))


def _do(done_key: str, verb, name: str) -> None:
    """Run a store verb; done: say so and rerun (buttons and list as they are now); refused: say why
    and leave the rest of the page usable."""
    done = False
    with engine_errors(stop=False):
        verb()
        done = True
    if done:
        flash(tr(done_key, name=plain(name)))
        st.rerun()
