"""Data: the book in use (source, fingerprint, counts, quality) and upload of a new one."""
from __future__ import annotations

import streamlit as st

from cb_core import workspace
from cb_core.config import get_settings
from cb_core.data import column_summary
from ui.cache import current_book
from cb_core.errors import CBError
from ui.display import quality_frame, show_present, source_text
from ui.errors import show_engine_error
from ui.labels import count, kst, label_func, tr
from ui.tables import audit, flash, show_flash
from ui.text import plain
from ui.session import translated_picker

QUALITY_UNITS = {"missing": "count", "missing_share": "pct", "distinct": "count", "min": "num2", "median": "num2",
                 "max": "num2"}

st.title(tr("nav_data"))
book = current_book()
show_flash()

if book is None:
    st.info(tr("data_no_book"))
else:
    st.subheader(tr("data_current"))
    # source and fingerprint as a line of text: as metrics their values were cut ("데모 데이터 (…")
    st.markdown(f"{plain(tr('data_source'))}: {source_text(book.source)} · "  # file names: escaped there
                f"{plain(tr('data_fingerprint'))}: {plain(book.fingerprint)}")
    cols = st.columns(4)
    cols[0].metric(tr("data_merchants"), count(len(book.merchants)))
    cols[1].metric(tr("data_activity_rows"), count(len(book.activity)))
    st.success(tr("data_valid", last_month=book.last_month,
                  outcomes=0 if book.outcomes is None else len(book.outcomes)))
    books = workspace.stored_books()
    in_use = books.loc[books["in_use"], "last_in_use"]
    if not in_use.empty:  # when it was installed (made the book in use), in Korea time
        st.caption(tr("data_installed_at", at=kst(in_use.iloc[0])))
    st.caption(tr("data_kept_books", n=get_settings().keep_replaced_books))

    st.subheader(tr("data_quality"))
    tables = book.tables()
    table = st.selectbox(tr("data_table"), list(tables), key=translated_picker("data_table"), format_func=label_func("table_"))
    show_present(quality_frame(column_summary(tables[table])), QUALITY_UNITS, f"quality_{table}.csv", "dl_quality")

st.subheader(tr("data_upload"))
st.caption(tr("data_upload_help"))
# A failed upload is said once, above an empty uploader: its files do not linger into the next try
# (where a fixed merchants.csv would sit beside the bad one). A new key gives a new, empty widget.
generation = st.session_state.get("upload_generation", 0)
failed = st.session_state.pop("upload_failed", None)
if failed is not None:
    show_engine_error(failed, "data_upload_failed")
with st.form("upload_form", clear_on_submit=False):
    files = st.file_uploader(tr("data_files"), type=["csv", "parquet"], accept_multiple_files=True,
                             key=f"upload_files_{generation}", help=tr("data_files_help", mb=get_settings().max_upload_mb))
    submitted = st.form_submit_button(tr("data_validate_and_load"), type="primary")

if submitted:
    if not files:
        st.warning(tr("data_no_files"))
    else:
        from cb_core.data import read_uploaded

        try:  # every file as uploaded: two of the same name are a problem, not a silent pick
            new_book = read_uploaded([(f.name, f.getvalue()) for f in files])
            new_book.source = "upload: " + ", ".join(sorted(f.name for f in files))
            workspace.install_book(new_book)
        except CBError as exc:
            st.session_state["upload_failed"] = exc
            st.session_state["upload_generation"] = generation + 1
            st.rerun()
        audit("data.load", "book", new_book.fingerprint,
              {"source": new_book.source, "merchants": len(new_book.merchants), "previous": None if book is None else book.fingerprint})
        flash(tr("data_loaded", merchants=count(len(new_book.merchants)), fingerprint=new_book.fingerprint))
        st.session_state["upload_generation"] = generation + 1  # the loaded files leave the uploader too
        st.rerun()
