"""The one gateway to the app database: users, sessions, policies, decisions, audit log, requests,
the product catalog. Nothing else in the project writes SQL.

:class:`Store` is the front: it holds one gateway (the engine, transactions and retries, error
translation, migrations, the audit-write helper) and exposes the verbs. Each verb is one
transaction (all of it is saved or none of it) and returns frozen records (:mod:`.records`), never
live ORM objects. Every change a verb makes is audited in the same transaction. Decisions, audit
entries and watch actions are append-only and published policy and catalog versions are immutable:
no verb changes or removes them, and the database's triggers refuse it as well.

A verb is a plain function in the module of its concern, taking a SQLAlchemy ``Session`` and the
verb's arguments; the :class:`Store` method of the same name runs it in a transaction:

=================  ==========================================================================
``users``          add_user, ensure_first_admin, list_users, get_user, disable_user,
                   reset_password, start_session, session_user, end_session
``tickets``        issue_login_ticket, redeem_login_ticket (one-time tickets for an HttpOnly cookie)
``logins``         authenticate (throttled per client; one answer for every wrong guess), unlock_user
``passwords``      the password policy and argon2id hashing
``maintenance``    integrity_check, backup, restore (``python -m cb_core db ...``)
``policies``       save_draft, discard_draft, publish, published_policy, policy_version,
                   policy_history, draft_for, list_policies
``decisions``      save_decision, decisions_for, list_decisions
``audit``          audit, audit_log
``requests``       open_request, update_request, list_requests
``products``       save_products, current_products, product_version, product_history
``watch``          record_watch_action, watch_actions, frozen_merchants (append-only watch-list actions)
``front``          :class:`Store`: one method per verb, plus url, dialect, migrate, close
``_gateway``       the engine, transactions and retries, error translation, migrate, ``write_audit``
``_files``         the SQLite file's identity, the "a database existed" marker, the keyed-hash secret
``tables``         every table as a SQLAlchemy model; ``migrations/`` the Alembic revisions
``records``        the frozen records verbs return
=================  ==========================================================================

Private helpers (``_gateway``, ``_values``: argument checks, ``_actor``: the acting user) are used
only inside this package; verb modules import them and ``tables``/``records``, never each other.
What this package may import: the base modules (:mod:`cb_core.errors`, :mod:`cb_core.config`,
:mod:`cb_core.access`), :mod:`cb_core.strategy` (the decision vocabulary) and the public front of
:mod:`cb_core.offers` (catalog validation).

Errors: :class:`~cb_core.errors.StoreUnavailableError` when the database cannot be reached (the
store reconnects by itself once it is back), :class:`~cb_core.errors.ConflictError` when someone
else changed the same thing first, :class:`~cb_core.errors.AuthError` for logins and unknown or
disabled users, :class:`~cb_core.errors.PolicyError` for unknown policies and versions,
:class:`~cb_core.errors.SchemaError` for a bad product catalog, :class:`~cb_core.errors.ConfigError`
for any other bad input.
"""
from __future__ import annotations

from ._files import DatabaseDamagedError
from ._gateway import default_url
from .front import Store
from .logins import LoginError
from .passwords import MIN_PASSWORD_LENGTH, PASSWORD_RULE, check_password
from .products import catalog_changes
from .records import AuditEntry, Decision, MerchantRequest, PolicyVersion, ProductCatalogVersion, User, WatchAction
from .tables import DECISIONS, REQUEST_KINDS, REQUEST_STATUSES, WATCH_ACTIONS, WATCH_NOTE_REQUIRED

__all__ = ["DECISIONS", "MIN_PASSWORD_LENGTH", "PASSWORD_RULE", "REQUEST_KINDS", "REQUEST_STATUSES", "AuditEntry",
           "DatabaseDamagedError", "Decision", "LoginError", "MerchantRequest", "PolicyVersion",
           "ProductCatalogVersion", "Store", "User", "WATCH_ACTIONS", "WATCH_NOTE_REQUIRED", "WatchAction",
           "catalog_changes", "check_password", "default_url"]
