"""Who may do what: the one role -> permission table of the product.

Every check of a role (page navigation, the decision form, policy publishing, the product editor,
personal data, the CLI's catalog install, user management) asks :func:`can`; no other module lists
roles next to an action. A base module: it imports nothing else from ``cb_core``.
"""
from __future__ import annotations

ROLES: tuple[str, ...] = ("admin", "pm", "officer", "partner")

#: permission -> what it allows (the keys are the vocabulary of :data:`PERMISSIONS`).
PERMISSION_HELP: dict[str, str] = {
    "view_portfolio": "see the Portfolio page (every merchant's score distribution and segments)",
    "review_merchants": "open Merchant review: one merchant's trends, score, reasons and offers",
    "decide": "record a credit decision on a merchant and answer merchants' requests",
    "view_model_report": "read the Model report (validation metrics, fairness, challenger)",
    "edit_policy": "tune cutoffs, save policy drafts and publish policies",
    "edit_products": "change the partner product catalog",
    "view_book_performance": "see Book performance: vintages, roll rates, the backtest and the validation pack",
    "view_partner": "see a partner's pool and report (a partner user: its own partner only)",
    "all_partners": "choose any partner in the partner view",
    "load_data": "upload or replace the merchant book",
    "administer": "manage users and read the audit log",
    "see_personal": "see personal data (owner names, business registration numbers) unmasked",
}

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSION_HELP),
    "pm": frozenset({"view_portfolio", "view_model_report", "view_book_performance", "edit_policy",
                     "edit_products"}),
    "officer": frozenset({"view_portfolio", "review_merchants", "decide"}),
    "partner": frozenset({"view_partner"}),
}


def can(role: str | None, permission: str) -> bool:
    """Whether ``role`` has ``permission`` (an unknown or missing role has none).

    Raises
    ------
    KeyError
        ``permission`` is not in :data:`PERMISSION_HELP` (a typo must not silently deny or allow).
    """
    if permission not in PERMISSION_HELP:
        raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSION_HELP)}")
    return permission in PERMISSIONS.get(role or "", frozenset())


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles that have ``permission``, in :data:`ROLES` order."""
    return tuple(r for r in ROLES if can(r, permission))


__all__ = ["PERMISSIONS", "PERMISSION_HELP", "ROLES", "can", "roles_with"]
