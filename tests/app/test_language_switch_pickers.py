"""A language switch on a page with translated pickers (ui.session.translated_picker), which sets each choice
again, keeps every choice and raises nothing, pickers inside forms (the admin page's) included. That the
browser then redraws the labels in the new language is what tests/browser/test_browser_language.py and
test_browser_review.py show (AppTest sees only the server's side)."""
from __future__ import annotations

import pytest

from tests.support.app import USERS, app_as
from ui import session

ADMIN = next(name for name, (role, _partner) in USERS.items() if role == "admin")


@pytest.mark.parametrize("file", ["views/merchant_review.py", "views/data.py", "views/decisions.py",
                                  "views/partner_view.py", "views/admin.py", "views/model_report.py",
                                  "views/book_performance.py"])
def test_a_language_switch_keeps_every_picker_without_an_error(app_users, file):
    app = app_as(ADMIN, app_users)
    app.switch_page(file).run()
    assert not app.exception, app.exception
    shown = {box.key: box.value for box in app.selectbox if box.key in session._TRANSLATED_PICKERS}
    assert shown, "the page has translated pickers"
    app.radio(key="lang_radio").set_value("en").run()
    assert not app.exception, app.exception
    assert app.session_state["lang"] == "en"
    after = {box.key: box.value for box in app.selectbox if box.key in shown}
    assert after == shown  # the same choices, now labelled in English


def test_the_role_picker_is_drawn_anew_in_the_new_language_at_the_users_role(app_users):
    """The admin's role picker passes index= (the chosen user's role), which may not be set again: it is one
    picker per language, so a switch draws a new one, labelled in the new language."""
    app = app_as(ADMIN, app_users)
    app.switch_page("views/admin.py").run()
    app.selectbox(key="um_user").set_value(ADMIN).run()
    assert app.selectbox(key="um_role_ko").value == "admin"
    app.radio(key="lang_radio").set_value("en").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="um_role_en").value == "admin"
    assert "um_role_ko" not in [box.key for box in app.selectbox]
