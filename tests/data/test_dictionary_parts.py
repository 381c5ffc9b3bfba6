"""The installed book's parts read ids and months as Parquet stores them, against a dictionary per row group:
the codes the snapshot takes from them (cb_core.data.dictionary_codes) and a merchant moved to the next part
(cb_core.data._arrow.split_off), checked against the values decoded as plain text."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cb_core.data import _installed, dictionary_codes
from cb_core.data._arrow import split_off


def _decoded(codes: np.ndarray, dictionary: pa.Array) -> list[str]:
    return [dictionary.to_pylist()[int(c)] for c in codes]


def test_codes_of_chunks_with_their_own_dictionaries_and_of_a_slice_decode_to_the_values():
    first = pa.array(["M3", "M1", "M3", "M2"]).dictionary_encode().slice(1)  # offset 1: M1, M3, M2
    second = pa.array(["M2", "M4", "M2"]).dictionary_encode()
    column = pa.chunked_array([first, second])
    codes, dictionary = dictionary_codes(column)
    assert _decoded(codes, dictionary) == ["M1", "M3", "M2", "M2", "M4", "M2"]
    assert len(set(dictionary.to_pylist())) == len(dictionary)  # each value once
    plain = pa.chunked_array([pa.array(["b", "a"]), pa.array(["b", "c"])])
    codes, dictionary = dictionary_codes(plain)  # text: Arrow's hash, in order of first appearance
    assert dictionary.to_pylist() == ["b", "a", "c"] and codes.tolist() == [0, 1, 0, 2]


def _part(ids: list[str], months: list[str]) -> pa.Table:
    table = pa.table({"merchant_id": ids, "month": months, "gmv_krw": np.arange(len(ids), dtype=float)})
    return table.set_column(0, "merchant_id", table.column(0).dictionary_encode()) \
                .set_column(1, "month", table.column(1).dictionary_encode())


def test_a_merchant_split_off_keeps_only_its_own_ids_in_its_dictionary():
    part = _part(["M1", "M1", "M2", "M3", "M3"], ["2026-01", "2026-02", "2026-01", "2026-01", "2026-02"])
    mine, others = split_off(part, "merchant_id", "M3")  # its last rows: slices
    assert mine.column("merchant_id").to_pylist() == ["M3", "M3"] and mine.column("gmv_krw").to_pylist() == [3.0, 4.0]
    assert mine.column("merchant_id").chunk(0).dictionary.to_pylist() == ["M3"]  # not the group's whole dictionary
    assert others.column("merchant_id").to_pylist() == ["M1", "M1", "M2"]
    assert others.column("month").to_pylist() == ["2026-01", "2026-02", "2026-01"]


def test_rows_of_the_merchant_among_others_are_taken_out_in_order():
    part = _part(["M1", "M3", "M2", "M3", "M2"], ["2026-01", "2026-01", "2026-01", "2026-02", "2026-02"])
    mine, others = split_off(part, "merchant_id", "M3")  # not its last rows: copies, in the rows' order
    assert mine.column("gmv_krw").to_pylist() == [1.0, 3.0]
    assert mine.column("month").to_pylist() == ["2026-01", "2026-02"]
    assert mine.column("merchant_id").chunk(0).dictionary.to_pylist() == ["M3"]
    assert others.column("gmv_krw").to_pylist() == [0.0, 2.0, 4.0]
    nobody, everyone = split_off(part, "merchant_id", "M9")  # an id the part does not hold: every row stays
    assert nobody.num_rows == 0 and everyone.column("gmv_krw").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_plain_text_ids_split_as_before_and_a_missing_id_is_nobody():
    part = pa.table({"merchant_id": ["M1", None, "M2", "M2"], "gmv_krw": [0.0, 1.0, 2.0, 3.0]})
    mine, others = split_off(part, "merchant_id", "M2")
    assert mine.column("gmv_krw").to_pylist() == [2.0, 3.0] and others.column("gmv_krw").to_pylist() == [0.0, 1.0]


def test_parquet_gives_the_dictionary_columns_encoded(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"merchant_id": ["M1", "M1", "M2"], "month": ["2026-01", "2026-02", "2026-01"],
                             "gmv_krw": [1.0, 2.0, 3.0]}), path)
    read = pq.ParquetFile(path, read_dictionary=list(_installed.DICTIONARY_COLUMNS)).read_row_group(0)
    codes, dictionary = dictionary_codes(read.column("merchant_id"))
    assert _decoded(codes, dictionary) == ["M1", "M1", "M2"] and len(dictionary) == 2
