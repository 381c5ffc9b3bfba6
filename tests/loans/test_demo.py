"""Demo loans: booked where the product would book them, repaid as the merchant sells, reproducible."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cb_core.data import validate_tables, write_book
from cb_core.features import month_index, snapshot
from cb_core.loans import with_demo_loans
from cb_core.offers import load_products, match_book
from cb_core.strategy import Policy


@pytest.fixture(scope="module")
def loan_book(small_book):
    return with_demo_loans(small_book, seed=11)


def test_demo_loans_validate_and_are_plausible(loan_book):
    book = validate_tables(loan_book.tables(), source="demo")
    loans, months = book.loans, book.loan_months
    assert len(loans) > 100
    # take-up: a few percent of merchants a month; most of the demo book's merchants never borrow
    assert 0.1 < loans["merchant_id"].nunique() / len(book.merchants) < 0.6
    assert set(loans["repayment"]) == {"amortizing", "daily_settlement_pct"}
    assert (loans["score_at_booking"] >= Policy.from_settings().approve_cutoff).all()
    assert set(months["status"]) >= {"current", "repaid", "dpd_1_29", "dpd_90_plus"}


def test_each_loan_was_an_eligible_offer_at_booking(loan_book):
    loans = loan_book.loans
    products = load_products()
    for month, group in list(loans.groupby("booked_month"))[:3]:
        snap = snapshot(loan_book.merchants, loan_book.activity, month).loc[group["merchant_id"]]
        frame = pd.DataFrame({"score": group["score_at_booking"].to_numpy(),
                              "grade": group["grade_at_booking"].to_numpy(),
                              "months_active": snap["months_active"].to_numpy(),
                              "gmv_3m_avg_krw": snap["gmv_3m_avg_krw"].to_numpy(),
                              "category": snap["category"].astype(str).to_numpy()})
        offers = match_book(frame, products)
        assert offers[("best", "product_id")].tolist() == group["product_id"].tolist()
        limits = np.array([offers[("limit_krw", p)].iloc[i] for i, p in enumerate(group["product_id"])])
        assert (group["amount_krw"].to_numpy() <= limits).all()


def test_one_open_loan_at_a_time_and_one_default_per_merchant(loan_book):
    loans, months = loan_book.loans, loan_book.loan_months
    span = months.groupby("loan_id")["month"].agg(["min", "max"])
    span = span.join(loans.set_index("loan_id")["merchant_id"]).sort_values(["merchant_id", "min"])
    nxt = span.groupby("merchant_id")["min"].shift(-1)
    assert (nxt.dropna() > span.loc[nxt.dropna().index, "max"]).all()
    charged = months[months["status"] == "charged_off"].merge(loans[["loan_id", "merchant_id"]])
    assert charged["merchant_id"].is_unique


def test_delinquency_rolls_forward_before_charge_off(loan_book):
    months = loan_book.loan_months
    charged = months.loc[months["status"] == "charged_off", "loan_id"]
    assert len(charged) > 0
    for loan in charged[:20]:
        dpd = months.loc[months["loan_id"] == loan, "days_past_due"].tolist()
        assert dpd[-7:] == [15, 45, 75, 105, 135, 165, 195]


def test_daily_settlement_loans_repay_with_sales(loan_book):
    loans, months = loan_book.loans, loan_book.loan_months
    products = load_products().set_index("product_id")
    adv = loans[loans["repayment"] == "daily_settlement_pct"].head(20)
    gmv = loan_book.activity.set_index(["merchant_id", "month"])["gmv_krw"]
    checked = 0
    for loan in adv.itertuples():
        rows = months[(months["loan_id"] == loan.loan_id) & (months["status"] == "current")].iloc[1:]
        share = products.at[loan.product_id, "withhold_pct"] / 100
        for row in rows.itertuples():
            sales = gmv.get((loan.merchant_id, row.month), 0)
            mob = month_index(row.month) - month_index(loan.booked_month)
            if mob < loan.term_months:
                assert row.paid_krw == round(sales * share)
                checked += 1
    assert checked > 20


def test_same_seed_same_bytes(small_book, tmp_path):
    write_book(with_demo_loans(small_book, seed=11), tmp_path / "a")
    write_book(with_demo_loans(small_book, seed=11), tmp_path / "b")
    write_book(with_demo_loans(small_book, seed=12), tmp_path / "c")
    for table in ("loans", "loan_months"):
        a, b, c = ((tmp_path / x / f"{table}.parquet").read_bytes() for x in "abc")
        assert a == b and a != c


class _NeverRng:
    """No draw ever fires (every probability here is below 0.5)."""

    def random(self) -> float:
        return 0.5


def test_loan_path_by_hand():
    from cb_core.loans._paths import loan_path

    product = {"repayment": "amortizing"}
    flat = np.zeros(20)
    # 1,200,000 at 0% over 12 months: 100,000 a month, repaid with the 12th instalment
    rows = loan_path(_NeverRng(), start=2, n_months=20, amount=1_200_000, apr_pct=0.0, term=12, product=product,
                     gmv=flat, pd_by_month=flat)
    assert rows[0] == (2, 1_200_000, 0, 0, "current")
    assert rows[1] == (3, 1_100_000, 100_000, 0, "current")
    assert rows[-1] == (14, 0, 100_000, 0, "repaid") and len(rows) == 13
    # the same loan missing its third instalment for good: the roll, then charge-off at 195 days
    rows = loan_path(_NeverRng(), start=2, n_months=20, amount=1_200_000, apr_pct=0.0, term=12, product=product,
                     gmv=flat, pd_by_month=flat, miss_month=5)
    assert [r[3:] for r in rows[3:]] == [(15, "dpd_1_29"), (45, "dpd_30_59"), (75, "dpd_60_89"), (105, "dpd_90_plus"),
                                         (135, "dpd_90_plus"), (165, "dpd_90_plus"), (195, "charged_off")]
    assert {r[1] for r in rows[3:]} == {1_000_000} and rows[-1][0] == 11


def _loans_with_default_month(book):
    """Each loan with its merchant's default month index (NaN without one) and its months as indices."""
    events = book.default_events.set_index("merchant_id")["default_month"]
    loans = book.loans.assign(booked=month_index(book.loans["booked_month"]),
                              default=book.loans["merchant_id"].map(events))
    loans["default"] = [month_index(d) if isinstance(d, str) else np.nan for d in loans["default"]]
    months = book.loan_months.assign(m=month_index(book.loan_months["month"]))
    return loans, months


def test_demo_loans_default_exactly_at_the_books_default_month(loan_book):
    loans, months = _loans_with_default_month(loan_book)
    dpd = months.set_index(["loan_id", "m"])["days_past_due"]
    status = months.set_index(["loan_id", "m"])["status"]
    last = months["m"].max()
    # a loan still open three months before its merchant's default month is 90+ in that very month
    open_before = loans[(loans["booked"] <= loans["default"] - 4) & (loans["default"] <= last)]
    open_before = open_before[[(lid, d - 3) in dpd.index for lid, d in zip(open_before["loan_id"],
                                                                            open_before["default"])]]
    assert len(open_before) >= 3
    for lid, d in zip(open_before["loan_id"], open_before["default"].astype(int)):
        assert [dpd[(lid, m)] for m in range(d - 3, d + 1)] == [15, 45, 75, 105]
        assert status[(lid, d)] == "dpd_90_plus"
        assert status[(lid, d - 3)] == "dpd_1_29"
    # booked within three months before the default: the first instalment is missed, 90+ three months later
    late = loans[(loans["booked"] > loans["default"] - 4) & (loans["booked"] < loans["default"])
                 & (loans["booked"] + 4 <= last)]
    for lid, b in zip(late["loan_id"], late["booked"].astype(int)):
        assert [dpd[(lid, m)] for m in range(b, b + 5)] == [0, 15, 45, 75, 105]
    # nobody is booked at or after their default month, and a merchant without one never rolls past 30 days
    assert not (loans["booked"] >= loans["default"]).any()
    clean = months[months["loan_id"].isin(loans.loc[loans["default"].isna(), "loan_id"])]
    assert len(clean) > 1000 and clean["days_past_due"].max() == 15
    # every loan that reached 90+ belongs to a merchant with a default event, and hit it at max(D, booked + 4)
    first90 = months[months["status"] == "dpd_90_plus"].groupby("loan_id")["m"].min()
    bad = loans.set_index("loan_id").loc[first90.index]
    assert bad["default"].notna().all()
    assert (first90 == np.maximum(bad["default"], bad["booked"] + 4)).all()


def test_demo_loans_draw_their_own_defaults_without_default_events(small_book):
    from dataclasses import replace

    bare = replace(small_book, default_events=None, loans=None, loan_months=None, _fingerprint=None)
    book = with_demo_loans(bare, seed=11)
    validate_tables(book.tables(), source="demo")
    assert (book.loan_months["status"] == "dpd_90_plus").any()
