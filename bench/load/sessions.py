"""The sessions of a load run: officers recording decisions and product managers publishing at once,
the warm-up before them, and one session loading pages over and over for the memory samples."""
from __future__ import annotations

import asyncio
import logging
import random
import re
import time

from ..serve import CHROMIUM, CHROMIUM_ARGS
from .records import (DECISIONS, LABEL, PUBLISHED, conflict_version, SAVED, TITLE, DecisionAttempt, LoadRun,
                      PublishAttempt, SessionLog, Users)
from .state import Server
from .tab import Tab, new_tab

log = logging.getLogger("bench.load")


async def officer_session(browser, base_url: str, user: str, merchants: list[str], run_id: str,
                          seed: int, timeout_s: float, attempts: list[DecisionAttempt], log: SessionLog) -> None:
    """Open the first merchant by its link (``merchant_review?merchant=...``) and sign in there; then for
    each merchant (searched after the first): record a decision with a unique note."""
    rng = random.Random(f"{seed}-{user}")
    tab = await new_tab(browser, user, log, timeout_s)
    try:
        await tab.sign_in(base_url, f"merchant_review?merchant={merchants[0]}", "merchant_review",
                          tab.decision_form_of(merchants[0]))
        for i, merchant_id in enumerate(merchants):
            if i:
                await tab.open_merchant(merchant_id)
            form = tab.page.get_by_test_id("stForm").filter(has=tab.page.get_by_role("button", name=LABEL["save"]))
            radio = form.get_by_test_id("stRadio")
            attempt = DecisionAttempt(user, merchant_id, rng.choice(DECISIONS), f"load-{run_id}-{user}-{i:03d}")
            attempts.append(attempt)
            attempt.radio_before = await _checked(radio)
            await radio.get_by_text(LABEL[attempt.decision], exact=True).click()
            await form.get_by_label(LABEL["note"]).fill(attempt.token)
            attempt.radio_at_submit = await _checked(radio)
            await tab.timed("save_decision", form.get_by_role("button", name=LABEL["save"]).click,
                            tab.live(SAVED).or_(tab.errors()))
            saved = tab.live(SAVED)
            if await saved.count():
                attempt.saved_id = int(SAVED.search(await saved.first.inner_text()).group(1))
            else:
                attempt.message = " | ".join(await tab.error_messages())
                if not attempt.conflict:
                    log.problems.append(f"decision on {merchant_id} refused: {attempt.message}")
    except Exception as exc:  # noqa: BLE001 - a session that breaks is reported, the others go on
        log.problems.append(f"session stopped: {type(exc).__name__}: {str(exc)[:500]}")
    finally:
        await tab.page.context.close()


async def _checked(radio) -> str | None:
    """The decision the form's radio shows as chosen (what the officer sees before saving)."""
    values = await radio.locator("input:checked").evaluate_all("els => els.map(e => e.value)")
    return DECISIONS[int(values[0])] if len(values) == 1 and values[0].isdigit() else None


async def pm_session(browser, base_url: str, user: str, index: int, rounds: int, timeout_s: float,
                     barrier: asyncio.Barrier, retry_lock: asyncio.Lock, attempts: list[PublishAttempt],
                     log: SessionLog) -> None:
    """Sign in on Cutoff tuning; each round: move the approve cutoff, then all product managers press
    Publish at once (same base version: one wins, the others get the conflict message); then each
    loser, alone, publishes again until it wins (at most 3 tries)."""
    tab = await new_tab(browser, user, log, timeout_s)
    page, seen = tab.page, [0]
    rate = page.get_by_test_id("stMetric").filter(has_text=LABEL["approval_rate"]).first.get_by_test_id("stMetricValue")
    try:
        await tab.sign_in(base_url, "cutoffs", "cutoffs", page.get_by_role("button", name=LABEL["publish"], exact=True),
                          tab.live(LABEL["approval_rate"]))
        for r in range(rounds):
            before = await rate.inner_text()
            slider = page.get_by_role("slider").first
            await slider.focus()

            async def move() -> None:
                for _ in range(10):
                    await slider.press("ArrowRight" if index % 2 == 0 else "ArrowLeft")

            await tab.timed("move_slider", move, rate.filter(has_not_text=before))
            await barrier.wait()
            last = await _publish(tab, r, "race", attempts, seen)
            await barrier.wait()
            async with retry_lock:
                for _ in range(3):
                    if not last.conflict:
                        break
                    last = await _publish(tab, r, "retry", attempts, seen)
                if last.version is None:
                    log.problems.append(f"round {r}: could not publish alone after a conflict: {last.message}")
            await barrier.wait()
    except asyncio.BrokenBarrierError:
        log.problems.append("session stopped: another product manager's session failed")
    except Exception as exc:  # noqa: BLE001
        log.problems.append(f"session stopped: {type(exc).__name__}: {str(exc)[:500]}")
        await barrier.abort()
    finally:
        await page.context.close()


async def _publish(tab: Tab, round_: int, phase: str, attempts: list[PublishAttempt], seen: list[int]) -> PublishAttempt:
    """Press Publish; the outcome is a success or conflict message naming a version newer than any this
    user saw before (``seen``: the newest, updated here): the previous outcome stays on the page while
    the slider's fragment reruns, so it must not be read again."""
    attempt = PublishAttempt(tab.user, round_, phase)
    attempts.append(attempt)

    async def new_outcome() -> bool:
        published = tab.live(PUBLISHED)
        if await published.count():
            version = int(PUBLISHED.search(await published.first.inner_text()).group(1))
            if version > seen[0]:
                attempt.version, attempt.message = version, ""
                return True
        if await tab.errors().count():
            message = " | ".join(await tab.error_messages())
            found = conflict_version(message)
            if found is None or found > seen[0]:
                attempt.message = message
                return True
        return False

    async def press() -> None:
        """Publish, then confirm with the required note (the page shows the impact summary first)."""
        await tab.page.get_by_role("button", name=LABEL["publish"], exact=True).click()
        await tab.page.get_by_label(LABEL["publish_note"]).fill(f"load run round {round_} ({phase})")
        await tab.page.get_by_role("button", name=LABEL["publish_confirm"], exact=True).click()

    await tab.timed("publish", press, new_outcome)
    if attempt.version is not None:
        seen[0] = attempt.version
    elif attempt.conflict:
        seen[0] = conflict_version(attempt.message)
    else:
        tab.log.problems.append(f"publish refused: {attempt.message}")
    return attempt


async def run_load(base_url: str, users: Users, merchants_by_officer: dict[str, list[str]], *, publish_rounds: int,
                   run_id: str, seed: int = 7, timeout_s: float = 120, deadline_s: float | None = None) -> LoadRun:
    """All officer and product manager sessions at once in one headless Chromium; returns what they did."""
    from playwright.async_api import async_playwright

    decisions: list[DecisionAttempt] = []
    publishes: list[PublishAttempt] = []
    logs = {u: SessionLog(u) for u in (*users.officers, *users.pms)}
    barrier, retry_lock = asyncio.Barrier(len(users.pms)) if users.pms else None, asyncio.Lock()
    began = time.perf_counter()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            sessions = [officer_session(browser, base_url, u, merchants_by_officer[u], run_id, seed, timeout_s,
                                        decisions, logs[u]) for u in users.officers]
            sessions += [pm_session(browser, base_url, u, i, publish_rounds, timeout_s, barrier, retry_lock,
                                    publishes, logs[u]) for i, u in enumerate(users.pms)]
            await asyncio.wait_for(asyncio.gather(*sessions), deadline_s)
        finally:
            await browser.close()
    return LoadRun(list(logs.values()), decisions, publishes, time.perf_counter() - began)


def assign_merchants(users: Users, pool: list[str], per_officer: int, seed: int) -> dict[str, list[str]]:
    """Each officer reviews ``per_officer`` distinct merchants drawn from a shared pool (so officers
    sometimes decide on the same merchant at the same time)."""
    rng = random.Random(seed)
    return {u: rng.sample(pool, min(per_officer, len(pool))) for u in users.officers}


CYCLE = ("portfolio", "merchant_review", "merchant", "decisions", "model_report", "cutoffs")
READY = {"portfolio": lambda t: [t.live(re.compile("적용 정책"))],
         "merchant_review": lambda t: [t.page.get_by_label(LABEL["search"])],
         "decisions": lambda t: [t.page.get_by_role("tab").first],
         "model_report": lambda t: [t.live("AUC")],
         "cutoffs": lambda t: [t.page.get_by_role("button", name=LABEL["publish"], exact=True)]}


async def warm_up(base_url: str, user: str, merchant_id: str, timeout_s: float = 300) -> SessionLog:
    """The first visits after the server started, by one admin session: Merchant review of one merchant
    (opened by its link, signing in there), then Cutoff tuning. They build the server's caches (book,
    model, explainer, scores, curves) that every later session shares."""
    from playwright.async_api import async_playwright

    log = SessionLog(user)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            tab = await new_tab(browser, user, log, timeout_s)
            await tab.sign_in(base_url, f"merchant_review?merchant={merchant_id}", "merchant_review",
                              tab.decision_form_of(merchant_id))
            await tab.navigate("cutoffs", *READY["cutoffs"](tab))
        except Exception as exc:  # noqa: BLE001
            log.problems.append(f"session stopped: {type(exc).__name__}: {str(exc)[:500]}")
        finally:
            await browser.close()
    return log


async def rss_run(server: Server, user: str, merchants: list[str], loads: int, every: int,
                  reload_every: int = 100, timeout_s: float = 120) -> tuple[list[tuple[int, float]], SessionLog]:
    """One admin session loading ``loads`` pages: sidebar navigation through CYCLE (``merchant`` = search
    the next merchant on Merchant review) and, every ``reload_every`` loads, a browser reload (a new
    server session, signed in by the session cookie). Samples the server's RSS after every ``every`` loads."""
    from playwright.async_api import async_playwright

    session = SessionLog(user)
    samples: list[tuple[int, float]] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            tab = await new_tab(browser, user, session, timeout_s)
            await tab.sign_in(server.url, "", "portfolio", *READY["portfolio"](tab))
            samples.append((0, server.rss_mib()))
            current = "portfolio"
            for i in range(1, loads + 1):
                step = CYCLE[(i - 1) % len(CYCLE)]
                if reload_every and i % reload_every == 0:  # the session cookie signs the new session in
                    await tab.timed("reload", lambda: tab.page.goto(server.url), tab.heading(TITLE["portfolio"]),
                                    *READY["portfolio"](tab))
                    current = "portfolio"
                elif step == "merchant" and current == "merchant_review":
                    await tab.open_merchant(merchants[(i // len(CYCLE)) % len(merchants)], kind="search_merchant")
                else:
                    step = "merchant_review" if step == "merchant" else step
                    await tab.navigate(step, *READY[step](tab))
                    current = step
                if i % every == 0:
                    samples.append((i, server.rss_mib()))
                    log.info(f"memory: {i}/{loads} loads, server RSS {samples[-1][1]:.0f} MiB")
        except Exception as exc:  # noqa: BLE001
            session.problems.append(f"session stopped: {type(exc).__name__}: {str(exc)[:500]}")
        finally:
            await browser.close()
    return samples, session


__all__ = ["CYCLE", "READY", "assign_merchants", "officer_session", "pm_session", "rss_run", "run_load", "warm_up"]
