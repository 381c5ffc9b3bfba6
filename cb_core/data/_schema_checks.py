"""Column checks of the data contract, over a column's parsed forms.

Split out of :mod:`cb_core.data.schema`. Each check is a rule (the message of the report) and a
function giving the rows that break it as a numpy mask; :func:`cb_core.data.schema` runs them.
Text rules run once per distinct value of a dictionary-encoded column; number rules are numpy
over the whole column.
"""
from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from . import catalog
from ._schema_parse import _MAX_WHOLE, _has_invisible, _isin, _Column, _month_text
from ._spec import ColumnSpec

#: A check: its rule and the rows that break it (True = bad; missing values never are; None: no row).
Check = tuple[str, Callable[[], np.ndarray | None]]


# ---------------------------------------------------------------------------------------------
# Checks over a column's parsed forms. Each flags only values that no earlier check flags, so one
# bad cell gives one problem.

def _mask(values: object) -> np.ndarray:
    if isinstance(values, pd.Series):
        values = values.fillna(False) if values.hasnans else values
        return values.to_numpy(dtype=bool)
    return np.asarray(values, dtype=bool)


def _range_rule(spec: ColumnSpec) -> str:
    if spec.low is not None and spec.high is not None:
        return f"must be within [{spec.low:g}, {spec.high:g}]"
    return f"must be {'>' if spec.low_open else '≥'} {spec.low:g}"


def _too_large_rule(spec: ColumnSpec) -> str:
    if spec.kind == "whole":
        return f"too large: at most {_MAX_WHOLE - 1:,} (larger whole numbers are not exact)"
    return "too large: beyond the largest number a computer can hold (about 1.8e308)"


class _Numbers:
    """A number column's parsed forms as numpy arrays, each computed once."""

    def __init__(self, col: _Column, spec: ColumnSpec) -> None:
        self.col, self.spec, self.whole = col, spec, spec.kind == "whole"

    @cached_property
    def clean(self) -> bool:
        """Whether no cell breaks any number rule, found with a few reductions (the usual case):
        every value present is a finite number, within the range, whole where it must be."""
        spec, raw = self.spec, self.col.values
        if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iu":  # numpy integers: whole, finite, present
            if not len(raw):
                return True
            low, high = raw.min(), raw.max()
            return (max(abs(int(low)), abs(int(high))) < _MAX_WHOLE
                    and (spec.low is None or (low > spec.low if spec.low_open else low >= spec.low))
                    and (spec.high is None or high <= spec.high))
        v = self.v
        if self.wrong.any():
            return False
        nan = np.isnan(v)
        if np.count_nonzero(nan) != np.count_nonzero(self.col.missing):
            return False  # a value present that is not a number ("nan" written out)
        if nan.all():
            return True
        low, high = np.nanmin(v), np.nanmax(v)
        if not (np.isfinite(low) and np.isfinite(high)) or max(abs(low), abs(high)) >= _MAX_WHOLE:
            return False
        if self.whole and not pd.api.types.is_integer_dtype(self.col.values.dtype) \
                and np.nanmax(np.abs(v - np.floor(v))) > 0:
            return False
        if spec.low is not None and (low <= spec.low if spec.low_open else low < spec.low):
            return False
        return spec.high is None or high <= spec.high

    @cached_property
    def v(self) -> np.ndarray:
        return self.col.numbers[0].to_numpy(dtype="float64", na_value=np.nan)

    @cached_property
    def wrong(self) -> np.ndarray:
        return _mask(self.col.numbers[1])

    @cached_property
    def text(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return tuple(_mask(m) for m in self.col.number_text)  # type: ignore[return-value]

    @cached_property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.v)

    @cached_property
    def too_large(self) -> np.ndarray:
        big = self.text[2]
        if self.whole:
            big = big | (self.finite & (np.abs(np.where(self.finite, self.v, 0.0)) >= _MAX_WHOLE))
        return big

    @cached_property
    def fraction(self) -> np.ndarray:
        v = np.where(self.finite, self.v, 0.0)
        return self.finite & (v != np.floor(v)) & (np.abs(v) < _MAX_WHOLE)


def _number_checks(spec: ColumnSpec, col: _Column) -> list[Check]:
    n = _Numbers(col, spec)

    def wrong_type() -> np.ndarray:
        bad_grouping, korean, _ = n.text
        return n.wrong & ~bad_grouping & ~korean

    def finite() -> np.ndarray:
        return ~col.missing & ~n.wrong & ~n.finite & ~n.text[2]

    def out_of_range() -> np.ndarray:
        v = np.where(n.finite, n.v, 0.0)
        bad = (v <= spec.low) if spec.low_open else (v < spec.low)
        if spec.high is not None:
            bad |= v > spec.high
        return bad & n.finite & ~n.too_large & ~(n.fraction if n.whole else False)

    noun = "a whole number" if n.whole else "a number"
    checks: list[Check] = [
        (f"wrong type: expected {noun}{spec.unit}", wrong_type),
        ("thousands separators in the wrong places: write digits (1200000 or 1,200,000)", lambda: n.text[0]),
        ("Korean number words or units: write the amount in digits (120만원 → 1200000)", lambda: n.text[1]),
        ("must be a finite number (not NaN or infinity)", finite),
        (_too_large_rule(spec), lambda: n.too_large)]
    if n.whole:
        checks.append((f"must be a whole number{spec.unit}", lambda: n.fraction))
    if spec.low is not None:
        checks.append((_range_rule(spec), out_of_range))
    return [(rule, _unless_clean(n, check)) for rule, check in checks]


def _unless_clean(n: _Numbers, check: Callable[[], np.ndarray]) -> Callable[[], np.ndarray | None]:
    return lambda: None if n.clean else check()


def _column_checks(spec: ColumnSpec, col: _Column, today: date) -> list[Check]:
    kind = spec.kind
    if kind == "id":
        spaces = col.per_value(lambda u: u.ne(u.str.strip()))
        return [("must not start or end with spaces", lambda: spaces),
                ("must not contain tabs, line breaks or other control or invisible characters",
                 lambda: col.per_value(_has_invisible) & ~spaces)]
    if kind == "reg_no":
        return [("must be a business number NNN-NN-NNNNN (e.g. '123-45-67890')",
                 lambda: col.per_value(lambda u: ~u.str.fullmatch(r"[0-9]{3}-[0-9]{2}-[0-9]{5}")))]
    if kind == "category":
        codes = list(catalog.categories())
        return [(f"unknown category; expected one of {', '.join(codes)}", lambda: col.per_value(lambda u: ~_isin(u, codes)))]
    if kind == "region":
        names = list(catalog.regions())
        return [((f"unknown region; expected the official name of one of the {len(names)} "
                  f"provinces/metropolitan cities, e.g. '{names[0]}' (not '{catalog.regions()[names[0]]['ko']}')"),
                 lambda: col.per_value(lambda u: ~_isin(u, names)))]
    if kind == "date":
        checks: list[Check] = [("wrong type: expected a date YYYY-MM-DD", lambda: _mask(col.dates[1]))]
        if spec.not_future:
            checks.append((f"must not be in the future (after {today.isoformat()})",
                           lambda: _mask(col.dates[0] > pd.Timestamp(today))))
        return checks
    if kind == "month":
        current = today.year * 12 + today.month - 1
        checks = [("wrong type: expected a month YYYY-MM", lambda: _mask(col.months[1]))]
        if spec.not_future:
            checks.append((f"must not be after the current month ({_month_text(current)})",
                           lambda: _mask(col.months[0] > current)))
        return checks
    if kind == "bool":
        return [("wrong type: expected true/false (or 1/0)", lambda: _mask(col.booleans[1]))]
    if kind == "flag":
        def not_binary() -> np.ndarray:
            v = col.numbers[0].to_numpy(dtype="float64", na_value=np.nan)
            return ~col.missing & ~((v == 0.0) | (v == 1.0))
        return [("must be 0 or 1", not_binary)]
    if kind in ("whole", "number"):
        return _number_checks(spec, col)
    return []  # plain text: present and not blank is all there is to check
