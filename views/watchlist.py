"""Watch-list: booked loans flagged by the early-warning triggers, most severe first; the officer's
actions (review, freeze further offers, contact, lift a freeze) recorded in the store and audited."""
from __future__ import annotations

import streamlit as st

from ui import cache
from ui.errors import engine_errors, require_book_and_model
from ui.labels import count, tr
from ui.tables import show_flash
from ui.watch_panels import filter_flagged, render_actions, render_filters, render_watch_table

st.title(tr("nav_watchlist"))
show_flash()
book, model = require_book_and_model()
if book.loans is None or book.loan_months is None or book.loans.empty:
    st.info(tr("watch_no_loans"))
    st.stop()

with engine_errors():
    flagged, strips = cache.watch(book, model)
    frozen = cache.store().frozen_merchants()
    blocked = cache.blocked(book, tuple(frozen))  # the freezes just read: one store read a run
as_of = cache.loans_as_of(book)
st.caption(tr("watch_caption", as_of=as_of, n=count(len(flagged), "loans")))

severities, triggers = render_filters()
shown = filter_flagged(flagged, severities, triggers)
render_watch_table(book, shown, strips, blocked)
render_actions(book, shown, frozen)
