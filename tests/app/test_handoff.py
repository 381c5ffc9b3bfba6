"""The login's cookie handoff (ui/handoff.py): a ticket gives the script's own token back once, within
its minute, to the browser it was issued to; nothing else."""
from __future__ import annotations

import hashlib
import threading

import pytest

from ui import handoff
from ui.handoff import Handoff

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CURL = "curl/8.5.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tickets(clock) -> Handoff:
    return Handoff(seconds=60, clock=clock)


def test_a_ticket_gives_the_same_token_once_to_the_same_browser(tickets, clock):
    ticket = tickets.issue("the-token", FIREFOX)
    assert ticket != "the-token" and len(ticket) == 43  # 32 random bytes, url-safe base64, as session tokens
    assert tickets.pending(ticket)
    clock.now += 59.9
    assert tickets.redeem(ticket, FIREFOX) == "the-token"
    assert not tickets.pending(ticket)
    assert tickets.redeem(ticket, FIREFOX) is None  # once
    assert len(tickets) == 0


def test_an_expired_ticket_gives_nothing(tickets, clock):
    ticket = tickets.issue("the-token", FIREFOX)
    clock.now += 60
    assert not tickets.pending(ticket)
    assert tickets.redeem(ticket, FIREFOX) is None


def test_another_user_agent_gets_nothing_and_uses_the_ticket_up(tickets):
    ticket = tickets.issue("the-token", FIREFOX)
    assert tickets.redeem(ticket, CURL) is None
    assert tickets.redeem(ticket, FIREFOX) is None  # used up by the failed try
    bare = tickets.issue("bare-token", None)  # issued without a User-Agent: only a request without one
    assert tickets.redeem(bare, "") is None
    bare = tickets.issue("bare-token", None)
    assert tickets.redeem(bare, None) == "bare-token"


def test_unknown_forged_and_discarded_tickets_give_nothing(tickets):
    ticket = tickets.issue("the-token", FIREFOX)
    for forged in (None, "", "forged", ticket[:-1], ticket + "x", 42):
        assert tickets.redeem(forged, FIREFOX) is None
        assert not tickets.pending(forged)
    assert tickets.redeem(ticket, FIREFOX) == "the-token"  # the forged tries did not touch it
    discarded = tickets.issue("other-token", FIREFOX)
    tickets.discard(discarded)
    assert tickets.redeem(discarded, FIREFOX) is None
    with pytest.raises(ValueError, match="needs a session token"):
        tickets.issue("", FIREFOX)


def test_the_map_keeps_neither_raw_tickets_nor_user_agents_and_drops_expired_entries(tickets, clock):
    ticket = tickets.issue("the-token", FIREFOX)
    [(key, entry)] = tickets._entries.items()
    assert ticket not in key and key == hashlib.sha256(("\x00" + ticket).encode()).hexdigest()
    assert FIREFOX not in repr(entry) and entry.expires == 1060.0
    clock.now += 61
    fresh = tickets.issue("next-token", FIREFOX)  # issuing drops what expired
    assert len(tickets) == 1 and tickets.pending(fresh)


def test_two_redeemers_at_once_get_the_token_once():
    tickets = Handoff()
    ticket = tickets.issue("the-token", FIREFOX)
    got: list = []
    start = threading.Barrier(8)

    def take() -> None:
        start.wait()
        got.append(tickets.redeem(ticket, FIREFOX))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (got.count("the-token"), got.count(None)) == (1, 7)


def test_the_module_functions_share_one_map():
    ticket = handoff.issue("module-token", CURL)
    assert handoff.pending(ticket) and handoff.HANDOFF.pending(ticket)
    assert handoff.redeem(ticket, CURL) == "module-token"
