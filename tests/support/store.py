"""Shared fixtures and helpers of the store tests (SQLite and PostgreSQL via ``db_url``)."""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cb_core.store._gateway import head_revision
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cb_core.errors import AuthError, ConfigError, ConflictError, PolicyError, StoreUnavailableError
from cb_core.store import Store
from tests.support.pg import db_url  # noqa: F401  (fixture; conftest.py will import it for every test file)

ROOT = Path(__file__).resolve().parents[2]
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


def rows_of(store: Store, sql: str, **params):
    engine = create_engine(store._engine.url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).all()
    finally:
        engine.dispose()



def rows_write(store: Store, sql: str) -> None:
    engine = create_engine(store._engine.url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()



# -- decisions ---------------------------------------------------------------------------------
def decide(store: Store, merchant: str = "M001", decision: str = "approve", **changes):
    values = dict(merchant_id=merchant, decision=decision, note="steady sales", user="oh", score=655.0, grade=3,
                  pd=0.021, reason_codes=[{"feature": "return_rate", "points": -12.5}], policy_name="main",
                  policy_version=1, model_version="lgbm-2026-10")
    values.update(changes)
    return store.save_decision(**values)


@pytest.fixture
def with_policy(people):
    people.publish("main", people.save_draft("main", {"approve": 600}, "kim").id, "kim", None)
    return people
