"""Formula-safe CSV downloads and the audit trail of exports, data loads and logins (Admin page)."""
from __future__ import annotations

import io

import pandas as pd

from cb_core.reports.safe_csv import csv_bytes, neutralise_formulas
from tests.support.app import app_as


def test_formula_cells_are_neutralised_numbers_are_not():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "plain", "김=상회"],
                          "amount": [-5, 1, 2, 3, 4, 5, 6]})
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tx", "plain", "김=상회"]
    assert safe["amount"].tolist() == [-5, 1, 2, 3, 4, 5, 6]
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig")
    assert not back["name"].astype(str).str.match(r"^[=+\-@]").any()
    assert csv_bytes(frame).startswith(b"\xef\xbb\xbf")  # BOM: Korean text opens right in Excel


def test_admin_page_lists_logins_and_exports_and_has_no_edit_path(app_users):
    from cb_core.errors import AuthError

    try:
        app_users.authenticate("kim", "definitely wrong")
    except AuthError:
        pass
    app = app_as("admin", app_users)
    app.switch_page("views/portfolio.py").run()
    assert len(app.get("download_button")) >= 1  # every table comes with its (audited, formula-safe) CSV
    app.switch_page("views/admin.py").run()
    assert not app.exception, app.exception
    log = app.dataframe[0].value
    assert (log["작업"] == "login.failed").any() and (log["사용자"] == "kim").any()
    assert not [b for b in app.button if "삭제" in b.label or "수정" in b.label]
