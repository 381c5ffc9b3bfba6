"""``python -m cb_core policy``: show the policy in force, or publish a new version of it.

``publish`` follows the app's rules: the cutoffs are checked by :class:`~cb_core.strategy.Policy`
(same messages), only a user with the ``edit_policy`` permission may publish, a note is required,
and the version is published as a draft of that user on top of the version in force when the command
started; if someone publishes in between, the store's ConflictError is reported (exit 2) and nothing
is published. The store audits the draft and the publication under the user's name.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..access import can, roles_with


def add_parser(sub: Any) -> None:
    """Register ``policy show`` and ``policy publish`` on the subparsers of ``python -m cb_core``."""
    p = sub.add_parser("policy", help="show the credit policy in force, or publish a new version")
    commands = p.add_subparsers(dest="policy_command", required=True)
    show = commands.add_parser("show", help="print the policy in force as JSON (the settings' defaults when none "
                                            "is published)")
    pub = commands.add_parser("publish", help="publish the next version: the policy in force with new cutoffs "
                                              "(edit_policy users only; a note is required)")
    pub.add_argument("--approve", type=float, required=True, help="approve cutoff (score, 1–1000)")
    pub.add_argument("--refer", type=float, required=True, help="refer cutoff (score, at most the approve cutoff)")
    pub.add_argument("--lgd", type=float, help="loss given default, 0–1 (default: as in force)")
    pub.add_argument("--apr", type=float, help="annual interest rate as a fraction, e.g. 0.06 (default: as in force)")
    pub.add_argument("--user", required=True, help="the publishing user (needs the edit_policy permission)")
    pub.add_argument("--note", required=True, help="why this version is published (stored with it)")
    for m in (show, pub):
        m.add_argument("--name", default=None, help="policy name (default: the app's policy)")
        m.add_argument("--database-url", help="SQLAlchemy URL (default: CB_DATABASE_URL or the SQLite file in the "
                                              "state folder)")
    p.set_defaults(func=_cmd_policy)


def _shown(store: Any, name: str) -> dict[str, Any]:
    from ..strategy import policy_in_force

    in_force = policy_in_force(store, name)
    record = store.published_policy(name) if in_force.published else None
    return {"name": name, "version": in_force.version, "source": in_force.source,
            "policy": in_force.policy.to_dict(),
            "published_by": None if record is None else record.published_by,
            "published_at": None if record is None or record.published_at is None else record.published_at.isoformat(),
            "note": None if record is None else record.note}


def _publish(store: Any, name: str, args: argparse.Namespace) -> dict[str, Any]:
    from ..errors import AuthError, PolicyError
    from ..strategy import Policy, policy_in_force

    user = store.get_user(args.user)
    if user is None or user.disabled:
        raise AuthError(f"user {args.user!r} does not exist or is disabled")
    if not can(user.role, "edit_policy"):
        raise AuthError(f"user {args.user!r} is a {user.role}; only {' and '.join(roles_with('edit_policy'))} "
                        "users may publish a policy")
    note = (args.note or "").strip()
    if not note:
        raise PolicyError("a publication note is required: say why this version is published (--note)")
    in_force = policy_in_force(store, name)
    changes: dict[str, Any] = {"approve_cutoff": args.approve, "refer_cutoff": args.refer}
    if args.lgd is not None:
        changes["lgd"] = args.lgd
    if args.apr is not None:
        changes["apr"] = args.apr
    policy = Policy.from_dict({**in_force.policy.to_dict(), **changes})  # the app's checks and messages
    draft = store.save_draft(name, policy.to_dict(), user.name, base_version=in_force.version)
    version = store.publish(name, draft.id, user.name, expected_base_version=in_force.version, note=note)
    return {"name": name, "version": version.version, "based_on_version": in_force.version,
            "published_by": version.published_by, "note": version.note, "policy": version.payload}


def _cmd_policy(args: argparse.Namespace) -> int:
    from ..store import Store
    from ..strategy import DEFAULT_POLICY_NAME

    name = args.name or DEFAULT_POLICY_NAME
    store = Store(args.database_url or None)
    try:
        out = _shown(store, name) if args.policy_command == "show" else _publish(store, name, args)
    finally:
        store.close()
    print(json.dumps(out, ensure_ascii=False))
    return 0
