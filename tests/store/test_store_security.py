"""Issue 17 in the store: logins that tell nothing and cannot be used to lock the real user out,
names and passwords kept out of the audit log, the password policy, sessions bound to their browser,
and a SQLite database that cannot vanish, rot or be emptied behind the app's back."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from cb_core.errors import AuthError, ConfigError, DataSourceError, StoreUnavailableError
from cb_core.store import PASSWORD_RULE, DatabaseDamagedError, LoginError, Store, check_password
from tests.support.pg import db_url  # noqa: F401  (fixture)
from tests.support.store import FAST_HASHER, PASSWORD, T0, decide, exact, people, rows_of, store  # noqa: F401

ATTACKER, OFFICE = "203.0.113.66", "198.51.100.7"


def _refusal(store: Store, name: str, password: str, client: str, now=T0) -> LoginError:
    with pytest.raises(LoginError) as caught:
        store.authenticate(name, password, now=now, client=client)
    return caught.value


# -- enumeration -------------------------------------------------------------------------------
def test_unknown_user_and_wrong_password_give_identical_errors_through_a_lockout(people):
    """Five wrong passwords for a real user (which locks it) and five tries of a name that does not
    exist read exactly the same, attempt by attempt: type, message, label and parameters."""
    for attempt in range(6):
        now = T0 + timedelta(minutes=attempt)
        real = _refusal(people, "kim", f"wrong password {attempt}", client=f"10.0.1.{attempt}", now=now)
        ghost = _refusal(people, "kimm", f"wrong password {attempt}", client=f"10.0.2.{attempt}", now=now)
        assert (type(real), str(real), real.args, real.key, real.params) == \
               (type(ghost), str(ghost), ghost.args, ghost.key, ghost.params) == \
               (LoginError, "wrong user name or password", ("wrong user name or password",), "login_wrong", {})
        assert real.__cause__ is ghost.__cause__ is None
    assert people.get_user("kim").is_locked(T0 + timedelta(minutes=6))  # locked, and nobody was told


def test_locked_is_said_only_after_the_right_password(people):
    for minute in range(5):
        _refusal(people, "kim", "wrong password", client=ATTACKER, now=T0 + timedelta(minutes=minute))
    later = T0 + timedelta(minutes=6)
    assert str(_refusal(people, "kim", "still wrong!", client=ATTACKER, now=later)) == "wrong user name or password"
    assert _refusal(people, "kim", PASSWORD, client=ATTACKER, now=later + timedelta(minutes=1)).key == "login_locked"


# -- throttling --------------------------------------------------------------------------------
def test_forty_tries_in_a_row_from_one_client_are_slowed_with_growing_waits(people):
    """40 attempts at once: six are checked, 34 refused without checking; an attacker who waits
    exactly as told gets waits that double (1, 2, 4, ... s), recorded as times, not slept."""
    errors = [_refusal(people, "kim", f"guess {i}", client=ATTACKER) for i in range(40)]
    assert [e.key for e in errors] == ["login_wrong"] * 6 + ["login_throttled"] * 34
    assert errors[6].params == {"seconds": 1} and str(errors[6]) == ("too many failed logins from this connection; "
                                                                      "try again in 1 s")
    now, waits = T0 + timedelta(seconds=1), []
    for _ in range(8):
        with pytest.raises(LoginError) as caught:
            people.authenticate("kim", "another guess", now=now, client=ATTACKER)
        assert caught.value.key == "login_wrong"  # checked: the wait was over
        refused = _refusal(people, "kim", "too soon", client=ATTACKER, now=now)
        waits.append(refused.params["seconds"])
        now += timedelta(seconds=refused.params["seconds"])
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256]
    reasons = [e.after["reason"] for e in people.audit_log({"action": "login.failed"}, limit=100)]
    assert reasons.count("client throttled") == 34 + 8
    # Another client is not slowed by this one; the real user's right password works from there.
    assert people.authenticate("kim", PASSWORD, now=T0, client=OFFICE).name == "kim"


def test_without_a_client_nothing_is_throttled_and_a_lock_binds_the_caller(people):
    """The CLI and callers that cannot tell where an attempt comes from share no throttle record
    (a stranger could slow every login through it); the account lock then binds them."""
    assert [_refusal_without_client(people, "oh", f"guess {i}").key for i in range(12)] == ["login_wrong"] * 12
    assert _refusal_without_client(people, "oh", PASSWORD).key == "login_locked"
    assert people.authenticate("oh", PASSWORD, now=T0, client=OFFICE).name == "oh"


def _refusal_without_client(store: Store, name: str, password: str) -> LoginError:
    with pytest.raises(LoginError) as caught:
        store.authenticate(name, password, now=T0)
    return caught.value


def test_a_success_clears_the_clients_record(people):
    for _ in range(4):
        _refusal(people, "oh", "typo typo", client=OFFICE)
    assert people.authenticate("oh", PASSWORD, now=T0, client=OFFICE).name == "oh"
    for _ in range(5):  # a fresh allowance of five after the success
        assert _refusal(people, "oh", "typo typo", client=OFFICE).key == "login_wrong"


# -- lock-out as a denial of service -------------------------------------------------------------
def test_a_stranger_cannot_lock_out_the_real_user(people):
    for minute in range(10):  # ten wrong passwords, slow enough never to be throttled: locked twice
        assert _refusal(people, "kim", "let me in", client=ATTACKER, now=T0 + timedelta(minutes=minute)).key == \
            "login_wrong"
    assert people.get_user("kim").is_locked(T0 + timedelta(minutes=10))
    user = people.authenticate("kim", PASSWORD, now=T0 + timedelta(minutes=10), client=OFFICE)
    assert user.name == "kim" and user.locked_until is None
    [entry] = people.audit_log({"user": "kim", "action": "login"})
    assert entry.after == {"lock_bypassed": True}


def test_an_admin_unlocks_at_once_and_it_is_audited(people):
    for minute in range(5):
        _refusal(people, "oh", "wrong password", client=OFFICE, now=T0 + timedelta(minutes=minute))
    assert people.get_user("oh").locked_until is not None
    assert people.unlock_user("oh", actor="kim").locked_until is None
    assert people.authenticate("oh", PASSWORD, now=T0 + timedelta(minutes=6), client=OFFICE).name == "oh"
    [entry] = people.audit_log({"action": "user.unlock"})
    assert (entry.user, entry.entity_id, entry.after) == ("kim", "oh", {"failed_logins": 0, "locked_until": None})
    with pytest.raises(AuthError, match=exact("no user named 'nobody'")):
        people.unlock_user("nobody")


# -- what the audit log keeps ------------------------------------------------------------------
def test_a_password_typed_into_the_name_field_never_reaches_the_database(people, db_url):
    secret = "Sup3r-secret-passw0rd"
    _refusal(people, secret, "", client=OFFICE)
    _refusal(people, secret, "", client=OFFICE)
    entries = people.audit_log({"action": "login.failed"})
    assert len({e.user for e in entries}) == 1 and entries[0].user == people.masked_name(secret)
    assert all(secret not in str(e) for e in people.audit_log())
    dump = "\n".join(str(row) for table in ("audit_log", "login_clients", "users", "sessions")
                     for row in rows_of(people, f"SELECT * FROM {table}"))
    assert secret not in dump and OFFICE not in dump  # client addresses are keyed hashes too
    assert people.masked_name(secret) != Store(db_url, password_hasher=FAST_HASHER).masked_name(secret + "x")


# -- password policy ---------------------------------------------------------------------------
@pytest.mark.parametrize("password, user, problem", [
    ("short-pw1", "kim", "a password must be at least 10 characters; got 9 characters"),
    ("qwertyuiop", "kim", "this password is one of the most common passwords"),
    ("Password1234", "kim", "this password is one of the most common passwords"),
    ("1234567890", "kim", "this password is one of the most common passwords"),
    ("my-Officer-park-2026", "park", "a password must not contain the user name"),
])
def test_password_policy_refuses_short_common_and_own_name(store, password, user, problem):
    message = f"{problem}; {PASSWORD_RULE}"
    assert PASSWORD_RULE == ("the rule: at least 10 characters, not one of the common passwords on our list, and not "
                             "containing the user name")
    with pytest.raises(ConfigError, match=exact(message)):
        store.add_user(user, "officer", password=password)
    with pytest.raises(ConfigError, match=exact(message)):
        check_password(password, user)
    assert store.list_users() == []
    assert check_password("quiet river stone 7", user) == "quiet river stone 7"


def test_the_rule_is_explained_in_both_languages():
    from cb_core.i18n import t

    assert "10" in t("password_rule", "ko") and "10" in t("password_rule", "en")
    assert t("password_rule", "en").startswith("At least 10 characters")


# -- sessions bound to their browser -----------------------------------------------------------
def test_a_token_replayed_from_another_user_agent_is_refused(people):
    firefox, curl = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/8.5.0"
    token = people.start_session("oh", now=T0, user_agent=firefox)
    assert people.session_user(token, now=T0, user_agent=curl) is None
    assert people.session_user(token, now=T0 + timedelta(minutes=2), user_agent=curl) is None
    assert people.session_user(token, now=T0, user_agent=None) is None
    assert people.session_user(token, now=T0 + timedelta(minutes=3), user_agent=firefox).name == "oh"  # still valid
    [(stored,)] = rows_of(people, "SELECT user_agent_sha256 FROM sessions")
    assert len(stored) == 64 and "Firefox" not in stored


# -- the database file: private, and never lost silently ---------------------------------------
def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_file_wal_and_secret_are_private(tmp_path):
    path = tmp_path / "cb.sqlite"
    before = os.umask(0o022)  # the usual umask: SQLite alone would make the files 0644
    try:
        store = Store(f"sqlite:///{path}", password_hasher=FAST_HASHER)
    finally:
        os.umask(before)
    with store:
        store.add_user("kim", "pm", password=PASSWORD)
        with pytest.raises(AuthError):
            store.authenticate("nobody", "wrong password", client=OFFICE)
        for name in ("cb.sqlite", "cb.sqlite-wal", "cb.sqlite-shm", "store.key", "cb.sqlite.existed"):
            assert _mode(tmp_path / name) == 0o600, name


def test_deleting_the_database_file_while_running_stops_every_write(tmp_path):
    path = tmp_path / "cb.sqlite"
    store = Store(f"sqlite:///{path}", password_hasher=FAST_HASHER)
    store.add_user("oh", "officer", password=PASSWORD)
    store.close()  # a live connection pool would keep the deleted inode: the check must not rely on it
    for name in ("cb.sqlite", "cb.sqlite-wal", "cb.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with pytest.raises(DatabaseDamagedError) as caught:
        decide(store, user="oh")
    assert caught.value.key == "store_vanished" and str(tmp_path) not in str(caught.value)
    assert str(caught.value).startswith("the database file was deleted or replaced while the app was running")
    with pytest.raises(DatabaseDamagedError):
        store.list_users()
    assert not path.exists()  # nothing was written to a new file either


def test_replacing_the_database_file_while_running_is_noticed(tmp_path):
    path = tmp_path / "cb.sqlite"
    with Store(f"sqlite:///{path}", password_hasher=FAST_HASHER) as store:
        store.add_user("oh", "officer", password=PASSWORD)
        other = tmp_path / "other.sqlite"
        Store(f"sqlite:///{other}").close()
        os.replace(other, path)
        with pytest.raises(StoreUnavailableError, match="deleted or replaced"):
            store.add_user("kim", "pm", password=PASSWORD)


def test_an_empty_database_where_one_existed_is_refused_until_confirmed(tmp_path):
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    with Store(url, password_hasher=FAST_HASHER) as store:
        store.add_user("oh", "officer", password=PASSWORD)
    for name in ("cb.sqlite", "cb.sqlite-wal", "cb.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    for _ in range(2):  # refused every time, and nothing is created meanwhile
        with pytest.raises(DatabaseDamagedError) as caught:
            Store(url)
        assert caught.value.key == "store_empty" and "db init --confirm-empty" in str(caught.value)
    assert not (tmp_path / "cb.sqlite").exists()
    (tmp_path / "cb.sqlite").write_bytes(b"")  # an empty file: the same
    with pytest.raises(DatabaseDamagedError, match="^the database is empty, but a database"):
        Store(url)
    with Store(url, confirm_empty=True, password_hasher=FAST_HASHER) as store:
        assert store.list_users() == []
        assert store.ensure_first_admin() is not None
    with Store(url) as store:  # confirmed once: an ordinary store again
        assert [u.name for u in store.list_users()] == ["admin"]


def test_a_corrupted_database_file_gives_a_clear_error_without_paths(tmp_path):
    path = tmp_path / "cb.sqlite"
    path.write_bytes(b"this is not a database, " * 200)
    with pytest.raises(DatabaseDamagedError) as caught:
        Store(f"sqlite:///{path}")
    assert caught.value.key == "store_corrupt" and caught.value.__cause__ is None
    assert str(caught.value).startswith("the database file is damaged (not a readable database); nothing was saved")
    assert str(tmp_path) not in str(caught.value) and "sqlite" not in str(caught.value).split("python -m")[0]


def test_backup_while_running_and_restore(tmp_path):
    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    with Store(url, password_hasher=FAST_HASHER) as store:
        store.add_user("oh", "officer", password=PASSWORD)
        first = decide(store, user="oh", policy_name=None, policy_version=None)
        target = store.backup(tmp_path / "backups" / "cb-1.sqlite")
        assert _mode(target) == 0o600 and store.integrity_check() == []
        with pytest.raises(ConfigError, match="exists already"):
            store.backup(target)
        decide(store, "M002", user="oh", policy_name=None, policy_version=None)
        assert store.restore(target) == "0005"
        assert [d.id for d in store.list_decisions()] == [first.id]  # the running store sees the backup
        (tmp_path / "junk.sqlite").write_bytes(b"junk" * 100)
        with pytest.raises(DataSourceError, match="junk.sqlite: not a readable SQLite database"):
            store.restore(tmp_path / "junk.sqlite")
        assert [d.id for d in store.list_decisions()] == [first.id]  # a refused restore changes nothing


@pytest.mark.postgres
def test_backup_and_restore_on_postgresql_point_to_pg_dump():
    from tests.support.pg import fresh_postgres_database

    with fresh_postgres_database() as url, Store(url, password_hasher=FAST_HASHER) as store:
        with pytest.raises(ConfigError, match="pg_dump -Fc -f FILE DBNAME"):
            store.backup("/tmp/never-written.dump")
        with pytest.raises(ConfigError, match="pg_restore --clean -d DBNAME FILE"):
            store.restore("/tmp/never-read.dump")
        assert store.integrity_check() == []


# -- merchants' requests -----------------------------------------------------------------------
def test_requests_for_merchants_not_in_the_book_are_refused(people, small_book):
    from cb_core.workspace import merchant_ids

    known = merchant_ids(small_book)
    real = small_book.merchants["merchant_id"].iloc[0]
    for bad in ("=1+1", "M-does-not-exist", str(len(small_book.merchants) + 10)):
        with pytest.raises(ConfigError, match=exact(f"no merchant with id {bad!r} in the book in use; check the id")):
            people.open_request(bad, "explanation", "why?", "oh", known_merchants=known)
    assert people.list_requests() == []
    assert people.open_request(real, "explanation", "why?", "oh", known_merchants=known).merchant_id == real


# -- one-time tickets for an HttpOnly cookie ----------------------------------------------------
def test_a_login_ticket_gives_one_session_once_within_a_minute_to_the_same_browser(people):
    firefox, other = "Mozilla/5.0 Firefox/128.0", "Mozilla/5.0 Chrome/131.0"
    ticket = people.issue_login_ticket("oh", now=T0, user_agent=firefox)
    token = people.redeem_login_ticket(ticket, now=T0 + timedelta(seconds=5), user_agent=firefox)
    assert token and token != ticket
    assert people.session_user(token, now=T0 + timedelta(seconds=6), user_agent=firefox).name == "oh"
    assert people.session_user(token, now=T0 + timedelta(seconds=6), user_agent=other) is None
    assert people.redeem_login_ticket(ticket, now=T0 + timedelta(seconds=7), user_agent=firefox) is None  # once
    late = people.issue_login_ticket("oh", now=T0, user_agent=firefox)
    assert people.redeem_login_ticket(late, now=T0 + timedelta(seconds=60), user_agent=firefox) is None
    stolen = people.issue_login_ticket("oh", now=T0, user_agent=firefox)
    assert people.redeem_login_ticket(stolen, now=T0, user_agent=other) is None
    assert people.redeem_login_ticket(stolen, now=T0, user_agent=firefox) is None  # used up by the failed try
    assert people.redeem_login_ticket("made-up", now=T0) is None and people.redeem_login_ticket(None) is None
    disabled = people.issue_login_ticket("oh", now=T0)
    people.disable_user("oh")
    assert people.redeem_login_ticket(disabled, now=T0) is None
    tickets = "".join(str(r) for r in rows_of(people, "SELECT * FROM login_tickets"))
    assert ticket not in tickets and token not in tickets
