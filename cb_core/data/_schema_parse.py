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
import pyarrow as pa
import pyarrow.compute as pc

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
        plain = isinstance(s.dtype, np.dtype)  # numpy int/float: no mask to fill
        values = s.to_numpy().astype("float64", copy=False) if plain else s.to_numpy(dtype="float64", na_value=np.nan)
        return (pd.Series(values, index=s.index, copy=False),
                pd.Series(np.zeros(len(s), dtype=bool), index=s.index, copy=False))
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


def _parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as timestamps (NaT where missing or invalid) and the mask of non-dates."""
    shaped = s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False).astype(bool)
    parsed = pd.to_datetime(s.where(shaped), format="%Y-%m-%d", errors="coerce")
    return parsed, s.notna() & parsed.isna()


def _parse_months(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A text column as month numbers (year * 12 + month - 1; NaN where invalid), mask of non-months."""
    shaped = s.str.fullmatch(r"[0-9]{4}-(?:0[1-9]|1[0-2])").fillna(False).astype(bool)
    year = pd.to_numeric(s.str.slice(0, 4).where(shaped), errors="coerce")
    month = pd.to_numeric(s.str.slice(5, 7).where(shaped), errors="coerce")
    return (year * 12 + month - 1).astype("float64"), s.notna() & ~shaped


_dates = _per_unique(_parse_dates)
_months = _per_unique(_parse_months)


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


_INVISIBLE_RE2 = r"[\x{0}-\x{1f}\x{7f}-\x{9f}\x{200b}-\x{200f}\x{2028}\x{2029}\x{2060}\x{feff}]"  # same set


def _arrow(u: pd.Series) -> pa.Array | None:
    chunked = getattr(u.array, "_pa_array", None)
    if chunked is None or not (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        return None
    return chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked


def _isin(u: pd.Series, values: object) -> pd.Series:
    """``u.isin(values)`` for text, hashed in Arrow (pandas' isin on Arrow strings loops in Python)."""
    arr = _arrow(u)
    if arr is None:
        return u.isin(list(values))  # type: ignore[call-overload]
    given = _arrow(values) if isinstance(values, pd.Series) else None
    if given is not None:
        value_set = given.drop_null().cast(arr.type)
    else:
        value_set = pa.array([v for v in values if isinstance(v, str)], type=arr.type)  # type: ignore[union-attr]
    return pd.Series(pc.is_in(arr, value_set=value_set).fill_null(False).to_numpy(zero_copy_only=False),
                     index=u.index)


def _has_invisible(u: pd.Series) -> pd.Series:
    """Which values hold a control or invisible character (:data:`_INVISIBLE`); missing ones are False."""
    arr = _arrow(u)
    if arr is None:
        return u.str.contains(_INVISIBLE).fillna(False).astype(bool)
    found = pc.match_substring_regex(arr, _INVISIBLE_RE2).fill_null(False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=u.index)


def _clean_ids(u: pd.Series) -> pd.Series:
    """Ids without invisible characters and surrounding spaces (the regex runs only where needed)."""
    out = u.str.strip()
    odd = _has_invisible(u).to_numpy(dtype=bool)
    if odd.any():
        out = out.copy()
        out[odd] = u[odd].str.replace(_INVISIBLE, "", regex=True).str.strip()
    return out


def _encode(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """A text column dictionary-encoded: integer codes per row (-1 where missing) and the distinct
    values, so that a rule on text runs once per distinct value (an id repeats once a month)."""
    chunked = getattr(s.array, "_pa_array", None)
    if chunked is not None and (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)):
        whole = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
        encoded = whole.dictionary_encode()
        indices = encoded.indices.fill_null(-1) if encoded.indices.null_count else encoded.indices
        codes = indices.to_numpy(zero_copy_only=False)  # int32: the keys built from it are widened first
        return codes, pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary, dtype=_STR))
    codes, uniques = pd.factorize(s)
    return codes.astype(np.int64), pd.Series(np.asarray(uniques, dtype=object), dtype=_STR)


def _by_code(codes: np.ndarray, per_value: np.ndarray) -> np.ndarray:
    """Spread one value per distinct value to every row; rows with code -1 get False (or NaN)."""
    per_value = np.asarray(per_value)
    filler = np.array([False if per_value.dtype == bool else np.nan], dtype=per_value.dtype if
                      per_value.dtype == bool else "float64")
    return np.concatenate([per_value.astype(filler.dtype, copy=False), filler])[codes]


class _Column:
    """One column as checked (text kinds as strings, blanks missing) and its parsed forms.

    Each parsed form is computed once and shared by every check and by the canonical conversion.
    Text kinds are dictionary-encoded (:attr:`codes`, :attr:`uniques`) and parsed once per
    distinct value.
    """

    def __init__(self, values: pd.Series, spec: ColumnSpec) -> None:
        self.text, self.masked = spec.dtype == _STR, False
        if self.text:
            if values.dtype != _STR:
                values = _to_text(values, spec.kind)
            codes, uniques = _encode(values)
            blank = uniques.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
            if blank.any():  # blank cells are missing
                gone = _by_code(codes, blank)
                values = values.mask(gone)
                codes = np.where(gone, -1, codes)
                self.masked = True
            self.codes, self.uniques = codes, uniques
        elif values.dtype == _STR and spec.kind in ("whole", "number", "flag"):
            try:  # a column of clean numbers, the usual case, needs nothing more
                self.__dict__["numbers"] = (values.astype("float64"), pd.Series(False, index=values.index))
            except (TypeError, ValueError, OverflowError):
                values = values.mask(_blank(values))
        elif not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
            values = values.mask(_blank(values))
        self.values = values

    @cached_property
    def missing(self) -> np.ndarray:
        """Rows without a value."""
        return self.codes < 0 if self.text else self.values.isna().to_numpy(dtype=bool)

    def per_value(self, rule: Callable[[pd.Series], pd.Series]) -> np.ndarray:
        """Rows where ``rule`` (a mask over the distinct values of a text column) is true."""
        return _by_code(self.codes, rule(self.uniques).fillna(False).to_numpy(dtype=bool))

    def _parsed(self, parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]) -> tuple[pd.Series, pd.Series]:
        values, wrong = parse(self.uniques)
        index = self.values.index
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            at = np.maximum(self.codes, 0)
            out = pd.Series(values.to_numpy()[at] if len(values) else np.full(len(at), np.datetime64("NaT", "ns")),
                            index=index)
            out[self.codes < 0] = pd.NaT
        else:
            out = pd.Series(_by_code(self.codes, values.to_numpy(dtype="float64")), index=index, copy=False)
        return out, pd.Series(_by_code(self.codes, wrong.fillna(False).to_numpy(dtype=bool)), index=index, copy=False)

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
        return self._parsed(_parse_dates) if self.text else _dates(self.values)

    @cached_property
    def months(self) -> tuple[pd.Series, pd.Series]:
        return self._parsed(_parse_months) if self.text else _months(self.values)
