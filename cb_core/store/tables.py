"""Every table of the store as a SQLAlchemy 2.0 declarative model, and the vocabularies they accept.

Only the verb modules of :mod:`cb_core.store` use these classes; everything else talks to the
:class:`~cb_core.store.Store` verbs and gets frozen records back (:mod:`cb_core.store.records`).
The Alembic revisions in ``cb_core/store/migrations/versions`` create exactly this schema (a test
compares them), plus triggers that make ``audit_log``, ``decisions`` and ``product_versions``
append-only (and ``watch_actions``) and published policy versions immutable inside the database
itself.

Each vocabulary has one home: roles are :data:`cb_core.access.ROLES`, decisions are
:data:`cb_core.strategy.DECISIONS`; request kinds and statuses and watch actions are defined here
(and exported from :mod:`cb_core.store`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, DateTime, Double, ForeignKey, ForeignKeyConstraint, Index,
                        Integer, String, Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..access import ROLES
from ..strategy import DECISIONS

POLICY_STATUSES = ("draft", "published")
REQUEST_KINDS = ("explanation", "correction", "recalculation", "human_review")
REQUEST_STATUSES = ("open", "in_progress", "resolved")
#: What an officer does about a merchant on the watch-list (revision 0005).
WATCH_ACTIONS = ("review", "freeze_offers", "contact", "unfreeze")
#: Watch actions that must say why (a written note).
WATCH_NOTE_REQUIRED = ("freeze_offers", "unfreeze")

NAME_LENGTH = 64


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: stored as naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} reached the store; pass an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="ck_users_role"),
        CheckConstraint("(role = 'partner') = (partner IS NOT NULL)", name="ck_users_partner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # sha256 of the browser's User-Agent at login (None: the caller gave none); a token presented
    # with another User-Agent is refused.
    user_agent_sha256: Mapped[str | None] = mapped_column(String(64))


class LoginTicketRow(Base):
    """A one-time ticket made at login, exchanged once, within a minute, by an HTTP route for the
    session token it puts in an HttpOnly cookie (page scripts never see the token)."""

    __tablename__ = "login_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user_agent_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginClientRow(Base):
    """Failed logins in a row from one client (a keyed hash of its address) and when it may try again."""

    __tablename__ = "login_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure: Mapped[datetime | None]
    not_before: Mapped[datetime | None]


class PolicyRow(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime]


class PolicyVersionRow(Base):
    """A draft (``version`` NULL, editable) or a published version (numbered, immutable)."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "version", name="uq_policy_versions_version"),
        CheckConstraint(_one_of("status", POLICY_STATUSES), name="ck_policy_versions_status"),
        CheckConstraint("(status = 'published') = (version IS NOT NULL)", name="ck_policy_versions_numbered"),
        # One open draft per user and policy: save_draft edits it instead of piling up copies.
        Index("uq_policy_versions_one_draft", "policy_id", "created_by", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.name"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    based_on_version: Mapped[int | None] = mapped_column(Integer)
    published_by: Mapped[str | None] = mapped_column(ForeignKey("users.name"))
    published_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)  # why this version was published (revision 0003)


class DecisionRow(Base):
    """Append-only: a correction is a new row whose ``supersedes_id`` points at the old one."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_one_of("decision", DECISIONS), name="ck_decisions_decision"),
        CheckConstraint("score >= 1 AND score <= 1000", name="ck_decisions_score"),
        CheckConstraint("grade >= 1 AND grade <= 10", name="ck_decisions_grade"),
        CheckConstraint("pd >= 0 AND pd <= 1", name="ck_decisions_pd"),
        CheckConstraint("(policy_id IS NULL) = (policy_version IS NULL)", name="ck_decisions_policy"),
        ForeignKeyConstraint(["policy_id", "policy_version"], ["policy_versions.policy_id", "policy_versions.version"],
                             name="fk_decisions_policy_version"),
        Index("ix_decisions_merchant", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"))
    created_at: Mapped[datetime]
    score: Mapped[float] = mapped_column(Double)
    grade: Mapped[int] = mapped_column(Integer)
    pd: Mapped[float] = mapped_column(Double)
    reason_codes: Mapped[Any] = mapped_column(JSONDocument)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(128))
    # Unique: a decision is superseded at most once, so the history is a chain, never a tree.
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), unique=True)


class AuditRow(Base):
    """Append-only record of who did what, when, with the state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_user", "user_name"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    before: Mapped[Any | None] = mapped_column(JSONDocument)
    after: Mapped[Any | None] = mapped_column(JSONDocument)


class RequestRow(Base):
    """A merchant's request under CIA art. 36-2 / PIPA art. 37-2, answered within 30 days."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint(_one_of("kind", REQUEST_KINDS), name="ck_requests_kind"),
        CheckConstraint(_one_of("status", REQUEST_STATUSES), name="ck_requests_status"),
        CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_requests_resolved"),
        Index("ix_requests_status_due", "status", "due_at"),
        Index("ix_requests_merchant", "merchant_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(ForeignKey("users.name"))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.name"))
    resolved_at: Mapped[datetime | None]


class ProductVersionRow(Base):
    """One saved partner product catalog (a JSON list of products in canonical form); immutable."""

    __tablename__ = "product_versions"
    __table_args__ = (
        UniqueConstraint("version", name="uq_product_versions_version"),
        CheckConstraint("version >= 1", name="ck_product_versions_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    catalog: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.name"))
    created_at: Mapped[datetime]


class WatchActionRow(Base):
    """Append-only: what an officer did about a merchant on the watch-list (review, freeze further
    offers, contact, unfreeze), with a note, who and when. A merchant is frozen while its newest
    freeze/unfreeze action is a freeze."""

    __tablename__ = "watch_actions"
    __table_args__ = (
        CheckConstraint(_one_of("action", WATCH_ACTIONS), name="ck_watch_actions_action"),
        CheckConstraint(f"action NOT IN ({', '.join(repr(a) for a in WATCH_NOTE_REQUIRED)}) OR length(note) > 0",
                        name="ck_watch_actions_note"),
        Index("ix_watch_actions_merchant", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    loan_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"))
    created_at: Mapped[datetime]
