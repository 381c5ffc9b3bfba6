"""Tests of the synthetic book: contract rules, realism targets and the documented true PD."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cb_core.synth import generate as synth
from cb_core.data import ACTIVITY_COLUMNS, MERCHANT_COLUMNS, OUTCOME_COLUMNS, Book
from cb_core.errors import ConfigError
from cb_core.synth import CATEGORY_PD_EFFECT, PD_COEFFICIENTS, generate_book, snapshot_months, true_pd_at

DATA = Path(__file__).resolve().parents[2] / "data"
N, MONTHS, SEED, END = 5_000, 24, 7, "2026-10"
SNAPSHOTS = ["2025-04", "2025-07", "2025-10"]
COUNT_COLUMNS = ["gmv_krw", "orders", "returns", "refund_krw", "unique_buyers", "active_listings", "reviews",
                 "disputes", "settlement_krw", "search_clicks", "ad_spend_krw"]


def _codes(name: str) -> set[str]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return {row["code"] for row in csv.DictReader(fh)}


def _month_number(months: pd.Series) -> pd.Series:
    return months.str.slice(0, 4).astype("int64") * 12 + months.str.slice(5, 7).astype("int64") - 1


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    ranks = pd.Series(score).rank().to_numpy()
    pos = y == 1
    return (ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())


@pytest.fixture(scope="session")
def book() -> Book:
    return generate_book(N, MONTHS, seed=SEED, end_month=END)


@pytest.fixture(scope="session")
def activity_with_category(book: Book) -> pd.DataFrame:
    return book.activity.merge(book.merchants[["merchant_id", "category", "joined_platform_on"]],
                               on="merchant_id", how="left", validate="many_to_one")


# --------------------------------------------------------------------------- parameters, determinism

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_merchants": 0}, "n_merchants must be at least 1; got 0"),
    ({"n_merchants": -5}, "n_merchants must be at least 1; got -5"),
    ({"n_merchants": 2.5}, "n_merchants must be an integer; got 2.5"),
    ({"n_merchants": True}, "n_merchants must be an integer; got True"),
    ({"n_merchants": 10, "n_months": 0}, "n_months must be within 1–120; got 0"),
    ({"n_merchants": 10, "n_months": 121}, "n_months must be within 1–120; got 121"),
    ({"n_merchants": 10, "seed": -1}, "seed must be at least 0; got -1"),
    ({"n_merchants": 10, "end_month": "2026-13"}, "end_month must be a month YYYY-MM .*got '2026-13'"),
    ({"n_merchants": 10, "end_month": "2026/10"}, "end_month must be a month YYYY-MM .*got '2026/10'"),
    ({"n_merchants": 10, "end_month": 202610}, "end_month must be a month YYYY-MM .*got 202610"),
])
def test_bad_parameters_raise_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_book(**kwargs)


def test_same_seed_gives_identical_tables_and_other_seed_differs(book: Book) -> None:
    again = generate_book(N, MONTHS, seed=SEED, end_month=END)
    pd.testing.assert_frame_equal(again.merchants, book.merchants)
    pd.testing.assert_frame_equal(again.activity, book.activity)
    pd.testing.assert_frame_equal(again.outcomes, book.outcomes)
    assert again.fingerprint == book.fingerprint
    assert book.source == "demo:seed=7"

    other = generate_book(N, MONTHS, seed=SEED + 1, end_month=END)
    assert other.fingerprint != book.fingerprint
    assert (other.merchants["owner_name"] != book.merchants["owner_name"]).mean() > 0.5
    assert other.activity["gmv_krw"].sum() != book.activity["gmv_krw"].sum()


# --------------------------------------------------------------------------- merchants contract

def test_column_order_and_dtypes(book: Book) -> None:
    assert list(book.merchants.columns) == list(MERCHANT_COLUMNS)
    assert list(book.activity.columns) == list(ACTIVITY_COLUMNS)
    assert list(book.outcomes.columns) == [*OUTCOME_COLUMNS, "true_pd"]
    m, a, o = book.merchants, book.activity, book.outcomes
    for col in ("merchant_id", "business_name", "owner_name", "business_reg_no", "category", "region",
                "opened_on", "joined_platform_on"):
        assert m[col].dtype == "str", col
    assert m["bureau_score"].dtype == "Int64"
    assert m["owner_has_credit_card"].dtype == "boolean"
    assert m["region_income_index"].dtype == "float64"
    assert a["merchant_id"].dtype == "str" and a["month"].dtype == "str"
    for col in COUNT_COLUMNS:
        assert a[col].dtype == "int64", col
    for col in ("repeat_buyer_rate", "inventory_turnover", "avg_rating", "ship_delay_rate"):
        assert a[col].dtype == "float64", col
    assert o["merchant_id"].dtype == "str" and o["snapshot_month"].dtype == "str"
    assert o["defaulted_12m"].dtype == "int64" and o["true_pd"].dtype == "float64"
    for frame in (m, a, o):
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0


def test_merchant_ids_are_unique_and_zero_padded(book: Book) -> None:
    ids = book.merchants["merchant_id"]
    assert ids.is_unique
    assert ids.iloc[0] == "M0000001" and ids.iloc[-1] == "M0005000"
    assert ids.str.fullmatch(r"M\d{7}").all()
    wide = generate_book(3, 1, seed=1)  # width grows only past 9,999,999 merchants
    assert wide.merchants["merchant_id"].tolist() == ["M0000001", "M0000002", "M0000003"]


def _reg_no_is_valid(reg_no: str) -> bool:
    d = [int(c) for c in reg_no.replace("-", "")]
    total = sum(x * w for x, w in zip(d[:9], (1, 3, 7, 1, 3, 7, 1, 3, 5))) + d[8] * 5 // 10
    return (10 - total % 10) % 10 == d[9]


def test_business_reg_no_format_checksum_and_uniqueness(book: Book) -> None:
    reg = book.merchants["business_reg_no"]
    assert reg.str.fullmatch(r"\d{3}-\d{2}-\d{5}").all()
    assert all(_reg_no_is_valid(r) for r in reg)
    assert reg.is_unique
    # by hand: 1*1+2*3+3*7+4*1+5*3+6*7+7*1+8*3+9*5 = 165, + 9*5//10 = 169 -> check digit 1
    assert _reg_no_is_valid("123-45-67891") and not _reg_no_is_valid("123-45-67890")
    assert synth.business_reg_check_digit(np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9]])).tolist() == [1]
    kinds = reg.str.slice(4, 6).astype(int)
    assert kinds.between(1, 88).all() and not kinds.isin([80, 82, 83, 84, 85]).any()


def test_category_region_and_names(book: Book) -> None:
    m = book.merchants
    assert set(m["category"]) == _codes("categories.csv")
    assert set(m["region"]) <= _codes("regions.csv") and m["region"].nunique() == 17
    capital = m["region"].isin(["서울특별시", "경기도"]).mean()
    assert 0.42 <= capital <= 0.56
    assert m["owner_name"].str.fullmatch(r"[가-힣]{3,4}").all()
    surname = m["owner_name"].str.slice(0, 1).value_counts(normalize=True)
    assert 0.18 <= surname["김"] <= 0.25 and 0.11 <= surname["이"] <= 0.18 and 0.06 <= surname["박"] <= 0.11
    assert m["business_name"].str.fullmatch(r"[가-힣]+( [가-힣]+)?").all()
    assert m["business_name"].nunique() > 1_000
    by_cat = m.groupby("category")["business_name"]
    assert not by_cat.get_group("food").str.contains("부티크").any()
    assert not by_cat.get_group("fashion").str.contains("농원").any()
    assert by_cat.get_group("food").str.contains("농원|상회|식품|수산|과수원").mean() > 0.2


def test_dates_bureau_card_and_income(book: Book) -> None:
    m = book.merchants
    opened = pd.to_datetime(m["opened_on"], format="%Y-%m-%d")
    joined = pd.to_datetime(m["joined_platform_on"], format="%Y-%m-%d")
    assert (joined >= opened).all()
    assert joined.max() <= pd.Timestamp("2026-10-31")
    recent = (joined >= pd.Timestamp("2026-05-01")).mean()  # joined within the last 6 months
    assert 0.125 <= recent <= 0.175
    score = m["bureau_score"]
    assert score.dropna().between(1, 1000).all()
    card = m["owner_has_credit_card"]
    assert 0.01 <= card.isna().mean() <= 0.06 and 0.6 <= card.mean() <= 0.9
    assert m["region_income_index"].between(60, 160).all()
    income = m.groupby("region")["region_income_index"].mean()
    assert income["서울특별시"] > income["전라남도"] + 20


def test_thin_file_share_and_who_is_thin(book: Book) -> None:
    thin = book.merchants["bureau_score"].isna()
    assert abs(thin.mean() - 0.30) <= 0.04
    opened = pd.to_datetime(book.merchants["opened_on"])
    young_business = opened >= pd.Timestamp("2024-11-01")
    assert thin[young_business].mean() > thin[~young_business].mean() + 0.05


# --------------------------------------------------------------------------- activity contract

def test_activity_values_respect_the_contract(book: Book) -> None:
    a = book.activity
    for col in COUNT_COLUMNS:
        assert (a[col] >= 0).all(), col
    for col in ("repeat_buyer_rate", "ship_delay_rate"):
        assert a[col].between(0, 1).all(), col
    assert (a["inventory_turnover"] >= 0).all() and a["inventory_turnover"].notna().all()
    assert a["avg_rating"].isna().equals(a["reviews"] == 0)
    assert a["avg_rating"].dropna().between(1, 5).all()
    assert (a["unique_buyers"] <= a["orders"]).all()
    assert (a["returns"] <= a["orders"]).all() and (a["disputes"] <= a["orders"]).all()
    assert (a["refund_krw"] <= a["gmv_krw"]).all()
    assert ((a["gmv_krw"] == 0) == (a["orders"] == 0)).all()
    net = a["gmv_krw"] - a["refund_krw"]
    assert (a["settlement_krw"] <= net).all() and (a["settlement_krw"] >= 0.9 * net - 1).all()
    selling = a["orders"] > 0
    assert (a.loc[selling, "active_listings"] > 0).all()


def test_months_are_contiguous_sorted_and_start_at_join(book: Book) -> None:
    a, m = book.activity, book.merchants
    assert a["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert a["month"].min() == "2024-11" and a["month"].max() == END
    assert not a.duplicated(["merchant_id", "month"]).any()
    assert a.equals(a.sort_values(["merchant_id", "month"], ignore_index=True))
    number = _month_number(a["month"])
    span = number.groupby(a["merchant_id"]).agg(["min", "max", "count"])
    assert (span["max"] - span["min"] + 1 == span["count"]).all()
    assert set(span.index) == set(m["merchant_id"])
    joined = _month_number(m.set_index("merchant_id")["joined_platform_on"]).reindex(span.index)
    window_start = 2024 * 12 + 10
    assert (span["min"] == np.maximum(joined, window_start)).all()


def test_churners_fade_to_zero_before_their_rows_stop(book: Book) -> None:
    a = book.activity
    last_rows = a.groupby("merchant_id").tail(1)
    stopped = last_rows[last_rows["month"] < END]
    assert 0.01 <= len(stopped) / N <= 0.08
    assert (stopped["gmv_krw"] == 0).all()
    assert (a["gmv_krw"] == 0).mean() < 0.12


def test_gmv_is_skewed_and_calibrated_to_eligibility_facts(book: Book) -> None:
    a = book.activity
    last3 = a[a["month"] >= "2026-08"]
    per_merchant = last3.groupby("merchant_id")["gmv_krw"].agg(["min", "count", "mean"])
    full = per_merchant[per_merchant["count"] == 3]
    over_500k = (full["min"] >= 500_000).sum() / N  # three consecutive months at the threshold
    over_1m = (full["min"] >= 1_000_000).sum() / N
    assert 0.35 <= over_500k <= 0.60
    assert 1.25 <= over_500k / over_1m <= 1.65  # lowering 1M -> 500k widened the pool by ~40%
    month_avg = per_merchant["mean"]
    assert month_avg.mean() > 2.5 * month_avg.median()
    assert 0.4e6 <= month_avg.median() <= 1.5e6
    assert month_avg.between(0.3e6, 10e6).mean() > 0.5
    assert a["gmv_krw"].max() > 100e6


def test_categories_differ_in_returns_tickets_and_seasonality(activity_with_category: pd.DataFrame) -> None:
    by_cat = activity_with_category.groupby("category")[["returns", "orders", "gmv_krw"]].sum()
    return_rate = by_cat["returns"] / by_cat["orders"]
    assert return_rate["fashion"] > return_rate["digital"] > return_rate["food"]
    assert return_rate["fashion"] > 0.08 and return_rate["food"] < 0.03
    ticket = by_cat["gmv_krw"] / by_cat["orders"]
    assert min(ticket["furniture"], ticket["digital"]) > 3 * max(ticket["food"], ticket["beauty"])

    year = activity_with_category[activity_with_category["month"].str.startswith("2025")]
    monthly = year.groupby(["category", "month"])["gmv_krw"].sum().unstack()
    year_end = monthly[["2025-11", "2025-12"]].mean(axis=1)
    assert (year_end > 1.05 * monthly.mean(axis=1)).all()
    # Chuseok 2025-10-06: gift buying in September lifts food and dips fashion
    september = monthly["2025-09"] / monthly["2025-08"]
    assert september["food"] > september["fashion"] + 0.15


# --------------------------------------------------------------------------- outcomes and true PD

def test_snapshot_months() -> None:
    assert snapshot_months(24, END) == SNAPSHOTS
    assert snapshot_months(18, END) == ["2025-10"]
    assert snapshot_months(17, END) == [END]
    assert snapshot_months(36, "2026-12") == ["2024-06", "2024-09", "2024-12", "2025-03", "2025-06",
                                              "2025-09", "2025-12"]
    with pytest.raises(ConfigError, match="n_months must be within 1–120; got 200"):
        snapshot_months(200)


def test_outcomes_rows_follow_the_sampling_rules(book: Book) -> None:
    o, a = book.outcomes, book.activity
    assert o["snapshot_month"].unique().tolist() == SNAPSHOTS
    assert o.equals(o.sort_values(["snapshot_month", "merchant_id"], ignore_index=True))
    assert not o.duplicated(["merchant_id", "snapshot_month"]).any()
    assert set(o["defaulted_12m"].unique()) == {0, 1}
    assert o["true_pd"].between(0, 1, inclusive="neither").all()
    have = set(zip(a["merchant_id"], a["month"]))
    for snap in SNAPSHOTS:
        earlier = [(pd.Period(snap, "M") - k).strftime("%Y-%m") for k in range(3)]
        rows = o[o["snapshot_month"] == snap]
        assert all((mid, month) in have for mid in rows["merchant_id"] for month in earlier)
        eligible = {mid for mid, month in have if month == earlier[2]} & {mid for mid, month in have
                                                                           if month == snap}
        # merchants already in default at the snapshot (a few percent) get no row: slightly below the loan share
        assert synth.LOAN_SHARE * 0.9 - 0.03 < len(rows) / len(eligible) < synth.LOAN_SHARE + 0.03


def test_default_rate_matches_true_pd(book: Book) -> None:
    o = book.outcomes
    rate, mean_pd = o["defaulted_12m"].mean(), o["true_pd"].mean()
    assert 0.02 <= rate <= 0.08 and 0.03 <= mean_pd <= 0.06
    # true_pd is the PD as of the snapshot; the default is drawn month by month from the PD as it
    # then drifts (declining merchants' risk rises inside the window), so the realised rate runs
    # above the as-of PD: documented as 0-35% above
    assert mean_pd <= rate <= 1.35 * mean_pd
    assert 0.75 <= _auc(o["defaulted_12m"].to_numpy(), o["true_pd"].to_numpy()) <= 0.90
    decile = pd.qcut(o["true_pd"], 10, labels=False)
    observed = o.groupby(decile)["defaulted_12m"].mean()
    assert observed.iloc[-1] > 5 * observed.iloc[0]


@pytest.mark.parametrize("snap", SNAPSHOTS)
def test_true_pd_at_equals_outcomes_true_pd(book: Book, snap: str) -> None:
    at = true_pd_at(book, snap)
    rows = book.outcomes[book.outcomes["snapshot_month"] == snap]
    np.testing.assert_array_equal(at.loc[rows["merchant_id"]].to_numpy(), rows["true_pd"].to_numpy())
    a = book.activity
    assert set(at.index) == set(a.loc[a["month"] == snap, "merchant_id"])
    assert at.name == "true_pd" and at.index.name == "merchant_id"


def _reference_pd(book: Book, as_of: str) -> pd.Series:
    """The module docstring's PD formula, re-implemented with plain pandas."""
    months = [(pd.Period(as_of, "M") - k).strftime("%Y-%m") for k in range(11, -1, -1)]
    w = book.activity[book.activity["month"].isin(months)].copy()
    w["slot"] = w["month"].map({m: i for i, m in enumerate(months)})
    ids = w.loc[w["month"] == as_of, "merchant_id"]
    w = w[w["merchant_id"].isin(ids)]
    g = w.groupby("merchant_id")
    six = w[w["slot"] >= 6].assign(
        rating_x=lambda d: np.where(d["reviews"] > 0, d["avg_rating"] * d["reviews"], 0.0),
        delay_x=lambda d: d["ship_delay_rate"] * d["orders"],
        repeat_x=lambda d: d["repeat_buyer_rate"] * d["unique_buyers"])
    s6 = six.groupby("merchant_id")[["orders", "returns", "disputes", "reviews", "rating_x", "delay_x",
                                     "repeat_x", "unique_buyers"]].sum()
    gmv3 = w[w["slot"] >= 9].groupby("merchant_id")["gmv_krw"].agg(["sum", "count"])
    prior = w[w["slot"].between(6, 8)].groupby("merchant_id")["gmv_krw"].sum()
    prior = prior.reindex(s6.index)
    trend = np.log((gmv3["sum"] + 3e5) / (prior + 3e5)).where(prior.notna(), 0.0).clip(-2, 1)
    mean, std = g["gmv_krw"].mean(), g["gmv_krw"].std(ddof=0)
    cv = (std / mean.where(mean > 0)).fillna(2.0).clip(0, 2)
    merchants = book.merchants.set_index("merchant_id").loc[s6.index]
    tenure = _month_number(pd.Series([as_of])).iloc[0] - _month_number(merchants["joined_platform_on"])
    bureau = merchants["bureau_score"].astype("float64")
    rating = s6["rating_x"] / s6["reviews"].where(s6["reviews"] > 0)
    drivers = {
        "trend": trend,
        "return": (s6["returns"] / s6["orders"].clip(lower=1)).clip(0, 0.5),
        "dispute": (s6["disputes"] / s6["orders"].clip(lower=1)).clip(0, 0.1),
        "volatility": cv,
        "short_tenure": (12 - tenure).clip(0, 12) / 12,
        "zero_months": (w["gmv_krw"] == 0).groupby(w["merchant_id"]).sum().clip(upper=6),
        "low_rating": (4.5 - rating).clip(0, 2).fillna(0.0),
        "no_reviews": (s6["reviews"] == 0).astype(float),
        "ship_delay": (s6["delay_x"] / s6["orders"].clip(lower=1)).clip(0, 0.6),
        "repeat": s6["repeat_x"] / s6["unique_buyers"].clip(lower=1),
        "bureau": ((bureau - 750) / 100).clip(-4, 2.5).fillna(0.0),
        "thin_file": bureau.isna().astype(float),
        "scale": np.log10((gmv3["sum"] / gmv3["count"]).clip(1e4, 1e9)) - 6,
    }
    logit = PD_COEFFICIENTS["intercept"] + merchants["category"].map(CATEGORY_PD_EFFECT).astype(float)
    for name, value in drivers.items():
        logit = logit + PD_COEFFICIENTS[name] * value.reindex(s6.index).astype(float)
    return 1 / (1 + np.exp(-logit.clip(-8, 3)))


def test_true_pd_matches_the_documented_formula(book: Book) -> None:
    snap = SNAPSHOTS[-1]
    expected = _reference_pd(book, snap)
    got = true_pd_at(book, snap)
    assert len(expected) == len(got) > 3_000
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-9, atol=0)


def test_docstring_lists_the_coefficients() -> None:
    doc = synth.__doc__
    for name, value in PD_COEFFICIENTS.items():
        assert re.search(rf"\b{name} {value:g}\b", doc), name
    for code, value in CATEGORY_PD_EFFECT.items():
        assert re.search(rf"\b{code} \+?{value:g}", doc), code


def _quintile_means(values: pd.Series, pd_values: pd.Series) -> pd.Series:
    quintile = pd.qcut(values.rank(method="first"), 5, labels=False)
    return pd_values.groupby(quintile).mean()


def test_true_pd_rises_with_its_risk_drivers(book: Book) -> None:
    snap = SNAPSHOTS[-1]
    a = book.activity
    six = a[a["month"].between("2025-05", snap)].groupby("merchant_id")[["returns", "disputes", "orders"]].sum()
    rows = book.outcomes[book.outcomes["snapshot_month"] == snap].set_index("merchant_id")
    six = six.loc[rows.index]
    return_rate = six["returns"] / six["orders"].clip(lower=1)
    by_returns = _quintile_means(return_rate, rows["true_pd"])
    assert by_returns.iloc[4] > 1.3 * by_returns.iloc[0]
    last3 = a[a["month"].between("2025-08", snap)].groupby("merchant_id")["gmv_krw"].sum().loc[rows.index]
    prior3 = a[a["month"].between("2025-05", "2025-07")].groupby("merchant_id")["gmv_krw"].sum()
    seasoned = prior3.index.intersection(rows.index)
    trend = np.log((last3[seasoned] + 3e5) / (prior3[seasoned] + 3e5))
    by_trend = _quintile_means(trend, rows.loc[seasoned, "true_pd"])
    assert by_trend.iloc[0] > 1.5 * by_trend.iloc[4]  # falling sales, higher PD
    bureau = book.merchants.set_index("merchant_id")["bureau_score"].loc[rows.index]
    scored = bureau.notna()
    by_bureau = _quintile_means(bureau[scored].astype(float), rows.loc[scored, "true_pd"])
    assert by_bureau.iloc[0] > 2 * by_bureau.iloc[4]


@pytest.mark.parametrize("change", ["returns", "disputes", "ship_delay", "bureau_down"])
def test_true_pd_is_monotone_ceteris_paribus(book: Book, change: str) -> None:
    snap = SNAPSHOTS[-1]
    before = true_pd_at(book, snap)
    merchants, activity = book.merchants.copy(), book.activity.copy()
    movers = before.index[::7]
    rows = activity["merchant_id"].isin(movers) & activity["month"].between("2025-08", snap)
    if change == "returns":
        activity.loc[rows, "returns"] = np.maximum(activity.loc[rows, "returns"], activity.loc[rows, "orders"] // 2)
    elif change == "disputes":
        activity.loc[rows, "disputes"] = activity.loc[rows, "disputes"] + activity.loc[rows, "orders"] // 50 + 1
        activity.loc[rows, "disputes"] = np.minimum(activity.loc[rows, "disputes"], activity.loc[rows, "orders"])
    elif change == "ship_delay":
        activity.loc[rows, "ship_delay_rate"] = (activity.loc[rows, "ship_delay_rate"] + 0.2).clip(upper=1)
    else:
        score = merchants["bureau_score"]
        merchants["bureau_score"] = score.where(~merchants["merchant_id"].isin(movers), (score - 150).clip(lower=1))
    after = true_pd_at(Book(merchants, activity), snap)
    untouched = before.index.difference(movers)
    pd.testing.assert_series_equal(after.loc[untouched], before.loc[untouched])
    assert (after.loc[movers] >= before.loc[movers]).all()
    assert (after.loc[movers] > before.loc[movers]).mean() > 0.5


def test_short_books_and_true_pd_at_errors() -> None:
    short = generate_book(300, 12, seed=3)
    assert short.outcomes["snapshot_month"].unique().tolist() == [END]
    single = generate_book(50, 1, seed=3)
    assert len(single.activity) == 50 and single.activity["month"].eq(END).all()
    assert len(single.outcomes) == 0 and list(single.outcomes.columns) == [*OUTCOME_COLUMNS, "true_pd"]
    assert single.outcomes["true_pd"].dtype == "float64"
    with pytest.raises(ConfigError, match="as_of must be a month YYYY-MM .*got '2026-10-01'"):
        true_pd_at(short, "2026-10-01")
    with pytest.raises(ConfigError, match=r"as_of must be a month of the book \(2025-11 to 2026-10\); got '2027-01'"):
        true_pd_at(short, "2027-01")


# --------------------------------------------------------------------------- persistent default events

def test_one_default_labels_every_earlier_window_that_holds_it_and_no_later_row(book: Book) -> None:
    o = book.outcomes.assign(t=_month_number(book.outcomes["snapshot_month"]))
    for _, rows in o.sort_values("t").groupby("merchant_id"):
        labels, t = rows["defaulted_12m"].to_numpy(), rows["t"].to_numpy()
        if labels.any():
            first_bad = t[np.argmax(labels)]
            later = t > first_bad
            # the default month D is in (first_bad, first_bad + 12]: a later row exists only before D,
            # so its window holds D too; no row is taken once D has passed
            assert labels[later].all() and (t[later] < first_bad + 12).all()
        assert (np.diff(labels) >= 0).all()


def test_activity_collapses_after_a_default(book: Book) -> None:
    """Merchants bad at the first snapshot default within the next 12 months: by the book's end their
    sales have fallen and their disputes risen against merchants good at that snapshot."""
    first = book.outcomes[book.outcomes["snapshot_month"] == SNAPSHOTS[0]].set_index("merchant_id")
    a = book.activity
    before = a[a["month"] == SNAPSHOTS[0]].set_index("merchant_id")["gmv_krw"]
    late = a[a["month"] >= "2026-08"].groupby("merchant_id")[["gmv_krw", "orders", "disputes"]].sum()
    late = late.reindex(first.index).fillna(0)  # a closed store has no late rows: no sales
    change = (late["gmv_krw"] / 3 + 1e4) / (before.reindex(first.index) + 1e4)
    bad = first["defaulted_12m"] == 1
    assert bad.sum() > 50
    assert change[bad].median() < 0.5 * change[~bad].median()
    dispute_rate = late["disputes"] / late["orders"].where(late["orders"] > 0)
    assert dispute_rate[bad].mean() > 2 * dispute_rate[~bad].mean()
