"""``score`` of the installed book to Parquet runs on Arrow and numpy alone (issue #15: pandas' import was 0.25 s
of a 1 s command at 50,000 merchants): a real ``python -X importtime -m cb_core score`` process imports no
pandas, and writes the table the frame path gives, value for value and type for type. Anything else (CSV, a
plain folder) still goes through pandas, with the same values."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cb_core.data import (arrow_take, arrow_to_numpy, load_current, numpy_to_arrow, one_array, save_current, text_scalar,
                          write_book)
from cb_core.data._installed import _footer_conforms
from cb_core.data.schema import conforms
from cb_core.explain import score_frame
from cb_core.features import current_snapshot
from cb_core.lazy import LazyModule
from tests.support.app import ROOT
from tests.support.imports import imported_packages


def _run(*args: str) -> set[str]:
    return imported_packages(*args)


@pytest.fixture(scope="module")
def installed(small_book, trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("lean")
    return save_current(small_book, root / "state"), trained[0].save(root / "model"), root


@pytest.mark.parametrize("explain", [True, False])
def test_the_installed_book_is_scored_without_pandas_to_the_frame_paths_table(installed, trained, explain):
    folder, model_dir, root = installed
    out = root / f"lean{explain}.parquet"
    loaded = _run("score", "--model", str(model_dir), "--data", str(folder), "--out", str(out),
                  *(["--explain"] if explain else []))
    assert {"cb_core", "pyarrow", "numpy"} <= loaded  # the report is real
    assert "pandas" not in loaded
    # the frame path, in this process: the snapshot frame, score_frame, the frame pandas writes
    want = score_frame(trained[0], current_snapshot(load_current(folder.parent.parent)), explain=explain)
    want.index.name = "merchant_id"
    frame_out = root / f"frame{explain}.parquet"
    want.reset_index().to_parquet(frame_out, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(frame_out), check_exact=True)
    assert pq.read_schema(out).equals(pq.read_schema(frame_out), check_metadata=False)
    assert len(want) == len(pd.read_parquet(out)) > 1000 and (want["score"].nunique() > 50)


def test_csv_output_and_a_plain_folder_go_through_pandas_with_the_same_values(installed, small_book):
    folder, model_dir, root = installed
    plain = write_book(small_book, root / "plain")
    assert "pandas" not in _run("score", "--model", str(model_dir), "--data", str(folder), "--out",
                                str(root / "lean.parquet"), "--explain")
    lean = pd.read_parquet(root / "lean.parquet")
    for data, out in ((folder, root / "o.csv"), (plain, root / "o.parquet")):
        loaded = _run("score", "--model", str(model_dir), "--data", str(data), "--out", str(out), "--explain")
        assert "pandas" in loaded
        got = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
        pd.testing.assert_frame_equal(got, lean, check_exact=True, check_dtype=False)


def test_arrow_arrays_to_numpy_and_back_without_pyarrows_pandas_shim():
    values = pa.chunked_array([pa.array([1, None, 3], pa.int64()), pa.array([4, 5], pa.int64())])
    np.testing.assert_array_equal(arrow_to_numpy(values), [1.0, np.nan, 3.0, 4.0, 5.0])
    sliced = pa.array([0.5, 1.5, None, 2.5, 3.5]).slice(1, 3)  # an offset, and a missing value in it
    np.testing.assert_array_equal(arrow_to_numpy(sliced), [1.5, np.nan, 2.5])
    np.testing.assert_array_equal(arrow_to_numpy(pa.array([True, None, False]).slice(1)), [np.nan, 0.0])
    whole = arrow_to_numpy(pa.array([7, 8, 9], pa.int32()).slice(1))
    assert whole.dtype == np.int32 and whole.tolist() == [8, 9]  # in place: the type kept
    assert arrow_to_numpy(pa.array([1, 2], pa.int64()), floats=True).dtype == np.float64
    back = numpy_to_arrow(np.array([1.5, np.nan]))
    assert back.type == pa.float64() and back.to_pylist()[0] == 1.5
    assert arrow_take(pa.array(["a", "b", "c"]), np.array([2, 0])).to_pylist() == ["c", "a"]
    assert text_scalar("M01", pa.large_string()).as_py() == "M01"
    single = pa.chunked_array([pa.array([1.0, 2.0])])
    assert one_array(single).buffers()[1].address == single.chunk(0).buffers()[1].address  # one chunk: no copy
    assert one_array(values).to_pylist() == [1, None, 3, 4, 5]  # several: joined
    column = arrow_to_numpy(single)
    assert column.ctypes.data == single.chunk(0).buffers()[1].address  # read in place
    probe = ("import sys, numpy as np, pyarrow as pa; from cb_core.data import arrow_to_numpy, numpy_to_arrow; "
             "arrow_to_numpy(pa.chunked_array([numpy_to_arrow(np.arange(3.0))])); print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_footer_check_is_the_frame_check(installed, tmp_path):
    folder = installed[0]
    for path in folder.iterdir():
        table = path.stem
        assert _footer_conforms(table, pq.read_schema(path)) is conforms(table, pd.read_parquet(path).iloc[:0]) is True
    merchants = pd.read_parquet(folder / "merchants.parquet")
    for changed in (merchants.astype({"bureau_score": "float64"}), merchants.drop(columns="region"),
                    merchants[list(reversed(merchants.columns))]):
        changed.to_parquet(tmp_path / "m.parquet", index=False)
        assert not _footer_conforms("merchants", pq.read_schema(tmp_path / "m.parquet"))
        assert not conforms("merchants", pd.read_parquet(tmp_path / "m.parquet"))
    pq.write_table(pa.Table.from_pandas(merchants).replace_schema_metadata(None), tmp_path / "bare.parquet")
    assert not _footer_conforms("merchants", pq.read_schema(tmp_path / "bare.parquet"))  # no pandas record: in full


def test_a_lazy_module_is_imported_on_first_use_only():
    probe = ("import sys; from cb_core.lazy import LazyModule; m = LazyModule('json'); sys.modules.pop('json', None); "
             "a = m.loaded(); b = m.dumps([1]); print(a, b, m.loaded(), m.dumps is sys.modules['json'].dumps)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "[1]", "True", "True"]
    assert LazyModule("pandas").DataFrame is pd.DataFrame
