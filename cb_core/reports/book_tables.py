"""The booked book's tables as people read them, in Korean or English: the Book performance page and
the validation pack show the same frames, built here from the engine's (:mod:`cb_core.loans`).

Column names and row labels come from the catalog (``data/i18n/book_performance.json``); states,
lights, definitions and information categories in words; rates and counts through the one
formatter of each unit (:mod:`cb_core.i18n`). Values stay text: a table shows what the engine
computed, rounded the way the formatter rounds it.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

from ..data import categories, feature_catalog
from ..i18n import format_count, format_number, format_pct, t
from ..loans import definition

__all__ = ["LIGHTS", "VINTAGE_MOBS", "backtest_table", "bad_loans_table", "calibration_table_text",
           "definition_note", "early_reads_table", "feature_psi_table", "group_labels", "light_label", "metrics_table", "roll_table",
           "score_psi_table", "status_label", "vintage_table", "weights_table", "windows_table"]

LIGHTS: tuple[str, ...] = ("green", "amber", "red")
#: Months on book shown as columns of the vintage table.
VINTAGE_MOBS: tuple[int, ...] = (1, 3, 6, 9, 12, 18, 24)


def light_label(light: str, lang: str) -> str:
    """``green`` -> 초록 (예측 범위 안) / Green (within the interval)."""
    return t(f"bp_light_{light}", lang)


def status_label(status: str, lang: str) -> str:
    """A loan status in words (``dpd_30_59`` -> 30–59일 연체)."""
    return t(f"loans_status_{status}", lang)


def group_labels(by: str | None, groups: Iterable[str], lang: str) -> dict[str, str]:
    """Readable name of each vintage group: grades as "등급 3", partners and products by their catalog
    name in ``lang`` (the raw value when the catalog has none), categories by the category list."""
    groups = [str(g) for g in groups]
    if by is None:
        return {g: t("bp_group_all", lang) for g in groups}
    if by == "grade":
        return {g: t("bp_grade_n", lang, grade=g) for g in groups}
    if by == "category":
        cats = categories()
        return {g: cats.get(g, {}).get(lang, g) for g in groups}
    from ..offers import PRODUCTS_FILE, load_products

    products = load_products(PRODUCTS_FILE)
    if by == "partner":
        names = dict(zip(products["partner"], products["partner_ko" if lang == "ko" else "partner"]))
    else:
        names = dict(zip(products["product_id"], products["name" if lang == "ko" else "name_en"]))
    return {g: str(names.get(g, g)) for g in groups}


def backtest_table(bt: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Backtest by grade: loans, predicted PD, observed bad rate, its 95% interval, the light in words."""
    return pd.DataFrame({
        t("bp_col_grade", lang): [t("bp_grade_n", lang, grade=int(g)) for g in bt["grade"]],
        t("bp_col_loans", lang): [format_count(v, lang) for v in bt["loans"]],
        t("bp_col_predicted_pd", lang): [format_pct(v, lang, 2) for v in bt["predicted_pd"]],
        t("bp_col_observed", lang): [format_pct(v, lang, 2) for v in bt["observed_bad_rate"]],
        t("bp_col_interval", lang): [f"{format_pct(lo, lang, 2)} – {format_pct(hi, lang, 2)}"
                                     for lo, hi in zip(bt["ci_low"], bt["ci_high"])],
        t("bp_col_light", lang): [light_label(v, lang) for v in bt["light"]],
    })


def roll_table(rates: pd.DataFrame, lang: str, value: str = "share") -> pd.DataFrame:
    """Roll rates as a from x to table in words: each row a state this month, each column next month's."""
    from ..loans import roll_matrix

    matrix = roll_matrix(rates, value)
    fmt = (lambda v: format_pct(v, lang, 1)) if value == "share" else (lambda v: format_count(v, lang))
    out = pd.DataFrame({t("bp_col_from_state", lang): [status_label(s, lang) for s in matrix.index]})
    for to in matrix.columns:
        out[status_label(to, lang)] = [fmt(v) for v in matrix[to]]
    leaving = rates.groupby("from_status")["loans"].sum().reindex(matrix.index)
    out[t("bp_col_transitions", lang)] = [format_count(v, lang) for v in leaving]
    return out


def vintage_table(v: pd.DataFrame, lang: str, by: str | None = None,
                  mobs: tuple[int, ...] = VINTAGE_MOBS) -> pd.DataFrame:
    """Cumulative bad rate of each cohort (and group) at chosen months on book; "–" not yet observed."""
    names = group_labels(by, v["group"].unique(), lang)
    rows = []
    for (cohort, group), g in v.groupby(["cohort", "group"], sort=True):
        rate = g.set_index("mob")["cum_bad_rate"]
        row = {t("bp_col_cohort", lang): cohort}
        if by is not None:
            row[t("bp_col_group", lang)] = names[str(group)]
        row[t("bp_col_loans", lang)] = format_count(int(g["loans"].iloc[0]), lang)
        for m in mobs:
            row[t("bp_col_mob_n", lang, mob=m)] = format_pct(rate.get(m), lang, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def early_reads_table(cm: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Early reads per cohort (first-payment default, 30+ by month 3) and, once judged, bad rate, AUC, KS."""
    return pd.DataFrame({
        t("bp_col_cohort", lang): cm["cohort"].astype(str),
        t("bp_col_loans", lang): [format_count(v, lang) for v in cm["loans"]],
        t("bp_col_fpd", lang): [format_pct(v, lang, 1) for v in cm["first_payment_default"]],
        t("bp_col_dpd30_mob3", lang): [format_pct(v, lang, 1) for v in cm["dpd30_by_mob3"]],
        t("bp_col_judged", lang): [format_count(v, lang) for v in cm["judged_12m"]],
        t("bp_col_bad_12m", lang): [format_pct(v, lang, 1) for v in cm["bad_rate_12m"]],
        t("bp_col_auc", lang): [format_number(v, lang, 3) for v in cm["auc"]],
        t("bp_col_ks", lang): [format_number(v, lang, 3) for v in cm["ks"]],
    })


def score_psi_table(sp: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Score PSI by month since training, with its band in words."""
    return pd.DataFrame({
        t("bp_col_month", lang): sp["month"].astype(str),
        t("bp_col_since_training", lang): [t("bp_months_n", lang, n=int(v)) for v in sp["months_since_training"]],
        t("bp_col_merchants", lang): [format_count(v, lang) for v in sp["merchants"]],
        t("bp_col_psi", lang): [format_number(v, lang, 3) for v in sp["psi"]],
        t("bp_col_band", lang): [t(f"bp_band_{b}", lang) for b in sp["band"]],
    })


def feature_psi_table(fp: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Feature PSI (worst first) with the features' names from the catalog."""
    catalog = feature_catalog()
    return pd.DataFrame({
        t("bp_col_feature", lang): [catalog[c].label(lang) if c in catalog else str(c) for c in fp["column"]],
        t("bp_col_psi", lang): [format_number(v, lang, 3) for v in fp["psi"]],
        t("bp_col_band", lang): [t(f"bp_band_{b}", lang) for b in fp["band"]],
    })


def weights_table(w: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Information categories and their weights (share of the mean absolute points)."""
    return pd.DataFrame({
        t("bp_col_info_group", lang): [t(f"info_group_{g}", lang) if g != "other" else t("bp_info_other", lang)
                                       for g in w["group"]],
        t("bp_col_weight", lang): [format_pct(v, lang, 1) for v in w["weight"]],
        t("bp_col_mean_points", lang): [format_number(v, lang, 1) for v in w["points"]],
        t("bp_col_features", lang): [format_count(v, lang) for v in w["features"]],
    })


def windows_table(windows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The model's windows: what each was used for, its months, rows, bads and bad rate."""
    return pd.DataFrame({
        t("bp_col_window", lang): [t(f"bp_window_{w}", lang) for w in windows["window"]],
        t("bp_col_periods", lang): [p or "–" for p in windows["periods"]],
        t("bp_col_rows", lang): [format_count(v, lang) for v in windows["rows"]],
        t("bp_col_bads", lang): [format_count(v, lang) for v in windows["bads"]],
        t("bp_col_bad_rate", lang): [format_pct(v, lang, 2) for v in windows["bad_rate"]],
    })


def metrics_table(card_metrics: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """AUC, Gini, KS, Brier and ECE of the test window, named and explained."""
    rows = []
    for key, digits in (("auc", 3), ("gini", 3), ("ks", 3), ("brier", 4), ("ece", 4)):
        value = card_metrics.get(key)
        shown = format_pct(value, lang, 2) if key == "ece" else format_number(value, lang, digits)
        rows.append({t("bp_col_metric", lang): t(f"bp_metric_{key}", lang), t("bp_col_value", lang): shown})
    return pd.DataFrame(rows)


def calibration_table_text(cal: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Predicted against observed bad rate in equal-count PD bins of the test window."""
    return pd.DataFrame({
        t("bp_col_bin", lang): [format_count(v, lang) for v in cal["bin"]],
        t("bp_col_pd_range", lang): [f"{format_pct(a, lang, 2)} – {format_pct(b, lang, 2)}"
                                     for a, b in zip(cal["pd_min"], cal["pd_max"])],
        t("bp_col_rows", lang): [format_count(v, lang) for v in cal["count"]],
        t("bp_col_bads", lang): [format_count(v, lang) for v in cal["bads"]],
        t("bp_col_predicted_pd", lang): [format_pct(v, lang, 2) for v in cal["mean_pd"]],
        t("bp_col_observed", lang): [format_pct(v, lang, 2) for v in cal["bad_rate"]],
    })


def bad_loans_table(bl: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The pack's sample of bad loans (already masked by the engine)."""
    partners = group_labels("partner", bl["partner"].unique(), lang)
    return pd.DataFrame({
        t("bp_col_loan", lang): bl["loan_id"], t("bp_col_merchant", lang): bl["merchant_id"],
        t("bp_col_owner", lang): bl["owner_name"], t("bp_col_reg_no", lang): bl["business_reg_no"],
        t("bp_col_partner", lang): [partners[p] for p in bl["partner"]],
        t("bp_col_cohort", lang): bl["booked_month"],
        t("bp_col_grade", lang): [t("bp_grade_n", lang, grade=int(g)) for g in bl["grade"]],
        t("bp_col_predicted_pd", lang): [format_pct(v, lang, 2) for v in bl["pd"]],
        t("bp_col_first_bad", lang): [t("bp_months_n", lang, n=int(v)) for v in bl["first_bad_mob"]],
    })


def definition_note(key: str, lang: str) -> str:
    """"Definition: 90+ days past due (or charged off)" for a registry key."""
    return t("bp_definition", lang, definition=definition(key).label(lang))
