"""Many users at once: officers recording decisions and product managers publishing policies in real
browsers against ``streamlit run app.py`` on 127.0.0.1; page times, exactly-once checks, server memory.

    .venv/bin/python bench/bench_load.py [--officers 20] [--pms 2] [--decisions-per-officer 3]
        [--publish-rounds 3] [--rss-loads 500] [--database sqlite|URL] [--no-results]

It builds its own state folder (a seeded demo book and a model trained on it) in a temporary folder,
creates the users, starts the server, and drives one headless Chromium (Playwright's async API) with
one browser context per user. ``tests/test_load.py`` runs the same driver with small counts and asserts
the exactly-once checks; bench/README.md explains the figures.

Page time: the wall time from the user's action (``goto``, Enter, a click, key presses) until (1) the
server has reported the end of a script run that started after the action (its ``script_finished``
message on the page's websocket; a restart by ``st.rerun`` does not count), (2) the element that shows
the action's result is visible outside stale element containers, and (3) the app root's
``data-test-script-state`` is ``notRunning`` (Streamlit's running indicator is gone).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench_load")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "load test password 2026"
POLICY_NAME = "default"  # ui.policy.POLICY_NAME (not imported: it imports streamlit)
DECISIONS = ("approve", "refer", "decline")

# The Korean labels the app shows by default (data/i18n); the driver clicks what a user clicks.
LABEL = {"user": "사용자 이름", "password": "비밀번호", "login": "로그인", "logout": "로그아웃",
         "search": "가맹점 ID 또는 상호 검색", "save": "결정 저장", "note": "메모 (사유)", "publish": "게시",
         "approval_rate": "승인율", "error": "요청을 처리할 수 없습니다",
         "approve": "승인", "refer": "심사역 검토", "decline": "거절"}
TITLE = {"portfolio": "포트폴리오", "merchant_review": "가맹점 심사", "decisions": "심사 결정",
         "model_report": "모형 보고서", "cutoffs": "컷오프 조정"}
SAVED = re.compile(r"결정 #(\d+)을 저장했습니다")
PUBLISHED = re.compile(r"정책 v(\d+)을 게시했습니다")
DECISION_CONFLICT = re.compile(r"already superseded|superseded by someone else|already has decision")
POLICY_CONFLICT = re.compile(r"was published as version (\d+) by (\S+)")

LIVE = '[data-testid="stElementContainer"]:not([data-stale="true"])'


# -- what a run records ------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    kind: str
    user: str
    seconds: float


@dataclass
class DecisionAttempt:
    user: str
    merchant_id: str
    decision: str
    token: str
    saved_id: int | None = None
    message: str = ""  # the store's message when the app refused the decision
    radio_before: str | None = None  # the choice the form showed before the officer clicked one
    radio_at_submit: str | None = None  # ... and just before Save was pressed

    @property
    def conflict(self) -> bool:
        return self.saved_id is None and bool(DECISION_CONFLICT.search(self.message))


@dataclass
class PublishAttempt:
    user: str
    round: int
    phase: str  # "race": both product managers at once; "retry": alone, after a conflict
    version: int | None = None
    message: str = ""

    @property
    def conflict(self) -> bool:
        return self.version is None and bool(POLICY_CONFLICT.search(self.message))


@dataclass
class SessionLog:
    """One browser session: its timings, sign-ins, and anything it saw that a user should never see."""

    user: str
    timings: list[Timing] = field(default_factory=list)
    sign_ins: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class LoadRun:
    sessions: list[SessionLog]
    decisions: list[DecisionAttempt]
    publishes: list[PublishAttempt]
    seconds: float

    @property
    def timings(self) -> list[Timing]:
        return [t for s in self.sessions for t in s.timings]

    @property
    def problems(self) -> list[str]:
        return [f"{s.user}: {p}" for s in self.sessions for p in s.problems]


@dataclass(frozen=True)
class Users:
    officers: tuple[str, ...]
    pms: tuple[str, ...]
    rss: str = "rss_admin"

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.officers, *self.pms, self.rss)


# -- state, users, server ----------------------------------------------------------------------
def install_state(folder: Path, book, trained) -> None:
    """Make ``book`` and the trained ``(model, report)`` the state folder's current book and model."""
    from cb_core.config import get_settings
    from cb_core.data.sources import save_current
    from cb_core.workspace import install_model

    save_current(book, folder)
    install_model(*trained, settings=get_settings(state_dir=str(folder)))


def build_state(folder: Path, merchants: int, months: int, seed: int):
    """A seeded demo book and a model trained on it, installed in ``folder``; returns the book."""
    from cb_core.model.report import train_with_report
    from cb_core.synth.generate import generate_book

    book = generate_book(merchants, months, seed=seed)
    install_state(folder, book, train_with_report(book))
    return book


def database_url(folder: Path, database: str) -> str:
    """``sqlite`` = the state folder's SQLite file; anything else is taken as a SQLAlchemy URL."""
    return f"sqlite:///{folder / 'cb.sqlite'}" if database == "sqlite" else database


def create_users(url: str, officers: int, pms: int) -> Users:
    """``officer01..`` (officer), ``pm1..`` (pm) and ``rss_admin`` (admin), all with PASSWORD."""
    from cb_core.store import Store

    users = Users(tuple(f"officer{i:02d}" for i in range(1, officers + 1)), tuple(f"pm{i}" for i in range(1, pms + 1)))
    with Store(url) as store:
        for name in users.all:
            role = "officer" if name in users.officers else "pm" if name in users.pms else "admin"
            store.add_user(name, role, password=PASSWORD)
    return users


def pick_merchants(book, n: int, seed: int) -> list[str]:
    """``n`` merchants whose id typed into the search box selects exactly that merchant."""
    from cb_core.explain.review import find_merchants

    ids = book.merchants["merchant_id"].tolist()
    random.Random(seed).shuffle(ids)
    chosen = []
    for merchant_id in ids:
        if find_merchants(book.merchants, merchant_id)["merchant_id"].iloc[0] == merchant_id:
            chosen.append(merchant_id)
        if len(chosen) == n:
            break
    return chosen


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def rss_mib(self) -> float:
        """Resident memory of the server process and all its children, MiB."""
        return _tree_sum(self.process.pid, lambda p: p.memory_info().rss) / 2**20

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process and its children used so far."""
        return _tree_sum(self.process.pid, _cpu)


def _cpu(p) -> float:
    t = p.cpu_times()
    return t.user + t.system


def _tree_sum(pid: int, measure: Callable) -> float:
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in (root, *root.children(recursive=True)):
        try:
            total += measure(p)
        except psutil.NoSuchProcess:
            pass
    return total


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children: measured around a browser phase, the driver,
    Playwright's node process and Chromium (they have exited and were reaped; the server is still running)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@contextmanager
def streamlit_server(state: Path, url: str, timeout_s: float = 90) -> Iterator[Server]:
    """A real ``streamlit run app.py`` on 127.0.0.1 over ``state`` and the database at ``url``."""
    port = _free_port()
    env = dict(os.environ, CB_STATE_DIR=str(state), CB_DATABASE_URL=url)
    log_path = state / "streamlit.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield Server(base, proc, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- one user's browser tab ----------------------------------------------------------------------
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

    async def error_messages(self) -> list[str]:
        """The engine's error messages on the page now (``st.error`` title followed by ``st.code``,
        which the browser may draw a moment after the run ended: its component loads lazily)."""
        from playwright.async_api import expect

        if not await self.live(LABEL["error"]).count():
            return []
        codes = self.page.locator(LIVE).get_by_test_id("stCode")
        await expect(codes.first).to_be_visible(timeout=self.timeout_ms)
        return [await codes.nth(i).inner_text() for i in range(await codes.count())]

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


async def _new_tab(browser, user: str, log: SessionLog, timeout_s: float) -> Tab:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    return Tab(page, user, log, timeout_s)


# -- the sessions ----------------------------------------------------------------------------------
async def officer_session(browser, base_url: str, user: str, merchants: list[str], run_id: str,
                          seed: int, timeout_s: float, attempts: list[DecisionAttempt], log: SessionLog) -> None:
    """Open the first merchant by its link (``merchant_review?merchant=...``) and sign in there; then for
    each merchant (searched after the first): record a decision with a unique note."""
    rng = random.Random(f"{seed}-{user}")
    tab = await _new_tab(browser, user, log, timeout_s)
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
                            tab.live(SAVED).or_(tab.live(LABEL["error"])))
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
    tab = await _new_tab(browser, user, log, timeout_s)
    page, seen = tab.page, [0]
    rate = page.get_by_test_id("stMetric").filter(has_text=LABEL["approval_rate"]).first.get_by_test_id("stMetricValue")
    try:
        await tab.sign_in(base_url, "cutoffs", "cutoffs", page.get_by_role("button", name=LABEL["publish"]),
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
        if await tab.live(LABEL["error"]).count():
            message = " | ".join(await tab.error_messages())
            found = POLICY_CONFLICT.search(message)
            if found is None or int(found.group(1)) > seen[0]:
                attempt.message = message
                return True
        return False

    await tab.timed("publish", tab.page.get_by_role("button", name=LABEL["publish"]).click, new_outcome)
    if attempt.version is not None:
        seen[0] = attempt.version
    elif attempt.conflict:
        seen[0] = int(POLICY_CONFLICT.search(attempt.message).group(1))
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


# -- exactly once --------------------------------------------------------------------------------
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


# -- one session alone: warm-up, memory over repeated page views --------------------------------
CYCLE = ("portfolio", "merchant_review", "merchant", "decisions", "model_report", "cutoffs")
READY = {"portfolio": lambda t: [t.live(re.compile("적용 정책"))],
         "merchant_review": lambda t: [t.page.get_by_label(LABEL["search"])],
         "decisions": lambda t: [t.page.get_by_role("tab").first],
         "model_report": lambda t: [t.live("AUC")],
         "cutoffs": lambda t: [t.page.get_by_role("button", name=LABEL["publish"])]}


async def warm_up(base_url: str, user: str, merchant_id: str, timeout_s: float = 300) -> SessionLog:
    """The first visits after the server started, by one admin session: Merchant review of one merchant
    (opened by its link, signing in there), then Cutoff tuning. They build the server's caches (book,
    model, explainer, scores, curves) that every later session shares."""
    from playwright.async_api import async_playwright

    log = SessionLog(user)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            tab = await _new_tab(browser, user, log, timeout_s)
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
            tab = await _new_tab(browser, user, session, timeout_s)
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


def slope_per_100(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MiB) per 100 loads over the last half of the samples."""
    half = [(x, y) for x, y in samples if x >= samples[-1][0] / 2]
    if len(half) < 2:
        return float("nan")
    x, y = np.array(half, dtype=float).T
    return float(np.polyfit(x, y, 1)[0] * 100)


# -- reporting -----------------------------------------------------------------------------------
def timing_table(timings: list[Timing]) -> str:
    """p50 / p95 / max seconds per kind of action (numpy's linear percentiles)."""
    kinds: dict[str, list[float]] = {}
    for t in timings:
        kinds.setdefault(t.kind, []).append(t.seconds)
    rows = ["| action | n | p50 s | p95 s | max s |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind, values in kinds.items():
        v = np.array(values)
        rows.append(f"| {kind} | {len(v)} | {np.percentile(v, 50):.2f} | {np.percentile(v, 95):.2f} | {v.max():.2f} |")
    return "\n".join(rows)


def machine() -> dict[str, str]:
    import psutil

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown") if Path("/proc/cpuinfo").exists() else "unknown"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    from importlib.metadata import version

    import streamlit

    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": str(os.cpu_count()), "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB", "cpu": cpu,
            "commit": commit + (" with uncommitted changes in the tree" if dirty else ""),
            "versions": f"Python {sys.version.split()[0]}, streamlit {streamlit.__version__}, "
                        f"playwright {version('playwright')}, {chromium}"}


def load_avg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Outcome:
    """Everything one bench run measured, for the report."""

    run: LoadRun
    check: Verification
    warm: SessionLog
    rss_before: float
    rss_after: float
    samples: list[tuple[int, float]] = field(default_factory=list)
    rss_log: SessionLog | None = None
    server_cpu: float = float("nan")  # CPU seconds during the concurrent phase
    browser_cpu: float = float("nan")

    @property
    def problems(self) -> list[str]:
        others = [self.warm] + ([self.rss_log] if self.rss_log else [])
        return self.run.problems + [f"{s.user}: {p}" for s in others for p in s.problems] + self.check.problems


def report_section(args: argparse.Namespace, info: dict[str, str], loads: tuple[str, str], backend: str,
                   pool: int, out: Outcome) -> str:
    c, run = out.check.counts, out.run
    problems = out.problems
    lines = [
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: many users (issue 8), {backend}",
        "",
        f"- Command: `.venv/bin/python {' '.join(sys.argv)}`",
        f"- Machine: nproc {info['nproc']}, {info['memory']} total memory, CPU `{info['cpu']}`; {info['versions']}",
        f"- Commit {info['commit']}",
        f"- Load average (1/5/15 min) at start {loads[0]}, at end {loads[1]}. The server, Chromium and the "
        "driver share these cores with each other and with other engineers' processes: every time is an upper bound.",
        f"- Book: {args.merchants:,} merchants x {args.months} months (seed {args.seed}). {args.officers} officers "
        f"({args.decisions_per_officer} merchants each, drawn from a shared pool of {pool}) and {args.pms} product "
        f"managers ({args.publish_rounds} publish rounds) at once, one headless Chromium, one browser context each; "
        f"the concurrent phase took {run.seconds:.0f} s wall.",
        "- Page time: from the action (goto, Enter, click, key presses) until a script run started after it has "
        "finished, the element showing the result is visible outside stale containers, and the app root's "
        "`data-test-script-state` is `notRunning` (bench/README.md). Percentiles are numpy's (linear).",
        "",
        "Warm-up, one session alone right after the server started (builds the shared caches):",
        "",
        timing_table(out.warm.timings),
        "",
        "All sessions at once:",
        "",
        timing_table(run.timings),
        "",
        f"Exactly once (read back from the store): {c['decisions_attempted']} decisions submitted, "
        f"{c['decisions_saved']} saved and shown with their id, {c['decision_conflicts']} refused with the "
        f"conflict message; {c['decisions_stored']} stored, {c['decision_audit_entries']} `decision.save` audit "
        f"entries ({c['superseding_decisions']} decisions supersede an earlier one; merchants with more than one "
        f"current decision: {c['merchants_with_forked_chains']}). Publishing: {c['publish_presses']} presses, "
        f"{c['publish_wins']} wins, {c['publish_conflicts']} conflict messages; {c['versions_stored']} versions "
        f"stored, {c['publish_audit_entries']} `policy.publish` and {c['draft_audit_entries']} `policy.draft` audit "
        f"entries; {c['sign_ins']} sign-ins, {c['login_audit_entries']} `login` audit entries. Problems: "
        + (f"none." if not problems else f"{len(problems)}: " + "; ".join(problems[:10])),
        "",
        f"CPU during the concurrent phase ({run.seconds:.0f} s wall): server {out.server_cpu:.0f} s, Chromium + "
        f"Playwright + driver {out.browser_cpu:.0f} s. Server RSS (process and children): {out.rss_before:.0f} MiB "
        f"after the warm-up, {out.rss_after:.0f} MiB after the concurrent phase.",
        "",
    ]
    if out.samples:
        values = [v for _, v in out.samples]
        lines += [
            f"Memory: then one admin session loaded {out.samples[-1][0]} pages (sidebar navigation Portfolio, "
            f"Merchant review, a merchant searched, Decisions, Model report, Cutoff tuning, in turn; every "
            f"{args.reload_every} loads a browser reload, i.e. a new server session signed in by the cookie), server "
            f"RSS sampled every {args.rss_every} loads: "
            f"start {values[0]:.0f} MiB, end {values[-1]:.0f} MiB, max {max(values):.0f} MiB; slope over the last "
            f"half {slope_per_100(out.samples):+.1f} MiB per 100 loads (least squares).",
            "",
            "| loads | " + " | ".join(str(x) for x, _ in out.samples) + " |",
            "| --- | " + " | ".join("---:" for _ in out.samples) + " |",
            "| RSS MiB | " + " | ".join(f"{v:.0f}" for _, v in out.samples) + " |",
            "",
            "Page times of that session alone:",
            "",
            timing_table(out.rss_log.timings if out.rss_log else []),
            "",
        ]
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--officers", type=int, default=20)
    p.add_argument("--pms", type=int, default=2)
    p.add_argument("--decisions-per-officer", type=int, default=3)
    p.add_argument("--publish-rounds", type=int, default=3)
    p.add_argument("--rss-loads", type=int, default=500, help="page loads of the memory session (0: skip)")
    p.add_argument("--rss-every", type=int, default=25)
    p.add_argument("--reload-every", type=int, default=100, help="memory session: reload and sign in every N loads")
    p.add_argument("--database", default="sqlite", help="sqlite (state folder file) or an empty database's URL")
    p.add_argument("--merchants", type=int, default=1500, help="demo book size")
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--timeout", type=float, default=180, help="seconds one action may take before it fails")
    p.add_argument("--workdir", type=Path, help="state folder parent (system temp by default; removed afterwards)")
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    p.add_argument("--no-results", action="store_true", help="print the section, do not append it")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    args = parse_args(argv)
    info, load_start = machine(), load_avg()
    work = Path(tempfile.mkdtemp(prefix="cb-load-", dir=args.workdir))
    try:
        state = work / "state"
        state.mkdir()
        log.info(f"building the demo book ({args.merchants:,} merchants) and its model in {state}")
        book = build_state(state, args.merchants, args.months, args.seed)
        url = database_url(state, args.database)
        users = create_users(url, args.officers, args.pms)
        pool = pick_merchants(book, max(args.officers * args.decisions_per_officer // 2, args.decisions_per_officer),
                              args.seed)
        rss_merchants = pick_merchants(book, 100, args.seed + 1)
        since = datetime.now(timezone.utc)
        with streamlit_server(state, url) as server:
            log.info(f"server {server.url}: warm-up")
            warm = asyncio.run(warm_up(server.url, users.rss, rss_merchants[0]))
            rss_before, server_cpu, own_cpu = server.rss_mib(), server.cpu_seconds(), own_cpu_seconds()
            log.info(f"{len(users.officers)} officers and {len(users.pms)} product managers at once")
            run = asyncio.run(run_load(server.url, users, assign_merchants(users, pool, args.decisions_per_officer,
                                                                           args.seed),
                                       publish_rounds=args.publish_rounds, run_id=f"{since:%H%M%S}",
                                       seed=args.seed, timeout_s=args.timeout))
            outcome = Outcome(run, Verification({}, []), warm, rss_before, server.rss_mib(),
                              server_cpu=server.cpu_seconds() - server_cpu, browser_cpu=own_cpu_seconds() - own_cpu)
            log.info(f"concurrent phase done in {run.seconds:.0f} s")
            if args.rss_loads:
                outcome.samples, outcome.rss_log = asyncio.run(rss_run(
                    server, users.rss, rss_merchants, args.rss_loads, args.rss_every, args.reload_every, args.timeout))
        extra = warm.sign_ins + (outcome.rss_log.sign_ins if outcome.rss_log else 0)
        outcome.check = verify(url, users, run, since, extra_sign_ins=extra)
        backend = "SQLite" if args.database == "sqlite" else {"postgresql": "PostgreSQL"}.get(
            url.split(":", 1)[0].split("+")[0], url.split(":", 1)[0])
        section = report_section(args, info, (load_start, load_avg()), backend, len(pool), outcome)
        print(section)
        print(json.dumps(outcome.check.counts))
        if not args.no_results:
            with open(args.results, "a", encoding="utf-8") as out:
                out.write("\n" + section)  # one write: other runs append their sections too
        for problem in outcome.problems:
            log.error("problem: %s", problem)
        return 1 if outcome.problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
