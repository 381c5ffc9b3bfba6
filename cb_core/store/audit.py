"""The audit log: append-only, read by admins.

Verbs that change the store write their own entry in the same transaction as the change (through
the gateway's ``write_audit``). :func:`audit` records an event that changes nothing else in the
store (an export, a data load); :func:`audit_log` reads. No verb changes or removes an entry, and
the database refuses it too (triggers created by the first migration).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ._actor import actor_name
from ._gateway import write_audit
from ._values import check_filters
from .records import AuditEntry, User
from .tables import AuditRow

__all__ = ["AUDIT_FILTERS", "audit", "audit_log"]

AUDIT_FILTERS = ("user", "action", "entity", "entity_id", "since", "until")


def audit(session: Session, user: User | str, action: str, entity: str, entity_id: Any = None, before: Any = None,
          after: Any = None) -> AuditEntry:
    """Append an entry for something that changes nothing else in the store (an export, a data load)."""
    row = write_audit(session, actor_name(user), action, entity, entity_id, before, after)
    session.flush()
    return AuditEntry.of(row)


def audit_log(session: Session, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[AuditEntry]:
    """Audit entries newest first, at most ``limit``; read-only.

    ``filters`` keys: user, action, entity, entity_id, since, until (aware datetimes, inclusive).
    """
    f = check_filters(filters, AUDIT_FILTERS, limit)
    query = select(AuditRow)
    for key, column in {"user": AuditRow.user_name, "action": AuditRow.action, "entity": AuditRow.entity}.items():
        if key in f:
            query = query.where(column == f[key])
    if "entity_id" in f:
        query = query.where(AuditRow.entity_id == str(f["entity_id"]))
    if "since" in f:
        query = query.where(AuditRow.at >= f["since"])
    if "until" in f:
        query = query.where(AuditRow.at <= f["until"])
    query = query.order_by(AuditRow.id.desc()).limit(limit)
    return [AuditEntry.of(r) for r in session.scalars(query)]
