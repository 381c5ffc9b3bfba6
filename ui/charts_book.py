"""Plotly figure builders for the booked book (vintages, roll rates): they take the engine's frames and draw.

Group names may come from data (a partner's or product's name in the loans table): Plotly renders
a subset of HTML in legend and hover text, so every such name is passed through
``html.escape(cell(...))`` (:mod:`ui.text`).
"""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from ui.text import cell


def _safe(text: object) -> str:
    return html.escape(cell(text, 120))


def vintage_figure(v: pd.DataFrame, names: dict[str, str], labels: dict[str, str]) -> go.Figure:
    """Cumulative bad rate (y, %) by months on book (x): one line per cohort (and group).

    ``names``: group -> its readable name; ``labels``: ``title`` (names the definition), ``x``, ``y``,
    ``cohort``, ``group``, ``loans``.
    """
    fig = go.Figure()
    several = v["group"].nunique() > 1
    for (cohort, group), g in v.groupby(["cohort", "group"], sort=True):
        name = f"{cohort} · {names.get(str(group), str(group))}" if several else str(cohort)
        fig.add_trace(go.Scatter(
            x=g["mob"], y=g["cum_bad_rate"], mode="lines+markers", marker=dict(size=4), name=_safe(name),
            customdata=g[["bads", "loans"]].to_numpy(),
            hovertemplate=(f"{_safe(labels['cohort'])} {_safe(name)}<br>{_safe(labels['x'])} %{{x}}<br>"
                           f"{_safe(labels['y'])} %{{y:.1%}} (%{{customdata[0]:,}} / %{{customdata[1]:,}} "
                           f"{_safe(labels['loans'])})<extra></extra>")))
    top = max(float(v["cum_bad_rate"].max()) if len(v) else 0.0, 0.01) * 1.15  # flat curves: 0–1%, not 0–100%
    fig.update_layout(title=_safe(labels["title"]), xaxis=dict(title=labels["x"], dtick=3, rangemode="tozero"),
                      yaxis=dict(title=labels["y"], tickformat=".1%", range=[0, top]), height=420,
                      margin=dict(t=50, b=10), legend=dict(title=_safe(labels["cohort"])))
    return fig


def roll_heatmap_figure(matrix: pd.DataFrame, text: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """A from x to heatmap of roll rates; ``matrix`` holds the colour values (states already in words
    as its index and columns), ``text`` the formatted numbers shown in each cell."""
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(dtype=float), x=list(matrix.columns), y=list(matrix.index), text=text.to_numpy(),
        texttemplate="%{text}", colorscale="Reds", showscale=False,
        hovertemplate=f"{_safe(labels['y'])}: %{{y}}<br>{_safe(labels['x'])}: %{{x}}<br>%{{text}}<extra></extra>"))
    fig.update_layout(title=_safe(labels["title"]), xaxis=dict(title=labels["x"], side="bottom"),
                      yaxis=dict(title=labels["y"], autorange="reversed"), height=420, margin=dict(t=50, b=10))
    return fig


LIGHT_COLOURS = {"green": "#2CA02C", "amber": "#FFA15A", "red": "#D62728"}


def backtest_figure(bt: pd.DataFrame, light_names: dict[str, str], labels: dict[str, str]) -> go.Figure:
    """Observed 12-month bad rate by grade with its 95% interval (bars), the predicted PD (diamonds),
    each grade coloured by its light and the light named in words under the grade (not over the bar, where
    it ran into the diamonds and the interval whiskers) and on hover."""
    words = [light_names[v] for v in bt["light"]]
    grades = [f"{labels['grade_prefix']}{g}{labels['grade_suffix']}<br>{_safe(w)}" for g, w in zip(bt["grade"], words)]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=grades, y=bt["observed_bad_rate"], name=_safe(labels["observed"]),
        marker_color=[LIGHT_COLOURS.get(v, "#888") for v in bt["light"]],
        error_y=dict(type="data", symmetric=False, array=bt["ci_high"] - bt["observed_bad_rate"],
                     arrayminus=bt["observed_bad_rate"] - bt["ci_low"], color="#555"),
        customdata=list(zip(bt["loans"], words)),
        hovertemplate=(f"%{{x}}<br>{_safe(labels['observed'])} %{{y:.2%}}<br>{_safe(labels['loans'])} "
                       f"%{{customdata[0]:,}}<extra></extra>")))
    fig.add_trace(go.Scatter(x=grades, y=bt["predicted_pd"], mode="markers", name=_safe(labels["predicted"]),
                             marker=dict(symbol="diamond", size=11, color="#1F2430"),
                             hovertemplate=f"%{{x}}<br>{_safe(labels['predicted'])} %{{y:.2%}}<extra></extra>"))
    fig.update_layout(title=_safe(labels["title"]), yaxis=dict(title=labels["y"], tickformat=".1%", rangemode="tozero"),
                      xaxis=dict(title=labels["x"]), height=400, margin=dict(t=50, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    return fig
