"""month_index: the fast path (validated Arrow months, encoded by distinct value) equals the general one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cb_core.features.asof import _fixed_width_months, month_index


def _general(values) -> np.ndarray:
    """The general path, by hand: year * 12 + month - 1 of each text."""
    return np.array([int(v[:4]) * 12 + int(v[5:7]) - 1 for v in values], dtype=np.int64)


@pytest.mark.parametrize("kind", [pa.large_string(), pa.string()])
def test_arrow_months_read_from_their_bytes_equal_the_general_path(kind):
    rng = np.random.default_rng(3)
    months = [f"{y:04d}-{m:02d}" for y, m in zip(rng.integers(1990, 2031, 5000), rng.integers(1, 13, 5000))]
    chunked = pa.chunked_array([pa.array(months[:1234], kind), pa.array(months[1234:], kind)])
    series = pd.Series(pd.arrays.ArrowStringArray(chunked.cast(pa.large_string())))
    got = _fixed_width_months(series)
    assert got is not None and got.dtype == np.int64
    assert np.array_equal(got, _general(months))
    assert np.array_equal(month_index(series), _general(months))
    # a slice of a column (an Arrow offset into its buffers) reads its own rows
    assert np.array_equal(month_index(series.iloc[100:200].reset_index(drop=True)), _general(months[100:200]))


@pytest.mark.parametrize("bad", [["2026-01", None], ["2026-1"], ["2026/01"], ["20a6-01"], ["2026-011"], []])
def test_anything_else_is_left_to_the_general_path(bad):
    series = pd.Series(bad, dtype="str")
    assert _fixed_width_months(series) is None
    assert _fixed_width_months(pd.Series(["2026-01"], dtype=object)) is None  # not Arrow-backed


def test_the_general_path_still_reads_object_text():
    assert np.array_equal(month_index(pd.Series(["2026-01", "1999-12"], dtype=object)), [2026 * 12, 1999 * 12 + 11])
