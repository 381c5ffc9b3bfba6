"""AppTest: the decision form presets the policy's decision for the merchant's score (never a fixed
"Approve") and refuses a decision against the policy without a note, saving nothing (issue #13)."""
from __future__ import annotations

import pytest

from tests.support.app import app_as


def _frame(small_book, trained):
    from cb_core.features.pipeline import current_snapshot
    from cb_core.strategy import strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    return strategy_frame(snap, model.score(snap), small_book.merchants, small_book.outcomes)


@pytest.fixture(scope="module")
def policy_decisions(small_book, trained, app_users):
    """merchant -> the decision of the policy in force, segment cutoffs included (the engine's own)."""
    from cb_core.strategy import decisions, policy_in_force

    return decisions(_frame(small_book, trained), policy_in_force(app_users).policy)


def _open(app, merchant_id: str) -> None:
    app.switch_page("views/merchant_review.py").run()
    app.session_state["lang"] = "en"
    app.run()
    app.text_input(key="review_query").set_value(merchant_id).run()
    assert not app.exception, app.exception


def _save(app) -> None:
    app.button[[b.label for b in app.button].index("Save decision")].click().run()
    assert not app.exception, app.exception


@pytest.mark.parametrize("expected", ["decline", "refer", "approve"])
def test_the_form_presets_the_policy_decision_for_the_score(app_users, policy_decisions, expected):
    merchant_id = policy_decisions[policy_decisions == expected].index[-1]
    app = app_as("lee", app_users)
    _open(app, merchant_id)
    assert next(m.value for m in app.metric if m.label == "Indicative decision") == expected.capitalize()
    assert app.radio(key=f"decision_choice_{merchant_id}_0").value == expected
    assert any(c.value.startswith(f"The policy's decision for this score: {expected.capitalize()}") for c in app.caption)


def test_against_the_policy_needs_a_note_and_nothing_is_saved_without_one(app_users, policy_decisions):
    merchant_id = policy_decisions[policy_decisions == "decline"].index[-2]
    app = app_as("lee", app_users)
    _open(app, merchant_id)
    app.radio(key=f"decision_choice_{merchant_id}_0").set_value("approve")
    _save(app)
    assert [e.value for e in app.error] == [
        "'Approve' differs from the policy's decision ('Decline'): write a note saying why. Nothing was saved"]
    assert app_users.decisions_for(merchant_id) == []
    app.text_area(key=f"decision_note_{merchant_id}_0").set_value("   ")  # blank is no note
    _save(app)
    assert app_users.decisions_for(merchant_id) == [] and app.error
    app.text_area(key=f"decision_note_{merchant_id}_0").set_value("6 months of bank statements show steady sales")
    _save(app)
    [saved] = app_users.decisions_for(merchant_id)
    assert (saved.decision, saved.note) == ("approve", "6 months of bank statements show steady sales")


def test_the_policy_decision_saves_without_a_note(app_users, policy_decisions):
    merchant_id = policy_decisions[policy_decisions == "refer"].index[-2]
    app = app_as("lee", app_users)
    _open(app, merchant_id)
    _save(app)
    assert not app.error, [e.value for e in app.error]
    [saved] = app_users.decisions_for(merchant_id)
    assert (saved.decision, saved.note) == ("refer", "")


def test_check_decision_note_rule():
    from cb_core.errors import PolicyError
    from cb_core.strategy import check_decision_note

    assert check_decision_note("refer", "refer", None) == ""
    assert check_decision_note("approve", "decline", "  proof of sales  ") == "proof of sales"
    with pytest.raises(PolicyError, match=r"approve differs from the policy's decision \(decline\): a note"):
        check_decision_note("approve", "decline", " ")
    with pytest.raises(PolicyError, match=r"differs from the policy's decision \(none\)"):
        check_decision_note("refer", None, "")
    with pytest.raises(PolicyError, match="choose a decision"):
        check_decision_note(None, "refer", "x")
    with pytest.raises(PolicyError, match="decision must be one of approve, refer, decline; got 'maybe'"):
        check_decision_note("maybe", "refer", "x")
