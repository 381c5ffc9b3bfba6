"""AppTest: the shell, the language switch and the Data page over the small book."""
from __future__ import annotations

import pytest

from cb_core.i18n import t
from tests.support.app import ROOT, app_as

APP = str(ROOT / "app.py")


@pytest.fixture
def at(app_users):
    return app_as("admin", app_users)


def _texts(app) -> str:
    parts = [m.value for m in app.markdown] + [t.value for t in app.title] + [s.value for s in app.subheader]
    parts += [str(m.label) + " " + str(m.value) for m in app.metric]
    parts += [e.value for e in app.error] + [s.value for s in app.success] + [i.value for i in app.info]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_renders_in_both_languages(at, lang):
    from ui.nav import PAGES

    titles = {}
    for page in PAGES:
        at.session_state["lang"] = lang
        at.switch_page(page.file).run()
        assert not at.exception, (page.file, at.exception)
        titles[lang, page.file] = at.title[0].value
        assert titles[lang, page.file] == t(page.title_key, lang)
    assert titles[lang, "views/data.py"] == {"ko": "데이터", "en": "Data"}[lang]


def test_data_page_shows_the_book(at, small_book):
    at.switch_page("views/data.py").run()
    at.session_state["lang"] = "en"
    at.run()
    text = _texts(at)
    assert small_book.fingerprint in text
    assert f"{len(small_book.merchants):,}" in text
    assert f"{len(small_book.activity):,}" in text
    assert f"Valid · last month {small_book.last_month}" in text
    quality = at.dataframe[0].value
    assert list(quality["Column in the file"]) == list(small_book.merchants.columns)
    row = quality.set_index("Column in the file").loc["bureau_score"]
    missing = int(small_book.merchants["bureau_score"].isna().sum())
    assert (row["Column"], row["Type"], row["Missing"]) == ("Owner bureau score", "whole number", f"{missing:,}")
    assert row["Missing share"] == f"{100 * missing / len(small_book.merchants):.1f}%"
    at.selectbox(key="data_table").set_value("monthly_activity").run()
    assert list(at.dataframe[0].value["Column in the file"]) == list(small_book.activity.columns)


def test_korean_is_the_default(at):
    at.switch_page("views/data.py").run()
    assert at.title[0].value == "데이터"
