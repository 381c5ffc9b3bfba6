"""The activity features' C kernel (cb_core/features/_activity_native.c) against numpy's dense arrays
(``_activity.dense_features``, the reference kept for machines without a C compiler): the same merchants and
the same features bit for bit, on rows made to reach every branch (months missing, merchants new in the window
or older than it, rows after the month, unknown merchants, a month given twice, missing values, negative and
zero values, every column type, Arrow chunks and offsets); one merchant's features by hand; and numpy when the
kernel is switched off or cannot be built."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from cb_core.features import ACTIVITY_FEATURES, asof, snapshot, snapshot_columns
from cb_core.features import _activity
from cb_core.features._columns import positions_in

ROOT = Path(__file__).resolve().parents[2]
END = asof.month_index("2025-12")


def _rows(seed: int, merchants: int = 400) -> pd.DataFrame:
    """Monthly rows of ``merchants`` merchants (and 20 rows of unknown ones), shuffled: each merchant's first
    month anywhere from 30 months before END to after it, months missing at random, one month in fifty given
    twice; values with zeros, a few negatives and missing values."""
    rng = np.random.default_rng(seed)
    out = []
    for m in range(merchants):
        first = END - int(rng.integers(-2, 30))
        months = [t for t in range(first, END + 3) if rng.random() > 0.25]
        months += [t for t in months if rng.random() < 0.02]  # the same month twice
        out += [(f"M{m:05d}", t) for t in months]
    out += [(f"X{i}", END - i) for i in range(20)]  # not among the merchants
    frame = pd.DataFrame(out, columns=["merchant_id", "month_index"]).sample(frac=1, random_state=seed)
    n = len(frame)
    frame["month"] = [asof.month_label(int(t)) for t in frame["month_index"]]
    for name in _activity.SUM_FIELDS:
        values = rng.integers(0, 5_000, n) * rng.integers(0, 2, n)  # about half zero
        values[rng.random(n) < 0.01] *= -1
        frame[name] = values
    for name in _activity.RATE_FIELDS:
        frame[name] = np.where(rng.random(n) < 0.1, np.nan, rng.random(n))
    frame["avg_rating"] = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(1, 5, n))
    return frame.drop(columns="month_index").reset_index(drop=True)


def _inputs(part, merchant_ids):
    lookup = positions_in(pd.Series(merchant_ids))
    codes, distinct = asof._merchant_codes(part)
    months = asof.month_index(part.column("month") if isinstance(part, pa.Table) else part["month"])
    return codes, months, lookup(distinct)


def _bit_for_bit(got, want) -> None:
    (at, values), (want_at, want_values) = got, want
    np.testing.assert_array_equal(at, want_at)
    assert list(values) == list(want_values) == list(ACTIVITY_FEATURES)
    for name in ACTIVITY_FEATURES:
        a, b = values[name], want_values[name]
        np.testing.assert_array_equal(a, b, err_msg=name)  # NaN where NaN
        finite = ~np.isnan(b)
        assert np.array_equal(np.signbit(a[finite]), np.signbit(b[finite])), name  # and 0.0 is not -0.0


@pytest.fixture(scope="module")
def kernel():
    lib = _activity.library()
    assert lib is not None, "the C kernel must build here (scripts/test.sh installs gcc)"
    return lib


def _written(part, codes, months, where, end, n):
    """What features_into writes for ``n`` merchants: the positions written (ascending) and their features."""
    into = {name: np.full(n, np.nan) for name in ACTIVITY_FEATURES}
    has_rows = np.zeros(n, dtype=bool)
    _activity.features_into(part, codes, months, where, end, into, has_rows)
    at = np.flatnonzero(has_rows)
    assert all(np.isnan(into[name][~has_rows]).all() for name in ACTIVITY_FEATURES)  # nothing written there
    return at, {name: into[name][at] for name in ACTIVITY_FEATURES}


def _both(part, ids, end=END):
    """The kernel's features and numpy's (in the same order of positions)."""
    codes, months, where = _inputs(part, ids)
    at, values = _activity.dense_features(part, codes, months, where, end)
    order = np.argsort(at)
    return (_written(part, codes, (months, None), where, end, len(ids)),
            (at[order], {name: v[order] for name, v in values.items()}))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_kernel_gives_numpys_features_bit_for_bit_from_a_frame(kernel, seed):
    frame = _rows(seed)
    ids = [f"M{m:05d}" for m in range(400)][::-1]  # positions are not the codes' order
    for end in (END, END - 7, END - 40):  # the last: nobody has rows yet
        _bit_for_bit(*_both(frame, ids, end))
    assert len(_both(frame, ids, END - 40)[0][0]) == 0


def test_every_column_type_and_missing_values_read_as_numpy_reads_them(kernel):
    frame = _rows(3)
    typed = frame.astype({"orders": "int32", "returns": "int16", "reviews": "float32", "disputes": "Int64",
                          "unique_buyers": "uint8", "search_clicks": "float64"})
    typed.loc[typed.index[::17], "disputes"] = pd.NA
    ids = [f"M{m:05d}" for m in range(400)]
    _bit_for_bit(*_both(typed, ids))
    table = pa.Table.from_pandas(typed, preserve_index=False)
    assert table.column("disputes").null_count > 0 and table.column("avg_rating").null_count > 0
    _bit_for_bit(*_both(table, ids))


def test_arrow_chunks_and_offsets_are_read_in_place(kernel):
    """A part as the installed book gives it: row groups joined (every column in the same chunks, a merchant
    straddling two) and sliced (chunks with an offset); and a table whose columns are chunked differently."""
    frame = _rows(4).sort_values(["merchant_id", "month"], kind="mergesort").reset_index(drop=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ids = [f"M{m:05d}" for m in range(400)]
    groups = pa.concat_tables([table.slice(0, 1000), table.slice(1000, 2500), table.slice(3500)])
    assert groups.column("gmv_krw").num_chunks == 3
    _bit_for_bit(*_both(groups, ids))
    sliced = groups.slice(700, 3000)
    assert sliced.column("gmv_krw").chunks[0].offset == 700
    _bit_for_bit(*_both(sliced, ids))
    uneven = table.set_column(table.schema.get_field_index("orders"), "orders",
                              pa.chunked_array([table.column("orders").combine_chunks()[:10],
                                                table.column("orders").combine_chunks()[10:]]))
    _bit_for_bit(*_both(uneven, ids))
    _, held = _activity._chunks(uneven)[1:]
    assert all(column.num_chunks == 1 for column in held[0].columns)  # joined into one chunk each


def test_one_merchants_features_by_hand(kernel):
    """Twelve months of sales 100..1200 (and nothing before), 10 orders a month, no review in the last month
    (its rating missing, as in a book): the figures worked out here by hand."""
    months = [asof.month_label(END - 11 + i) for i in range(12)]
    gmv = [100.0 * (i + 1) for i in range(12)]
    frame = pd.DataFrame({"merchant_id": "M1", "month": months, "gmv_krw": gmv, "orders": 10, "returns": 1,
                          "refund_krw": 0, "unique_buyers": 8, "active_listings": 20, "reviews": [2] * 11 + [0], "disputes": 0,
                          "settlement_krw": 50.0, "search_clicks": 40, "ad_spend_krw": 5,
                          "repeat_buyer_rate": 0.5, "inventory_turnover": 2.0, "ship_delay_rate": 0.1,
                          "avg_rating": [4.0] * 11 + [np.nan]})
    (at, f), _ = _both(frame, ["M0", "M1"])
    assert at.tolist() == [1]
    last3, prior3, last6 = 1100 + 1200 + 1000, 700 + 800 + 900, sum(gmv[6:])
    assert f["gmv_3m_avg_krw"][0] == last3 / 3 and f["gmv_12m_total_krw"][0] == sum(gmv)
    assert f["gmv_trend_3m"][0] == pytest.approx(last3 / prior3 - 1)
    assert math.isnan(f["gmv_yoy"][0])  # the year before is not observed
    mean = sum(gmv) / 12
    assert f["gmv_volatility_12m"][0] == pytest.approx(math.sqrt(sum((g - mean) ** 2 for g in gmv) / 12) / mean)
    assert f["gmv_max_drop_12m"][0] == 0.0 and f["months_active"][0] == 12 and f["zero_sales_months_12m"][0] == 0
    assert f["avg_ticket_krw"][0] == last6 / 60 and f["return_rate_6m"][0] == 6 / 60
    assert f["settlement_ratio_6m"][0] == pytest.approx(300 / last6)
    assert f["avg_rating_6m"][0] == 4.0 and f["rating_trend"][0] == 0.0  # the month without reviews weighs nothing
    assert f["reviews_per_order_6m"][0] == 10 / 60
    assert f["search_clicks_per_listing"][0] == 120 / 60 and f["active_listings_3m"][0] == 20


def test_the_snapshot_uses_the_kernel_and_gives_numpys_frame(kernel, small_book, monkeypatch):
    """From frames, and from Arrow tables in parts (the installed book's way: months as Arrow's codes)."""
    tables = [pa.Table.from_pandas(t, preserve_index=False) for t in (small_book.merchants, small_book.bureau_history)]
    activity = pa.Table.from_pandas(small_book.activity.sort_values("merchant_id", kind="mergesort"),
                                    preserve_index=False)
    parts = [activity.slice(0, 10_000), activity.slice(10_000)]
    cut = parts[0].column("merchant_id")[-1]  # a merchant's rows are in one part only
    parts = [activity.filter(pa.compute.less_equal(activity.column("merchant_id"), cut)),
             activity.filter(pa.compute.greater(activity.column("merchant_id"), cut))]
    got = [snapshot(small_book.merchants, small_book.activity, "2025-06", small_book.bureau_history),
           snapshot_columns(tables[0], parts, "2025-06", tables[1])]
    monkeypatch.setattr(_activity, "library", lambda: None)
    want = [snapshot(small_book.merchants, small_book.activity, "2025-06", small_book.bureau_history),
            snapshot_columns(tables[0], parts, "2025-06", tables[1])]
    pd.testing.assert_frame_equal(got[0], want[0], check_exact=True)
    assert got[1].index.equals(want[1].index) and got[1].columns == want[1].columns
    for name in ACTIVITY_FEATURES:
        np.testing.assert_array_equal(got[1][name], want[1][name], err_msg=name)


def test_switched_off_or_without_a_compiler_numpy_computes_the_same(tmp_path, kernel):
    """In fresh processes: CB_NATIVE_KERNELS=0, and no compiler with a source never built (the log says why):
    the features are numpy's, equal to the kernel's."""
    frame = _rows(5)
    frame.to_parquet(tmp_path / "rows.parquet")
    script = f"""
import logging, sys, numpy as np, pandas as pd
from pathlib import Path
logging.basicConfig(level=logging.INFO)
from cb_core.features import asof, _activity
from cb_core.features._columns import positions_in
if sys.argv[1] == "no-compiler":
    copy = Path({str(tmp_path / 'copy.c')!r}); copy.write_bytes(_activity.SOURCE.read_bytes() + b"/* never built */")
    _activity.SOURCE = copy
frame = pd.read_parquet({str(tmp_path / 'rows.parquet')!r})
codes, distinct = asof._merchant_codes(frame)
where = positions_in(pd.Series([f"M{{m:05d}}" for m in range(400)]))(distinct)
into = {{n: np.full(400, np.nan) for n in _activity.ACTIVITY_FEATURES}}
has_rows = np.zeros(400, dtype=bool)
_activity.features_into(frame, codes, (asof.month_index(frame["month"]), None), where, {END}, into, has_rows)
assert _activity.library() is None
at = np.flatnonzero(has_rows)
np.save(sys.argv[2], np.vstack([at] + [into[n][at] for n in _activity.ACTIVITY_FEATURES]))
"""
    reason = "activity features computed with numpy: the C kernels are not available (no C compiler (cc or gcc) on PATH)"
    ids = [f"M{m:05d}" for m in range(400)]
    (at, f), _ = _both(frame, ids)
    for mode, env in (("no-compiler", {"PATH": "/nonexistent", "CC": ""}), ("off", {"CB_NATIVE_KERNELS": "0"})):
        out = tmp_path / f"{mode}.npy"
        done = subprocess.run([sys.executable, "-c", script, mode, str(out)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, env={**os.environ, **env})
        assert done.returncode == 0, done.stderr[-2000:]
        assert (reason in done.stderr) == (mode == "no-compiler"), done.stderr[-2000:]
        np.testing.assert_array_equal(np.load(out), np.vstack([at] + [f[n] for n in ACTIVITY_FEATURES]))


def test_arrays_the_kernel_cannot_write_are_refused_before_it_runs(kernel):
    frame = _rows(6, merchants=20)
    ids = [f"M{m:05d}" for m in range(20)]
    codes, months, where = _inputs(frame, ids)
    good = {name: np.full(20, np.nan) for name in ACTIVITY_FEATURES}
    for into, has_rows in (({**good, "gmv_yoy": np.zeros(20, dtype=np.float32)}, np.zeros(20, dtype=bool)),
                           ({**good, "gmv_yoy": np.full(19, np.nan)}, np.zeros(20, dtype=bool)),
                           (good, np.zeros(20, dtype=np.int64)),
                           (good, np.zeros(10, dtype=bool))):
        with pytest.raises(ValueError, match="features_into|beyond"):
            _activity.features_into(frame, codes, (months, None), where, END, into, has_rows)
    assert all(np.isnan(v).all() for v in good.values())  # nothing written
