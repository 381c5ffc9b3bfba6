"""Many users at once (issue 8): 20 officers and 2 product managers in real browsers against one
``streamlit run app.py``, with the driver of the load bench (bench/load/) and small counts. Behaviour only: every
decision and audit entry exactly once, no traceback in any session, one chain of decisions per
merchant, the publish race settled by optimistic locking. Times are never asserted (the machine is
shared); the bench records them.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cb_core.i18n import t
from argon2 import PasswordHasher

from bench import load as driver
from cb_core.errors import ConflictError
from cb_core.store import Decision, Store
from tests.support.app import CHROMIUM

OFFICERS, PMS = 20, 2
SHARED_MERCHANTS = 8  # 20 officers' first decisions fall on 8 merchants: concurrent first decisions


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: the sync Playwright of the other browser tests keeps an
    event loop running in this thread for the whole session, and asyncio.run refuses to nest."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def crowd(tmp_path_factory, small_book, trained):
    """Its own state folder and SQLite store (small book, model, 20 officers, 2 PMs, an admin), a warmed-up
    server, then all 22 sessions at once: yields (driver module, users, run, verification)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but browser tests are required (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    state = tmp_path_factory.mktemp("load_state")
    driver.install_state(state, small_book, trained)
    url = driver.database_url(state, "sqlite")
    users = driver.create_users(url, OFFICERS, PMS)
    pool = driver.pick_merchants(small_book, SHARED_MERCHANTS + 1, seed=3)
    merchants = {u: [pool[i % SHARED_MERCHANTS]] for i, u in enumerate(users.officers)}
    since = datetime.now(timezone.utc)
    with driver.load_server(state, url) as server:
        warm = _run(driver.warm_up(server.url, users.rss, pool[-1]))
        assert warm.problems == []
        run = _run(driver.run_load(server.url, users, merchants, publish_rounds=1, run_id="t", timeout_s=150,
                                   deadline_s=420))
    yield driver, users, run, driver.verify(url, users, run, since, extra_sign_ins=warm.sign_ins)


@pytest.mark.browser
@pytest.mark.slow
def test_no_session_saw_a_traceback_or_an_unexpected_error(crowd):
    _, users, run, _ = crowd
    assert run.problems == []  # stException, st.error other than a conflict, an action that never rendered
    assert {s.user for s in run.sessions} == set(users.officers) | set(users.pms)
    assert all(s.sign_ins == 1 for s in run.sessions)


@pytest.mark.browser
@pytest.mark.slow
def test_every_decision_and_its_audit_entry_exactly_once(crowd):
    _, users, run, check = crowd
    assert check.problems == []
    c = check.counts
    assert c["decisions_attempted"] == OFFICERS == len(run.decisions)
    # each submitted decision was either saved (and shown with its id) or refused with the conflict message
    assert c["decisions_saved"] + c["decision_conflicts"] == OFFICERS
    assert c["decisions_stored"] == c["decision_audit_entries"] == c["decisions_saved"] >= SHARED_MERCHANTS
    assert c["merchants_with_forked_chains"] == 0  # one chain (one current decision) per merchant
    saved = [a for a in run.decisions if a.saved_id is not None]
    assert len({a.saved_id for a in saved}) == len(saved)
    assert all(a.radio_at_submit == a.decision for a in run.decisions)
    assert c["sign_ins"] == c["login_audit_entries"] == OFFICERS + PMS + 1  # + the warm-up session


@pytest.mark.browser
@pytest.mark.slow
def test_the_publish_race_has_one_winner_and_the_loser_publishes_after_reviewing(crowd):
    _, users, run, check = crowd
    race = [a for a in run.publishes if a.phase == "race"]
    retries = [a for a in run.publishes if a.phase == "retry"]
    assert sorted(a.user for a in race) == sorted(users.pms)
    winner, loser = sorted(race, key=lambda a: a.version is None)
    assert winner.version == 1 and loser.conflict, loser.message
    # the store's conflict, said in Korean on the page: who published which version
    assert t("err_policies_publish_conflict", "ko", published_by=winner.user, policy_name="default",
             version=1) in loser.message
    # the conflict showed the loser version 1, so publishing again goes through (it stayed refused before)
    assert [(a.user, a.version) for a in retries] == [(loser.user, 2)]
    c = check.counts
    assert (c["publish_presses"], c["publish_wins"], c["publish_conflicts"]) == (3, 2, 1)
    assert c["versions_stored"] == c["publish_audit_entries"] == 2
    assert c["draft_audit_entries"] == 3  # every press saves the draft first, the refused one too


FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def test_first_decisions_at_once_start_one_chain(db_url):
    """What the app now asks of the store (``require_current``): eight officers' first decisions on one
    merchant at the same moment, each from its own Store as separate server processes would: one is
    saved, seven get a ConflictError naming it; nothing else is stored or audited."""
    names = [f"officer{i}" for i in range(8)]
    with Store(db_url, password_hasher=FAST_HASHER) as setup:
        for name in names:
            setup.add_user(name, "officer", password="pw-officer-long")
    stores = [Store(db_url, password_hasher=FAST_HASHER) for _ in names]
    start = threading.Barrier(len(names))

    def decide(i: int) -> Decision | ConflictError:
        start.wait()
        try:
            return stores[i].save_decision("M0001", ("approve", "refer", "decline")[i % 3], f"note {i}", names[i],
                                           600, 5, 0.03, [], None, None, "m-1", require_current=True)
        except ConflictError as exc:
            return exc

    try:
        with ThreadPoolExecutor(len(names)) as pool:
            outcomes = list(pool.map(decide, range(len(names))))
        saved = [o for o in outcomes if isinstance(o, Decision)]
        refused = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(saved) == 1 and len(refused) == 7, outcomes
        winner = saved[0]
        assert all(str(e) == (f"merchant 'M0001' already has decision {winner.id} ({winner.decision}, by "
                              f"{winner.user}) recorded after you opened it; review it and decide again")
                   for e in refused)
        assert [d.id for d in stores[0].decisions_for("M0001")] == [winner.id]
        assert [a.entity_id for a in stores[0].audit_log({"action": "decision.save"})] == [str(winner.id)]
        # superseding the current decision is still allowed, and a second first decision is not
        later = stores[1].save_decision("M0001", "decline", "fraud flag", names[1], 600, 5, 0.03, [], None, None,
                                        "m-1", supersedes=winner.id, require_current=True)
        with pytest.raises(ConflictError, match=f"already has decision {later.id} "):
            stores[2].save_decision("M0001", "approve", "", names[2], 600, 5, 0.03, [], None, None, "m-1",
                                    require_current=True)
    finally:
        for store in stores:
            store.close()
