"""The pages of the app and the permission each needs (roles come from :mod:`cb_core.access`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cb_core.access import can, roles_with

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageDef:
    """A page; its URL is its file name (``/merchant_review``).

    Pages live in ``views/``, not ``pages/``: Streamlit still gives a ``pages/`` folder its
    legacy meaning, so a deep link would run that file outside ``app.py``'s navigation and role
    checks. Streamlit 1.67 also shows a spurious "Page not found" dialog on deep links to pages
    with a custom ``url_path``, so none is set.
    """

    file: str
    title_key: str
    icon: str
    permission: str

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that see this page."""
        return roles_with(self.permission)


PAGES: tuple[PageDef, ...] = (
    PageDef("views/portfolio.py", "nav_portfolio", ":material/dashboard:", "view_portfolio"),
    PageDef("views/merchant_review.py", "nav_merchant_review", ":material/storefront:", "review_merchants"),
    PageDef("views/decisions.py", "nav_decisions", ":material/gavel:", "decide"),
    PageDef("views/model_report.py", "nav_model_report", ":material/monitoring:", "view_model_report"),
    PageDef("views/book_performance.py", "nav_book_performance", ":material/timeline:", "view_book_performance"),
    PageDef("views/cutoffs.py", "nav_cutoffs", ":material/tune:", "edit_policy"),
    PageDef("views/products.py", "nav_products", ":material/inventory_2:", "edit_products"),
    PageDef("views/partner_view.py", "nav_partner_view", ":material/handshake:", "view_partner"),
    PageDef("views/data.py", "nav_data", ":material/database:", "load_data"),
    PageDef("views/admin.py", "nav_admin", ":material/admin_panel_settings:", "administer"),
)


def pages_for(role: str) -> list[PageDef]:
    """The pages ``role`` may see, in navigation order."""
    return [p for p in PAGES if can(role, p.permission)]
