"""The versioned product catalog in the store, on SQLite and PostgreSQL (``db_url``)."""
from __future__ import annotations

import copy
import json
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cb_core.errors import AuthError, ConfigError, ConflictError, SchemaError
from cb_core.offers import PRODUCTS_FILE, load_products, products_to_records
from cb_core.store import Store

PASSWORD = "correct horse battery staple"
FAST_HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)  # logins are not under test here


@pytest.fixture
def store(db_url):
    s = Store(db_url, password_hasher=FAST_HASH)
    for name in ("kim", "park"):
        s.add_user(name, "pm", password=PASSWORD)
    yield s
    s.close()


@pytest.fixture
def shipped():
    return json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))


def test_first_save_is_version_one_in_canonical_form_and_audited(store, shipped):
    assert store.revision == "0005"
    assert store.current_products() is None and store.product_history() == []
    edited = copy.deepcopy(shipped)
    edited[0]["min_score"] = "620"  # numeric text is read as a number and stored as one
    assert store.save_products(edited, "kim", expected_version=None) == 1
    version, catalog = store.current_products()
    expected = products_to_records(load_products())
    expected[0]["min_score"] = 620
    assert version == 1 and catalog == expected
    [entry] = store.audit_log({"action": "products.save"})
    assert (entry.user, entry.entity, entry.entity_id, entry.before) == ("kim", "product_catalog", "1", None)
    assert entry.after["version"] == 1 and entry.after["catalog"] == expected
    [saved] = store.product_history()
    assert (saved.version, saved.created_by, saved.product_ids[0]) == (1, "kim", "BANK-01")
    assert saved.created_at.tzinfo is not None


def test_next_version_needs_the_newest_as_its_base(store, shipped):
    store.save_products(shipped, "kim", None)
    shipped[2]["limit_cap_krw"] = 25_000_000
    assert store.save_products(shipped, "park", expected_version=1) == 2
    stale = copy.deepcopy(shipped)
    stale[3]["broker_fee_pct"] = 3.0
    with pytest.raises(ConflictError, match=r"saved as version 2 by park at .* while you edited version 1; "
                                            r"nothing was saved"):
        store.save_products(stale, "kim", expected_version=1)
    with pytest.raises(ConflictError, match="while you edited the shipped catalog"):
        store.save_products(stale, "kim", expected_version=None)
    assert store.current_products()[0] == 2
    assert [v.version for v in store.product_history()] == [1, 2]
    entry = store.audit_log({"action": "products.save"})[0]
    assert entry.before["version"] == 1
    assert entry.after["changes"] == {"added": [], "removed": [], "changed": ["CAP-01"]}
    with pytest.raises(ConfigError, match="the catalog is the same as version 2; nothing was saved"):
        store.save_products(shipped, "kim", expected_version=2)
    with pytest.raises(ConfigError, match="expected_version must be a catalog version .* got 0"):
        store.save_products(shipped, "kim", expected_version=0)


def test_a_race_past_the_check_is_still_a_conflict(store, shipped, monkeypatch):
    """The unique version number is the last line of defence: a save that read a stale "latest
    version" (as if the lock were missing) still gets a ConflictError naming the winner."""
    from cb_core.store import products

    store.save_products(shipped, "kim", None)
    shipped[2]["limit_cap_krw"] = 25_000_000
    store.save_products(shipped, "park", expected_version=1)
    real_latest, calls = products._latest_products, []

    def latest_reading_stale_once(session):
        calls.append(1)
        row = real_latest(session)
        return session.get(type(row), 1) if len(calls) == 1 else row  # row id 1 holds version 1

    monkeypatch.setattr(products, "_latest_products", latest_reading_stale_once)
    stale = copy.deepcopy(shipped)
    stale[3]["broker_fee_pct"] = 3.0
    with pytest.raises(ConflictError, match=r"saved as version 2 by park at .* while you edited version 1; "
                                            r"nothing was saved"):
        store.save_products(stale, "kim", expected_version=1)
    monkeypatch.undo()
    assert len(calls) == 2  # the stale read passed the check; the conflict was read afresh
    assert [v.version for v in store.product_history()] == [1, 2]
    assert len(store.audit_log({"action": "products.save"})) == 2


def test_a_bad_catalog_names_product_and_field_and_saves_nothing(store, shipped):
    shipped[0]["limit_cap_krw"] = -1
    del shipped[4]["apr_by_grade"]["3"]
    with pytest.raises(SchemaError) as err:
        store.save_products(shipped, "kim", None)
    rules = [p.rule for p in err.value.problems]
    assert any(r.startswith("product BANK-01: limit_cap_krw") for r in rules)
    assert any(r.startswith("product SAV-01: apr_by_grade has no APR for grade 3") for r in rules)
    assert store.current_products() is None and store.audit_log({"action": "products.save"}) == []


def test_unknown_or_disabled_users_cannot_save(store, shipped):
    with pytest.raises(AuthError, match="no user named 'nobody'"):
        store.save_products(shipped, "nobody", None)
    store.disable_user("park")
    with pytest.raises(AuthError, match="user 'park' is disabled"):
        store.save_products(shipped, "park", None)
    assert store.current_products() is None


def test_the_audit_entry_and_the_version_commit_together(store, shipped, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit write failed")

    from cb_core.store import products

    monkeypatch.setattr(products, "write_audit", broken)
    with pytest.raises(RuntimeError, match="audit write failed"):
        store.save_products(shipped, "kim", None)
    monkeypatch.undo()
    assert store.current_products() is None  # the version was rolled back with the audit entry
    assert store.save_products(shipped, "kim", None) == 1


def test_saved_versions_cannot_be_changed_even_by_hand(store, shipped, db_url):
    store.save_products(shipped, "kim", None)
    engine = create_engine(db_url)
    try:
        for statement in ("UPDATE product_versions SET created_by = 'park'", "DELETE FROM product_versions"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    assert store.product_version(1).created_by == "kim" and store.product_version(2) is None


def test_concurrent_first_saves_one_wins_the_others_conflict(store, shipped, db_url):
    stores = [Store(db_url) for _ in range(4)]
    outcomes: list[object] = []
    barrier = threading.Barrier(len(stores))

    def save(s: Store, n: int) -> None:
        catalog = copy.deepcopy(shipped)
        catalog[0]["min_score"] = 600 + n
        barrier.wait()
        try:
            outcomes.append(s.save_products(catalog, "kim", None))
        except ConflictError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=save, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1]
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 3
    assert [v.version for v in store.product_history()] == [1]
