"""The data contract of the input tables and the validation that names every bad row and column.

Each table has one pandera ``DataFrameSchema`` built from :data:`CONTRACT`. The schemas check the
tables *as received*: all-string frames read from CSV as well as typed frames from Parquet or SQL.
Every check parses the values it needs itself and passes values that an earlier check already
reports, so one bad cell gives one problem. Rules that span rows or tables (merchant ids that
exist, contiguous months, joined on or after opened) are plain pandas code that produces the
same :class:`~cb_core.errors.Problem` records. Only when nothing is wrong are the tables converted
to their canonical dtypes (:data:`CANONICAL_SCHEMAS`) and returned as a :class:`~cb_core.data.book.Book`.

Row numbers in problems are 1-based data rows: row 1 is the first row after a CSV header.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .book import REQUIRED_TABLES, TABLES, Book
from ..errors import ConfigError, Problem, SchemaError
from ._schema_checks import _column_checks
from ._event_rules import event_problems
from ._loan_rules import loan_problems
from ._schema_parse import _INVISIBLE, _Column, _month_text
from ._spec import _STR, ColumnSpec
from .loan_contract import LOAN_CONTRACT

__all__ = ["CONTRACT", "CANONICAL_SCHEMAS", "MAX_PROBLEMS", "ROW_NUMBERS_NOTE", "ColumnSpec",
           "validate_tables"]

#: Problems listed in one report; the rest are summarised in a final note.
MAX_PROBLEMS = 200
#: How row numbers in a report count; the first line of every report says it.
ROW_NUMBERS_NOTE = "row numbers count data rows from 1, the first row after the header"

_EXAMPLE_CHARS = 60
_MONTHS_LISTED = 12


_MONEY = ColumnSpec("whole", low=0, unit=" of KRW")
_COUNT = ColumnSpec("whole", low=0)
_RATE = ColumnSpec("number", low=0, high=1)

#: The contract: table -> column -> spec, in the column order of :mod:`cb_core.data.book`.
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
    "bureau_history": {
        "merchant_id": ColumnSpec("id"),
        "month": ColumnSpec("month"),
        "bureau_score": ColumnSpec("whole", nullable=True, low=1, high=1000),
        "owner_has_credit_card": ColumnSpec("bool", nullable=True),
    },
    **LOAN_CONTRACT,
    "default_events": {
        "merchant_id": ColumnSpec("id", unique=True),
        # may lie past the book's last month: an outcome window reaching beyond the book holds it
        "default_month": ColumnSpec("month", not_future=False),
    },
}
_KEYS = {"monthly_activity": ["merchant_id", "month"], "outcomes": ["merchant_id", "snapshot_month"],
         "bureau_history": ["merchant_id", "month"], "loan_months": ["loan_id", "month"]}

#: The validated tables' dtypes: the output contract every consumer of a Book can rely on.
CANONICAL_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    table: pa.DataFrameSchema(
        {col: pa.Column(spec.dtype, nullable=spec.nullable, required=spec.required)
         for col, spec in columns.items()},
        strict=True, ordered=True, name=table)
    for table, columns in CONTRACT.items()
}




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
        # Compared without surrounding spaces, and ids with invisible characters left out: an id
        # with either is reported once, where it is.
        known = merchants["merchant_id"].values.dropna().str.replace(_INVISIBLE, "", regex=True).str.strip().unique()
        for table in ("monthly_activity", "outcomes", "bureau_history", "loans", "default_events"):
            ids = tables.get(table, {}).get("merchant_id")
            if ids is None:
                continue
            invisible = ids.values.str.contains(_INVISIBLE).fillna(False).astype(bool)
            bad = ids.values.notna() & ~ids.values.str.strip().isin(known) & ~invisible
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
        # A merchant with a month that is itself reported (malformed, future), or with a row whose
        # id is reported (spaces, invisible characters), is not also a gap.
        clean_ids = ids.str.replace(_INVISIBLE, "", regex=True).str.strip()
        reported = pd.concat([ids[months.notna() & periods.isna()], clean_ids[ids.ne(clean_ids).fillna(False)]])
        found += _gap_problems(ids.where(~ids.isin(reported.unique())), periods, max_rows)
    for table, column, rule, rows, example in loan_problems(tables) + event_problems(tables):
        found.append(_rows_problem(table, column, rule, rows, example, max_rows,
                                   (TABLES.index(table), 2, _column_position(table, column))))
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
                outcomes=canonical.get("outcomes"), bureau_history=canonical.get("bureau_history"), source=source,
                loans=canonical.get("loans"), loan_months=canonical.get("loan_months"),
                default_events=canonical.get("default_events"))


def _raise(found: list[_Found], source: str) -> None:
    problems = [f.problem for f in found[:MAX_PROBLEMS]]
    if len(found) > MAX_PROBLEMS:
        problems.append(Problem("report", "*", f"{len(found) - MAX_PROBLEMS} more problem(s) not listed; "
                                               "fix the ones above and validate again"))
    lines = [f"{len(found)} problem(s) in {source or 'the input tables'} ({ROW_NUMBERS_NOTE}):"]
    lines += [f"  - {p}" for p in problems]
    raise SchemaError(problems, "\n".join(lines))
