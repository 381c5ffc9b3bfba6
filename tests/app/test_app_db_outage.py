"""PostgreSQL goes away in the middle of a session (the test cluster is stopped) and comes back.

The signed-in officer gets a clear message instead of a page, nothing is half-written, and once
the cluster is back the same session (same server process, same Store) works again without a
restart. CI runs this on the throwaway cluster of scripts/test.sh; it never skips there.
"""
from __future__ import annotations

import pytest

from tests.support.app import PASSWORD, app_as
from tests.support.pg import fresh_postgres_database

pytestmark = pytest.mark.postgres


def _save(app, choice: str, note: str) -> None:
    next(r for r in app.radio if str(r.key).startswith("decision_choice_")).set_value(choice)
    next(t for t in app.text_area if str(t.key).startswith("decision_note_")).set_value(note)
    app.button[[b.label for b in app.button].index("Save decision")].click().run()


def _shown(app) -> str:
    return "\n".join([e.value for e in app.error] + [c.value for c in app.code])


def test_database_stopped_mid_session_then_back_without_restart(app_state_with_model, small_book, pg_cluster,
                                                                monkeypatch):
    from cb_core.store import Store

    merchant = small_book.merchants["merchant_id"].iloc[5]
    with fresh_postgres_database() as url:
        monkeypatch.setenv("CB_DATABASE_URL", url)
        store = Store(url)
        store.add_user("lee", "officer", password=PASSWORD)
        app = app_as("lee", store)
        app.switch_page("views/merchant_review.py").run()
        app.session_state["lang"] = "en"
        app.run()
        app.text_input(key="review_query").set_value(merchant).run()
        _save(app, "refer", "before the outage")
        assert not app.exception and not app.error, _shown(app)

        try:
            pg_cluster.stop()
            _save(app, "approve", "during the outage")
            assert not app.exception, app.exception  # no traceback
            shown = _shown(app)
            assert "cannot be reached" in shown and "nothing was saved" in shown, shown
            assert not app.get("plotly_chart")  # no half-drawn page under the message
            app.switch_page("views/decisions.py").run()  # another page: the same clear message
            assert not app.exception and "cannot be reached" in _shown(app)
        finally:
            pg_cluster.start()

        app.switch_page("views/merchant_review.py").run()  # same session: no restart, no new login
        assert not app.exception and not app.error, _shown(app)
        app.text_input(key="review_query").set_value(merchant).run()
        _save(app, "approve", "after the outage")
        assert not app.exception and not app.error, _shown(app)

        history = store.decisions_for(merchant)
        assert [(d.decision, d.note) for d in history] == [("refer", "before the outage"),
                                                            ("approve", "after the outage")]
        assert history[0].superseded_by_id == history[1].id
        saved = store.audit_log({"action": "decision.save"})
        assert sorted(int(e.entity_id) for e in saved) == sorted(d.id for d in history)  # each once
        store.close()
