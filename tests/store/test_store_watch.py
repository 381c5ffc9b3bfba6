"""Watch actions in the store (issue #16), on SQLite and PostgreSQL (``db_url``): recorded with
user, time and note, audited one entry per action, freeze/unfreeze rules, append-only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from cb_core.errors import AuthError, ConfigError, ConflictError
from cb_core.store import WATCH_ACTIONS, Store
from tests.support.store import FAST_HASHER, PASSWORD, rows_of, rows_write

T0 = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)


@pytest.fixture
def store(db_url):
    s = Store(db_url, password_hasher=FAST_HASHER)
    s.add_user("oh", "officer", password=PASSWORD)
    s.add_user("admin", "admin", password=PASSWORD)
    yield s
    s.close()


def test_actions_are_recorded_with_user_time_and_note_and_audited_once_each(store):
    assert store.revision == "0005" and WATCH_ACTIONS == ("review", "freeze_offers", "contact", "unfreeze")
    first = store.record_watch_action("M001", "L-7", "review", "  sales fell three months running ", "oh", T0)
    store.record_watch_action("M001", "L-7", "contact", "", "oh", T0 + timedelta(hours=1))
    store.record_watch_action("M002", None, "review", None, "admin", T0)
    assert (first.merchant_id, first.loan_id, first.action, first.note, first.user, first.created_at) == \
        ("M001", "L-7", "review", "sales fell three months running", "oh", T0)
    history = store.watch_actions("M001")
    assert [(a.action, a.note, a.user, a.created_at) for a in history] == [
        ("review", "sales fell three months running", "oh", T0),
        ("contact", "", "oh", T0 + timedelta(hours=1))]
    assert [a.action for a in store.watch_actions("M002")] == ["review"] and store.watch_actions("M999") == []
    entries = store.audit_log({"entity": "merchant"})
    assert len(entries) == 3  # one per action, nothing else
    newest = entries[0]
    assert (newest.user, newest.action, newest.entity_id, newest.before) == ("admin", "watch.review", "M002", None)
    assert newest.after["note"] == "" and newest.after["loan_id"] is None
    assert [e.action for e in store.audit_log({"entity_id": "M001"})] == ["watch.contact", "watch.review"]
    assert store.frozen_merchants() == {}  # review and contact freeze nothing


def test_freeze_and_unfreeze_need_a_note_and_follow_each_other(store):
    for action in ("freeze_offers", "unfreeze"):
        with pytest.raises(ConfigError, match=f"a note is required to {action.replace('_', ' ')}: say why"):
            store.record_watch_action("M001", "L-7", action, "   ", "oh", T0)
    with pytest.raises(ConflictError, match="merchant M001 is not frozen; nothing was saved"):
        store.record_watch_action("M001", "L-7", "unfreeze", "paid up", "oh", T0)
    freeze = store.record_watch_action("M001", "L-7", "freeze_offers", "30 days past due", "oh", T0)
    store.record_watch_action("M003", None, "freeze_offers", "fraud check", "admin", T0)
    assert store.frozen_merchants() == {"M001": freeze, "M003": store.watch_actions("M003")[0]}
    with pytest.raises(ConflictError, match=r"merchant M001 is already frozen \(by oh\); nothing was saved"):
        store.record_watch_action("M001", None, "freeze_offers", "again", "admin", T0)
    store.record_watch_action("M001", "L-7", "review", "still behind", "admin", T0 + timedelta(days=1))
    assert set(store.frozen_merchants()) == {"M001", "M003"}  # a review keeps the freeze
    store.record_watch_action("M001", "L-7", "unfreeze", "arrears paid on 12-01", "admin", T0 + timedelta(days=2))
    assert set(store.frozen_merchants()) == {"M003"}
    store.record_watch_action("M001", "L-7", "freeze_offers", "late again", "oh", T0 + timedelta(days=3))
    assert set(store.frozen_merchants()) == {"M001", "M003"}
    assert [a.action for a in store.watch_actions("M001")] == ["freeze_offers", "review", "unfreeze",
                                                               "freeze_offers"]
    assert [e.action for e in store.audit_log({"entity_id": "M001"})] == [
        "watch.freeze_offers", "watch.unfreeze", "watch.review", "watch.freeze_offers"]  # refused ones: none


def test_bad_input_is_refused_by_name_and_nothing_is_saved(store):
    with pytest.raises(ConfigError, match="action must be one of review, freeze_offers, contact, unfreeze; "
                                          "got 'delete'"):
        store.record_watch_action("M001", None, "delete", "x", "oh", T0)
    with pytest.raises(ConfigError, match="merchant_id must not be empty"):
        store.record_watch_action("  ", None, "review", "x", "oh", T0)
    with pytest.raises(ConfigError, match="no merchant with id 'M404' in the book in use"):
        store.record_watch_action("M404", None, "review", "x", "oh", T0, known_merchants={"M001"})
    with pytest.raises(ConfigError, match="note must be at most 4000 characters; got 4001"):
        store.record_watch_action("M001", None, "review", "x" * 4001, "oh", T0)
    with pytest.raises(ConfigError, match="now must be timezone-aware"):
        store.record_watch_action("M001", None, "review", "x", "oh", datetime(2026, 12, 1))
    with pytest.raises(AuthError, match="no user named 'ghost'"):
        store.record_watch_action("M001", None, "review", "x", "ghost", T0)
    store.disable_user("oh", actor="admin")
    with pytest.raises(AuthError, match="user 'oh' is disabled"):
        store.record_watch_action("M001", None, "freeze_offers", "x", "oh", T0)
    assert store.watch_actions("M001") == [] and store.audit_log({"entity": "merchant"}) == []


def test_the_database_keeps_actions_append_only_and_refuses_a_freeze_without_a_note(store):
    store.record_watch_action("M001", "L-7", "freeze_offers", "30 days past due", "oh", T0)
    for sql in ("UPDATE watch_actions SET action = 'unfreeze'", "DELETE FROM watch_actions"):
        with pytest.raises(DBAPIError, match="watch_actions is append-only"):
            rows_write(store, sql)
    at = "'2026-12-01 01:30:00'"
    with pytest.raises(IntegrityError, match="ck_watch_actions_note|CHECK constraint failed"):
        rows_write(store, "INSERT INTO watch_actions (merchant_id, loan_id, action, note, user_name, created_at) "
                          f"VALUES ('M001', NULL, 'unfreeze', '', 'oh', {at})")
    with pytest.raises(IntegrityError, match="ck_watch_actions_action|CHECK constraint failed"):
        rows_write(store, "INSERT INTO watch_actions (merchant_id, loan_id, action, note, user_name, created_at) "
                          f"VALUES ('M001', NULL, 'erase', 'x', 'oh', {at})")
    assert rows_of(store, "SELECT action, note FROM watch_actions") == [("freeze_offers", "30 days past due")]
