"""Value parsing for the data contract: columns as received, parsed without raising.

Split out of :mod:`cb_core.data.schema`; every name here is re-exported from there.
"""
from __future__ import annotations

import re
from datetime import date
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from ._spec import _STR, ColumnSpec


_MAX_WHOLE = 2 ** 53  # whole numbers beyond this are not exact once parsed
_NON_FINITE_WORDS = ("nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
_TRUE_WORDS = ("true", "1", "1.0")
_FALSE_WORDS = ("false", "0", "0.0")
# Control and invisible format characters (tab, line breaks, NUL, zero-width space, BOM) in an id.
_INVISIBLE = r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]"
# Thousands separators as Excel writes them ("1,200,000", "-1,250.5"): accepted.
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
# Digits and commas that are not grouped in threes ("1,20,0", "12,00,000"): refused, never guessed.
_BAD_GROUPING = re.compile(r"[+-]?[0-9,]*[0-9][0-9,]*(?:\.[0-9]+)?")
# Korean numerals and units ("120만원", "백만", "1억 2천만"): refused with a hint to write digits.
_KOREAN_NUMERALS = "영공일이삼사오육칠팔구십백천만억조원"
_KOREAN_NUMBER = re.compile(rf"[0-9\s.,+\-{_KOREAN_NUMERALS}]*[{_KOREAN_NUMERALS}][0-9\s.,+\-{_KOREAN_NUMERALS}]*")


# ---------------------------------------------------------------------------------------------
# Parsing: every function takes a column as received and never raises on odd values.

def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as float64 (NaN where missing or not a number) and the mask of wrong types.

    Text with thousands separators in groups of three ("1,200,000", as Excel writes amounts) is a
    number; any other comma makes the value wrong (:func:`_number_text_problems` says how).
    """
    present = s.notna()
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.nan, index=s.index), present
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype):
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index), present & False
    try:  # fast path when every value is a number, the usual case
        values = s.astype("float64") if s.dtype == _STR else None
    except (TypeError, ValueError, OverflowError):
        values = None
    if values is None:
        try:
            values = pd.Series(np.asarray(pd.to_numeric(s, errors="coerce"), dtype="float64"), index=s.index)
        except (TypeError, ValueError, OverflowError):
            values = s.map(_one_number).astype("float64")
    wrong = present & values.isna()
    if wrong.any():
        text = _as_str(s[wrong]).str.strip()
        grouped = text.str.fullmatch(_GROUPED).fillna(False).astype(bool)
        if grouped.any():
            values = values.copy()
            values[grouped.index[grouped]] = text[grouped].str.replace(",", "", regex=False).astype("float64")
            wrong[grouped.index[grouped]] = False
        # "nan" and "inf" are numbers, just not finite ones: a different rule says so
        words = text.str.lower().isin(_NON_FINITE_WORDS)
        wrong[words.index[words]] = False
    return values, wrong


def _number_text_problems(s: pd.Series, wrong: pd.Series, values: pd.Series
                          ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Masks of values that are numbers written the wrong way, each with its own rule.

    Returns ``(bad_grouping, korean, overflow)``: thousands separators not in groups of three,
    Korean numerals or units, and numbers too large for a float (``1e400``; not "inf" itself).
    """
    bad_grouping = pd.Series(False, index=s.index)
    korean = pd.Series(False, index=s.index)
    if wrong.any():
        text = _as_str(s[wrong]).str.strip()
        grouping = text.str.fullmatch(_BAD_GROUPING).fillna(False).astype(bool) & text.str.contains(",",
                                                                                                   regex=False)
        words = text.str.fullmatch(_KOREAN_NUMBER).fillna(False).astype(bool)
        bad_grouping[grouping.index[grouping]] = True
        korean[words.index[words]] = True
    infinite = s.notna() & pd.Series(np.isinf(values.to_numpy(dtype="float64")), index=s.index)
    overflow = pd.Series(False, index=s.index)
    if infinite.any():
        said = _as_str(s[infinite]).str.strip().str.lower().isin(_NON_FINITE_WORDS)
        overflow[said.index[~said]] = True
    return bad_grouping, korean, overflow


def _one_number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:  # a whole number beyond any float: reported as too large
        return np.inf if value > 0 else -np.inf  # type: ignore[operator]
    except (TypeError, ValueError):
        return np.nan


def _booleans(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as nullable booleans and the mask of values that are not true/false/1/0."""
    present = s.notna()
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), present & False
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype):
        values = _numbers(s)[0]
        yes, no = values.eq(1), values.eq(0)
    else:
        words = _as_str(s).str.lower()
        yes, no = words.isin(_TRUE_WORDS), words.isin(_FALSE_WORDS)
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[yes] = True
    out[no] = False
    return out, present & ~(yes | no)


def _per_unique(parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]
                ) -> Callable[[pd.Series], tuple[pd.Series, pd.Series]]:
    """Run a text parser once per distinct value: months and dates repeat a lot."""
    def parse_column(s: pd.Series) -> tuple[pd.Series, pd.Series]:
        codes, uniques = pd.factorize(s)
        if 2 * len(uniques) > len(s):
            return parse(s)
        values, wrong = parse(pd.Series(uniques, dtype=s.dtype))
        known = pd.Series(codes >= 0, index=s.index)
        at = np.maximum(codes, 0)
        if len(uniques) == 0:
            return values.reindex(s.index), known
        return (values.take(at).set_axis(s.index).where(known),
                wrong.take(at).set_axis(s.index) & known)
    return parse_column


@_per_unique
def _dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as timestamps (NaT where missing or invalid) and the mask of non-dates."""
    shaped = s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    parsed = pd.to_datetime(s.where(shaped), format="%Y-%m-%d", errors="coerce")
    return parsed, s.notna() & parsed.isna()


@_per_unique
def _months(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as month numbers (year * 12 + month - 1; NaN where invalid), mask of non-months."""
    shaped = s.str.fullmatch(r"[0-9]{4}-(?:0[1-9]|1[0-2])").fillna(False).astype(bool)
    year = pd.to_numeric(s.str.slice(0, 4).where(shaped), errors="coerce")
    month = pd.to_numeric(s.str.slice(5, 7).where(shaped), errors="coerce")
    return (year * 12 + month - 1).astype("float64"), s.notna() & ~shaped


def _month_text(period: int) -> str:
    return f"{period // 12:04d}-{period % 12 + 1:02d}"


def _blank(s: pd.Series) -> pd.Series:
    return _as_str(s).str.strip().eq("").fillna(False).astype(bool)


def _to_text(s: pd.Series, kind: str) -> pd.Series:
    """A text column as strings, whatever it arrived as; blank cells become missing."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        midnight = s.dt.normalize().eq(s)
        text = s.dt.strftime("%Y-%m-%d %H:%M:%S")
        text = text.where(~midnight, s.dt.strftime("%Y-%m-%d"))
        if kind == "month":
            text = text.where(~(midnight & s.dt.day.eq(1)), s.dt.strftime("%Y-%m"))
        out = text.astype(_STR)
    elif pd.api.types.is_float_dtype(s.dtype):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[np.isfinite(values)]
        whole = len(finite) == np.count_nonzero(~np.isnan(values)) and np.all(finite == np.floor(finite))
        if len(finite) and whole and np.all(np.abs(finite) < _MAX_WHOLE):
            out = s.astype("Int64").astype(_STR)  # ids that went through a float column
        else:
            out = s.astype(_STR)
    elif s.dtype == _STR:
        out = s
    else:
        out = _as_str(s)
    return out.mask(_blank(out))


def _as_str(s: pd.Series) -> pd.Series:
    """Any column as strings, value by value (bytes, dates and odd objects included)."""
    if s.dtype == _STR:
        return s
    return s.astype(object).map(_one_text, na_action="ignore").astype(_STR)


def _one_text(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value.isoformat() if isinstance(value, date) else str(value)


class _Column:
    """One column as checked (text kinds as strings, blanks missing) and its parsed forms.

    Each parsed form is computed once and shared by every check and by the canonical conversion.
    """

    def __init__(self, values: pd.Series, spec: ColumnSpec) -> None:
        if spec.dtype == _STR:
            values = _to_text(values, spec.kind)
        elif values.dtype == _STR and spec.kind in ("whole", "number", "flag"):
            try:  # a column of clean numbers, the usual case, needs nothing more
                self.__dict__["numbers"] = (values.astype("float64"), pd.Series(False, index=values.index))
            except (TypeError, ValueError, OverflowError):
                values = values.mask(_blank(values))
        elif not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
            values = values.mask(_blank(values))
        self.values = values

    @cached_property
    def numbers(self) -> tuple[pd.Series, pd.Series]:
        return _numbers(self.values)

    @cached_property
    def number_text(self) -> tuple[pd.Series, pd.Series, pd.Series]:
        """``(bad_grouping, korean, overflow)`` masks, see :func:`_number_text_problems`."""
        values, wrong = self.numbers
        return _number_text_problems(self.values, wrong, values)

    @cached_property
    def booleans(self) -> tuple[pd.Series, pd.Series]:
        return _booleans(self.values)

    @cached_property
    def dates(self) -> tuple[pd.Series, pd.Series]:
        return _dates(self.values)

    @cached_property
    def months(self) -> tuple[pd.Series, pd.Series]:
        return _months(self.values)

