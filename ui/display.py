"""Engine tables as people read them: catalog headers, coded values in words, every number through
the one formatter of its unit (ui.labels); CSV downloads keep the raw values at full precision with
the unit in each header.

:func:`present` turns an engine frame into ``(shown, raw)``; :func:`show_present` draws ``shown``
with the CSV of ``raw`` (through ui.tables). Headers come from the catalog key ``col_<column>``
(data/i18n/sweep.json), else a feature's label from data/feature_catalog.csv; a coded value from
``val_<value>``, a feature id from the feature catalog.
"""
from __future__ import annotations

from typing import Callable, Mapping

import pandas as pd

from cb_core.data import categories, feature_catalog, regions
from cb_core.i18n import strings
from ui.labels import count, days, kst, krw, months, number, pct, tr
from ui.session import lang
from ui.tables import show_table

#: unit -> formatter of one value in the session's language.
FORMATTERS: dict[str, Callable[[object], str]] = {
    "pct": lambda v: pct(v, 1), "pct2": lambda v: pct(v, 2), "pp": lambda v: pct(v, 2, signed=True),
    "krw": krw, "count": count, "score": lambda v: number(v, 0), "num": lambda v: number(v, 0),
    "num1": lambda v: number(v, 1), "num2": lambda v: number(v, 2), "num3": lambda v: number(v, 3),
    "months": months, "days": days, "kst": kst,
}
#: unit -> catalog key of the unit named in a CSV header (none: the header is the label alone).
_UNIT_KEYS = {"pct": "unit_fraction", "pct2": "unit_fraction", "pp": "unit_fraction", "krw": "unit_krw",
              "months": "unit_months", "days": "unit_days", "kst": "unit_utc"}


def _has(key: str) -> bool:
    return key in strings()


def column_label(column: object) -> str:
    """A column's header in the session's language (catalog ``col_<column>``, else a feature label)."""
    name = str(column)
    if _has(f"col_{name}"):
        return tr(f"col_{name}")
    spec = feature_catalog().get(name)
    if spec is not None:
        return spec.label(lang())
    return name  # an unknown column stays visible as it is (the all-pages test reports it)


def value_label(value: object) -> str:
    """A coded value (``swap_in``, ``train``, ``shift``, a feature id, a category or region code) in words."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    name = str(value)
    if _has(f"val_{name}"):
        return tr(f"val_{name}")
    spec = feature_catalog().get(name)
    if spec is not None:
        return spec.label(lang())
    for table in (categories(), regions()):
        if name in table:
            return str(table[name][lang()])
    return name


def segment_label(by: str) -> Callable[[object], str]:
    """The words of a segment value of ``by`` (0/1 flags, category and region codes)."""
    if by in ("thin_file", "tenure_lt_12m"):
        return lambda v: tr(f"val_{by}_{int(v)}") if v == v else "–"
    return value_label


def present(frame: pd.DataFrame, units: Mapping[str, str], codes: Mapping[str, Callable[[object], str]] | None = None,
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(shown, raw)`` of an engine table.

    Parameters
    ----------
    frame : DataFrame
        The engine's table (its index is dropped: put what it holds in a column first).
    units : mapping
        Column -> unit of :data:`FORMATTERS`; a column not named is text.
    codes : mapping, optional
        Column -> function turning a coded value into words (default for text columns named in
        neither: as they are).

    Returns
    -------
    (DataFrame, DataFrame)
        ``shown``: catalog headers and formatted text; ``raw``: the same headers with the unit in
        brackets and the values unchanged (for the CSV).
    """
    codes = dict(codes or {})
    shown, raw = {}, {}
    for column in frame.columns:
        label = column_label(column)
        values = frame[column]
        unit = units.get(column)
        if column in codes:
            shown[label] = [codes[column](v) for v in values]
            raw[label] = [codes[column](v) for v in values]
        elif unit is not None:
            fmt = FORMATTERS[unit]
            shown[label] = [fmt(v) for v in values]
            raw[f"{label} [{tr(_UNIT_KEYS[unit])}]" if unit in _UNIT_KEYS else label] = values.to_numpy()
        else:
            shown[label] = ["–" if v is None or (isinstance(v, float) and v != v) else v for v in values]
            raw[label] = values.to_numpy()
    return pd.DataFrame(shown), pd.DataFrame(raw)


def show_present(frame: pd.DataFrame, units: Mapping[str, str], file_name: str, key: str,
                 codes: Mapping[str, Callable[[object], str]] | None = None) -> None:
    """Draw :func:`present`'s ``shown`` with a CSV download of its ``raw`` (audited, formula-safe)."""
    shown, raw = present(frame, units, codes)
    show_table(shown, file_name, key, raw=raw)


def decision_word(decision: object) -> str:
    """``approve`` / ``refer`` / ``decline`` in words."""
    return tr(f"decision_{decision}") if decision in ("approve", "refer", "decline") else value_label(decision)


def decision_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """The published x draft decision counts with words for rows and columns, counts formatted."""
    out = pd.DataFrame({tr("col_published_decision"): [decision_word(d) for d in matrix.index]})
    for column in matrix.columns:
        out[tr("col_draft_decision", decision=decision_word(column))] = [count(v) for v in matrix[column]]
    return out


def _dtype_kind(dtype: str) -> str:
    dtype = dtype.lower()
    if "bool" in dtype:
        return "flag"
    if "int" in dtype:
        return "whole"
    if "float" in dtype:
        return "number"
    if "date" in dtype:
        return "date"
    return "text"


def quality_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """A column summary (``cb_core.data.column_summary``) with each column's name in words next to
    its name in the file, and its type in words."""
    out = summary.copy()
    out.insert(1, "file_column", out["column"])
    out["column"] = [column_label(c) for c in out["column"]]
    out["dtype"] = [tr(f"val_dtype_{_dtype_kind(str(d))}") for d in out["dtype"]]
    return out


def source_text(source: str | None) -> str:
    """Where the book came from, in words (``demo:seed=11``, ``upload: a.csv, b.csv``), escaped for Markdown."""
    from ui.text import plain

    source = source or ""
    if source.startswith("demo:"):
        return plain(tr("data_source_demo", detail=source.removeprefix("demo:").replace("seed=", "")))
    if source.startswith("upload:"):
        return plain(tr("data_source_upload", files=source.removeprefix("upload:").strip()))
    return plain(source) or "–"
