"""AppTest: every page follows the policy in force — the settings' 590 until a policy is published,
then the published 620 (Merchant review, the decision form, the explanation record, Portfolio).

Each test has its own app database (``CB_DATABASE_URL`` in ``tmp_path``): what it publishes never
reaches other tests. The merchant is one whose score lies in [590, 620), so its decision flips.
"""
from __future__ import annotations

import json

import pytest

from cb_core.i18n import format_krw
from ui.explanation_panel import EXPLANATION_OPEN
from tests.support.app import app_as

SETTINGS_CUTOFF, PUBLISHED_CUTOFF = 590, 620


@pytest.fixture(scope="module")
def frame(small_book, trained):
    """The strategy frame of the small book, computed here from the model (not by the app)."""
    from cb_core.features.pipeline import current_snapshot
    from cb_core.strategy import strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    return strategy_frame(snap, model.score(snap), small_book.merchants, small_book.outcomes)


@pytest.fixture(scope="module")
def between(frame) -> str:
    """A merchant the settings approve (score >= 590) and a published 620 refers (score < 620)."""
    inside = frame.index[(frame["score"] >= SETTINGS_CUTOFF) & (frame["score"] < PUBLISHED_CUTOFF)]
    assert len(inside) >= 1
    return str(sorted(inside)[0])


def _publish(store, approve: int) -> int:
    from cb_core.strategy import Policy

    draft = store.save_draft("default", Policy.from_settings(approve_cutoff=approve).to_dict(), "kim",
                             base_version=None)
    return store.publish("default", draft.id, "kim", expected_base_version=None).version


def _metric(app, label: str):
    return next(m for m in app.metric if m.label == label)


def _review(app, merchant_id: str) -> None:
    app.session_state[EXPLANATION_OPEN] = True  # the record is written only once its expander is open
    app.switch_page("views/merchant_review.py").run()
    app.text_input(key="review_query").set_value(merchant_id).run()
    assert not app.exception, app.exception
    assert app.selectbox(key="review_merchant").value == merchant_id


def _record_text(app) -> str:
    [record] = [c.value for c in app.code if c.value.startswith("Explanation of an automated credit evaluation")]
    return record


def _portfolio(app) -> None:
    app.switch_page("views/portfolio.py").run()
    assert not app.exception, app.exception


def _expect_review(app, frame, merchant_id: str, cutoff: int, decision: str, policy: str) -> None:
    assert int(_metric(app, "Score").value) == int(frame.loc[merchant_id, "score"])
    indicative = _metric(app, "Indicative decision")
    assert indicative.value == decision
    assert indicative.help == f"Policy in force: {policy} · approve from {cutoff}, refer from 550"
    captions = [c.value for c in app.caption]
    assert any(f"just above the {cutoff}-point approval cutoff (within 20 points)" in c for c in captions), captions
    other = PUBLISHED_CUTOFF if cutoff == SETTINGS_CUTOFF else SETTINGS_CUTOFF
    assert not any(f"{other}-point" in c for c in captions)
    basis = next(line for line in _record_text(app).splitlines() if line.startswith("Data used:"))
    # no published policy: the record names the settings' defaults (never a bare "–")
    assert basis.endswith(" · policy " + (policy if policy.startswith("default") else policy.rsplit(" ", 1)[-1]))


def _expect_portfolio(app, frame, cutoff: int, policy: str) -> None:
    from cb_core.strategy import Policy, decisions, evaluate

    expected_policy = Policy.from_settings(approve_cutoff=cutoff)
    expected = evaluate(frame, expected_policy)
    assert any(c.value == f"Policy in force: {policy} · approve from {cutoff}, refer from 550" for c in app.caption)
    assert _metric(app, "Approval rate").value == f"{expected.approval_rate:.1%}"
    assert _metric(app, "Expected bad rate (approved)").value == f"{expected.expected_bad_rate:.2%}"
    assert _metric(app, "Expected loss").value == format_krw(expected.expected_loss_krw, "en")
    histogram = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert [s["x0"] for s in histogram["layout"]["shapes"]] == [cutoff, 550]
    by_category = (frame.assign(approved=decisions(frame, expected_policy) == "approve")
                   .groupby("category", observed=True)["approved"].mean())
    shown = app.dataframe[0].value
    assert sorted(shown["Approval rate"].tolist()) == sorted(f"{100 * r:.1f}%" for r in by_category)


def test_before_anything_is_published_every_page_uses_the_settings_590(own_store, frame, between):
    assert own_store.published_policy("default") is None
    app = app_as("admin", own_store)
    app.session_state["lang"] = "en"
    _review(app, between)
    _expect_review(app, frame, between, SETTINGS_CUTOFF, "Approve", "default settings (no published policy)")
    _portfolio(app)
    _expect_portfolio(app, frame, SETTINGS_CUTOFF, "default settings (no published policy)")


def test_a_published_620_is_followed_by_review_decision_record_and_portfolio(own_store, frame, between, trained):
    app = app_as("admin", own_store)
    app.session_state["lang"] = "en"
    _review(app, between)
    assert _metric(app, "Indicative decision").value == "Approve"  # the settings' 590, before publishing
    _portfolio(app)
    at_590 = _metric(app, "Approval rate").value

    version = _publish(own_store, PUBLISHED_CUTOFF)
    assert version == 1
    _review(app, between)  # the same session: no restart, no cache to clear
    _expect_review(app, frame, between, PUBLISHED_CUTOFF, "Refer", "published policy v1")

    # the decision form records the policy version in force
    app.radio(key=f"decision_choice_{between}_0").set_value("refer")
    app.text_area(key=f"decision_note_{between}_0").set_value("below the published cutoff")
    app.button[[b.label for b in app.button].index("Save decision")].click().run()
    assert not app.exception, app.exception
    [saved] = own_store.decisions_for(between)
    assert (saved.decision, saved.policy_name, saved.policy_version, saved.model_version) == (
        "refer", "default", 1, trained[0].version)

    _portfolio(app)
    _expect_portfolio(app, frame, PUBLISHED_CUTOFF, "published policy v1")
    assert _metric(app, "Approval rate").value != at_590
