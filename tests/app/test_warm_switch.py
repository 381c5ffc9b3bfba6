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


def _capture(errors: list[BaseException], work) -> None:
    try:
        work()
    except BaseException as exc:  # noqa: BLE001  (said by the test's assert)
        errors.append(exc)


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

    # in a thread of its own: a Playwright session of another test may hold this thread's event loop
    errors: list[BaseException] = []
    runner = threading.Thread(target=lambda: _capture(errors, lambda: asyncio.run(run())))
    runner.start()
    runner.join(30)
    assert not errors, errors
    for thread in threading.enumerate():
        if thread.name == "cb-keep-warm":
            thread.join(5)
    assert len(calls) == started
    if started:
        assert calls[0].is_set()  # the loop is told to stop when the server ends


def test_the_warm_up_starts_no_step_while_a_users_page_runs(monkeypatch):
    import time

    from ui import warm

    started: list[float] = []
    monkeypatch.setattr(warm, "_STATE", warm._Warmup())
    monkeypatch.setattr(warm, "_steps", lambda: [("a", lambda b, m: started.append(time.monotonic())),
                                                 ("b", lambda b, m: started.append(time.monotonic()))])
    with warm.user_run():
        thread = threading.Thread(target=warm._run, args=(("book", "model"), None, None))
        thread.start()
        time.sleep(0.3)
        assert started == []  # held back while the page runs
        released = time.monotonic()
    thread.join(5)
    assert len(started) == 2 and started[0] >= released
    assert warm._RUNS == 0 and warm._STATE.done == 2 and warm._STATE.failed == []


def test_a_page_that_fails_still_releases_the_warm_up(monkeypatch):
    from ui import warm

    with pytest.raises(RuntimeError):
        with warm.user_run():
            raise RuntimeError("the page's own error")
    assert warm._RUNS == 0


def test_the_warm_up_is_never_starved(monkeypatch):
    import time

    from ui import warm

    with warm.user_run():
        t = time.monotonic()
        warm._yield_to_users(max_wait_s=0.2, poll_s=0.01)
        assert 0.2 <= time.monotonic() - t < 2
