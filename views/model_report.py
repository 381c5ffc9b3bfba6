"""Model report: the validation windows, test-window performance and calibration (ECE), challenger, governance cost, importance, stability."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.model import metrics as M
from cb_core.explain import dependence, importance, peer_percentiles
from cb_core.model import point_in_time_note
from ui import cache
from ui.charts import (beeswarm_figure, calibration_figure, dependence_figure, importance_figure, ks_figure,
                       roc_figure)
from ui.errors import require_book_and_model
from ui.labels import tr
from ui.model_choice import chosen_model, model_name, show_model_choice
from ui.session import lang
from ui.tables import show_table

st.title(tr("nav_model_report"))
book, model = require_book_and_model()
card, extra = model.card, cache.model_report(model)
m = card["metrics"]
val = card["validation"]
test = val.get("test") or val["valid"]  # models trained before the three windows have no test window
st.caption(tr("report_caption", version=model.version, created=card["created"][:10],
              train=", ".join(val["train"]["periods"]) or "–", valid=", ".join(test["periods"]) or "–",
              rows=f"{test['rows']:,}", bads=f"{test['bads']:,}"))
c = st.columns(6)
for col, key in zip(c, ("auc", "gini", "ks", "brier")):
    col.metric(tr(f"metric_name_{key}"), f"{m[key]:.3f}" if key != "brier" else f"{m[key]:.4f}")
if m.get("ece") is not None:
    c[4].metric(tr("metric_name_ece"), f"{100 * m['ece']:.2f} pp", help=tr("ece_help"))
if m.get("oracle_auc") is not None:
    c[5].metric(tr("metric_name_oracle_auc"), f"{m['oracle_auc']:.3f}", delta=f"{m['auc'] - m['oracle_auc']:+.3f}",
                help=tr("oracle_help"))
if extra.get("windows") is not None and len(extra["windows"]):
    st.caption(tr("report_windows"))
    st.dataframe(extra["windows"].round(4), hide_index=True)
if point_in_time_note(card):
    (st.info if card["validation"]["point_in_time"]["static_features"] else st.caption)(point_in_time_note(card))
show_model_choice(card)

st.subheader(tr("report_compare"))
chosen = chosen_model(card)  # a small own table's choice; a book's model is LightGBM
production = tr("choice_production", model=model_name(chosen)) if chosen else tr("model_lightgbm")
rows = {production: m, tr("model_challenger"): extra.get("challenger") or {},
        tr("model_no_sensitive"): extra.get("without_sensitive") or {}}
compare = pd.DataFrame([{tr("report_model"): name, **{k.upper(): r.get(k) for k in ("auc", "gini", "ks", "brier")}}
                        for name, r in rows.items()])
show_table(compare.round(4), "model_comparison.csv", "dl_compare")
if extra.get("without_sensitive"):
    st.caption(tr("report_sensitive_cost", cost=f"{m['auc'] - extra['without_sensitive']['auc']:+.4f}"))

v = extra.get("validation")
if v is not None and len(v):
    tabs = st.tabs([tr("tab_roc"), tr("tab_ks"), tr("tab_calibration"), tr("tab_gains")])
    with tabs[0]:
        st.plotly_chart(roc_figure(M.roc_table(v["pd"], v["defaulted_12m"]), m["auc"],
                                   {"x": tr("roc_x"), "y": tr("roc_y")}), width="stretch")
    with tabs[1]:
        st.plotly_chart(ks_figure(M.ks_table(v["pd"], v["defaulted_12m"]),
                                  {"bad": tr("ks_bad"), "good": tr("ks_good"), "x": tr("ks_x")}), width="stretch")
    with tabs[2]:
        cal = extra["calibration"] if extra.get("calibration") is not None else M.calibration_table(v["pd"], v["defaulted_12m"])
        st.plotly_chart(calibration_figure(cal, {"observed": tr("cal_observed"), "x": tr("cal_x"), "y": tr("cal_y")}),
                        width="stretch")
        show_table(cal.round(4), "calibration.csv", "dl_cal")
    with tabs[3]:
        show_table(M.gains_table(v["score"], v["defaulted_12m"], kind="score").round(4), "gains.csv", "dl_gains")

st.subheader(tr("report_importance"))
sample, points = cache.sample_points(book, model)
imp = importance(points)
language = lang()


def label_of(feature: str) -> str:
    return model.feature_label(feature, language)



left, right = st.columns(2)
left.plotly_chart(importance_figure(imp, label_of, tr("mean_abs_points")), width="stretch")
top = imp["feature"].head(10).tolist()
right.plotly_chart(beeswarm_figure(points, peer_percentiles(sample[top]), top, label_of, tr("points")),
                   width="stretch")
feature = st.selectbox(tr("report_dependence"), model.features, format_func=label_of, key="dep_feature")
st.plotly_chart(dependence_figure(dependence(points, sample, feature), label_of(feature), tr("points")),
                width="stretch")

st.subheader(tr("report_stability"))
current = cache.scores(book, model)
score_psi = M.psi_table(pd.Series(extra.get("training_scores") or [], dtype=float), current["score"])
st.metric(tr("report_score_psi"), f"{score_psi['psi'].sum():.3f}", help=tr("psi_help"))
if extra.get("training_sample") is not None:
    feats = [f for f in model.features if f in extra["training_sample"].columns]
    show_table(M.psi_by_column(extra["training_sample"], cache.snapshot(book), columns=feats).round(4),
               "feature_psi.csv", "dl_psi")
