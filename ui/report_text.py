"""The model card's validation windows and point-in-time notes in the session's language.

The engine writes these notes in English for the CLI and the card file (``validation_windows``,
``point_in_time_note``); the page builds them again from the card's structured fields, in words of
the catalog, with numbers through ui.labels.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from cb_core.model import validation_windows
from ui.display import value_label
from ui.labels import count, months, tr


def window_notes(card: dict[str, Any]) -> str:
    """The note of the last (test) window: left-out rows, outcome overlap, immature outcomes, folds."""
    validation = card.get("validation", {})
    parts = []
    if validation.get("method") == "out_of_time":
        parts.append(tr("window_note_purged", n=count(validation.get("purged_rows", 0))))
        overlap = (validation.get("outcome_overlap") or {}).get("overlap_months")
        if overlap:
            parts.append(tr("window_note_overlap", months=months(overlap)))
        maturity = validation.get("outcome_maturity") or {}
        if maturity.get("immature_rows"):
            parts.append(tr("window_note_immature", n=count(maturity["immature_rows"]),
                            snapshots=", ".join(maturity.get("immature_snapshots", []))))
    elif validation.get("method") == "nested_cv":
        parts.append(tr("window_note_folds", n=count(validation.get("n_folds"))))
    return "; ".join(parts)


def windows_frame(card: dict[str, Any]) -> pd.DataFrame:
    """The card's windows as the engine lists them, with the role and note in words."""
    frame = validation_windows(card)
    if frame.empty:
        return frame
    frame["role"] = [tr(f"val_role_{w}") for w in frame["window"]]
    frame["note"] = [""] * (len(frame) - 1) + [window_notes(card)]
    frame["window"] = [value_label(w) for w in frame["window"]]
    return frame


def point_in_time_text(card: dict[str, Any]) -> str | None:
    """What the card says about features that are not point-in-time, in words (None: nothing)."""
    pit = card.get("validation", {}).get("point_in_time")
    if not pit:
        return None
    static = list(pit.get("static_features") or [])
    if not static:
        return tr("pit_all_point_in_time")
    names = ", ".join(value_label(f) for f in static)
    text = tr("pit_static_used" if pit.get("used") else "pit_static_excluded", features=names)
    if not pit.get("bureau_history"):
        text += " " + tr("pit_give_bureau_history")
    return text
