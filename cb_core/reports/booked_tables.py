"""A partner's booked book (:mod:`cb_core.reports.booked_book`) as labelled tables and as the
booked-book section of the partner's HTML report, in Korean or English.

Every number goes through the one formatter of its unit (:mod:`cb_core.i18n`); categories and
regions are shown by their catalog labels; every definition is named by the registry's label.
"""
from __future__ import annotations

import pandas as pd

from ..data import categories, regions
from ..errors import ConfigError
from ..i18n import format_count, format_days, format_krw, format_pct, t
from ..loans import definition
from ._html import esc, table_html
from .booked_book import CONCENTRATION_BY, DELINQUENCY_KEYS, PartnerBook, hhi_reading

__all__ = ["PARTNER_VINTAGE_MOBS", "RAW_PARTS", "book_kpis", "booked_book_html", "concentration_summary",
           "concentration_table", "delinquency_table", "delinquent_table", "group_label", "partner_vintage_table",
           "raw_table", "volume_table"]

#: Months on book shown as columns of the vintage table.
PARTNER_VINTAGE_MOBS: tuple[int, ...] = (3, 6, 9, 12, 18, 24)


def book_kpis(book: PartnerBook, lang: str) -> list[tuple[str, str]]:
    """(label, value) of the headline figures: loans and amount booked, open loans and outstanding
    balance at ``as_of``, and the 30+ and 90+ shares of the outstanding balance."""
    total = book.delinquency_total
    share = (lambda key: float(total[f"{key}_balance_share"].iloc[0]) if len(total) else float("nan"))
    return [(t("pbook_kpi_loans", lang), format_count(book.n_loans, lang)),
            (t("pbook_kpi_booked", lang), format_krw(book.booked_krw, lang)),
            (t("pbook_kpi_open", lang), format_count(book.open_loans, lang)),
            (t("pbook_kpi_outstanding", lang), format_krw(book.outstanding_krw, lang)),
            (t("pbook_kpi_dpd30", lang), format_pct(share("dpd_30"), lang)),
            (t("pbook_kpi_dpd90", lang), format_pct(share("dpd_90"), lang))]


def volume_table(book: PartnerBook, lang: str) -> pd.DataFrame:
    """Per month: loans and amount booked, open loans and outstanding balance at the month's end."""
    v = book.volume
    return pd.DataFrame({
        t("pbook_col_month", lang): v["month"].astype(str).to_numpy(),
        t("pbook_col_booked_loans", lang): [format_count(n, lang) for n in v["booked_loans"]],
        t("pbook_col_booked_krw", lang): [format_krw(a, lang) for a in v["booked_krw"]],
        t("pbook_col_open_loans", lang): [format_count(n, lang) for n in v["open_loans"]],
        t("pbook_col_outstanding", lang): [format_krw(a, lang) for a in v["outstanding_krw"]],
    })


def partner_vintage_table(book: PartnerBook, lang: str) -> pd.DataFrame:
    """Per booking cohort: its loans and the cumulative bad rate at months on book
    :data:`PARTNER_VINTAGE_MOBS` (up to the oldest cohort's age; "–" where a cohort is not that old yet)."""
    v = book.vintages
    if v.empty:
        return pd.DataFrame()
    oldest = int(v["mob"].max())
    mobs = [m for m in PARTNER_VINTAGE_MOBS if m <= oldest] or [oldest]
    rows = []
    for cohort, grp in v.groupby("cohort", sort=True):
        rate = grp.set_index("mob")["cum_bad_rate"]
        row = {t("pbook_col_cohort", lang): str(cohort),
               t("pbook_col_loans", lang): format_count(grp["loans"].iloc[0], lang)}
        for m in mobs:
            row[t("pbook_col_at_mob", lang, mob=m)] = format_pct(rate.get(m), lang)
        rows.append(row)
    return pd.DataFrame(rows)


def group_label(by: str, value: object, lang: str) -> str:
    """A concentration group as a reader reads it: a category's or region's catalog label, a grade."""
    text = "" if value is None else str(value)
    if text == "":
        return t("pbook_unknown", lang)
    if by == "category":
        return categories().get(text, {}).get(lang, text)
    if by == "region":
        return regions().get(text, {}).get(lang, text)
    return t("pbook_grade_n", lang, grade=text)


def delinquency_table(book: PartnerBook, lang: str) -> pd.DataFrame:
    """Per grade at booking and over all grades (last row): open loans, outstanding balance, and the
    shares of loans and of balance 30+, 60+ and 90+ days past due."""
    if book.delinquency_total.empty:
        return pd.DataFrame()
    frame = pd.concat([book.delinquency, book.delinquency_total], ignore_index=True)
    labels = [t("pbook_grade_n", lang, grade=int(g)) for g in book.delinquency["grade"]] + [t("pbook_all_grades", lang)]
    out = {t("pbook_col_grade", lang): labels,
           t("pbook_col_open_loans", lang): [format_count(n, lang) for n in frame["open_loans"]],
           t("pbook_col_outstanding", lang): [format_krw(a, lang) for a in frame["outstanding_krw"]]}
    for key in DELINQUENCY_KEYS:
        days = key.split("_")[1]
        out[t("pbook_col_loan_share", lang, days=days)] = [format_pct(s, lang) for s in frame[f"{key}_loan_share"]]
        out[t("pbook_col_balance_share", lang, days=days)] = [format_pct(s, lang)
                                                              for s in frame[f"{key}_balance_share"]]
    return pd.DataFrame(out)


def concentration_table(book: PartnerBook, by: str, lang: str) -> pd.DataFrame:
    """Outstanding balance by ``by`` (``category``, ``region``, ``grade``): open loans, balance, share."""
    c = book.concentration[by]
    if c.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        t(f"pbook_by_{by}", lang): [group_label(by, g, lang) for g in c["group"]],
        t("pbook_col_open_loans", lang): [format_count(n, lang) for n in c["open_loans"]],
        t("pbook_col_outstanding", lang): [format_krw(a, lang) for a in c["outstanding_krw"]],
        t("pbook_col_share", lang): [format_pct(s, lang) for s in c["share"]],
    })


def concentration_summary(book: PartnerBook, lang: str) -> pd.DataFrame:
    """Per dimension: the HHI of the outstanding balance (0–10,000) and its reading."""
    rows = []
    for by in CONCENTRATION_BY:
        value = book.hhi[by]
        reading = hhi_reading(value)
        rows.append({t("pbook_col_dimension", lang): t(f"pbook_by_{by}", lang),
                     t("pbook_col_groups", lang): format_count(len(book.concentration[by]), lang),
                     t("pbook_col_hhi", lang): format_count(value, lang),
                     t("pbook_col_reading", lang): t(f"pbook_hhi_{reading}", lang) if reading else "–"})
    return pd.DataFrame(rows)


def delinquent_table(book: PartnerBook, lang: str) -> pd.DataFrame:
    """The partner's loans 30+ days past due at ``as_of``, largest balance first (masked)."""
    d = book.delinquent
    if d.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        t("pbook_col_loan_id", lang): d["loan_id"].to_numpy(),
        t("pview_col_merchant", lang): d["merchant_id"].to_numpy(),
        t("pview_col_owner", lang): d["owner_name"].to_numpy(),
        t("pview_col_reg_no", lang): d["business_reg_no"].to_numpy(),
        t("pview_col_category", lang): [group_label("category", v, lang) for v in d["category"]],
        t("pview_col_region", lang): [group_label("region", v, lang) for v in d["region"]],
        t("pbook_col_grade", lang): [t("pbook_grade_n", lang, grade=int(g)) for g in d["grade"]],
        t("pbook_col_cohort", lang): d["booked_month"].to_numpy(),
        t("pbook_col_dpd", lang): [format_days(n, lang) for n in d["days_past_due"]],
        t("pbook_col_status", lang): [t(f"loans_status_{s}", lang) for s in d["status"]],
        t("pbook_col_balance", lang): [format_krw(a, lang) for a in d["balance_krw"]],
    })


#: What :func:`raw_table` can give: the parts of the tab, each downloadable with full precision.
RAW_PARTS: tuple[str, ...] = ("volume", "vintages", "delinquency", "hhi", *CONCENTRATION_BY, "past_due")
# raw column -> the label key of its header (and its unit: won, a fraction 0-1, days)
_RAW_LABELS: dict[str, tuple[str, dict, str]] = {
    "month": ("pbook_col_month", {}, ""), "booked_loans": ("pbook_col_booked_loans", {}, ""),
    "booked_krw": ("pbook_col_booked_krw", {}, "krw"), "open_loans": ("pbook_col_open_loans", {}, ""),
    "outstanding_krw": ("pbook_col_outstanding", {}, "krw"), "cohort": ("pbook_col_cohort", {}, ""),
    "mob": ("pbook_axis_mob", {}, ""), "loans": ("pbook_col_loans", {}, ""), "bads": ("pbook_col_bads", {}, ""),
    "cum_bad_rate": ("pbook_col_cum_bad", {}, "fraction"), "grade": ("pbook_col_grade", {}, ""),
    "share": ("pbook_col_share", {}, "fraction"), "hhi": ("pbook_col_hhi", {}, ""),
    "loan_id": ("pbook_col_loan_id", {}, ""), "merchant_id": ("pview_col_merchant", {}, ""),
    "owner_name": ("pview_col_owner", {}, ""), "business_reg_no": ("pview_col_reg_no", {}, ""),
    "category": ("pview_col_category", {}, ""), "region": ("pview_col_region", {}, ""),
    "booked_month": ("pbook_col_cohort", {}, ""), "days_past_due": ("pbook_col_dpd", {}, "days"),
    "status": ("pbook_col_status", {}, ""), "balance_krw": ("pbook_col_balance", {}, "krw"),
    **{f"{k}_{what}": (key, {"days": k.split("_")[1]}, unit) for k in DELINQUENCY_KEYS for what, key, unit in (
        ("loans", "pbook_col_dpd_loans", ""), ("krw", "pbook_col_dpd_krw", "krw"),
        ("loan_share", "pbook_col_loan_share", "fraction"), ("balance_share", "pbook_col_balance_share", "fraction"))},
}


def _raw_header(column: str, lang: str) -> str:
    key, fmt, unit = _RAW_LABELS[column]
    label = t(key, lang, **fmt)
    return t(f"pbook_unit_{unit}", lang, label=label) if unit else label


def raw_table(book: PartnerBook, part: str, lang: str) -> pd.DataFrame:
    """A part of the booked book (:data:`RAW_PARTS`) with full-precision values, for a CSV download:
    amounts in won, shares as fractions 0–1, each header naming its unit in ``lang``; categories,
    regions, grades and statuses in words; personal data as masked as on screen."""
    if part not in RAW_PARTS:
        raise ConfigError(f"part must be one of {', '.join(RAW_PARTS)}; got {part!r}", key="err_booked_tables_part_one_raw_parts", RAW_PARTS=', '.join(RAW_PARTS), part=part)
    if book.empty:
        return pd.DataFrame()
    if part == "volume":
        frame = book.volume
    elif part == "vintages":
        frame = book.vintages
    elif part == "delinquency":
        frame = pd.concat([book.delinquency, book.delinquency_total], ignore_index=True)
        if len(frame):
            frame["grade"] = [t("pbook_grade_n", lang, grade=int(g)) for g in book.delinquency["grade"]] + [
                t("pbook_all_grades", lang)]
    elif part == "hhi":
        frame = pd.DataFrame({"group": [t(f"pbook_by_{by}", lang) for by in CONCENTRATION_BY],
                              "hhi": [book.hhi[by] for by in CONCENTRATION_BY],
                              "status": [t(f"pbook_hhi_{r}", lang) if (r := hhi_reading(book.hhi[by])) else ""
                                         for by in CONCENTRATION_BY]})
        return frame.set_axis([t("pbook_col_dimension", lang), t("pbook_col_hhi", lang),
                               t("pbook_col_reading", lang)], axis=1)
    elif part == "past_due":
        frame = book.delinquent.copy()
        if len(frame):
            frame["category"] = [group_label("category", v, lang) for v in frame["category"]]
            frame["region"] = [group_label("region", v, lang) for v in frame["region"]]
            frame["status"] = [t(f"loans_status_{v}", lang) for v in frame["status"]]
    else:
        frame = book.concentration[part].copy()
        if len(frame):
            frame["group"] = [group_label(part, g, lang) for g in frame["group"]]
        return frame.set_axis([t(f"pbook_by_{part}", lang), *(_raw_header(c, lang) for c in frame.columns[1:])],
                              axis=1)
    return frame.set_axis([_raw_header(str(c), lang) for c in frame.columns], axis=1)


def booked_book_html(book: PartnerBook, lang: str) -> str:
    """The booked-book section of the partner's HTML report (every text escaped; no script, no link)."""
    title = f"<h2>{esc(t('pbook_title', lang))}</h2>"
    if book.empty:
        return f"{title}<p>{esc(t('pbook_none', lang))}</p>"
    kpis = "".join(f"<div class=\"kpi\"><div class=\"label\">{esc(k)}</div><div class=\"value\">{esc(v)}</div></div>"
                   for k, v in book_kpis(book, lang))
    parts = [title, f"<div class=\"meta\">{esc(t('pbook_as_of', lang, month=book.as_of))}</div>",
             f"<div class=\"kpis\">{kpis}</div>",
             f"<h3>{esc(t('pbook_volume', lang))}</h3>{_volume_svg(book, lang)}{table_html(volume_table(book, lang))}",
             f"<h3>{esc(t('pbook_vintages', lang))}</h3>"
             f"<div class=\"meta\">{esc(t('pbook_definition', lang, name=definition(book.bad).label(lang)))}</div>"
             f"{table_html(partner_vintage_table(book, lang))}",
             f"<h3>{esc(t('pbook_delinquency', lang))}</h3>{_or_none(delinquency_table(book, lang), lang)}",
             f"<h3>{esc(t('pbook_concentration', lang))}</h3>{table_html(concentration_summary(book, lang))}"]
    for by in CONCENTRATION_BY:
        parts.append(f"<h4>{esc(t(f'pbook_by_{by}', lang))}</h4>{_or_none(concentration_table(book, by, lang), lang)}")
    parts.append(f"<h3>{esc(t('pbook_delinquent', lang))}</h3>"
                 f"{_or_none(delinquent_table(book, lang), lang, 'pbook_no_delinquent')}")
    return f"<section id=\"booked-book\">{''.join(parts)}</section>"


def _or_none(frame: pd.DataFrame, lang: str, key: str = "pbook_no_open") -> str:
    return table_html(frame) if not frame.empty else f"<p>{esc(t(key, lang))}</p>"


def _volume_svg(book: PartnerBook, lang: str) -> str:
    """Outstanding balance at each month's end as an inline SVG bar chart (no script), its axis in won."""
    v = book.volume
    width, height, pad, left = 640, 180, 24, 90
    top = float(v["outstanding_krw"].max()) if len(v) else 0.0
    if not top > 0:
        return ""
    bar = (width - left - pad) / len(v)
    title = t("pbook_axis_balance", lang)
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height + 2 * pad}\" "
             f"role=\"img\" aria-label=\"{esc(title)}\">",
             f"<text x=\"4\" y=\"12\" font-size=\"11\">{esc(title)}</text>",
             *(f"<text x=\"{left - 6}\" y=\"{y}\" font-size=\"10\" text-anchor=\"end\">{esc(format_krw(a, lang))}</text>"
               for a, y in ((top, pad + 4), (0, pad + height)))]
    for i, row in enumerate(v.itertuples(index=False)):
        h = height * row.outstanding_krw / top
        x = left + i * bar
        parts.append(f"<rect x=\"{x + 1:.1f}\" y=\"{pad + height - h:.1f}\" width=\"{max(bar - 2, 1):.1f}\" "
                     f"height=\"{h:.1f}\" fill=\"#636EFA\"><title>{esc(row.month)}: "
                     f"{esc(format_krw(row.outstanding_krw, lang))}</title></rect>")
    for i in sorted({0, len(v) - 1}):
        parts.append(f"<text x=\"{left + (i + 0.5) * bar:.1f}\" y=\"{pad + height + 14}\" font-size=\"10\" "
                     f"text-anchor=\"middle\">{esc(v['month'].iloc[i])}</text>")
    parts.append("</svg>")
    return "".join(parts)
