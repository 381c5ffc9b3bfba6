"""Partner product catalog and matching (one merchant and the whole book); recourse is in test_recourse.py.

Expected values are computed by hand in the comments next to them.
"""
import copy
import json
import re

import numpy as np
import pandas as pd
import pytest

from cb_core.errors import DataSourceError, SchemaError
from cb_core.offers import (
    OFFER_COLUMNS, PRODUCTS_FILE, RULES, advance_apr_pct, annuity_payment, failed_rules, load_products,
    match_book, offers_for, products_to_records, validate_products,
)

from tests.support.offers import advance, bank, merchant, one


# ------------------------------------------------------------------ the shipped catalog

def test_shipped_catalog_has_eight_products_two_per_partner_of_four_both_repayment_types(shipped):
    raw = json.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))  # the file itself, read without the loader
    assert len(raw) == len(shipped) == 8
    assert shipped["product_id"].tolist() == [p["product_id"] for p in raw]
    assert shipped.groupby("partner", sort=False)["product_id"].agg(list).to_dict() == {
        "Hanbit Bank": ["BANK-01", "BANK-02"], "Nuri Capital": ["CAP-01", "CAP-02"],
        "Daon Savings Bank": ["SAV-01", "SAV-02"], "FlowPay": ["RBF-01", "RBF-02"]}
    assert shipped.groupby("repayment")["product_id"].agg(list).to_dict() == {
        "amortizing": ["BANK-01", "BANK-02", "CAP-01", "CAP-02", "SAV-01", "SAV-02"],
        "daily_settlement_pct": ["RBF-01", "RBF-02"]}
    assert shipped["product_id"].is_unique
    assert shipped["name"].str.contains(r"[가-힣]").all() and shipped["name_en"].str.contains(r"[A-Za-z]").all()
    bank01 = shipped.set_index("product_id").loc["BANK-01"]
    assert (bank01["min_months_active"], bank01["min_avg_monthly_gmv_krw"], bank01["limit_cap_krw"]) == (
        6, 500_000, 50_000_000)
    assert (min(bank01["apr_by_grade"].values()), max(bank01["apr_by_grade"].values())) == (3.2, 9.9)
    rbf = shipped[shipped["repayment"] == "daily_settlement_pct"]
    assert rbf["withhold_pct"].between(10, 14).all() and (rbf["max_term_months"] == 18).all()
    assert (rbf["min_payment_every_days"] == 60).all() and rbf["apr_by_grade"].isna().all()


def test_catalog_round_trips_through_records(shipped):
    assert validate_products(products_to_records(shipped)).equals(shipped)


# ------------------------------------------------------------------ catalog rejection

@pytest.fixture
def records():
    return json.loads(json.dumps([bank(product_id="BANK-01"), bank(product_id="SAV-02"), advance()]))


def rejected(records):
    with pytest.raises(SchemaError) as info:
        validate_products(records)
    return info.value


def test_missing_field_names_product_and_field(records):
    del records[0]["limit_cap_krw"]
    err = rejected(records)
    assert "product BANK-01: limit_cap_krw is missing" in str(err)
    assert [(p.column, p.rows) for p in err.problems] == [("limit_cap_krw", (1,))]


def test_apr_table_with_holes_names_each_missing_grade(records):
    records[0]["apr_by_grade"] = {"1": 3.2, "2": 4.1, "5": 7.8}
    err = rejected(records)
    assert "product BANK-01: apr_by_grade has no APR for grade 3 (holes between grades 1 and 5)" in str(err)
    assert "product BANK-01: apr_by_grade has no APR for grade 4 (holes between grades 1 and 5)" in str(err)
    assert {p.column for p in err.problems} == {"apr_by_grade"}


def test_negative_limit_names_product_and_field(records):
    records[1]["limit_cap_krw"] = -5_000_000
    err = rejected(records)
    assert "product SAV-02: limit_cap_krw must not be negative" in str(err)
    assert err.problems[0].column == "limit_cap_krw" and err.problems[0].example == "-5000000"


def test_unknown_category_names_product_and_field(records):
    records[1]["eligible_categories"] = ["food", "toys"]
    err = rejected(records)
    assert "product SAV-02: eligible_categories has unknown category 'toys'" in str(err)
    assert [p.column for p in err.problems] == ["eligible_categories"]


def test_every_problem_is_reported_at_once(records):
    del records[0]["limit_cap_krw"]
    records[1]["apr_by_grade"] = {"1": 3.2, "3": 5.0}
    records[1]["min_score"] = "high"
    records[2]["withhold_pct"] = None
    records[2]["apr_by_grade"] = {"1": 5.0}
    records[2]["limit_cap"] = 1
    records.append(copy.deepcopy(records[0]))
    err = rejected(records)
    rules = [p.rule for p in err.problems]
    assert rules == [
        "product BANK-01: limit_cap_krw is missing",
        "product SAV-02: min_score wrong type: expected a whole number",
        "product SAV-02: apr_by_grade has no APR for grade 2 (holes between grades 1 and 3)",
        "product RBF-T: apr_by_grade applies only to amortizing products, not daily_settlement_pct",
        "product RBF-T: withhold_pct is missing (needed by daily_settlement_pct products)",
        "product RBF-T: limit_cap is not a catalog field; did you mean 'limit_cap_krw'?",
        "product BANK-01: product_id duplicates product #1",
        "product BANK-01: limit_cap_krw is missing",
    ]
    assert str(err).startswith("8 problem(s) in the product catalog; nothing was changed")


@pytest.mark.parametrize("field, value, message", [
    ("apr_by_grade", {"1": 3.2, "2": 25.0},
     "apr_by_grade has APR 25.0 for grade 2; an APR must be a number > 0 and ≤ 20% (the legal maximum rate)"),
    ("apr_by_grade", {"1": 5.0, "2": 4.0}, "apr_by_grade falls as grades worsen: grade 2 4% < grade 1 5%"),
    ("repayment", "bullet", "repayment must be one of amortizing | daily_settlement_pct"),
    ("term_months", 12.5, "term_months must be a whole number"),
    ("limit_multiple_of_monthly_gmv", 0, "limit_multiple_of_monthly_gmv must be > 0 and ≤ 120"),
    ("product_id", "bank 1", "product_id must be capital letters, digits and dashes"),
])
def test_bad_values_are_named(field, value, message):
    label = value if field == "product_id" else "BANK-T"
    with pytest.raises(SchemaError, match=re.escape(f"product {label}: {message}")):
        validate_products([bank(**{field: value})])


def test_load_products_reports_unreadable_files(tmp_path):
    with pytest.raises(DataSourceError, match="not found"):
        load_products(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DataSourceError, match="not valid JSON"):
        load_products(tmp_path / "bad.json")
    (tmp_path / "obj.json").write_text(json.dumps({"product_id": "X"}), encoding="utf-8")
    with pytest.raises(SchemaError, match="must be a JSON list of products"):
        load_products(tmp_path / "obj.json")


# ------------------------------------------------------------------ each rule at, below and above its threshold

@pytest.mark.parametrize("field, at, below, above, en, ko", [
    ("score", 600, 599, 601, "score 599 < 600 required", "신용점수 599점 < 기준 600점"),
    ("months_active", 6, 5, 7, "months with sales 5 < 6 required", "매출 발생 개월수 5개월 < 기준 6개월"),
    ("gmv_3m_avg_krw", 500_000, 499_999, 500_001, "3-month average sales ₩499,999 < ₩500,000 required",
     "최근 3개월 평균 매출 49만 9,999원 < 기준 50만원"),  # every won where 만 rounding would read 50만원 < 50만원
])
def test_threshold_rules(field, at, below, above, en, ko):
    product = bank()
    assert one(product, merchant(**{field: at}))["eligible"]
    assert one(product, merchant(**{field: above}))["eligible"]
    out = one(product, merchant(**{field: below}))
    assert not out["eligible"]
    rule = "gmv" if field == "gmv_3m_avg_krw" else field
    assert out["failed_rules"] == (rule,) and out["reasons_en"] == (en,) and out["reasons_ko"] == (ko,)
    assert np.isnan(out["limit_krw"]) and np.isnan(out["apr_pct"]) and pd.isna(out["rank"])


def test_sales_rule_message_reads_like_the_published_one():
    out = one(bank(), merchant(gmv_3m_avg_krw=420_000))
    assert out["reasons_en"] == ("3-month average sales ₩420,000 < ₩500,000 required",)
    assert out["reasons_ko"] == ("최근 3개월 평균 매출 42만원 < 기준 50만원",)
    big = one(bank(min_avg_monthly_gmv_krw=3_000_000), merchant(gmv_3m_avg_krw=2_141_733))
    assert big["reasons_ko"] == ("최근 3개월 평균 매출 214만원 < 기준 300만원",)  # not 2,141,733원 beside 300만원
    assert big["reasons_en"] == ("3-month average sales ₩2.1M < ₩3.0M required",)


def test_grade_rule_at_both_ends_of_the_table():
    product = bank(apr_by_grade={"2": 4.1, "3": 5.0, "4": 6.2, "5": 7.8, "6": 9.9})  # grades 2-6
    assert one(product, merchant(grade=2))["eligible"] and one(product, merchant(grade=6))["eligible"]
    worse, better = one(product, merchant(grade=7)), one(product, merchant(grade=1))
    assert worse["failed_rules"] == better["failed_rules"] == ("grade",)
    assert worse["reasons_en"] == ("grade 7 is not offered (grades 2–6)",)
    assert worse["reasons_ko"] == ("7등급은 대상이 아닙니다 (대상 2–6등급)",)


def test_category_rule():
    product = bank(eligible_categories=["food", "living"])
    assert one(product, merchant(category="living"))["eligible"]
    out = one(product, merchant(category="digital"))
    assert out["failed_rules"] == ("category",)
    assert out["reasons_en"] == ("category Electronics is not offered (offered to: Food, Home & Kitchen)",)
    assert out["reasons_ko"] == ("업종 디지털/가전은(는) 대상이 아닙니다 (대상: 식품, 생활/주방)",)
    assert one(bank(), merchant(category="digital"))["eligible"]  # no list: every category


def test_limit_rule_at_the_100000_step():
    product = bank(min_avg_monthly_gmv_krw=0, limit_multiple_of_monthly_gmv=1.0)
    assert one(product, merchant(gmv_3m_avg_krw=100_000))["limit_krw"] == 100_000
    assert one(product, merchant(gmv_3m_avg_krw=100_001))["limit_krw"] == 100_000
    out = one(product, merchant(gmv_3m_avg_krw=99_999))  # 99,999 rounds down to 0
    assert out["failed_rules"] == ("limit",)


def test_every_failed_rule_is_listed_in_rule_order():
    out = one(bank(eligible_categories=["food"]),
              merchant(score=550, grade=8, months_active=2, gmv_3m_avg_krw=20_000, category="pets"))
    assert out["failed_rules"] == RULES  # 4 x 20,000 = 80,000 rounds down to a limit of 0
    assert len(out["reasons_en"]) == len(out["reasons_ko"]) == 6


def test_missing_values_fail_the_rules_that_need_them():
    out = one(bank(), merchant(score=np.nan, gmv_3m_avg_krw=np.nan))
    assert out["failed_rules"] == ("score", "gmv", "limit")
    assert out["reasons_en"][:2] == ("score unknown", "3-month average sales unknown")


# ------------------------------------------------------------------ limit, APR, instalment, cost

@pytest.mark.parametrize("gmv, multiple, limit", [
    (1_234_567, 4.0, 4_900_000),      # 4,938,268 -> down to 4,900,000
    (1_250_000, 4.0, 5_000_000),      # exactly 5,000,000 stays
    (12_500_000, 4.0, 50_000_000),    # exactly the cap
    (20_000_000, 4.0, 50_000_000),    # 80,000,000 -> capped at 50,000,000
    (10_000_000, 0.57, 5_700_000),    # 0.57 x 10M is 5,699,999.999... in floating point
    (3_000_000, 2.3, 6_900_000),      # likewise 6,899,999.999...
])
def test_limit_is_min_of_multiple_and_cap_rounded_down(gmv, multiple, limit):
    out = one(bank(limit_multiple_of_monthly_gmv=multiple, min_avg_monthly_gmv_krw=0), merchant(gmv_3m_avg_krw=gmv))
    assert out["limit_krw"] == limit


@pytest.mark.parametrize("grade, apr", [(1, 3.2), (3, 5.0), (6, 9.9)])
def test_apr_comes_from_the_grade(grade, apr):
    assert one(bank(), merchant(grade=grade))["apr_pct"] == apr


def test_annuity_instalment_and_total_cost_by_hand():
    # 10,000,000 at 6% for 12 months: r = 0.005, 50,000 / (1 - 1.005^-12) = 860,664.30
    assert annuity_payment(10_000_000, 6.0, 12) == pytest.approx(860_664.30, abs=0.005)
    out = one(bank(apr_by_grade={"1": 6.0}), merchant(grade=1, gmv_3m_avg_krw=2_500_000))  # 4 x 2.5M = 10M
    assert out["limit_krw"] == 10_000_000
    assert out["monthly_payment_krw"] == pytest.approx(860_664.30, abs=0.005)
    assert out["total_cost_krw"] == pytest.approx(12 * 860_664.297 - 10_000_000, abs=0.05)  # 327,971.56
    assert out["total_repaid_krw"] == pytest.approx(10_327_971.56, abs=0.05)
    assert out["broker_fee_krw"] == 100_000 and not out["apr_is_estimate"]


def test_advance_withholding_fee_and_estimated_apr():
    out = one(advance(), merchant(gmv_3m_avg_krw=3_000_000))
    assert out["limit_krw"] == 3_000_000
    assert out["monthly_payment_krw"] == pytest.approx(300_000)       # 10% of 3,000,000
    assert out["total_cost_krw"] == pytest.approx(120_000)            # 4% of 3,000,000
    assert out["expected_months"] == pytest.approx(10.4)              # 3,120,000 / 300,000
    assert out["apr_is_estimate"] and out["withhold_pct"] == 10.0
    r = out["apr_pct"] / 1200  # an annuity of 300,000 over 10.4 months at r is worth the 3,000,000 advance
    assert 300_000 * (1 - (1 + r) ** -10.4) / r == pytest.approx(3_000_000, rel=1e-10)
    assert advance_apr_pct(0.0, 10.4) == 0.0


def test_ranking_lowest_apr_then_highest_limit_then_catalog_order():
    catalog = validate_products([
        bank(product_id="A", apr_by_grade={"1": 5.0, "2": 5.0, "3": 5.0}),
        bank(product_id="B", apr_by_grade={"1": 5.0, "2": 5.0, "3": 5.0}, limit_multiple_of_monthly_gmv=6.0),
        bank(product_id="C", apr_by_grade={"1": 4.0, "2": 4.0, "3": 4.0}, limit_multiple_of_monthly_gmv=1.0),
        bank(product_id="D", apr_by_grade={"1": 5.0, "2": 5.0, "3": 5.0}),
        bank(product_id="E", min_score=700),
    ])
    out = offers_for(merchant(), catalog)
    assert list(out["product_id"]) == ["C", "B", "A", "D", "E"]
    assert out["rank"].tolist()[:4] == [1, 2, 3, 4] and pd.isna(out["rank"].iloc[4])
    assert list(out.columns) == list(OFFER_COLUMNS)


# ------------------------------------------------------------------ the whole book

def sample_book(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "score": rng.choice([499, 500, 539, 540, 560, 579, 580, 600, 640, 700, np.nan], n),
        "grade": rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan], n),
        "months_active": rng.choice([0, 2, 3, 5, 6, 11, 12, 40, np.nan], n),
        "gmv_3m_avg_krw": rng.choice([0, 66_666, 299_999, 300_000, 500_000, 999_999, 1_000_000, 2_345_678,
                                      3_000_000, 9e7, np.nan], n),
        "category": rng.choice(["fashion", "food", "living", "kids", "digital", "pets", None], n),
    }, index=pd.Index([f"M{i:04d}" for i in range(n)], name="merchant_id"))


def test_match_book_equals_offers_for_row_by_row(shipped):
    frame = sample_book(150, seed=3)
    book = match_book(frame, shipped)
    assert book.index.equals(frame.index)
    for i, (mid, row) in enumerate(frame.iterrows()):
        single = offers_for(row, shipped).set_index("product_id")
        for pid, expected in single.iterrows():
            assert book.loc[mid, ("eligible", pid)] == expected["eligible"]
            assert failed_rules(book.loc[mid, ("failed", pid)]) == expected["failed_rules"]
            for field in ("limit_krw", "apr_pct", "monthly_payment_krw", "total_cost_krw"):
                got = book.loc[mid, (field, pid)]
                assert (np.isnan(got) and np.isnan(expected[field])) or got == pytest.approx(expected[field], rel=1e-12)
        ranked = single[single["rank"] == 1]
        assert book.loc[mid, ("best", "n_eligible")] == single["eligible"].sum()
        if len(ranked):
            assert book.loc[mid, ("best", "product_id")] == ranked.index[0]
            assert book.loc[mid, ("best", "apr_pct")] == pytest.approx(ranked["apr_pct"].iloc[0], rel=1e-12)
        else:
            assert book.loc[mid, ("best", "product_id")] is None and np.isnan(book.loc[mid, ("best", "limit_krw")])
    assert book[("best", "n_eligible")].gt(0).any() and book[("best", "n_eligible")].eq(0).any()


def test_match_book_best_offer_ties_follow_the_ranking():
    catalog = validate_products([bank(product_id="A"), bank(product_id="B", limit_multiple_of_monthly_gmv=6.0),
                                 bank(product_id="C")])
    book = match_book(pd.DataFrame([merchant()]), catalog)
    assert book[("best", "product_id")].iloc[0] == "B" and book[("best", "limit_krw")].iloc[0] == 7_500_000
