"""Book performance: what happened to the loans partners booked through the brokerage.

Vintage curves under a definition of the registry, the roll-rate heatmap, the backtest by grade
with its lights, early reads for young cohorts, and the validation pack for partner banks.
Product managers and admins (``view_book_performance``).
"""
from __future__ import annotations

import streamlit as st

from ui.book_panels import render_backtest, render_early_reads, render_pack, render_rolls, render_vintages
from ui.errors import require_book_and_model
from ui.labels import count, tr

st.title(tr("nav_book_performance"))
book, model = require_book_and_model()
if book.loans is None or book.loan_months is None:
    st.info(tr("bp_no_loans"))
    st.stop()
st.caption(tr("bp_caption", loans=count(len(book.loans)), month=book.last_month, model=model.version))

render_vintages(book)
render_rolls(book)
render_backtest(book)
render_early_reads(book)
render_pack(book, model)
