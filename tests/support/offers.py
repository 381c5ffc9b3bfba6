"""Product records and a merchant for the offers tests: an amortizing bank product, a revenue-based
advance (both in the catalog's field names), and the engine's one-product check."""
import pandas as pd

from cb_core.offers import offers_for, validate_products

FAST = {"learning_rate": 0.1, "num_boost_round": 120, "early_stopping_rounds": 20, "num_threads": 1}


def bank(**changes):
    """An amortizing product: 6+ months, 500,000 KRW/month, 4x monthly sales up to 50M, grades 1-6."""
    record = {
        "product_id": "BANK-T", "partner": "Test Bank", "partner_ko": "테스트은행", "name": "테스트 대출",
        "name_en": "Test Loan", "min_score": 600, "min_months_active": 6, "min_avg_monthly_gmv_krw": 500_000,
        "limit_multiple_of_monthly_gmv": 4.0, "limit_cap_krw": 50_000_000,
        "apr_by_grade": {"1": 3.2, "2": 4.1, "3": 5.0, "4": 6.2, "5": 7.8, "6": 9.9}, "term_months": 12,
        "repayment": "amortizing", "broker_fee_pct": 1.0,
    }
    return {**record, **changes}


def advance(**changes):
    """A revenue-based advance: 10% of daily settlements, 4% fixed fee, 1x monthly sales."""
    record = {
        "product_id": "RBF-T", "partner": "Test Pay", "partner_ko": "테스트페이", "name": "테스트 선지급",
        "name_en": "Test Advance", "min_score": 500, "min_months_active": 3, "min_avg_monthly_gmv_krw": 300_000,
        "limit_multiple_of_monthly_gmv": 1.0, "limit_cap_krw": 20_000_000, "eligible_grades": [1, 2, 3, 4, 5, 6, 7],
        "term_months": 18, "repayment": "daily_settlement_pct", "broker_fee_pct": 2.0, "withhold_pct": 10.0,
        "fixed_fee_pct": 4.0, "min_payment_every_days": 60, "min_payment_pct": 10.0, "max_term_months": 18,
    }
    return {**record, **changes}


def merchant(**changes):
    values = {"score": 650, "grade": 3, "months_active": 12, "gmv_3m_avg_krw": 1_250_000, "category": "food"}
    return pd.Series({**values, **changes}, name="M1")


def one(product_record, m):
    return offers_for(m, validate_products([product_record])).iloc[0]
