"""What app, browser and load tests share: the repository root, the test users, Chromium's
launch arguments, an AppTest signed in as a user, and a browser sign-in."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from bench.serve import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (their one home, shared with bench/)

ROOT = Path(__file__).resolve().parents[2]


#: Test users of the app state: name -> (role, partner). Passwords are PASSWORD.
USERS = {"admin": ("admin", None), "kim": ("pm", None), "lee": ("officer", None), "park": ("partner", "Hanbit Bank")}
PASSWORD = "correct horse battery staple"


def app_as(name: str, store, timeout: int = 180):
    """An AppTest of app.py signed in as ``name`` (a real session in the store), after its first run."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    app.session_state["token"] = store.start_session(name)
    app.run()
    assert not app.exception, app.exception
    return app


@contextmanager
def data_page_with_uploads(store, lang: str):
    """The Data page signed in as admin in ``lang``, with ``st.file_uploader`` handing over the files
    a test puts in the yielded list: AppTest cannot drive an uploader, and it runs the script in this
    process, so the uploader is replaced by a function returning them. Yields ``(app, files)``."""
    import pytest
    import streamlit

    files: list = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(streamlit, "file_uploader", lambda *args, **kwargs: list(files))
        app = app_as("admin", store)
        app.session_state["lang"] = lang
        app.switch_page("views/data.py").run()
        assert not app.exception, app.exception
        yield app, files


@contextmanager
def browser_page(chromium, width: int = 1400, height: int = 1000, timeout_ms: int = 30_000):
    """A Korean-locale page of its own browser context at ``width`` x ``height`` (closed afterwards)."""
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()


def browser_open(page, base_url: str, path: str = "", user: str = "admin") -> None:
    """Open ``base_url/path`` in the browser and sign in as ``user`` on the login form it shows; returns
    once the app shows and the login's background fetch has set the session cookie (a reload then stays
    signed in)."""
    from playwright.sync_api import expect

    page.context.clear_cookies()  # a fresh sign-in each time, even where the session cookie would do
    page.goto(f"{base_url}/{path}")
    page.get_by_label("사용자 이름").fill(user)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    expect(page.get_by_role("button", name="로그아웃")).to_be_visible()
    session_cookie(page)


def session_cookie(page, timeout_ms: int = 30_000) -> dict:
    """The browser's ``cb_session`` cookie, once set (the login sets it from a background fetch, just
    after the app shows); AssertionError when it does not come within ``timeout_ms``."""
    for _ in range(max(1, timeout_ms // 100)):
        found = [c for c in page.context.cookies() if c["name"] == "cb_session"]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("the session cookie was not set after the login")


def products_page(store, user: str = "kim"):
    """The Products page in English, signed in as ``user`` (a product manager by default)."""
    app = app_as(user, store)
    app.session_state["lang"] = "en"
    app.switch_page("views/products.py").run()
    assert not app.exception, app.exception
    return app


def edit_catalog(app, version: int, rows: dict[int, dict]) -> None:
    """Edit rows of the Products page's table (the editor of catalog ``version``) and press Save."""
    app.session_state[f"prod_editor_v{version}"] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    app.button(key="prod_save").click().run()
    assert not app.exception, app.exception


def offers_script(merchant_id: str) -> None:
    """An AppTest script (``AppTest.from_function(offers_script, args=(id,))``) that draws one
    merchant's offers panel from the book and model in use."""
    import streamlit as st

    from ui import cache
    from ui.offers_panel import render_offers

    st.session_state.setdefault("lang", "en")
    book, model = cache.book_and_model()
    snap, scores = cache.snapshot(book), cache.scores(book, model)
    render_offers(book, model, merchant_id, snap.loc[merchant_id], int(scores.loc[merchant_id, "score"]),
                  int(scores.loc[merchant_id, "grade"]))
