"""The one rule between an officer's decision and the policy in force: deciding otherwise than the
policy says for the merchant's score needs a note saying why (a human decision that departs from the
automated one must be explained; PIPA art. 37-2 asks for real human involvement, not a rubber stamp).
"""
from __future__ import annotations

from ..errors import PolicyError
from .policy import DECISIONS


def check_decision_note(decision: str | None, policy_decision: str | None, note: str | None) -> str:
    """Check a decision against the policy's decision for the merchant, and return the note stripped.

    Parameters
    ----------
    decision : str
        ``approve``, ``refer`` or ``decline`` as chosen by the officer.
    policy_decision : str or None
        What the policy in force decides for the merchant's score (:func:`decisions`); None when the
        policy does not decide (no score), and then any decision needs a note.
    note : str or None

    Raises
    ------
    PolicyError
        No decision chosen; an unknown decision; a decision other than the policy's without a note
        ("decline differs from the policy's decision (refer): a note saying why is required").
    """
    if decision is None:
        raise PolicyError("choose a decision (approve, refer or decline)", key="err_decision_note_choose_decision_approve_refer")
    if decision not in DECISIONS:
        raise PolicyError(f"decision must be one of {', '.join(DECISIONS)}; got {decision!r}", key="err_decision_note_decision_one_decisions_got", DECISIONS=', '.join(DECISIONS), decision=decision)
    text = (note or "").strip()
    if decision != policy_decision and not text:
        raise PolicyError(f"{decision} differs from the policy's decision ({policy_decision or 'none'}): "
                          "a note saying why is required", key="err_decision_note_required", decision=decision, policy_decision=policy_decision)
    return text


__all__ = ["check_decision_note"]
