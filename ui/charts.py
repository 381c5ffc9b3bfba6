"""Plotly figure builders: they take the engine's frames and draw; no computation of risk here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BAND = "rgba(99, 110, 250, 0.15)"
MERCHANT = "#EF553B"
MEDIAN = "#636EFA"
#: Months on a date axis as the tables write them (plotly would write "Mar 2026" on a Korean page too).
MONTH_FORMAT = "%Y-%m"


def nice_ticks(low: float, high: float, n: int = 4) -> np.ndarray:
    """About ``n`` round tick values (1, 2 or 5 x 10^k apart) covering ``low``–``high``."""
    low, high = float(min(low, high)), float(max(low, high))
    span = high - low if high > low else max(abs(high), 1.0)
    raw = span / max(n, 1)
    power = 10 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return np.arange(np.floor(low / step) * step, high + step * 0.999, step)


def krw_axis(values, lang: str) -> dict:
    """A plotly axis of won amounts with round ticks labelled as readers of ``lang`` read money
    (5,000만원, 1억원 / ₩50M, ₩100M), never plotly's SI suffixes (1.5G) or 7.52e+04."""
    from cb_core.i18n import format_krw

    finite = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    if finite.empty:
        return {}
    ticks = nice_ticks(min(0.0, finite.min()), finite.max())
    return dict(tickmode="array", tickvals=ticks.tolist(), ticktext=[format_krw(v, lang) for v in ticks])


def _unit_axis(metric: str, values, lang: str) -> dict:
    if metric.endswith("_krw"):
        return krw_axis(values, lang)
    if metric.endswith("_rate"):
        return dict(tickformat=".0%")
    finite = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    if len(finite) and (finite == finite.round()).all() and finite.max() - finite.min() <= 5:
        return dict(tickformat=",d", dtick=1)  # a count of 0 or 1: ticks 0, 1 (not 0.5)
    return dict(tickformat=",~r")


def trends_figure(trends: pd.DataFrame, bands: pd.DataFrame, metrics: list[str], titles: dict[str, str],
                  band_label: str, median_label: str, merchant_label: str) -> go.Figure:
    """Small multiples: the merchant's monthly series over its category's p25–p75 band and median;
    money axes in the session's money units, rates in %."""
    from ui.session import lang

    language = lang()
    rows = (len(metrics) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[titles[m] for m in metrics],
                        vertical_spacing=0.08, horizontal_spacing=0.08)
    months = trends["month"].tolist()
    shown_bands = bands[bands["month"].isin(months)].sort_values("month")
    by_metric = dict(tuple(shown_bands.groupby("metric", sort=False, observed=True)))
    traces, places, axes = [], [], {}
    for i, metric in enumerate(metrics):
        r, c = i // 2 + 1, i % 2 + 1
        b = by_metric.get(metric, shown_bands.iloc[:0])
        first = i == 0
        # mode="lines" everywhere but the merchant: plotly's default for short series adds markers,
        # which drew the band's edges as stray dots
        traces += [
            go.Scatter(x=b["month"], y=b["p75"], mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"),
            go.Scatter(x=b["month"], y=b["p25"], mode="lines", line=dict(width=0), fill="tonexty", fillcolor=BAND,
                       name=band_label, showlegend=first, legendgroup="band"),
            go.Scatter(x=b["month"], y=b["p50"], mode="lines", line=dict(color=MEDIAN, dash="dot", width=1),
                       name=median_label, showlegend=first, legendgroup="median"),
            go.Scatter(x=trends["month"], y=trends[metric], line=dict(color=MERCHANT, width=2), mode="lines+markers",
                       marker=dict(size=4), name=merchant_label, showlegend=first, legendgroup="merchant")]
        places += [(r, c)] * 4
        shown = pd.concat([trends[metric], b["p25"], b["p75"]], ignore_index=True)
        axes[f"yaxis{i + 1 if i else ''}"] = _unit_axis(metric, shown, language)
    # one call for all traces and one for all axes: plotly validates per call, and 28 calls cost 0.2 s
    fig.add_traces(traces, rows=[p[0] for p in places], cols=[p[1] for p in places])
    fig.update_layout(**axes)
    fig.update_xaxes(tickformat=MONTH_FORMAT, hoverformat=MONTH_FORMAT)  # plotly's own: "Mar 2026", English
    fig.update_layout(height=260 * rows, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def waterfall_figure(table: pd.DataFrame, title: str, x_title: str = "") -> go.Figure:
    """Points from base to score (``review.waterfall_table``). The axis spans the running totals, not
    0 to the score: the contributions (a few points each) are what the reader must see."""
    fig = go.Figure(go.Waterfall(
        orientation="h", y=table["label"], x=table["points"], measure=table["measure"],
        text=[f"{v:+.1f}" if m == "relative" else f"{v:.1f}" for v, m in zip(table["points"], table["measure"])],
        increasing=dict(marker=dict(color="#00A86B")), decreasing=dict(marker=dict(color="#D62728")),
        totals=dict(marker=dict(color="#636EFA"))))
    running = np.cumsum(np.where(table["measure"].eq("total"), 0.0, table["points"].to_numpy(dtype=float)))
    low, high = float(running.min()), float(running.max())
    pad = max((high - low) * 0.15, 5.0)
    fig.update_layout(title=title, height=60 + 34 * len(table), margin=dict(l=10, r=10, t=40, b=10),
                      yaxis=dict(autorange="reversed"),
                      xaxis=dict(range=[low - pad, high + pad], title=x_title, tickformat=",d"))
    return fig


def roc_figure(roc: pd.DataFrame, auc: float, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], name=f"AUC {auc:.3f}", line=dict(color=MEDIAN)))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], line=dict(dash="dot", color="grey"), showlegend=False))
    fig.update_layout(xaxis_title=labels["x"], yaxis_title=labels["y"], height=380, margin=dict(t=30, b=10))
    return fig


def ks_figure(ks: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ks["bin"], y=ks["cum_bad_share"], name=labels["bad"], line=dict(color=MERCHANT)))
    fig.add_trace(go.Scatter(x=ks["bin"], y=ks["cum_good_share"], name=labels["good"], line=dict(color=MEDIAN)))
    fig.add_trace(go.Bar(x=ks["bin"], y=ks["ks"], name="KS", opacity=0.3))
    fig.update_layout(xaxis_title=labels["x"], height=380, margin=dict(t=30, b=10))
    return fig


def calibration_figure(cal: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    top = float(max(cal["mean_pd"].max(), cal["bad_rate"].max())) * 1.05
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=cal["mean_pd"], y=cal["bad_rate"], mode="lines+markers", name=labels["observed"]))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], line=dict(dash="dot", color="grey"), showlegend=False))
    fig.update_layout(xaxis_title=labels["x"], yaxis_title=labels["y"], height=380, margin=dict(t=30, b=10),
                      xaxis_tickformat=".1%", yaxis_tickformat=".1%")
    return fig


def importance_figure(imp: pd.DataFrame, label_of, x_title: str) -> go.Figure:
    top = imp.head(15).iloc[::-1]
    fig = go.Figure(go.Bar(x=top["mean_abs_points"], y=[label_of(f) for f in top["feature"]], orientation="h"))
    fig.update_layout(xaxis_title=x_title, height=80 + 24 * len(top), margin=dict(t=20, b=10))
    return fig


def beeswarm_figure(points: pd.DataFrame, percentiles: pd.DataFrame, features: list[str], label_of,
                    x_title: str, scale_title: str = "", count_title: str = "", bins: int = 60) -> go.Figure:
    """A beeswarm sent as bins, not points: each feature a row; along it, its merchants binned by
    their points for that feature (``bins`` equal-width bins over every row's range), one dot per
    non-empty bin, its area the bin's merchants (``count_title`` on hover), its colour their mean
    percentile of the feature's value (red = high). Every merchant of ``points`` counts, and the
    browser draws a few hundred dots (a WebGL trace per row of one dot per merchant took it most of
    a second)."""
    values = np.concatenate([points[f"points__{f}"].to_numpy(dtype=float) for f in features]) if features else []
    finite = np.asarray(values)[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    xs, ys, counts, colours, names = [], [], [], [], []
    for i, f in enumerate(reversed(features)):
        x = points[f"points__{f}"].to_numpy(dtype=float)
        pct = percentiles[f].to_numpy(dtype=float)
        seen = np.isfinite(x)
        where = np.clip(np.searchsorted(edges, x[seen], side="right") - 1, 0, bins - 1)
        n = np.bincount(where, minlength=bins)
        known = np.isfinite(pct[seen])
        pct_sum = np.bincount(where[known], weights=pct[seen][known], minlength=bins)
        pct_n = np.bincount(where[known], minlength=bins)
        shown = n > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_pct = np.where(pct_n > 0, pct_sum / np.maximum(pct_n, 1), np.nan)
        xs.append(centres[shown])
        ys.append(np.full(int(shown.sum()), i))
        counts.append(n[shown])
        colours.append(mean_pct[shown])
        names += [label_of(f)] * int(shown.sum())
    count = np.concatenate(counts) if counts else np.array([], dtype=int)
    size = 4 + 18 * np.sqrt(count / max(int(count.max()) if count.size else 1, 1))  # area follows the count
    fig = go.Figure(go.Scatter(
        x=np.concatenate(xs) if xs else [], y=np.concatenate(ys) if ys else [], mode="markers", showlegend=False,
        marker=dict(size=size, color=np.concatenate(colours) if colours else [], colorscale="RdBu_r", cmin=0,
                    cmax=100, showscale=True, colorbar=dict(title=scale_title), line=dict(width=0), opacity=0.85),
        # a bin of merchants without the value has no percentile: "–" on hover, never "NaN"
        customdata=np.column_stack([names, [f"{c:,}" for c in count],
                                    ["–" if np.isnan(p) else f"{p:.0f}" for p in np.concatenate(colours)]])
        if names else None,
        hovertemplate=(f"%{{customdata[0]}}: %{{x:.1f}}<br>{count_title} %{{customdata[1]}}<br>"
                       f"{scale_title} %{{customdata[2]}}<extra></extra>")))
    fig.update_layout(yaxis=dict(tickvals=list(range(len(features))), ticktext=[label_of(f) for f in reversed(features)],
                                 range=[-0.6, len(features) - 0.4]),
                      xaxis_title=x_title, height=80 + 32 * len(features), margin=dict(t=20, b=10))
    return fig


def feature_axis(unit: str, values, lang: str) -> dict:
    """The axis of a feature's values by its catalog unit: won amounts in 만/억 (₩M), ratios in %,
    anything else as plain numbers with separators."""
    if unit == "KRW":
        return krw_axis(values, lang)
    return dict(tickformat=".0%") if unit == "ratio" else dict(tickformat=",~r")


def dependence_figure(dep: pd.DataFrame, x_title: str, y_title: str, x_axis: dict | None = None) -> go.Figure:
    """Points against the feature's value; ``x_axis``: its ticks (:func:`feature_axis`). The points go
    as 32-bit floats (seven digits); the values keep 64 bits (a won amount has ten digits). Drawn in
    SVG, not WebGL: a few thousand dots draw as fast, and a WebGL context cost the Model report
    0.2 s in a browser without a GPU."""
    fig = go.Figure(go.Scatter(x=dep["value"], y=dep["points"].to_numpy(dtype=np.float32), mode="markers",
                               marker=dict(size=4, opacity=0.5)))
    fig.update_layout(xaxis=dict(title=x_title, **(x_axis or {})), yaxis_title=y_title, height=380,
                      margin=dict(t=20, b=10))
    return fig


def score_bins(scores: pd.Series, width: int = 10) -> pd.DataFrame:
    """Counts of scores in bins ``width`` points wide on round edges (580–589, 590–599, ...).

    Binned here, on the server: the browser gets one bar per bin (about 60), never one value per
    merchant (2.7 MB over the websocket at 1,000,000 merchants with a raw histogram trace)."""
    values = pd.to_numeric(scores, errors="coerce").dropna().to_numpy()
    if values.size == 0:
        return pd.DataFrame({"low": [], "count": []})
    low = np.floor(values.min() / width) * width
    high = np.floor(values.max() / width) * width + width
    counts, edges = np.histogram(values, bins=np.arange(low, high + width / 2, width))
    return pd.DataFrame({"low": edges[:-1], "count": counts})


def score_histogram_figure(scores: pd.Series, approve: float, refer: float, x_title: str, y_title: str,
                           width: int = 10, line_labels: tuple[str, str] = ("", "")) -> go.Figure:
    """Merchants per ``width``-point score bin with the approve (solid) and refer (dashed) cutoffs,
    each line named by ``line_labels`` (approve, refer) at its top."""
    bins = score_bins(scores, width)
    fig = go.Figure(go.Bar(x=bins["low"] + width / 2, y=bins["count"], width=width * 0.95, marker_color=MEDIAN,
                           customdata=np.c_[bins["low"], bins["low"] + width - 1],
                           hovertemplate="%{customdata[0]:.0f}–%{customdata[1]:.0f}: %{y:,}<extra></extra>"))
    fig.add_vline(x=approve, line=dict(color="#00A86B", width=2), annotation_text=line_labels[0],
                  annotation_position="top right")
    fig.add_vline(x=refer, line=dict(color="#FFA15A", width=2, dash="dash"), annotation_text=line_labels[1],
                  annotation_position="top left")
    fig.update_layout(xaxis_title=x_title, yaxis=dict(title=y_title, tickformat=",d"), height=320,
                      margin=dict(t=30, b=10), bargap=0.02)
    return fig


def grade_bar_figure(grades: pd.Series, x_title: str, y_title: str) -> go.Figure:
    counts = grades.value_counts().reindex(range(1, 11), fill_value=0)
    fig = go.Figure(go.Bar(x=list(counts.index), y=counts.to_numpy(), marker_color=MEDIAN))
    fig.update_layout(xaxis=dict(title=x_title, dtick=1), yaxis=dict(title=y_title, tickformat=",d"), height=320,
                      margin=dict(t=20, b=10))
    return fig


def curves_figure(table: pd.DataFrame, cutoff: float, labels: dict[str, str], lang: str = "ko") -> go.Figure:
    """Approval and bad rate (left) and profit and loss (right, in 만/억 or ₩M) over every approve cutoff."""
    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {}]], horizontal_spacing=0.1)
    fig.add_trace(go.Scatter(x=table["approve_cutoff"], y=table["approval_rate"], name=labels["approval"],
                             line=dict(color=MEDIAN)), 1, 1, secondary_y=False)
    fig.add_trace(go.Scatter(x=table["approve_cutoff"], y=table["expected_bad_rate"], name=labels["bad"],
                             line=dict(color=MERCHANT)), 1, 1, secondary_y=True)
    fig.add_trace(go.Scatter(x=table["approve_cutoff"], y=table["profit_krw"], name=labels["profit"],
                             line=dict(color="#00A86B")), 1, 2)
    fig.add_trace(go.Scatter(x=table["approve_cutoff"], y=table["expected_loss_krw"], name=labels["loss"],
                             line=dict(color="#D62728", dash="dot")), 1, 2)
    for col in (1, 2):
        fig.add_vline(x=cutoff, line=dict(color="black", width=1, dash="dash"), row=1, col=col)
    fig.update_yaxes(tickformat=".0%", row=1, col=1, secondary_y=False)
    fig.update_yaxes(tickformat=".1%", row=1, col=1, secondary_y=True)
    fig.update_yaxes(**krw_axis(pd.concat([table["profit_krw"], table["expected_loss_krw"]]), lang), row=1, col=2)
    fig.update_xaxes(title_text=labels["x"], range=[300, 800])
    fig.update_layout(height=360, margin=dict(t=20, b=10), legend=dict(orientation="h", y=1.08))
    return fig
