"""ui.page_paths: which addresses are pages of a role, and where the others go."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from cb_core.access import ROLES
from ui.nav import PAGES, pages_for
from ui.page_paths import page_segment, redirect_for, take_missing


def _query(target: str) -> dict[str, list[str]]:
    parts = urlsplit(target)
    assert parts.path == "/"
    return parse_qs(parts.query)


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/cb/session", "/favicon.png", "/static/js/x.js",
                                  "/a/b", "/Data", "/1x"])
def test_what_is_not_written_like_a_page_is_left_to_streamlit(path):
    assert page_segment(path) is None
    assert redirect_for(path, "", None) is None


def test_every_page_of_a_role_but_its_first_is_served_by_name():
    for role in ROLES:
        pages = pages_for(role)
        first, others = pages[0].file, [p.file for p in pages[1:]]
        for file in others:
            stem = file.split("/")[-1][:-3]
            assert redirect_for(f"/{stem}", "", role) is None
            assert redirect_for(f"/{stem}/", "", role) is None
        stem = first.split("/")[-1][:-3]
        assert _query(redirect_for(f"/{stem}", "", role)) == {"missing": [stem]}
        hidden = [p for p in PAGES if p not in pages]
        for p in hidden:  # another role's page
            stem = p.file.split("/")[-1][:-3]
            assert _query(redirect_for(f"/{stem}", "", role))["missing"] == [stem]


def test_before_a_login_every_page_but_the_first_is_known():
    assert redirect_for("/merchant_review", "", None) is None
    assert _query(redirect_for("/portfolio", "", None))["missing"] == ["portfolio"]


def test_the_query_is_kept_and_a_forged_missing_replaced():
    target = redirect_for("/nope", "lang=en&missing=%3Cb%3E&merchant=M1", "admin")
    assert _query(target) == {"missing": ["nope"], "lang": ["en"], "merchant": ["M1"]}


def test_take_missing_removes_it():
    params = {"missing": "nope", "lang": "ko"}
    assert take_missing(params) == "nope" and params == {"lang": "ko"}
    assert take_missing(params) is None
