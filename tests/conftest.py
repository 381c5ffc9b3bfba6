"""Shared fixtures: small seeded books and an isolated state folder for app tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.serve import streamlit_server as serve_app
from tests.support.app import CHROMIUM, CHROMIUM_ARGS, PASSWORD, USERS
from tests.support.pg import db_url, pg_cluster  # noqa: F401  (store fixtures: SQLite + PostgreSQL)


@pytest.fixture(scope="session")
def small_book():
    """A 1,500-merchant x 24-month demo book with its booked loans, as the app's first start builds it
    (seeded; built once per test session)."""
    from cb_core.loans import with_demo_loans
    from cb_core.synth.generate import generate_book

    return with_demo_loans(generate_book(1_500, 24, seed=11), seed=11)


#: (app_state's folder, CB_STATE_DIR before app_state set it), once app_state exists.
APP_STATE_ENV = pytest.StashKey[tuple[str, "str | None"]]()


@pytest.fixture(scope="session")
def app_state(tmp_path_factory, small_book, pytestconfig):
    """A state folder holding the small book as the current one; CB_STATE_DIR points at it for the
    tests that use this fixture (directly or through another one), and only for them."""
    from cb_core.data.sources import save_current

    state = tmp_path_factory.mktemp("state")
    save_current(small_book, state)
    pytestconfig.stash[APP_STATE_ENV] = (str(state), os.environ.get("CB_STATE_DIR"))
    with pytest.MonkeyPatch.context() as mp:  # the value before is back when the session ends
        mp.setenv("CB_STATE_DIR", str(state))
        yield state


@pytest.fixture(autouse=True)
def _app_state_env_only_where_used(request, monkeypatch):
    """app_state is built once a session, so its CB_STATE_DIR stays set from the first test that uses
    it to the end; a test that does not use it gets the value from before (usually none), as it would
    alone or earlier in the run: otherwise it could pass or fail by test order."""
    if APP_STATE_ENV not in request.config.stash or "app_state" in request.fixturenames:
        return
    mine, before = request.config.stash[APP_STATE_ENV]
    if os.environ.get("CB_STATE_DIR") == mine:
        if before is None:
            monkeypatch.delenv("CB_STATE_DIR")
        else:
            monkeypatch.setenv("CB_STATE_DIR", before)


@pytest.fixture(scope="session")
def streamlit_server(app_state_with_model, app_users):
    """A real ``streamlit run app.py`` on 127.0.0.1 over the small book (bench/serve.py, which the
    benchmarks start it with too); yields its base URL. No background warm-up (``CB_WARM_UP=0``): it
    would compete with the tests for the CPU; the pages compute what they need on their visits."""
    with serve_app(app_state_with_model, warm=False) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright. Skips only when not required (CB_REQUIRE_BROWSER unset)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing but browser tests are required (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # reruns of a loaded machine can take seconds

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    from tests.support.app import browser_page

    with browser_page(chromium) as pg:
        yield pg


@pytest.fixture(scope="session")
def trained(small_book):
    """(model, report) trained on the small book with the production pipeline."""
    from cb_core.model.report import train_with_report

    return train_with_report(small_book)


@pytest.fixture(scope="session")
def app_state_with_model(app_state, trained):
    """The app state folder with the small book and its model installed."""
    from cb_core.config import get_settings
    from cb_core.workspace import install_model

    install_model(*trained, settings=get_settings(state_dir=str(app_state)))
    return app_state


@pytest.fixture(scope="session")
def app_users(app_state_with_model):
    """The app state's store with one user per role (password PASSWORD)."""
    from cb_core.config import get_settings
    from cb_core.store import Store, default_url

    store = Store(default_url(get_settings(state_dir=str(app_state_with_model))))
    for name, (role, partner) in USERS.items():
        if store.get_user(name) is None:
            store.add_user(name, role, partner=partner, password=PASSWORD)
    yield store
    store.close()


@pytest.fixture
def own_store(app_state_with_model, tmp_path, monkeypatch):
    """An app database of this test alone (``CB_DATABASE_URL``) with the test users: its audit log
    and records hold only what the test did."""
    from argon2 import PasswordHasher

    from cb_core.store import Store

    url = f"sqlite:///{tmp_path / 'cb.sqlite'}"
    monkeypatch.setenv("CB_DATABASE_URL", url)
    store = Store(url, password_hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    for name, (role, partner) in USERS.items():
        store.add_user(name, role, partner=partner, password=PASSWORD)
    yield store
    store.close()


@pytest.fixture(scope="session")
def scored(small_book, trained):
    """The small book's snapshot with the model's score, grade and PD (computed here, not by the app)."""
    from cb_core.features import current_snapshot

    snap = current_snapshot(small_book)
    return snap.join(trained[0].score(snap))
