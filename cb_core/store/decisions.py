"""Credit decisions: append-only.

A decision is never edited or deleted: a correction is a new decision that ``supersedes`` the old
one, so the history of a merchant is a chain. No verb changes a stored decision, and the database
refuses it too (triggers created by the first migration).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..errors import ConfigError, ConflictError, PolicyError
from ._actor import actor_name, user_row
from ._gateway import write_audit, xact_lock
from ._values import aware, check_filters, clean_text, finite_number, json_document
from .records import Decision, User
from .tables import DECISIONS, NAME_LENGTH, DecisionRow, PolicyRow, PolicyVersionRow

__all__ = ["DECISION_FILTERS", "MAX_NOTE_LENGTH", "decisions_for", "list_decisions", "save_decision"]

MAX_NOTE_LENGTH = 4000
DECISION_FILTERS = ("merchant_id", "user", "decision", "policy_name", "policy_version", "since", "until",
                    "current_only")


def save_decision(session: Session, merchant_id: str, decision: str, note: str, user: User | str, score: float,
                  grade: int, pd: float, reason_codes: Any, policy_name: str | None, policy_version: int | None,
                  model_version: str, supersedes: int | Decision | None = None, *,
                  require_current: bool = False) -> Decision:
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
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}", key="err_decisions_decision_one_decisions_got", DECISIONS=', '.join(DECISIONS), decision=decision)
    note = clean_text("" if note is None else note, "note", max_length=MAX_NOTE_LENGTH, allow_empty=True)
    score = finite_number(score, "score", 1, 1000)
    if isinstance(grade, bool) or not hasattr(grade, "__index__") or not 1 <= int(grade) <= 10:
        raise ConfigError(f"grade must be a whole number within 1–10; got {grade!r}", key="err_decisions_grade_whole_number_within", grade=grade)
    grade = int(grade)
    pd = finite_number(pd, "pd", 0, 1)
    reason_codes = json_document(reason_codes, "reason_codes")
    if not isinstance(reason_codes, list):
        raise ConfigError(f"reason_codes must be a list; got {type(reason_codes).__name__}", key="err_decisions_reason_codes_list_got", kind=type(reason_codes).__name__)
    if (policy_name is None) != (policy_version is None):
        raise ConfigError(f"policy_name and policy_version go together; got {policy_name!r} and {policy_version!r}", key="err_decisions_policy_name_policy_version", policy_name=policy_name, policy_version=policy_version)
    model_version = clean_text(model_version, "model_version", max_length=128)
    supersedes_id = supersedes.id if isinstance(supersedes, Decision) else supersedes
    if supersedes_id is not None and (isinstance(supersedes_id, bool) or not isinstance(supersedes_id, int)):
        raise ConfigError(f"supersedes must be a decision id; got {supersedes!r}", key="err_decisions_supersedes_decision_id_got", supersedes=supersedes)
    author = actor_name(user)

    user_row(session, author)
    if require_current and supersedes_id is None:
        current = _current_decision(session, merchant_id)
        if current is not None:
            raise ConflictError(f"merchant {merchant_id!r} already has decision {current.id} "
                                f"({current.decision}, by {current.user_name}) recorded after you opened "
                                f"it; review it and decide again", key="err_decisions_decided_meanwhile", merchant_id=merchant_id, id=current.id, decision=current.decision, user_name=current.user_name)
    policy_id = None
    if policy_name is not None:
        policy_id = session.scalar(select(PolicyRow.id).join(PolicyVersionRow).where(
            PolicyRow.name == policy_name, PolicyVersionRow.version == policy_version))
        if policy_id is None:
            raise PolicyError(f"policy {policy_name!r} has no published version {policy_version}", key="err_decisions_policy_policy_name_published", policy_name=policy_name, policy_version=policy_version)
    if supersedes_id is not None:
        old = session.get(DecisionRow, supersedes_id)
        if old is None:
            raise ConfigError(f"there is no decision {supersedes_id} to supersede", key="err_decisions_no_such_decision", supersedes_id=supersedes_id)
        if old.merchant_id != merchant_id:
            raise ConfigError(f"decision {supersedes_id} is about merchant {old.merchant_id!r}, not {merchant_id!r}", key="err_decisions_supersedes_other_merchant", supersedes_id=supersedes_id, merchant_id=old.merchant_id, merchant_id2=merchant_id)
        successor = session.scalar(select(DecisionRow.id).where(DecisionRow.supersedes_id == supersedes_id))
        if successor is not None:
            raise ConflictError(f"decision {supersedes_id} was already superseded by decision {successor}; "
                                f"supersede that one instead", key="err_decisions_already_superseded", supersedes_id=supersedes_id, successor=successor)
    row = DecisionRow(merchant_id=merchant_id, decision=decision, note=note, user_name=author,
                      created_at=aware(None), score=score, grade=grade, pd=pd, reason_codes=reason_codes,
                      policy_id=policy_id, policy_version=policy_version, model_version=model_version,
                      supersedes_id=supersedes_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # the unique supersedes_id: someone superseded it since the check above
        if supersedes_id is None or "supersedes_id" not in str(exc.orig):
            raise
        raise ConflictError(f"decision {supersedes_id} was superseded by someone else just now; "
                            f"reload the merchant's decisions", key="err_decisions_superseded_meanwhile", supersedes_id=supersedes_id) from None
    record = Decision.of(row, policy_name)
    write_audit(session, author, "decision.save", "decision", row.id, None, _decision_summary(record))
    return record


def _current_decision(session: Session, merchant_id: str) -> DecisionRow | None:
    """The merchant's newest decision that nothing supersedes, read under a per-merchant lock: the
    write lock on SQLite (``BEGIN IMMEDIATE``), a transaction advisory lock on PostgreSQL (a row
    lock cannot cover a decision that does not exist yet)."""
    xact_lock(session, int.from_bytes(hashlib.sha256(f"decision:{merchant_id}".encode()).digest()[:8], "big",
                                      signed=True))
    successor = aliased(DecisionRow)
    return session.scalars(select(DecisionRow).outerjoin(successor, successor.supersedes_id == DecisionRow.id)
                           .where(DecisionRow.merchant_id == merchant_id, successor.id.is_(None))
                           .order_by(DecisionRow.id.desc()).limit(1)).one_or_none()


def _decision_query() -> tuple[Select, Any]:
    """Decisions with their policy's name and the id of the decision that superseded them."""
    successor = aliased(DecisionRow)
    return (select(DecisionRow, PolicyRow.name, successor.id)
            .outerjoin(PolicyRow, PolicyRow.id == DecisionRow.policy_id)
            .outerjoin(successor, successor.supersedes_id == DecisionRow.id)), successor


def decisions_for(session: Session, merchant_id: str) -> list[Decision]:
    """Every decision about ``merchant_id``, oldest first (superseded ones included and marked)."""
    query, _ = _decision_query()
    query = query.where(DecisionRow.merchant_id == merchant_id).order_by(DecisionRow.id)
    return [Decision.of(r, p, n) for r, p, n in session.execute(query)]


def list_decisions(session: Session, filters: Mapping[str, Any] | None = None, limit: int = 1000) -> list[Decision]:
    """Decisions newest first, at most ``limit``.

    ``filters`` keys: merchant_id, user, decision, policy_name, policy_version, since, until
    (aware datetimes, inclusive), current_only (True drops superseded decisions).
    """
    f = check_filters(filters, DECISION_FILTERS, limit)
    query, successor = _decision_query()
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
    return [Decision.of(r, p, n) for r, p, n in session.execute(query)]


def _decision_summary(d: Decision) -> dict[str, Any]:
    return {"merchant_id": d.merchant_id, "decision": d.decision, "note": d.note, "score": d.score,
            "grade": d.grade, "pd": d.pd, "policy": d.policy_name, "policy_version": d.policy_version,
            "model_version": d.model_version, "supersedes_id": d.supersedes_id}
