"""One partner's view of the book: its products, its eligible pool, and a report it can take away.

A partner bank is shown what the brokerage would send it: which merchants its products would be
offered to under the current book and model, how much they would borrow, and the risk. A partner
never sees another partner's products or terms, so everything here starts from that partner's
products alone: :func:`partner_pool` matches the book against them only (with
:func:`~cb_core.offers.match.match_book`, so its rules are exactly the offers' rules), and the HTML
report is built from that pool only.

The pool
    Merchants eligible for at least one of the partner's products (product rules only; the
    platform's own approve cutoff does not apply: the partner decides). Each merchant counts once,
    with the partner's best offer for it (lowest APR, then highest limit, as offers are ranked).
    Expected bad rate = mean PD of the pool; expected loss = sum of PD x LGD x limit; broker fee =
    sum of limit x the offered product's ``broker_fee_pct`` (the partner pays it, never the merchant).
    Merchants blocked by Square's rule (an overdue loan or a freeze: :mod:`cb_core.loans.blocks`)
    are never in the pool; ``n_blocked`` counts those the rule took out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from ..data import categories, regions
from ..errors import ConfigError
from ..i18n import format_count, format_krw, format_kst, format_pct, t
from ..loans import block_offers
from ..offers import AMORTIZING
from ..offers import match_book
from ._html import esc as _esc, table_html as _table_html
from .masking import mask_frame
from .booked_book import PartnerBook
from .booked_tables import booked_book_html

__all__ = ["POOL_INPUT_COLUMNS", "PARTNER_ROLE", "PartnerPool", "pool_input", "partners", "partner_products",
           "partner_pool", "products_table", "by_product_table", "kpis", "sample_merchants", "report_html"]

#: What :func:`partner_pool` needs per merchant (index ``merchant_id``).
POOL_INPUT_COLUMNS: tuple[str, ...] = ("score", "grade", "pd", "months_active", "gmv_3m_avg_krw", "category")
#: The sample list is always masked as for this role, whoever looks at it (it is a demo for partners).
PARTNER_ROLE = "partner"
GRADES = range(1, 11)


def pool_input(strategy: pd.DataFrame, snapshot: pd.DataFrame) -> pd.DataFrame:
    """The strategy frame (score, grade, PD, category, region) with the snapshot's months with sales
    and 3-month average sales: one row per scored merchant, what :func:`partner_pool` reads."""
    need_strategy = [c for c in ("score", "grade", "pd", "category") if c not in strategy]
    need_snapshot = [c for c in ("months_active", "gmv_3m_avg_krw") if c not in snapshot]
    if need_strategy or need_snapshot:
        raise ConfigError(f"pool_input is missing strategy column(s) {need_strategy} and snapshot column(s) "
                          f"{need_snapshot}", key="err_partner_pool_input_missing_strategy", need_strategy=need_strategy, need_snapshot=need_snapshot)
    keep = [c for c in ("score", "grade", "pd", "category", "region") if c in strategy]
    out = strategy[keep].join(snapshot[["months_active", "gmv_3m_avg_krw"]], how="left")
    out["category"] = out["category"].astype(str)
    return out


def partners(products: pd.DataFrame) -> pd.DataFrame:
    """Partners in catalog order: ``partner``, ``partner_ko``, ``products`` (how many)."""
    return (products.groupby("partner", sort=False)
            .agg(partner_ko=("partner_ko", "first"), products=("product_id", "size")).reset_index())


def partner_products(products: pd.DataFrame, partner: str) -> pd.DataFrame:
    """The catalog rows of ``partner`` only (RangeIndex). ConfigError when it has none; the message
    names no other partner."""
    mine = products.loc[products["partner"] == partner].reset_index(drop=True)
    if mine.empty:
        raise ConfigError(f"the product catalog has no products of partner {partner!r}", key="err_partner_product_catalog_products_partner", partner=partner)
    return mine


@dataclass(frozen=True)
class PartnerPool:
    """A partner's eligible pool (see the module docstring for the definitions).

    ``offers``: one row per eligible merchant (index ``merchant_id``): ``score``, ``grade``, ``pd``,
    ``category``, ``region``, ``months_active``, ``gmv_3m_avg_krw``, the best offer's ``product_id``,
    ``limit_krw``, ``apr_pct``, ``monthly_payment_krw``, ``broker_fee_krw``, ``expected_loss_krw``,
    and ``n_products`` (of the partner's products it qualifies for).
    ``by_product``: per product, the merchants eligible for it (a merchant may count under several)
    and, for those it is the best offer of, the volume, loss and fee.
    ``grade_mix``: grades 1–10: ``merchants``, ``limit_krw``, ``mean_pd``.
    """

    partner: str
    partner_ko: str
    products: pd.DataFrame
    lgd: float
    n_merchants: int
    offers: pd.DataFrame
    by_product: pd.DataFrame
    grade_mix: pd.DataFrame
    n_blocked: int = 0

    @property
    def n_eligible(self) -> int:
        return len(self.offers)

    @property
    def eligible_share(self) -> float:
        return self.n_eligible / self.n_merchants if self.n_merchants else float("nan")

    @property
    def limit_volume_krw(self) -> float:
        return float(self.offers["limit_krw"].sum())

    @property
    def expected_bad_rate(self) -> float:
        return float(self.offers["pd"].mean()) if self.n_eligible else float("nan")

    @property
    def expected_loss_krw(self) -> float:
        return float(self.offers["expected_loss_krw"].sum())

    @property
    def broker_fee_krw(self) -> float:
        return float(self.offers["broker_fee_krw"].sum())


def partner_pool(frame: pd.DataFrame, products: pd.DataFrame, partner: str, *, lgd: float,
                 blocked: pd.DataFrame | Iterable[str] = ()) -> PartnerPool:
    """Match the book against ``partner``'s products only and sum up its eligible pool.

    Parameters
    ----------
    frame : DataFrame
        :data:`POOL_INPUT_COLUMNS` per merchant (from :func:`pool_input`); ``region`` is kept when present.
    products : DataFrame
        The whole catalog (validated); only ``partner``'s rows are used.
    partner : str
        The partner's key (``partner`` field of the catalog).
    lgd : float
        Loss given default, 0–1.
    blocked : DataFrame or iterable of str
        Merchants who get no new offer (:func:`cb_core.loans.blocked_merchants` or their ids).
    """
    missing = [c for c in POOL_INPUT_COLUMNS if c not in frame]
    if missing:
        raise ConfigError(f"partner_pool needs column(s) {', '.join(missing)}", key="err_partner_partner_pool_needs_column", missing=', '.join(missing))
    if isinstance(lgd, bool) or not isinstance(lgd, (int, float)) or not 0 <= lgd <= 1:
        raise ConfigError(f"lgd must be within 0–1; got {lgd!r}", key="err_partner_lgd_within_got_lgd", lgd=lgd)
    mine = partner_products(products, partner)
    unblocked = match_book(frame, mine)
    matched = block_offers(unblocked, blocked)
    n_blocked = int((unblocked[("best", "n_eligible")] > 0).sum() - (matched[("best", "n_eligible")] > 0).sum())
    eligible = matched[("best", "n_eligible")].to_numpy() > 0
    best = matched.loc[eligible, "best"]
    fee_pct = mine.set_index("product_id")["broker_fee_pct"]
    extra = [c for c in ("category", "region", "months_active", "gmv_3m_avg_krw") if c in frame]
    offers = frame.loc[eligible, ["score", "grade", "pd", *extra]].copy()
    offers["product_id"] = best["product_id"].astype(str)
    offers["limit_krw"] = best["limit_krw"].astype(float)
    offers["apr_pct"] = best["apr_pct"].astype(float)
    offers["monthly_payment_krw"] = best["monthly_payment_krw"].astype(float)
    offers["broker_fee_krw"] = offers["limit_krw"] * offers["product_id"].map(fee_pct).astype(float) / 100
    offers["expected_loss_krw"] = offers["pd"].astype(float) * lgd * offers["limit_krw"]
    offers["n_products"] = best["n_eligible"].astype(int)

    rows = []
    for p in mine.itertuples(index=False):
        chosen = offers[offers["product_id"] == p.product_id]
        rows.append({"product_id": p.product_id, "name": p.name, "name_en": p.name_en,
                     "eligible_merchants": int(matched[("eligible", p.product_id)].sum()),
                     "best_offer_merchants": len(chosen), "limit_krw": float(chosen["limit_krw"].sum()),
                     "mean_pd": float(chosen["pd"].mean()) if len(chosen) else float("nan"),
                     "expected_loss_krw": float(chosen["expected_loss_krw"].sum()),
                     "broker_fee_krw": float(chosen["broker_fee_krw"].sum())})
    grades = offers.groupby(offers["grade"].astype(int))
    grade_mix = pd.DataFrame({"grade": list(GRADES)})
    grade_mix["merchants"] = grades.size().reindex(GRADES, fill_value=0).to_numpy()
    grade_mix["limit_krw"] = grades["limit_krw"].sum().reindex(GRADES, fill_value=0.0).to_numpy()
    grade_mix["mean_pd"] = grades["pd"].mean().reindex(GRADES).to_numpy()
    return PartnerPool(partner, str(mine["partner_ko"].iloc[0]), mine, float(lgd), len(frame), offers,
                       pd.DataFrame(rows), grade_mix, n_blocked)


def _apr_span(row: Any) -> str:
    rates = list(row["apr_by_grade"].values())
    return f"{min(rates):g}–{max(rates):g}%" if len(rates) > 1 else f"{rates[0]:g}%"


def products_table(pool: PartnerPool, lang: str) -> pd.DataFrame:
    """The partner's products and their terms, labelled in ``lang`` (one row per product)."""
    rows = []
    for _, p in pool.products.iterrows():
        advance = p["repayment"] != AMORTIZING
        grades = p["eligible_grades"]
        rows.append({
            t("pview_col_product", lang): p["name"] if lang == "ko" else p["name_en"],
            t("pview_col_product_id", lang): p["product_id"],
            t("pview_col_repayment", lang): t(f"offers_repay_{'advance' if advance else 'amortizing'}", lang),
            t("pview_col_min_score", lang): int(p["min_score"]),
            t("pview_col_grades", lang): f"{grades[0]}–{grades[-1]}" if len(grades) > 1 else str(grades[0]),
            t("pview_col_min_months", lang): int(p["min_months_active"]),
            t("pview_col_min_sales", lang): format_krw(float(p["min_avg_monthly_gmv_krw"]), lang),
            t("pview_col_limit_rule", lang): t("pview_limit_rule", lang,
                                               multiple=f"{p['limit_multiple_of_monthly_gmv']:g}",
                                               cap=format_krw(float(p["limit_cap_krw"]), lang)),
            t("pview_col_price", lang): (t("pview_price_advance", lang, withhold=f"{p['withhold_pct']:g}",
                                           fee=f"{p['fixed_fee_pct']:g}") if advance else _apr_span(p)),
            t("pview_col_term", lang): int(p["term_months"]),
            t("pview_col_fee", lang): f"{p['broker_fee_pct']:g}%",
        })
    return pd.DataFrame(rows)


def sample_merchants(pool: PartnerPool, merchants: pd.DataFrame, lang: str, n: int = 20,
                     seed: int = 0) -> pd.DataFrame:
    """A random sample of the eligible pool (best score first), personal data masked as for a partner.

    Owner names and business numbers pass through :func:`~cb_core.reports.masking.mask_frame` with role
    ``partner`` whoever looks, and business names are left out (a sole trader's shop name often
    names the owner): a partner sees no one it could identify.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a whole number of at least 1; got {n!r}", key="err_partner_n_whole_number_least", n=n)
    picked = pool.offers.sample(min(n, pool.n_eligible), random_state=seed).sort_values("score", ascending=False)
    people = merchants.assign(merchant_id=merchants["merchant_id"].astype(str)).set_index("merchant_id")
    masked = mask_frame(people.loc[picked.index, ["owner_name", "business_reg_no"]], PARTNER_ROLE)
    names = pool.products.set_index("product_id")["name" if lang == "ko" else "name_en"]
    repayment = pool.products.set_index("product_id")["repayment"]
    cats, regs = categories(), regions()
    return pd.DataFrame({
        t("pview_col_merchant", lang): picked.index.astype(str),
        t("pview_col_owner", lang): masked["owner_name"].to_numpy(),
        t("pview_col_reg_no", lang): masked["business_reg_no"].to_numpy(),
        t("pview_col_category", lang): [cats.get(c, {}).get(lang, c) for c in picked["category"]],
        t("pview_col_region", lang): [regs.get(r, {}).get(lang, r) for r in picked.get("region", [""] * len(picked))],
        t("pview_col_score", lang): picked["score"].astype(int).to_numpy(),
        t("pview_col_grade", lang): picked["grade"].astype(int).to_numpy(),
        t("pview_col_pd", lang): [f"{v:.2%}" for v in picked["pd"]],
        t("pview_col_best_product", lang): picked["product_id"].map(names).to_numpy(),
        t("pview_col_limit", lang): [format_krw(v, lang) for v in picked["limit_krw"]],
        t("pview_col_apr", lang): [("≈ " if kind != AMORTIZING else "") + f"{v:.1f}%"  # advances: an estimate
                                   for v, kind in zip(picked["apr_pct"], picked["product_id"].map(repayment))],
    })


# ------------------------------------------------------------------ the take-away HTML report

_CSS = """
body{font-family:-apple-system,'Segoe UI','Noto Sans KR','Malgun Gothic',sans-serif;margin:32px;color:#1f2430}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.meta{color:#667;font-size:12px}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
.kpi{border:1px solid #dde;border-radius:8px;padding:10px 14px;min-width:150px}
.kpi .label{font-size:12px;color:#667}.kpi .value{font-size:20px;font-weight:600}
table{border-collapse:collapse;font-size:12px;width:100%}th,td{border:1px solid #e3e6ee;padding:4px 8px;text-align:left}
th{background:#f4f6fb}td.num{text-align:right}.note{font-size:11px;color:#667;margin-top:24px}
h3{font-size:14px;margin:20px 0 6px}h4{font-size:13px;margin:14px 0 4px}
"""


#: The report fetches nothing and runs nothing, whatever text got into it (defence in depth: every text
#: is escaped by :func:`_esc`).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _grade_svg(grade_mix: pd.DataFrame, lang: str) -> str:
    """Merchants per grade as an inline SVG bar chart (no script: the file opens anywhere)."""
    width, height, pad = 560, 200, 28
    top = max(int(grade_mix["merchants"].max()), 1)
    bar = (width - 2 * pad) / len(grade_mix)
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height + 2 * pad}\" "
             f"role=\"img\" aria-label=\"{_esc(t('pview_grade_mix', lang))}\">"]
    for i, row in enumerate(grade_mix.itertuples(index=False)):
        h = (height - pad) * row.merchants / top
        x, y = pad + i * bar, pad + (height - pad) - h
        parts.append(f"<rect x=\"{x + 4:.1f}\" y=\"{y:.1f}\" width=\"{bar - 8:.1f}\" height=\"{h:.1f}\" "
                     f"fill=\"#636EFA\"/>")
        parts.append(f"<text x=\"{x + bar / 2:.1f}\" y=\"{y - 4:.1f}\" font-size=\"11\" text-anchor=\"middle\">"
                     f"{int(row.merchants):,}</text>")
        parts.append(f"<text x=\"{x + bar / 2:.1f}\" y=\"{height + pad - 8:.1f}\" font-size=\"11\" "
                     f"text-anchor=\"middle\">{int(row.grade)}</text>")
    parts.append(f"<text x=\"{width / 2:.1f}\" y=\"{height + 2 * pad - 6:.1f}\" font-size=\"11\" "
                 f"text-anchor=\"middle\">{_esc(t('pview_col_grade', lang))}</text></svg>")
    return "".join(parts)


def kpis(pool: PartnerPool, lang: str) -> list[tuple[str, str]]:
    """(label, formatted value) of the pool's headline figures, as the page and the report show them."""
    rate = pool.expected_bad_rate
    return [(t("pview_eligible", lang), f"{pool.n_eligible:,}"),
            (t("pview_eligible_share", lang), f"{pool.eligible_share:.1%}"),
            (t("pview_volume", lang), format_krw(pool.limit_volume_krw, lang)),
            (t("pview_bad_rate", lang), "–" if rate != rate else f"{rate:.2%}"),
            (t("pview_loss", lang), format_krw(pool.expected_loss_krw, lang)),
            (t("pview_fee", lang), format_krw(pool.broker_fee_krw, lang))]


def by_product_table(pool: PartnerPool, lang: str) -> pd.DataFrame:
    """The pool per product, labelled in ``lang``."""
    b = pool.by_product
    return pd.DataFrame({
        t("pview_col_product", lang): b["name"] if lang == "ko" else b["name_en"],
        t("pview_col_eligible", lang): [format_count(v, lang) for v in b["eligible_merchants"]],
        t("pview_col_best_count", lang): [format_count(v, lang) for v in b["best_offer_merchants"]],
        t("pview_col_volume", lang): [format_krw(v, lang) for v in b["limit_krw"]],
        t("pview_col_mean_pd", lang): [format_pct(v, lang, 2) for v in b["mean_pd"]],
        t("pview_col_loss", lang): [format_krw(v, lang) for v in b["expected_loss_krw"]],
        t("pview_col_fee_krw", lang): [format_krw(v, lang) for v in b["broker_fee_krw"]],
    })


def report_html(pool: PartnerPool, sample: pd.DataFrame, *, lang: str, generated_at: datetime,
                model_version: str, book_label: str, booked: PartnerBook | None = None) -> str:
    """The partner view as one self-contained HTML file (inline CSS and SVG, no script, no links).

    Every text is HTML-escaped, and a Content-Security-Policy forbids loading anything. It holds ``pool`` (one partner's products and pool) and ``sample``
    (from :func:`sample_merchants`, already masked), and ``booked``, the same partner's booked book
    (:func:`~cb_core.reports.booked_book.partner_book`, masked), when given; nothing else.
    """
    if booked is not None and booked.partner != pool.partner:
        raise ConfigError("the booked book given to the partner report is another partner's", key="err_partner_booked_book_given_partner")
    name = pool.partner_ko if lang == "ko" else pool.partner
    kpi_html = "".join(f"<div class=\"kpi\"><div class=\"label\">{_esc(k)}</div><div class=\"value\">{_esc(v)}</div>"
                       f"</div>" for k, v in kpis(pool, lang))
    meta = t("pview_report_meta", lang, at=format_kst(generated_at, lang), model=model_version,
             book=book_label, lgd=f"{pool.lgd:.0%}", merchants=f"{pool.n_merchants:,}")
    sections = [
        f"<h1>{_esc(t('pview_report_title', lang, partner=name))}</h1>",
        f"<div class=\"meta\">{_esc(meta)}</div>",
        f"<div class=\"kpis\">{kpi_html}</div>",
        f"<h2>{_esc(t('pview_products', lang))}</h2>{_table_html(products_table(pool, lang))}",
        f"<h2>{_esc(t('pview_by_product', lang))}</h2>{_table_html(by_product_table(pool, lang))}",
        f"<h2>{_esc(t('pview_grade_mix', lang))}</h2>{_grade_svg(pool.grade_mix, lang)}",
        f"<h2>{_esc(t('pview_sample', lang))}</h2>{_table_html(sample)}",
        booked_book_html(booked, lang) if booked is not None else "",
        f"<p class=\"note\">{_esc(t('pview_report_note', lang))}</p>",
    ]
    return (f"<!DOCTYPE html>\n<html lang=\"{_esc(lang)}\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
            f"<title>{_esc(t('pview_report_title', lang, partner=name))}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(sections)}</body></html>\n")
