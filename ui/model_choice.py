"""Model report panel: the model a bring-your-own table chose among LightGBM, a WoE/logistic
scorecard and their blend, with each candidate's AUC from cross-validation inside the training rows
(the card's ``validation.model_choice``)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui.labels import number, tr
from ui.tables import show_table

#: Candidates the catalog names; a card from an earlier version may hold others.
KNOWN = ("lightgbm", "woe_scorecard", "blend")


def model_name(name: str) -> str:
    """The catalog name of a candidate."""
    return tr(f"choice_model_{name}") if name in KNOWN else tr("choice_model_other")


def chosen_model(card: dict[str, Any]) -> str | None:
    """The candidate the card says was chosen, or None when the model made no choice."""
    choice = card.get("validation", {}).get("model_choice") or {}
    return choice.get("chosen")


def choice_frame(card: dict[str, Any]) -> pd.DataFrame:
    """One row per candidate: its name, inner cross-validation AUC, how many outer folds chose it,
    and the mark of the chosen one; empty when the card records no choice with AUCs."""
    validation = card.get("validation", {})
    choice = validation.get("model_choice") or {}
    candidates = choice.get("candidates") or {}
    if not candidates or any("inner_auc" not in c for c in candidates.values()):
        return pd.DataFrame()
    total = int(validation.get("n_folds", len(validation.get("folds", []))))
    outer = all("chosen_in_folds" in c for c in candidates.values())  # nested cross-validation; not out of time
    rows = []
    for name, c in sorted(candidates.items(), key=lambda kv: -kv[1]["inner_auc"]):
        row = {tr("choice_col_model"): model_name(name), tr("choice_col_inner_auc"): number(c["inner_auc"], 3)}
        if outer:
            row[tr("choice_col_folds")] = tr("choice_folds_value", n=int(c["chosen_in_folds"]), total=total)
        row[tr("choice_col_chosen")] = tr("choice_chosen_mark") if name == choice.get("chosen") else ""
        rows.append(row)
    return pd.DataFrame(rows)


def show_model_choice(card: dict[str, Any]) -> None:
    """The panel; nothing when the model made no choice (a merchant book's LightGBM)."""
    frame = choice_frame(card)
    if frame.empty:
        return
    choice = card["validation"]["model_choice"]
    st.subheader(tr("choice_title"))
    st.caption(tr("choice_caption", chosen=model_name(choice["chosen"]), folds=int(choice.get("inner_folds", 3))))
    show_table(frame, "model_choice.csv", "dl_model_choice")
