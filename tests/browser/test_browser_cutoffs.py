"""Real browser: Cutoff tuning's figures follow the slider (thin-file approval, swap counts), a saved
draft reopens into the sliders after a reload, and a version published from the command line is the
one the app then shows (issue #13)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.support.app import ROOT, browser_open

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def frame(small_book, trained):
    from cb_core.features.pipeline import current_snapshot
    from cb_core.strategy import strategy_frame

    model, _ = trained
    snap = current_snapshot(small_book)
    return strategy_frame(snap, model.score(snap), small_book.merchants)  # today: no outcomes


@pytest.fixture(scope="module")
def seen(small_book, trained):
    from cb_core.strategy import decision_frame

    return decision_frame(small_book, trained[0])


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True)).get_by_test_id("stMetricValue")


def _approve_slider(page):
    return page.get_by_role("slider").first


def _expected(app_users, frame, seen, trained, approve: int) -> tuple[str, str, str]:
    from cb_core.strategy import Policy, bureau_only_scores, policy_in_force, swap_sets, thin_file_uplift

    published = policy_in_force(app_users).policy
    draft = Policy.from_dict({**published.to_dict(), "approve_cutoff": approve,
                              "refer_cutoff": min(published.refer_cutoff, approve)})
    uplift = thin_file_uplift(frame, draft, bureau_only_scores(frame, trained[0].scale, fit_on=seen))
    swaps = swap_sets(frame, draft, match="approval")
    return (f"{uplift.thin_file_approval_rate:.1%}", f"{int(swaps.summary.loc['swap_in', 'n']):,}",
            f"{int(swaps.summary.loc['swap_out', 'n']):,}")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_moving_the_slider_moves_thin_file_approval_and_swap_counts(page, streamlit_server, app_users, frame, seen,
                                                                     trained, lang):
    from cb_core.i18n import t

    browser_open(page, streamlit_server, "cutoffs", user="kim")
    if lang == "en":
        page.goto(f"{streamlit_server}/cutoffs?lang=en")  # the language the address names (signed in by cookie)
        expect(page.locator("h1", has_text=t("nav_cutoffs", "en"))).to_be_visible(timeout=120_000)
    slider = _approve_slider(page)
    expect(slider).to_be_visible()
    start = int(slider.input_value())
    thin, swap_in, swap_out = _expected(app_users, frame, seen, trained, start)
    expect(_metric(page, t("thin_approval", lang))).to_have_text(re.compile(f"^{re.escape(thin)}"))
    slider.focus()
    for _ in range(40):
        slider.press("ArrowRight")
    expect(slider).to_have_value(str(start + 40))
    moved = _expected(app_users, frame, seen, trained, start + 40)
    assert moved != (thin, swap_in, swap_out)  # the figures do change at +40 points
    expect(_metric(page, t("thin_approval", lang))).to_have_text(re.compile(f"^{re.escape(moved[0])}"))
    expect(_metric(page, t("swap_in_count", lang))).to_have_text(moved[1])
    expect(_metric(page, t("swap_out_count", lang))).to_have_text(moved[2])
    stale = t("segments_intervals_stale", lang, approve=start, refer=0).split("(")[0].strip()  # before the cutoffs
    expect(page.get_by_text(re.compile(re.escape(stale))).first).to_be_visible()


def test_a_saved_draft_reopens_into_the_sliders_after_a_reload(page, streamlit_server, app_users):
    browser_open(page, streamlit_server, "cutoffs", user="kim")
    slider = _approve_slider(page)
    expect(slider).to_be_visible()
    start = int(slider.input_value())
    slider.focus()
    for _ in range(7):
        slider.press("ArrowLeft")
    expect(slider).to_have_value(str(start - 7))
    page.get_by_role("button", name="초안 저장").click()
    mine = None
    for _ in range(50):
        mine = app_users.draft_for("default", "kim")
        if mine is not None and mine.payload["approve_cutoff"] == start - 7:
            break
        page.wait_for_timeout(200)
    assert mine is not None and mine.payload["approve_cutoff"] == start - 7
    page.reload()
    slider = _approve_slider(page)
    expect(slider).to_have_value(str(start))  # a reload starts from the published policy
    page.get_by_role("button", name="슬라이더로 불러오기").click()
    expect(_approve_slider(page)).to_have_value(str(start - 7))
    page.get_by_role("button", name="초안 삭제").click()
    expect(page.get_by_text("초안을 삭제했습니다")).to_be_visible()
    assert app_users.draft_for("default", "kim") is None


def test_a_version_published_from_the_cli_is_the_one_the_app_shows(page, streamlit_server, app_users):
    before = app_users.published_policy("default")
    approve = 601 if before is None or before.payload["approve_cutoff"] != 601 else 603
    r = subprocess.run([sys.executable, "-m", "cb_core", "policy", "publish", "--approve", str(approve),
                        "--refer", "550", "--user", "kim", "--note", "from the command line",
                        "--database-url", app_users.url], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    version = json.loads(r.stdout)["version"]
    shown = subprocess.run([sys.executable, "-m", "cb_core", "policy", "show", "--database-url", app_users.url],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(shown.stdout)["version"] == version and json.loads(shown.stdout)["note"] == "from the command line"
    browser_open(page, streamlit_server, "cutoffs", user="kim")
    expect(_approve_slider(page)).to_have_value(str(approve))
    expect(page.get_by_text(re.compile(f"v{version} 대비 결정이 바뀌는 가맹점"))).to_be_visible()
