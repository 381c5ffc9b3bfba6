"""Pandera column checks of the data contract, over a column's parsed forms.

Split out of :mod:`cb_core.data.schema`; every name here is re-exported from there.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import catalog
from ._schema_parse import _INVISIBLE, _MAX_WHOLE, _Column, _month_text
from ._spec import ColumnSpec



# ---------------------------------------------------------------------------------------------
# Checks: pandera checks over a column's parsed forms. Each flags only values that no earlier
# check flags, so one bad cell gives one problem.

def _check(rule: str, bad: Callable[[], pd.Series]) -> pa.Check:
    def passes(s: pd.Series) -> pd.Series:
        return ~bad().fillna(False).astype(bool).reindex(s.index, fill_value=False)
    return pa.Check(passes, error=rule)


def _range_rule(spec: ColumnSpec) -> str:
    if spec.low is not None and spec.high is not None:
        return f"must be within [{spec.low:g}, {spec.high:g}]"
    return f"must be {'>' if spec.low_open else '≥'} {spec.low:g}"


def _too_large_rule(spec: ColumnSpec) -> str:
    if spec.kind == "whole":
        return f"too large: at most {_MAX_WHOLE - 1:,} (larger whole numbers are not exact)"
    return "too large: beyond the largest number a computer can hold (about 1.8e308)"


def _number_checks(spec: ColumnSpec, col: _Column) -> list[pa.Check]:
    def wrong_type() -> pd.Series:
        bad_grouping, korean, _ = col.number_text
        return col.numbers[1] & ~bad_grouping & ~korean

    def finite() -> pd.Series:
        values, wrong = col.numbers
        return col.values.notna() & ~wrong & ~np.isfinite(values) & ~col.number_text[2]

    def too_large() -> pd.Series:
        v = col.numbers[0]
        big = col.number_text[2]
        if spec.kind == "whole":
            big = big | (np.isfinite(v) & (v.abs() >= _MAX_WHOLE))
        return big

    def fraction() -> pd.Series:
        v = col.numbers[0]
        return np.isfinite(v) & (v != np.floor(v)) & (v.abs() < _MAX_WHOLE)

    def out_of_range() -> pd.Series:
        v = col.numbers[0]
        bad = (v <= spec.low) if spec.low_open else (v < spec.low)
        if spec.high is not None:
            bad |= v > spec.high
        return bad & np.isfinite(v) & ~too_large() & ~(fraction() if spec.kind == "whole" else False)

    noun = "a whole number" if spec.kind == "whole" else "a number"
    checks = [_check(f"wrong type: expected {noun}{spec.unit}", wrong_type),
              _check("thousands separators in the wrong places: write digits (1200000 or 1,200,000)",
                     lambda: col.number_text[0]),
              _check("Korean number words or units: write the amount in digits (120만원 → 1200000)",
                     lambda: col.number_text[1]),
              _check("must be a finite number (not NaN or infinity)", finite),
              _check(_too_large_rule(spec), too_large)]
    if spec.kind == "whole":
        checks.append(_check(f"must be a whole number{spec.unit}", fraction))
    if spec.low is not None:
        checks.append(_check(_range_rule(spec), out_of_range))
    return checks


def _column_checks(spec: ColumnSpec, col: _Column, today: date) -> list[pa.Check]:
    kind, s = spec.kind, col.values
    if kind == "id":
        def spaces() -> pd.Series:
            return s.notna() & s.ne(s.str.strip())

        return [_check("must not start or end with spaces", spaces),
                _check("must not contain tabs, line breaks or other control or invisible characters",
                       lambda: s.notna() & s.str.contains(_INVISIBLE).fillna(False).astype(bool) & ~spaces())]
    if kind == "reg_no":
        return [_check("must be a business number NNN-NN-NNNNN (e.g. '123-45-67890')",
                       lambda: s.notna() & ~s.str.fullmatch(r"[0-9]{3}-[0-9]{2}-[0-9]{5}"))]
    if kind == "category":
        codes = list(catalog.categories())
        return [pa.Check.isin(codes, error=f"unknown category; expected one of {', '.join(codes)}")]
    if kind == "region":
        names = list(catalog.regions())
        return [pa.Check.isin(names, error=(
            f"unknown region; expected the official name of one of the {len(names)} "
            f"provinces/metropolitan cities, e.g. '{names[0]}' (not '{catalog.regions()[names[0]]['ko']}')"))]
    if kind == "date":
        checks = [_check("wrong type: expected a date YYYY-MM-DD", lambda: col.dates[1])]
        if spec.not_future:
            checks.append(_check(f"must not be in the future (after {today.isoformat()})",
                                 lambda: col.dates[0] > pd.Timestamp(today)))
        return checks
    if kind == "month":
        current = today.year * 12 + today.month - 1
        checks = [_check("wrong type: expected a month YYYY-MM", lambda: col.months[1])]
        if spec.not_future:
            checks.append(_check(f"must not be after the current month ({_month_text(current)})",
                                 lambda: col.months[0] > current))
        return checks
    if kind == "bool":
        return [_check("wrong type: expected true/false (or 1/0)", lambda: col.booleans[1])]
    if kind == "flag":
        return [_check("must be 0 or 1", lambda: s.notna() & ~col.numbers[0].isin([0.0, 1.0]))]
    if kind in ("whole", "number"):
        return _number_checks(spec, col)
    return []  # plain text: present and not blank is all there is to check
