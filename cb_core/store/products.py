"""The partner product catalog in the store: every saved catalog is a numbered, immutable version.

A product manager edits the catalog the app uses (the newest version here, or the shipped
``data/loan_products.json`` while there is none) and saves it as version N+1, but only if version N
is still the newest one: :meth:`ProductVerbs.save_products` takes the version the user started
from and raises :class:`~cb_core.errors.ConflictError` (naming who saved what) when someone saved
first. A catalog is validated with :func:`~cb_core.offers.catalog.validate_products` before anything
is written, and stored in its canonical form, so every stored version loads. The audit entry (the
catalog before and after, and which products changed) is written in the same transaction.

Version rows are never updated or deleted: no verb does it, and the database's triggers refuse it
(migration 0002). Writers are serialised by SQLite's write lock or a PostgreSQL advisory lock; the
unique version number settles any race the lock would not.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..errors import ConfigError, ConflictError
from ..offers.catalog import products_to_records, validate_products
from ._gateway import aware, json_document
from .records import ProductCatalogVersion, User
from .tables import ProductVersionRow
from .users import UserVerbs, _user_name

__all__ = ["ProductVerbs", "catalog_changes"]

# pg_advisory_xact_lock key that serialises catalog saves ("CBPRODCT" as an int64).
_PRODUCTS_LOCK_KEY = 0x434250524F444354


def catalog_changes(before: Iterable[Mapping[str, Any]] | None,
                    after: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Product ids ``added``, ``removed`` and ``changed`` (any field differs) from ``before`` to ``after``."""
    old = {p["product_id"]: dict(p) for p in (before or [])}
    new = {p["product_id"]: dict(p) for p in after}
    return {"added": [k for k in new if k not in old], "removed": [k for k in old if k not in new],
            "changed": [k for k in new if k in old and new[k] != old[k]]}


def _check_expected(expected_version: Any) -> int | None:
    if expected_version is None:
        return None
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 1:
        raise ConfigError(f"expected_version must be a catalog version (a whole number >= 1) or None for the "
                          f"shipped catalog; got {expected_version!r}")
    return expected_version


def _edited(version: int | None) -> str:
    return f"version {version}" if version is not None else "the shipped catalog (no saved version yet)"


class ProductVerbs(UserVerbs):
    """Mixed into :class:`~cb_core.store.Store`: the versioned partner product catalog."""

    @staticmethod
    def _latest_products(session: Session) -> ProductVersionRow | None:
        return session.scalars(select(ProductVersionRow).order_by(ProductVersionRow.version.desc())
                               .limit(1)).one_or_none()

    def save_products(self, records: Iterable[Mapping[str, Any]], user: User | str,
                      expected_version: int | None) -> int:
        """Validate ``records`` and save them as the next catalog version; returns its number.

        Parameters
        ----------
        records
            The whole catalog, one dict per product (as :func:`~cb_core.offers.catalog.validate_products`
            reads it); stored in canonical form (:func:`~cb_core.offers.catalog.products_to_records`).
        user
            Who saves (an active user).
        expected_version
            The newest version the user saw when they started editing; None when they edited the
            shipped catalog because no version was saved yet.

        Raises
        ------
        SchemaError
            The catalog breaks a rule (every problem, each naming product and field); nothing saved.
        ConflictError
            Someone saved a version after ``expected_version``; nothing saved.
        ConfigError
            ``expected_version`` is not a version number, or the catalog equals the newest version.
        AuthError
            ``user`` is unknown or disabled.
        """
        author = _user_name(user)
        expected = _check_expected(expected_version)
        catalog = json_document(products_to_records(validate_products(records)), "product catalog")

        def conflict(session: Session) -> ConflictError:
            latest = self._latest_products(session)
            return ConflictError(
                f"the product catalog was saved as version {latest.version} by {latest.created_by} at "
                f"{latest.created_at:%Y-%m-%d %H:%M} UTC while you edited {_edited(expected)}; nothing was saved "
                f"— reload the newest catalog and make your change again")

        def work(session: Session) -> int:
            self._user_row(session, author)
            if self.dialect == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PRODUCTS_LOCK_KEY})
            latest = self._latest_products(session)
            if (latest.version if latest else None) != expected:
                raise conflict(session)
            if latest is not None and latest.catalog == catalog:
                raise ConfigError(f"the catalog is the same as version {latest.version}; nothing was saved")
            version = (latest.version if latest else 0) + 1
            row = ProductVersionRow(version=version, catalog=catalog, created_by=author, created_at=aware(None))
            session.add(row)
            session.flush()
            before = None if latest is None else {"version": latest.version, "catalog": latest.catalog}
            self._audit(session, author, "products.save", "product_catalog", version, before,
                        {"version": version, "catalog": catalog,
                         "changes": catalog_changes(latest.catalog if latest else None, catalog)})
            return version

        return self._run_versioned(work, conflict, ("uq_product_versions_version", "product_versions.version"))

    def current_products(self) -> tuple[int, list[dict[str, Any]]] | None:
        """``(version, catalog)`` of the newest saved version, or None when none was saved yet."""
        def work(session: Session) -> tuple[int, list[dict[str, Any]]] | None:
            latest = self._latest_products(session)
            return None if latest is None else (latest.version, copy.deepcopy(latest.catalog))

        return self._run(work, write=False)

    def product_version(self, version: int) -> ProductCatalogVersion | None:
        """Saved catalog version ``version``, or None."""
        def work(session: Session) -> ProductCatalogVersion | None:
            row = session.scalars(select(ProductVersionRow).where(ProductVersionRow.version == version)).one_or_none()
            return None if row is None else ProductCatalogVersion.of(row)

        return self._run(work, write=False)

    def product_history(self) -> list[ProductCatalogVersion]:
        """Every saved catalog version, oldest first."""
        return self._run(lambda s: [ProductCatalogVersion.of(r) for r in
                                    s.scalars(select(ProductVersionRow).order_by(ProductVersionRow.version))],
                         write=False)
