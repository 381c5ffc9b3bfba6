"""write_frame_atomic's Parquet: floating-point columns without a dictionary page (their values are almost all
distinct), every other column with one, and every value read back as written, from a frame or an Arrow table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cb_core.diskio import write_frame_atomic


def _encodings(path) -> dict[str, set[str]]:
    meta = pq.read_metadata(path)
    group = meta.row_group(0)
    return {group.column(i).path_in_schema: set(group.column(i).encodings) for i in range(group.num_columns)}


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame({"merchant_id": [f"M{i:04d}" for i in range(500)], "score": rng.integers(300, 900, 500),
                         "pd": rng.random(500), "grade": rng.choice(list("ABCD"), 500),
                         "points__gmv": rng.normal(size=500), "pd_nullable": pd.array([0.5, None] * 250, dtype="Float64")})


@pytest.mark.parametrize("as_arrow", [False, True])
def test_floats_are_written_plain_the_rest_with_a_dictionary_and_read_back_equal(tmp_path, as_arrow):
    frame = _frame()
    path = tmp_path / "out.parquet"
    if as_arrow:
        write_frame_atomic(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        write_frame_atomic(frame, path, index=False)
    encodings = _encodings(path)
    for column in ("pd", "points__gmv", "pd_nullable"):
        assert not encodings[column] & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}, (column, encodings[column])
    for column in ("merchant_id", "score", "grade"):
        assert encodings[column] & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}, (column, encodings[column])
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)


def test_the_callers_choice_stands(tmp_path):
    path = tmp_path / "out.parquet"
    write_frame_atomic(_frame(), path, index=False, use_dictionary=True)
    assert _encodings(path)["pd"] & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}
