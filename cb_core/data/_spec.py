"""One contract column's spec, shared by the contract (``schema``) and its parsers and checks."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from ..lazy import LazyModule

pd = LazyModule("pandas")


@cache
def _string_dtype() -> object:
    return pd.StringDtype(na_value=np.nan)  # pandas' default string dtype


def __getattr__(name: str) -> object:
    """``_STR``, pandas' default string dtype, made (and pandas imported) on first use."""
    if name == "_STR":
        return _string_dtype()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    def dtype_name(self) -> str:
        """The pandas dtype's name (``str``, ``int64``, ``Int64``, ``float64``, ``boolean``), also what pandas
        records for the column in a Parquet file it writes: read without importing pandas."""
        if self.kind == "whole":
            return "Int64" if self.nullable else "int64"
        return {"number": "float64", "bool": "boolean", "flag": "int64"}.get(self.kind, "str")

    @property
    def dtype(self) -> object:
        name = self.dtype_name
        return _string_dtype() if name == "str" else name


#: A won amount column (whole, never negative): one spec for every table that has one.
MONEY = ColumnSpec("whole", low=0, unit=" of KRW")
