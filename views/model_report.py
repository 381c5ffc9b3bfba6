"""Model report: the validation windows, test-window performance and calibration (ECE), challenger, governance cost, importance, stability."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cb_core.model import metrics as M
from cb_core.explain import dependence, importance, peer_percentiles
from ui import cache, cache_report
from cb_core.data import feature_catalog
from ui.charts import (beeswarm_figure, calibration_figure, dependence_figure, feature_axis, importance_figure,
                       ks_figure, roc_figure)
from ui.charts_report import gains_figure, psi_figure
from ui.errors import require_book_and_model
from ui.cache_figures import kept_figure
from ui.display import show_present, value_label
from ui.labels import kst, number, pct, tr
from ui.model_choice import chosen_model, model_name, show_model_choice
from ui.report_text import point_in_time_text, windows_frame
from ui.session import lang, translated_picker

CALIBRATION_UNITS = {"bin": "num", "pd_min": "pct2", "pd_max": "pct2", "count": "count", "bads": "count", "mean_pd": "pct2",
                     "bad_rate": "pct2", "difference": "pp"}
#: Session key of the open tab of the test window's charts (its label: a test opens one by it).
REPORT_TAB = "report_tab"
GAINS_UNITS = {"bin": "num", "min": "score", "max": "score", "count": "count", "bads": "count", "bad_rate": "pct",
               "cum_count_share": "pct", "cum_bad_capture": "pct", "lift": "num2", "cum_lift": "num2"}


def signed(value: float) -> str:
    """A difference of AUCs with its sign, three decimals; one that rounds to zero reads 0.000 (not -0.000)."""
    value = round(float(value), 3) + 0.0  # -0.0004 -> -0.0 -> 0.0
    return ("+" if value > 0 else "") + number(value, 3)

st.title(tr("nav_model_report"))
book, model = require_book_and_model()
card, extra = model.card, cache.model_report(model)
m = card["metrics"]
val = card["validation"]
test = val.get("test") or val["valid"]  # models trained before the three windows have no test window
st.caption(tr("report_caption", version=model.version, created=kst(card["created"]),
              train=", ".join(val["train"]["periods"]) or "–", valid=", ".join(test["periods"]) or "–",
              rows=f"{test['rows']:,}", bads=f"{test['bads']:,}"))
c = st.columns(6)
for col, key in zip(c, ("auc", "gini", "ks", "brier")):
    col.metric(tr(f"metric_name_{key}"), number(m[key], 3))
if m.get("ece") is not None:
    c[4].metric(tr("metric_name_ece"), pct(m["ece"], 2, signed=True).lstrip("+"), help=tr("ece_help"))
if m.get("oracle_auc") is not None:
    c[5].metric(tr("metric_name_oracle_auc"), number(m["oracle_auc"], 3), delta=signed(m["auc"] - m["oracle_auc"]),
                help=tr("oracle_help"))
windows = windows_frame(card)
if len(windows):
    st.caption(tr("report_windows"))
    show_present(windows, {"rows": "count", "bads": "count", "bad_rate": "pct"}, "validation_windows.csv", "dl_windows")
if point_in_time_text(card):
    (st.info if card["validation"]["point_in_time"]["static_features"] else st.caption)(point_in_time_text(card))
show_model_choice(card)

st.subheader(tr("report_compare"))
chosen = chosen_model(card)  # a small own table's choice; a book's model is LightGBM
production = tr("choice_production", model=model_name(chosen)) if chosen else tr("model_lightgbm")
rows = {production: m, tr("model_challenger"): extra.get("challenger") or {},
        tr("model_no_sensitive"): extra.get("without_sensitive") or {}}
compare = pd.DataFrame([{"model": name, **{k: r.get(k) for k in ("auc", "gini", "ks", "brier")}}
                        for name, r in rows.items()])
show_present(compare, dict.fromkeys(("auc", "gini", "ks", "brier"), "num3"), "model_comparison.csv", "dl_compare")
if extra.get("without_sensitive"):
    st.caption(tr("report_sensitive_cost", cost=signed(m["auc"] - extra["without_sensitive"]["auc"])))

language = lang()
tables = cache_report.window_tables(model)  # once per model; each figure once per model and language
if tables is not None:
    # only the open tab is drawn (a switch reruns the page): the browser draws one chart here, not four
    tabs = st.tabs([tr("tab_roc"), tr("tab_ks"), tr("tab_calibration"), tr("tab_gains")], key=REPORT_TAB,
                   on_change="rerun")
    if tabs[0].open:  # the curve thinned to a few hundred thresholds: a few kB to the browser
        with tabs[0]:
            st.plotly_chart(kept_figure("report_roc", (model.version, language), lambda: roc_figure(
                cache_report.roc_curve(model), m["auc"], {"x": tr("roc_x"), "y": tr("roc_y")})), width="stretch")
    if tabs[1].open:
        with tabs[1]:
            st.plotly_chart(kept_figure("report_ks", (model.version, language), lambda: ks_figure(
                tables["ks"], {"bad": tr("ks_bad"), "good": tr("ks_good"), "x": tr("ks_x")})), width="stretch")
    if tabs[2].open:
        with tabs[2]:
            cal = tables["calibration"]
            st.plotly_chart(kept_figure("report_calibration", (model.version, language), lambda: calibration_figure(
                cal, {"observed": tr("cal_observed"), "x": tr("cal_x"), "y": tr("cal_y")})), width="stretch")
            show_present(cal, CALIBRATION_UNITS, "calibration.csv", "dl_cal")
    if tabs[3].open:
        with tabs[3]:  # the test window's rows: the model never chose on them
            gains = tables["gains"]
            window = "–".join(dict.fromkeys([test["periods"][0], test["periods"][-1]])) if test["periods"] else "–"
            st.plotly_chart(kept_figure("report_gains", (model.version, language), lambda: gains_figure(gains, {
                "title": tr("chart_gains_title", window=window), "x": tr("chart_gains_x"), "y": tr("chart_gains_y"),
                "model": tr("chart_gains_model"), "random": tr("chart_gains_random")})), width="stretch")
            show_present(gains, GAINS_UNITS, "gains.csv", "dl_gains")

st.subheader(tr("report_importance"))
sample, points = cache_report.sample_points(book, model)
drawn = (book.fingerprint, model.version, language)  # what the importance and stability charts are drawn from


def label_of(feature: str) -> str:
    return model.feature_label(feature, language)


def swarm():
    top = importance(points)["feature"].head(10).tolist()
    return beeswarm_figure(points, peer_percentiles(sample[top]), top, label_of, tr("points"), tr("col_peer_pct"),
                           tr("data_merchants"))


def dependence_chart():
    dep = dependence(points, sample, feature)
    unit = feature_catalog()[feature].unit if feature in feature_catalog() else ""
    return dependence_figure(dep, label_of(feature), tr("points"), feature_axis(unit, dep["value"], language))


left, right = st.columns(2)
left.plotly_chart(kept_figure("report_importance", drawn, lambda: importance_figure(
    importance(points), label_of, tr("mean_abs_points"))), width="stretch")
right.plotly_chart(kept_figure("report_beeswarm", drawn, swarm), width="stretch")
feature = st.selectbox(tr("report_dependence"), model.features, format_func=label_of, key=translated_picker("dep_feature"))
st.plotly_chart(kept_figure("report_dependence", (*drawn, feature), dependence_chart), width="stretch")

st.subheader(tr("report_stability"))
score_psi, feature_psi = cache_report.stability(book, model)  # once per book and model
st.metric(tr("report_score_psi"), number(score_psi["psi"].sum(), 3), help=tr("psi_help"))
if feature_psi is not None:
    st.plotly_chart(kept_figure("report_psi", drawn, lambda: psi_figure(
        feature_psi, label_of, (M.PSI_WATCH, M.PSI_SHIFT), {
            "title": tr("chart_psi_title"), "x": tr("chart_psi_x"), "watch": tr("chart_psi_watch"),
            "shift": tr("chart_psi_shift"), "stable": tr("val_stable"), "watch_band": tr("val_watch"),
            "shift_band": tr("val_shift")})), width="stretch")
    show_present(feature_psi, {"psi": "num3"}, "feature_psi.csv", "dl_psi", {"column": value_label, "band": value_label})
