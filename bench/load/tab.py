"""One user's browser tab: every action timed until the page has rendered its result (bench/load/
__init__.py says when that is). Playwright and Streamlit's protocol load inside the methods."""
from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from .records import LABEL, LIVE, PASSWORD, TITLE, SessionLog, Timing


class ActionFailed(RuntimeError):
    """A user's action did not render its result in time (names the action)."""


class Tab:
    """A user's page; every action is timed until the page has rendered its result (module docstring)."""

    def __init__(self, page, user: str, log: SessionLog, timeout_s: float) -> None:
        self.page, self.user, self.log, self.timeout_s = page, user, log, timeout_s
        self.timeout_ms = timeout_s * 1000
        self.runs_finished = 0  # script runs the server reported finished (not counting st.rerun restarts)
        page.on("websocket", lambda ws: ws.on("framereceived", self._on_frame))

    def _on_frame(self, payload: str | bytes) -> None:
        """Count the server's ``script_finished`` messages (one ForwardMsg per frame; those are tiny)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, (bytes, bytearray)) and len(payload) < 512:
            msg = ForwardMsg.FromString(bytes(payload))
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.runs_finished += 1

    def live(self, text: str | re.Pattern):
        """Element containers that are not stale and hold ``text``."""
        return self.page.locator(LIVE).filter(has_text=text)

    def heading(self, title: str):
        return self.page.locator(LIVE).filter(has=self.page.locator("h1", has_text=title))

    async def _state(self, before: int) -> str:
        """What the page looked like when an action failed (and a screenshot, if CB_LOAD_SCREENSHOTS names a folder)."""
        try:
            state = await self.page.get_by_test_id("stApp").get_attribute("data-test-script-state", timeout=1000)
            text = f"runs finished {before} -> {self.runs_finished}, script state {state}, url {self.page.url}"
            if folder := os.environ.get("CB_LOAD_SCREENSHOTS"):
                await self.page.screenshot(path=str(Path(folder) / f"{self.user}-{len(self.log.timings)}.png"))
            return text
        except Exception as exc:  # noqa: BLE001 - the page may be gone
            return f"page state unknown: {type(exc).__name__}"

    async def timed(self, kind: str, act: Callable[[], Awaitable], *ready) -> float:
        """Do ``act`` and wait for a script run that ends after it, then for each of ``ready`` (a locator
        that must be visible, or an async predicate), then for no script running."""
        from playwright.async_api import expect

        before = self.runs_finished
        began = time.perf_counter()

        async def until(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
            while True:
                done = condition()
                if done if not asyncio.iscoroutine(done) else await done:
                    return
                if time.perf_counter() - began > self.timeout_s:
                    raise TimeoutError(f"{what} within {self.timeout_s:.0f} s")
                await asyncio.sleep(0.02)

        try:
            await act()
            await until(lambda: self.runs_finished > before, "no script run finished")
            for item in ready:
                if callable(item):
                    await until(item, "the result did not show")
                else:
                    await expect(item.first).to_be_visible(timeout=self.timeout_ms)
            await expect(self.page.get_by_test_id("stApp")).to_have_attribute(
                "data-test-script-state", "notRunning", timeout=self.timeout_ms)
        except Exception as exc:
            raise ActionFailed(f"{kind} after {time.perf_counter() - began:.1f} s ({await self._state(before)}): "
                               f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        seconds = time.perf_counter() - began
        self.log.timings.append(Timing(kind, self.user, seconds))
        await self.check_exceptions(kind)
        return seconds

    async def check_exceptions(self, kind: str) -> None:
        """A traceback on the page is always a problem (Streamlit renders one as ``stException``)."""
        shown = self.page.get_by_test_id("stException")
        for i in range(await shown.count()):
            self.log.problems.append(f"exception after {kind}: {(await shown.nth(i).inner_text())[:500]}")

    def errors(self):
        """The ``st.error`` boxes on the page now (not stale)."""
        return self.page.locator(LIVE).filter(has=self.page.get_by_test_id("stAlertContentError"))

    async def error_messages(self) -> list[str]:
        """The engine's error messages on the page now: a keyed error is its ``st.error`` in the
        user's language; one without a key is the ``st.error`` title followed by ``st.code``, which
        the browser may draw a moment after the run ended (its component loads lazily)."""
        from playwright.async_api import expect

        boxes = self.errors()
        if not await boxes.count():
            return []
        found = [await boxes.nth(i).inner_text() for i in range(await boxes.count())]
        if any(LABEL["error"] in text for text in found):
            codes = self.page.locator(LIVE).get_by_test_id("stCode")
            await expect(codes.first).to_be_visible(timeout=self.timeout_ms)
            found += [await codes.nth(i).inner_text() for i in range(await codes.count())]
        return found

    async def sign_in(self, base_url: str, path: str, landing: str, *ready) -> None:
        """Open ``path`` (the login form shows), sign in, land on the page asked for."""
        page = self.page
        await self.timed("open_login", lambda: page.goto(f"{base_url}/{path}"),
                         page.get_by_role("button", name=LABEL["login"]))
        await page.get_by_label(LABEL["user"]).fill(self.user)
        await page.get_by_label(LABEL["password"], exact=True).fill(PASSWORD)
        await self.timed("sign_in", page.get_by_role("button", name=LABEL["login"]).click,
                         self.heading(TITLE[landing]), page.get_by_role("button", name=LABEL["logout"]), *ready)
        self.log.sign_ins += 1

    async def open_merchant(self, merchant_id: str, kind: str = "open_merchant") -> None:
        search = self.page.get_by_label(LABEL["search"])

        async def search_for() -> None:  # typing may already commit (on blur), so it is part of the action
            await search.fill(merchant_id)
            await search.press("Enter")

        await self.timed(kind, search_for, self.decision_form_of(merchant_id), self.live(re.compile("신용점수")),
                         self.page.locator(".js-plotly-plot"))

    def decision_form_of(self, merchant_id: str):
        """The Save button of this merchant's decision form (st.form key ``decision_<id>_<n>``, n counting
        the decisions this session saved on it), drawn near the page's end: visible once Merchant review
        shows that merchant."""
        return self.page.locator(f'{LIVE}[class*="st-key-FormSubmitter-decision_{merchant_id}_"]')

    async def navigate(self, page_key: str, *ready) -> None:
        link = self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=TITLE[page_key])
        await self.timed(f"nav_{page_key}", link.click, self.heading(TITLE[page_key]), *ready)


async def new_tab(browser, user: str, log: SessionLog, timeout_s: float) -> Tab:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    return Tab(page, user, log, timeout_s)


__all__ = ["ActionFailed", "Tab", "new_tab"]
