"""Data: the book in use (source, fingerprint, counts, quality) and upload of a new one."""
from __future__ import annotations

import streamlit as st

from cb_core import workspace
from cb_core.config import get_settings
from cb_core.data import column_summary
from ui.cache import current_book
from ui.errors import engine_errors
from ui.labels import tr
from ui.tables import audit, flash, show_flash, show_table
from ui.text import plain

st.title(tr("nav_data"))
book = current_book()
show_flash()

if book is None:
    st.info(tr("data_no_book"))
else:
    st.subheader(tr("data_current"))
    cols = st.columns(4)
    cols[0].metric(tr("data_source"), plain(book.source) or "–")  # file names: untrusted
    cols[1].metric(tr("data_fingerprint"), book.fingerprint)
    cols[2].metric(tr("data_merchants"), f"{len(book.merchants):,}")
    cols[3].metric(tr("data_activity_rows"), f"{len(book.activity):,}")
    st.success(tr("data_valid", last_month=book.last_month,
                  outcomes=0 if book.outcomes is None else len(book.outcomes)))
    st.caption(tr("data_kept_books", n=get_settings().keep_replaced_books))

    st.subheader(tr("data_quality"))
    tables = book.tables()
    table = st.selectbox(tr("data_table"), list(tables), key="data_table")
    show_table(column_summary(tables[table]), f"quality_{table}.csv", key="dl_quality")

st.subheader(tr("data_upload"))
st.caption(tr("data_upload_help"))
with st.form("upload_form", clear_on_submit=False):
    files = st.file_uploader(tr("data_files"), type=["csv", "parquet"], accept_multiple_files=True,
                             key="upload_files")
    submitted = st.form_submit_button(tr("data_validate_and_load"), type="primary")

if submitted:
    if not files:
        st.warning(tr("data_no_files"))
    else:
        from cb_core.data import read_uploaded

        with engine_errors():
            new_book = read_uploaded({f.name: f.getvalue() for f in files})
            new_book.source = "upload: " + ", ".join(sorted(f.name for f in files))
            workspace.install_book(new_book)
        audit("data.load", "book", new_book.fingerprint,
              {"source": new_book.source, "merchants": len(new_book.merchants), "previous": None if book is None else book.fingerprint})
        flash(tr("data_loaded", merchants=f"{len(new_book.merchants):,}", fingerprint=new_book.fingerprint))
        st.rerun()
