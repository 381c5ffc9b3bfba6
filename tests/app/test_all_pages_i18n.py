"""Every page, for every role that may see it, in Korean and in English: no untranslated catalog key,
no snake_case token, no nan/None/inf, no scientific notation or raw 4-decimal number, no Python repr,
and no Latin-only text on a Korean page (issue #13). Pages come from ui.nav.PAGES, so a page added
there is covered without touching this file.

What counts as shown text and the rules themselves: tests/support/visible.py (the allow-list of
Latin tokens, ALLOWED_LATIN, is reviewed there). Data values are allowed as they are: merchant and
partner names, product codes and names, user names, ids and fingerprints.
"""
from __future__ import annotations

import json

import pytest

from cb_core.config import Settings
from cb_core.data import categories
from ui.explanation_panel import EXPLANATION_OPEN
from ui.offers_panel import SIMULATOR_OPEN
from tests.support.app import ROOT, USERS, app_as
from tests.support.visible import text_problems, visible_texts
from ui.nav import PAGES

#: One user of each role (the test users of the app state).
USER_OF_ROLE = {role: name for name, (role, _partner) in USERS.items()}
CASES = [pytest.param(page.file, role, lang, id=f"{page.file.split('/')[-1][:-3]}-{role}-{lang}")
         for page in PAGES for role in page.roles if role in USER_OF_ROLE for lang in ("ko", "en")]


@pytest.fixture(scope="module")
def data_texts(small_book, app_users):
    """Texts that are data, not prose: shown as they are in either language."""
    allowed = set(USERS) | {"Hanbit Bank"}
    merchants = small_book.merchants
    for column in ("merchant_id", "business_name", "owner_name", "business_reg_no"):
        allowed |= set(merchants[column].astype(str))
    for product in json.loads((ROOT / "data" / "loan_products.json").read_text(encoding="utf-8")):
        allowed |= {str(product.get(k)) for k in ("product_id", "partner", "partner_ko", "name", "name_en")}
    allowed.add(small_book.fingerprint)
    # names a user types or reads in files and commands: table and column names of the upload
    # format (shown next to their Korean names on the Data page), settings, the CLI module
    for table, frame in small_book.tables().items():
        allowed |= {table, *map(str, frame.columns)}
    allowed |= set(Settings.__dataclass_fields__) | {"cb_core"}
    # category codes: typed into the Products editor's "eligible categories" cells
    allowed |= set(categories())
    return allowed


def _typed_by_users(store) -> set[str]:
    """Notes, reasons and messages other tests typed into the shared store (a decision's note "their
    note" is the user's words, shown as written on a Korean page), read from every such column."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(store.url)
    found: set[str] = set()
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                for column in inspect(engine).get_columns(table):
                    if column["name"] in ("note", "notes", "message", "reason", "text", "body", "comment"):
                        rows = conn.execute(text(f'SELECT "{column["name"]}" FROM "{table}"'))
                        found |= {str(value) for (value,) in rows if value}
    finally:
        engine.dispose()
    return found


def test_every_page_and_role_is_covered():
    """The pages of the nav with the roles that see them: each appears in both languages."""
    files = {c.values[0] for c in CASES}
    assert files == {p.file for p in PAGES}
    assert len(CASES) == 2 * sum(len([r for r in p.roles if r in USER_OF_ROLE]) for p in PAGES)


def test_the_rules_catch_what_they_should():
    """The checks themselves, on texts seen before the sweep (and ones that must pass)."""
    bad = [("markdown.body", "expected_bad_rate"), ("dataframe.cell", "nan"), ("metric.value", "7.52e+04"),
           ("dataframe.cell", "571.6683"), ("dataframe.cell", "{'role': 'pm', 'partner': None}"),
           ("caption.body", "wrong user name or password"), ("markdown.body", "nav_admin"),
           ("multiselect:placeholder", "Choose options")]
    found = text_problems(bad, "ko")
    assert len(found) == len(bad), found
    assert "snake_case" in found[0] and "nan" in found[1] and "scientific" in found[2]
    assert "4-decimal" in found[3] and "repr" in found[4] and "Latin-only" in found[5]
    assert "catalog key" in found[6] and "Latin-only" in found[7]
    good = [("metric.value", "5억 7,186만원"), ("dataframe.cell", "0.072"), ("caption.body", "PSI 0.012 (KST)"),
            ("markdown.body", "최근 3개월 평균 매출"), ("dataframe.cell", "BANK-01"), ("metric.value", "71.7%")]
    assert text_problems(good, "ko", {"BANK-01"}) == []
    assert text_problems([("caption.body", "wrong user name or password")], "en") == []


def test_the_axis_rule_catches_default_ticks_on_large_numbers():
    """Counts or won amounts of 10,000 and more on plotly's default ticks read "10k" / "1.5B": caught,
    whether plotly wrote the values as a list or as a typed array; a tickformat or own ticks pass."""
    import numpy as np
    import plotly.graph_objects as go

    from tests.support.visible import axis_format_problems

    typed = go.Figure(go.Bar(x=np.arange(3), y=np.array([100, 4_000, 12_000])))
    listed = go.Figure(go.Scatter(x=[1.5e9, 2e9], y=[0.1, 0.2], xaxis="x2"))
    assert axis_format_problems(typed.to_json()) == ["chart yaxis: values up to 12,000 with plotly's default ticks"]
    assert axis_format_problems(listed.to_json()) == ["chart xaxis2: values up to 2,000,000,000 with plotly's default ticks"]
    assert axis_format_problems(typed.update_layout(yaxis_tickformat=",d").to_json()) == []
    assert axis_format_problems(go.Figure(go.Bar(y=[9_999])).to_json()) == []
    assert text_problems([("axis-format", "chart yaxis: values up to 12,000")], "en") != []
    months = go.Figure(go.Scatter(x=["2026-03", "2026-04"], y=[1, 2]))
    assert axis_format_problems(months.to_json()) == [
        "chart xaxis: months with plotly's default date ticks (English month names)"]
    assert axis_format_problems(months.update_xaxes(tickformat="%Y-%m").to_json()) == []


@pytest.mark.parametrize("file,role,lang", CASES)
def test_page_reads_in_its_language(app_users, data_texts, file, role, lang):
    app = app_as(USER_OF_ROLE[role], app_users)
    app.session_state["lang"] = lang
    for key in (EXPLANATION_OPEN, SIMULATOR_OPEN):  # what is drawn only once opened is read too
        app.session_state[key] = True
    app.switch_page(file).run()
    texts = visible_texts(app)
    assert len(texts) > 5, texts  # the page drew something (not a blank page or a bare error)
    problems = text_problems(texts, lang, data_texts | _typed_by_users(app_users))
    assert problems == [], "\n".join(problems)
