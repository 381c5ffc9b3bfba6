"""Store on SQLite and PostgreSQL: schema and migrations, users, logins and sessions."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest

from cb_core.store._gateway import head_revision
from argon2 import PasswordHasher

from cb_core.errors import AuthError, ConfigError, ConflictError, StoreUnavailableError
from cb_core.store import Store
from tests.support.pg import db_url  # noqa: F401  (fixture; conftest.py will import it for every test file)
from tests.support.store import (FAST_HASHER, PASSWORD, ROOT, T0, decide, rows_of, rows_write, exact, people,  # noqa: F401
                                  store, with_policy)


# -- schema ------------------------------------------------------------------------------------
def test_fresh_database_is_migrated_to_head_and_matches_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cb_core.store.tables import Base

    first = Store(db_url)
    assert first.revision == head_revision() == "0005"
    again = Store(db_url)  # opening an up-to-date database changes nothing
    assert again.revision == head_revision()
    assert rows_of(first, "SELECT version_num FROM alembic_version") == [("0005",)]
    with first._engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    first.close()
    again.close()


def test_default_url_is_the_setting_or_sqlite_in_the_state_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CB_DATABASE_URL", "")
    with Store(password_hasher=FAST_HASHER) as store:
        assert store.url == f"sqlite:///{tmp_path / 'state' / 'cb.sqlite'}"
        assert store.dialect == "sqlite"
    assert (tmp_path / "state" / "cb.sqlite").is_file()
    monkeypatch.setenv("CB_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    with Store() as store:
        assert store.url == f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    with pytest.raises(ConfigError, match="^database_url is not a SQLAlchemy URL .*; got 'not a url'$"):
        Store("not a url")


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'cb.sqlite'}", busy_timeout_s=7) as store, store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000


def test_sqlite_writer_waits_for_the_lock_then_gives_a_clear_error(tmp_path):
    path = tmp_path / "cb.sqlite"
    store = Store(f"sqlite:///{path}", busy_timeout_s=0.2, retries=1, password_hasher=FAST_HASHER)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(StoreUnavailableError, match=exact(
                f"the database at sqlite:///{path} cannot be reached: database is locked; nothing was saved")):
            store.add_user("kim", "pm", password=PASSWORD)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.add_user("kim", "pm", password=PASSWORD)  # the lock is gone: the same call succeeds
    assert [u.name for u in store.list_users()] == ["kim"]


# -- users and passwords -----------------------------------------------------------------------
def test_passwords_are_stored_only_as_argon2id_hashes(db_url):
    with Store(db_url) as store:  # production hasher parameters
        user, generated = store.add_user("kim", "pm")
        assert user.name == "kim" and user.role == "pm" and user.partner is None and not user.disabled
        assert isinstance(generated, str) and len(generated) >= 20
        chosen_user, none = store.add_user("park", "partner", partner="Hana Bank", password=PASSWORD)
        assert none is None and chosen_user.partner == "Hana Bank"
        hashes = dict(rows_of(store, "SELECT name, password_hash FROM users"))
        assert hashes["kim"] != generated and generated not in hashes["kim"]
        assert hashes["park"] != PASSWORD and PASSWORD not in hashes["park"]
        assert all(h.startswith("$argon2id$") for h in hashes.values())
        assert store.authenticate("kim", generated).name == "kim"
        assert store.authenticate("park", PASSWORD).partner == "Hana Bank"
        assert [u.name for u in store.list_users()] == ["kim", "park"]
        audit = store.audit_log({"action": "user.add"})
        assert [(e.entity_id, e.after) for e in audit] == [("park", {"role": "partner", "partner": "Hana Bank"}),
                                                           ("kim", {"role": "pm", "partner": None})]
        assert all(generated not in str(e) and PASSWORD not in str(e) for e in store.audit_log())


def test_login_upgrades_a_hash_made_with_weaker_parameters(db_url):
    with Store(db_url, password_hasher=FAST_HASHER) as old:
        old.add_user("kim", "pm", password=PASSWORD)
    with Store(db_url) as store:  # production parameters
        store.authenticate("kim", PASSWORD)
        [(upgraded,)] = rows_of(store, "SELECT password_hash FROM users")
        assert upgraded.startswith("$argon2id$") and not PasswordHasher().check_needs_rehash(upgraded)
        assert store.authenticate("kim", PASSWORD).name == "kim"


def test_add_user_refuses_bad_input_and_duplicates(store):
    store.add_user("kim", "pm", password=PASSWORD)
    cases = [
        (("kim", "officer"), {"password": PASSWORD}, ConflictError, "user 'kim' already exists"),
        (("lee", "boss"), {}, ConfigError, "role must be one of admin, pm, officer, partner; got 'boss'"),
        (("lee", "partner"), {}, ConfigError, "user 'lee' has role partner and needs the partner it belongs to"),
        (("lee", "officer"), {"partner": "Hana"}, ConfigError,
         "only role partner has a partner; 'lee' has role officer and partner 'Hana'"),
        (("lee", "pm"), {"password": "short"}, ConfigError,
         "a password must be at least 10 characters; got 5 characters; the rule: at least 10 characters, not one "
         "of the common passwords on our list, and not containing the user name"),
        (("le e", "pm"), {}, ConfigError, "a user name must not contain spaces or control characters; got 'le e'"),
        (("", "pm"), {}, ConfigError, "user name must not be empty"),
    ]
    for args, kwargs, error, message in cases:
        with pytest.raises(error, match=exact(message)):
            store.add_user(*args, **kwargs)
    assert [u.name for u in store.list_users()] == ["kim"]


def test_lockout_after_five_failures_binds_the_failing_client_until_fifteen_minutes(people):
    store = people
    for minute in range(5):  # a minute apart: the client is not throttled yet
        with pytest.raises(AuthError, match=exact("wrong user name or password")):
            store.authenticate("kim", "wrong password", now=T0 + timedelta(minutes=minute), client="10.0.0.9")
    locked_until = T0 + timedelta(minutes=19)
    assert store.get_user("kim").locked_until == locked_until
    # The client that failed: a wrong password still reads as one; only the right one hears of the lock.
    with pytest.raises(AuthError, match=exact("wrong user name or password")):
        store.authenticate("kim", "wrong again", now=T0 + timedelta(minutes=10), client="10.0.0.9")
    for at in (T0 + timedelta(minutes=12), locked_until - timedelta(seconds=1)):
        with pytest.raises(AuthError, match=exact("account 'kim' is locked after 5 failed logins until "
                                                  "2026-06-15 09:19 UTC; try again then, from this device, or ask "
                                                  "an admin to unlock it")):
            store.authenticate("kim", PASSWORD, now=at, client="10.0.0.9")
    user = store.authenticate("kim", PASSWORD, now=locked_until, client="10.0.0.9")
    assert user.name == "kim" and user.failed_logins == 0 and user.locked_until is None
    # Other accounts were never affected.
    assert store.authenticate("lee", PASSWORD, now=T0, client="10.0.0.7").name == "lee"
    reasons = [e.after["reason"] for e in reversed(store.audit_log({"user": "kim", "action": "login.failed"}))]
    assert reasons == ["wrong password"] * 4 + ["wrong password; locked", "wrong password", "locked", "locked"]
    assert len(store.audit_log({"user": "kim", "action": "login"})) == 1


def test_lockout_parameters_are_configurable(db_url):
    with Store(db_url, max_failed_logins=2, lockout_minutes=1, password_hasher=FAST_HASHER) as store:
        store.add_user("kim", "pm", password=PASSWORD)
        for _ in range(2):
            with pytest.raises(AuthError, match="^wrong user name or password$"):
                store.authenticate("kim", "nope nope", now=T0, client="10.0.0.2")
        assert store.get_user("kim").locked_until == T0 + timedelta(minutes=1)
        with pytest.raises(AuthError, match="locked after 2 failed logins until 2026-06-15 09:01 UTC") as locked:
            store.authenticate("kim", PASSWORD, now=T0, client="10.0.0.2")
        assert locked.value.params == {"until": "2026-06-15 18:01 KST"}  # what the sign-in form shows: Korea time
        with pytest.raises(AuthError, match="^wrong user name or password$"):  # the third failure in a row ...
            store.authenticate("kim", "nope nope", now=T0, client="10.0.0.2")
        with pytest.raises(AuthError, match="^too many failed logins from this connection; try again in 1 s$"):
            store.authenticate("kim", PASSWORD, now=T0, client="10.0.0.2")  # ... makes this client wait
        assert store.authenticate("kim", PASSWORD, now=T0 + timedelta(minutes=1), client="10.0.0.2").name == "kim"


def test_unknown_user_reads_like_a_wrong_password_and_is_audited_by_a_keyed_hash(people):
    with pytest.raises(AuthError, match=exact("wrong user name or password")):
        people.authenticate("mallory", PASSWORD, now=T0)
    [entry] = people.audit_log({"action": "login.failed"})
    masked = people.masked_name("mallory")
    assert masked.startswith("unknown:") and len(masked) == len("unknown:") + 16 and "mallory" not in masked
    assert (entry.user, entry.entity_id, entry.after, entry.at) == (masked, masked, {"reason": "unknown user"}, T0)


def test_disabled_user_is_refused_and_loses_its_sessions(people):
    token = people.start_session("oh", now=T0)
    disabled = people.disable_user("oh", actor="kim")
    assert disabled.disabled
    with pytest.raises(AuthError, match=exact("account 'oh' is disabled; ask an admin")):
        people.authenticate("oh", PASSWORD, now=T0)
    assert people.session_user(token, now=T0) is None
    with pytest.raises(AuthError, match=exact("user 'oh' is disabled")):
        people.start_session("oh")
    with pytest.raises(AuthError, match=exact("no user named 'nobody'")):
        people.disable_user("nobody")
    [entry] = people.audit_log({"action": "user.disable"})
    assert (entry.user, entry.entity_id, entry.before, entry.after) == ("kim", "oh", {"disabled": False},
                                                                        {"disabled": True})


def test_reset_password_replaces_the_old_one_and_clears_the_lock(people):
    for _ in range(5):
        with pytest.raises(AuthError):
            people.authenticate("oh", "wrong password", now=T0)
    token = people.start_session("oh", now=T0)
    new = people.reset_password("oh", actor="kim")
    assert new != PASSWORD and len(new) >= 20
    assert people.session_user(token, now=T0) is None
    later = T0 + timedelta(seconds=5)  # past the wait the five failures gave this client
    with pytest.raises(AuthError, match=exact("wrong user name or password")):
        people.authenticate("oh", PASSWORD, now=later)
    assert people.authenticate("oh", new, now=later + timedelta(seconds=5)).name == "oh"


def test_sessions_end_after_inactivity_and_on_logout(people):
    store = people
    token = store.start_session("oh", now=T0)
    assert rows_of(store, "SELECT token_sha256 FROM sessions") == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert store.session_user(token, now=T0 + timedelta(minutes=29)).name == "oh"
    # Activity moved the clock: 29 minutes after the last activity it is still alive.
    assert store.session_user(token, now=T0 + timedelta(minutes=58)).name == "oh"
    assert store.session_user(token, now=T0 + timedelta(minutes=88, seconds=1)) is None  # 30 min idle
    assert store.session_user(token, now=T0 + timedelta(minutes=59)) is None  # ended for good
    short = store.start_session("oh", now=T0)
    assert store.session_user(short, now=T0 + timedelta(minutes=6), timeout_minutes=5) is None
    other = store.start_session("kim", now=T0)
    store.end_session(other, now=T0 + timedelta(minutes=1))
    assert store.session_user(other, now=T0 + timedelta(minutes=1)) is None
    assert store.session_user("not-a-token") is None and store.session_user("") is None
    assert [e.user for e in store.audit_log({"action": "logout"})] == ["kim"]
    with pytest.raises(ConfigError, match=r"^now must be timezone-aware \(e.g. datetime.now\(timezone.utc\)\); "
                                          r"got naive 2026-06-15T09:00:00$"):
        store.session_user(token, now=T0.replace(tzinfo=None))


def test_page_runs_within_a_minute_do_not_write_last_seen(people):
    store = people
    token = store.start_session("oh", now=T0)
    seen = lambda: rows_of(store, "SELECT last_seen FROM sessions")[0][0]  # noqa: E731
    first = seen()
    assert store.session_user(token, now=T0 + timedelta(seconds=59)).name == "oh"
    assert seen() == first  # a read only: no write lock taken for a page run
    assert store.session_user(token, now=T0 + timedelta(seconds=61)).name == "oh"
    assert seen() != first  # refreshed once a minute has passed
    refreshed = seen()
    # Idle time counts from the refresh: 30 minutes after second 61 it is still alive, not after.
    assert store.session_user(token, now=T0 + timedelta(minutes=30, seconds=60)).name == "oh"
    assert seen() != refreshed
    assert store.session_user(token, now=T0 + timedelta(minutes=61, seconds=1)) is None  # 30 min idle


def test_session_timeout_defaults_to_the_setting(db_url, monkeypatch):
    monkeypatch.setenv("CB_SESSION_TIMEOUT_MINUTES", "10")
    with Store(db_url, password_hasher=FAST_HASHER) as store:
        store.add_user("oh", "officer", password=PASSWORD)
        token = store.start_session("oh", now=T0)
        assert store.session_user(token, now=T0 + timedelta(minutes=10)).name == "oh"
        assert store.session_user(token, now=T0 + timedelta(minutes=20, seconds=1)) is None


def test_first_admin_is_created_once_with_a_random_password(store):
    user, password = store.ensure_first_admin()
    assert user.role == "admin" and len(password) >= 20
    assert store.ensure_first_admin() is None
    assert store.authenticate("admin", password).role == "admin"
