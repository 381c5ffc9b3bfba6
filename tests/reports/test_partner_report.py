"""Partner pools and the take-away report: hand-computed pool figures, isolation between partners,
masking, escaping."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import ConfigError
from cb_core.offers import load_products, offers_for, validate_products
from cb_core.reports import partner_pool, partners, pool_input, products_table, report_html, sample_merchants

AT = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)


def loan(pid, partner, **changes):
    record = {"product_id": pid, "partner": partner, "partner_ko": partner + " 한글", "name": f"{pid} 대출",
              "name_en": f"{pid} Loan", "min_score": 600, "min_months_active": 3, "min_avg_monthly_gmv_krw": 500_000,
              "limit_multiple_of_monthly_gmv": 2.0, "limit_cap_krw": 10_000_000,
              "apr_by_grade": {"1": 5.0, "2": 6.0, "3": 7.0}, "term_months": 12, "repayment": "amortizing",
              "broker_fee_pct": 1.0}
    return {**record, **changes}


@pytest.fixture(scope="module")
def catalog():
    return validate_products([
        loan("A-1", "Alpha Bank"),
        loan("A-2", "Alpha Bank", min_score=500, limit_multiple_of_monthly_gmv=1.0, limit_cap_krw=5_000_000,
             apr_by_grade={str(g): 9.0 + g for g in range(1, 7)}, broker_fee_pct=2.0),
        loan("B-1", "Beta Capital", min_score=400, apr_by_grade={str(g): 15.0 for g in range(1, 11)}),
    ])


@pytest.fixture(scope="module")
def merchants_frame():
    return pd.DataFrame({
        "score": [700, 550, 450, 650], "grade": [2, 5, 8, 3], "pd": [0.02, 0.10, 0.30, 0.05],
        "months_active": [12, 12, 12, 2], "gmv_3m_avg_krw": [2_000_000, 3_000_000, 1_000_000, 4_000_000],
        "category": ["food"] * 4, "region": ["서울특별시"] * 4,
    }, index=pd.Index(["M1", "M2", "M3", "M4"], name="merchant_id"))


def test_pool_figures_by_hand(catalog, merchants_frame):
    pool = partner_pool(merchants_frame, catalog, "Alpha Bank", lgd=0.5)
    # M1: A-1 (limit min(2 x 2,000,000, 10M) = 4,000,000 at 6%) beats A-2 (2,000,000 at 11%).
    # M2: fails A-1's score; A-2: min(3,000,000, 5M) = 3,000,000 at 14%. M3: score 450 < 500. M4: 2 months < 3.
    assert list(pool.offers.index) == ["M1", "M2"]
    assert pool.offers["product_id"].tolist() == ["A-1", "A-2"]
    assert pool.n_merchants == 4 and pool.n_eligible == 2 and pool.eligible_share == 0.5
    assert pool.limit_volume_krw == 7_000_000
    assert pool.expected_bad_rate == pytest.approx((0.02 + 0.10) / 2)
    assert pool.expected_loss_krw == pytest.approx(0.02 * 0.5 * 4_000_000 + 0.10 * 0.5 * 3_000_000)  # 190,000
    assert pool.broker_fee_krw == pytest.approx(4_000_000 * 0.01 + 3_000_000 * 0.02)  # 100,000
    by = pool.by_product.set_index("product_id")
    assert by.loc["A-1", "eligible_merchants"] == 1 and by.loc["A-2", "eligible_merchants"] == 2
    assert by.loc["A-2", "best_offer_merchants"] == 1 and by.loc["A-2", "limit_krw"] == 3_000_000
    mix = pool.grade_mix.set_index("grade")
    assert mix["merchants"].tolist() == [0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    assert mix.loc[2, "limit_krw"] == 4_000_000 and mix.loc[5, "mean_pd"] == pytest.approx(0.10)


def test_pool_sees_only_the_partners_products(catalog, merchants_frame):
    pool = partner_pool(merchants_frame, catalog, "Alpha Bank", lgd=0.5)
    assert pool.products["product_id"].tolist() == ["A-1", "A-2"]
    # M3 qualifies for Beta's product only: it is not in Alpha's pool, and B-1 appears nowhere.
    assert "M3" not in pool.offers.index
    assert "B-1" not in set(pool.offers["product_id"]) | set(pool.by_product["product_id"])
    assert partners(catalog)["partner"].tolist() == ["Alpha Bank", "Beta Capital"]
    with pytest.raises(ConfigError, match="no products of partner 'Gamma'") as err:
        partner_pool(merchants_frame, catalog, "Gamma", lgd=0.5)
    assert "Alpha" not in str(err.value) and "Beta" not in str(err.value)
    with pytest.raises(ConfigError, match="lgd must be within 0–1; got 1.5"):
        partner_pool(merchants_frame, catalog, "Alpha Bank", lgd=1.5)


@pytest.fixture(scope="module")
def scored_book(small_book):
    """The small book's snapshot with seeded scores (the pool does not care where scores come from)."""
    from cb_core.features import current_snapshot

    snap = current_snapshot(small_book)
    rng = np.random.default_rng(3)
    strategy = pd.DataFrame({"score": rng.integers(450, 760, len(snap)), "pd": rng.uniform(0.005, 0.2, len(snap)),
                             "category": snap["category"].astype(str), "region": "경기도"}, index=snap.index)
    strategy["grade"] = np.clip((760 - strategy["score"]) // 31 + 1, 1, 10)
    return pool_input(strategy, snap)


def test_pool_on_the_demo_book_equals_offers_for_merchant_by_merchant(scored_book):
    products = load_products()
    frame = scored_book.iloc[:200]
    pool = partner_pool(frame, products, "Nuri Capital", lgd=0.6)
    mine = products[products["partner"] == "Nuri Capital"].reset_index(drop=True)
    best = {}
    for mid, row in frame.iterrows():
        offers = offers_for(row, mine)
        if offers["eligible"].any():
            best[mid] = offers.iloc[0]  # rank 1 comes first
    assert 0 < len(best) < len(frame)
    assert list(pool.offers.index) == list(best)
    limits = pd.Series({m: o["limit_krw"] for m, o in best.items()})
    fees = pd.Series({m: o["broker_fee_krw"] for m, o in best.items()})
    assert pool.limit_volume_krw == pytest.approx(limits.sum())
    assert pool.broker_fee_krw == pytest.approx(fees.sum())
    assert pool.expected_loss_krw == pytest.approx((frame.loc[limits.index, "pd"] * 0.6 * limits).sum())
    assert pool.expected_bad_rate == pytest.approx(frame.loc[limits.index, "pd"].mean())


def test_sample_masks_owner_names_and_business_numbers(small_book, scored_book):
    pool = partner_pool(scored_book, load_products(), "Hanbit Bank", lgd=0.6)
    sample = sample_merchants(pool, small_book.merchants, "en", n=25)
    assert len(sample) == 25 and sample["Score"].is_monotonic_decreasing
    people = small_book.merchants.set_index("merchant_id").loc[sample["Merchant id"]]
    text = sample.to_csv()
    assert not [n for n in people["owner_name"] if n in text]
    assert not [r for r in people["business_reg_no"] if r in text]
    assert not [b for b in people["business_name"] if b in text]  # shop names can name the owner
    assert sample["Business number"].tolist() == [r[:7] + "*****" for r in people["business_reg_no"]]
    assert all("*" in n for n in sample["Owner"])


def test_report_is_self_contained_escaped_and_holds_one_partner_only(small_book, scored_book):
    products = load_products()
    pool = partner_pool(scored_book, products, "FlowPay", lgd=0.6)
    sample = sample_merchants(pool, small_book.merchants, "ko")
    html = report_html(pool, sample, lang="ko", generated_at=AT, model_version="m-1", book_label="abc")
    for name in pool.products["name"]:
        assert name in html
    others = products[products["partner"] != "FlowPay"]
    leaked = [v for col in ("product_id", "name", "name_en", "partner", "partner_ko") for v in others[col] if v in html]
    assert not leaked
    assert f"{pool.n_eligible:,}" in html and "2026-11-01 18:30 KST" in html  # 09:30 UTC, in Korea time
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert not [n for n in small_book.merchants["owner_name"] if n in html]


def test_report_escapes_every_text(merchants_frame):
    evil = validate_products([loan("E-1", "<b>Evil & Co</b>", partner_ko="<script>alert(1)</script>",
                                   name="<img src=x onerror=alert(1)>", name_en="\"quoted\" <loan>")])
    pool = partner_pool(merchants_frame, evil, "<b>Evil & Co</b>", lgd=0.5)
    people = pd.DataFrame({"merchant_id": ["M1", "M2", "M3", "M4"], "owner_name": ["<i>홍길동</i>"] * 4,
                           "business_reg_no": ["123-45-67890"] * 4})
    for lang in ("ko", "en"):
        html = report_html(pool, sample_merchants(pool, people, lang), lang=lang, generated_at=AT,
                           model_version="<v>", book_label="b&b")
        assert "<script" not in html and "<img" not in html and "<b>Evil" not in html and "<i>" not in html
        assert "&lt;v&gt;" in html and "b&amp;b" in html
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in html
    assert "&quot;quoted&quot; &lt;loan&gt;" in html


def test_products_table_states_the_terms(catalog, merchants_frame):
    pool = partner_pool(merchants_frame, catalog, "Alpha Bank", lgd=0.5)
    table = products_table(pool, "en").set_index("Product id")
    assert table.loc["A-1", "Price"] == "5–7%" and table.loc["A-2", "Price"] == "10–15%"
    assert table.loc["A-2", "Limit"] == "1 × monthly sales, up to ₩5.0M"
    assert table.loc["A-1", "Broker fee rate"] == "1%" and table.loc["A-1", "Grades"] == "1–3"
