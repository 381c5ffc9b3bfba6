"""What a page shows, as text, and the rules every shown text follows (issue #13, "Numbers that are
unreadable"): used by tests/app/test_all_pages_i18n.py.

:func:`visible_texts` walks an AppTest's element tree and reads each element's proto generically
(every string field a user can see: bodies, labels, options, placeholders, help, metric values and
deltas, block labels such as tabs and expanders), the cells and headers of every dataframe (as the
front end draws them: floats without a column format are shown with up to four decimals), and
the figure JSON of every plotly chart (titles, axis titles, tick texts, trace names, hover templates,
text labels and categorical axis values). :func:`text_problems` lists what breaks the rules.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any, Iterator

import numpy as np
import pandas as pd

from cb_core.i18n import strings

# Proto fields that never reach the screen as text (ids, keys, types, colours, icons, payloads).
_HIDDEN_FIELDS = {
    "id", "form_id", "deferred_file_id", "type", "icon", "color", "css_class", "arrow_data", "lazy_data", "spec", "theme",
    "data", "url", "mimetype", "file_type", "default", "value", "raw_value", "key", "element_type",
    "format", "step", "min", "max", "data_type", "columns", "editing_mode", "selection_mode", "width_config",
    "height_config", "text_alignment_config", "gap_config", "language", "disabled_reason", "vertical_alignment",
    "border_config", "delta_color", "delta_arrow", "chart_type", "scroll_mode", "deploy_params", "target",
    "click_mode", "layout", "string_value", "int_value", "double_value", "accept_file", "column_order",
    "use_container_width", "style", "autocomplete", "anchor", "tooltip_mode", "tab_style", "favicon", "config",
}
# Fields whose value is shown although named "value": a metric's value, a text input's value.
_SHOWN_VALUE_TYPES = {"metric", "text_input", "text_area", "progress"}


def _proto_strings(message: Any, kind: str, path: str = "") -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        name = field.name
        if name in _HIDDEN_FIELDS and not (name == "value" and kind in _SHOWN_VALUE_TYPES):
            continue
        where = f"{path}.{name}" if path else name
        if field.type == field.TYPE_MESSAGE:
            items = value if field.label == field.LABEL_REPEATED else [value]
            for item in items:
                if hasattr(item, "ListFields"):
                    yield from _proto_strings(item, kind, where)
        elif field.type == field.TYPE_STRING:
            for item in (value if field.label == field.LABEL_REPEATED else [value]):
                if item:
                    yield where, item


def _shown_cell(value: Any, formatted: bool) -> str:
    """A cell as st.dataframe draws it (a float column without a format: up to 4 decimals)."""
    if isinstance(value, (bool, np.bool_)):
        return ""  # drawn as a checkbox
    if isinstance(value, float) and not formatted:
        if value != value:
            return "None"  # the grid shows an empty cell, but a missing number is a finding
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return "" if value is None else str(value)


def _frame_strings(node: Any) -> Iterator[tuple[str, str]]:
    try:
        frame = node.value
    except Exception:  # pragma: no cover - a frame AppTest cannot decode
        return
    if not isinstance(frame, pd.DataFrame):
        return
    config = {}
    raw = getattr(node.proto, "columns", "")
    if raw:
        try:
            config = json.loads(raw)
        except ValueError:
            config = {}
    editable = bool(getattr(node.proto, "editing_mode", 0))
    for column in frame.columns:
        conf = config.get(str(column)) or config.get(f"col:{column}") or {}
        header = conf.get("label") or str(column)
        yield "dataframe.header", header
        if conf.get("hidden"):
            continue
        if str(conf.get("type", "")).endswith("_chart") or str(conf.get("type_config", {}).get("type", "")).endswith("_chart"):
            continue  # a sparkline column (st.column_config.LineChartColumn...): drawn as a chart, not text
        type_config = conf.get("type_config") or {}
        formatted = bool(type_config.get("format"))
        options = {str(o.get("value")): str(o.get("label")) for o in type_config.get("options") or []
                   if isinstance(o, dict)}
        for value in frame[column].head(60):
            if editable and (value is None or value is pd.NA or (isinstance(value, float) and value != value)):
                continue  # an empty cell of an editor is where a value may be typed (not a missing value shown)
            shown = _shown_cell(value, formatted)
            yield "dataframe.cell", options.get(shown, shown)
    if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
        if not getattr(node.proto, "hide_index", False) and "_index" not in config:
            for value in list(frame.index)[:60]:
                yield "dataframe.index", _shown_cell(value, False)


def _figure_strings(spec: str) -> Iterator[tuple[str, str]]:
    fig = json.loads(spec)
    layout = fig.get("layout", {})

    def title(obj: Any) -> str:
        if isinstance(obj, dict):
            return obj.get("text") or ""
        return obj or ""

    yield "chart.title", title(layout.get("title"))
    for name, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", name) and isinstance(axis, dict):
            yield f"chart.{name}.title", title(axis.get("title"))
            for tick in axis.get("ticktext") or []:
                yield f"chart.{name}.tick", str(tick)
    legend = layout.get("legend") or {}
    yield "chart.legend", title(legend.get("title"))
    for note in layout.get("annotations") or []:
        yield "chart.annotation", str(note.get("text", ""))
    for shape in layout.get("shapes") or []:
        yield "chart.shape", title((shape.get("label") or {}))
    for trace in fig.get("data", []):
        if trace.get("showlegend", True) is not False:
            yield "chart.trace", str(trace.get("name") or "")
        yield "chart.colorbar", title(((trace.get("marker") or {}).get("colorbar") or {}).get("title"))
        template = re.sub(r"%\{[^}]*\}|<extra>.*?</extra>|<br>", " ", str(trace.get("hovertemplate") or ""))
        yield "chart.hover", template
        for key in ("text", "hovertext", "x", "y", "labels"):
            values = trace.get(key)
            if isinstance(values, str):
                values = [values]
            if isinstance(values, list):
                for v in values[:200]:
                    if isinstance(v, str):
                        yield f"chart.{key}", v


def _numbers(values: Any) -> np.ndarray:
    """A trace's x or y as floats: a list, or plotly's typed array ``{"dtype", "bdata"[, "shape"]}``;
    anything else (dates, categories) gives an empty array."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(float).ravel()
    if isinstance(values, list):
        nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return np.asarray(nums, dtype=float)
    return np.empty(0)


_MONTH = re.compile(r"^\d{4}-\d{2}(-\d{2})?")


def axis_format_problems(spec: str) -> list[str]:
    """Numeric axes whose data reach 10,000 with plotly's default ticks, which read ``10k``, ``1.5B``
    (SI prefixes, not 만/억 nor thousands separators): they need a ``tickformat`` or their own ticks
    (``tickvals``/``ticktext``, as :func:`ui.charts.krw_axis` sets). Months on a date axis without a
    ``tickformat`` read "Mar 2026" in English on every page."""
    fig = json.loads(spec)
    layout = fig.get("layout", {})
    found = []
    for trace in fig.get("data", []):
        if trace.get("type") in ("heatmap", "pie", "table", "indicator"):
            continue
        for letter in ("x", "y"):
            ref = str(trace.get(f"{letter}axis") or letter)
            name = f"{letter}axis{ref[1:]}"
            axis = layout.get(name) or {}
            if axis.get("type") == "date" and not (axis.get("tickformat") or axis.get("tickvals")):
                found.append(f"chart {name}: a date axis with plotly's default ticks (English month names)")
                continue
            if axis.get("type") in ("category", "date", "log") or axis.get("tickformat") or axis.get("tickvals"):
                continue
            raw = trace.get(letter)
            if isinstance(raw, list) and any(isinstance(v, str) and _MONTH.match(v) for v in raw[:50]):
                found.append(f"chart {name}: months with plotly's default date ticks (English month names)")
                continue
            values = _numbers(raw)
            values = values[np.isfinite(values)]
            if values.size and np.abs(values).max() >= 10_000:
                found.append(f"chart {name}: values up to {np.abs(values).max():,.0f} with plotly's default ticks")
    return sorted(set(found))


def visible_texts(app: Any) -> list[tuple[str, str]]:
    """Every text the page of ``app`` (an AppTest after a run) shows, as ``(where, text)`` pairs."""
    out: list[tuple[str, str]] = []
    for node in app._tree:
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if kind in ("arrow_data_frame", "dataframe", "data_editor"):
            out.extend((f"{kind}:{w}", t) for w, t in _frame_strings(node))
        if kind == "plotly_chart" and proto.spec:
            out.extend((f"{kind}:{w}", t) for w, t in _figure_strings(proto.spec))
            out.extend(("axis-format", t) for t in axis_format_problems(proto.spec))
        if kind == "exception":
            out.append(("exception", f"EXCEPTION {proto.type}: {proto.message}"))
            continue
        if hasattr(proto, "ListFields"):
            out.extend((f"{kind}:{w}", t) for w, t in _proto_strings(proto, kind))
        if kind == "multiselect" and not proto.placeholder:
            out.append(("multiselect:placeholder", "Choose options"))  # Streamlit's own English default
    return [(w, t) for w, t in out if t and t.strip()]


# ------------------------------------------------------------------------------------ the rules
_SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w(/-])")
_MISSING = re.compile(r"(?<![\w-])(nan|NaN|None|inf|-inf|NaT|<NA>|null)(?![\w-])")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d+\b")
_LONG_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d{4,}(?![\w.])")
_REPR = re.compile(r"\{'|\['|': |object at 0x|<class |Timestamp\(|datetime\.|np\.float|dtype\(|\bdtype:")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")

#: Reviewed tokens that may stay Latin on a Korean page: units, metric and product names, zones.
ALLOWED_LATIN = {
    "PSI", "AUC", "KS", "KST", "UTC", "CSV", "ECE", "Gini", "Brier", "LightGBM", "SHAP", "ID", "KRW", "API",
    "Merchant", "CB", "PD", "APR", "LGD", "BNPL", "ROC", "pp", "Parquet", "parquet", "csv",
    "English", "Language",  # the language switch names each language in its own tongue
}


def text_problems(texts: list[tuple[str, str]], lang: str, allowed: set[str] = frozenset()) -> list[str]:
    """What breaks the rules in ``texts`` (from :func:`visible_texts`) on a page in ``lang``.

    ``allowed``: exact texts that are data, not prose (merchant and partner names of the book, user
    names, ids, fingerprints, product codes): skipped by the snake_case and Latin-only checks.
    """
    keys = set(strings())
    found: list[str] = []
    for where, text in texts:
        if where in ("exception", "axis-format"):
            found.append(text)
            continue
        stripped = text.strip()
        bad = []
        if stripped in keys:
            bad.append("untranslated catalog key")
        if stripped not in allowed:
            snake = [s for s in _SNAKE.findall(text) if s not in allowed]
            if snake:
                bad.append(f"snake_case {snake[:3]}")
        if _MISSING.search(text):
            bad.append("missing value shown as nan/None/inf")
        if _SCIENTIFIC.search(text):
            bad.append("scientific notation")
        if _LONG_DECIMAL.search(text):
            bad.append("raw 4-decimal number")
        if _REPR.search(text):
            bad.append("Python repr")
        if lang == "ko" and stripped not in allowed and not _HANGUL.search(text):
            words = [w for w in _LATIN_WORD.findall(text) if w not in ALLOWED_LATIN and w not in allowed]
            if words:
                bad.append("Latin-only text on a Korean page")
        if bad:
            found.append(f"{where}: {text[:120]!r}: {', '.join(bad)}")
    return found
