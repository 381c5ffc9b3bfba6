"""The validation pack as one self-contained, printable HTML file in Korean or English.

The house style of the partner report (:mod:`cb_core.reports.partner`: its CSS, its
Content-Security-Policy that loads nothing, its escaping table writer) plus print rules (A4,
no page break inside a table row or a chart). Charts are inline SVG; there is no script and no
link. Every text that reaches the file passes through ``html.escape``; personal data arrive
masked (:mod:`cb_core.reports.validation`).
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from ..i18n import format_count, format_kst, format_number, t
from .book_tables import (backtest_table, bad_loans_table, calibration_table_text, definition_note,
                          early_reads_table, feature_psi_table, metrics_table, roll_table, score_psi_table,
                          vintage_table, weights_table, windows_table)
from .partner import _CSP, _CSS, _esc, _table_html
from .validation import ValidationTables

__all__ = ["validation_pack_html", "vintage_svg"]

_PRINT_CSS = """
.light-green{background:#e3f5ea}.light-amber{background:#fff3d6}.light-red{background:#fde2e1}
.caption{font-size:11px;color:#556;margin:4px 0 8px}svg{max-width:100%;height:auto}
@page{size:A4;margin:14mm}
@media print{body{margin:0;font-size:11px}h2{break-after:avoid}tr,svg,.kpis{break-inside:avoid}
section{break-inside:auto}a{color:inherit;text-decoration:none}}
"""
_COLOURS = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF",
            "#FECB52")


def vintage_svg(v: pd.DataFrame, lang: str, definition_key: str) -> str:
    """Cumulative bad rate (y, %) by months on book (x), one line per cohort, as inline SVG."""
    width, height, left, right, top, bottom = 720, 300, 56, 150, 30, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    max_mob = max(int(v["mob"].max()) if len(v) else 1, 1)
    max_rate = max(float(v["cum_bad_rate"].max()) if len(v) else 0.0, 0.01)
    x = lambda mob: left + plot_w * mob / max_mob  # noqa: E731
    y = lambda rate: top + plot_h * (1 - rate / max_rate)  # noqa: E731
    title = t("bp_vintage_title", lang, definition=t(f"loans_def_{definition_key}", lang))
    parts = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" "
             f"aria-label=\"{_esc(title)}\"><title>{_esc(title)}</title>",
             f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{left + plot_w}\" y2=\"{top + plot_h}\" stroke=\"#889\"/>",
             f"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + plot_h}\" stroke=\"#889\"/>"]
    for frac in (0, 0.5, 1):
        rate = max_rate * frac
        parts.append(f"<text x=\"{left - 6}\" y=\"{y(rate) + 4:.1f}\" font-size=\"10\" text-anchor=\"end\">"
                     f"{_esc(format_number(100 * rate, lang, 1))}%</text>")
    for mob in sorted({0, max_mob // 2, max_mob}):
        parts.append(f"<text x=\"{x(mob):.1f}\" y=\"{top + plot_h + 14}\" font-size=\"10\" text-anchor=\"middle\">"
                     f"{mob}</text>")
    parts.append(f"<text x=\"{left + plot_w / 2:.1f}\" y=\"{height - 8}\" font-size=\"11\" text-anchor=\"middle\">"
                 f"{_esc(t('bp_axis_mob', lang))}</text>")
    parts.append(f"<text x=\"14\" y=\"{top + plot_h / 2:.1f}\" font-size=\"11\" text-anchor=\"middle\" "
                 f"transform=\"rotate(-90 14 {top + plot_h / 2:.1f})\">{_esc(t('bp_axis_cum_bad', lang))}</text>")
    for i, (cohort, g) in enumerate(v.groupby("cohort", sort=True)):
        colour = _COLOURS[i % len(_COLOURS)]
        curve = g.groupby("mob")[["bads", "loans"]].sum()
        points = " ".join(f"{x(m):.1f},{y(b / n):.1f}" for m, (b, n) in curve.iterrows())
        parts.append(f"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{points}\">"
                     f"<title>{_esc(cohort)}</title></polyline>")
        ly = top + 12 * i
        if ly < height - 10:
            parts.append(f"<rect x=\"{width - right + 12}\" y=\"{ly - 8}\" width=\"10\" height=\"3\" fill=\"{colour}\"/>"
                         f"<text x=\"{width - right + 26}\" y=\"{ly - 4}\" font-size=\"10\">{_esc(cohort)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _backtest_html(tables: ValidationTables, lang: str) -> str:
    frame = backtest_table(tables.backtest, lang)
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = "".join(f"<tr class=\"light-{_esc(light)}\">" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
                   for light, row in zip(tables.backtest["light"], frame.itertuples(index=False)))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _card_table(card: dict, lang: str) -> pd.DataFrame:
    scale = card.get("scale", {})
    rows = [("bp_card_version", card.get("version", "")),
            ("bp_card_created", format_kst(card.get("created"), lang)),
            ("bp_card_type", t("bp_card_type_lightgbm", lang) if card.get("model_type") == "lightgbm_binary"
             else str(card.get("model_type", ""))),
            ("bp_card_features", format_count(len(card.get("features", [])), lang)),
            ("bp_card_trees", format_count(card.get("best_iteration"), lang)),
            ("bp_card_scale", t("bp_card_scale_value", lang, pdo=format_number(scale.get("pdo"), lang),
                                base=format_number(scale.get("base_score"), lang),
                                odds=format_number(scale.get("base_odds"), lang))),
            ("bp_card_grades", ", ".join(format_number(b, lang) for b in card.get("grade_boundaries", []))),
            ("bp_card_calibration", t("bp_card_calibration_value", lang))]
    return pd.DataFrame({t("bp_col_item", lang): [t(k, lang) for k, _ in rows],
                         t("bp_col_value", lang): [v for _, v in rows]})


def _section(title_key: str, lang: str, body: str, caption: str | None = None) -> str:
    note = f"<p class=\"caption\">{_esc(caption)}</p>" if caption else ""
    return f"<section><h2>{_esc(t(title_key, lang))}</h2>{note}{body}</section>"


def validation_pack_html(tables: ValidationTables, *, lang: str, generated_at: datetime) -> str:
    """The pack (see :mod:`cb_core.reports.validation`) as a self-contained HTML page in ``lang``."""
    t("bp_pack_title", lang)  # an unknown language fails here, before anything is built
    card = tables.card
    version = str(card.get("version", ""))
    meta = t("bp_pack_meta", lang, at=format_kst(generated_at, lang), model=version, book=tables.book_fingerprint[:12],
             month=tables.data_month, loans=format_count(tables.loans, lang))
    bad_def = definition_note("bad", lang)
    sections = [
        _section("bp_sec_card", lang, _table_html(_card_table(card, lang))
                 + f"<p class=\"caption\">{_esc(t('bp_windows_caption', lang))}</p>"
                 + _table_html(windows_table(tables.windows, lang))),
        _section("bp_sec_discrimination", lang, _table_html(metrics_table(card.get("metrics", {}), lang))
                 + (_table_html(calibration_table_text(tables.calibration, lang)) if tables.calibration is not None
                    else f"<p>{_esc(t('bp_no_test_rows', lang))}</p>"),
                 t("bp_discrimination_caption", lang) + " " + bad_def),
        _section("bp_sec_backtest", lang, _backtest_html(tables, lang) if len(tables.backtest)
                 else f"<p>{_esc(t('bp_backtest_empty', lang))}</p>", t("bp_backtest_caption", lang) + " " + bad_def),
        _section("bp_sec_vintages", lang, vintage_svg(tables.vintages, lang, tables.vintage_definition)
                 + _table_html(vintage_table(tables.vintages, lang)),
                 definition_note(tables.vintage_definition, lang)),
        _section("bp_sec_rolls", lang, _table_html(roll_table(tables.roll_rates, lang)), t("bp_rolls_caption", lang)),
        _section("bp_sec_early", lang, _table_html(early_reads_table(tables.early_reads, lang)),
                 t("bp_early_caption", lang)),
        _section("bp_sec_stability", lang, (_table_html(score_psi_table(tables.score_psi, lang)) if len(tables.score_psi)
                                            else f"<p>{_esc(t('bp_stability_empty', lang))}</p>")
                 + ("" if tables.feature_psi is None else
                    f"<p class=\"caption\">{_esc(t('bp_feature_psi_caption', lang))}</p>"
                    + _table_html(feature_psi_table(tables.feature_psi, lang))), t("bp_stability_caption", lang)),
        _section("bp_sec_weights", lang, _table_html(weights_table(tables.weights, lang)), t("bp_weights_caption", lang)),
        _section("bp_sec_bad_loans", lang, _table_html(bad_loans_table(tables.bad_loans, lang)) if len(tables.bad_loans)
                 else f"<p>{_esc(t('bp_no_bad_loans', lang))}</p>", t("bp_bad_loans_caption", lang) + " " + bad_def),
    ]
    title = t("bp_pack_title", lang)
    return (f"<!DOCTYPE html>\n<html lang=\"{_esc(lang)}\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
            f"<title>{_esc(title)}</title><style>{_CSS}{_PRINT_CSS}</style></head><body>"
            f"<h1>{_esc(title)}</h1><div class=\"meta\">{_esc(meta)}</div>{''.join(sections)}"
            f"<p class=\"note\">{_esc(t('bp_pack_note', lang))}</p></body></html>\n")
