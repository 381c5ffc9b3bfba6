"""The data contract of the input tables and the validation that names every bad row and column.

Each table has one pandera ``DataFrameSchema`` built from :data:`CONTRACT`. The schemas check the
tables *as received*: all-string frames read from CSV as well as typed frames from Parquet or SQL.
Every check parses the values it needs itself and passes values that an earlier check already
reports, so one bad cell gives one problem. Rules that span rows or tables (merchant ids that
exist, contiguous months, joined on or after opened) are plain pandas code that produces the
same :class:`~cb_core.errors.Problem` records. Only when nothing is wrong are the tables converted
to their canonical dtypes (:data:`CANONICAL_SCHEMAS`) and returned as a :class:`~cb_core.book.Book`.

Row numbers in problems are 1-based data rows: row 1 is the first row after a CSV header.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from . import catalog
from .book import REQUIRED_TABLES, TABLES, Book
from .errors import ConfigError, Problem, SchemaError

__all__ = ["CONTRACT", "CANONICAL_SCHEMAS", "MAX_PROBLEMS", "ROW_NUMBERS_NOTE", "ColumnSpec",
           "validate_tables"]

#: Problems listed in one report; the rest are summarised in a final note.
MAX_PROBLEMS = 200
#: How row numbers in a report count; the first line of every report says it.
ROW_NUMBERS_NOTE = "row numbers count data rows from 1, the first row after the header"

_MAX_WHOLE = 2 ** 53  # whole numbers beyond this are not exact once parsed
_NON_FINITE_WORDS = ("nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
_TRUE_WORDS = ("true", "1", "1.0")
_FALSE_WORDS = ("false", "0", "0.0")
_EXAMPLE_CHARS = 60
_MONTHS_LISTED = 12
_STR = pd.StringDtype(na_value=np.nan)  # pandas' default string dtype


@dataclass(frozen=True)
class ColumnSpec:
    """What one contract column holds.

    ``kind`` is one of ``id``, ``text``, ``reg_no``, ``category``, ``region``, ``date``,
    ``month``, ``whole``, ``number``, ``bool``, ``flag``; ``low``/``high`` bound numbers
    (``low_open`` makes the lower bound strict); ``unit`` ends the whole-number rule.
    """

    kind: str
    nullable: bool = False
    required: bool = True
    unique: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    unit: str = ""
    not_future: bool = True

    @property
    def dtype(self) -> object:
        if self.kind == "whole":
            return "Int64" if self.nullable else "int64"
        return {"number": "float64", "bool": "boolean", "flag": "int64"}.get(self.kind, _STR)


_MONEY = ColumnSpec("whole", low=0, unit=" of KRW")
_COUNT = ColumnSpec("whole", low=0)
_RATE = ColumnSpec("number", low=0, high=1)

#: The contract: table -> column -> spec, in the column order of :mod:`cb_core.book`.
CONTRACT: dict[str, dict[str, ColumnSpec]] = {
    "merchants": {
        "merchant_id": ColumnSpec("id", unique=True),
        "business_name": ColumnSpec("text"),
        "owner_name": ColumnSpec("text"),
        "business_reg_no": ColumnSpec("reg_no"),
        "category": ColumnSpec("category"),
        "region": ColumnSpec("region"),
        "opened_on": ColumnSpec("date"),
        "joined_platform_on": ColumnSpec("date"),
        "bureau_score": ColumnSpec("whole", nullable=True, low=1, high=1000),
        "owner_has_credit_card": ColumnSpec("bool", nullable=True),
        "region_income_index": ColumnSpec("number", low=0, low_open=True),
    },
    "monthly_activity": {
        "merchant_id": ColumnSpec("id"),
        "month": ColumnSpec("month"),
        "gmv_krw": _MONEY, "orders": _COUNT, "returns": _COUNT, "refund_krw": _MONEY,
        "unique_buyers": _COUNT, "repeat_buyer_rate": _RATE, "active_listings": _COUNT,
        "inventory_turnover": ColumnSpec("number", low=0),
        "avg_rating": ColumnSpec("number", nullable=True, low=1, high=5),
        "reviews": _COUNT, "disputes": _COUNT, "ship_delay_rate": _RATE,
        "settlement_krw": _MONEY, "search_clicks": _COUNT, "ad_spend_krw": _MONEY,
    },
    "outcomes": {
        "merchant_id": ColumnSpec("id"),
        "snapshot_month": ColumnSpec("month", not_future=False),
        "defaulted_12m": ColumnSpec("flag"),
        "true_pd": ColumnSpec("number", required=False, low=0, high=1),
    },
}
_KEYS = {"monthly_activity": ["merchant_id", "month"], "outcomes": ["merchant_id", "snapshot_month"]}

#: The validated tables' dtypes: the output contract every consumer of a Book can rely on.
CANONICAL_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    table: pa.DataFrameSchema(
        {col: pa.Column(spec.dtype, nullable=spec.nullable, required=spec.required)
         for col, spec in columns.items()},
        strict=True, ordered=True, name=table)
    for table, columns in CONTRACT.items()
}


# ---------------------------------------------------------------------------------------------
# Parsing: every function takes a column as received and never raises on odd values.

def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as float64 (NaN where missing or not a number) and the mask of wrong types."""
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
    if wrong.any():  # "nan" and "inf" are numbers, just not finite ones: a different rule says so
        words = _as_str(s[wrong]).str.strip().str.lower().isin(_NON_FINITE_WORDS)
        wrong[words.index[words]] = False
    return values, wrong


def _one_number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
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
    def booleans(self) -> tuple[pd.Series, pd.Series]:
        return _booleans(self.values)

    @cached_property
    def dates(self) -> tuple[pd.Series, pd.Series]:
        return _dates(self.values)

    @cached_property
    def months(self) -> tuple[pd.Series, pd.Series]:
        return _months(self.values)


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


def _number_checks(spec: ColumnSpec, col: _Column) -> list[pa.Check]:
    def finite() -> pd.Series:
        values, wrong = col.numbers
        return col.values.notna() & ~wrong & ~np.isfinite(values)

    def fraction() -> pd.Series:
        v = col.numbers[0]
        return np.isfinite(v) & ((v != np.floor(v)) | (v.abs() >= _MAX_WHOLE))

    def out_of_range() -> pd.Series:
        v = col.numbers[0]
        bad = (v <= spec.low) if spec.low_open else (v < spec.low)
        if spec.high is not None:
            bad |= v > spec.high
        return bad & np.isfinite(v) & ~(fraction() if spec.kind == "whole" else False)

    noun = "a whole number" if spec.kind == "whole" else "a number"
    checks = [_check(f"wrong type: expected {noun}{spec.unit}", lambda: col.numbers[1]),
              _check("must be a finite number (not NaN or infinity)", finite)]
    if spec.kind == "whole":
        checks.append(_check(f"must be a whole number{spec.unit}", fraction))
    if spec.low is not None:
        checks.append(_check(_range_rule(spec), out_of_range))
    return checks


def _column_checks(spec: ColumnSpec, col: _Column, today: date) -> list[pa.Check]:
    kind, s = spec.kind, col.values
    if kind == "id":
        return [_check("must not start or end with spaces", lambda: s.notna() & s.ne(s.str.strip()))]
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


def _table_schema(table: str, columns: dict[str, _Column], today: date) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {name: pa.Column(None, _column_checks(spec, columns[name], today) if name in columns else [],
                         nullable=spec.nullable, required=spec.required, unique=spec.unique)
         for name, spec in CONTRACT[table].items()},
        strict=True, name=table)


# ---------------------------------------------------------------------------------------------
# Problems

@dataclass
class _Found:
    """A problem plus where it sorts in the report."""

    order: tuple
    problem: Problem


def _rows_problem(table: str, column: str, rule: str, rows: pd.Index | list, example: object,
                  max_rows: int, order: tuple) -> _Found:
    unique_rows = sorted({int(r) for r in rows})
    missing = example is None or (pd.api.types.is_scalar(example) and pd.isna(example))
    text = "" if missing else str(example)
    if len(text) > _EXAMPLE_CHARS:
        text = text[:_EXAMPLE_CHARS] + "…"
    problem = Problem(table, column, rule, tuple(unique_rows[:max_rows]), len(unique_rows), text)
    return _Found(order + (unique_rows[0] if unique_rows else 0,), problem)


def _table_level(table: str, column: str, rule: str, position: int = -1) -> _Found:
    return _Found((TABLES.index(table) if table in TABLES else len(TABLES), 0, position, 0),
                  Problem(table, column, rule))


def _column_position(table: str, column: str) -> int:
    names = list(CONTRACT[table])
    return names.index(column) if column in names else len(names)


def _failure_problems(table: str, frame: pd.DataFrame, exc: SchemaErrors, max_rows: int) -> list[_Found]:
    t = TABLES.index(table)
    cases = exc.failure_cases
    found: list[_Found] = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        values = group["failure_case"]
        if check == "column_in_schema":
            for name in values:
                close = difflib.get_close_matches(str(name), CONTRACT[table], n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                found.append(_table_level(table, str(name), f"unknown column {str(name)!r} "
                                          f"(not in the data contract){hint}", 1_000))
            continue
        if check == "column_in_dataframe":
            found += [_table_level(table, str(name), "missing column", _column_position(table, name))
                      for name in values]
            continue
        order = (t, 1, _column_position(table, column))
        rows = [i for i in group["index"] if i is not None and not pd.isna(i)]
        if not rows:  # a check that could not run at all: say so rather than hide it
            found.append(_table_level(table, str(column), f"could not be checked ({check}): {values.iloc[0]}"))
            continue
        rule = {"not_nullable": "must not be empty",
                "field_uniqueness": "duplicate value: must be unique"}.get(check, check)
        example = "" if check == "not_nullable" else frame.at[int(min(rows)), column]
        found.append(_rows_problem(table, str(column), rule, rows, example, max_rows, order))
    return found


def _check_table(table: str, frame: pd.DataFrame, today: date, max_rows: int
                 ) -> tuple[list[_Found], dict[str, _Column] | None]:
    """Run the table's schema; returns its problems and its columns as checked."""
    if frame.shape[1] == 0:
        return [_table_level(table, "*", "table is empty: no header and no rows")], None
    found: list[_Found] = []
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    for name in frame.columns[frame.columns.duplicated()].unique():
        found.append(_table_level(table, name, "column appears more than once in the header",
                                  _column_position(table, name)))
    frame = frame.loc[:, ~frame.columns.duplicated()].set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)
    if len(frame) == 0:
        found.append(_table_level(table, "*", "table is empty: header only, no data rows"))
    specs = CONTRACT[table]
    columns = {name: _Column(frame[name], specs[name]) for name in frame.columns if name in specs}
    frame = frame.assign(**{name: col.values for name, col in columns.items()})
    try:
        _table_schema(table, columns, today).validate(frame, lazy=True)
    except SchemaErrors as exc:
        found += _failure_problems(table, frame, exc, max_rows)
    return found, columns


def _valid_dates(col: _Column, today: date) -> pd.Series:
    return col.dates[0].where(col.dates[0] <= pd.Timestamp(today))


def _valid_months(col: _Column, today: date) -> pd.Series:
    return col.months[0].where(col.months[0] <= today.year * 12 + today.month - 1)


def _cross_problems(tables: dict[str, dict[str, _Column]], today: date, max_rows: int) -> list[_Found]:
    """Rules across rows and tables, on the values that passed their own column checks."""
    found: list[_Found] = []
    merchants = tables.get("merchants", {})
    if {"opened_on", "joined_platform_on"} <= set(merchants):
        opened, joined = merchants["opened_on"], merchants["joined_platform_on"]
        bad = _valid_dates(joined, today) < _valid_dates(opened, today)
        if bad.any():
            first = bad.idxmax()
            found.append(_rows_problem(
                "merchants", "joined_platform_on", "must not be before opened_on", bad.index[bad],
                f"{joined.values[first]} < {opened.values[first]}",
                max_rows, (0, 2, _column_position("merchants", "joined_platform_on"))))
    if "merchant_id" in merchants and len(merchants["merchant_id"].values):
        # Compared without surrounding spaces: an id with spaces is reported once, where it is.
        known = merchants["merchant_id"].values.dropna().str.strip().unique()
        for table in ("monthly_activity", "outcomes"):
            ids = tables.get(table, {}).get("merchant_id")
            if ids is None:
                continue
            bad = ids.values.notna() & ~ids.values.str.strip().isin(known)
            if bad.any():
                found.append(_rows_problem(
                    table, "merchant_id", "merchant_id not found in merchants", bad.index[bad],
                    ids.values[bad].iloc[0], max_rows, (TABLES.index(table), 2, 0)))
    for table, key in _KEYS.items():
        columns = tables.get(table, {})
        if set(key) <= set(columns):
            keys = pd.DataFrame({name: columns[name].values for name in key})
            bad = keys.notna().all(axis=1) & keys.duplicated(keep=False)
            if bad.any():
                found.append(_rows_problem(
                    table, "+".join(key), f"duplicate {' + '.join(key)}: one row per {' and '.join(key)}",
                    bad.index[bad], " ".join(keys[bad].iloc[0]), max_rows,
                    (TABLES.index(table), 1, _column_position(table, key[-1]))))
    activity = tables.get("monthly_activity", {})
    if {"merchant_id", "month"} <= set(activity):
        ids, months = activity["merchant_id"].values, activity["month"].values
        periods = _valid_months(activity["month"], today)
        # A merchant with a month that is itself reported (malformed, future) is not also a gap.
        reported = ids[months.notna() & periods.isna()].unique()
        found += _gap_problems(ids.where(~ids.isin(reported)), periods, max_rows)
    return found


def _gap_problems(merchant_ids: pd.Series, periods: pd.Series, max_rows: int) -> list[_Found]:
    ok = merchant_ids.notna() & periods.notna()
    rows = pd.DataFrame({"merchant": merchant_ids[ok], "period": periods[ok].astype("int64"),
                         "row": merchant_ids.index[ok]})
    rows = rows.drop_duplicates(["merchant", "period"]).sort_values(["merchant", "period"])
    previous = rows.groupby("merchant", sort=False)["period"].shift()
    gaps = rows.assign(previous=previous)[rows["period"] - previous > 1]
    if gaps.empty:
        return []
    t = TABLES.index("monthly_activity")
    found: list[_Found] = []
    by_merchant = sorted(gaps.groupby("merchant", sort=False), key=lambda kv: kv[1]["row"].min())
    for merchant, group in by_merchant[:max_rows]:
        missing = [p for prev, cur in zip(group["previous"].astype(int), group["period"])
                   for p in range(prev + 1, cur)]
        listed = ", ".join(_month_text(p) for p in missing[:_MONTHS_LISTED])
        more = f" (+{len(missing) - _MONTHS_LISTED} more)" if len(missing) > _MONTHS_LISTED else ""
        found.append(_rows_problem(
            "monthly_activity", "month",
            f"months not contiguous for merchant {merchant}: missing {listed}{more} "
            "(add a row for every month, with zeros where nothing was sold)",
            group["row"], merchant, max_rows, (t, 2, 1)))
    if len(by_merchant) > max_rows:
        found.append(_Found((t, 2, 1, 1 << 62), Problem(
            "monthly_activity", "month",
            f"months not contiguous for {len(by_merchant) - max_rows} more merchant(s) not listed")))
    return found


# ---------------------------------------------------------------------------------------------
# Canonical frames

def _canonical(table: str, columns: dict[str, _Column]) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    for name, spec in CONTRACT[table].items():
        if name not in columns:
            continue
        col = columns[name]
        if spec.kind in ("whole", "flag"):
            out[name] = col.numbers[0].astype(spec.dtype)
        elif spec.kind == "number":
            out[name] = col.numbers[0]
        elif spec.kind == "bool":
            out[name] = col.booleans[0]
        else:
            out[name] = col.values.astype(_STR)
    frame = pd.DataFrame(out).reset_index(drop=True)
    return CANONICAL_SCHEMAS[table].validate(frame)


def validate_tables(tables: dict[str, pd.DataFrame], *, today: date | None = None, max_rows: int = 20,
                    source: str = "") -> Book:
    """Check input tables against the data contract and return them as a Book.

    Parameters
    ----------
    tables : dict of str to DataFrame
        ``merchants``, ``monthly_activity`` and optionally ``outcomes``, either all-string (as
        read from CSV) or typed (Parquet, SQL).
    today : date, optional
        The date that "future" is measured against; default ``date.today()``.
    max_rows : int
        Row numbers listed per problem.
    source : str
        Where the tables came from; named in the report and kept on the Book.

    Returns
    -------
    Book
        The tables in canonical dtypes (see :data:`CANONICAL_SCHEMAS`).

    Raises
    ------
    SchemaError
        With every problem found in every table (capped at :data:`MAX_PROBLEMS`).
    """
    return _validate(tables, today=today, max_rows=max_rows, source=source)


def _validate(tables: dict[str, pd.DataFrame], *, today: date | None, max_rows: int, source: str,
              problems: tuple[tuple[str, str, str], ...] = ()) -> Book:
    """:func:`validate_tables` plus table-level problems found while reading (table, column, rule)."""
    if not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_rows must be a whole number ≥ 1; got {max_rows!r}")
    today = today or date.today()
    found = [_table_level(t, c, r) for t, c, r in problems]
    for name, frame in tables.items():
        if name not in TABLES:
            found.append(_table_level(str(name), "*", f"unknown table; expected {', '.join(TABLES)}"))
        elif not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a pandas DataFrame; got {type(frame).__name__}")
    checked: dict[str, dict[str, _Column]] = {}
    for name in TABLES:
        if name not in tables:
            if name in REQUIRED_TABLES and all(t != name for t, _, _ in problems):
                found.append(_table_level(name, "*", "required table is missing"))
            continue
        table_found, columns = _check_table(name, tables[name], today, max_rows)
        found += table_found
        if columns is not None:
            checked[name] = columns
    found += _cross_problems(checked, today, max_rows)
    if found:
        _raise(sorted(found, key=lambda f: f.order), source)
    canonical = {name: _canonical(name, columns) for name, columns in checked.items()}
    return Book(merchants=canonical["merchants"], activity=canonical["monthly_activity"],
                outcomes=canonical.get("outcomes"), source=source)


def _raise(found: list[_Found], source: str) -> None:
    problems = [f.problem for f in found[:MAX_PROBLEMS]]
    if len(found) > MAX_PROBLEMS:
        problems.append(Problem("report", "*", f"{len(found) - MAX_PROBLEMS} more problem(s) not listed; "
                                               "fix the ones above and validate again"))
    lines = [f"{len(found)} problem(s) in {source or 'the input tables'} ({ROW_NUMBERS_NOTE}):"]
    lines += [f"  - {p}" for p in problems]
    raise SchemaError(problems, "\n".join(lines))
