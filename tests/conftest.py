"""Shared fixtures: small seeded books and an isolated state folder for app tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def small_book():
    """A 1,500-merchant x 24-month demo book (seeded; built once per test session)."""
    from cb_core.synth import generate_book

    return generate_book(1_500, 24, seed=11)


@pytest.fixture(scope="session")
def app_state(tmp_path_factory, small_book):
    """A state folder holding the small book as the current one; CB_STATE_DIR points at it."""
    from cb_core.sources import save_current

    state = tmp_path_factory.mktemp("state")
    save_current(small_book, state)
    old = os.environ.get("CB_STATE_DIR")
    os.environ["CB_STATE_DIR"] = str(state)
    yield state
    if old is None:
        os.environ.pop("CB_STATE_DIR", None)
    else:
        os.environ["CB_STATE_DIR"] = old
