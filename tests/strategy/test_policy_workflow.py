"""Segment rates for every slider move, the publication impact, and the store's drafts and notes
(issue #13)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cb_core.errors import PolicyError
from cb_core.strategy import publication_impact, segment_rates, segment_table, with_cutoffs
from tests.strategy.test_strategy import POLICY, hand_frame, random_frame
from tests.support.pg import db_url  # noqa: F401
from tests.support.store import FAST_HASHER, PASSWORD


def test_segment_rates_by_hand_equal_the_bootstrapped_table():
    hand = hand_frame()
    r = segment_rates(hand, POLICY, "thin_file").set_index("thin_file")
    assert r["n"].tolist() == [5, 3] and r["n_approved"].tolist() == [3, 1]
    assert r["approval_rate"].tolist() == pytest.approx([0.6, 1 / 3])
    assert r["expected_bad_rate"].tolist() == pytest.approx([0.03, 0.02])
    assert r["observed_bad_rate"].tolist() == pytest.approx([0.5, 0.0])
    cat = segment_rates(hand, POLICY, "category").set_index("category")
    assert math.isnan(cat.loc["digital", "expected_bad_rate"])
    frame = random_frame(3000, seed=3)
    for by in ("thin_file", "category", "tenure_lt_12m"):
        full = segment_table(frame, POLICY, by=by, n_boot=5)
        pd.testing.assert_frame_equal(segment_rates(frame, POLICY, by), full[segment_rates(frame, POLICY, by).columns],
                                      check_dtype=False)


def test_publication_impact_by_hand():
    hand = hand_frame()
    stricter = with_cutoffs(POLICY, 640, 550)  # m3 (620) and m4 (600) move from approve to refer
    impact = publication_impact(hand, stricter, POLICY)
    assert impact.n_changed == 2
    assert impact.table.loc["approval_rate"].tolist() == pytest.approx([0.5, 0.25, -0.25])
    assert impact.table.loc["expected_bad_rate", "draft"] == pytest.approx(0.015)  # m1, m2
    assert impact.to_dict()["n_changed"] == 2 and set(impact.to_dict()) == {
        "approval_rate", "expected_bad_rate", "expected_loss_krw", "profit_krw", "n_changed"}


@pytest.fixture
def store(db_url):  # noqa: F811
    from cb_core.store import Store

    s = Store(db_url, password_hasher=FAST_HASHER)
    for name in ("kim", "lee"):
        s.add_user(name, "pm", password=PASSWORD)
    yield s
    s.close()


def test_open_drafts_list_every_author_and_publish_stores_the_note(store):
    first = store.save_draft("default", {"approve_cutoff": 610, "refer_cutoff": 550}, "kim")
    v1 = store.publish("default", first.id, "kim", expected_base_version=None, note="first policy")
    assert (v1.version, v1.note) == (1, "first policy")
    assert store.published_policy("default").note == "first policy"
    store.save_draft("default", {"approve_cutoff": 620, "refer_cutoff": 550}, "kim", base_version=1)
    store.save_draft("default", {"approve_cutoff": 630, "refer_cutoff": 560}, "lee")
    drafts = store.open_drafts("default")
    assert [(d.created_by, d.payload["approve_cutoff"], d.based_on_version) for d in drafts] == [
        ("lee", 630, 1), ("kim", 620, 1)]
    with pytest.raises(PolicyError, match="a publication note is required"):
        store.publish("default", drafts[0].id, "lee", expected_base_version=1, note="   ")
    assert store.published_policy("default").version == 1 and len(store.open_drafts("default")) == 2
    audit = [e for e in store.audit_log({"action": "policy.publish"})]
    assert audit and audit[-1].after["note"] == "first policy"


def test_published_versions_stay_immutable_with_the_note_column(store):
    from sqlalchemy import text

    draft = store.save_draft("default", {"approve_cutoff": 610, "refer_cutoff": 550}, "kim")
    store.publish("default", draft.id, "kim", expected_base_version=None, note="why")
    with pytest.raises(Exception, match="immutable"):
        with store._engine.begin() as conn:
            conn.execute(text("UPDATE policy_versions SET note = 'changed' WHERE status = 'published'"))
    assert store.published_policy("default").note == "why"
