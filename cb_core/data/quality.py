"""Per-column quality summary of a table, for the Data page and the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd


def column_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: dtype, missing count and share, distinct values, min, median, max.

    Parameters
    ----------
    frame : DataFrame
        Any table.

    Returns
    -------
    DataFrame
        Columns ``column, dtype, missing, missing_share, distinct, min, median, max``; numeric
        statistics are NaN for non-numeric columns.
    """
    rows = []
    n = len(frame)
    for name in frame.columns:
        col = frame[name]
        missing = int(col.isna().sum())
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        values = pd.to_numeric(col, errors="coerce").astype(float) if numeric else None
        rows.append({
            "column": name,
            "dtype": str(col.dtype),
            "missing": missing,
            "missing_share": missing / n if n else np.nan,
            "distinct": int(col.nunique(dropna=True)),
            "min": float(values.min()) if numeric and n > missing else np.nan,
            "median": float(values.median()) if numeric and n > missing else np.nan,
            "max": float(values.max()) if numeric and n > missing else np.nan,
        })
    return pd.DataFrame(rows, columns=["column", "dtype", "missing", "missing_share", "distinct",
                                       "min", "median", "max"])
