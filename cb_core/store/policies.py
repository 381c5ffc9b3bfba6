"""Versioned credit policies: editable drafts, immutable published versions, optimistic locking.

A product manager edits a draft (one per user and policy) that names the published version it
started from. Publishing turns the draft into version N+1 only if version N is still the newest;
otherwise :class:`~cb_core.errors.ConflictError` says who published what, and the draft stays as
it was. The policy row is read ``FOR UPDATE`` (SQLite: the write lock) while the version number is
decided, and ``unique(policy_id, version)`` settles any race the lock would not: the store runs
:func:`publish` with :func:`publish_conflict` as the answer to that race.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ConflictError, PolicyError
from ._actor import actor_name, user_row
from ._gateway import write_audit
from ._values import aware, clean_text, json_document
from .records import PolicyVersion, User
from .tables import NAME_LENGTH, PolicyRow, PolicyVersionRow

__all__ = ["VERSION_CONSTRAINTS", "discard_draft", "draft_for", "list_policies", "open_drafts", "policy_history", "policy_version",
           "publish", "publish_conflict", "published_policy", "save_draft"]

# The unique constraint that settles a publishing race, as SQLite and PostgreSQL name it.
VERSION_CONSTRAINTS = ("uq_policy_versions_version", "policy_versions.policy_id")


def _edited(version: int | None) -> str:
    return f"version {version}" if version is not None else "a policy with no published version yet"


def _policy_row(session: Session, name: str, *, create: bool = False, lock: bool = False) -> PolicyRow | None:
    query = select(PolicyRow).where(PolicyRow.name == name)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None and create:
        try:
            with session.begin_nested():  # another writer may create the same policy right now
                row = PolicyRow(name=name, created_at=aware(None))
                session.add(row)
        except IntegrityError:
            row = session.scalars(query.with_for_update() if lock else query).one()
    return row


def _latest(session: Session, policy: PolicyRow) -> PolicyVersionRow | None:
    return session.scalars(select(PolicyVersionRow).where(PolicyVersionRow.policy_id == policy.id,
                                                          PolicyVersionRow.status == "published")
                           .order_by(PolicyVersionRow.version.desc()).limit(1)).one_or_none()


def _draft_row(session: Session, draft_id: int) -> PolicyVersionRow:
    row = session.get(PolicyVersionRow, draft_id, with_for_update=True) if isinstance(draft_id, int) else None
    if row is None:
        raise PolicyError(f"there is no policy draft {draft_id!r}", key="err_policies_no_such_draft", draft_id=draft_id)
    if row.status != "draft":
        raise PolicyError(f"policy version id {draft_id} is published version {row.version}, not a draft; "
                          f"published versions cannot change", key="err_policies_published_not_draft", draft_id=draft_id, version=row.version)
    return row


def save_draft(session: Session, policy_name: str, payload: Mapping[str, Any], user: User | str,
               base_version: int | None = None) -> PolicyVersion:
    """Create or update ``user``'s draft of ``policy_name`` (the policy is created if new).

    ``payload`` is the policy as JSON data (cutoffs, grade boundaries, overrides); it is stored
    as given (checking the cutoffs themselves is the strategy module's job). ``base_version`` is
    the published version the draft starts from; None keeps the draft's base, or for a new
    draft takes the newest published version.
    """
    policy_name = clean_text(policy_name, "policy name", max_length=NAME_LENGTH)
    if not isinstance(payload, Mapping):
        raise PolicyError(f"a policy payload must be a mapping of settings; got {type(payload).__name__}", key="err_policies_policy_payload_mapping_settings", kind=type(payload).__name__)
    payload = json_document(dict(payload), "policy payload")
    if base_version is not None and (isinstance(base_version, bool) or not isinstance(base_version, int)):
        raise PolicyError(f"base_version must be a version number or None; got {base_version!r}", key="err_policies_base_version_version_number", base_version=base_version)
    author = actor_name(user)
    user_row(session, author)
    policy = _policy_row(session, policy_name, create=True, lock=True)
    latest = _latest(session, policy)
    if base_version is not None and (latest is None or not 1 <= base_version <= latest.version):
        raise PolicyError(f"policy {policy_name!r} has no published version {base_version}", key="err_policies_policy_policy_name_published", policy_name=policy_name, base_version=base_version)
    now = aware(None)
    draft = session.scalars(select(PolicyVersionRow).where(
        PolicyVersionRow.policy_id == policy.id, PolicyVersionRow.created_by == author,
        PolicyVersionRow.status == "draft")).one_or_none()
    before = None
    if draft is None:
        draft = PolicyVersionRow(policy_id=policy.id, version=None, status="draft", payload=payload,
                                 created_by=author, created_at=now, updated_at=now,
                                 based_on_version=base_version if base_version is not None
                                 else (latest.version if latest else None))
        session.add(draft)
    else:
        before = {"payload": draft.payload, "based_on_version": draft.based_on_version}
        draft.payload, draft.updated_at = payload, now
        if base_version is not None:
            draft.based_on_version = base_version
    session.flush()
    write_audit(session, author, "policy.draft", "policy", policy_name, before,
                {"draft_id": draft.id, "payload": payload, "based_on_version": draft.based_on_version})
    return PolicyVersion.of(draft, policy_name)


def discard_draft(session: Session, draft_id: int, user: User | str) -> None:
    """Throw away ``user``'s own draft (published versions cannot be discarded)."""
    author = actor_name(user)
    draft = _draft_row(session, draft_id)
    if draft.created_by != author:
        raise PolicyError(f"draft {draft_id} belongs to {draft.created_by!r}, not {author!r}", key="err_policies_draft_of_other_user", draft_id=draft_id, created_by=draft.created_by, author=author)
    policy = session.get(PolicyRow, draft.policy_id)
    write_audit(session, author, "policy.discard_draft", "policy", policy.name,
                {"draft_id": draft.id, "payload": draft.payload}, None)
    session.delete(draft)


def _conflict(session: Session, policy: PolicyRow, policy_name: str,
              expected_base_version: int | None) -> ConflictError:
    latest = _latest(session, policy)
    return ConflictError(
        f"policy {policy_name!r} was published as version {latest.version} by {latest.published_by} "
        f"while you edited {_edited(expected_base_version)}; your draft is kept — review the changes "
        f"and publish again", key="err_policies_publish_conflict", policy_name=policy_name,
        version=latest.version, published_by=latest.published_by)


def publish_conflict(session: Session, policy_name: str, expected_base_version: int | None) -> ConflictError:
    """The ConflictError of a publication that lost a race: who published which version meanwhile."""
    return _conflict(session, _policy_row(session, policy_name), policy_name, expected_base_version)


def publish(session: Session, policy_name: str, draft_id: int, user: User | str,
            expected_base_version: int | None, note: str | None = None) -> PolicyVersion:
    """Publish draft ``draft_id`` as the next version of ``policy_name``, with ``note`` (why).

    ``expected_base_version`` is the newest published version the user saw (None: none yet).
    If someone published since, ConflictError names the version and its author, and the draft
    is kept unchanged for the user to review and publish again. ``note`` is stored with the
    version (the app and the CLI require one; None is kept for callers from before notes).
    """
    if note is not None:
        note = clean_text(note, "publication note", max_length=2000, allow_empty=True)
        if not note:
            raise PolicyError("a publication note is required: say why this version is published", key="err_policies_note_required")
    publisher = actor_name(user)
    user_row(session, publisher)
    policy = _policy_row(session, policy_name, lock=True)
    if policy is None:
        raise PolicyError(f"there is no policy named {policy_name!r}", key="err_policies_there_policy_named_policy", policy_name=policy_name)
    draft = _draft_row(session, draft_id)
    if draft.policy_id != policy.id:
        raise PolicyError(f"draft {draft_id} is not a draft of policy {policy_name!r}", key="err_policies_draft_of_other_policy", draft_id=draft_id, policy_name=policy_name)
    latest = _latest(session, policy)
    if (latest.version if latest else None) != expected_base_version:
        raise _conflict(session, policy, policy_name, expected_base_version)
    before = None if latest is None else {"version": latest.version, "payload": latest.payload}
    now = aware(None)
    draft.status, draft.version = "published", (latest.version if latest else 0) + 1
    draft.based_on_version, draft.published_by, draft.published_at = expected_base_version, publisher, now
    draft.updated_at, draft.note = now, note
    session.flush()
    write_audit(session, publisher, "policy.publish", "policy", policy_name, before,
                {"version": draft.version, "payload": draft.payload, "draft_id": draft.id, "note": note})
    return PolicyVersion.of(draft, policy_name)


def published_policy(session: Session, name: str) -> PolicyVersion | None:
    """The newest published version of policy ``name``, or None before the first publication."""
    policy = _policy_row(session, name)
    latest = None if policy is None else _latest(session, policy)
    return None if latest is None else PolicyVersion.of(latest, name)


def policy_version(session: Session, name: str, version: int) -> PolicyVersion | None:
    """Published version ``version`` of policy ``name``, or None."""
    row = session.scalars(select(PolicyVersionRow).join(PolicyRow).where(
        PolicyRow.name == name, PolicyVersionRow.version == version)).one_or_none()
    return None if row is None else PolicyVersion.of(row, name)


def policy_history(session: Session, name: str, include_drafts: bool = False) -> list[PolicyVersion]:
    """Published versions of ``name``, oldest first; then open drafts when asked."""
    query = select(PolicyVersionRow).join(PolicyRow).where(PolicyRow.name == name)
    if not include_drafts:
        query = query.where(PolicyVersionRow.status == "published")
    rows = session.scalars(query.order_by(PolicyVersionRow.version.is_(None), PolicyVersionRow.version,
                                          PolicyVersionRow.id))
    return [PolicyVersion.of(row, name) for row in rows]


def draft_for(session: Session, policy_name: str, user: User | str) -> PolicyVersion | None:
    """``user``'s open draft of ``policy_name`` (e.g. the one kept after a conflict), or None."""
    row = session.scalars(select(PolicyVersionRow).join(PolicyRow).where(
        PolicyRow.name == policy_name, PolicyVersionRow.created_by == actor_name(user),
        PolicyVersionRow.status == "draft")).one_or_none()
    return None if row is None else PolicyVersion.of(row, policy_name)


def open_drafts(session: Session, policy_name: str) -> list[PolicyVersion]:
    """Every user's open draft of ``policy_name`` (author, time, base version), newest first."""
    rows = session.scalars(select(PolicyVersionRow).join(PolicyRow).where(
        PolicyRow.name == policy_name, PolicyVersionRow.status == "draft")
        .order_by(PolicyVersionRow.updated_at.desc(), PolicyVersionRow.id.desc()))
    return [PolicyVersion.of(row, policy_name) for row in rows]


def list_policies(session: Session) -> list[str]:
    """Names of all policies (with or without a published version), sorted."""
    return list(session.scalars(select(PolicyRow.name).order_by(PolicyRow.name)))
