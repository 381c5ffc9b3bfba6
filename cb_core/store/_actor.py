"""Who is acting: the user a verb is called for, as a name and as a checked row."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AuthError
from .records import User
from .tables import UserRow


def actor_name(user: User | str) -> str:
    """The name of ``user`` (a :class:`~cb_core.store.records.User` or a name)."""
    return user.name if isinstance(user, User) else user


def user_row(session: Session, user: User | str, *, lock: bool = False, active: bool = True) -> UserRow:
    """The row of ``user``; AuthError when there is none or (``active``) it is disabled."""
    name = actor_name(user)
    query = select(UserRow).where(UserRow.name == name)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise AuthError(f"no user named {name!r}", key="err_no_user", name=name)
    if active and row.disabled:
        raise AuthError(f"user {name!r} is disabled", key="err_actor_user_name_disabled", name=name)
    return row
