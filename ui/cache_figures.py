"""Figures drawn once and kept: a page's chart is rebuilt only when what it shows changes.

Building a plotly figure validates every property in Python (0.05-0.3 s a figure at 20,000 merchants);
a page that draws the same figure on every visit paid for it each time. :func:`kept_figure` keeps a
figure for the life of the server process under a key that names *everything* it is drawn from:
the versions of its data (book fingerprint, model version, merchant id, policy version, ...) and
its language. A key that leaves something out would show a stale chart, so each caller builds the
key next to the call that draws (tests/app/test_figures.py checks that the kept figures follow what
they show).

The figures are shared by every session: never change one after :func:`kept_figure` returns it
(``st.plotly_chart`` only reads it).

A Streamlit cache beside :mod:`ui.cache` (which holds every other one; tests/app/test_ui_layout.py).
"""
from __future__ import annotations

from typing import Callable, Hashable

import plotly.graph_objects as go
import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=256)
def _kept(name: str, key: tuple[Hashable, ...], _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def kept_figure(name: str, key: tuple[Hashable, ...], build: Callable[[], go.Figure]) -> go.Figure:
    """The figure ``build()`` draws, built once per ``(name, key)`` in this server process.

    ``name`` says which chart; ``key`` holds the version of everything the figure is drawn from and
    the language of its words (str, int, float or None values)."""
    return _kept(name, tuple(key), build)
