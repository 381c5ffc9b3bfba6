"""Plotly figure builders of the Model report and Cutoff tuning: cumulative gains, feature PSI and
bootstrap intervals. They take the engine's frames (``metrics.gains_table``, ``metrics.psi_by_column``,
``strategy.segment_table``) and draw; nothing is computed here but the shape of the drawing.

Every text comes in through ``labels`` (the catalog, in the page's language); names that come from
data (segment values) are escaped, since Plotly renders a subset of HTML in ticks and hovers.
"""
from __future__ import annotations

import html
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.text import cell

MODEL = "#636EFA"
RANDOM = "grey"
BAND_COLOURS = {"stable": "#00A86B", "watch": "#F2A900", "shift": "#D62728"}
#: Where the PSI axis stops (well past the 0.25 "shifted" line); a longer bar shows its value as text.
PSI_AXIS_CAP = 1.0
#: Rates of a segment table drawn with their intervals, in this order.
INTERVAL_RATES = ("approval_rate", "expected_bad_rate", "observed_bad_rate")


def _safe(text: object) -> str:
    return html.escape(cell(text, 120))


def gains_figure(gains: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Cumulative gains: share of all bads captured (y, %) against the share of merchants reviewed
    (x, %), worst scores first, from (0, 0); with the random-review diagonal.

    ``gains``: :func:`cb_core.model.metrics.gains_table` (``cum_count_share``, ``cum_bad_capture``,
    riskiest bin first). ``labels``: ``title``, ``x``, ``y``, ``model``, ``random``.
    """
    x = [0.0, *gains["cum_count_share"].astype(float).tolist()]
    y = [0.0, *gains["cum_bad_capture"].astype(float).tolist()]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=_safe(labels["model"]), line=dict(color=MODEL),
                             hovertemplate=(f"{_safe(labels['x'])} %{{x:.1%}}<br>{_safe(labels['y'])} %{{y:.1%}}"
                                            "<extra></extra>")))
    fig.add_trace(go.Scatter(x=[0.0, 1.0], y=[0.0, 1.0], mode="lines", name=_safe(labels["random"]),
                             line=dict(dash="dot", color=RANDOM), hoverinfo="skip"))
    fig.update_layout(title=_safe(labels["title"]), height=400, margin=dict(t=50, b=10),
                      xaxis=dict(title=_safe(labels["x"]), tickformat=".0%", range=[0, 1], dtick=0.1),
                      yaxis=dict(title=_safe(labels["y"]), tickformat=".0%", range=[0, 1.02], dtick=0.2),
                      legend=dict(orientation="h", y=-0.2, x=0))
    return fig


def psi_figure(psi: pd.DataFrame, label_of: Callable[[str], str], thresholds: tuple[float, float],
               labels: dict[str, str]) -> go.Figure:
    """Feature PSI as horizontal bars (worst on top), coloured by band, with vertical lines at the
    watch and shift thresholds.

    ``psi``: :func:`cb_core.model.metrics.psi_by_column` (``column``, ``psi``, ``band``); ``label_of``:
    feature id -> its catalog label; ``thresholds``: (watch, shift), e.g. (0.10, 0.25);
    ``labels``: ``title``, ``x``, ``watch``, ``shift`` and one name per band (``stable``, ``watch_band``,
    ``shift_band``).
    """
    rows = psi.dropna(subset=["psi"]).iloc[::-1]  # plotly draws the first bar at the bottom
    names = [_safe(label_of(str(c))) for c in rows["column"]]
    band_name = {"stable": labels["stable"], "watch": labels["watch_band"], "shift": labels["shift_band"]}
    watch, shift = thresholds
    # one feature far out (PSI 10 when a tenure column grows with time) must not squash the rest
    # against zero: the axis stops at PSI_AXIS_CAP and such a bar carries its value as text
    top = min(max(float(rows["psi"].max()) if len(rows) else 0.0, shift) * 1.1, PSI_AXIS_CAP)
    fig = go.Figure(go.Bar(
        x=rows["psi"].astype(float), y=names, orientation="h",
        marker=dict(color=[BAND_COLOURS.get(b, MODEL) for b in rows["band"]]),
        customdata=[_safe(band_name.get(b, "–")) for b in rows["band"]], showlegend=False,
        hovertemplate="%{y}<br>PSI %{x:.3f} · %{customdata}<extra></extra>"))
    for name, value in zip(names, rows["psi"].astype(float)):
        if value > top:  # the bar runs off the axis: its value written at the edge
            fig.add_annotation(x=top, y=name, text=f"{value:,.2f} ▸", xanchor="right", showarrow=False,
                               font=dict(color="white", size=11))
    for value, key, dash in ((watch, "watch", "dash"), (shift, "shift", "solid")):
        fig.add_vline(x=value, line=dict(color=BAND_COLOURS[key], dash=dash, width=1.5),
                      annotation=dict(text=_safe(labels[key]), textangle=0, font=dict(size=11)),
                      annotation_position="top")
    fig.update_layout(title=_safe(labels["title"]), height=130 + 22 * len(rows), margin=dict(t=70, b=50),
                      xaxis=dict(title=dict(text=_safe(labels["x"]), standoff=12), range=[0, top], tickformat=".2f",
                                 automargin=True),
                      yaxis=dict(automargin=True))
    return fig


def interval_figure(table: pd.DataFrame, by: str, label_of: Callable[[object], str],
                    labels: dict[str, str]) -> go.Figure:
    """Point estimates with their bootstrap intervals as error bars: one panel per rate (approval,
    expected bad rate, observed bad rate at decision), one row per segment, rates in %.

    ``table``: :func:`cb_core.strategy.segment_table` / ``aligned_segment_table`` (``<by>``, each rate
    and its ``<rate>_low`` / ``<rate>_high``); a rate whose columns are missing or all empty is left
    out. ``label_of``: segment value -> words. ``labels``: ``title`` (which draft the intervals are
    for), ``x`` (the axis title, e.g. "rate (%)"), ``interval`` (the hover's word for the interval) and
    one title per rate (``approval_rate``, ``expected_bad_rate``, ``observed_bad_rate``).
    """
    rates = [r for r in INTERVAL_RATES if {r, f"{r}_low", f"{r}_high"} <= set(table.columns)
             and table[r].notna().any()]
    fig = make_subplots(rows=1, cols=max(len(rates), 1), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[_safe(labels[r]) for r in rates] or None)
    segments = [_safe(label_of(v)) for v in table[by]]
    for i, rate in enumerate(rates, start=1):
        shown = table[rate].notna().to_numpy()
        point = table[rate].to_numpy(dtype=float)[shown]
        low = table[f"{rate}_low"].to_numpy(dtype=float)[shown]
        high = table[f"{rate}_high"].to_numpy(dtype=float)[shown]
        # a missing end (too few rows to resample) draws no bar on that side rather than a NaN
        plus, minus = np.nan_to_num(high - point, nan=0.0), np.nan_to_num(point - low, nan=0.0)
        fig.add_trace(go.Scatter(
            x=point, y=[s for s, keep in zip(segments, shown) if keep], mode="markers", showlegend=False,
            marker=dict(color=MODEL, size=8),
            error_x=dict(type="data", symmetric=False, array=plus, arrayminus=minus, thickness=1.5, width=4),
            customdata=np.column_stack([low, high]),
            hovertemplate=(f"%{{y}}<br>{_safe(labels[rate])} %{{x:.2%}}<br>{_safe(labels['interval'])} "
                           "%{customdata[0]:.2%} – %{customdata[1]:.2%}<extra></extra>")), 1, i)
        fig.update_xaxes(title=dict(text=_safe(labels["x"]), standoff=12), automargin=True, rangemode="tozero",
                         tickformat=".0%" if rate == "approval_rate" else ".1%", row=1, col=i)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(title=_safe(labels["title"]), height=170 + 30 * max(len(segments), 2),
                      margin=dict(t=90, b=50))
    return fig
