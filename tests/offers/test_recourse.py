"""Recourse: the smallest changes of actionable features that make a merchant eligible, its time
budget, and the shipped bank product on the demo book."""
import functools
import importlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cb_core.explain import points as E
from cb_core.data.catalog import feature_catalog
from cb_core.model.credit_model import train_model
from cb_core.offers import match_book, offers_for, recourse, validate_products

from tests.support.offers import FAST, bank


# ------------------------------------------------------------------ recourse

def make_table(n=4000, seed=5):
    """Known monotone effects on catalog features: returns raise risk, repeat buyers and sales lower
    it; months with sales lower it but are not actionable; ad spend has no direction."""
    rng = np.random.default_rng(seed)
    ret, repeat = rng.beta(2, 25, n), rng.beta(4, 12, n)
    gmv = np.exp(rng.normal(14, 0.8, n))
    months = rng.integers(1, 48, n).astype(float)
    ads = rng.uniform(0, 0.2, n)
    z = -3.2 + 25 * (ret - 0.07) - 6 * (repeat - 0.25) - 0.8 * (np.log(gmv) - 14) - 0.03 * (months - 24) + 2 * (ads - 0.1)
    y = (rng.random(n) < expit(z)).astype(int)
    X = pd.DataFrame({"return_rate_6m": ret, "repeat_buyer_rate_6m": repeat, "gmv_3m_avg_krw": gmv,
                      "months_active": months, "ad_spend_ratio_6m": ads},
                     index=pd.Index([f"m{i:05d}" for i in range(n)], name="merchant_id"))
    time_ = pd.Series(rng.permutation(np.repeat([f"2024-{m:02d}" for m in range(1, 9)], n // 8)), index=X.index)
    return X, pd.Series(y, index=X.index), time_


@pytest.fixture(scope="module")
def toy():
    X, y, time_ = make_table()
    model = train_model(X, y, time=time_, params=FAST)
    scored = X.join(model.score(X))
    scored["category"] = "food"
    return model, X, scored


def all_grades(min_score, **changes):
    apr = {str(g): 3.0 + g for g in range(1, 11)}  # every grade: only min_score decides on the score
    loose = {"min_months_active": 0, "min_avg_monthly_gmv_krw": 0}
    return validate_products([bank(min_score=min_score, apr_by_grade=apr, **{**loose, **changes})]).iloc[0]


def test_recourse_moves_only_actionable_features_their_allowed_way_and_really_makes_eligible(toy):
    model, X, scored = toy
    spec = feature_catalog()
    low = scored[scored["score"].between(scored["score"].quantile(0.2), scored["score"].quantile(0.4))].head(12)
    assert len(low) >= 5
    checked = 0
    for mid, m in low.iterrows():
        product = all_grades(int(m["score"]) + 12)
        out = recourse(model, X.loc[mid], product, m)
        target = out[out["kind"] == "target"].iloc[0]
        assert target["current_value"] == m["score"] and target["new_value"] == m["score"] + 12
        changes = out[out["kind"] == "change"]
        for option, rows in changes.groupby("option"):
            for _, r in rows.iterrows():
                entry = spec[r["feature"]]
                assert entry.actionable and entry.risk_direction != 0
                assert r["feature"] not in ("months_active", "ad_spend_ratio_6m")
                moved = r["new_value"] - r["current_value"]
                assert np.sign(moved) == -entry.risk_direction  # +1: only down, -1: only up
                alone = E.what_if(model, X.loc[mid], {r["feature"]: r["new_value"]})
                assert r["points"] == alone["score_change"] and r["points"] > 0
            applied = E.what_if(model, X.loc[mid], dict(zip(rows["feature"], rows["new_value"])))
            assert applied["score"] >= m["score"] + 12
            again = one_product_check(m, applied, product)
            assert again and rows["eligible_after"].all() and (rows["score_after"] == applied["score"]).all()
            checked += 1
    assert checked >= 5


def one_product_check(m, applied, product):
    updated = m.copy()
    updated["score"], updated["grade"] = applied["score"], applied["grade"]
    return bool(offers_for(updated, pd.DataFrame([product])).iloc[0]["eligible"])


def test_recourse_single_feature_options_are_the_smallest_move_of_that_feature(toy):
    model, X, scored = toy
    mid = scored["score"].sub(scored["score"].quantile(0.3)).abs().idxmin()
    m = scored.loc[mid]
    product = all_grades(int(m["score"]) + 10)
    out = recourse(model, X.loc[mid], product, m)
    singles = out[out["kind"] == "change"].groupby("option").filter(lambda g: len(g) == 1)
    assert len(singles) >= 1
    for _, r in singles.iterrows():  # half the move does not reach the target
        half = r["current_value"] + (r["new_value"] - r["current_value"]) / 2
        assert E.what_if(model, X.loc[mid], {r["feature"]: half})["score"] < m["score"] + 10
    assert list(singles["effort"]) == sorted(singles["effort"])


def test_recourse_reports_rules_the_score_cannot_fix(toy):
    model, X, scored = toy
    mid = scored["score"].idxmax()
    m = scored.loc[mid].copy()
    m["months_active"], m["gmv_3m_avg_krw"] = 4, 420_000
    x = X.loc[mid].copy()
    x["months_active"], x["gmv_3m_avg_krw"] = 4, 420_000
    product = all_grades(1, min_months_active=6, min_avg_monthly_gmv_krw=500_000)
    out = recourse(model, x, product, m)
    req = out[out["kind"] == "requirement"].set_index("feature")
    assert list(req.index) == ["months_active", "gmv_3m_avg_krw"]
    months = req.loc["months_active"]
    assert not months["actionable"] and not months["achievable_by_score"]
    assert months["message_en"] == ("needs 6 months with sales (has 4: 2 more months of trading) — "
                                    "not achievable by score improvements alone")
    sales = req.loc["gmv_3m_avg_krw"]
    assert sales["new_value"] == 500_000 and sales["actionable"] and not sales["achievable_by_score"]
    assert sales["points"] == E.what_if(model, x, {"gmv_3m_avg_krw": 500_000})["score_change"]
    assert sales["message_ko"].startswith("최근 3개월 평균 매출 42만원 → 50만원 이상 필요")
    assert req["eligible_after"].all() and (out["kind"] != "change").all()


def test_recourse_for_an_unchangeable_rule_and_for_an_eligible_merchant(toy):
    model, X, scored = toy
    mid = scored.index[0]
    m = scored.loc[mid].copy()
    out = recourse(model, X.loc[mid], all_grades(1, eligible_categories=["pets"]), m)
    assert list(out["kind"]) == ["requirement"] and out["feature"].iloc[0] == "category"
    assert not out["actionable"].iloc[0] and not out["eligible_after"].iloc[0]
    assert recourse(model, X.loc[mid], all_grades(1), m).empty


class WorkClock:
    """Stands in for the ``time`` module recourse reads its budget from: the clock moves one second
    per row the model scores, so a budget is a number of scored rows, whatever the machine's speed."""

    def __init__(self, model, monkeypatch) -> None:
        self.now, self.rows = 0.0, []
        real = model.booster_predict

        def counted(matrix, **kwargs):
            self.rows.append(len(matrix))
            self.now += len(matrix)
            return real(matrix, **kwargs)

        monkeypatch.setattr(model, "booster_predict", counted)

    def perf_counter(self) -> float:
        return self.now


def test_recourse_pair_search_stops_when_the_time_budget_is_spent(toy, monkeypatch):
    recourse_module = importlib.import_module("cb_core.offers._recourse")
    model, X, scored = toy
    worst = scored["score"].idxmin()
    m, x = scored.loc[worst], X.loc[worst]
    monkeypatch.setattr(recourse_module, "_PAIR_CHUNK", 1)  # one pair combination per scoring call

    clock = WorkClock(model, monkeypatch)
    monkeypatch.setattr(recourse_module, "time", clock)

    def search(budget: float, product=None) -> tuple[pd.DataFrame, list[int]]:
        clock.now, clock.rows = 0.0, []
        return recourse(model, x, product, m, time_budget_s=budget), clock.rows

    # A product out of reach of any single change of this merchant and within reach of several pairs
    # (which cutoff that is depends on the toy model: take the first that qualifies).
    for cutoff in range(int(m["score"]) + 1, 700, 5):
        product = all_grades(cutoff)
        full, rows = search(1e12, product)
        changes = full[full["kind"] == "change"]
        if len(options(changes)) >= 2 and (changes.groupby("option").size() == 2).all():
            break
    else:
        raise AssertionError("no cutoff above the merchant's score is out of reach of single changes and within "
                             "reach of two or more pairs")
    search = functools.partial(search, product=product)

    # Scoring calls: the merchant as it is, every single change at once, then one call per pair.
    full, rows = search(budget=1e12)
    singles, pairs = rows[1], len(rows) - 2
    assert rows == [1, singles] + [1] * pairs and pairs > 10
    changes = full[full["kind"] == "change"]
    assert changes["option"].nunique() >= 1 and (changes.groupby("option").size() == 2).all()
    assert changes["eligible_after"].all() and full["kind"].iloc[0] == "target" and full["actionable"].iloc[0]

    # Spent before the pair search: not one pair is scored, and the answer says nothing was found.
    spent, rows = search(budget=0)
    assert rows == [1, singles]
    assert spent["kind"].tolist() == ["target"] and not spent["actionable"].iloc[0]
    assert spent["message_en"].iloc[0].endswith("no change of one or two actionable features gets there")

    # Spent part way: exactly the pairs scored before the deadline, and every option it keeps is real
    # (eligible after its changes; not always one the full search ranks first, which saw more pairs);
    # some deadline before the last pair already has an answer.
    answered = []
    for k in range(1, pairs):
        half, rows = search(budget=1 + singles + k - 0.5)
        assert rows == [1, singles] + [1] * k
        kept = half[half["kind"] == "change"]
        assert kept["eligible_after"].all() and (kept.groupby("option").size() == 2).all()
        if len(kept):
            answered.append(k)
            assert half["kind"].iloc[0] == "target" and half["actionable"].iloc[0]
    assert answered and min(answered) < pairs - 1


def options(changes: pd.DataFrame) -> set[frozenset]:
    """Each option of a recourse answer as the set of its (feature, new value) changes."""
    return {frozenset(zip(rows["feature"], rows["new_value"])) for _, rows in changes.groupby("option")}


def test_recourse_on_the_demo_book_with_the_shipped_bank_product(small_book, shipped):
    from cb_core.features.pipeline import current_snapshot, training_table

    X, y, time_, _, _ = training_table(small_book)
    model = train_model(X, y, time=time_, params=FAST)
    snap = current_snapshot(small_book)
    scored = snap.join(model.score(snap))
    book = match_book(scored, shipped)
    score_only = book[("failed", "BANK-01")].isin([1, 2, 3])  # only the score and/or grade rules fail
    product = shipped.set_index("product_id", drop=False).loc["BANK-01"]
    indexed = shipped.set_index("product_id").loc["BANK-01"]  # a catalog row without the id column also works
    found = 0
    for mid in book.index[score_only][:8]:
        out = recourse(model, snap.loc[mid], indexed, scored.loc[mid])
        for option, rows in out[out["kind"] == "change"].groupby("option"):
            applied = E.what_if(model, snap.loc[mid], dict(zip(rows["feature"], rows["new_value"])))
            assert one_product_check(scored.loc[mid], applied, product)
            assert all(feature_catalog()[f].actionable for f in rows["feature"])
            found += 1
    assert found >= 3
