"""Production chrome in a real browser: no Deploy button and no developer menu for users."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.app import browser_open

pytestmark = pytest.mark.browser


def test_users_see_no_deploy_button_or_developer_menu(page, streamlit_server):
    browser_open(page, streamlit_server)  # admin: the role that sees every page
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    header = page.get_by_test_id("stHeader")
    expect(header).to_be_attached()
    # Streamlit draws both inside its header toolbar when client.toolbarMode allows them.
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(page.get_by_test_id("stMainMenu")).to_have_count(0)
    expect(header.get_by_text("Deploy", exact=True)).to_have_count(0)
