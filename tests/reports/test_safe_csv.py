"""Formula neutralisation in CSV downloads touches text that a spreadsheet would run, never numbers."""
from __future__ import annotations

import io

import pandas as pd

from cb_core.reports import csv_bytes


def _read_back(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_negative_numbers_stay_numbers_in_every_kind_of_column():
    frame = pd.DataFrame({
        "feature": ["return_rate", "=HYPERLINK(\"http://evil\")", "-2+3", "@SUM(A1)", "+cmd|' /C calc'!A0"],
        "delta_points": [-0.378, 12.5, -3.0, 0.0, -1e-3],                      # float column
        "mixed": [-0.378, "-0.378", "-12", "+7.5", "-1.5e-3"],                 # object column: numbers and text
        "as_text": ["-0.378", "+4", "-.5", "1e5", "-"],                         # numbers typed as text
    })
    out = _read_back(frame)
    assert out["delta_points"].tolist() == ["-0.378", "12.5", "-3.0", "0.0", "-0.001"]
    assert out["mixed"].tolist() == ["-0.378", "-0.378", "-12", "+7.5", "-1.5e-3"]
    assert out["as_text"].tolist() == ["-0.378", "+4", "-.5", "1e5", "'-"]
    assert out["feature"].tolist() == ["return_rate", "'=HYPERLINK(\"http://evil\")", "'-2+3", "'@SUM(A1)",
                                       "'+cmd|' /C calc'!A0"]


def test_formula_like_text_that_merely_starts_with_a_number_sign_is_still_neutralised():
    out = _read_back(pd.DataFrame({"note": ["-1+1", "-1 -1", "+1e5=1", "- 5", "-0x10"]}))
    assert out["note"].tolist() == ["'-1+1", "'-1 -1", "'+1e5=1", "'- 5", "'-0x10"]
