"""Products: the partner product catalog — edit with validation, save as a new version, history.

The catalog in use is the store's newest version (or the shipped file before the first save).
Edits start from the version the user first saw; saving is refused with a conflict message if
someone saved after it, and a catalog that breaks a rule is not saved: every problem is listed
and the catalog in use stays as it was.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.offers import products_to_records, records_from_editor
from cb_core.store import catalog_changes
from ui.brokerage import catalog_in_use, catalog_version_products, editor_columns, editor_frame, save_catalog
from ui.cache import store
from ui.errors import engine_errors
from ui.labels import kst, tr
from ui.session import can
from ui.tables import flash, show_flash
from ui.text import plain, show_frame

BASE = "prod_base_version"

st.title(tr("nav_products"))
if not can("edit_products"):
    st.error(tr("prodcat_not_allowed"))
    st.stop()
show_flash()

version, products = catalog_in_use()
base = st.session_state.setdefault(BASE, version)
with engine_errors():
    history = store().product_history()
if version is None:
    st.caption(tr("prodcat_in_use_shipped", n=len(products)))
else:
    latest = history[-1]
    st.caption(tr("prodcat_in_use", version=version, user=plain(latest.created_by), n=len(products),
                  at=kst(latest.created_at)))
if base != version:
    st.warning(tr("prodcat_newer", base=base if base is not None else tr("prodcat_shipped"), version=version))
    if st.button(tr("prodcat_reload"), key="prod_reload"):
        st.session_state[BASE] = version
        st.rerun()

st.caption(tr("prodcat_editor_help"))
edited = st.data_editor(editor_frame(catalog_version_products(base)), key=f"prod_editor_v{base or 0}",
                        num_rows="dynamic", hide_index=True, width="stretch", column_config=editor_columns())
if st.button(tr("prodcat_save"), type="primary", key="prod_save"):
    saved = save_catalog(records_from_editor(edited), base)
    if saved is not None:
        st.session_state[BASE] = saved
        flash(tr("prodcat_saved", version=saved))
        st.rerun()

st.subheader(tr("prodcat_history"))
if not history:
    st.info(tr("prodcat_no_history"))
else:
    rows, before = [], products_to_records(catalog_version_products(None))  # v1 is compared with the shipped file
    for v in history:
        changes = catalog_changes(before, v.catalog)
        rows.append({tr("prodcat_col_version"): v.version, tr("prodcat_col_by"): v.created_by,
                     tr("prodcat_col_at"): kst(v.created_at),
                     tr("prodcat_col_products"): len(v.catalog),
                     tr("prodcat_col_added"): ", ".join(changes["added"]),
                     tr("prodcat_col_changed"): ", ".join(changes["changed"]),
                     tr("prodcat_col_removed"): ", ".join(changes["removed"])})
        before = v.catalog
    show_frame(pd.DataFrame(rows[::-1]))
    st.caption(tr("prodcat_history_help"))
