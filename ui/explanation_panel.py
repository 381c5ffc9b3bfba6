"""The explanation record of a merchant's automated evaluation (Merchant review)."""
from __future__ import annotations

import streamlit as st

from cb_core.reports import explanation_record, explanation_text
from cb_core.strategy import PolicyInForce
from ui.labels import tr
from ui.session import lang
from ui.tables import audit, show_table
from ui.text import cell

#: Session key of the explanation record's expander (open: written; a test opens it by this key).
EXPLANATION_OPEN = "expl_open"


def render_explanation(ex, business_name: str, data_month: str, model_version: str, decision: str | None,
                       in_force: PolicyInForce) -> None:
    """Show the record (on the basis of the policy in force) and offer it as a plain-text download
    (the download is audited)."""
    box = st.expander(tr("expl_title"), key=EXPLANATION_OPEN, on_change="rerun")
    if not box.open:  # written only when asked for: not sent to the browser on every merchant shown
        return
    with box:
        record = explanation_record(ex, business_name, data_month, model_version, lang(), decision, in_force.version)
        weights = record.weights.assign(weight=(record.weights["weight"] * 100).round(1), points=record.weights["points"].round(1))
        show_table(weights[["label", "weight", "points", "features"]].rename(columns={
            "label": tr("expl_col_group"), "weight": tr("expl_col_weight"), "points": tr("expl_col_points"),
            "features": tr("expl_col_features")}), f"information_weights_{ex.merchant_id}.csv", "dl_weights")
        text = explanation_text(record, lang())
        st.code(cell(text, None), language=None, wrap_lines=True)  # holds the business name
        if st.download_button(tr("expl_download"), text.encode("utf-8"), file_name=f"explanation_{ex.merchant_id}.txt",
                              mime="text/plain", key="dl_explanation"):
            audit("export.explanation", "merchant", ex.merchant_id,
                  {"score": ex.score, "model_version": model_version, "policy_version": in_force.version})
