"""A partner's booked book: every figure of a hand-made six-loan book worked out by hand, isolation from
another partner's loans, masking, the HHI and its reading, bad input, and the report section."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from cb_core.data import LOAN_COLUMNS, LOAN_MONTH_COLUMNS, Book
from cb_core.errors import ConfigError
from cb_core.i18n import format_krw
from cb_core.offers import validate_products
from cb_core.reports import (RAW_PARTS, booked_book_html, concentration_summary, csv_bytes, delinquency_table,
                             delinquent_table, hhi, hhi_reading, partner_book, partner_pool, raw_table, report_html,
                             partner_vintage_table, volume_table)

_STR = pd.StringDtype(na_value=np.nan)

# Alpha Bank's six loans and one of Beta Capital (L9), as of 2026-03 (the last month of loan_months):
#   L1 M1 food    서울 grade 2, 2026-01, 1,000,000: current; balance 1.0M, 0.9M, 0.8M
#   L2 M2 food    서울 grade 2, 2026-01, 2,000,000: 0, 15, 45 days past due
#   L3 M3 pets    서울 grade 5, 2026-01, 3,000,000: 0, 35, 65
#   L4 M4 pets    부산 grade 5, 2025-12, 4,000,000: 0, 30, 60, 95
#   L5 M5 fashion 서울 grade 5, 2025-12,   500,000: current, repaid in 2026-01
#   L6 M6 fashion 부산 grade 2, 2026-02, 2,000,000: current, charged off in 2026-03
#   L9 M9 food    서울 grade 1, 2026-01, 9,000,000 (Beta Capital): 0, 40, 70
LOANS = [
    ("L1", "M1", "Alpha Bank", "A-1", "2026-01", 1_000_000, 6.0, 12, "amortizing", 700, 2, 0.02, "1"),
    ("L2", "M2", "Alpha Bank", "A-1", "2026-01", 2_000_000, 6.0, 12, "amortizing", 690, 2, 0.03, "1"),
    ("L3", "M3", "Alpha Bank", "A-1", "2026-01", 3_000_000, 9.0, 12, "amortizing", 600, 5, 0.08, "1"),
    ("L4", "M4", "Alpha Bank", "A-1", "2025-12", 4_000_000, 9.0, 12, "amortizing", 590, 5, 0.09, "1"),
    ("L5", "M5", "Alpha Bank", "A-1", "2025-12", 500_000, 9.0, 12, "amortizing", 610, 5, 0.07, "1"),
    ("L6", "M6", "Alpha Bank", "A-1", "2026-02", 2_000_000, 6.0, 12, "amortizing", 700, 2, 0.02, "1"),
    ("L9", "M9", "Beta Capital", "B-1", "2026-01", 9_000_000, 15.0, 12, "amortizing", 750, 1, 0.01, "1"),
]
_STATUS = {0: "current", 15: "dpd_1_29", 30: "dpd_30_59", 35: "dpd_30_59", 40: "dpd_30_59", 45: "dpd_30_59",
           60: "dpd_60_89", 65: "dpd_60_89", 70: "dpd_60_89", 95: "dpd_90_plus"}
MONTHS = [
    *[("L1", m, b, 0) for m, b in (("2026-01", 1_000_000), ("2026-02", 900_000), ("2026-03", 800_000))],
    *[("L2", m, 2_000_000, d) for m, d in (("2026-01", 0), ("2026-02", 15), ("2026-03", 45))],
    *[("L3", m, 3_000_000, d) for m, d in (("2026-01", 0), ("2026-02", 35), ("2026-03", 65))],
    *[("L4", m, 4_000_000, d) for m, d in (("2025-12", 0), ("2026-01", 30), ("2026-02", 60), ("2026-03", 95))],
    ("L5", "2025-12", 500_000, 0), ("L5", "2026-01", 0, "repaid"),
    ("L6", "2026-02", 2_000_000, 0), ("L6", "2026-03", 2_000_000, "charged_off"),
    *[("L9", m, 9_000_000, d) for m, d in (("2026-01", 0), ("2026-02", 40), ("2026-03", 70))],
]
PEOPLE = {  # merchant: (owner, business number, shop, category, region)
    "M1": ("김철수", "101-81-11111", "철수네 반찬", "food", "서울특별시"),
    "M2": ("이영희", "102-81-22222", "영희 식품", "food", "서울특별시"),
    "M3": ("박민수", "103-81-33333", "민수 펫샵", "pets", "서울특별시"),
    "M4": ("최지우", "104-81-44444", "지우 애견", "pets", "부산광역시"),
    "M5": ("정하늘", "105-81-55555", "하늘 패션", "fashion", "서울특별시"),
    "M6": ("강바다", "106-81-66666", "바다 옷가게", "fashion", "부산광역시"),
    "M9": ("윤베타", "109-81-99999", "베타 마트", "food", "서울특별시"),
}


def _loan_months() -> pd.DataFrame:
    rows = []
    for loan, month, balance, dpd in MONTHS:
        if dpd == "repaid":
            rows.append((loan, month, 0, 500_000, 0, "repaid"))
        elif dpd == "charged_off":
            rows.append((loan, month, balance, 0, 120, "charged_off"))
        else:
            rows.append((loan, month, balance, 0 if dpd else 100_000, dpd, _STATUS[dpd]))
    return pd.DataFrame(rows, columns=list(LOAN_MONTH_COLUMNS))


def hand_book(loans: list[tuple] = LOANS) -> Book:
    merchants = pd.DataFrame([(m, shop, owner, reg, cat, region) for m, (owner, reg, shop, cat, region)
                              in PEOPLE.items()],
                             columns=["merchant_id", "business_name", "owner_name", "business_reg_no", "category",
                                      "region"]).astype(_STR)
    ids = {row[0] for row in loans}
    months = _loan_months()
    return Book(merchants=merchants, activity=pd.DataFrame(), source="hand",
                loans=pd.DataFrame(loans, columns=list(LOAN_COLUMNS)), loan_months=months[months["loan_id"].isin(ids)])


@pytest.fixture(scope="module")
def alpha():
    return partner_book(hand_book(), "Alpha Bank")


def test_volume_by_month_by_hand(alpha):
    assert alpha.as_of == "2026-03" and alpha.n_loans == 6 and alpha.booked_krw == 12_500_000
    v = alpha.volume.set_index("month")
    assert list(v.index) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert v["booked_loans"].tolist() == [2, 3, 1, 0]
    assert v["booked_krw"].tolist() == [4_500_000, 6_000_000, 2_000_000, 0]
    # repaid (L5 from 2026-01) and charged-off (L6 in 2026-03) loans are not outstanding
    assert v["open_loans"].tolist() == [2, 4, 5, 4]
    assert v["outstanding_krw"].tolist() == [4_500_000, 10_000_000, 11_900_000, 9_800_000]
    assert (alpha.open_loans, alpha.outstanding_krw) == (4, 9_800_000)


def test_delinquency_by_grade_by_hand(alpha):
    d = alpha.delinquency.set_index("grade")
    assert list(d.index) == [2, 5]
    # grade 2 open: L1 800,000 current, L2 2,000,000 at 45 days
    assert d.loc[2, ["open_loans", "outstanding_krw", "dpd_30_loans", "dpd_30_krw"]].tolist() == [2, 2_800_000, 1,
                                                                                                     2_000_000]
    assert d.loc[2, "dpd_30_loan_share"] == 0.5
    assert d.loc[2, "dpd_30_balance_share"] == pytest.approx(2 / 2.8)
    assert d.loc[2, ["dpd_60_loans", "dpd_90_loans"]].tolist() == [0, 0]
    # grade 5 open: L3 3,000,000 at 65 days, L4 4,000,000 at 95 days (L5 repaid)
    assert d.loc[5, ["open_loans", "outstanding_krw"]].tolist() == [2, 7_000_000]
    assert d.loc[5, ["dpd_30_loan_share", "dpd_60_loan_share", "dpd_90_loan_share"]].tolist() == [1.0, 1.0, 0.5]
    assert d.loc[5, "dpd_90_balance_share"] == pytest.approx(4 / 7)
    total = alpha.delinquency_total.iloc[0]
    assert total[["open_loans", "outstanding_krw", "dpd_30_loans", "dpd_60_loans", "dpd_90_loans"]].tolist() == [
        4, 9_800_000, 3, 2, 1]
    assert total["dpd_30_balance_share"] == pytest.approx(9 / 9.8)
    assert total["dpd_60_balance_share"] == pytest.approx(7 / 9.8)
    assert total["dpd_90_balance_share"] == pytest.approx(4 / 9.8)
    assert total["dpd_90_loan_share"] == 0.25


def test_concentration_and_hhi_by_hand(alpha):
    cat = alpha.concentration["category"].set_index("group")
    assert cat["outstanding_krw"].to_dict() == {"pets": 7_000_000, "food": 2_800_000}
    assert cat["share"].sum() == pytest.approx(1.0)
    # (2.8/9.8)^2 + (7/9.8)^2 = 0.591837 -> 5,918.4
    assert alpha.hhi["category"] == pytest.approx((28.5714286 ** 2 + 71.4285714 ** 2), rel=1e-6)
    assert alpha.hhi["category"] == pytest.approx(5918.367, abs=0.01)
    # regions: 서울 L1+L2+L3 = 5,800,000, 부산 L4 = 4,000,000 -> (5.8^2 + 4^2)/9.8^2 = 0.516868
    assert alpha.concentration["region"].set_index("group")["open_loans"].to_dict() == {"서울특별시": 3, "부산광역시": 1}
    assert alpha.hhi["region"] == pytest.approx(5168.68, abs=0.01)
    assert alpha.hhi["grade"] == pytest.approx(5918.367, abs=0.01)
    assert hhi_reading(alpha.hhi["region"]) == "high"
    summary = concentration_summary(alpha, "en").set_index("By")
    assert summary.loc["Region", "HHI"] == "5,169" and summary.loc["Region", "Reading"] == "Highly concentrated"
    assert concentration_summary(alpha, "ko").iloc[0].tolist() == ["업종", "2", "5,918", "고집중"]


def test_hhi_scale_and_reading():
    assert hhi([1.0]) == 10_000
    assert hhi([5, 5, 5, 5]) == pytest.approx(2_500)  # four equal shares: 4 x 25^2
    assert hhi([1] * 10) == pytest.approx(1_000)
    assert hhi([3, 1]) == pytest.approx(75 ** 2 + 25 ** 2)
    assert np.isnan(hhi([0, 0])) and np.isnan(hhi([]))
    assert [hhi_reading(v) for v in (0, 1_499.9, 1_500, 2_000, 2_500, 2_500.1, 10_000)] == [
        "unconcentrated", "unconcentrated", "moderate", "moderate", "moderate", "high", "high"]
    assert hhi_reading(float("nan")) is None
    with pytest.raises(ConfigError, match="zero or more"):
        hhi([5, -1])


def test_vintages_of_the_partners_loans_only(alpha):
    v = alpha.vintages.set_index(["cohort", "mob"])
    assert alpha.bad == "dpd_30"
    # 2025-12 (L4, L5): L4 30 days at mob 1; 2026-01 (L1, L2, L3): L3 at mob 1, L2 at mob 2 (L9 is Beta's)
    assert v.loc["2025-12", "cum_bad_rate"].tolist() == [0, 0.5, 0.5, 0.5]
    assert v.loc["2026-01", "loans"].tolist() == [3, 3, 3]
    assert v.loc["2026-01", "bads"].tolist() == [0, 1, 2]
    assert v.loc["2026-02", "bads"].tolist() == [0, 1]  # charged off counts as 30+
    strict = partner_book(hand_book(), "Alpha Bank", bad="dpd_90").vintages.set_index(["cohort", "mob"])
    assert strict.loc["2025-12", "bads"].tolist() == [0, 0, 0, 1]
    table = partner_vintage_table(alpha, "en")
    assert table.columns.tolist() == ["Booked in", "Loans", "Month 3 on book"]
    assert table["Month 3 on book"].tolist() == ["50.0%", "–", "–"]


def test_delinquent_loans_are_masked_and_another_partners_loans_never_appear(alpha):
    late = alpha.delinquent
    assert late["loan_id"].tolist() == ["L4", "L3", "L2"]  # largest balance first
    assert late["owner_name"].tolist() == ["최*우", "박*수", "이*희"]
    assert late["business_reg_no"].tolist() == ["104-81-*****", "103-81-*****", "102-81-*****"]
    everything = "\n".join(f.to_csv() for f in (
        alpha.volume, alpha.vintages, alpha.delinquency, alpha.delinquency_total, alpha.delinquent,
        *alpha.concentration.values(), volume_table(alpha, "ko"), delinquency_table(alpha, "ko"),
        delinquent_table(alpha, "ko")))
    assert "L9" not in everything and "M9" not in everything and "9,000,000" not in everything
    for owner, reg, shop, _, _ in PEOPLE.values():
        assert owner not in everything and reg not in everything and shop not in everything
    beta = partner_book(hand_book(), "Beta Capital")
    assert beta.delinquent["loan_id"].tolist() == ["L9"] and beta.n_loans == 1
    assert beta.hhi["category"] == 10_000


def test_downloads_keep_full_precision_with_units_in_headers(alpha):
    volume = raw_table(alpha, "volume", "en")
    assert volume.columns.tolist() == ["Month", "Loans booked", "Amount booked (KRW)", "Open loans",
                                       "Outstanding balance (KRW)"]
    assert volume["Outstanding balance (KRW)"].tolist() == [4_500_000, 10_000_000, 11_900_000, 9_800_000]
    late = raw_table(alpha, "delinquency", "ko").set_index("등급")
    assert list(late.index) == ["2등급", "5등급", "전체"]
    assert late.loc["전체", "30일 이상 연체 잔액 (원)"] == 9_000_000
    assert late.loc["전체", "30일 이상 연체 (잔액 비중) (비율, 0–1)"] == pytest.approx(9 / 9.8, rel=1e-12)
    assert raw_table(alpha, "hhi", "en").iloc[0].tolist() == ["Category", pytest.approx(5918.3673469, abs=1e-6),
                                                               "Highly concentrated"]
    assert raw_table(alpha, "region", "ko").iloc[:, 0].tolist() == ["서울", "부산"]
    assert raw_table(alpha, "vintages", "en")["Cumulative bad rate (fraction, 0–1)"].iloc[:4].tolist() == [0, .5, .5, .5]
    text = "".join(csv_bytes(raw_table(alpha, part, lang)).decode("utf-8-sig") for part in RAW_PARTS
                   for lang in ("ko", "en"))
    assert "최*우" in text and "L9" not in text and "M9" not in text
    for owner, reg, shop, _, _ in PEOPLE.values():
        assert owner not in text and reg not in text and shop not in text
    assert "nan" not in text.lower() and "_krw" not in text and "dpd_" not in text
    with pytest.raises(ConfigError, match="part must be one of volume, vintages, .*; got 'everything'"):
        raw_table(alpha, "everything", "en")


def test_as_of_an_earlier_month():
    early = partner_book(hand_book(), "Alpha Bank", as_of="2026-02")
    assert (early.as_of, early.open_loans, early.outstanding_krw) == ("2026-02", 5, 11_900_000)
    assert early.volume["month"].tolist() == ["2025-12", "2026-01", "2026-02"]


def test_a_partner_without_loans_and_a_book_without_loan_tables():
    none = partner_book(hand_book(), "Gamma Savings")
    assert none.empty and none.as_of == "2026-03" and none.open_loans == 0
    assert delinquency_table(none, "ko").empty
    bare = Book(merchants=hand_book().merchants, activity=pd.DataFrame())
    assert partner_book(bare, "Alpha Bank").empty and partner_book(bare, "Alpha Bank").as_of is None
    assert "이 제휴사를 통해 실행된 대출이 아직 없습니다." in booked_book_html(none, "ko")


def test_a_partner_whose_loans_are_all_closed():
    closed = partner_book(hand_book([row for row in LOANS if row[0] in ("L5", "L6")]), "Alpha Bank")  # repaid, charged off
    assert (closed.n_loans, closed.open_loans, closed.outstanding_krw) == (2, 0, 0)
    assert closed.delinquency.empty and np.isnan(closed.hhi["region"]) and hhi_reading(closed.hhi["region"]) is None
    assert delinquency_table(closed, "en").iloc[0].tolist() == ["All grades", "0", "₩0"] + ["–"] * 6
    assert concentration_summary(closed, "en")["Reading"].tolist() == ["–"] * 3
    html = booked_book_html(closed, "en")
    assert "No loan is open at the month&#x27;s end." in html and "nan" not in html.lower()


@pytest.mark.parametrize("kwargs, message", [
    ({"partner": ""}, "partner must be a non-empty text; got ''"),
    ({"partner": None}, "partner must be a non-empty text; got None"),
    ({"partner": "Alpha Bank", "bad": "dpd_45"}, "unknown delinquency definition 'dpd_45'"),
    ({"partner": "Alpha Bank", "as_of": "2026-13"}, "as_of must be a month YYYY-MM; got '2026-13'"),
    ({"partner": "Alpha Bank", "as_of": "2026-04"}, r"as_of 2026-04 is after the last month of loan_months \(2026-03\)"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        partner_book(hand_book(), **kwargs)


# ------------------------------------------------------------------ the report section

def _pool():
    catalog = validate_products([{
        "product_id": "A-1", "partner": "Alpha Bank", "partner_ko": "알파<은행>", "name": "알파 대출",
        "name_en": "Alpha Loan", "min_score": 600, "min_months_active": 3, "min_avg_monthly_gmv_krw": 500_000,
        "limit_multiple_of_monthly_gmv": 2.0, "limit_cap_krw": 10_000_000, "apr_by_grade": {"1": 5.0, "2": 6.0},
        "term_months": 12, "repayment": "amortizing", "broker_fee_pct": 1.0}])
    frame = pd.DataFrame({"score": [700], "grade": [2], "pd": [0.02], "months_active": [12],
                          "gmv_3m_avg_krw": [2_000_000], "category": ["food"], "region": ["서울특별시"]},
                         index=pd.Index(["M1"], name="merchant_id"))
    return partner_pool(frame, catalog, "Alpha Bank", lgd=0.5)


@pytest.mark.parametrize("lang, heading, cell", [("ko", "실행 대출 현황", "30일 이상 연체 (잔액 비중)"),
                                                  ("en", "Booked book", "30+ days past due (share of balance)")])
def test_report_holds_the_booked_book_masked_and_escaped(alpha, lang, heading, cell):
    html = report_html(_pool(), pd.DataFrame(), lang=lang, generated_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
                       model_version="m1", book_label="hand", booked=alpha)
    assert "<section id=\"booked-book\">" in html and f"<h2>{heading}</h2>" in html and cell in html
    assert "<script" not in html and "알파<은행>" not in html
    assert ("알파&lt;은행&gt;" in html) == (lang == "ko")
    for loan in ("L4", "L3", "L2"):
        assert f"<td>{loan}</td>" in html
    assert "L9" not in html and "M9" not in html
    for owner, reg, shop, _, _ in PEOPLE.values():
        assert owner not in html and reg not in html and shop not in html
    assert "최*우" in html and "104-81-*****" in html
    assert "5,918" in html  # the category HHI
    assert f"<title>2026-03: {format_krw(9_800_000, lang)}</title>" in html  # the balance chart's last bar


def test_report_refuses_another_partners_book(alpha):
    beta = partner_book(hand_book(), "Beta Capital")
    with pytest.raises(ConfigError, match="another partner's"):
        report_html(_pool(), pd.DataFrame(), lang="en", generated_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
                    model_version="m1", book_label="hand", booked=beta)
    assert alpha.partner == "Alpha Bank"
