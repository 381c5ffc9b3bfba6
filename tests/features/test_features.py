"""Feature snapshot: hand-computed values, no look-ahead, invariants, and an independent reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cb_core.data import feature_catalog
from cb_core.errors import ConfigError
from cb_core.features import feature_names, month_index, snapshot

MONTHS = pd.period_range("2025-01", "2026-10", freq="M").astype(str).tolist()


def _merchants() -> pd.DataFrame:
    return pd.DataFrame({
        "merchant_id": ["A", "B", "C"], "business_name": ["가", "나", "다"], "owner_name": ["김", "이", "박"],
        "business_reg_no": ["123-45-67890"] * 3, "category": ["food", "fashion", "beauty"],
        "region": ["서울특별시"] * 3, "opened_on": ["2020-01-01", "2024-05-10", "2026-01-01"],
        "joined_platform_on": ["2021-01-01", "2025-06-01", "2026-11-01"],
        "bureau_score": pd.array([700, None, 650], dtype="Int64"),
        "owner_has_credit_card": pd.array([True, None, False], dtype="boolean"),
        "region_income_index": [100.0, 90.0, 110.0],
    })


def _row(mid: str, month: str, **kw) -> dict:
    base = dict(merchant_id=mid, month=month, gmv_krw=0, orders=0, returns=0, refund_krw=0, unique_buyers=0,
                repeat_buyer_rate=0.0, active_listings=0, inventory_turnover=0.0, avg_rating=np.nan, reviews=0,
                disputes=0, ship_delay_rate=0.0, settlement_krw=0, search_clicks=0, ad_spend_krw=0)
    base.update(kw)
    return base


def _activity() -> pd.DataFrame:
    rows = [_row("A", m, gmv_krw=1000 * (i + 1), orders=10, returns=1 if i < 19 else 3, refund_krw=100,
                 unique_buyers=8, repeat_buyer_rate=0.3, active_listings=20, inventory_turnover=1.5,
                 avg_rating=4.0 if i < 19 else 5.0, reviews=2, disputes=0, ship_delay_rate=0.1,
                 settlement_krw=900, search_clicks=100, ad_spend_krw=50) for i, m in enumerate(MONTHS)]
    rows += [_row("B", m, gmv_krw=500, orders=5, unique_buyers=5, active_listings=3, disputes=1,
                  settlement_krw=450, search_clicks=10, inventory_turnover=1.0) for m in ("2026-08", "2026-09")]
    return pd.DataFrame(rows)


def test_hand_computed_values():
    snap = snapshot(_merchants(), _activity(), "2026-10")
    assert list(snap.index) == ["A", "B"]  # C has no activity yet
    a, b = snap.loc["A"], snap.loc["B"]
    # A: gmv of month i is 1000*(i+1); 2026-08..10 are i=19,20,21
    assert a.gmv_3m_avg_krw == pytest.approx(21_000)
    assert a.gmv_12m_total_krw == pytest.approx(sum(1000 * (i + 1) for i in range(10, 22)))
    assert a.gmv_trend_3m == pytest.approx(63_000 / 54_000 - 1)
    assert a.gmv_yoy == pytest.approx(63_000 / 27_000 - 1)  # vs 2025-08..10 = i 7,8,9
    g = np.array([1000.0 * (i + 1) for i in range(10, 22)])
    assert a.gmv_volatility_12m == pytest.approx(g.std() / g.mean())
    assert a.gmv_max_drop_12m == pytest.approx(0.0)
    assert a.return_rate_6m == pytest.approx((3 * 1 + 3 * 3) / 60)
    assert a.return_rate_trend == pytest.approx(0.3 - 0.1)
    assert a.avg_rating_6m == pytest.approx(4.5)
    assert a.rating_trend == pytest.approx(1.0)
    assert a.months_active == 22
    assert a.tenure_months == 69 and a.business_age_months == 81
    assert a.bureau_score == 700 and a.thin_file == 0 and a.owner_has_credit_card == 1
    assert a.category == "food"
    # B: sold in Aug and Sep only; October without a row counts as a month without sales
    assert b.gmv_3m_avg_krw == pytest.approx(1000 / 3)
    assert b.zero_sales_months_12m == 1
    assert b.gmv_max_drop_12m == pytest.approx(1.0)
    assert np.isnan(b.gmv_trend_3m)  # prior three months unobserved
    assert np.isnan(b.avg_rating_6m)  # no reviews, no rating
    assert b.dispute_rate_6m == pytest.approx(2 / 10)
    assert np.isnan(b.bureau_score) and b.thin_file == 1 and np.isnan(b.owner_has_credit_card)


def test_snapshot_never_reads_future_months():
    merchants, activity = _merchants(), _activity()
    before = snapshot(merchants, activity, "2026-06")
    future = activity["month"] > "2026-06"
    changed = activity.copy()
    for col in ("gmv_krw", "orders", "returns", "disputes", "reviews", "search_clicks"):
        changed.loc[future, col] = changed.loc[future, col] * 7 + 3
    changed.loc[future, "avg_rating"] = 1.0
    extra = pd.DataFrame([_row("C", "2026-11", gmv_krw=10**9, orders=5)])
    after = snapshot(merchants, pd.concat([changed, extra], ignore_index=True), "2026-06")
    pd.testing.assert_frame_equal(before, after)


def test_bad_as_of_is_named():
    with pytest.raises(ConfigError, match="as_of must be a month YYYY-MM; got '2026-13'"):
        snapshot(_merchants(), _activity(), "2026-13")


def test_catalog_covers_every_feature():
    catalog = feature_catalog()
    snap = snapshot(_merchants(), _activity(), "2026-10")
    assert list(snap.columns) == list(catalog) == feature_names()
    assert len(catalog) >= 30
    for spec in catalog.values():
        assert spec.risk_direction in (-1, 0, 1)
        assert spec.label_ko and spec.label_en and spec.reason_ko and spec.reason_en
        assert spec.source in ("merchants", "monthly_activity")
    assert {n for n, s in catalog.items() if s.sensitive} == {"owner_has_credit_card", "region_income_index"}
    assert "region_income_index" not in feature_names(include_sensitive=False)


def test_matches_independent_groupby_reference(small_book):
    """Recompute a few features with plain pandas groupby on the demo book and compare."""
    as_of = "2026-04"
    snap = snapshot(small_book.merchants, small_book.activity, as_of)
    act = small_book.activity
    end = month_index(as_of)
    mi = month_index(act["month"])
    last6 = act[(mi <= end) & (mi > end - 6)]
    g = last6.groupby("merchant_id")[["returns", "orders", "disputes", "refund_krw", "gmv_krw"]].sum()
    g = g[g.orders > 0]
    common = g.index.intersection(snap.index)
    assert len(common) > 1000
    np.testing.assert_allclose(snap.loc[common, "return_rate_6m"], g.loc[common, "returns"] / g.loc[common, "orders"])
    np.testing.assert_allclose(snap.loc[common, "dispute_rate_6m"], g.loc[common, "disputes"] / g.loc[common, "orders"])
    active = act[mi <= end].groupby("merchant_id")["gmv_krw"].apply(lambda s: int((s > 0).sum()))
    np.testing.assert_array_equal(snap["months_active"], active.reindex(snap.index).to_numpy())


_month = st.integers(0, len(MONTHS) - 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), _month,
                               st.integers(0, 10**9), st.integers(0, 500), st.integers(0, 500),
                               st.floats(0, 1), st.integers(0, 50)), min_size=1, max_size=40),
       as_of=_month)
def test_invariants_on_random_activity(data, as_of):
    rows = {}
    for mid, mi, gmv, orders, returns, rate, reviews in data:
        rows[(mid, mi)] = _row(mid, MONTHS[mi], gmv_krw=gmv, orders=orders, returns=min(returns, orders),
                               repeat_buyer_rate=rate, ship_delay_rate=rate, reviews=reviews,
                               avg_rating=4.0 if reviews else np.nan)
    activity = pd.DataFrame(list(rows.values()))
    snap = snapshot(_merchants(), activity, MONTHS[as_of])
    numeric = snap.drop(columns="category")
    assert not np.isinf(numeric.to_numpy(dtype=float)).any()
    seen = set(activity.loc[activity["month"] <= MONTHS[as_of], "merchant_id"])
    assert set(snap.index) == seen
    for col in ("gmv_trend_3m", "gmv_yoy", "orders_trend_3m", "search_clicks_trend"):
        v = snap[col].dropna()
        assert ((v >= -1) & (v <= 3)).all()
    for col in ("return_rate_6m", "repeat_buyer_rate_6m", "ship_delay_rate_6m", "gmv_max_drop_12m"):
        v = snap[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert (snap["months_active"] <= as_of + 1).all()
    assert (snap["zero_sales_months_12m"].between(0, 12)).all()


def test_one_row_percentiles_equal_the_group_ranking(small_book):
    from cb_core.explain import peer_percentiles
    from cb_core.explain import percentiles_of_row

    snap = snapshot(small_book.merchants, small_book.activity, small_book.last_month)
    peers = snap[snap["category"] == "fashion"]
    full = peer_percentiles(peers)
    for merchant_id in peers.index[:25]:
        pd.testing.assert_series_equal(percentiles_of_row(peers, peers.loc[merchant_id]), full.loc[merchant_id],
                                       check_names=False)
