"""CB_WARM_UP: the server's background warm-up is on by default and off when the environment says so
(the browser-test servers), through server.py's lifespan."""
from __future__ import annotations

import asyncio
import threading

import pytest


@pytest.mark.parametrize("value, on", [(None, True), ("1", True), ("yes", True), ("0", False), ("false", False),
                                       (" OFF ", False), ("no", False)])
def test_enabled_reads_the_environment(value, on):
    from ui import warm

    assert warm.enabled({} if value is None else {warm.ENV: value}) is on


@pytest.mark.parametrize("value, started", [(None, 1), ("0", 0)])
def test_server_lifespan_starts_keep_warm_only_when_enabled(monkeypatch, value, started):
    import server
    from ui import warm

    calls: list[threading.Event] = []
    monkeypatch.setattr(warm, "keep_warm", lambda stop: calls.append(stop))
    if value is None:
        monkeypatch.delenv(warm.ENV, raising=False)
    else:
        monkeypatch.setenv(warm.ENV, value)

    async def run() -> None:
        async with server.warm_up(None):
            pass

    asyncio.run(run())
    for thread in threading.enumerate():
        if thread.name == "cb-keep-warm":
            thread.join(5)
    assert len(calls) == started
    if started:
        assert calls[0].is_set()  # the loop is told to stop when the server ends
