"""The booked-loan tables' contract: one hand-built book, one broken rule per test, exact reports."""
from __future__ import annotations

import pandas as pd
import pytest

from cb_core.data import LOAN_COLUMNS, LOAN_MONTH_COLUMNS, validate_tables
from cb_core.errors import Problem, SchemaError
from tests.support.books import TODAY, good_tables

LOANS = [
    # loan, merchant, partner, product, booked, amount, apr, term, repayment, score, grade, pd, policy
    ("L1", "M001", "Hanbit Bank", "BANK-01", "2026-01", "3000000", "5.0", "12", "amortizing", "640", "3", "0.02", "settings"),
    ("L2", "M002", "Nuri Capital", "CAP-01", "2026-02", "1000000", "9.5", "24", "daily_settlement_pct", "560", "6",
     "0.08", "v2"),
]
MONTHS = [
    ("L1", "2026-01", "3000000", "0", "0", "current"),
    ("L1", "2026-02", "2750000", "257000", "0", "current"),
    ("L1", "2026-03", "2750000", "0", "15", "dpd_1_29"),
    ("L1", "2026-04", "2750000", "0", "45", "dpd_30_59"),
    ("L2", "2026-02", "1000000", "0", "0", "current"),
    ("L2", "2026-03", "0", "1000000", "0", "repaid"),
]


def tables(loans=LOANS, months=MONTHS) -> dict[str, pd.DataFrame]:
    out = good_tables()
    out["loans"] = pd.DataFrame(loans, columns=list(LOAN_COLUMNS), dtype="str")
    out["loan_months"] = pd.DataFrame(months, columns=list(LOAN_MONTH_COLUMNS), dtype="str")
    return out


def problems(t: dict[str, pd.DataFrame]) -> list[Problem]:
    with pytest.raises(SchemaError) as info:
        validate_tables(t, today=TODAY)
    return info.value.problems


def with_month(i: int, **changes: str) -> list[tuple]:
    rows = [list(r) for r in MONTHS]
    for k, v in changes.items():
        rows[i][LOAN_MONTH_COLUMNS.index(k)] = v
    return [tuple(r) for r in rows]


def test_valid_loan_tables_load_in_canonical_dtypes():
    book = validate_tables(tables(), today=TODAY)
    assert list(book.loans.columns) == list(LOAN_COLUMNS)
    assert book.loans["amount_krw"].tolist() == [3_000_000, 1_000_000]
    assert book.loan_months["days_past_due"].dtype == "int64"
    assert book.loan_months["status"].tolist()[-1] == "repaid"
    assert set(book.tables()) == {"merchants", "monthly_activity", "outcomes", "loans", "loan_months"}


def test_a_book_without_loans_keeps_its_fingerprint():
    t = good_tables()
    plain = validate_tables(t, today=TODAY)
    assert plain.loans is None and "loans" not in plain.tables()
    assert validate_tables(tables(), today=TODAY).fingerprint != plain.fingerprint


def test_loan_of_an_unknown_merchant():
    loans = [LOANS[0], ("L2", "M999", *LOANS[1][2:])]
    assert problems(tables(loans)) == [
        Problem("loans", "merchant_id", "merchant_id not found in merchants", (2,), 1, "M999")]


def test_month_row_of_an_unknown_loan():
    assert problems(tables(months=with_month(5, loan_id="L9"))) == [
        Problem("loan_months", "loan_id", "loan_id not found in loans", (6,), 1, "L9")]


def test_month_before_booking():
    months = [("L2", "2026-01", "1000000", "0", "0", "current"), *MONTHS]
    assert problems(tables(months=months)) == [
        Problem("loan_months", "month", "month is before the loan's booked_month", (1,), 1,
                "L2 2026-01 < 2026-02")]


def test_negative_balance():
    assert problems(tables(months=with_month(2, balance_krw="-5"))) == [
        Problem("loan_months", "balance_krw", "must be ≥ 0", (3,), 1, "-5")]


def test_status_must_match_days_past_due():
    found = problems(tables(months=with_month(3, days_past_due="95")))
    assert [(p.table, p.column, p.rows, p.example) for p in found] == [
        ("loan_months", "status", (4,), "dpd_30_59 with days_past_due 95")]
    assert found[0].rule.startswith("status does not match days_past_due (current 0, dpd_1_29 1–29,")


def test_unknown_status_and_repayment():
    loans = [LOANS[0], (*LOANS[1][:8], "bullet", *LOANS[1][9:])]
    assert problems(tables(loans, with_month(0, status="late"))) == [
        Problem("loans", "repayment", "unknown repayment; expected one of amortizing, daily_settlement_pct", (2,), 1,
                "bullet"),
        Problem("loan_months", "status", "unknown status; expected one of current, dpd_1_29, dpd_30_59, dpd_60_89, "
                "dpd_90_plus, charged_off, repaid", (1,), 1, "late")]


def test_no_row_after_repaid_or_charged_off():
    months = [*MONTHS, ("L2", "2026-04", "0", "0", "0", "repaid")]
    assert problems(tables(months=months)) == [
        Problem("loan_months", "month", "row after the loan was repaid or charged off", (7,), 1, "L2 2026-04")]


def test_one_row_per_loan_and_month():
    months = [*MONTHS[:2], ("L1", "2026-02", "2750000", "257000", "0", "current"), *MONTHS[2:]]
    assert problems(tables(months=months)) == [
        Problem("loan_months", "loan_id+month", "duplicate loan_id + month: one row per loan_id and month",
                (2, 3), 2, "L1 2026-02")]


def test_rows_start_at_booking_without_gaps():
    assert problems(tables(months=MONTHS[1:])) == [
        Problem("loan_months", "month", "a loan's rows must start at its booked_month", (1,), 1, "L1 from 2026-02")]
    assert problems(tables(months=[m for i, m in enumerate(MONTHS) if i != 2])) == [
        Problem("loan_months", "month", "months not contiguous: one row per loan and month from booking", (3,), 1,
                "L1 2026-04")]


def test_repaid_loan_has_no_balance():
    assert problems(tables(months=with_month(5, balance_krw="10"))) == [
        Problem("loan_months", "balance_krw", "a repaid loan must have balance 0", (6,), 1, "10")]


def test_duplicate_loan_id_and_bad_grade():
    loans = [LOANS[0], ("L1", *LOANS[1][1:10], "11", *LOANS[1][11:])]
    found = problems(tables(loans))
    assert [(p.table, p.column, p.rule, p.rows) for p in found] == [
        ("loans", "loan_id", "duplicate value: must be unique", (1, 2)),
        ("loans", "grade_at_booking", "must be within [1, 10]", (2,)),
        ("loan_months", "loan_id", "loan_id not found in loans", (5, 6))]  # L2's months lost their loan


def test_loan_months_without_loans():
    t = tables()
    del t["loans"]
    assert problems(t) == [Problem("loan_months", "*", "loan_months needs the loans table (loans.csv or loans.parquet)")]
