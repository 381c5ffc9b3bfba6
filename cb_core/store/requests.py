"""Merchants' requests about automated credit decisions, tracked to a 30-day answer.

Korea's Credit Information Act art. 36-2 gives a merchant the right to an explanation, to correct
data and to ask for re-calculation; PIPA art. 37-2 adds human review of an automated decision,
answered within 30 days, where a rubber stamp does not count as human involvement. So a human
review is resolved only with a substantive written reason.
"""
from __future__ import annotations

import re
from collections.abc import Container
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ._actor import actor_name, user_row
from ._gateway import write_audit
from ._values import aware, clean_text
from .records import MerchantRequest, User
from .tables import NAME_LENGTH, REQUEST_KINDS, REQUEST_STATUSES, RequestRow

__all__ = ["ANSWER_DAYS", "MIN_REVIEW_REASON", "RUBBER_STAMPS", "list_requests", "open_request", "substantive_length",
           "update_request"]

ANSWER_DAYS = 30
MIN_REVIEW_REASON = 20
MAX_TEXT = 8000
# Words that sign a review off without saying anything about it (English and Korean).
RUBBER_STAMPS = frozenset("""
    ok okay approve approved approval agree agreed confirm confirmed reviewed review checked done fine yes
    lgtm accept accepted reject rejected decline declined signed sign off
    확인 확인함 확인했습니다 승인 승인함 동의 동의함 검토 검토함 검토완료 완료 이상없음 이상 없음 문제없음 문제 해당없음
""".split())
_NEXT = {"open": ("in_progress", "resolved"), "in_progress": ("in_progress", "resolved"), "resolved": ()}


def substantive_length(reason: str) -> int:
    """Characters of ``reason`` left once sign-off words, repeats and punctuation are removed."""
    seen: list[str] = []
    for word in re.findall(r"\w+", reason.lower()):
        if word not in RUBBER_STAMPS and word not in seen:
            seen.append(word)
    return len(" ".join(seen))


def open_request(session: Session, merchant_id: str, kind: str, details: str, user: User | str,
                 received_at: datetime | None = None, known_merchants: Container[str] | None = None
                 ) -> MerchantRequest:
    """Log a merchant's request; it is due ``ANSWER_DAYS`` (30) days after it was received.

    ``received_at`` defaults to now; give the real date when a letter is logged late (it may
    not lie in the future). ``known_merchants`` (the ids of the book in use, e.g.
    ``cb_core.workspace.merchant_ids(book)``; a set or a ``pd.Index``, not a Series) refuses an id
    that is not among them.
    """
    merchant_id = clean_text(merchant_id, "merchant_id", max_length=NAME_LENGTH)
    if known_merchants is not None and merchant_id not in known_merchants:
        raise ConfigError(f"no merchant with id {merchant_id!r} in the book in use; check the id", key="err_requests_unknown_merchant", merchant_id=merchant_id)
    if kind not in REQUEST_KINDS:
        raise ConfigError(f"kind must be one of {', '.join(REQUEST_KINDS)}; got {kind!r}", key="err_requests_kind_one_request_kinds", REQUEST_KINDS=', '.join(REQUEST_KINDS), kind=kind)
    details = clean_text(details, "details", max_length=MAX_TEXT, allow_empty=True)
    now = aware(None)
    received = aware(received_at, "received_at") if received_at is not None else now
    if received > now + timedelta(minutes=5):
        raise ConfigError(f"received_at must not be in the future; got {received.isoformat()}", key="err_requests_received_future_got_received", received=received.isoformat())
    author = actor_name(user)
    user_row(session, author)
    row = RequestRow(merchant_id=merchant_id, kind=kind, details=details, opened_by=author,
                     received_at=received, due_at=received + timedelta(days=ANSWER_DAYS), status="open")
    session.add(row)
    session.flush()
    write_audit(session, author, "request.open", "request", row.id, None,
                {"merchant_id": merchant_id, "kind": kind, "due_at": row.due_at})
    return MerchantRequest.of(row, now)


def update_request(session: Session, request_id: int, status: str, resolution: str | None, user: User | str,
                   now: datetime | None = None) -> MerchantRequest:
    """Move a request to ``in_progress`` or ``resolved`` (final), with its resolution text.

    Resolving needs a resolution; resolving a human review needs a substantive reason: at
    least 20 characters beyond sign-off words like "ok", "approved", "확인".
    """
    if status not in REQUEST_STATUSES or status == "open":
        raise ConfigError(f"status must be in_progress or resolved; got {status!r}", key="err_requests_status_progress_resolved_got", status=status)
    resolution = None if resolution is None else clean_text(resolution, "resolution", max_length=MAX_TEXT,
                                                            allow_empty=True) or None
    now = aware(now)
    author = actor_name(user)
    user_row(session, author)
    row = session.get(RequestRow, request_id, with_for_update=True) if isinstance(request_id, int) else None
    if row is None:
        raise ConfigError(f"there is no request {request_id!r}", key="err_requests_there_request_request_id", request_id=request_id)
    if status not in _NEXT[row.status]:
        raise ConflictError(f"request {row.id} is already resolved (by {row.resolved_by}); open a new request instead", key="err_requests_request_id_already_resolved", id=row.id, resolved_by=row.resolved_by)
    if status == "resolved":
        if resolution is None:
            raise ConfigError(f"resolving request {row.id} needs a resolution saying what was done", key="err_requests_resolving_request_id_needs", id=row.id)
        if row.kind == "human_review" and substantive_length(resolution) < MIN_REVIEW_REASON:
            raise ConfigError(
                f"a human review must record a substantive reason: at least {MIN_REVIEW_REASON} characters "
                f"beyond sign-off words such as 'ok' or 'approved'; got {resolution!r}", key="err_requests_human_review_record_substantive", MIN_REVIEW_REASON=MIN_REVIEW_REASON, resolution=resolution)
    before = {"status": row.status, "resolution": row.resolution}
    row.status = status
    if resolution is not None:
        row.resolution = resolution
    if status == "resolved":
        row.resolved_by, row.resolved_at = author, now
    write_audit(session, author, "request.update", "request", row.id, before,
                {"status": status, "resolution": row.resolution}, at=now)
    return MerchantRequest.of(row, now)


def list_requests(session: Session, overdue_only: bool = False, now: datetime | None = None, *,
                  status: str | None = None, merchant_id: str | None = None) -> list[MerchantRequest]:
    """Requests by due date (soonest first), each flagged ``overdue`` as of ``now``.

    ``overdue_only`` keeps the unresolved ones past their due date.
    """
    now = aware(now)
    if status is not None and status not in REQUEST_STATUSES:
        raise ConfigError(f"status must be one of {', '.join(REQUEST_STATUSES)}; got {status!r}", key="err_requests_status_one_request_statuses", REQUEST_STATUSES=', '.join(REQUEST_STATUSES), status=status)
    query = select(RequestRow)
    if overdue_only:
        query = query.where(RequestRow.status != "resolved", RequestRow.due_at < now)
    if status is not None:
        query = query.where(RequestRow.status == status)
    if merchant_id is not None:
        query = query.where(RequestRow.merchant_id == merchant_id)
    query = query.order_by(RequestRow.due_at, RequestRow.id)
    return [MerchantRequest.of(r, now) for r in session.scalars(query)]
