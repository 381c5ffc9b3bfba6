"""Merchant review: find a merchant; profile, score and why under the policy in force; trends; what-if."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.config import get_settings
from cb_core.data import categories, regions
from cb_core.explain import TREND_METRICS, explain_merchant, merchant_trends, waterfall_table
from cb_core.reports import mask_frame
from cb_core.strategy import decisions
from ui import cache
from ui.charts import trends_figure, waterfall_figure
from ui.decision_panel import render_decision
from ui.errors import engine_errors, require_book_and_model
from ui.explanation_panel import render_explanation
from ui.cache_figures import kept_figure
from ui.labels import tr
from ui.brokerage import catalog_in_use
from ui.offers_panel import render_offers
from ui.policy import policy_in_force, policy_label
from ui.session import lang, role, translated_picker
from ui.tables import show_flash, show_table
from ui.text import cell, plain, show_frame
from ui.watch_panels import render_merchant_loans
from ui.what_if_panel import render_what_if

st.title(tr("nav_merchant_review"))
show_flash()
book, model = require_book_and_model()
in_force = policy_in_force()
policy, band = in_force.policy, get_settings().reason_band

query = st.text_input(tr("review_search"), key="review_query", placeholder=tr("review_search_hint"),
                      value=cell(st.query_params.get("merchant", ""), 200))  # a link's text: a search's length
matches = cache.find_merchants(book, query) if query else book.merchants.head(20)  # an index per book
if matches.empty:
    st.warning(tr("review_no_match", query=plain(query)))  # reflected from ?merchant=: plain text only
    st.stop()
# enough to tell ten shops of the same name apart: id, name, category, region and today's score
score_of = cache.strategy_frame(book, model)["score"]
labels = {m: cell(" · ".join([str(m), str(name), categories().get(cat, {}).get(lang(), str(cat)),
                              regions().get(reg, {}).get(lang(), str(reg)),
                              tr("review_pick_score", score=int(score_of[m])) if m in score_of.index else
                              tr("review_pick_no_score")]), 300)
          for m, name, cat, reg in zip(matches["merchant_id"], matches["business_name"], matches["category"],
                                       matches["region"])}
merchant_id = st.selectbox(tr("review_merchant"), list(labels), format_func=labels.get,
                           key=translated_picker("review_merchant"))

snap = cache.snapshot(book)
with engine_errors():
    reference = cache.reference(book, model, in_force, band)
    ex = explain_merchant(model, snap, merchant_id, reference, lang=lang())
    decision = decisions(cache.strategy_frame(book, model).loc[[merchant_id]], policy).iloc[0]

profile = mask_frame(book.merchants.loc[book.merchants["merchant_id"] == merchant_id], role()).iloc[0]
c = st.columns(4)
c[0].metric(tr("review_score"), f"{ex.score}")
c[1].metric(tr("review_grade"), f"{ex.grade}")
c[2].metric(tr("review_pd"), f"{ex.pd:.2%}")
c[3].metric(tr("review_indicative"), tr(f"decision_{decision}"),
            help=tr("portfolio_policy", policy=policy_label(in_force), approve=int(policy.approve_cutoff),
                    refer=int(policy.refer_cutoff)))
facts = {
    tr("review_business_name"): profile["business_name"], tr("review_owner"): profile["owner_name"],
    tr("review_reg_no"): profile["business_reg_no"],
    tr("review_category"): categories()[profile["category"]][lang()],
    tr("review_region"): regions()[profile["region"]][lang()],
    tr("review_opened"): profile["opened_on"], tr("review_joined"): profile["joined_platform_on"],
    tr("review_bureau"): tr("review_thin_file") if pd.isna(profile["bureau_score"]) else str(profile["bureau_score"]),
}
show_frame(pd.DataFrame({tr("review_field"): list(facts), tr("review_value"): [str(v) for v in facts.values()]}))

# one above the other: beside the waterfall the reasons' six columns were cut at 1440 px
st.subheader(tr("review_waterfall"))
seen = (book.fingerprint, model.version, merchant_id, lang())  # what this merchant's charts are drawn from
st.plotly_chart(kept_figure("review_waterfall", seen, lambda: waterfall_figure(
    waterfall_table(model, ex.points, lang()), "", tr("points"))), width="stretch")
st.subheader(tr("review_reasons"))
st.caption(tr("review_reasons_help", cutoff=int(policy.approve_cutoff), band=int(band)))
reasons = ex.reasons.assign(value=ex.reasons["value_text"], peer_percentile=ex.reasons["peer_percentile"].map(
    lambda p: "–" if pd.isna(p) else f"{p:.0f}"))  # a missing value has no percentile: never "nan"
reasons = reasons.rename(columns={"label": tr("col_feature"), "reason": tr("col_reason"), "value": tr("col_value"),
                                  "peer_percentile": tr("col_peer_pct"), "delta_points": tr("col_delta_points"),
                                  "actionable": tr("col_actionable")})
if ex.reasons.empty:
    st.success(tr("review_no_reasons"))
else:
    show_table(reasons[[tr("col_feature"), tr("col_reason"), tr("col_value"), tr("col_peer_pct"),
                        tr("col_delta_points"), tr("col_actionable")]].round(1), f"reasons_{merchant_id}.csv",
               "dl_reasons")

st.subheader(tr("review_trends"))


def trends_chart():
    bands = cache.category_bands(book)
    return trends_figure(merchant_trends(book, merchant_id), bands[bands["category"] == profile["category"]],
                         list(TREND_METRICS), {m: tr(f"metric_{m}") for m in TREND_METRICS}, tr("chart_band"),
                         tr("chart_median"), tr("chart_merchant"))


st.plotly_chart(kept_figure("review_trends", seen, trends_chart), width="stretch")


render_what_if(model, ex.values)
render_merchant_loans(book, merchant_id, catalog_in_use()[1])
render_offers(book, model, merchant_id, ex.values, ex.score, ex.grade)
current = render_decision(merchant_id, ex, model.version, in_force, str(decision))
render_explanation(ex, profile["business_name"], book.last_month, model.version,
                   None if current is None else current.decision, in_force)
