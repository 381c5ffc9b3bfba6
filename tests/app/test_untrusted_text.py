"""AppTest: untrusted text never renders as markup (issue #17).

An app state whose book, catalog, decision note, request and upload file names carry the payload
corpus (tests/support/payloads.py); every page for every role, Merchant review on each payload
merchant, every payload as search text and as the ``?merchant=`` query parameter. Each run's element
tree is walked: no string Streamlit renders as Markdown (bodies, labels, help, metric values, radio
options, st.table cells, expander and tab labels) holds a payload's raw syntax or a bidi control,
nor more than a line of it; Plotly specs hold no payload HTML; and the payloads are still shown,
as plain text, where their page shows them.
"""
from __future__ import annotations

import re
import string

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.app import PASSWORD, ROOT, USERS
from tests.support.payloads import (BIDI_CONTROLS, BUSINESS_AT, EVIL_HOST, FORMULA, HTML_IMG, HUGE, KATEX, MARKDOWN_IMAGE,
                                    MARKDOWN_LINK, MARKUP, OWNER_AT, PAYLOADS, UPLOAD_SOURCE, install_payload_state,
                                    payload_catalog)
from ui.nav import pages_for
from ui.text import cell, unescape

#: (proto message, field) pairs Streamlit draws as given; every other string field is taken as Markdown.
PLAIN_FIELDS = {("Code", "code_text"), ("Text", "body"), ("Selectbox", "options"), ("Selectbox", "raw_value"),
                ("MultiSelect", "options"), ("MultiSelect", "raw_values"),
                ("TextInput", "value"), ("TextInput", "default"), ("TextArea", "value"), ("TextArea", "default"),
                ("DownloadButton", "url")}
#: A backslash-escaped ASCII punctuation character (CommonMark shows it literally).
ESCAPED = re.compile(f"\\\\[{re.escape(string.punctuation)}]")
#: What GFM turns into a link even after escapes: a URL's start, ``www.``, an e-mail address.
AUTOLINKS = re.compile(r"(?i)(https?://|www\.|[\w.+-]@[\w-]+\.[\w-])")
#: Fields that are not shown (ids, keys, URLs of the server's own media).
HIDDEN_FIELDS = {"id", "form_id", "fragment_id", "query_param_key", "element_hash", "spec", "config", "theme",
                 "data", "url", "file_name", "type"}


@pytest.fixture(scope="module")
def payload_state(tmp_path_factory, small_book, trained):
    """(state folder, store, book): the payload app state (see install_payload_state)."""
    state = tmp_path_factory.mktemp("payload_state")
    store, book = install_payload_state(state, small_book, trained, USERS, PASSWORD)
    yield state, store, book
    store.close()


@pytest.fixture
def payload_app(payload_state, monkeypatch):
    """A function making a signed-in AppTest over the payload state (query parameters set before its first run)."""
    state, store, _ = payload_state
    monkeypatch.setenv("CB_STATE_DIR", str(state))

    def make(name: str, query: dict[str, str] | None = None) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        for key, value in (query or {}).items():
            app.query_params[key] = value
        app.session_state["token"] = store.start_session(name)
        app.session_state["lang"] = "en"
        app.run()
        assert not app.exception, app.exception
        return app

    return make


# ------------------------------------------------------------------ reading an AppTest run


def _strings(message, prefix: str = ""):
    """(field name, string) of every string field of a proto message, nested messages included."""
    for field, value in message.ListFields():
        if field.name in HIDDEN_FIELDS:
            continue
        repeated = not isinstance(value, (str, bytes)) and not hasattr(value, "ListFields") and hasattr(value, "__iter__")
        values = value if repeated else [value]
        for v in values:
            if isinstance(v, str):
                yield field.name, v
            elif hasattr(v, "ListFields"):
                yield from _strings(v, f"{prefix}{field.name}.")


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def rendered(app: AppTest) -> tuple[list[str], list[str], list[str]]:
    """(strings rendered as Markdown, strings drawn as given, Plotly specs) of the app's last run."""
    markdown, plain, charts = [], [], []
    for node in _nodes(app._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(proto).__name__
        if kind == "PlotlyChart":
            charts.append(proto.spec)
            continue
        for name, text in _strings(proto):
            (plain if (kind, name) in PLAIN_FIELDS else markdown).append(text)
    for table in app.table:  # st.table cells are Markdown
        markdown += [str(v) for v in table.value.astype(str).to_numpy().ravel()]
    for frame in app.dataframe:
        value = frame.value
        plain += [str(c) for c in value.columns]
        plain += [v for v in value.to_numpy().ravel() if isinstance(v, str)]
    return markdown, plain, charts


def markup_found(app: AppTest) -> list[str]:
    """Every way the run shows a payload as markup (empty when none)."""
    markdown, plain, charts = rendered(app)
    found = []
    for text in markdown:
        live = ESCAPED.sub("", text)  # what Markdown still reads as syntax: escaped characters are literal text
        found += [f"Markdown {snippet!r} in {text[:120]!r}" for snippet in MARKUP if snippet in live]
        # GFM links bare URLs and addresses in the text as read (escapes resolved): a word joiner must break them
        literal = ESCAPED.sub(lambda m: m.group(0)[1], text)
        found += [f"autolink {m.group(0)!r} in {text[:120]!r}" for m in AUTOLINKS.finditer(literal)]
        if "A" * 300 in text:
            found.append(f"Markdown holds a 100 kB payload uncut: {text[:80]!r}")
    for text in markdown + plain:
        found += [f"bidi control U+{ord(c):04X} in {text[:120]!r}" for c in BIDI_CONTROLS if c in text]
    for spec in charts:
        found += [f"chart holds {s!r}" for s in ("<img", "<script", "<a ", EVIL_HOST) if s in spec]
    return found


def shown(app: AppTest) -> str:
    """All the text the run shows, as a reader sees it (Markdown escapes removed)."""
    markdown, plain, _ = rendered(app)
    return "\n".join([unescape(m) for m in markdown] + plain)


def _seen(payload: str, text: str) -> bool:
    return cell(payload)[:60] in text


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("name", list(USERS))
def test_every_page_of_every_role_shows_payloads_as_plain_text(payload_app, name):
    app = payload_app(name)
    role = USERS[name][0]
    for page in pages_for(role):
        app.switch_page(page.file).run()
        assert not app.exception, (page.file, app.exception)
        assert markup_found(app) == [], page.file


def test_merchant_review_shows_each_payload_merchant_as_plain_text(payload_app, payload_state):
    _, _, book = payload_state
    app = payload_app("admin")
    app.switch_page("views/merchant_review.py").run()
    ids = book.merchants["merchant_id"].astype(str).tolist()
    for position, payload in enumerate(PAYLOADS.values()):
        merchant_id = ids[BUSINESS_AT + position]
        app.text_input(key="review_query").set_value(merchant_id).run()
        assert not app.exception, app.exception
        assert app.selectbox(key="review_merchant").value == merchant_id
        assert markup_found(app) == [], merchant_id
        profile = app.dataframe[0].value.iloc[:, 1].tolist()
        assert cell(payload) in profile  # the business name, as plain text in the profile
        assert any(o.startswith(f"{merchant_id} · {cell(payload)[:40]}") for o in app.selectbox(key="review_merchant").options)
        owner = ids[OWNER_AT + position] if OWNER_AT + position < len(ids) else None
        if owner is not None and position + BUSINESS_AT >= OWNER_AT:
            assert cell(list(PAYLOADS.values())[position + BUSINESS_AT - OWNER_AT]) in profile  # the owner name
    # the first merchant's decision note, shown in its history; the offers name the payload products
    app.text_input(key="review_query").set_value(ids[BUSINESS_AT]).run()
    text = shown(app)
    assert _seen(MARKDOWN_LINK + " " + HTML_IMG, text)
    assert _seen(FORMULA, text) or _seen(KATEX, text)


@pytest.mark.parametrize("payload", list(PAYLOADS), ids=list(PAYLOADS))
def test_search_text_is_reflected_as_plain_text(payload_app, payload):
    app = payload_app("lee")
    app.switch_page("views/merchant_review.py").run()
    app.text_input(key="review_query").set_value("zz-" + PAYLOADS[payload]).run()  # no merchant matches it
    assert not app.exception, app.exception
    assert markup_found(app) == []
    warning = app.warning[0].value
    assert unescape(warning).startswith("No merchant matches 'zz-" + cell(PAYLOADS[payload])[:150])


@pytest.mark.parametrize("payload", list(PAYLOADS), ids=list(PAYLOADS))
def test_query_parameter_is_reflected_as_plain_text(payload_app, payload):
    app = payload_app("lee", query={"merchant": "zz-" + PAYLOADS[payload]})  # a crafted link
    app.switch_page("views/merchant_review.py").run()
    assert not app.exception, app.exception
    # the search box gets the parameter cut to a search's length, its bidi controls made visible
    assert app.text_input(key="review_query").value == cell("zz-" + PAYLOADS[payload], 200)
    assert markup_found(app) == []
    assert unescape(app.warning[0].value).startswith("No merchant matches 'zz-" + cell(PAYLOADS[payload])[:150])


def test_query_parameter_fills_the_search_without_rendering_it(payload_app):
    app = payload_app("lee", query={"merchant": MARKDOWN_LINK})
    app.switch_page("views/merchant_review.py").run()
    assert app.text_input(key="review_query").value == MARKDOWN_LINK
    assert markup_found(app) == []
    assert any(f" · {MARKDOWN_LINK} · " in o for o in app.selectbox(key="review_merchant").options)  # id · name · …


def test_notes_requests_file_names_and_catalog_names_are_shown_as_plain_text(payload_app):
    app = payload_app("admin")
    expected = {
        "views/decisions.py": [MARKDOWN_LINK + " " + HTML_IMG, MARKDOWN_IMAGE + " " + KATEX],
        "views/data.py": [UPLOAD_SOURCE.removeprefix("upload: ")],  # "Upload:" in words, the names as given
        "views/products.py": [MARKDOWN_LINK, HTML_IMG, KATEX, FORMULA],
        "views/partner_view.py": [next(r["name_en"] for r in payload_catalog() if r["partner"] == "Hanbit Bank")],
        "views/admin.py": [],
    }
    for page, payloads in expected.items():
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert markup_found(app) == [], page
        text = shown(app)
        missing = [p for p in payloads if not _seen(p, text)]
        assert missing == [], page


def test_the_corpus_has_what_the_issue_names():
    assert len(HUGE) >= 100_000
    joined = "".join(PAYLOADS.values())
    for needed in ("[log in again](http://evil.example/", "![i](http://evil.example/", "<img src=", "<script",
                   "$\\frac{a}{b}$", ":red[", ":material/home:", "=HYPERLINK(", "+1", "@", "\u202e"):
        assert needed in joined, needed
