"""Credit decisions and the audit log: both append-only.

A decision is never edited or deleted: a correction is a new decision that ``supersedes`` the old
one, so the history of a merchant is a chain. The audit log can be appended to and read, nothing
else. Neither has a verb that changes a stored row, and the database refuses it too (triggers
created by the first migration).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..errors import ConfigError, ConflictError, PolicyError
from ._gateway import aware, clean_text, finite_number, json_document
from .policies import PolicyVerbs
from .records import AuditEntry, Decision, User
from .tables import DECISIONS, NAME_LENGTH, AuditRow, DecisionRow, PolicyRow, PolicyVersionRow
from .users import _user_name

MAX_NOTE_LENGTH = 4000
MAX_LIMIT = 100_000
DECISION_FILTERS = ("merchant_id", "user", "decision", "policy_name", "policy_version", "since", "until",
                    "current_only")
AUDIT_FILTERS = ("user", "action", "entity", "entity_id", "since", "until")


def check_filters(filters: Mapping[str, Any] | None, allowed: tuple[str, ...], limit: int) -> dict[str, Any]:
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown filter(s) {', '.join(unknown)}; use {', '.join(allowed)}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be a whole number within 1–{MAX_LIMIT}; got {limit!r}")
    for key in ("since", "until"):
        if filters.get(key) is not None:
            filters[key] = aware(filters[key], key)
    return {k: v for k, v in filters.items() if v is not None}


class DecisionVerbs(PolicyVerbs):
    """Mixed into :class:`~cb_core.store.Store`."""

    # -- decisions -------------------------------------------------------------------------------
    def save_decision(self, merchant_id: str, decision: str, note: str, user: User | str, score: float,
                      grade: int, pd: float, reason_codes: Any, policy_name: str | None,
                      policy_version: int | None, model_version: str,
                      supersedes: int | Decision | None = None, *, require_current: bool = False) -> Decision:
        """Record an officer's decision with the score, reasons and policy version at this moment.

        ``policy_name``/``policy_version`` name a published version, or are both None while no
        policy is published (the default cutoffs from the settings were in force).
        ``supersedes`` (a decision id) replaces that decision of the same merchant; a decision can
        be superseded once, so corrections form a chain. ``require_current=True`` also refuses a first
        decision (``supersedes=None``) when the merchant already has a current one, so two officers
        deciding at once cannot start two chains; the app passes the decision the officer saw.
        Returns the stored decision.

        Raises ConfigError for a bad value (naming it and what was received), PolicyError for an
        unknown policy version, AuthError for an unknown or disabled user, ConflictError when the
        superseded decision was already superseded.
        """
        merchant_id = clean_text(merchant_id, "merchant_id", max_length=NAME_LENGTH)
        if decision not in DECISIONS:
            raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}")
        note = clean_text("" if note is None else note, "note", max_length=MAX_NOTE_LENGTH, allow_empty=True)
        score = finite_number(score, "score", 1, 1000)
        if isinstance(grade, bool) or not hasattr(grade, "__index__") or not 1 <= int(grade) <= 10:
            raise ConfigError(f"grade must be a whole number within 1–10; got {grade!r}")
        grade = int(grade)
        pd = finite_number(pd, "pd", 0, 1)
        reason_codes = json_document(reason_codes, "reason_codes")
        if not isinstance(reason_codes, list):
            raise ConfigError(f"reason_codes must be a list; got {type(reason_codes).__name__}")
        if (policy_name is None) != (policy_version is None):
            raise ConfigError(f"policy_name and policy_version go together; got {policy_name!r} and {policy_version!r}")
        model_version = clean_text(model_version, "model_version", max_length=128)
        supersedes_id = supersedes.id if isinstance(supersedes, Decision) else supersedes
        if supersedes_id is not None and (isinstance(supersedes_id, bool) or not isinstance(supersedes_id, int)):
            raise ConfigError(f"supersedes must be a decision id; got {supersedes!r}")
        author = _user_name(user)

        def work(session: Session) -> Decision:
            self._user_row(session, author)
            if require_current and supersedes_id is None:
                current = self._current_decision(session, merchant_id)
                if current is not None:
                    raise ConflictError(f"merchant {merchant_id!r} already has decision {current.id} "
                                        f"({current.decision}, by {current.user_name}) recorded after you opened "
                                        f"it; review it and decide again")
            policy_id = None
            if policy_name is not None:
                policy_id = session.scalar(select(PolicyRow.id).join(PolicyVersionRow).where(
                    PolicyRow.name == policy_name, PolicyVersionRow.version == policy_version))
                if policy_id is None:
                    raise PolicyError(f"policy {policy_name!r} has no published version {policy_version}")
            if supersedes_id is not None:
                old = session.get(DecisionRow, supersedes_id)
                if old is None:
                    raise ConfigError(f"there is no decision {supersedes_id} to supersede")
                if old.merchant_id != merchant_id:
                    raise ConfigError(f"decision {supersedes_id} is about merchant {old.merchant_id!r}, "
                                      f"not {merchant_id!r}")
                successor = session.scalar(select(DecisionRow.id).where(DecisionRow.supersedes_id == supersedes_id))
                if successor is not None:
                    raise ConflictError(f"decision {supersedes_id} was already superseded by decision {successor}; "
                                        f"supersede that one instead")
            row = DecisionRow(merchant_id=merchant_id, decision=decision, note=note, user_name=author,
                              created_at=aware(None), score=score, grade=grade, pd=pd, reason_codes=reason_codes,
                              policy_id=policy_id, policy_version=policy_version, model_version=model_version,
                              supersedes_id=supersedes_id)
            session.add(row)
            session.flush()
            record = Decision.of(row, policy_name)
            self._audit(session, author, "decision.save", "decision", row.id, None, _decision_summary(record))
            return record

        def on_integrity(exc: IntegrityError) -> ConflictError | None:
            if supersedes_id is None or "supersedes_id" not in str(exc.orig):
                return None
            return ConflictError(f"decision {supersedes_id} was superseded by someone else just now; "
                                 f"reload the merchant's decisions")

        return self._run(work, on_integrity=on_integrity)

    def _current_decision(self, session: Session, merchant_id: str) -> DecisionRow | None:
        """The merchant's newest decision that nothing supersedes, read under a per-merchant lock: the
        write lock on SQLite (``BEGIN IMMEDIATE``), a transaction advisory lock on PostgreSQL (a row
        lock cannot cover a decision that does not exist yet)."""
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(f"decision:{merchant_id}".encode()).digest()[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        successor = aliased(DecisionRow)
        return session.scalars(select(DecisionRow).outerjoin(successor, successor.supersedes_id == DecisionRow.id)
                               .where(DecisionRow.merchant_id == merchant_id, successor.id.is_(None))
                               .order_by(DecisionRow.id.desc()).limit(1)).one_or_none()

    @staticmethod
    def _decision_query() -> tuple[Select, Any]:
        """Decisions with their policy's name and the id of the decision that superseded them."""
        successor = aliased(DecisionRow)
        return (select(DecisionRow, PolicyRow.name, successor.id)
                .outerjoin(PolicyRow, PolicyRow.id == DecisionRow.policy_id)
                .outerjoin(successor, successor.supersedes_id == DecisionRow.id)), successor

    def decisions_for(self, merchant_id: str) -> list[Decision]:
        """Every decision about ``merchant_id``, oldest first (superseded ones included and marked)."""
        query, _ = self._decision_query()
        query = query.where(DecisionRow.merchant_id == merchant_id).order_by(DecisionRow.id)
        return self._run(lambda s: [Decision.of(r, p, n) for r, p, n in s.execute(query)], write=False)

    def list_decisions(self, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[Decision]:
        """Decisions newest first, at most ``limit``.

        ``filters`` keys: merchant_id, user, decision, policy_name, policy_version, since, until
        (aware datetimes, inclusive), current_only (True drops superseded decisions).
        """
        f = check_filters(filters, DECISION_FILTERS, limit)
        query, successor = self._decision_query()
        columns = {"merchant_id": DecisionRow.merchant_id, "user": DecisionRow.user_name,
                   "decision": DecisionRow.decision, "policy_name": PolicyRow.name,
                   "policy_version": DecisionRow.policy_version}
        for key, column in columns.items():
            if key in f:
                query = query.where(column == f[key])
        if "since" in f:
            query = query.where(DecisionRow.created_at >= f["since"])
        if "until" in f:
            query = query.where(DecisionRow.created_at <= f["until"])
        if f.get("current_only"):
            query = query.where(successor.id.is_(None))
        query = query.order_by(DecisionRow.id.desc()).limit(limit)
        return self._run(lambda s: [Decision.of(r, p, n) for r, p, n in s.execute(query)], write=False)

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, user: User | str, action: str, entity: str, entity_id: Any = None, before: Any = None,
              after: Any = None) -> AuditEntry:
        """Append an entry for something that changes nothing else in the store (an export, a data load).

        Verbs that change the store write their own entry in the same transaction as the change.
        """
        return self._run(lambda s: _flushed(s, self._audit(s, _user_name(user), action, entity, entity_id,
                                                           before, after)))

    def audit_log(self, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[AuditEntry]:
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
        return self._run(lambda s: [AuditEntry.of(r) for r in s.scalars(query)], write=False)


def _flushed(session: Session, row: AuditRow) -> AuditEntry:
    session.flush()
    return AuditEntry.of(row)


def _decision_summary(d: Decision) -> dict[str, Any]:
    return {"merchant_id": d.merchant_id, "decision": d.decision, "note": d.note, "score": d.score,
            "grade": d.grade, "pd": d.pd, "policy": d.policy_name, "policy_version": d.policy_version,
            "model_version": d.model_version, "supersedes_id": d.supersedes_id}

