"""What the store's verbs return: frozen snapshots of rows, safe to cache and to pass to pages.

They are copies taken inside the verb's transaction; changing one changes nothing in the database
(there is no save-back path: every change goes through a :class:`~cb_core.store.Store` verb).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .tables import AuditRow, DecisionRow, PolicyVersionRow, ProductVersionRow, RequestRow, UserRow, WatchActionRow


@dataclass(frozen=True)
class User:
    """A login: name, role (admin | pm | officer | partner) and, for role partner, the partner."""

    id: int
    name: str
    role: str
    partner: str | None
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime

    def is_locked(self, now: datetime) -> bool:
        """True while a lockout after repeated failed logins is running at ``now``."""
        return self.locked_until is not None and now < self.locked_until

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.name, row.role, row.partner, row.disabled, row.failed_logins, row.locked_until,
                   row.created_at)


@dataclass(frozen=True)
class PolicyVersion:
    """A policy draft (``version`` None, ``status`` "draft") or a published, immutable version."""

    id: int
    policy_name: str
    version: int | None
    status: str
    payload: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime
    based_on_version: int | None
    published_by: str | None
    published_at: datetime | None
    note: str | None = None  # why it was published (required when publishing)

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @classmethod
    def of(cls, row: PolicyVersionRow, policy_name: str) -> PolicyVersion:
        return cls(row.id, policy_name, row.version, row.status, copy.deepcopy(row.payload), row.created_by,
                   row.created_at, row.updated_at, row.based_on_version, row.published_by, row.published_at,
                   row.note)


@dataclass(frozen=True)
class Decision:
    """A recorded credit decision with the score, reasons and policy version at that moment.

    ``superseded_by_id`` is the decision that replaced this one (None while it is the current one).
    """

    id: int
    merchant_id: str
    decision: str
    note: str
    user: str
    created_at: datetime
    score: float
    grade: int
    pd: float
    reason_codes: Any
    policy_name: str | None
    policy_version: int | None
    model_version: str
    supersedes_id: int | None
    superseded_by_id: int | None = None

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @classmethod
    def of(cls, row: DecisionRow, policy_name: str | None, superseded_by_id: int | None = None) -> Decision:
        return cls(row.id, row.merchant_id, row.decision, row.note, row.user_name, row.created_at, row.score,
                   row.grade, row.pd, copy.deepcopy(row.reason_codes), policy_name, row.policy_version,
                   row.model_version, row.supersedes_id, superseded_by_id)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log."""

    id: int
    at: datetime
    user: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(row.id, row.at, row.user_name, row.action, row.entity, row.entity_id,
                   copy.deepcopy(row.before), copy.deepcopy(row.after))


@dataclass(frozen=True)
class MerchantRequest:
    """A merchant's explanation / correction / recalculation / human-review request.

    ``overdue`` is computed for the ``now`` the request was listed at: not resolved and past ``due_at``.
    """

    id: int
    merchant_id: str
    kind: str
    details: str
    opened_by: str
    received_at: datetime
    due_at: datetime
    status: str
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    overdue: bool

    @property
    def resolved_late(self) -> bool:
        return self.resolved_at is not None and self.resolved_at > self.due_at

    @classmethod
    def of(cls, row: RequestRow, now: datetime) -> MerchantRequest:
        overdue = row.status != "resolved" and now > row.due_at
        return cls(row.id, row.merchant_id, row.kind, row.details, row.opened_by, row.received_at, row.due_at,
                   row.status, row.resolution, row.resolved_by, row.resolved_at, overdue)


@dataclass(frozen=True)
class ProductCatalogVersion:
    """A saved catalog version: its number, products (JSON-ready dicts), who saved it and when."""

    version: int
    catalog: list[dict[str, Any]]
    created_by: str
    created_at: datetime

    @property
    def product_ids(self) -> list[str]:
        return [p["product_id"] for p in self.catalog]

    @classmethod
    def of(cls, row: ProductVersionRow) -> ProductCatalogVersion:
        return cls(row.version, copy.deepcopy(row.catalog), row.created_by, row.created_at)


@dataclass(frozen=True)
class WatchAction:
    """An officer's action on a watch-listed merchant: review, freeze_offers, contact or unfreeze."""

    id: int
    merchant_id: str
    loan_id: str | None
    action: str
    note: str
    user: str
    created_at: datetime

    @classmethod
    def of(cls, row: WatchActionRow) -> WatchAction:
        return cls(row.id, row.merchant_id, row.loan_id, row.action, row.note, row.user_name, row.created_at)
