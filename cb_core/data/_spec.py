"""One contract column's spec, shared by the contract (``schema``) and its parsers and checks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


#: A won amount column (whole, never negative): one spec for every table that has one.
MONEY = ColumnSpec("whole", low=0, unit=" of KRW")
