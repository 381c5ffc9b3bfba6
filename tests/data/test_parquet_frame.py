"""cb_core.data._parquet.read_parquet_frame gives the frame pd.read_parquet gives, on every kind of column."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cb_core.data._parquet import read_parquet_frame


def _file(frame: pd.DataFrame, tmp_path, row_group_size: int | None = None, **kwargs):
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=row_group_size, **kwargs)
    return path


def _mixed(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=rows)
    floats[rng.random(rows) < 0.2] = np.nan
    ints_with_gaps = pd.array(rng.integers(-5, 5, rows), dtype="Int64")
    ints_with_gaps[rng.random(rows) < 0.3] = pd.NA
    text = pd.Series(rng.choice(["가나", "b", "ccc", "d"], rows)).astype("str")
    text[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame({
        "id": pd.Series([f"M{i:07d}" for i in range(rows)], dtype="str"),
        "big": rng.integers(-2**62, 2**62, rows, dtype=np.int64),
        "floats": floats,
        "nullable_int": ints_with_gaps,
        "text": text,
        "flag": rng.random(rows) < 0.5,
        "small": rng.integers(0, 100, rows).astype(np.int32),
        "f32": rng.normal(size=rows).astype(np.float32),
        "when": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 400, rows), unit="D"),
        "kind": pd.Categorical(rng.choice(["x", "y"], rows)),
    })


@pytest.mark.parametrize("row_group_size", [None, 7, 1000])
def test_same_frame_as_pandas(tmp_path, row_group_size):
    path = _file(_mixed(2_003), tmp_path, row_group_size)
    expected = pd.read_parquet(path)
    got = read_parquet_frame(path)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    # every text column in one Arrow chunk, whatever the row groups
    for name in ("id", "text"):
        assert got[name].array._pa_array.num_chunks == 1


def test_integers_with_a_null_read_as_pandas_reads_them(tmp_path):
    """An int64 Arrow column with a null (no pandas metadata) is floats in pandas: not copied as integers."""
    table = pa.table({"a": pa.array([1, None, 3] * 5, type=pa.int64()), "b": pa.array([1.5, None, 2.0] * 5)})
    path = tmp_path / "n.parquet"
    pq.write_table(table, path, row_group_size=4)
    expected = pd.read_parquet(path)
    got = read_parquet_frame(path)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["a"].dtype == np.float64 and np.isnan(got["a"].to_numpy()[1])
    assert np.isnan(got["b"].to_numpy()[1])  # a null float is NaN


def test_values_in_every_row_group_land_in_place(tmp_path):
    rows = 10_001
    frame = pd.DataFrame({"n": np.arange(rows, dtype=np.int64) * 3, "x": np.arange(rows) / 7.0})
    got = read_parquet_frame(_file(frame, tmp_path, row_group_size=999))
    assert np.array_equal(got["n"].to_numpy(), np.arange(rows) * 3)
    assert np.array_equal(got["x"].to_numpy(), np.arange(rows) / 7.0)


def test_bytes_and_empty_files(tmp_path):
    frame = _mixed(0)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    got = read_parquet_frame(pa.BufferReader(buffer.getvalue()))
    pd.testing.assert_frame_equal(got, pd.read_parquet(io.BytesIO(buffer.getvalue())), check_exact=True)
    assert len(got) == 0


def test_files_it_leaves_to_pandas(tmp_path):
    """A named index stored as a column: None (the caller reads it with pd.read_parquet)."""
    indexed = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["a", "b"], name="key"))
    assert read_parquet_frame(_file(indexed, tmp_path)) is None


def test_a_damaged_file_raises_as_pandas_does(tmp_path):
    path = _file(_mixed(50), tmp_path)
    data = path.read_bytes()
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(data[:100] + b"\0" * 200 + data[300:])
    with pytest.raises((pa.ArrowException, OSError)):
        read_parquet_frame(broken)
