"""Exactly once: read the store back and check every decision, publish and sign-in the sessions caused
is there once, with its audit entry."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from .records import POLICY_NAME, LoadRun, Users


@dataclass
class Verification:
    counts: dict[str, int]
    problems: list[str]


def verify(url: str, users: Users, run: LoadRun, since: datetime, extra_sign_ins: int = 0) -> Verification:
    """Read the store and check every decision and audit entry the sessions caused is there exactly once.

    ``extra_sign_ins``: sign-ins of the memory session (``rss_admin``), if it ran.
    """
    from cb_core.store import Store

    problems: list[str] = []
    with Store(url) as store:
        decisions = [d for u in users.officers for d in store.list_decisions({"user": u, "since": since},
                                                                             limit=100_000)]
        audits = store.audit_log({"since": since}, limit=100_000)
        versions = [v for v in store.policy_history(POLICY_NAME)
                    if v.published_at is not None and v.published_at >= since]
        chains = {m: store.decisions_for(m) for m in {a.merchant_id for a in run.decisions}}
    mine = set(users.all)
    by_token = Counter(d.note for d in decisions)
    by_id = {d.id: d for d in decisions}
    saved_audit = Counter(a.entity_id for a in audits if a.action == "decision.save")
    audit_note = {a.entity_id: (a.after or {}).get("note") for a in audits if a.action == "decision.save"}
    tokens = {a.token for a in run.decisions}
    for a in run.decisions:
        if a.saved_id is not None:
            d = by_id.get(a.saved_id)
            if by_token[a.token] != 1 or d is None or (d.note, d.user, d.merchant_id, d.decision) != (
                    a.token, a.user, a.merchant_id, a.decision):
                stored = None if d is None else (d.decision, d.merchant_id, d.user)
                earlier = [b.decision for b in run.decisions if b.user == a.user and b.token < a.token]
                problems.append(f"decision #{a.saved_id} ({a.token}): chose {a.decision} on {a.merchant_id} as "
                                f"{a.user} (the form showed {a.radio_before} before the click, {a.radio_at_submit} "
                                f"at Save; this session's earlier choices {earlier}); stored {by_token[a.token]} "
                                f"times, as {stored}")
            if saved_audit[str(a.saved_id)] != 1 or audit_note.get(str(a.saved_id)) != a.token:
                problems.append(f"decision #{a.saved_id} ({a.token}): {saved_audit[str(a.saved_id)]} audit entries")
        elif by_token[a.token]:
            problems.append(f"{a.token} was refused on screen but stored {by_token[a.token]} times")
    extra = [d.id for d in decisions if d.note not in tokens]
    if extra:
        problems.append(f"decisions nobody saw saved: {extra}")
    ids = {str(d.id) for d in decisions}
    orphans = [a.entity_id for a in audits if a.action == "decision.save" and a.user in mine and a.entity_id not in ids]
    if orphans:
        problems.append(f"decision.save audit entries without a decision: {orphans}")
    forks = {m: [d.id for d in chain if d.superseded_by_id is None] for m, chain in chains.items()}
    forks = {m: heads for m, heads in forks.items() if len(heads) > 1}
    if forks:
        problems.append(f"merchants with more than one current decision: {forks}")

    wins = {a.version: a.user for a in run.publishes if a.version is not None}
    stored = {v.version: v.published_by for v in versions}
    if stored != wins or len(wins) != sum(a.version is not None for a in run.publishes):
        problems.append(f"published versions {stored} != versions the sessions were told {wins}")
    if wins and sorted(wins) != list(range(min(wins), min(wins) + len(wins))):
        problems.append(f"published versions are not contiguous: {sorted(wins)}")
    publish_audit = Counter((a.after or {}).get("version") for a in audits if a.action == "policy.publish")
    if publish_audit != Counter(wins.keys()):
        problems.append(f"policy.publish audit entries {dict(publish_audit)} != wins {sorted(wins)}")
    drafts = sum(a.action == "policy.draft" and a.user in users.pms for a in audits)
    if drafts != len(run.publishes):
        problems.append(f"{drafts} policy.draft audit entries for {len(run.publishes)} publish presses")
    logins = sum(a.action == "login" and a.user in mine for a in audits)
    expected_logins = sum(s.sign_ins for s in run.sessions) + extra_sign_ins
    if logins != expected_logins:
        problems.append(f"{logins} login audit entries for {expected_logins} sign-ins")
    counts = {"decisions_attempted": len(run.decisions),
              "decisions_saved": sum(a.saved_id is not None for a in run.decisions),
              "decision_conflicts": sum(a.conflict for a in run.decisions),
              "decisions_stored": len(decisions),
              "decision_audit_entries": sum(saved_audit[str(d.id)] for d in decisions),
              "superseding_decisions": sum(d.supersedes_id is not None for d in decisions),
              "publish_presses": len(run.publishes), "publish_wins": len(wins),
              "publish_conflicts": sum(a.conflict for a in run.publishes), "versions_stored": len(stored),
              "publish_audit_entries": sum(publish_audit.values()), "draft_audit_entries": drafts,
              "sign_ins": expected_logins, "login_audit_entries": logins,
              "merchants_with_forked_chains": len(forks)}
    return Verification(counts, problems)


__all__ = ["Verification", "verify"]
