"""Large cache files are written in the background (issue #15's cold start): the frame is returned at
once, the file holds that frame when written, a second ask meanwhile gets the same frame without
building it again, a full disk costs only the file, and a process that ends right away still writes it."""
from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest

from cb_core import workspace
from cb_core.errors import StorageError
from tests.support.app import ROOT


def _frame(rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({"score": rng.integers(1, 1000, rows), "pd": rng.random(rows)},
                        index=pd.Index([f"M{i:05d}" for i in range(rows)], name="merchant_id"))


def test_a_large_frame_is_returned_before_its_file_is_written_and_the_file_is_that_frame(tmp_path, monkeypatch):
    monkeypatch.setattr(workspace, "BACKGROUND_ROWS", 10)
    gate, builds, real = threading.Event(), [], workspace.write_frame_atomic

    def held_write(*args, **kwargs):
        assert gate.wait(10)
        real(*args, **kwargs)

    monkeypatch.setattr(workspace, "write_frame_atomic", held_write)
    path = tmp_path / "cache" / "snapshot-x.parquet"
    first = workspace._cached_parquet(path, lambda: builds.append(1) or _frame())
    assert not path.exists()  # returned while the writer waits
    again = workspace._cached_parquet(path, lambda: builds.append(1) or _frame())
    assert again is first and builds == [1]  # not built twice while it is being written
    gate.set()
    assert workspace.flush_cache_writes(10)
    pd.testing.assert_frame_equal(pd.read_parquet(path), _frame())
    assert path.stat().st_mode & 0o777 == 0o600
    read = workspace._cached_parquet(path, lambda: builds.append(1) or _frame())
    assert builds == [1] and read is not first  # read back from the file now
    pd.testing.assert_frame_equal(read, first)


def test_a_small_frame_is_written_before_it_is_returned(tmp_path, monkeypatch):
    monkeypatch.setattr(workspace, "BACKGROUND_ROWS", 1_000)
    path = tmp_path / "cache" / "bands-x.parquet"
    workspace._cached_parquet(path, _frame)
    assert path.is_file()


def test_a_background_write_that_fails_costs_only_the_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(workspace, "BACKGROUND_ROWS", 10)

    def full(frame, path, what, **kwargs):
        raise StorageError(f"cannot write {what} {path}: no space left on device", key="err_disk_full",
                           target=path, detail="no space left on device")

    monkeypatch.setattr(workspace, "write_frame_atomic", full)
    path = tmp_path / "cache" / "scores-x.parquet"
    got = workspace._cached_parquet(path, _frame)
    assert workspace.flush_cache_writes(10)
    pd.testing.assert_frame_equal(got, _frame())
    assert not path.exists() and "cache not saved (it will be computed again next time)" in caplog.text
    assert workspace._cached_parquet(path, lambda: _frame(7)).shape == (7, 2)  # built again, not the failed one


def test_a_process_that_ends_right_after_still_writes_the_file(tmp_path):
    path = tmp_path / "cache" / "strategy-x.parquet"
    code = ("import sys, pandas as pd; from cb_core import workspace; workspace.BACKGROUND_ROWS = 1\n"
            "frame = pd.DataFrame({'score': range(200_000), 'pd': 0.5, 'grade': 'A'}, index=pd.Index(range(200_000), name='i'))\n"
            f"workspace._cached_parquet(__import__('pathlib').Path({str(path)!r}), lambda: frame)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    written = pd.read_parquet(path)  # several columns: pandas would convert them on a thread pool
    assert written["score"].tolist() == list(range(200_000)) and set(written["grade"]) == {"A"}


def test_a_second_caller_waits_for_the_build_under_way(tmp_path):
    started, gate, builds, got = threading.Event(), threading.Event(), [], []

    def slow():
        builds.append(1)
        started.set()
        assert gate.wait(10)
        return _frame()

    path = tmp_path / "cache" / "strategy-x.parquet"
    first = threading.Thread(target=lambda: got.append(workspace._cached_parquet(path, slow)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: got.append(workspace._cached_parquet(path, slow)))
    second.start()
    second.join(0.3)
    assert second.is_alive() and builds == [1]  # waiting for the first build, not building again
    gate.set()
    first.join(10), second.join(10)
    assert builds == [1] and len(got) == 2
    pd.testing.assert_frame_equal(got[0], got[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a priority per thread is Linux's")
def test_a_background_write_runs_at_the_lowest_priority_and_the_caller_keeps_its_own(tmp_path, monkeypatch):
    """The kernel's own record of each thread's priority (getpriority of its thread id): the writer's is 19, so
    it takes the cores only when the threads computing what a user waits for leave them."""
    import os

    monkeypatch.setattr(workspace, "BACKGROUND_ROWS", 10)
    seen, real = [], workspace.write_frame_atomic

    def recording(*args, **kwargs):
        seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        real(*args, **kwargs)

    monkeypatch.setattr(workspace, "write_frame_atomic", recording)
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    workspace._cached_parquet(tmp_path / "cache" / "big.parquet", _frame)
    assert workspace.flush_cache_writes(10)
    workspace._cached_parquet(tmp_path / "cache" / "small.parquet", lambda: _frame(5))  # written by the caller
    assert seen == [("cb-cache-big.parquet", 19), (threading.current_thread().name, before)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
