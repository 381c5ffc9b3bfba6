"""Partner view: one partner's products, its eligible pool, a masked sample, its own booked loans
(volume, vintages, delinquency, concentration), and a take-away report of both.

A partner login sees its own partner only; a role with ``all_partners`` (admin) chooses. Only that
partner's products are matched and shown, never another partner's products, terms or loans. The
header names the partner shown (a catalog string: plain text). Expected loss uses the LGD of the
policy in force.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import streamlit as st

from cb_core.reports import by_product_table, kpis, partners, products_table, report_html, sample_merchants
from ui.brokerage import EXPORT_ACTION, catalog_in_use, partner_pool_for
from ui.charts_offers import grade_mix_figure
from ui.errors import engine_errors, require_book_and_model
from ui.labels import count, tr
from ui.partner_book import booked_book_for, render_booked_book
from ui.policy import policy_in_force
from ui.session import can, lang, partner as own_partner, translated_picker
from ui.tables import audit
from ui.text import cell, plain, show_frame

st.title(tr("nav_partner_view"))
header = st.empty()  # names the partner shown, once known (an admin chooses it below)
book, model = require_book_and_model()
version, products = catalog_in_use()
lg = lang()

if can("all_partners"):
    table = partners(products)
    names = {p: cell(n, 300) for p, n in zip(table["partner"], table["partner_ko"] if lg == "ko" else table["partner"])}
    partner = st.selectbox(tr("pview_choose"), list(names), format_func=names.get, key=translated_picker("pv_partner"))
elif can("view_partner"):
    partner = own_partner()
    if not partner or partner not in set(products["partner"]):
        st.error(tr("pview_no_partner"))
        st.stop()
else:
    st.error(tr("pview_not_allowed"))
    st.stop()

pool = partner_pool_for(book, model, partner, policy_in_force().policy.lgd)
header.header(plain(tr("pbook_page_header", partner=pool.partner_ko if lg == "ko" else pool.partner)))
booked = booked_book_for(book, partner)
st.caption(tr("pview_caption", lgd=f"{pool.lgd:.0%}", merchants=f"{pool.n_merchants:,}",
              catalog=tr("offers_catalog_version", version=version) if version is not None
              else tr("offers_catalog_shipped")))
if pool.n_blocked:
    st.caption(tr("block_pool_caption", n=count(pool.n_blocked, "merchants")))

with engine_errors():
    sample = sample_merchants(pool, book.merchants, lg)
# Written when the button is pressed (a callable), not on every run of the page.
report = lambda: report_html(pool, sample, lang=lg, generated_at=datetime.now(timezone.utc),  # noqa: E731
                             model_version=model.version, book_label=book.fingerprint[:12],
                             booked=booked).encode("utf-8")
if st.download_button(tr("pview_download"), report, mime="text/html", type="primary",
                      file_name=f"partner_report_{re.sub(r'[^A-Za-z0-9]+', '_', partner).strip('_')}.html",
                      key="pv_download"):
    audit(EXPORT_ACTION, "partner", partner, {"catalog_version": version, "model_version": model.version,
                                              "book": book.fingerprint, "eligible": pool.n_eligible,
                                              "products": pool.products["product_id"].tolist(), "lang": lg,
                                              "booked_loans": booked.n_loans, "definition": booked.bad})

pool_tab, book_tab = st.tabs([tr("pbook_tab_pool"), tr("pbook_tab_book")])
with pool_tab:
    st.subheader(tr("pview_products"))
    show_frame(products_table(pool, lg))

    st.subheader(tr("pview_pool"))
    figures = kpis(pool, lg)
    for row in (figures[:3], figures[3:]):  # two rows: won amounts need the width
        for column, (label, value) in zip(st.columns(3), row):
            column.metric(label, value)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{tr('pview_grade_mix')}**")
        st.plotly_chart(grade_mix_figure(pool.grade_mix, {"x": tr("pview_col_grade"), "y": tr("pview_eligible"),
                                                          "volume": tr("pview_volume")}), width="stretch")
    with right:
        st.markdown(f"**{tr('pview_by_product')}**")
        show_frame(by_product_table(pool, lg))

    st.subheader(tr("pview_sample"))
    st.caption(tr("pview_sample_help"))
    if sample.empty:
        st.info(tr("pview_empty"))
    else:
        show_frame(sample)

with book_tab:
    render_booked_book(book, booked)
