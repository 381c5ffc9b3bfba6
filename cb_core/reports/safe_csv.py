"""Downloads: CSV that is safe to open in a spreadsheet."""
from __future__ import annotations

import re

import pandas as pd

#: A text cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number (``-0.378``, ``+12``, ``-1.5e-3``): a spreadsheet reads it as that number, never
#: as a formula, so it is left as it is (an apostrophe would turn a number into text).
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where every text cell (and column name) that a spreadsheet would run as a formula is
    prefixed with an apostrophe (OWASP's CSV-injection advice). Numbers are left alone, in number
    columns, in mixed (object) columns and as plain-number text, so ``-0.378`` stays a number
    while the text ``"-5+cmd"`` or ``"=1+1"`` is neutralised."""
    def fix(value: object) -> object:
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
        return value

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(fix).astype(object)
    out.columns = [fix(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (so Korean text opens correctly in Excel), formulas neutralised."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")
