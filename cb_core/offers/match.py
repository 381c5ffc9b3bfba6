"""Matching merchants to partner products: eligibility, limit, price, ranking.

Two implementations of the same rules, kept apart on purpose and tested against each other:

- :func:`offers_for` — one merchant, every product, plain Python: the readable reference, and the
  one that says in Korean and English why a product is out.
- :func:`match_book` — a whole book at once: numpy broadcasting over merchants x products, no
  Python loop over merchants (1,000,000 merchants in seconds).

The rules, in order (:data:`RULES`): ``score`` ≥ ``min_score``; ``grade`` in the product's grade
table; ``months_active`` ≥ ``min_months_active``; 3-month average monthly sales ≥
``min_avg_monthly_gmv_krw``; ``category`` in ``eligible_categories`` (when the product lists
any); and a limit of at least 100,000 KRW. Monthly sales are the 3-month average
(``gmv_3m_avg_krw``), which is the annualised 3-month sales divided by 12, as lenders publish it.

Terms of an eligible offer:

- limit = min(``limit_multiple_of_monthly_gmv`` x monthly sales, ``limit_cap_krw``), rounded
  down to 100,000 KRW;
- amortizing: APR from the grade, equal monthly instalments (annuity), total cost = interest;
- revenue-based advance: ``withhold_pct`` of every daily settlement (``monthly_payment_krw`` is
  that share of current monthly sales), total cost = the fixed fee; its ``apr_pct`` is an
  estimate (``apr_is_estimate``): the nominal annual rate at which the withholdings at current
  sales repay the advance (an annuity over the expected number of months).

Ranking of eligible offers: lowest APR, then highest limit, then catalog order. The broker fee
(``broker_fee_krw``) is what the partner pays the platform; the merchant never pays it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..data import categories
from ..errors import ConfigError
from ..i18n import format_krw
from .catalog import AMORTIZING, LIMIT_STEP_KRW, REVENUE_BASED

__all__ = ["RULES", "MERCHANT_FIELDS", "OFFER_COLUMNS", "BOOK_FIELDS", "offers_for", "match_book",
           "failed_rules", "round_down_limit", "annuity_payment", "advance_apr_pct"]

#: Eligibility rules in the order they are checked; rule ``i`` is bit ``1 << i`` of ``failed``.
RULES: tuple[str, ...] = ("score", "grade", "months_active", "gmv", "category", "limit")
#: What a merchant row must hold.
MERCHANT_FIELDS: tuple[str, ...] = ("score", "grade", "months_active", "gmv_3m_avg_krw", "category")
#: Columns of :func:`offers_for`, in order.
OFFER_COLUMNS: tuple[str, ...] = (
    "product_id", "partner", "partner_ko", "name", "name_en", "repayment", "eligible", "rank",
    "failed_rules", "reasons_ko", "reasons_en", "limit_krw", "apr_pct", "apr_is_estimate", "term_months",
    "monthly_payment_krw", "expected_months", "total_repaid_krw", "total_cost_krw", "broker_fee_krw",
    "withhold_pct", "fixed_fee_pct", "min_payment_every_days", "min_payment_pct", "max_term_months",
)
#: Per-product fields of :func:`match_book` (first column level).
BOOK_FIELDS: tuple[str, ...] = ("eligible", "failed", "limit_krw", "apr_pct", "monthly_payment_krw",
                                "total_cost_krw")
_MAX_NEWTON_STEPS = 30
_ROUNDING_SLACK = 1e-9  # 0.57 x 10,000,000 is 5,699,999.999... in floating point: it must not lose 100,000


# ------------------------------------------------------------------ money arithmetic (shared)

def round_down_limit(amount: Any) -> Any:
    """Round won amounts down to whole 100,000 KRW (NaN stays NaN; scalars and arrays)."""
    a = np.asarray(amount, dtype=float)
    return np.floor(a / LIMIT_STEP_KRW + _ROUNDING_SLACK) * LIMIT_STEP_KRW


def annuity_payment(principal: Any, apr_pct: Any, months: Any) -> Any:
    """Equal monthly instalment repaying ``principal`` over ``months`` at ``apr_pct`` a year
    (monthly rate = APR / 12): ``P r / (1 - (1 + r)^-n)``, or ``P / n`` at 0%.

    E.g. 10,000,000 KRW at 6% over 12 months -> 860,664.30 KRW.
    """
    p, n = np.asarray(principal, dtype=float), np.asarray(months, dtype=float)
    r = np.asarray(apr_pct, dtype=float) / 1200.0
    safe = np.where(r > 0, r, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(r > 0, p * safe / -np.expm1(-n * np.log1p(safe)), p / n)
    return out


def _annuity_factor(r: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 - (1+r)^-n) / r and its derivative in r, for r > 0 (NaN elsewhere, without warnings:
    callers mask those entries)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        disc = np.exp(-n * np.log1p(r))
        factor = -np.expm1(-n * np.log1p(r)) / r
        slope = (n * disc / (1 + r) - factor) / r
    return factor, slope


def advance_apr_pct(fee_pct: Any, months: Any) -> Any:
    """Nominal annual rate (%) of an advance repaid in equal monthly amounts over ``months``
    (fractional allowed) with a total fee of ``fee_pct`` of the advance: the ``r`` with
    ``annuity_factor(r, months) = months / (1 + fee)``, times 12.

    Newton steps from ``fee / months`` (below the root; the factor is convex and falling in
    ``r``, so the steps rise monotonically to it). 0 when the fee is 0; NaN when ``months`` is
    not positive and finite.
    """
    fee = np.asarray(fee_pct, dtype=float) / 100.0
    n = np.asarray(months, dtype=float)
    valid = (fee > 0) & (n > 0) & np.isfinite(n)
    n_safe = np.where(valid, n, 1.0)
    fee_safe = np.where(valid, fee, 0.01)
    target = n_safe / (1.0 + fee_safe)
    r = fee_safe / n_safe
    for _ in range(_MAX_NEWTON_STEPS):
        factor, slope = _annuity_factor(r, n_safe)
        step = (factor - target) / slope
        r = r - step
        if not np.any(np.abs(step) > 1e-13 * r):
            break
    out = np.where(valid, r * 1200.0, np.where((fee == 0) & (n > 0), 0.0, np.nan))
    return out


def failed_rules(mask: int) -> tuple[str, ...]:
    """Rule codes of a ``failed`` bitmask from :func:`match_book`."""
    return tuple(rule for i, rule in enumerate(RULES) if int(mask) >> i & 1)


# ------------------------------------------------------------------ one merchant: readable rules

def won_pair(value: float, need: float, lang: str) -> tuple[str, str]:
    """A merchant's amount and the rule's threshold with the one won formatter (214만원 < 300만원),
    every won of the amount where rounding would make the two read the same (49만 9,999원 < 50만원)."""
    shown, threshold = format_krw(value, lang), format_krw(need, lang)
    return (format_krw(value, lang, exact=True) if shown == threshold else shown), threshold


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def _grade_span(grades: tuple[int, ...]) -> str:
    return f"{grades[0]}–{grades[-1]}" if len(grades) > 1 else f"{grades[0]}"


def _check_rules(m: dict[str, Any], p: dict[str, Any], limit: float) -> list[tuple[str, str, str]]:
    """(rule, Korean reason, English reason) for every rule the merchant fails."""
    out: list[tuple[str, str, str]] = []
    score, grade, months, gmv = m["score"], m["grade"], m["months_active"], m["gmv_3m_avg_krw"]
    if not score >= p["min_score"]:
        out.append(("score", f"신용점수 {score:.0f}점 < 기준 {p['min_score']}점" if score == score else "신용점수 없음",
                    f"score {score:.0f} < {p['min_score']} required" if score == score else "score unknown"))
    grades = p["eligible_grades"]
    if not (grade == grade and grade in grades):
        shown = f"{grade:.0f}" if grade == grade else "?"
        out.append(("grade", f"{shown}등급은 대상이 아닙니다 (대상 {_grade_span(grades)}등급)",
                    f"grade {shown} is not offered (grades {_grade_span(grades)})"))
    if not months >= p["min_months_active"]:
        known = months == months
        out.append(("months_active",
                     f"매출 발생 개월수 {months:.0f}개월 < 기준 {p['min_months_active']}개월" if known
                     else "매출 발생 개월수 없음",
                     f"months with sales {months:.0f} < {p['min_months_active']} required" if known
                     else "months with sales unknown"))
    if not gmv >= p["min_avg_monthly_gmv_krw"]:
        known = gmv == gmv
        need = p["min_avg_monthly_gmv_krw"]
        ko, en = (won_pair(gmv, need, "ko"), won_pair(gmv, need, "en")) if known else (None, None)
        out.append(("gmv", f"최근 3개월 평균 매출 {ko[0]} < 기준 {ko[1]}" if known else "최근 3개월 평균 매출 없음",
                    f"3-month average sales {en[0]} < {en[1]} required" if known
                    else "3-month average sales unknown"))
    allowed = p["eligible_categories"]
    if allowed and m["category"] not in allowed:
        labels = categories()
        cat = m["category"]
        ko = labels.get(cat, {}).get("ko", str(cat)) if isinstance(cat, str) else "없음"
        en = labels.get(cat, {}).get("en", str(cat)) if isinstance(cat, str) else "unknown"
        out.append(("category", f"업종 {ko}은(는) 대상이 아닙니다 (대상: {', '.join(labels[c]['ko'] for c in allowed)})",
                    f"category {en} is not offered (offered to: {', '.join(labels[c]['en'] for c in allowed)})"))
    if not limit >= LIMIT_STEP_KRW:
        out.append(("limit", f"산정 한도가 최소 {format_krw(LIMIT_STEP_KRW, 'ko')} 미만입니다",
                    f"limit comes to less than the minimum {format_krw(LIMIT_STEP_KRW, 'en')}"))
    return out


def _merchant_values(merchant: pd.Series) -> dict[str, Any]:
    if not isinstance(merchant, (pd.Series, dict)):
        raise ConfigError(f"merchant must be a pandas Series; got {type(merchant).__name__}", key="err_match_merchant_pandas_series_got", kind=type(merchant).__name__)
    missing = [f for f in MERCHANT_FIELDS if f not in merchant]
    if missing:
        raise ConfigError(f"merchant needs {', '.join(MERCHANT_FIELDS)}; missing: {', '.join(missing)}", key="err_match_merchant_needs_merchant_fields", MERCHANT_FIELDS=', '.join(MERCHANT_FIELDS), missing=', '.join(missing))
    values = {f: _num(merchant[f]) for f in MERCHANT_FIELDS if f != "category"}
    cat = merchant["category"]
    values["category"] = cat if isinstance(cat, str) else None
    return values


def _terms(p: dict[str, Any], limit: float, grade: float, gmv: float) -> dict[str, Any]:
    """Price and repayment of an eligible offer."""
    if p["repayment"] == AMORTIZING:
        apr = p["apr_by_grade"][int(grade)]
        payment = float(annuity_payment(limit, apr, p["term_months"]))
        total = payment * p["term_months"]
        return {"apr_pct": apr, "apr_is_estimate": False, "monthly_payment_krw": payment,
                "expected_months": float(p["term_months"]), "total_repaid_krw": total, "total_cost_krw": total - limit}
    fee = limit * p["fixed_fee_pct"] / 100
    monthly = gmv * p["withhold_pct"] / 100
    months = (limit + fee) / monthly
    return {"apr_pct": float(advance_apr_pct(np.array([p["fixed_fee_pct"]]), np.array([months]))[0]),
            "apr_is_estimate": True, "monthly_payment_krw": monthly, "expected_months": months,
            "total_repaid_krw": limit + fee, "total_cost_krw": fee}


def offers_for(merchant: pd.Series, products: pd.DataFrame) -> pd.DataFrame:
    """Every product for one merchant: eligible or not, why not, and the terms.

    Parameters
    ----------
    merchant : Series
        ``score``, ``grade``, ``months_active``, ``gmv_3m_avg_krw``, ``category`` (other
        entries are ignored). Missing values fail the rules that need them.
    products : DataFrame
        From :func:`~cb_core.offers.catalog.load_products` / ``validate_products``.

    Returns
    -------
    DataFrame
        One row per product (:data:`OFFER_COLUMNS`), eligible offers first by ``rank``
        (1 = best), then the others in catalog order. ``failed_rules``, ``reasons_ko`` and
        ``reasons_en`` are tuples (empty when eligible); terms (``limit_krw`` to
        ``total_cost_krw``) are NaN for products the merchant is not eligible for.
    """
    m = _merchant_values(merchant)
    rows = []
    for position, p in enumerate(products.to_dict(orient="records")):
        raw = min(p["limit_multiple_of_monthly_gmv"] * m["gmv_3m_avg_krw"], p["limit_cap_krw"])
        limit = float(round_down_limit(raw))
        fails = _check_rules(m, p, limit)
        row = {k: p[k] for k in ("product_id", "partner", "partner_ko", "name", "name_en", "repayment",
                                 "term_months", "withhold_pct", "fixed_fee_pct", "min_payment_every_days",
                                 "min_payment_pct", "max_term_months")}
        row |= {"eligible": not fails, "failed_rules": tuple(f[0] for f in fails),
                "reasons_ko": tuple(f[1] for f in fails), "reasons_en": tuple(f[2] for f in fails),
                "limit_krw": np.nan, "apr_pct": np.nan, "apr_is_estimate": p["repayment"] == REVENUE_BASED,
                "monthly_payment_krw": np.nan, "expected_months": np.nan, "total_repaid_krw": np.nan,
                "total_cost_krw": np.nan, "broker_fee_krw": np.nan, "_position": position}
        if not fails:
            row |= {"limit_krw": limit, "broker_fee_krw": limit * p["broker_fee_pct"] / 100,
                    **_terms(p, limit, m["grade"], m["gmv_3m_avg_krw"])}
        rows.append(row)
    frame = pd.DataFrame(rows)
    eligible = frame[frame["eligible"]].sort_values(["apr_pct", "limit_krw", "_position"],
                                                    ascending=[True, False, True], kind="mergesort")
    frame["rank"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame.loc[eligible.index, "rank"] = np.arange(1, len(eligible) + 1)
    order = list(eligible.index) + list(frame.index[~frame["eligible"]])
    out = frame.loc[order, list(OFFER_COLUMNS)].reset_index(drop=True)
    return out.astype({"eligible": bool, "apr_is_estimate": bool})


# ------------------------------------------------------------------ the whole book: vectorised

_PER_PRODUCT = ("min_score", "min_months", "min_gmv", "multiple", "cap", "term")


def _product_arrays(products: pd.DataFrame, cat_codes: list[str]) -> dict[str, np.ndarray]:
    """Per-product parameters (products on the last axis) and lookup tables by grade / category."""
    n_p = len(products)
    rate = np.full((12, n_p), np.nan)      # grade 0..11 x product; grades 0 and 11 stand for "no grade"
    for j, (grades, table) in enumerate(zip(products["eligible_grades"], products["apr_by_grade"])):
        for g in grades:
            rate[g, j] = table[g] if isinstance(table, dict) else 0.0
    term = products["term_months"].to_numpy(dtype=float)
    amort = (products["repayment"] == AMORTIZING).to_numpy()
    with np.errstate(invalid="ignore"):
        per_won = np.where(amort, annuity_payment(1.0, rate, term), np.nan)  # instalment per won lent
    allowed = np.ones((len(cat_codes) + 1, n_p), dtype=bool)  # last row: unknown or missing category
    for j, cats in enumerate(products["eligible_categories"]):
        if cats:
            allowed[:, j] = np.isin(cat_codes + [None], list(cats))
    num = lambda col: products[col].to_numpy(dtype=float, na_value=np.nan)  # noqa: E731
    return {"rate": rate, "per_won": per_won, "allowed": allowed, "min_score": num("min_score"),
            "min_months": num("min_months_active"), "min_gmv": num("min_avg_monthly_gmv_krw"),
            "multiple": num("limit_multiple_of_monthly_gmv"), "cap": num("limit_cap_krw"), "term": term,
            "withhold": num("withhold_pct"), "fee": num("fixed_fee_pct"), "amortizing": amort}


def match_book(frame: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Every merchant x every product at once.

    Parameters
    ----------
    frame : DataFrame
        One row per merchant with ``score``, ``grade``, ``months_active``, ``gmv_3m_avg_krw``,
        ``category`` (categorical or text); index kept.
    products : DataFrame
        From :func:`~cb_core.offers.catalog.load_products`.

    Returns
    -------
    DataFrame
        Two column levels. ``(field, product_id)`` for each field of :data:`BOOK_FIELDS`:
        ``eligible`` (bool), ``failed`` (bitmask of :data:`RULES`; decode with
        :func:`failed_rules`), ``limit_krw``, ``apr_pct``, ``monthly_payment_krw``,
        ``total_cost_krw`` (NaN where not eligible). Then ``("best", ...)``: ``limit_krw``,
        ``apr_pct``, ``monthly_payment_krw`` of the best-ranked eligible offer (NaN when there is
        none), its ``product_id`` (missing when none) and ``n_eligible``.
    """
    missing = [f for f in MERCHANT_FIELDS if f not in frame.columns]
    if missing:
        raise ConfigError(f"match_book needs columns {', '.join(MERCHANT_FIELDS)}; missing: {', '.join(missing)}", key="err_match_match_book_needs_columns", MERCHANT_FIELDS=', '.join(MERCHANT_FIELDS), missing=', '.join(missing))
    cat_codes = list(categories())
    P = _product_arrays(products, cat_codes)
    n, n_p = len(frame), len(products)
    param = {k: v[:, None] if k in _PER_PRODUCT else v for k, v in P.items()}  # products x 1

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    score, grade, months, gmv = col("score"), col("grade"), col("months_active"), col("gmv_3m_avg_krw")
    cat = pd.Categorical(frame["category"], categories=cat_codes).codes.astype(np.int64)
    cat[cat < 0] = len(cat_codes)
    g = np.where((grade >= 1) & (grade <= 10) & (grade == np.round(grade)), grade, 0).astype(np.int64)

    # Products x merchants, every float result in one block laid out as pandas stores the
    # returned columns (one contiguous row per column), so framing it copies nothing.
    out = np.empty((4 * n_p + 3, n))
    limit, apr, payment, cost = (out[k * n_p:(k + 1) * n_p] for k in range(4))
    np.minimum(param["multiple"] * gmv, param["cap"], out=limit)
    limit[:] = round_down_limit(limit)

    rate = P["rate"].T[:, g]                       # NaN: grade not offered
    with np.errstate(invalid="ignore"):
        checks = (score >= param["min_score"], ~np.isnan(rate), months >= param["min_months"],
                  gmv >= param["min_gmv"], P["allowed"].T[:, cat], limit >= LIMIT_STEP_KRW)
    failed = np.zeros((n_p, n), dtype=np.uint8)
    for bit, passed in enumerate(checks):
        failed |= (~passed).view(np.uint8) << np.uint8(bit)
    eligible = failed == 0

    np.multiply(limit, P["per_won"].T[:, g], out=payment)         # amortizing instalments
    np.multiply(payment, param["term"], out=cost)
    cost -= limit
    apr[:] = rate
    for j in np.flatnonzero(~P["amortizing"]):  # advances: withholding at current sales, fee, estimated APR
        np.multiply(gmv, P["withhold"][j] / 100, out=payment[j])
        np.multiply(limit[j], P["fee"][j] / 100, out=cost[j])
        ok = eligible[j]
        apr[j] = np.nan
        apr[j, ok] = advance_apr_pct(P["fee"][j], (limit[j, ok] + cost[j, ok]) / payment[j, ok])
    for block in (limit, apr, payment, cost):
        np.copyto(block, np.nan, where=~eligible)

    # best: lowest APR, then highest limit, then catalog order (argmax takes the first maximum)
    best_apr = np.fmin.reduce(apr, axis=0)
    best = np.argmax(np.where(apr == best_apr, limit, -1.0), axis=0)
    has_offer = ~np.isnan(best_apr)
    merchants = np.arange(n)
    for k, block in enumerate((limit, apr, payment)):
        out[4 * n_p + k] = np.where(has_offer, block[best, merchants], np.nan)

    ids = products["product_id"].to_numpy(dtype=object)
    field_columns = lambda fields: pd.MultiIndex.from_product([fields, ids], names=["field", "product_id"])  # noqa: E731
    best_columns = pd.MultiIndex.from_tuples([("best", "limit_krw"), ("best", "apr_pct"),
                                              ("best", "monthly_payment_krw")], names=["field", "product_id"])
    parts = [
        pd.DataFrame(eligible.T, index=frame.index, columns=field_columns(["eligible"]), copy=False),
        pd.DataFrame(failed.T, index=frame.index, columns=field_columns(["failed"]), copy=False),
        pd.DataFrame(out.T, index=frame.index, columns=field_columns(list(BOOK_FIELDS[2:])).append(best_columns),
                     copy=False),
        pd.DataFrame({("best", "product_id"): pd.Series(np.where(has_offer, ids[best], None), index=frame.index,
                                                        dtype=object),
                      ("best", "n_eligible"): eligible.sum(axis=0)}, index=frame.index),
    ]
    result = pd.concat(parts, axis=1)
    result.columns.names = ["field", "product_id"]
    return result
