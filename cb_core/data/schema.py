"""The data contract of the input tables and the validation that names every bad row and column.

:data:`CONTRACT` (one :class:`ColumnSpec` per column) is the single source of the rules. The checks
read the tables *as received*: all-string frames read from CSV as well as typed frames from Parquet
or SQL. Every check parses the values it needs itself and passes values that an earlier check
already reports, so one bad cell gives one problem. Text columns are dictionary-encoded, so a text
rule runs once per distinct value; number rules are numpy over the column; rules that span rows or
tables (merchant ids that exist, contiguous months, joined on or after opened:
:mod:`._cross_rules`) compare integer codes. Only when nothing is wrong are the tables converted to
their canonical dtypes (:func:`conforms`; the same shape as the pandera
``CANONICAL_SCHEMAS``, built on first use) and returned as a :class:`~cb_core.data.book.Book`.

Row numbers in problems are 1-based data rows: row 1 is the first row after a CSV header.
"""
from __future__ import annotations

import difflib
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .book import REQUIRED_TABLES, TABLES, Book
from ..errors import ConfigError, Problem, SchemaError
from ._contract import CONTRACT, _column_position, _Found, _rows_problem, _table_level, shape_conforms
from ._cross_rules import _cross_problems
from ._schema_checks import _column_checks
from ._schema_parse import _Column
from ._spec import _STR, ColumnSpec

__all__ = ["CONTRACT", "MAX_PROBLEMS", "ROW_NUMBERS_NOTE", "ColumnSpec", "conforms",
           "validate_tables"]

#: Problems listed in one report; the rest are summarised in a final note.
MAX_PROBLEMS = 200
#: How row numbers in a report count; the first line of every report says it.
ROW_NUMBERS_NOTE = "row numbers count data rows from 1, the first row after the header"


def __getattr__(name: str) -> Any:
    """``CANONICAL_SCHEMAS``, built (and pandera imported) on first use: validating does not need it."""
    if name == "CANONICAL_SCHEMAS":
        import pandera.pandas as pa

        schemas = {table: pa.DataFrameSchema(
            {col: pa.Column(spec.dtype, nullable=spec.nullable, required=spec.required)
             for col, spec in columns.items()}, strict=True, ordered=True, name=table)
            for table, columns in CONTRACT.items()}
        globals()[name] = schemas
        return schemas
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def conforms(table: str, frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has the canonical columns of ``table`` (every required one, no other, in the
    contract's order) and their canonical dtypes: the shape :data:`CANONICAL_SCHEMAS` checks,
    without scanning the values."""
    specs = CONTRACT[table]
    return shape_conforms(table, [str(c) for c in frame.columns], lambda i, c: frame.dtypes.iloc[i] == specs[c].dtype)


# ---------------------------------------------------------------------------------------------
# Column checks

def _column_problems(table: str, name: str, spec: ColumnSpec, col: _Column, today: date,
                     max_rows: int) -> list[_Found]:
    """Empty cells, duplicates and the column's own checks, in that order; each check passes the
    cells that are empty."""
    found: list[_Found] = []
    order = (TABLES.index(table), 1, _column_position(table, name))
    missing = col.missing

    def add(rule: str, bad: np.ndarray, shown: bool = True) -> None:
        if bad.any():  # the example is the value of the first row reported
            example = col.values.iloc[int(np.argmax(bad))] if shown else ""
            found.append(_rows_problem(table, name, rule, np.flatnonzero(bad) + 1, example, max_rows, order))

    if not spec.nullable:
        add("must not be empty", missing, shown=False)
    if spec.unique:
        if col.text:
            counts = np.bincount(col.codes[~missing], minlength=len(col.uniques))
            dup = ~missing & (np.append(counts, 0)[col.codes] > 1)
        else:
            dup = ~missing & col.values.duplicated(keep=False).to_numpy(dtype=bool)
        add("duplicate value: must be unique", dup)
    present = ~missing
    for rule, check in _column_checks(spec, col, today):
        try:
            bad = check()
            if bad is None:
                continue
            bad = bad & present
        except Exception as exc:  # a check that could not run at all: say so rather than hide it
            found.append(_table_level(table, name, f"could not be checked ({rule}): {type(exc).__name__}: {exc}"))
            continue
        add(rule, bad)
    return found


def _check_table(table: str, frame: pd.DataFrame, today: date, max_rows: int
                 ) -> tuple[list[_Found], dict[str, _Column] | None]:
    """Check a table's header and columns; returns its problems and its columns as checked."""
    if frame.shape[1] == 0:
        return [_table_level(table, "*", "table is empty: no header and no rows")], None
    found: list[_Found] = []
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    repeated = frame.columns.duplicated()
    for name in frame.columns[repeated].unique():
        found.append(_table_level(table, name, "column appears more than once in the header",
                                  _column_position(table, name)))
    if repeated.any():
        frame = frame.loc[:, ~repeated]
    frame = frame.set_axis(pd.RangeIndex(1, len(frame) + 1), axis=0)
    if len(frame) == 0:
        found.append(_table_level(table, "*", "table is empty: header only, no data rows"))
    specs = CONTRACT[table]
    for name in frame.columns:
        if name not in specs:
            close = difflib.get_close_matches(name, specs, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            found.append(_table_level(table, name, f"unknown column {name!r} (not in the data contract){hint}", 1_000))
    found += [_table_level(table, name, "missing column", _column_position(table, name))
              for name, spec in specs.items() if spec.required and name not in frame.columns]
    columns = {name: _Column(frame[name], spec) for name, spec in specs.items() if name in frame.columns}
    for name, col in columns.items():
        found += _column_problems(table, name, specs[name], col, today, max_rows)
    return found, columns


# ---------------------------------------------------------------------------------------------
# Canonical frames

def _canonical(table: str, columns: dict[str, _Column], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The checked columns in canonical dtypes; ``frame`` as received when it already is (a Parquet
    book written by :func:`~cb_core.data.sources.write_book`), without copying it."""
    if frame is not None and not any(col.masked for col in columns.values()) and conforms(table, frame):
        return frame.reset_index(drop=True)
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
    if not conforms(table, frame):  # never expected: the conversions above give the canonical dtypes
        raise AssertionError(f"{table}: not in canonical dtypes after validation: {dict(frame.dtypes)}")
    return frame


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
        raise ConfigError(f"max_rows must be a whole number ≥ 1; got {max_rows!r}", key="err_schema_max_rows_whole_number", max_rows=max_rows)
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
    canonical = {name: _canonical(name, columns, tables[name]) for name, columns in checked.items()}
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
