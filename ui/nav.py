"""The pages of the app and which roles may see each."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageDef:
    file: str
    title_key: str
    icon: str
    roles: tuple[str, ...]
    url_path: str


PAGES: tuple[PageDef, ...] = (
    PageDef("pages/portfolio.py", "nav_portfolio", ":material/dashboard:", ("admin", "pm", "officer"), "portfolio"),
    PageDef("pages/merchant_review.py", "nav_merchant_review", ":material/storefront:", ("admin", "officer"), "merchant"),
    PageDef("pages/decisions.py", "nav_decisions", ":material/gavel:", ("admin", "officer"), "decisions"),
    PageDef("pages/model_report.py", "nav_model_report", ":material/monitoring:", ("admin", "pm"), "model"),
    PageDef("pages/cutoffs.py", "nav_cutoffs", ":material/tune:", ("admin", "pm"), "cutoffs"),
    PageDef("pages/products.py", "nav_products", ":material/inventory_2:", ("admin", "pm"), "products"),
    PageDef("pages/partner_view.py", "nav_partner_view", ":material/handshake:", ("admin", "partner"), "partner"),
    PageDef("pages/data.py", "nav_data", ":material/database:", ("admin",), "data"),
)


def pages_for(role: str) -> list[PageDef]:
    return [p for p in PAGES if role in p.roles]
