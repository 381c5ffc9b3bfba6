"""The fields of a partner product and the checks of each (used by :mod:`cb_core.offers.catalog`).

Scalar fields are checked by a pandera schema of element-wise checks, each passing what an
earlier one reports, so one bad value gives one problem. Grade tables, category lists, missing
and unknown fields, fields of the other kind of product and duplicate ids are plain checks. All
add to one :class:`Report`: every problem names the product and the field.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..data import categories
from ..errors import Problem, SchemaError

__all__ = ["AMORTIZING", "REVENUE_BASED", "REPAYMENT_TYPES", "MAX_APR_PCT", "LIMIT_STEP_KRW", "GRADES", "TABLE",
           "SCALAR_KINDS", "FieldSpec", "PRODUCT_FIELDS", "Report", "missing", "number", "check_records",
           "check_scalars", "check_apr_table", "check_grades", "check_categories"]

AMORTIZING = "amortizing"
REVENUE_BASED = "daily_settlement_pct"
REPAYMENT_TYPES = (AMORTIZING, REVENUE_BASED)
#: Korea's legal maximum interest rate (Interest Limitation Act, since 2021-07), in percent.
MAX_APR_PCT = 20.0
#: Limits are rounded down to this many won.
LIMIT_STEP_KRW = 100_000
GRADES = range(1, 11)
TABLE = "loan_products"


@dataclass(frozen=True)
class FieldSpec:
    """One catalog field.

    ``kind``: ``id``, ``text``, ``whole``, ``number``, ``choice``, ``apr_table``, ``grades``,
    ``categories``. ``needed_by``: ``all``, ``amortizing`` or ``daily_settlement_pct`` (required
    for those products, not allowed on the others), or ``optional``.
    """

    kind: str
    needed_by: str = "all"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    help: str = ""


PRODUCT_FIELDS: dict[str, FieldSpec] = {
    "product_id": FieldSpec("id", help="Unique id: capital letters, digits and dashes (e.g. BANK-01)."),
    "partner": FieldSpec("text", help="Partner lender, in English (also its key in the partner view)."),
    "partner_ko": FieldSpec("text", help="Partner lender, in Korean."),
    "name": FieldSpec("text", help="Product name in Korean."),
    "name_en": FieldSpec("text", help="Product name in English."),
    "min_score": FieldSpec("whole", low=1, high=1000, help="Lowest CB score offered."),
    "min_months_active": FieldSpec("whole", low=0, high=600, help="Months with sales required."),
    "min_avg_monthly_gmv_krw": FieldSpec("whole", low=0, help="Lowest 3-month average monthly sales, won."),
    "limit_multiple_of_monthly_gmv": FieldSpec("number", low=0, high=120, low_open=True,
                                               help="Limit = this x the 3-month average monthly sales."),
    "limit_cap_krw": FieldSpec("whole", low=LIMIT_STEP_KRW, help="Highest limit, won."),
    "apr_by_grade": FieldSpec("apr_table", needed_by=AMORTIZING,
                              help="Grade -> APR % (no holes between grades; not falling as grades worsen)."),
    "eligible_grades": FieldSpec("grades", needed_by=REVENUE_BASED,
                                 help="Grades a revenue-based advance is offered to (no holes)."),
    "term_months": FieldSpec("whole", low=1, high=120, help="Term; for an advance its maximum term."),
    "repayment": FieldSpec("choice", help="amortizing | daily_settlement_pct."),
    "eligible_categories": FieldSpec("categories", needed_by="optional",
                                     help="Category codes offered to; absent or empty = all."),
    "broker_fee_pct": FieldSpec("number", low=0, high=10,
                                help="Fee the partner pays the platform, % of the amount lent (never the merchant)."),
    "withhold_pct": FieldSpec("number", needed_by=REVENUE_BASED, low=0, high=100, low_open=True,
                              help="Share of each daily settlement withheld, %."),
    "fixed_fee_pct": FieldSpec("number", needed_by=REVENUE_BASED, low=0, high=100,
                               help="Fixed fee, % of the advance."),
    "min_payment_every_days": FieldSpec("whole", needed_by=REVENUE_BASED, low=1, high=365,
                                        help="Length of each minimum-payment window, days."),
    "min_payment_pct": FieldSpec("number", needed_by=REVENUE_BASED, low=0, high=100, low_open=True,
                                 help="Minimum paid in each window, % of the total repayable."),
    "max_term_months": FieldSpec("whole", needed_by=REVENUE_BASED, low=1, high=60,
                                 help="Whatever is left falls due after this many months."),
}
SCALAR_KINDS = ("id", "text", "whole", "number", "choice")
_ID_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")  # "50,000,000" as Excel writes it

# ------------------------------------------------------------------ parsing single values

def missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def number(value: Any) -> float | None:
    """A finite number from an int, float or numeric text; None for anything else (bools too)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if "," in text and not _GROUPED.fullmatch(text):
            return None  # "1,20,0": separators not in groups of three are not guessed at
        try:
            v = float(text.replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return v if math.isfinite(v) else None


def _grade_key(key: Any) -> int | None:
    v = number(key)
    return int(v) if v is not None and v == int(v) and int(v) in GRADES else None


def _range_rule(spec: FieldSpec) -> str:
    low = f"{spec.low:,g}"
    if spec.high is None:
        return f"must be {'>' if spec.low_open else '≥'} {low}"
    return f"must be {'>' if spec.low_open else '≥'} {low} and ≤ {spec.high:,g}"


def _in_range(v: float, spec: FieldSpec) -> bool:
    above = v > spec.low if spec.low_open else v >= spec.low
    return above and (spec.high is None or v <= spec.high)

# ------------------------------------------------------------------ the pandera schema

def _scalar_checks(spec: FieldSpec) -> list[pa.Check]:
    """Element-wise checks; each passes what an earlier one reports, so one bad value, one problem."""
    if spec.kind == "id":
        return [pa.Check(lambda v: isinstance(v, str) and bool(_ID_RE.match(v)), element_wise=True,
                         error="must be capital letters, digits and dashes, at most 32 (e.g. BANK-01)")]
    if spec.kind == "text":
        return [pa.Check(lambda v: isinstance(v, str), element_wise=True, error="wrong type: expected text")]
    if spec.kind == "choice":
        return [pa.Check(lambda v: v in REPAYMENT_TYPES, element_wise=True,
                         error=f"must be one of {' | '.join(REPAYMENT_TYPES)}")]
    noun = "a whole number" if spec.kind == "whole" else "a number"
    checks = [pa.Check(lambda v: number(v) is not None, element_wise=True, error=f"wrong type: expected {noun}"),
              pa.Check(lambda v: number(v) is None or number(v) >= 0, element_wise=True,
                       error="must not be negative")]
    if spec.kind == "whole":
        checks.append(pa.Check(lambda v: number(v) is None or number(v) == int(number(v)),
                               element_wise=True, error="must be a whole number"))

    def within_bounds(v):  # not "in_range": pandera treats that name as its built-in check
        x = number(v)
        if x is None or x < 0 or (spec.kind == "whole" and x != int(x)):
            return True  # reported by the checks above
        return _in_range(x, spec)

    checks.append(pa.Check(within_bounds, element_wise=True, error=_range_rule(spec)))
    return checks


_SCHEMA = pa.DataFrameSchema(
    {name: pa.Column(None, _scalar_checks(spec), nullable=True, required=False)
     for name, spec in PRODUCT_FIELDS.items() if spec.kind in SCALAR_KINDS},
    name=TABLE)


# ------------------------------------------------------------------ plain checks

class Report:
    """Problems in the order found, each naming the product and the field."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, label: str, position: int, field: str, rule: str, example: Any = "") -> None:
        text = "" if missing(example) else str(example)[:60]
        self.problems.append(Problem(TABLE, field, f"product {label}: {field} {rule}", (position + 1,), 1, text))

    def raise_if_any(self) -> None:
        if self.problems:
            fields = list(PRODUCT_FIELDS)
            self.problems.sort(key=lambda p: (p.rows[0], fields.index(p.column) if p.column in fields
                                              else len(fields)))  # stable: per product, in field order
            lines = [f"{len(self.problems)} problem(s) in the product catalog; nothing was changed:"]
            lines += [f"  - {p.rule}" + (f" (got {p.example!r})" if p.example else "") for p in self.problems]
            raise SchemaError(self.problems, "\n".join(lines))


def _label(record: Mapping[str, Any], position: int) -> str:
    pid = record.get("product_id")
    return pid if isinstance(pid, str) and pid.strip() else f"#{position + 1}"


def _holes(grades: list[int]) -> list[int]:
    return [g for g in range(min(grades), max(grades) + 1) if g not in grades] if grades else []


def check_apr_table(value: Any, label: str, pos: int, report: Report) -> dict[int, float] | None:
    field = "apr_by_grade"
    if not isinstance(value, Mapping) or not value:
        report.add(label, pos, field, "must be a table of grade -> APR % (e.g. {\"1\": 3.2, \"2\": 4.1})", value)
        return None
    table: dict[int, float] = {}
    ok = True
    for key, apr in value.items():
        grade, rate = _grade_key(key), number(apr)
        if grade is None:
            report.add(label, pos, field, f"has grade {key!r}; grades are whole numbers 1–10")
            ok = False
        elif rate is None or not 0 < rate <= MAX_APR_PCT:
            report.add(label, pos, field, f"has APR {apr!r} for grade {grade}; an APR must be a number > 0 "
                       f"and ≤ {MAX_APR_PCT:g}% (the legal maximum rate)")
            ok = False
        elif grade in table:
            report.add(label, pos, field, f"lists grade {grade} twice")
            ok = False
        else:
            table[grade] = rate
    grades = sorted(table)
    for g in _holes(grades):
        report.add(label, pos, field, f"has no APR for grade {g} (holes between grades {grades[0]} and {grades[-1]})")
        ok = False
    for better, worse in zip(grades, grades[1:]):
        if table[worse] < table[better]:
            report.add(label, pos, field, f"falls as grades worsen: grade {worse} {table[worse]:g}% < "
                       f"grade {better} {table[better]:g}% (a worse grade must not pay less)")
            ok = False
    return dict(sorted(table.items())) if ok else None


def check_grades(value: Any, label: str, pos: int, report: Report) -> tuple[int, ...] | None:
    field = "eligible_grades"
    if not isinstance(value, (list, tuple)) or not value:
        report.add(label, pos, field, "must be a list of grades (e.g. [1, 2, 3])", value)
        return None
    grades = [_grade_key(v) for v in value]
    bad = [v for v, g in zip(value, grades) if g is None]
    if bad:
        report.add(label, pos, field, f"has {bad[0]!r}; grades are whole numbers 1–10")
        return None
    found = sorted(set(grades))
    if len(found) < len(grades):
        report.add(label, pos, field, "lists a grade twice")
    for g in _holes(found):
        report.add(label, pos, field, f"has no grade {g} (holes between grades {found[0]} and {found[-1]})")
    return tuple(found)


def check_categories(value: Any, label: str, pos: int, report: Report) -> tuple[str, ...] | None:
    field = "eligible_categories"
    if missing(value):
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        report.add(label, pos, field, "must be a list of category codes (e.g. [\"food\", \"living\"])", value)
        return None
    known = list(categories())
    for code in value:
        if code not in known:
            close = difflib.get_close_matches(code, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            report.add(label, pos, field, f"has unknown category {code!r}; expected one of "
                       f"{', '.join(known)}{hint}")
    return tuple(dict.fromkeys(value)) or None


def check_scalars(frame: pd.DataFrame, labels: list[str], report: Report) -> None:
    """Run the pandera schema over the scalar fields (one row per product, missing values None)."""
    try:
        _SCHEMA.validate(frame, lazy=True)
    except SchemaErrors as exc:
        for row in exc.failure_cases.itertuples(index=False):
            if pd.isna(row.index):  # a check that could not run at all: say so rather than hide it
                report.add("*", -1, str(row.column), f"could not be checked ({row.check})")
                continue
            pos = int(row.index)
            report.add(labels[pos], pos, str(row.column), str(row.check), row.failure_case)


def check_records(records: list[Any], report: Report) -> tuple[list[Mapping[str, Any]], list[str]]:
    """Records that are objects (others become empty), their labels, and problems of whole
    records: not an object, unknown fields, missing fields, fields of the other kind of product,
    duplicate ids."""
    labels = [_label(rec, pos) if isinstance(rec, Mapping) else f"#{pos + 1}" for pos, rec in enumerate(records)]
    checked: list[Mapping[str, Any]] = []
    seen: dict[str, int] = {}
    for pos, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            report.add(labels[pos], pos, "*", "is not an object of fields", rec)
            checked.append({})
            continue
        checked.append(rec)
        for field in rec:
            if field not in PRODUCT_FIELDS:
                close = difflib.get_close_matches(str(field), PRODUCT_FIELDS, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                report.add(labels[pos], pos, str(field), f"is not a catalog field{hint}")
        kind = rec.get("repayment") if rec.get("repayment") in REPAYMENT_TYPES else None
        for field, spec in PRODUCT_FIELDS.items():
            present = not missing(rec.get(field))
            if not present and spec.needed_by in ("all", kind):
                what = "" if spec.needed_by == "all" else f" (needed by {kind} products)"
                report.add(labels[pos], pos, field, f"is missing{what}")
            elif present and kind and spec.needed_by in REPAYMENT_TYPES and spec.needed_by != kind:
                report.add(labels[pos], pos, field, f"applies only to {spec.needed_by} products, not {kind}")
        if kind == REVENUE_BASED:
            term, max_term = number(rec.get("term_months")), number(rec.get("max_term_months"))
            if term is not None and max_term is not None and term == int(term) and term != max_term:
                report.add(labels[pos], pos, "term_months", f"of a revenue-based advance is its maximum term and "
                           f"must equal max_term_months ({max_term:g}); got {term:g}")
        pid = rec.get("product_id")
        if isinstance(pid, str):
            if pid in seen:
                report.add(labels[pos], pos, "product_id", f"duplicates product #{seen[pid] + 1}")
            seen.setdefault(pid, pos)
    return checked, labels
