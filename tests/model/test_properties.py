"""Property tests across the engine: scores stay in 1–1000, additivity holds, offers never exceed caps."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from cb_core.explain import points_by_feature
from cb_core.offers import load_products, match_book
from cb_core.offers import MERCHANT_FIELDS

_finite = st.one_of(st.floats(-1e12, 1e12), st.just(float("nan")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_feature_values_score_within_range_and_add_up(trained, data):
    model, _ = trained
    n = data.draw(st.integers(1, 5))
    rows = {}
    for f in model.features:
        if f in model.categorical_levels:
            rows[f] = data.draw(st.lists(st.sampled_from(model.categorical_levels[f] + [None]), min_size=n, max_size=n))
        else:
            rows[f] = data.draw(st.lists(_finite, min_size=n, max_size=n))
    X = pd.DataFrame(rows, index=[f"x{i}" for i in range(n)])
    X["category"] = pd.Categorical(X["category"], categories=model.categorical_levels["category"])
    scored = model.score(X)
    assert scored["score"].between(1, 1000).all() and scored["grade"].between(1, 10).all()
    assert ((scored["pd"] > 0) & (scored["pd"] < 1)).all()
    pts = points_by_feature(model, X)
    a, b = model.calibration
    unclipped = model.scale.offset - model.scale.factor * (a * model.margin(X).to_numpy() + b)
    np.testing.assert_allclose(pts.sum(axis=1).to_numpy(), unclipped, atol=1e-6, rtol=0)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_offers_never_exceed_caps_and_respect_minimums(data):
    products = load_products()
    n = data.draw(st.integers(1, 30))
    frame = pd.DataFrame({
        "gmv_3m_avg_krw": data.draw(st.lists(st.floats(0, 5e9), min_size=n, max_size=n)),
        "months_active": data.draw(st.lists(st.integers(0, 120), min_size=n, max_size=n)),
        "score": data.draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n)),
        "grade": data.draw(st.lists(st.integers(1, 10), min_size=n, max_size=n)),
        "category": data.draw(st.lists(st.sampled_from(["food", "fashion", "pets", "digital"]), min_size=n, max_size=n)),
    })
    for extra in MERCHANT_FIELDS:
        if extra not in frame:
            frame[extra] = 0
    result = match_book(frame, products)
    for _, p in products.iterrows():
        pid = p["product_id"]
        eligible = result[("eligible", pid)].to_numpy(dtype=bool)
        limit = result[("limit_krw", pid)].to_numpy(dtype=float)
        assert (limit[eligible] <= p["limit_cap_krw"]).all()
        assert (limit[eligible] % 100_000 == 0).all()  # rounded down to 100,000 KRW
        assert (frame["months_active"].to_numpy()[eligible] >= p["min_months_active"]).all()
        assert (frame["gmv_3m_avg_krw"].to_numpy()[eligible] >= p["min_avg_monthly_gmv_krw"]).all()
