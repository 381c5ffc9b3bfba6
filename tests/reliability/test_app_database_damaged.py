"""The app on a damaged or lost SQLite database (issue 17): a clear message, no traceback, no
server path, and never a fresh database with a new admin."""
from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.app import ROOT


@pytest.fixture
def state(tmp_path, app_state_with_model, monkeypatch):
    """A copy of the app state (book, model) with its own database, as CB_STATE_DIR."""
    copy = tmp_path / "state"
    shutil.copytree(app_state_with_model, copy, ignore=shutil.ignore_patterns("cb.sqlite*", "store.key", "*.log"))
    monkeypatch.setenv("CB_STATE_DIR", str(copy))
    monkeypatch.setenv("CB_DATABASE_URL", "")
    return copy


def _shown(app: AppTest) -> str:
    return "\n".join([e.value for e in app.error] + [c.value for c in app.code])


def _says(shown: str, key: str, engine_text: str) -> bool:
    """The engine's message, or its label in either language (the page may show either)."""
    from cb_core.i18n import t

    return any(text in shown for text in (engine_text, t(key, "ko"), t(key, "en")))


def test_a_corrupted_database_file_shows_a_message_without_paths(state):
    (state / "cb.sqlite").write_bytes(b"not a database " * 1000)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    shown = _shown(app)
    assert _says(shown, "store_corrupt", "the database file is damaged")
    assert str(state) not in shown and "Traceback" not in shown
    assert not app.text_input  # no login form


def test_a_lost_database_is_not_replaced_by_a_fresh_one_with_a_new_admin(state, capfd):
    from cb_core.store import Store, default_url

    with Store(default_url()) as store:  # the app has run here before: it has users
        store.ensure_first_admin()
    for name in ("cb.sqlite", "cb.sqlite-wal", "cb.sqlite-shm"):
        (state / name).unlink(missing_ok=True)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    assert _says(_shown(app), "store_empty",
                 "the database is empty, but a database with users and decisions existed here before")
    assert not (state / "cb.sqlite").exists()
    assert "first start created user" not in capfd.readouterr().out
