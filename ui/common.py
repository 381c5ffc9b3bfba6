"""Session language, labels, the engine-error boundary and cached engine objects."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import streamlit as st

from cb_core.data.book import Book
from cb_core.errors import CBError, SchemaError
from cb_core.i18n import format_krw, t

LANG_KEY = "lang"
_LANG_WIDGET = "lang_radio"


def language_switch() -> None:
    """한국어 / English in the sidebar (call after ``st.navigation``: entrypoint widgets made before
    it reset on every page run)."""
    # The choice lives in a plain session key: a widget's own state is dropped by any run that does
    # not draw it (an error page, e.g. while the database is down), and the language with it.
    st.session_state[_LANG_WIDGET] = lang()
    with st.sidebar:
        st.radio("Language / 언어", options=["ko", "en"], key=_LANG_WIDGET, horizontal=True,
                 format_func=lambda code: {"ko": "한국어", "en": "English"}[code],
                 on_change=lambda: st.session_state.update({LANG_KEY: st.session_state[_LANG_WIDGET]}))


def lang() -> str:
    """The session's language, ``ko`` by default."""
    return st.session_state.get(LANG_KEY, "ko")


def role() -> str:
    """The signed-in user's role."""
    return st.session_state.get("role", "")


def user_name() -> str:
    """The signed-in user's name (recorded with every decision, draft and audit entry)."""
    return st.session_state.get("user", "")


def tr(key: str, **fmt: object) -> str:
    """A label from the catalog in the session's language."""
    return t(key, lang(), **fmt)


def label_func(prefix: str):
    """``format_func`` for choice widgets: label key ``prefix + option`` in the language of this run
    (bound now: Streamlit may call format functions outside the script run)."""
    language = lang()
    return lambda option: t(f"{prefix}{option}", language)


def krw(amount: float | int | None) -> str:
    return format_krw(amount, lang())


@contextmanager
def engine_errors() -> Iterator[None]:
    """Show the engine's own errors as ``st.error`` with what to do; let bugs propagate."""
    try:
        yield
    except SchemaError as exc:
        st.error(tr("error_schema", n=len(exc.problems)), icon="⚠️")
        st.dataframe(problems_frame(exc), width="stretch", hide_index=True)
        st.stop()
    except CBError as exc:
        st.error(tr("error_title"), icon="⚠️")
        st.code(str(exc), language=None, wrap_lines=True)
        st.stop()


def problems_frame(exc: SchemaError) -> pd.DataFrame:
    """A validation report as a table (plain text cells; nothing is rendered as HTML)."""
    return pd.DataFrame(
        [{tr("problem_table"): p.table, tr("problem_column"): p.column, tr("problem_rule"): p.rule,
          tr("problem_rows"): ", ".join(map(str, p.rows)) + (f" (+{p.n_rows - len(p.rows)})" if p.n_rows > len(p.rows) else ""),
          tr("problem_example"): p.example} for p in exc.problems])


@st.cache_resource(show_spinner=False, max_entries=2)
def _book_by_fingerprint(fingerprint: str) -> Book | None:
    from cb_core import workspace

    return workspace.current_book()


def current_book() -> Book | None:
    """The book in use, cached by its fingerprint (reloaded only when another is installed)."""
    from cb_core import workspace

    fingerprint = workspace.current_fingerprint()
    return None if fingerprint is None else _book_by_fingerprint(fingerprint)


def show_table(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """A dataframe plus a CSV download of exactly what is shown (formula-safe; the export is audited)."""
    st.dataframe(frame, width="stretch", hide_index=True)
    download_csv(frame, file_name, key)


def download_csv(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """The one way a table leaves the app: formula-safe CSV (UTF-8 with BOM), each download audited."""
    from cb_core.reports.safe_csv import csv_bytes

    if st.download_button(tr("download_csv"), csv_bytes(frame), file_name=file_name, mime="text/csv", key=key):
        audit("export.csv", "download", file_name, {"rows": len(frame), "columns": [str(c) for c in frame.columns]})


def audit(action: str, entity: str, entity_id: str | None, after: dict | None = None) -> None:
    """Record an action of the signed-in user in the append-only audit log."""
    from ui.engine import store

    with engine_errors():
        store().audit(user_name(), action, entity, entity_id, None, after)


def flash(message: str) -> None:
    """Keep a success message for the next run (use before ``st.rerun()``)."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    if message := st.session_state.pop("_flash", None):
        st.success(message)
