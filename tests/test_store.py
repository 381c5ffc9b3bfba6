"""The store on SQLite and PostgreSQL: schema, users and logins, sessions, policies, decisions,
the append-only audit log and merchants' requests."""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cb_core.store_gateway import head_revision
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cb_core.errors import AuthError, ConfigError, ConflictError, PolicyError, StoreUnavailableError
from cb_core.store import Store
from tests.pg import db_url  # noqa: F401  (fixture; conftest.py will import it for every test file)

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
# Cheap argon2id parameters keep the suite fast; the hash format is the same as in production.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
PASSWORD = "correct horse battery"


def exact(message: str) -> str:
    return f"^{re.escape(message)}$"


@pytest.fixture
def store(db_url):
    s = Store(db_url, password_hasher=FAST_HASHER)
    yield s
    s.close()


@pytest.fixture
def people(store):
    """kim and lee (product managers) and oh (credit officer), all with PASSWORD."""
    for name, role in (("kim", "pm"), ("lee", "pm"), ("oh", "officer")):
        store.add_user(name, role, password=PASSWORD)
    return store


def _rows(store: Store, sql: str, **params):
    engine = create_engine(store._url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()


# -- schema ------------------------------------------------------------------------------------
def test_fresh_database_is_migrated_to_head_and_matches_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cb_core.store_schema import Base

    first = Store(db_url)
    assert first.revision == head_revision() == "0002"
    again = Store(db_url)  # opening an up-to-date database changes nothing
    assert again.revision == head_revision()
    assert _rows(first, "SELECT version_num FROM alembic_version") == [("0002",)]
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
        hashes = dict(_rows(store, "SELECT name, password_hash FROM users"))
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
        [(upgraded,)] = _rows(store, "SELECT password_hash FROM users")
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
         "a password must be at least 8 characters; got 5 characters"),
        (("le e", "pm"), {}, ConfigError, "a user name must not contain spaces or control characters; got 'le e'"),
        (("", "pm"), {}, ConfigError, "user name must not be empty"),
    ]
    for args, kwargs, error, message in cases:
        with pytest.raises(error, match=exact(message)):
            store.add_user(*args, **kwargs)
    assert [u.name for u in store.list_users()] == ["kim"]


def test_lockout_after_five_failures_then_unlock_after_fifteen_minutes(people):
    store = people
    for minute in range(4):
        with pytest.raises(AuthError, match=exact("wrong user name or password")):
            store.authenticate("kim", "wrong password", now=T0 + timedelta(minutes=minute))
    assert store.get_user("kim").failed_logins == 4
    with pytest.raises(AuthError, match=exact("wrong user name or password; after 5 failed logins the account "
                                              "is locked for 15 minutes")):
        store.authenticate("kim", "wrong again", now=T0 + timedelta(minutes=4))
    locked_until = T0 + timedelta(minutes=19)
    assert store.get_user("kim").locked_until == locked_until
    # Locked: even the right password is refused until the period is over.
    for at in (T0 + timedelta(minutes=5), locked_until - timedelta(seconds=1)):
        with pytest.raises(AuthError, match=exact("account 'kim' is locked after 5 failed logins until "
                                                  "2026-06-15 09:19 UTC; try again later or ask an admin to "
                                                  "reset the password")):
            store.authenticate("kim", PASSWORD, now=at)
    user = store.authenticate("kim", PASSWORD, now=locked_until)
    assert user.name == "kim" and user.failed_logins == 0 and user.locked_until is None
    # Other accounts were never affected.
    assert store.authenticate("lee", PASSWORD, now=T0).name == "lee"
    reasons = [e.after["reason"] for e in reversed(store.audit_log({"user": "kim", "action": "login.failed"}))]
    assert reasons == ["wrong password"] * 4 + ["wrong password; locked", "locked", "locked"]
    assert len(store.audit_log({"user": "kim", "action": "login"})) == 1


def test_lockout_parameters_are_configurable(db_url):
    with Store(db_url, max_failed_logins=2, lockout_minutes=1, password_hasher=FAST_HASHER) as store:
        store.add_user("kim", "pm", password=PASSWORD)
        with pytest.raises(AuthError, match="^wrong user name or password$"):
            store.authenticate("kim", "nope nope", now=T0)
        with pytest.raises(AuthError, match="locked for 1 minute$"):
            store.authenticate("kim", "nope nope", now=T0)
        assert store.authenticate("kim", PASSWORD, now=T0 + timedelta(minutes=1)).name == "kim"


def test_unknown_user_reads_like_a_wrong_password_and_is_audited(people):
    with pytest.raises(AuthError, match=exact("wrong user name or password")):
        people.authenticate("mallory", PASSWORD, now=T0)
    [entry] = people.audit_log({"action": "login.failed"})
    assert (entry.user, entry.entity_id, entry.after, entry.at) == ("mallory", "mallory", {"reason": "unknown user"},
                                                                    T0)


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
    with pytest.raises(AuthError, match=exact("wrong user name or password")):
        people.authenticate("oh", PASSWORD, now=T0)
    assert people.authenticate("oh", new, now=T0).name == "oh"


def test_sessions_end_after_inactivity_and_on_logout(people):
    store = people
    token = store.start_session("oh", now=T0)
    assert _rows(store, "SELECT token_sha256 FROM sessions") == [(hashlib.sha256(token.encode()).hexdigest(),)]
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


# -- policies ----------------------------------------------------------------------------------
def test_draft_publish_and_history(people):
    store = people
    draft = store.save_draft("main", {"approve": 600, "refer": 560}, "kim")
    assert (draft.status, draft.version, draft.based_on_version) == ("draft", None, None)
    edited = store.save_draft("main", {"approve": 610, "refer": 560}, "kim")
    assert edited.id == draft.id and edited.payload == {"approve": 610, "refer": 560}
    assert store.published_policy("main") is None
    v1 = store.publish("main", draft.id, "kim", expected_base_version=None)
    assert (v1.version, v1.status, v1.published_by) == (1, "published", "kim")
    assert v1.payload == {"approve": 610, "refer": 560}
    assert store.draft_for("main", "kim") is None
    second = store.save_draft("main", {"approve": 620, "refer": 570}, "lee")
    assert second.based_on_version == 1 and second.id != draft.id
    v2 = store.publish("main", second.id, "lee", expected_base_version=1)
    assert (v2.version, v2.based_on_version, v2.created_by) == (2, 1, "lee")
    assert [(v.version, v.payload["approve"]) for v in store.policy_history("main")] == [(1, 610), (2, 620)]
    assert store.published_policy("main").version == 2
    assert store.policy_version("main", 1).payload == {"approve": 610, "refer": 560}
    assert store.list_policies() == ["main"]
    actions = [(e.action, e.user) for e in reversed(store.audit_log({"entity": "policy"}))]
    assert actions == [("policy.draft", "kim"), ("policy.draft", "kim"), ("policy.publish", "kim"),
                       ("policy.draft", "lee"), ("policy.publish", "lee")]
    publish_2 = store.audit_log({"action": "policy.publish", "user": "lee"})[0]
    assert publish_2.before == {"version": 1, "payload": {"approve": 610, "refer": 560}}
    assert publish_2.after["version"] == 2


def test_publishing_from_a_stale_base_is_a_conflict_and_keeps_the_draft(people):
    store = people
    store.publish("main", store.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    kims = store.save_draft("main", {"approve": 610}, "kim")
    lees = store.save_draft("main", {"approve": 590}, "lee")
    assert kims.based_on_version == lees.based_on_version == 1
    store.publish("main", kims.id, "kim", expected_base_version=1)
    with pytest.raises(ConflictError, match=exact(
            "policy 'main' was published as version 2 by kim while you edited version 1; your draft is kept — "
            "review the changes and publish again")):
        store.publish("main", lees.id, "lee", expected_base_version=1)
    kept = store.draft_for("main", "lee")
    assert (kept.id, kept.status, kept.payload, kept.version) == (lees.id, "draft", {"approve": 590}, None)
    assert store.published_policy("main").payload == {"approve": 610}
    assert store.publish("main", lees.id, "lee", expected_base_version=2).version == 3


def test_first_publication_race_names_the_winner(people):
    store = people
    kims = store.save_draft("new", {"approve": 600}, "kim")
    lees = store.save_draft("new", {"approve": 590}, "lee")
    store.publish("new", kims.id, "kim", None)
    with pytest.raises(ConflictError, match=exact(
            "policy 'new' was published as version 1 by kim while you edited a policy with no published version "
            "yet; your draft is kept — review the changes and publish again")):
        store.publish("new", lees.id, "lee", None)


def test_published_versions_are_immutable(people):
    store = people
    v1 = store.publish("main", store.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    with pytest.raises(PolicyError, match=exact(f"policy version id {v1.id} is published version 1, not a draft; "
                                                f"published versions cannot change")):
        store.publish("main", v1.id, "kim", 1)
    with pytest.raises(PolicyError, match="is published version 1, not a draft"):
        store.discard_draft(v1.id, "kim")
    # Saving again makes a new draft; version 1 is untouched.
    draft = store.save_draft("main", {"approve": 0}, "kim")
    assert draft.id != v1.id and store.policy_version("main", 1).payload == {"approve": 600}
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.version = 5
    # Even SQL typed by hand cannot change or remove it.
    for sql in ("UPDATE policy_versions SET payload = '{}' WHERE version = 1",
                "DELETE FROM policy_versions WHERE version = 1"):
        with pytest.raises(DBAPIError, match="published policy versions are immutable"):
            _rows_write(store, sql)
    store.discard_draft(draft.id, "kim")
    assert store.draft_for("main", "kim") is None
    assert [v.payload for v in store.policy_history("main", include_drafts=True)] == [{"approve": 600}]


def test_policy_input_is_checked(people):
    store = people
    with pytest.raises(PolicyError, match=exact("a policy payload must be a mapping of settings; got list")):
        store.save_draft("main", [600], "kim")
    with pytest.raises(PolicyError, match=exact("policy 'main' has no published version 3")):
        store.save_draft("main", {"approve": 600}, "kim", base_version=3)
    with pytest.raises(ConfigError, match=r"^policy payload must be JSON data .*NaN"):
        store.save_draft("main", {"approve": float("nan")}, "kim")
    with pytest.raises(AuthError, match=exact("no user named 'ghost'")):
        store.save_draft("main", {"approve": 600}, "ghost")
    draft = store.save_draft("main", {"approve": 600}, "kim")
    with pytest.raises(PolicyError, match=exact(f"draft {draft.id} belongs to 'kim', not 'lee'")):
        store.discard_draft(draft.id, "lee")
    with pytest.raises(PolicyError, match=exact("there is no policy named 'other'")):
        store.publish("other", draft.id, "kim", None)


def _rows_write(store: Store, sql: str) -> None:
    engine = create_engine(store._url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


# -- decisions ---------------------------------------------------------------------------------
def _decide(store: Store, merchant: str = "M001", decision: str = "approve", **changes):
    values = dict(merchant_id=merchant, decision=decision, note="steady sales", user="oh", score=655.0, grade=3,
                  pd=0.021, reason_codes=[{"feature": "return_rate", "points": -12.5}], policy_name="main",
                  policy_version=1, model_version="lgbm-2026-10")
    values.update(changes)
    return store.save_decision(**values)


@pytest.fixture
def with_policy(people):
    people.publish("main", people.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    return people


def test_decision_records_score_reasons_and_policy_at_that_moment(with_policy):
    store = with_policy
    d = _decide(store)
    assert (d.merchant_id, d.decision, d.user, d.score, d.grade, d.pd) == ("M001", "approve", "oh", 655.0, 3, 0.021)
    assert d.reason_codes == [{"feature": "return_rate", "points": -12.5}]
    assert (d.policy_name, d.policy_version, d.model_version, d.supersedes_id) == ("main", 1, "lgbm-2026-10", None)
    assert d.created_at.tzinfo == timezone.utc
    default = _decide(store, "M002", "refer", policy_name=None, policy_version=None)
    assert (default.policy_name, default.policy_version) == (None, None)
    assert store.decisions_for("M001") == [d]
    [entry] = store.audit_log({"entity": "decision", "entity_id": d.id})
    assert (entry.action, entry.user, entry.after["decision"], entry.after["policy_version"]) == (
        "decision.save", "oh", "approve", 1)


def test_decision_input_is_checked(with_policy):
    cases = [
        ({"score": 1200}, ConfigError, "score must be within 1–1000; got 1200"),
        ({"score": "high"}, ConfigError, "score must be a number; got str 'high'"),
        ({"grade": 11}, ConfigError, "grade must be a whole number within 1–10; got 11"),
        ({"pd": 1.5}, ConfigError, "pd must be within 0–1; got 1.5"),
        ({"decision": "maybe"}, ConfigError, "decision must be one of approve, refer, decline; got 'maybe'"),
        ({"merchant_id": " "}, ConfigError, "merchant_id must not be empty"),
        ({"reason_codes": "returns"}, ConfigError, "reason_codes must be a list; got str"),
        ({"policy_version": 7}, PolicyError, "policy 'main' has no published version 7"),
        ({"policy_version": None}, ConfigError, "policy_name and policy_version go together; got 'main' and None"),
        ({"user": "ghost"}, AuthError, "no user named 'ghost'"),
        ({"supersedes": 99}, ConfigError, "there is no decision 99 to supersede"),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=exact(message)):
            _decide(with_policy, **change)
    assert with_policy.list_decisions() == []
    assert with_policy.audit_log({"action": "decision.save"}) == []


def test_numpy_values_are_accepted_as_plain_numbers(with_policy):
    np = pytest.importorskip("numpy")
    d = _decide(with_policy, score=np.float64(640.4), grade=np.int64(4), pd=np.float32(0.03),
                reason_codes=[{"points": np.float64(-3.5), "pct": np.int64(80)}])
    assert (d.score, d.grade, d.reason_codes) == (640.4, 4, [{"points": -3.5, "pct": 80}])


def test_supersede_chain_never_edits_the_old_decision(with_policy):
    store = with_policy
    first = _decide(store, decision="approve")
    second = _decide(store, decision="refer", note="bureau score dropped", supersedes=first)
    third = _decide(store, decision="decline", note="fraud flag confirmed", supersedes=second.id)
    history = store.decisions_for("M001")
    assert [(d.id, d.decision, d.supersedes_id, d.superseded_by_id) for d in history] == [
        (first.id, "approve", None, second.id), (second.id, "refer", first.id, third.id),
        (third.id, "decline", second.id, None)]
    assert history[0].note == "steady sales" and history[0].is_current is False
    with pytest.raises(ConflictError, match=exact(f"decision {first.id} was already superseded by decision "
                                                  f"{second.id}; supersede that one instead")):
        _decide(store, decision="approve", supersedes=first.id)
    with pytest.raises(ConfigError, match=exact(f"decision {third.id} is about merchant 'M001', not 'M002'")):
        _decide(store, "M002", supersedes=third.id)
    assert [d.id for d in store.list_decisions({"current_only": True})] == [third.id]


def test_list_decisions_filters_and_limits(with_policy):
    store = with_policy
    made = [_decide(store, f"M{i % 3}", ("approve", "refer", "decline")[i % 3]) for i in range(9)]
    assert [d.id for d in store.list_decisions()] == [d.id for d in reversed(made)]
    assert [d.merchant_id for d in store.list_decisions({"merchant_id": "M1"})] == ["M1"] * 3
    assert len(store.list_decisions({"decision": "decline", "user": "oh", "policy_name": "main",
                                     "policy_version": 1})) == 3
    assert len(store.list_decisions(limit=4)) == 4
    assert store.list_decisions({"since": made[-1].created_at + timedelta(seconds=1)}) == []
    assert len(store.list_decisions({"until": made[-1].created_at})) == 9
    with pytest.raises(ConfigError, match=exact("unknown filter(s) colour; use merchant_id, user, decision, "
                                                "policy_name, policy_version, since, until, current_only")):
        store.list_decisions({"colour": "red"})
    with pytest.raises(ConfigError, match=exact("limit must be a whole number within 1–100000; got 0")):
        store.list_decisions(limit=0)


# -- append-only audit log and decisions --------------------------------------------------------
APPEND_ONLY = ("decision", "audit")
CHANGING_VERBS = re.compile(r"(update|edit|change|delete|remove|purge|erase|amend|replace|truncate|clear|set)")


def test_no_verb_updates_or_deletes_a_decision_or_an_audit_entry():
    verbs = [name for name, _ in inspect.getmembers(Store, callable) if not name.startswith("__")]
    offending = [v for v in verbs if CHANGING_VERBS.search(v) and any(word in v for word in APPEND_ONLY)]
    assert offending == []
    assert "update_request" in verbs  # the only update verb, and it is about requests
    sources = {p.name: p.read_text() for p in (ROOT / "cb_core").glob("store*.py")}
    assert set(sources) >= {"store.py", "store_gateway.py", "store_decisions.py", "store_schema.py"}
    forbidden = re.compile(r"(UPDATE\s+(decisions|audit_log)|DELETE\s+FROM\s+(decisions|audit_log)"
                           r"|TRUNCATE|(update|delete)\(\s*(DecisionRow|AuditRow))", re.IGNORECASE)
    assert {name: forbidden.findall(src) for name, src in sources.items() if forbidden.search(src)} == {}
    # The only session.delete in the store is of a policy draft.
    deletes = [(name, line.strip()) for name, src in sources.items() for line in src.splitlines()
               if re.search(r"\.delete\(|\.merge\(", line)]
    assert deletes == [("store_policies.py", "session.delete(draft)")]
    for record in ("Decision", "AuditEntry"):
        assert getattr(__import__("cb_core.store", fromlist=[record]), record).__dataclass_params__.frozen


def test_the_database_refuses_to_change_decisions_and_audit_entries(with_policy):
    _decide(with_policy)
    for table in ("decisions", "audit_log"):
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match=f"{table} is append-only: {sql.split()[0]} refused"):
                _rows_write(with_policy, sql)
    assert len(with_policy.list_decisions()) == 1


def test_audit_entry_commits_or_rolls_back_with_its_change(with_policy, monkeypatch):
    store = with_policy
    before = len(store.audit_log(limit=1000))
    real_audit = store._audit

    def audit_then_fail(*args, **kwargs):
        real_audit(*args, **kwargs)
        raise RuntimeError("disk full after the audit entry was written")

    monkeypatch.setattr(store, "_audit", audit_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        _decide(store)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_draft("main", {"approve": 1}, "lee")
    monkeypatch.undo()
    assert store.list_decisions() == [] and store.draft_for("main", "lee") is None
    assert len(store.audit_log(limit=1000)) == before
    # A change refused half-way (conflict) leaves no audit entry either.
    lees = store.save_draft("main", {"approve": 590}, "lee")
    store.publish("main", store.save_draft("main", {"approve": 610}, "kim").id, "kim", 1)
    publications = len(store.audit_log({"action": "policy.publish"}))
    with pytest.raises(ConflictError):
        store.publish("main", lees.id, "lee", 1)
    assert len(store.audit_log({"action": "policy.publish"})) == publications


def test_audit_verb_records_other_events_and_filters(people):
    store = people
    entry = store.audit("oh", "export", "book", "fp-123", None, {"rows": 120, "at": T0, "masked": True})
    assert (entry.user, entry.action, entry.entity, entry.entity_id) == ("oh", "export", "book", "fp-123")
    assert entry.after == {"rows": 120, "at": "2026-06-15T09:00:00+00:00", "masked": True}
    assert store.audit_log({"action": "export", "entity": "book"}) == [entry]
    assert store.audit_log({"since": entry.at, "user": "oh"}) == [entry]
    with pytest.raises(ConfigError, match=r"^audit after must be JSON data"):
        store.audit("oh", "export", "book", "x", None, {"bad": object()})
    with pytest.raises(ConfigError, match=exact("unknown filter(s) who; use user, action, entity, entity_id, "
                                                "since, until")):
        store.audit_log({"who": "oh"})


# -- merchants' requests -----------------------------------------------------------------------
def test_requests_are_due_in_thirty_days_and_flagged_when_overdue(people):
    store = people
    received = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
    request = store.open_request("M001", "explanation", "why was I declined?", "oh", received_at=received)
    assert (request.status, request.due_at) == ("open", datetime(2026, 2, 4, 10, 0, tzinfo=timezone.utc))
    other = store.open_request("M002", "correction", "returns are double counted", "oh")
    assert other.due_at - other.received_at == timedelta(days=30) and not other.overdue
    on_time = store.list_requests(now=request.due_at)
    assert [(r.id, r.overdue) for r in on_time] == [(request.id, False), (other.id, False)]
    late = request.due_at + timedelta(seconds=1)
    assert [(r.id, r.overdue) for r in store.list_requests(now=late)] == [(request.id, True), (other.id, False)]
    assert [r.id for r in store.list_requests(overdue_only=True, now=late)] == [request.id]
    store.update_request(request.id, "in_progress", None, "oh", now=late)
    done = store.update_request(request.id, "resolved", "Explanation letter with the three main reasons sent.",
                                "kim", now=late + timedelta(days=1))
    assert (done.status, done.resolved_by, done.overdue, done.resolved_late) == ("resolved", "kim", False, True)
    assert store.list_requests(overdue_only=True, now=late + timedelta(days=5)) == []
    assert [r.id for r in store.list_requests(status="open")] == [other.id]
    with pytest.raises(ConflictError, match=exact(f"request {request.id} is already resolved (by kim); "
                                                  f"open a new request instead")):
        store.update_request(request.id, "in_progress", None, "oh")
    with pytest.raises(ConfigError, match=exact("kind must be one of explanation, correction, recalculation, "
                                                "human_review; got 'complaint'")):
        store.open_request("M001", "complaint", "", "oh")
    with pytest.raises(ConfigError, match=exact(f"resolving request {other.id} needs a resolution saying what "
                                                f"was done")):
        store.update_request(other.id, "resolved", "  ", "oh")
    assert [e.action for e in reversed(store.audit_log({"entity": "request", "entity_id": request.id}))] == [
        "request.open", "request.update", "request.update"]


@pytest.mark.parametrize("stamp", ["OK", "Reviewed and approved. OK. Confirmed.", "ok ok ok ok ok ok ok ok ok ok",
                                   "확인 완료. 승인함. 이상없음.", "LGTM, agreed, done, fine, signed off"])
def test_a_human_review_needs_a_substantive_reason(with_policy, stamp):
    store = with_policy
    request = store.open_request("M001", "human_review", "I want a person to look at the decline", "oh")
    with pytest.raises(ConfigError, match=exact(
            "a human review must record a substantive reason: at least 20 characters beyond sign-off words such "
            f"as 'ok' or 'approved'; got {stamp!r}")):
        store.update_request(request.id, "resolved", stamp, "oh")
    assert store.list_requests()[0].status == "open"
    for reason in ("Returns spike in March was a one-off product recall; recalculated without it, now refer.",
                   "3월 반품 급증은 일회성 리콜 때문이며 이를 제외하고 재산정한 결과 보류로 변경함"):
        resolved = store.update_request(store.open_request("M001", "human_review", "", "oh").id, "resolved",
                                        reason, "oh")
        assert resolved.resolution == reason
