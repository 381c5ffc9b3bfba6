"""Masking of personal data (owner names, business numbers) for roles that do not need it.

Who may see them unmasked is the ``see_personal`` permission of :mod:`cb_core.access`.
"""
from __future__ import annotations

import pandas as pd

from ..access import can


def mask_name(name: object) -> str:
    """``김철수`` -> ``김*수``, ``김수`` -> ``김*``; keeps the first and last character only."""
    text = "" if name is None or (isinstance(name, float) and name != name) else str(name)
    if len(text) <= 1:
        return "*" if text else ""
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_reg_no(reg_no: object) -> str:
    """``123-45-67890`` -> ``123-45-*****``: the office and type codes stay, the serial goes."""
    text = "" if reg_no is None or (isinstance(reg_no, float) and reg_no != reg_no) else str(reg_no)
    return text[:7] + "*****" if len(text) >= 7 else "*" * len(text)


def mask_frame(frame: pd.DataFrame, role: str) -> pd.DataFrame:
    """A copy with personal columns masked unless ``role`` may see them (``see_personal``)."""
    if can(role, "see_personal"):
        return frame
    out = frame.copy()
    if "owner_name" in out:
        out["owner_name"] = out["owner_name"].map(mask_name)
    if "business_reg_no" in out:
        out["business_reg_no"] = out["business_reg_no"].map(mask_reg_no)
    return out
