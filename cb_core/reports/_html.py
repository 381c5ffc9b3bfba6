"""HTML pieces the take-away reports share: escaping every text, and a frame as a table."""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd


def esc(value: Any) -> str:
    """``value`` as HTML text (``None`` is empty), quotes escaped too."""
    return html.escape("" if value is None else str(value), quote=True)


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table, every header and cell escaped; numbers right-aligned."""
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td class=\"num\">{esc(v)}</td>" if isinstance(v, (int, float, np.number))
                        else f"<td>{esc(v)}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
