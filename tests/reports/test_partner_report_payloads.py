"""The partner report (HTML the engine writes) with the payload corpus in every name it shows:
parsed with html.parser, it holds only the report's own elements and attributes, no URL of the
payloads, and every payload as text."""
from __future__ import annotations

from datetime import datetime, timezone
from html.parser import HTMLParser

import pandas as pd
import pytest

from cb_core.offers import validate_products
from cb_core.reports import partner_pool, report_html, sample_merchants
from tests.support.payloads import EVIL_HOST, PAYLOADS

#: The elements and attributes report_html writes itself.
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "div", "p", "table", "thead", "tbody", "tr",
            "th", "td", "svg", "rect", "text"}
OWN_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "class", "xmlns", "width", "height", "role", "aria-label",
                  "x", "y", "fill", "font-size", "text-anchor"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _loan(pid: str, **names) -> dict:
    return {"product_id": pid, "partner": "Hanbit Bank", "partner_ko": PAYLOADS["markdown_link"], "min_score": 400,
            "min_months_active": 1, "min_avg_monthly_gmv_krw": 100_000, "limit_multiple_of_monthly_gmv": 2.0,
            "limit_cap_krw": 10_000_000, "apr_by_grade": {str(g): 5.0 + g for g in range(1, 11)}, "term_months": 12,
            "repayment": "amortizing", "broker_fee_pct": 1.0, **names}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_payload_names_come_out_as_text_only(lang):
    texts = list(PAYLOADS.values())
    products = validate_products([_loan(f"P-{i}", name=texts[i], name_en=texts[(i + 1) % len(texts)])
                                  for i in range(len(texts))])
    merchants = pd.DataFrame({"score": [700, 650], "grade": [2, 3], "pd": [0.02, 0.05], "months_active": [12, 12],
                              "gmv_3m_avg_krw": [2_000_000, 3_000_000], "category": ["food"] * 2,
                              "region": ["서울특별시"] * 2}, index=pd.Index(["M1", "M2"], name="merchant_id"))
    pool = partner_pool(merchants, products, "Hanbit Bank", lgd=0.5)
    people = pd.DataFrame({"merchant_id": ["M1", "M2"], "owner_name": [texts[0], texts[4]],
                           "business_reg_no": ["123-45-67890"] * 2})
    html = report_html(pool, sample_merchants(pool, people, lang), lang=lang,
                       generated_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
                       model_version=PAYLOADS["html_script"], book_label=PAYLOADS["html_img"])
    reader = _Reader()
    reader.feed(html)
    reader.close()
    assert {tag for tag, _ in reader.tags} <= OWN_TAGS
    attributes = [(name, value or "") for _, attrs in reader.tags for name, value in attrs]
    assert {name for name, _ in attributes} <= OWN_ATTRIBUTES
    assert not [value for _, value in attributes if EVIL_HOST in value]
    # the report forbids fetching anything, whatever a browser makes of it
    csp = [dict(attrs) for tag, attrs in reader.tags if tag == "meta" and dict(attrs).get("http-equiv")]
    assert csp == [{"http-equiv": "Content-Security-Policy",
                    "content": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"}]
    text = "".join(reader.text)
    shown = [p for p in texts if p in text]  # product names in this language, the model version and book label
    names = {texts[i] if lang == "ko" else texts[(i + 1) % len(texts)] for i in range(len(texts))}
    assert names | {PAYLOADS["html_script"], PAYLOADS["html_img"]} <= set(shown)
    if lang == "ko":
        assert PAYLOADS["markdown_link"] in text  # the partner's Korean name, in the title
