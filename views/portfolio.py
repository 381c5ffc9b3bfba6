"""Portfolio: the book under the policy in force — scores, grades, decisions, segments, loss."""
from __future__ import annotations

import streamlit as st

from cb_core.data import categories, regions
from cb_core.strategy import decisions, evaluate
from ui import cache
from ui.charts import grade_bar_figure, score_histogram_figure
from ui.errors import engine_errors, require_book_and_model
from ui.display import present
from ui.labels import count, krw, label_func, pct, tr
from ui.policy import policy_in_force, policy_label
from ui.session import lang, translated_picker
from ui.tables import show_table

st.title(tr("nav_portfolio"))
book, model = require_book_and_model()
in_force = policy_in_force()
policy = in_force.policy
st.caption(tr("portfolio_policy", policy=policy_label(in_force), approve=int(policy.approve_cutoff),
              refer=int(policy.refer_cutoff)))

frame = cache.strategy_frame(book, model)
lg = lang()
with st.expander(tr("filters"), expanded=False):
    c = st.columns(4)
    cats = c[0].multiselect(tr("review_category"), list(categories()), key="pf_cat",
                            format_func=lambda k: categories()[k][lg], placeholder=tr("choose_all"))
    regs = c[1].multiselect(tr("review_region"), list(regions()), key="pf_region",
                            format_func=lambda k: regions()[k][lg], placeholder=tr("choose_all"))
    thin = c[2].selectbox(tr("portfolio_thin"), ["all", "thin", "thick"], key=translated_picker("pf_thin"),
                          format_func=label_func("portfolio_thin_"))
    grades = c[3].slider(tr("review_grade"), 1, 10, (1, 10), key="pf_grades")
mask = frame["grade"].between(*grades)
if cats:
    mask &= frame["category"].isin(cats)
if regs:
    mask &= frame["region"].isin(regs)
if thin != "all":
    mask &= frame["thin_file"] == (1 if thin == "thin" else 0)
view = frame.loc[mask]
if view.empty:
    st.warning(tr("portfolio_empty"))
    st.stop()

with engine_errors():
    result = evaluate(view, policy)
    view_decisions = decisions(view, policy)  # categorical: compared as codes, never turned into strings
k = st.columns(5)
k[0].metric(tr("data_merchants"), count(len(view)))
k[1].metric(tr("approval_rate"), pct(result.approval_rate))
k[2].metric(tr("expected_bad_rate"), pct(result.expected_bad_rate, 2))
k[3].metric(tr("thin_file_share"), pct(view["thin_file"].mean()))
k[4].metric(tr("expected_loss"), krw(result.expected_loss_krw, short=True))

left, right = st.columns(2)
left.plotly_chart(score_histogram_figure(
    view["score"], policy.approve_cutoff, policy.refer_cutoff, tr("review_score"), tr("count"),
    line_labels=(tr("chart_approve_line", cutoff=int(policy.approve_cutoff)),
                 tr("chart_refer_line", cutoff=int(policy.refer_cutoff)))), width="stretch")
right.plotly_chart(grade_bar_figure(view["grade"], tr("review_grade"), tr("count")), width="stretch")

st.subheader(tr("portfolio_by_segment"))
by = st.radio(tr("portfolio_group_by"), ["category", "region"], horizontal=True, key="pf_by",
              format_func=label_func("review_"))
labels = categories() if by == "category" else regions()
table = (view[[by, "score", "pd", "thin_file"]]
         .assign(approved=(view_decisions == "approve").to_numpy(), referred=(view_decisions == "refer").to_numpy())
         .groupby(by, observed=True)
         .agg(merchants=("score", "size"), mean_score=("score", "mean"), mean_pd=("pd", "mean"),
              thin_file_share=("thin_file", "mean"), approved=("approved", "mean"), referred=("referred", "mean"))
         .reset_index())
table[by] = table[by].map(lambda v: labels.get(v, {}).get(lg, v))
shown, raw = present(table, {"merchants": "count", "mean_score": "num1", "mean_pd": "pct2", "thin_file_share": "pct",
                             "approved": "pct", "referred": "pct"})
names = [tr(f"review_{by}"), tr("data_merchants"), tr("mean_score"), tr("mean_pd"), tr("thin_file_share"),
         tr("approval_rate"), tr("refer_rate")]
units = ["", "", "", *[f" [{tr('unit_fraction')}]"] * 4]
shown.columns, raw.columns = names, [n + u for n, u in zip(names, units)]
show_table(shown, f"portfolio_by_{by}.csv", "dl_portfolio", raw=raw)
