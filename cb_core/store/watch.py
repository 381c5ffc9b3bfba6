"""Watch actions: what officers do about merchants on the watch-list, append-only.

An action is one of :data:`~cb_core.store.tables.WATCH_ACTIONS` on a merchant (and, usually, the
flagged loan), with a note, the user and the time (UTC). ``freeze_offers`` stops every new offer
to the merchant until an ``unfreeze``; both need a written note (the database refuses them
without one too). A merchant is frozen while its newest freeze/unfreeze action is a freeze. Each
action writes one audit entry (``watch.<action>``) in the same transaction. No verb changes or
removes an action, and the database's triggers refuse it (revision 0005).
"""
from __future__ import annotations

import hashlib
from collections.abc import Container
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ._actor import actor_name, user_row
from ._gateway import write_audit, xact_lock
from ._values import aware, clean_text
from .records import User, WatchAction
from .tables import NAME_LENGTH, WATCH_ACTIONS, WATCH_NOTE_REQUIRED, WatchActionRow

__all__ = ["MAX_WATCH_NOTE", "frozen_merchants", "record_watch_action", "watch_actions"]

MAX_WATCH_NOTE = 4000
_FREEZING = ("freeze_offers", "unfreeze")


def _newest_freezing(session: Session, merchant_id: str) -> WatchActionRow | None:
    return session.scalars(select(WatchActionRow).where(WatchActionRow.merchant_id == merchant_id,
                                                        WatchActionRow.action.in_(_FREEZING))
                           .order_by(WatchActionRow.id.desc()).limit(1)).one_or_none()


def record_watch_action(session: Session, merchant_id: str, loan_id: str | None, action: str, note: str | None,
                        user: User | str, now: datetime | None = None, *,
                        known_merchants: Container[str] | None = None) -> WatchAction:
    """Record ``user``'s ``action`` on ``merchant_id`` (about ``loan_id``, or None) with ``note``.

    ``known_merchants`` (the ids of the book in use; a set or ``pd.Index``) refuses an unknown id.
    Returns the stored action; writes the audit entry ``watch.<action>`` (entity ``merchant``).

    Raises ConfigError for a bad value (an unknown action, a freeze or unfreeze without a note, an
    unknown merchant), AuthError for an unknown or disabled user, ConflictError for a freeze of a
    frozen merchant or an unfreeze of one that is not frozen (someone may have just done it).
    """
    merchant_id = clean_text(merchant_id, "merchant_id", max_length=NAME_LENGTH)
    if known_merchants is not None and merchant_id not in known_merchants:
        raise ConfigError(f"no merchant with id {merchant_id!r} in the book in use; check the id", key="err_watch_unknown_merchant", merchant_id=merchant_id)
    if loan_id is not None:
        loan_id = clean_text(loan_id, "loan_id", max_length=NAME_LENGTH)
    if action not in WATCH_ACTIONS:
        raise ConfigError(f"action must be one of {', '.join(WATCH_ACTIONS)}; got {action!r}", key="err_watch_unknown_action", WATCH_ACTIONS=', '.join(WATCH_ACTIONS), action=action)
    note = clean_text("" if note is None else note, "note", max_length=MAX_WATCH_NOTE, allow_empty=True)
    if action in WATCH_NOTE_REQUIRED and not note:
        raise ConfigError(f"a note is required to {action.replace('_', ' ')}: say why", key="err_watch_note_required", action=action)
    author = actor_name(user)
    user_row(session, author)
    if action in _FREEZING:  # one freeze state per merchant, even with two officers at once
        xact_lock(session, int.from_bytes(hashlib.sha256(f"watch:{merchant_id}".encode()).digest()[:8], "big",
                                          signed=True))
        newest = _newest_freezing(session, merchant_id)
        frozen = newest is not None and newest.action == "freeze_offers"
        if action == "freeze_offers" and frozen:
            raise ConflictError(f"merchant {merchant_id} is already frozen (by {newest.user_name}); nothing was saved", key="err_watch_already_frozen", merchant_id=merchant_id, user_name=newest.user_name)
        if action == "unfreeze" and not frozen:
            raise ConflictError(f"merchant {merchant_id} is not frozen; nothing was saved", key="err_watch_not_frozen", merchant_id=merchant_id)
    row = WatchActionRow(merchant_id=merchant_id, loan_id=loan_id, action=action, note=note, user_name=author,
                         created_at=aware(now))
    session.add(row)
    session.flush()
    write_audit(session, author, f"watch.{action}", "merchant", merchant_id, None,
                {"id": row.id, "loan_id": loan_id, "action": action, "note": note}, at=row.created_at)
    return WatchAction.of(row)


def watch_actions(session: Session, merchant_id: str) -> list[WatchAction]:
    """Every action on ``merchant_id``, oldest first."""
    merchant_id = clean_text(merchant_id, "merchant_id", max_length=NAME_LENGTH)
    query = select(WatchActionRow).where(WatchActionRow.merchant_id == merchant_id).order_by(WatchActionRow.id)
    return [WatchAction.of(r) for r in session.scalars(query)]


def frozen_merchants(session: Session) -> dict[str, WatchAction]:
    """Merchants frozen now: merchant id -> the freeze in force (its note, user and time), by id."""
    newest = (select(func.max(WatchActionRow.id)).where(WatchActionRow.action.in_(_FREEZING))
              .group_by(WatchActionRow.merchant_id))
    rows = session.scalars(select(WatchActionRow).where(WatchActionRow.id.in_(newest),
                                                        WatchActionRow.action == "freeze_offers")
                           .order_by(WatchActionRow.merchant_id))
    return {r.merchant_id: WatchAction.of(r) for r in rows}
