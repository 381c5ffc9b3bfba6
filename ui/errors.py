"""The one place the app turns the engine's errors into messages: ``st.error`` with what to do.

:func:`engine_errors` wraps every call that may raise a :class:`~cb_core.errors.CBError`; anything
else is a bug and propagates. :func:`require_book_and_model` is the guard of the pages that need
a scored book: an unusable model or no book yet is said plainly and the page stops.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import streamlit as st

from cb_core import workspace
from cb_core.data import Book
from cb_core.data import feature_catalog
from cb_core.errors import CBError, ModelError, SchemaError
from cb_core.i18n import error_text, strings, translate_rule
from cb_core.model import check_book_features
from cb_core.store import DatabaseDamagedError
from ui import cache
from ui.labels import tr
from ui.session import lang
from ui.text import CELL_LIMIT, cell, plain, show_frame


def show_engine_error(exc: CBError, title_key: str = "error_title") -> None:
    """Say an engine error the way :func:`engine_errors` does, without stopping the run (a page that
    keeps an error across a rerun shows it with this)."""
    if isinstance(exc, DatabaseDamagedError):  # vanished, replaced, empty or corrupt: said without server paths
        st.error(tr(exc.key), icon="⚠️")
    elif isinstance(exc, SchemaError):
        st.error(tr("error_schema", n=len(exc.problems)), icon="⚠️")
        show_frame(problems_frame(exc))
    elif not said_in_language(exc, title_key):
        st.error(tr(title_key), icon="⚠️")  # an error without a catalog key
        st.code(cell(exc), language=None, wrap_lines=True)  # messages quote values: plain text


@contextmanager
def engine_errors(title_key: str = "error_title", stop: bool = True) -> Iterator[None]:
    """Show the engine's own errors as ``st.error`` with what to do and stop the run; let bugs propagate.

    ``title_key``: the label said above the engine's message (a validation report has its own).
    ``stop=False``: after the message the page goes on below the ``with`` block (a refused form
    entry, with the rest of the page still usable).
    """
    try:
        yield
    except CBError as exc:
        show_engine_error(exc, title_key)
        _halt(stop)


def _halt(stop: bool) -> None:
    if stop:
        st.stop()


def engine_message(exc: CBError) -> str | None:
    """An engine error's message in the user's language from its catalog key and parameters (each
    value shown by the formatter of its unit, and kept plain text: names and file names may hold
    Markdown); None when it has no key."""
    return error_text(exc, lang(), escape=lambda shown: plain(shown, CELL_LIMIT))  # a cause may be a sentence


def said_in_language(exc: CBError, title_key: str = "error_title") -> bool:
    """Show an engine error that carries a catalog key (``exc.key``/``exc.params``) in the user's
    language, as one ``st.error`` (under ``title_key``'s words when a page gives its own title, such
    as "the upload failed"); False (nothing shown) when it has none."""
    message = engine_message(exc)
    if message is None:
        return False
    st.error(message if title_key == "error_title" else f"{tr(title_key)}\n\n{message}", icon="⚠️")
    return True


def _table_label(table: str) -> str:
    """A contract table by its label with its file name ("가맹점 (merchants)"), else as given."""
    return tr(f"table_{table}") if f"table_{table}" in strings() else table


def problems_frame(exc: SchemaError) -> pd.DataFrame:
    """A validation report as a table (shown with ``ui.text.show_frame``: plain text cells)."""
    return pd.DataFrame(
        [{tr("problem_table"): _table_label(p.table), tr("problem_column"): p.column, tr("problem_rule"): translate_rule(p.rule, lang()),
          tr("problem_rows"): ", ".join(map(str, p.rows)) + (f" (+{p.n_rows - len(p.rows)})" if p.n_rows > len(p.rows) else ""),
          tr("problem_example"): p.example} for p in exc.problems])


def require_book_and_model() -> tuple[Book, object]:
    """The book and model in use; without them, say where to load a book and stop the page."""
    try:  # an unreadable model, or one from another feature set: say so, change nothing
        book, model = cache.book_and_model()
        if model is not None:
            check_book_features(model.card["features"], feature_catalog(), str(workspace.current_model_dir()))
    except ModelError as exc:
        if not said_in_language(exc, "error_model_unusable"):
            st.error(tr("error_model_unusable"), icon="⚠️")
            st.code(cell(exc), language=None, wrap_lines=True)
        st.stop()
    if book is None or model is None:
        st.info(tr("review_no_model"))
        st.stop()
    return book, model
