"""The pages of the app and which roles may see each."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    roles: tuple[str, ...]


PAGES: tuple[PageDef, ...] = (
    PageDef("views/portfolio.py", "nav_portfolio", ":material/dashboard:", ("admin", "pm", "officer")),
    PageDef("views/merchant_review.py", "nav_merchant_review", ":material/storefront:", ("admin", "officer")),
    PageDef("views/decisions.py", "nav_decisions", ":material/gavel:", ("admin", "officer")),
    PageDef("views/model_report.py", "nav_model_report", ":material/monitoring:", ("admin", "pm")),
    PageDef("views/cutoffs.py", "nav_cutoffs", ":material/tune:", ("admin", "pm")),
    PageDef("views/products.py", "nav_products", ":material/inventory_2:", ("admin", "pm")),
    PageDef("views/partner_view.py", "nav_partner_view", ":material/handshake:", ("admin", "partner")),
    PageDef("views/data.py", "nav_data", ":material/database:", ("admin",)),
    PageDef("views/admin.py", "nav_admin", ":material/admin_panel_settings:", ("admin",)),
)


def pages_for(role: str) -> list[PageDef]:
    return [p for p in PAGES if role in p.roles]
