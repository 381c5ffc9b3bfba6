"""The store under real concurrency and outages, on SQLite and PostgreSQL.

Every thread opens its own :class:`Store` (its own engine and connections), as separate app
processes would: the guarantees must come from the database, not from shared Python objects.
"""
from __future__ import annotations

import re
import socket
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from cb_core.store._gateway import head_revision
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from cb_core.errors import ConflictError, StoreUnavailableError
from cb_core.store import Store, policies
from tests.support.pg import db_url, fresh_postgres_database, pg_cluster  # noqa: F401  (fixtures)

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
ROUNDS = 12
WRITERS, DECISIONS_EACH = 8, 500


def _open(url: str) -> Store:
    return Store(url, password_hasher=FAST_HASHER)


def _scalar_rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def test_stores_opening_a_fresh_database_at_once_migrate_it_once(db_url):
    start = threading.Barrier(4)

    def open_store(_: int) -> str:
        start.wait()
        store = _open(db_url)
        store.close()
        return store.revision

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_store, range(4))) == [head_revision()] * 4
    assert _scalar_rows(db_url, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_two_users_publishing_from_the_same_base_exactly_one_wins(db_url):
    setup = _open(db_url)
    for name in ("kim", "lee"):
        setup.add_user(name, "pm", password="pw-" + "x7" * 6)
    setup.publish("main", setup.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    stores = {"kim": _open(db_url), "lee": _open(db_url)}
    wins, overlapped = {"kim": 0, "lee": 0}, 0
    try:
        for round_ in range(ROUNDS):
            base = round_ + 1
            drafts = {name: store.save_draft("main", {"approve": 600 + base, "by": name}, name, base_version=base)
                      for name, store in stores.items()}
            start = threading.Barrier(2)

            def publish(name: str):
                start.wait()
                began = time.perf_counter()
                try:
                    result = stores[name].publish("main", drafts[name].id, name, expected_base_version=base)
                except ConflictError as exc:
                    result = exc
                return result, (began, time.perf_counter())

            with ThreadPoolExecutor(2) as pool:
                timed = dict(zip(stores, pool.map(publish, stores)))
            outcome = {name: result for name, (result, _) in timed.items()}
            winners = [n for n, o in outcome.items() if not isinstance(o, Exception)]
            assert len(winners) == 1, outcome
            [winner], [loser] = winners, [n for n in stores if n not in winners]
            wins[winner] += 1
            # Both calls were in flight at the same moment (the loser began before the winner returned).
            overlapped += timed[loser][1][0] < timed[winner][1][1]
            assert (outcome[winner].version, outcome[winner].payload["by"]) == (base + 1, winner)
            assert isinstance(outcome[loser], ConflictError)
            assert str(outcome[loser]) == (
                f"policy 'main' was published as version {base + 1} by {winner} while you edited version {base}; "
                f"your draft is kept — review the changes and publish again")
            kept = setup.draft_for("main", loser)
            assert (kept.id, kept.status, kept.payload) == (drafts[loser].id, "draft", drafts[loser].payload)
        history = setup.policy_history("main")
        assert [v.version for v in history] == list(range(1, ROUNDS + 2))
        assert len(setup.audit_log({"action": "policy.publish"})) == ROUNDS + 1
        assert overlapped >= ROUNDS // 4, f"only {overlapped} of {ROUNDS} publishes overlapped in time"
        print(f"\n[{setup.dialect}] concurrent publish: {ROUNDS} races, wins {wins}, {overlapped} overlapped")
    finally:
        for store in (setup, *stores.values()):
            store.close()


def test_a_race_past_the_lock_is_still_a_conflict(db_url, monkeypatch):
    """The unique version number is the last line of defence: a publisher that read a stale
    "latest version" (as if the lock were missing) still gets a ConflictError, not a crash."""
    store = _open(db_url)
    for name in ("kim", "lee"):
        store.add_user(name, "pm", password="pw-" + "x7" * 6)
    store.publish("main", store.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    lees = store.save_draft("main", {"approve": 590}, "lee")
    stale = store.policy_version("main", 1)
    store.publish("main", store.save_draft("main", {"approve": 610}, "kim").id, "kim", 1)
    real_latest, calls = policies._latest, []

    def latest_reading_stale_once(session, policy):
        calls.append(1)
        row = real_latest(session, policy)
        return session.get(type(row), stale.id) if len(calls) == 1 else row

    monkeypatch.setattr(policies, "_latest", latest_reading_stale_once)
    with pytest.raises(ConflictError, match="^policy 'main' was published as version 2 by kim while you edited "
                                            "version 1; your draft is kept"):
        store.publish("main", lees.id, "lee", expected_base_version=1)
    monkeypatch.undo()
    assert store.draft_for("main", "lee").payload == {"approve": 590}
    assert [v.version for v in store.policy_history("main")] == [1, 2]
    store.close()


def test_eight_concurrent_writers_lose_no_decision(db_url):
    setup = _open(db_url)
    for w in range(WRITERS):
        setup.add_user(f"officer{w}", "officer", password="pw-officer-long")
    setup.publish("main", setup.save_draft("main", {"approve": 600}, "officer0").id, "officer0", None)
    stores = [_open(db_url) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def write(w: int) -> list[int]:
        start.wait()
        return [stores[w].save_decision(f"M{w}-{i:04d}", ("approve", "refer", "decline")[i % 3], f"note {i}",
                                        f"officer{w}", 500 + i % 400, 1 + i % 10, (i % 100) / 100,
                                        [{"feature": "gmv_trend", "points": -i % 7}], "main", 1, "m-1").id
                for i in range(DECISIONS_EACH)]

    began = time.perf_counter()
    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            ids_by_writer = list(pool.map(write, range(WRITERS)))
        seconds = time.perf_counter() - began
        ids = [i for ids in ids_by_writer for i in ids]
        total = WRITERS * DECISIONS_EACH
        assert len(ids) == len(set(ids)) == total
        stored = _scalar_rows(db_url, "SELECT id, user_name, merchant_id FROM decisions")
        assert len(stored) == total and {r[0] for r in stored} == set(ids)
        per_writer = {}
        for _, user, merchant in stored:
            per_writer.setdefault(user, set()).add(merchant)
        assert per_writer == {f"officer{w}": {f"M{w}-{i:04d}" for i in range(DECISIONS_EACH)}
                              for w in range(WRITERS)}
        audited = _scalar_rows(db_url, "SELECT entity_id FROM audit_log WHERE action = 'decision.save'")
        assert sorted(int(r[0]) for r in audited) == sorted(ids)
        print(f"\n[{setup.dialect}] {WRITERS} writers x {DECISIONS_EACH} decisions: {total} saved in "
              f"{seconds:.1f} s ({total / seconds:.0f}/s)")
    finally:
        for store in (setup, *stores):
            store.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_unreachable_database_gives_a_clear_error_without_the_password():
    port = _closed_port()
    url = f"postgresql+psycopg://cb_app:Sup3r-s3cret@127.0.0.1:{port}/cb"
    with pytest.raises(StoreUnavailableError, match=(
            rf"^the database at postgresql\+psycopg://cb_app:\*\*\*@127\.0\.0\.1:{port}/cb cannot be reached: "
            rf"connection failed: .*port {port} failed: Connection refused; nothing was saved$")) as info:
        Store(url)
    shown = "".join(traceback.format_exception(info.value))
    assert "Sup3r-s3cret" not in shown and "Traceback" in shown
    assert "psycopg" not in shown.replace("postgresql+psycopg", "")  # no chained driver traceback
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_unreachable_sqlite_file_gives_the_same_clear_error(tmp_path):
    path = tmp_path / "no such folder" / "cb.sqlite"
    with pytest.raises(StoreUnavailableError, match=re.escape(
            f"the database at sqlite:///{path} cannot be reached: unable to open database file; nothing was saved")):
        Store(f"sqlite:///{path}")


@pytest.mark.postgres
def test_store_recovers_by_itself_after_postgres_restarts(pg_cluster):
    with fresh_postgres_database() as url:
        store = _open(url)
        store.add_user("oh", "officer", password="pw-officer-long")

        def decide(note: str):
            return store.save_decision("M001", "refer", note, "oh", 580, 6, 0.08, [], None, None, "m-1")

        first = decide("before the outage")
        down = rf"^the database at {re.escape(store.url)} cannot be reached: .+; nothing was saved$"
        try:
            pg_cluster.stop()
            with pytest.raises(StoreUnavailableError, match=down):
                decide("during the outage")
            with pytest.raises(StoreUnavailableError, match=down):
                store.list_decisions()
            with pytest.raises(StoreUnavailableError, match=down):
                Store(url)
        finally:
            pg_cluster.start()
        second = decide("after the outage")  # same Store object: pre-ping replaces the dead connections
        assert [(d.id, d.note) for d in store.decisions_for("M001")] == [
            (first.id, "before the outage"), (second.id, "after the outage")]
        assert len(store.audit_log({"action": "decision.save"})) == 2
        store.close()
