"""The database cannot be reached: a clear message, no traceback, no password shown."""
from __future__ import annotations

import socket

from streamlit.testing.v1 import AppTest

from tests.support.app import ROOT
from ui.text import unescape


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns


def test_unreachable_database_gives_a_clear_message(app_state_with_model, monkeypatch):
    monkeypatch.setenv("CB_DATABASE_URL", f"postgresql+psycopg://cb:secret-pw@127.0.0.1:{_closed_port()}/cb")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    assert not app.exception, app.exception  # no traceback
    shown = unescape("\n".join([e.value for e in app.error] + [c.value for c in app.code]))
    # said in the app's default language, Korean (the reason itself is the driver's text)
    assert "데이터베이스에 연결할 수 없습니다" in shown and "아무것도 저장하지 않았습니다" in shown
    assert "cannot be reached" not in shown
    assert "secret-pw" not in shown
    assert not app.text_input  # no login form, no page: nothing can be half-done
