"""Plotly figure builders for offers and partner pools: they take the engine's frames and draw."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cb_core.offers import AMORTIZING
from ui.charts import MEDIAN, MERCHANT, MONTH_FORMAT, krw_axis
from ui.labels import krw
from ui.session import lang

TOP_UP = "#D62728"


def repayment_figure(schedule: pd.DataFrame, repayment: str, labels: dict[str, str]) -> go.Figure:
    """Balance (line, left axis) and what is paid each month or day (bars, right axis) of
    ``cb_core.offers.simulate``; for an advance, debits for missed minimums in red."""
    amortizing = repayment == AMORTIZING
    x = schedule["month"] if amortizing else schedule["date"]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if amortizing:
        fig.add_trace(go.Bar(x=x, y=schedule["payment_krw"], name=labels["paid"], marker_color=MEDIAN,
                             opacity=0.45), secondary_y=True)
    else:
        fig.add_trace(go.Bar(x=x, y=schedule["withheld_krw"], name=labels["withheld"], marker_color=MEDIAN,
                             opacity=0.45), secondary_y=True)
        if (schedule["top_up_krw"] > 0).any():
            fig.add_trace(go.Bar(x=x, y=schedule["top_up_krw"], name=labels["top_up"], marker_color=TOP_UP),
                          secondary_y=True)
    fig.add_trace(go.Scatter(x=x, y=schedule["balance_krw"], name=labels["balance"], mode="lines",
                             line=dict(color=MERCHANT, width=2)), secondary_y=False)
    language = lang()  # money in round 만/억 (₩M) ticks on both axes
    paid = schedule["payment_krw"] if amortizing else schedule["withheld_krw"] + schedule["top_up_krw"]
    fig.update_yaxes(title_text=labels["balance"], rangemode="tozero", secondary_y=False,
                     **krw_axis(schedule["balance_krw"], language))
    fig.update_yaxes(title_text=labels["paid"], rangemode="tozero", showgrid=False, secondary_y=True,
                     **krw_axis(paid, language))
    # months as 2026-11 (plotly's own ticks read "Nov 2026" in English); a day's bar hovers with its date
    fig.update_xaxes(tickformat=MONTH_FORMAT, hoverformat=MONTH_FORMAT if amortizing else "%Y-%m-%d")
    fig.update_layout(height=340, margin=dict(t=20, b=10), barmode="stack",
                      legend=dict(orientation="h", y=1.08))
    return fig


def grade_mix_figure(grade_mix: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Eligible merchants per grade (bars), with their limit volume on hover."""
    fig = go.Figure(go.Bar(x=grade_mix["grade"], y=grade_mix["merchants"], marker_color=MEDIAN,
                           customdata=[[krw(v)] for v in grade_mix["limit_krw"]],  # 805억 2,300만원 (₩80.5B)
                           hovertemplate=f"{labels['x']} %{{x}}: %{{y:,}}<br>{labels['volume']} "
                                         f"%{{customdata[0]}}<extra></extra>"))
    fig.update_layout(xaxis=dict(title=labels["x"], dtick=1), yaxis=dict(title=labels["y"], tickformat=",d"), height=320,
                      margin=dict(t=20, b=10))
    return fig
