"""Merchant review's what-if: each input in its feature's own unit (from the feature catalog), the
value converted back exactly for the engine, and the new score, grade and PD.

KRW amounts are whole won with a step of a tenth of the amount's order of magnitude, rates and
shares are shown in % (12.5 % goes to the model as 0.125), counts and months are whole numbers. An
input left at its shown value gives the engine the merchant's own value, unrounded (a missing value
stays missing): an untouched input never moves the score.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from cb_core.data import feature_catalog
from cb_core.explain import what_if
from ui.errors import engine_errors
from ui.labels import krw, pct, tr
from ui.session import lang


@dataclass(frozen=True)
class InputUnit:
    """How a catalog unit is typed: ``shown = value * scale``, with ``digits`` decimals (0: a whole
    number), a ``step`` (None: by the amount's size), a label suffix (catalog key or "") and whether
    negative values make sense."""

    scale: float
    digits: int
    step: float | None
    suffix: str
    non_negative: bool


UNIT_INPUTS: dict[str, InputUnit] = {
    "KRW": InputUnit(1, 0, None, "whatif_unit_krw", True),
    "ratio": InputUnit(100, 1, 0.1, "whatif_unit_pct", False),  # trends go below zero: -20 % is a fall
    "count": InputUnit(1, 0, 1, "", True),
    "months": InputUnit(1, 0, 1, "whatif_unit_months", True),
    "points": InputUnit(1, 0, 1, "whatif_unit_points", True),
    "flag": InputUnit(1, 0, 1, "", True),
    "stars": InputUnit(1, 1, 0.1, "whatif_unit_stars", False),
    "turns": InputUnit(1, 2, 0.1, "whatif_unit_turns", True),
}
OTHER = InputUnit(1, 2, 0.01, "", False)


def unit_of(feature: str) -> InputUnit:
    """The input of ``feature``'s catalog unit (a feature not in the catalog: two decimals)."""
    spec = feature_catalog().get(feature)
    return UNIT_INPUTS.get(spec.unit, OTHER) if spec is not None else OTHER


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def krw_step(amount: float) -> int:
    """A tenth of the amount's order of magnitude, at least 1,000 won (512,785 -> 10,000)."""
    size = abs(float(amount))
    return 1_000 if size < 10_000 else 10 ** (int(math.floor(math.log10(size))) - 1)


def shown_value(value: object, unit: InputUnit) -> float | int:
    """The merchant's value as the input shows it (missing: 0)."""
    if _missing(value):
        return 0
    shown = round(float(value) * unit.scale, unit.digits)
    return int(shown) if unit.digits == 0 else shown


def engine_value(shown: float | int, value: object, unit: InputUnit) -> object:
    """What the model gets for the input ``shown``: the merchant's own ``value`` when the input still
    shows it, else ``shown`` back in the feature's unit (a rate shown as 12.5 is 0.125)."""
    if shown == shown_value(value, unit):
        return value
    return shown / unit.scale if unit.scale != 1 else float(shown)


def _input(feature: str, label: str, value: object) -> object:
    unit = unit_of(feature)
    start = shown_value(value, unit)
    whole = unit.digits == 0
    step = (krw_step(start) if unit.step is None else unit.step)
    kwargs = dict(value=start, step=int(step) if whole else float(step), format="%d" if whole else f"%.{unit.digits}f",
                  key=f"wi_{feature}")
    if unit.non_negative and start >= 0:
        kwargs["min_value"] = 0 if whole else 0.0
    if unit is UNIT_INPUTS["flag"]:
        kwargs["max_value"] = 1
    shown = st.number_input(f"{label} ({tr(unit.suffix)})" if unit.suffix else label, **kwargs)
    if unit is UNIT_INPUTS["KRW"]:
        st.caption(krw(shown))  # the amount as it is read: 51만원 / ₩513K
    return engine_value(shown, value, unit)


@st.fragment
def render_what_if(model, values: pd.Series) -> None:
    """Pick up to four actionable features, change them in their units, see the new score."""
    st.subheader(tr("review_what_if"))
    catalog, language = feature_catalog(), lang()
    options = [f for f in model.features if catalog.get(f) and catalog[f].actionable]
    chosen = st.multiselect(tr("review_what_if_features"), options, max_selections=4, key="wi_features",
                            placeholder=tr("choose_features"), format_func=lambda f: model.feature_label(f, language))
    changes = {f: _input(f, model.feature_label(f, language), values[f]) for f in chosen}
    if not changes:
        return
    with engine_errors():
        result = what_if(model, values, changes)
    cols = st.columns(3)
    cols[0].metric(tr("review_score"), result["score"], delta=result["score_change"])
    cols[1].metric(tr("review_grade"), result["grade"], delta=result["grade"] - result["grade_before"],
                   delta_color="inverse")
    cols[2].metric(tr("review_pd"), pct(result["pd"], 2), delta=pct(result["pd"] - result["pd_before"], 2, signed=True),
                   delta_color="inverse")
