"""Tables and what leaves the app: shown tables, CSV downloads, the audit log, one-run messages.

:func:`audit` is the one way the app records a user's action (downloads, exports, uploads); the
store records its own verbs (decisions, publishing, catalog saves) itself.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cb_core.reports import csv_bytes
from ui import cache
from ui.errors import engine_errors
from ui.labels import tr
from ui.session import user_name
from ui.text import plain_frame

_FLASH_KEY = "_flash"


def show_table(frame: pd.DataFrame, file_name: str, key: str, raw: pd.DataFrame | None = None) -> None:
    """A dataframe plus a CSV download (formula-safe; the export is audited) of exactly what is shown,
    or of ``raw``: the same rows at full precision with units in the headers (ui.display)."""
    if frame.empty:  # no grid saying "empty" in English, and nothing to download
        st.caption(tr("table_no_rows"))
        return
    frame = plain_frame(frame)  # names, notes, requests: plain text (ui.text)
    st.dataframe(frame, width="stretch", hide_index=True)
    download_csv(frame if raw is None else plain_frame(raw), file_name, key)


def download_csv(frame: pd.DataFrame, file_name: str, key: str) -> None:
    """The one way a table leaves the app: formula-safe CSV (UTF-8 with BOM), each download audited."""
    if st.download_button(tr("download_csv"), csv_bytes(frame), file_name=file_name, mime="text/csv", key=key):
        audit("export.csv", "download", file_name, {"rows": len(frame), "columns": [str(c) for c in frame.columns]})


def audit(action: str, entity: str, entity_id: Any = None, after: dict[str, Any] | None = None) -> None:
    """Record an action of the signed-in user in the append-only audit log.

    If the database cannot take it, the error boundary says that the action was done but not
    recorded, and the run stops.
    """
    with engine_errors("audit_not_recorded"):
        cache.store().audit(user_name(), action, entity, entity_id, None, after)


def flash(message: str) -> None:
    """Keep a success message for the next run (use before ``st.rerun()``)."""
    st.session_state[_FLASH_KEY] = message


def show_flash() -> None:
    """Show the message :func:`flash` kept, once."""
    if message := st.session_state.pop(_FLASH_KEY, None):
        st.success(message)
