"""The data contract's table of column specs and the report records every check produces.

Split out of :mod:`cb_core.data.schema` (which re-exports :data:`CONTRACT`), so that the column
checks and the rules across rows and tables can share them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import Problem
from .book import TABLES
from ._spec import MONEY as _MONEY, ColumnSpec
from .loan_contract import LOAN_CONTRACT
from ..lazy import LazyModule

pd = LazyModule("pandas")

_EXAMPLE_CHARS = 60

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
#: Keys that identify one row of a table.
_KEYS = {"monthly_activity": ["merchant_id", "month"], "outcomes": ["merchant_id", "snapshot_month"],
         "bureau_history": ["merchant_id", "month"], "loan_months": ["loan_id", "month"]}


@dataclass
class _Found:
    """A problem plus where it sorts in the report."""

    order: tuple
    problem: Problem


def shape_conforms(table: str, names: list[str], same_dtype: Callable[[int, str], bool]) -> bool:
    """Whether ``names`` are ``table``'s canonical columns (every required one, no other, in the contract's
    order) and ``same_dtype(position, name)`` holds for each: the shape of a frame
    (:func:`~cb_core.data.schema.conforms`) and of a stored file's footer (``_installed._footer_conforms``)."""
    specs = CONTRACT[table]
    if names != [c for c in specs if c in names] or any(specs[c].required and c not in names for c in specs):
        return False
    return all(same_dtype(i, c) for i, c in enumerate(names))


def _rows_problem(table: str, column: str, rule: str, rows: object, example: object,
                  max_rows: int, order: tuple) -> _Found:
    unique_rows = np.unique(np.asarray(rows, dtype=np.int64))
    missing = example is None or (pd.api.types.is_scalar(example) and pd.isna(example))
    text = "" if missing else str(example)
    if len(text) > _EXAMPLE_CHARS:
        text = text[:_EXAMPLE_CHARS] + "…"
    problem = Problem(table, column, rule, tuple(int(r) for r in unique_rows[:max_rows]), len(unique_rows), text)
    return _Found(order + (int(unique_rows[0]) if len(unique_rows) else 0,), problem)


def _table_level(table: str, column: str, rule: str, position: int = -1) -> _Found:
    return _Found((TABLES.index(table) if table in TABLES else len(TABLES), 0, position, 0),
                  Problem(table, column, rule))


def _column_position(table: str, column: str) -> int:
    names = list(CONTRACT[table])
    return names.index(column) if column in names else len(names)
