"""Formula-safe CSV downloads and the audit trail of exports, data loads and logins (Admin page)."""
from __future__ import annotations

import io

import pandas as pd
import pytest

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


#: The Admin page's audit columns that say what happened (its "일시" column is the clock).
AUDIT = ["번호", "일시 (KST)", "사용자", "내용", "세부"]


def test_admin_page_lists_logins_and_exports_and_has_no_edit_path(own_store):
    from cb_core.errors import AuthError

    setup = max(e.id for e in own_store.audit_log())  # the users' creation
    with pytest.raises(AuthError, match="wrong user name or password"):
        own_store.authenticate("kim", "definitely wrong")
    app = app_as("admin", own_store)
    app.switch_page("views/portfolio.py").run()
    shown = app.dataframe[-1].value  # the table the download holds
    app.download_button(key="dl_portfolio").click().run()  # every table comes with its (audited) CSV
    assert not app.exception, app.exception
    app.switch_page("views/admin.py").run()
    assert not app.exception, app.exception
    log = app.dataframe[0].value
    assert list(log.columns) == AUDIT
    # one row per event, as a sentence in the reader's language, newest first
    assert log.loc[log["번호"] > setup, [c for c in AUDIT if c != "일시 (KST)"]].values.tolist() == [
        [setup + 2, "admin", "admin 님이 portfolio_by_category.csv을(를) 내려받았습니다", f"행 수: {len(shown)}"],
        [setup + 1, "kim", "kim 계정의 로그인이 거부되었습니다", "사유: 비밀번호 틀림"],
    ]
    # every fact stays in the log's CSV: action codes, entities and the raw before/after as JSON
    raw = [e for e in own_store.audit_log() if e.id > setup]
    # the CSV holds the raw rates (fractions, full precision): their unit is in the header
    csv_columns = [*shown.columns[:3], *(f"{c} [비율, 0–1]" for c in shown.columns[3:])]
    assert [(e.action, e.entity, e.entity_id, e.after) for e in raw] == [
        ("export.csv", "download", "portfolio_by_category.csv", {"rows": len(shown), "columns": csv_columns}),
        ("login.failed", "user", "kim", {"reason": "wrong password"})]
    assert not [b for b in app.button if "삭제" in b.label or "수정" in b.label]
