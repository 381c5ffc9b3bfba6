"""A corpus of hostile text: what an uploaded book, a catalog file, a note or a crafted link may carry.

Each payload is text that some renderer would turn into markup: Markdown links and images (the
officer's browser would fetch ``evil.example``), raw HTML, KaTeX, Streamlit's colour and icon
directives, spreadsheet formula prefixes, bidirectional controls and a 100 kB string. Every URL
points at :data:`EVIL_HOST`, so a browser test can watch for any request to it.

:data:`MARKUP` lists, per payload, the raw snippets that must never reach an element that renders
Markdown or HTML unescaped (their escaped forms are fine: ``\\[log in again\\]\\(…``).
"""
from __future__ import annotations

EVIL_HOST = "evil.example"
EVIL = f"http://{EVIL_HOST}"

MARKDOWN_LINK = f"**bold** [log in again]({EVIL}/login) shop"
MARKDOWN_IMAGE = f"![i]({EVIL}/i.png) shop"
AUTOLINK = f"<{EVIL}/auto> {EVIL}/bare www.{EVIL_HOST}/www phish@{EVIL_HOST} shop"
HTML_IMG = f"<img src={EVIL}/x onerror=alert(1)> shop"
HTML_SCRIPT = f"<script src=\"{EVIL}/s.js\"></script><script>alert(1)</script> shop"
KATEX = r"$\frac{a}{b}$ and $$x^2$$ shop"
DIRECTIVES = ":red[alarm] :material/home: :rainbow-background[x] :smile: shop"
FORMULA = "=HYPERLINK(\"http://evil.example/f\",\"click\")"
FORMULA_PLUS = "+1+cmd|' /C calc'!A0"
FORMULA_AT = "@SUM(1+1)*cmd"
BIDI = "shop \u202egnp.exe\u202c \u2066isolate\u2069 end"
HUGE = "A" * 50_000 + f"[x]({EVIL}/huge)" + "B" * 50_000  # 100 kB, with a link in the middle

#: name -> payload text.
PAYLOADS: dict[str, str] = {
    "markdown_link": MARKDOWN_LINK, "markdown_image": MARKDOWN_IMAGE, "autolink": AUTOLINK,
    "html_img": HTML_IMG, "html_script": HTML_SCRIPT, "katex": KATEX, "directives": DIRECTIVES,
    "formula": FORMULA, "formula_plus": FORMULA_PLUS, "formula_at": FORMULA_AT, "bidi": BIDI, "huge": HUGE,
}

#: Raw syntax that must not appear in a Markdown/HTML-rendered string (escaped forms differ).
MARKUP: tuple[str, ...] = (
    f"]({EVIL}", "](http", "![", f"<{EVIL}", f"{EVIL}/bare", f"www.{EVIL_HOST}", "<img", "<script", "onerror=",
    "$\\frac", "$$", ":red[", ":material/", ":rainbow-background[", "**bold**",
)

#: Bidirectional control characters: never on the page as such (shown as ⟨U+202E⟩).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def with_payloads(values: list[str], start: int = 0) -> list[str]:
    """``values`` with its first payloads replaced by the corpus in order (from ``start``)."""
    out = list(values)
    for i, payload in enumerate(PAYLOADS.values()):
        if start + i < len(out):
            out[start + i] = payload
    return out


# ------------------------------------------------------------------ an app state full of payloads

#: Merchants (by position in the book) whose business name is a payload, and whose owner name is.
BUSINESS_AT, OWNER_AT = 0, 3
#: What the Data page says the book was loaded from: upload file names carrying payloads.
UPLOAD_SOURCE = "upload: " + ", ".join([MARKDOWN_IMAGE + ".csv", HTML_IMG + ".parquet", BIDI + ".csv"])


def payload_book(book):
    """``book`` (a seeded synth book) with business and owner names replaced by the corpus, as an
    upload whose file names carry payloads; validated like any upload."""
    from cb_core.data.schema import validate_tables

    merchants = book.merchants.copy()
    merchants["business_name"] = with_payloads(merchants["business_name"].tolist(), BUSINESS_AT)
    merchants["owner_name"] = with_payloads(merchants["owner_name"].tolist(), OWNER_AT)
    tables = {"merchants": merchants, "monthly_activity": book.activity}
    if book.outcomes is not None:
        tables["outcomes"] = book.outcomes
    return validate_tables(tables, source=UPLOAD_SOURCE)


def payload_catalog() -> list[dict]:
    """The shipped catalog with every product's names (and Hanbit Bank's Korean name) replaced by
    payloads; partner keys stay, so the partner login still finds its products."""
    from cb_core.offers import load_products, products_to_records

    records = products_to_records(load_products())
    texts = list(PAYLOADS.values())
    for i, record in enumerate(records):
        record["name"] = texts[i % len(texts)]
        record["name_en"] = texts[(i + 1) % len(texts)]
        if record["partner"] == "Hanbit Bank":
            record["partner_ko"] = MARKDOWN_LINK
    return records


def install_payload_state(state, book, trained, users: dict, password: str):
    """A complete app state in ``state``: the payload book, the model, one user per role, the payload
    catalog saved by ``kim``, and for the first payload merchant a decision whose note and a request
    whose details are payloads. Returns ``(store, book)``; close the store when done."""
    from cb_core.config import get_settings
    from cb_core.data.sources import save_current
    from cb_core.store import Store, default_url
    from cb_core.workspace import install_model

    book = payload_book(book)
    save_current(book, state)
    settings = get_settings(state_dir=str(state))
    model, report = trained
    install_model(model, report, settings=settings)
    store = Store(default_url(settings))
    for name, (role, partner) in users.items():
        if store.get_user(name) is None:
            store.add_user(name, role, partner=partner, password=password)
    store.save_products(payload_catalog(), "kim", expected_version=None)
    merchant_id = str(book.merchants["merchant_id"].iloc[BUSINESS_AT])
    store.save_decision(merchant_id, "refer", MARKDOWN_LINK + " " + HTML_IMG + " " + BIDI, "lee", 600, 4, 0.02, [],
                        None, None, model.version)
    store.open_request(merchant_id, "explanation", MARKDOWN_IMAGE + " " + KATEX + " " + FORMULA, "lee")
    return store, book
