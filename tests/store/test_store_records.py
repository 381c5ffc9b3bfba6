"""Store: policies, decisions, the append-only audit log and merchants' requests (SQLite and PostgreSQL)."""
from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy.exc import DBAPIError

from cb_core.errors import AuthError, ConfigError, ConflictError, PolicyError
from cb_core.store import Store, audit, decisions, policies, products, requests, users
from tests.support.pg import db_url  # noqa: F401  (fixture; conftest.py will import it for every test file)
from tests.support.store import (FAST_HASHER, PASSWORD, ROOT, T0, decide, rows_of, rows_write, exact, people,  # noqa: F401
                                  store, with_policy)


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
            rows_write(store, sql)
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




def test_decision_records_score_reasons_and_policy_at_that_moment(with_policy):
    store = with_policy
    d = decide(store)
    assert (d.merchant_id, d.decision, d.user, d.score, d.grade, d.pd) == ("M001", "approve", "oh", 655.0, 3, 0.021)
    assert d.reason_codes == [{"feature": "return_rate", "points": -12.5}]
    assert (d.policy_name, d.policy_version, d.model_version, d.supersedes_id) == ("main", 1, "lgbm-2026-10", None)
    assert d.created_at.tzinfo == timezone.utc
    default = decide(store, "M002", "refer", policy_name=None, policy_version=None)
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
            decide(with_policy, **change)
    assert with_policy.list_decisions() == []
    assert with_policy.audit_log({"action": "decision.save"}) == []


def test_numpy_values_are_accepted_as_plain_numbers(with_policy):
    np = pytest.importorskip("numpy")
    d = decide(with_policy, score=np.float64(640.4), grade=np.int64(4), pd=np.float32(0.03),
                reason_codes=[{"points": np.float64(-3.5), "pct": np.int64(80)}])
    assert (d.score, d.grade, d.reason_codes) == (640.4, 4, [{"points": -3.5, "pct": 80}])


def test_supersede_chain_never_edits_the_old_decision(with_policy):
    store = with_policy
    first = decide(store, decision="approve")
    second = decide(store, decision="refer", note="bureau score dropped", supersedes=first)
    third = decide(store, decision="decline", note="fraud flag confirmed", supersedes=second.id)
    history = store.decisions_for("M001")
    assert [(d.id, d.decision, d.supersedes_id, d.superseded_by_id) for d in history] == [
        (first.id, "approve", None, second.id), (second.id, "refer", first.id, third.id),
        (third.id, "decline", second.id, None)]
    assert history[0].note == "steady sales" and history[0].is_current is False
    with pytest.raises(ConflictError, match=exact(f"decision {first.id} was already superseded by decision "
                                                  f"{second.id}; supersede that one instead")):
        decide(store, decision="approve", supersedes=first.id)
    with pytest.raises(ConfigError, match=exact(f"decision {third.id} is about merchant 'M001', not 'M002'")):
        decide(store, "M002", supersedes=third.id)
    assert [d.id for d in store.list_decisions({"current_only": True})] == [third.id]


def test_list_decisions_filters_and_limits(with_policy):
    store = with_policy
    made = [decide(store, f"M{i % 3}", ("approve", "refer", "decline")[i % 3]) for i in range(9)]
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
    verbs += [name for module in (users, policies, decisions, audit, requests, products) for name in module.__all__]
    offending = [v for v in verbs if CHANGING_VERBS.search(v) and any(word in v for word in APPEND_ONLY)]
    assert offending == []
    assert "update_request" in verbs  # the only update verb, and it is about requests
    sources = {p.name: p.read_text() for p in (ROOT / "cb_core" / "store").glob("*.py")}
    assert set(sources) >= {"__init__.py", "front.py", "_gateway.py", "decisions.py", "audit.py", "tables.py"}
    forbidden = re.compile(r"(UPDATE\s+(decisions|audit_log)|DELETE\s+FROM\s+(decisions|audit_log)"
                           r"|TRUNCATE|(update|delete)\(\s*(DecisionRow|AuditRow))", re.IGNORECASE)
    assert {name: forbidden.findall(src) for name, src in sources.items() if forbidden.search(src)} == {}
    # The only session.delete in the store is of a policy draft.
    deletes = [(name, line.strip()) for name, src in sources.items() for line in src.splitlines()
               if re.search(r"\.delete\(|\.merge\(", line)]
    assert deletes == [("policies.py", "session.delete(draft)")]
    for record in ("Decision", "AuditEntry"):
        assert getattr(__import__("cb_core.store", fromlist=[record]), record).__dataclass_params__.frozen


def test_the_database_refuses_to_change_decisions_and_audit_entries(with_policy):
    decide(with_policy)
    for table in ("decisions", "audit_log"):
        for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match=f"{table} is append-only: {sql.split()[0]} refused"):
                rows_write(with_policy, sql)
    assert len(with_policy.list_decisions()) == 1


def test_audit_entry_commits_or_rolls_back_with_its_change(with_policy, monkeypatch):
    store = with_policy
    before = len(store.audit_log(limit=1000))
    real_audit = decisions.write_audit

    def audit_then_fail(*args, **kwargs):
        real_audit(*args, **kwargs)
        raise RuntimeError("disk full after the audit entry was written")

    for module in (decisions, policies):  # the verbs below write their audit entry through the gateway's helper
        monkeypatch.setattr(module, "write_audit", audit_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        decide(store)
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
