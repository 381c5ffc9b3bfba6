"""Figures of a partner's booked book (:mod:`cb_core.reports.booked_book`): they take its frames and
draw. Every label (titles, axes with their units, series) comes in from the page in the user's
language; won amounts on axes and in hovers are written by the caller's KRW formatter (만/억 in Korean)."""
from __future__ import annotations

import math
from typing import Callable

import pandas as pd
import plotly.graph_objects as go

from ui.charts import MEDIAN, MERCHANT

#: Colours of 30+, 60+ and 90+ days past due.
DPD_COLOURS = ("#F2A541", "#EF553B", "#8C1C13")


def round_ticks(top: float, n: int = 5, whole: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``top``: a step of 1, 2 or 5 x 10^k, about ``n`` ticks
    (``whole``: a step of at least 1, for counts)."""
    if not top > 0 or math.isinf(top):
        return [0.0, 1.0] if whole else [0.0]
    raw = top / n
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1) if whole else step
    return [round(step * i, 10) for i in range(int(math.ceil(top / step)) + 1)]


def volume_figure(volume: pd.DataFrame, labels: dict[str, str], krw: Callable[[float], str]) -> go.Figure:
    """Outstanding balance at each month's end (bars, left axis in won) and loans booked that month
    (line, right axis in loans)."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=volume["month"], y=volume["outstanding_krw"], name=labels["balance"], marker_color=MEDIAN,
                         customdata=[[krw(v)] for v in volume["outstanding_krw"]],
                         hovertemplate="%{x}: %{customdata[0]}<extra></extra>"))
    fig.add_trace(go.Scatter(x=volume["month"], y=volume["booked_loans"], name=labels["booked"], yaxis="y2",
                             mode="lines+markers", line=dict(color=MERCHANT),
                             hovertemplate="%{x}: %{y:,}<extra></extra>"))
    ticks = round_ticks(float(volume["outstanding_krw"].max()))
    counts = round_ticks(float(volume["booked_loans"].max()), whole=True)
    fig.update_layout(
        title=labels["title"], height=360, margin=dict(t=50, b=10, l=10, r=10),
        xaxis=dict(title=labels["x"], type="category"),
        yaxis=dict(title=labels["y"], tickvals=ticks, ticktext=[krw(v) for v in ticks], range=[0, ticks[-1]]),
        yaxis2=dict(title=labels["y2"], overlaying="y", side="right", tickvals=counts,
                    ticktext=[f"{int(c):,}" for c in counts], range=[0, counts[-1]], showgrid=False),
        legend=dict(orientation="h", y=-0.25))
    return fig


def vintage_figure(vintages: pd.DataFrame, labels: dict[str, str], series: Callable[[str], str]) -> go.Figure:
    """Cumulative bad rate by months on book, one line per booking cohort (``series`` names it)."""
    fig = go.Figure()
    for cohort, grp in vintages.groupby("cohort", sort=True):
        fig.add_trace(go.Scatter(x=grp["mob"], y=grp["cum_bad_rate"], mode="lines+markers", name=series(str(cohort)),
                                 marker=dict(size=4), customdata=grp[["loans", "bads"]].to_numpy(),
                                 hovertemplate="%{x}: %{y:.1%} (%{customdata[1]:,} / %{customdata[0]:,})"
                                               "<extra></extra>"))
    fig.update_layout(title=labels["title"], height=380, margin=dict(t=50, b=10, l=10, r=10),
                      xaxis=dict(title=labels["x"], dtick=3, rangemode="tozero"),
                      yaxis=dict(title=labels["y"], tickformat=".1%", rangemode="tozero"))
    return fig


def delinquency_figure(delinquency: pd.DataFrame, keys: tuple[str, ...], labels: dict[str, str],
                       series: dict[str, str], grade: Callable[[int], str]) -> go.Figure:
    """Share of each grade's outstanding balance past due, one bar per definition in ``keys``."""
    fig = go.Figure()
    x = [grade(int(g)) for g in delinquency["grade"]]
    for key, colour in zip(keys, DPD_COLOURS):
        fig.add_trace(go.Bar(x=x, y=delinquency[f"{key}_balance_share"], name=series[key], marker_color=colour,
                             hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(title=labels["title"], barmode="group", height=340, margin=dict(t=50, b=10, l=10, r=10),
                      xaxis=dict(title=labels["x"], type="category"),
                      yaxis=dict(title=labels["y"], tickformat=".0%", rangemode="tozero"),
                      legend=dict(orientation="h", y=-0.25))
    return fig
