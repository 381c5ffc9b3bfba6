"""The partner product catalog in the store: every saved catalog is a numbered, immutable version.

A product manager edits the catalog the app uses (the newest version here, or the shipped
``data/loan_products.json`` while there is none) and saves it as version N+1, but only if version N
is still the newest one: :func:`save_products` takes the version the user started from and raises
:class:`~cb_core.errors.ConflictError` (naming who saved what) when someone saved first. A catalog
is validated whole by :func:`checked_catalog` (:func:`cb_core.offers.validate_products`) before
any transaction starts, and stored in its canonical form, so every stored version loads. The
audit entry (the catalog before and after, and which products changed) is written in the same
transaction.

Version rows are never updated or deleted: no verb does it, and the database's triggers refuse it
(migration 0002). Writers are serialised by SQLite's write lock or a PostgreSQL advisory lock; the
unique version number settles any race the lock would not (the store then answers with
:func:`save_conflict`).
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ._actor import actor_name, user_row
from ._gateway import write_audit, xact_lock
from ._values import aware, json_document
from .records import ProductCatalogVersion, User
from .tables import ProductVersionRow

__all__ = ["VERSION_CONSTRAINTS", "catalog_changes", "check_expected", "checked_catalog", "current_products",
           "product_history", "product_version", "save_conflict", "save_products"]

# pg_advisory_xact_lock key that serialises catalog saves ("CBPRODCT" as an int64).
_PRODUCTS_LOCK_KEY = 0x434250524F444354
# The unique constraint that settles a saving race, as SQLite and PostgreSQL name it.
VERSION_CONSTRAINTS = ("uq_product_versions_version", "product_versions.version")


def catalog_changes(before: Iterable[Mapping[str, Any]] | None,
                    after: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Product ids ``added``, ``removed`` and ``changed`` (any field differs) from ``before`` to ``after``."""
    old = {p["product_id"]: dict(p) for p in (before or [])}
    new = {p["product_id"]: dict(p) for p in after}
    return {"added": [k for k in new if k not in old], "removed": [k for k in old if k not in new],
            "changed": [k for k in new if k in old and new[k] != old[k]]}


def check_expected(expected_version: Any) -> int | None:
    """``expected_version`` when it is a catalog version (a whole number >= 1) or None; else ConfigError."""
    if expected_version is None:
        return None
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 1:
        raise ConfigError(f"expected_version must be a catalog version (a whole number >= 1) or None for the "
                          f"shipped catalog; got {expected_version!r}", key="err_products_expected_version_catalog_version", expected_version=expected_version)
    return expected_version


def checked_catalog(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``records`` validated whole and in canonical form, as JSON data (what a version stores).

    Raises SchemaError listing every problem, each naming product and field.
    """
    from ..offers import products_to_records, validate_products  # pandera loads only when a catalog is saved

    return json_document(products_to_records(validate_products(records)), "product catalog")


def _edited(version: int | None) -> str:
    return f"version {version}" if version is not None else "the shipped catalog (no saved version yet)"


def _latest_products(session: Session) -> ProductVersionRow | None:
    return session.scalars(select(ProductVersionRow).order_by(ProductVersionRow.version.desc())
                           .limit(1)).one_or_none()


def save_conflict(session: Session, expected_version: int | None) -> ConflictError:
    """The ConflictError of a save that lost a race: who saved which version while the user edited."""
    latest = _latest_products(session)
    return ConflictError(
        f"the product catalog was saved as version {latest.version} by {latest.created_by} at "
        f"{latest.created_at:%Y-%m-%d %H:%M} UTC while you edited {_edited(expected_version)}; nothing was saved "
        f"— reload the newest catalog and make your change again", key="err_products_save_conflict",
        version=latest.version, created_by=latest.created_by, created_at=latest.created_at)


def save_products(session: Session, catalog: list[dict[str, Any]], user: User | str,
                  expected_version: int | None) -> int:
    """Save ``catalog`` as the next catalog version; returns its number.

    Parameters
    ----------
    catalog
        The whole catalog as :func:`checked_catalog` returns it (validated, canonical).
    user
        Who saves (an active user).
    expected_version
        The newest version the user saw when they started editing; None when they edited the
        shipped catalog because no version was saved yet.

    Raises
    ------
    ConflictError
        Someone saved a version after ``expected_version``; nothing saved.
    ConfigError
        ``expected_version`` is not a version number, or the catalog equals the newest version.
    AuthError
        ``user`` is unknown or disabled.
    """
    expected = check_expected(expected_version)
    author = actor_name(user)
    user_row(session, author)
    xact_lock(session, _PRODUCTS_LOCK_KEY)
    latest = _latest_products(session)
    if (latest.version if latest else None) != expected:
        raise save_conflict(session, expected)
    if latest is not None and latest.catalog == catalog:
        raise ConfigError(f"the catalog is the same as version {latest.version}; nothing was saved", key="err_products_catalog_same_as_version", version=latest.version)
    version = (latest.version if latest else 0) + 1
    row = ProductVersionRow(version=version, catalog=catalog, created_by=author, created_at=aware(None))
    session.add(row)
    session.flush()
    before = None if latest is None else {"version": latest.version, "catalog": latest.catalog}
    write_audit(session, author, "products.save", "product_catalog", version, before,
                {"version": version, "catalog": catalog,
                 "changes": catalog_changes(latest.catalog if latest else None, catalog)})
    return version


def current_products(session: Session) -> tuple[int, list[dict[str, Any]]] | None:
    """``(version, catalog)`` of the newest saved version, or None when none was saved yet."""
    latest = _latest_products(session)
    return None if latest is None else (latest.version, copy.deepcopy(latest.catalog))


def product_version(session: Session, version: int) -> ProductCatalogVersion | None:
    """Saved catalog version ``version``, or None."""
    row = session.scalars(select(ProductVersionRow).where(ProductVersionRow.version == version)).one_or_none()
    return None if row is None else ProductCatalogVersion.of(row)


def product_history(session: Session) -> list[ProductCatalogVersion]:
    """Every saved catalog version, oldest first."""
    return [ProductCatalogVersion.of(r) for r in session.scalars(select(ProductVersionRow)
                                                                  .order_by(ProductVersionRow.version))]
