"""A full disk: a clear message naming the file, and what was in use stays in use.

Three ways of making the disk say no:
- a real kernel limit: a CLI subprocess under ``RLIMIT_FSIZE`` gets EFBIG on its first large write;
- a real SQLite limit: ``PRAGMA max_page_count`` makes the database full (SQLITE_FULL);
- simulated ENOSPC in the app (AppTest), raised by the write calls of the state folder.
"""
from __future__ import annotations

import errno
import hashlib
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ui.text import unescape
from sqlalchemy import event

from cb_core.diskio import write_frame_atomic, write_text_atomic
from cb_core.errors import StorageError, StoreUnavailableError
from tests.support.app import PASSWORD, ROOT, app_as

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _table(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    frame["y"] = (rng.random(3000) < 1 / (1 + np.exp(2 - frame["a"]))).astype(int)
    frame.to_csv(path, index=False)
    return path


def _train(table: Path, out: Path, max_file_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:  # in the child only; CPython ignores SIGXFSZ, so the write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run([sys.executable, "-m", "cb_core", "train", "--table", str(table), "--target", "y",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=limit if max_file_bytes else None)


def test_cli_training_into_a_full_disk_keeps_the_previous_model_folder(tmp_path):
    out = tmp_path / "model"
    first = _train(_table(tmp_path / "one.csv", 1), out)
    assert first.returncode == 0, first.stderr
    before = _digests(out)
    assert before["booster.txt"]  # the model the next run must not damage

    full = _train(_table(tmp_path / "two.csv", 2), out, max_file_bytes=16_384)
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    assert full.stderr.startswith(f"error: cannot write the model folder to {out}: the file would be larger "
                                  "than this process may write (File too large); nothing was changed"), full.stderr
    assert _digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "one.csv", "two.csv"]  # no leftovers


def _cli(args: list[str], max_file_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run([sys.executable, "-m", "cb_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit if max_file_bytes else None)


def test_cli_book_export_into_a_full_disk_keeps_the_previous_book(tmp_path):
    out = tmp_path / "book"
    first = _cli(["demo-data", "--merchants", "300", "--seed", "1", "--format", "csv", "--out", str(out)])
    assert first.returncode == 0, first.stderr
    before = _digests(out)
    full = _cli(["demo-data", "--merchants", "300", "--seed", "2", "--format", "csv", "--out", str(out)],
                max_file_bytes=65_536)
    assert full.returncode == 2 and "Traceback" not in full.stderr, full.stderr
    assert full.stderr.startswith(f"error: cannot write the book to {out}: the file would be larger than this "
                                  "process may write"), full.stderr
    assert _digests(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]  # the staging folder is gone


def test_atomic_writes_leave_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "pointer.json"
    write_text_atomic(target, '{"version": "a"}', "the pointer")
    frame_path = tmp_path / "table.parquet"
    write_frame_atomic(pd.DataFrame({"x": [1, 2]}), frame_path)

    def no_space(*args, **kwargs):
        raise ENOSPC

    monkeypatch.setattr("os.fsync", no_space)  # the data cannot reach the disk
    with pytest.raises(StorageError, match=rf"^cannot write the pointer to {target}: the disk is full \(No space "
                                           r"left on device\); nothing was changed: what was in use before stays"):
        write_text_atomic(target, '{"version": "b"}', "the pointer")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", no_space)
    with pytest.raises(StorageError, match=rf"^cannot write a table to {frame_path}: the disk is full"):
        write_frame_atomic(pd.DataFrame({"x": [3]}), frame_path)
    assert target.read_text() == '{"version": "a"}'
    assert pd.read_parquet(frame_path)["x"].tolist() == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pointer.json", "table.parquet"]


def test_a_full_sqlite_database_refuses_the_decision_and_keeps_the_others(tmp_path):
    from cb_core.store import Store

    store = Store(f"sqlite:///{tmp_path / 'cb.sqlite'}")
    store.add_user("oh", "officer", password=PASSWORD)

    def decide(i: int):
        return store.save_decision(f"M{i:03d}", "refer", "n" * 1500, "oh", 580, 6, 0.08, [], None, None, "m-1")

    saved = [decide(i).id for i in range(3)]
    pages = store._engine.connect().exec_driver_sql("PRAGMA page_count").scalar()  # noqa: SLF001
    store.close()  # new connections get the cap: the file may not grow past what it holds now
    event.listen(store._engine, "connect",  # noqa: SLF001
                 lambda conn, _: conn.execute(f"PRAGMA max_page_count = {pages}"))
    with pytest.raises(StoreUnavailableError, match=r"^the database at sqlite:///.*cb\.sqlite is full: database or "
                                                    r"disk is full; nothing was saved"):
        for i in range(3, 200):
            saved.append(decide(i).id)
    kept = [d.id for i in range(len(saved)) for d in store.decisions_for(f"M{i:03d}")]
    assert kept == saved  # every decision before the disk filled up, none half-written
    audited = sorted(int(e.entity_id) for e in store.audit_log({"action": "decision.save"}))
    assert audited == sorted(saved)
    store.close()


def _full_under(folder: str, write, *, path_is_self: bool = False):
    """``write`` (Path.write_text, or DataFrame.to_parquet taking the path first) raising ENOSPC
    for every path inside a folder named ``folder``."""
    def full(self, *args, **kwargs):
        if folder in Path(self if path_is_self else args[0]).parts:
            raise ENOSPC
        return write(self, *args, **kwargs)

    return full


@pytest.fixture
def fresh_state(tmp_path, small_book, monkeypatch):
    """A state folder with the small book and no model; an admin in its store."""
    import streamlit as st

    from cb_core.config import get_settings
    from cb_core.data import save_current
    from cb_core.store import Store, default_url

    state = tmp_path / "state"
    save_current(small_book, state)
    monkeypatch.setenv("CB_STATE_DIR", str(state))
    monkeypatch.delenv("CB_DATABASE_URL", raising=False)
    st.cache_resource.clear()  # the app's caches are per process: compute this state's frames afresh
    store = Store(default_url(get_settings(state_dir=str(state))))
    store.add_user("admin", "admin", password=PASSWORD)
    yield state, store
    store.close()
    st.cache_resource.clear()


def test_app_first_start_on_a_full_disk_says_so_and_recovers(fresh_state, trained, small_book, monkeypatch):
    from cb_core import workspace

    state, store = fresh_state
    monkeypatch.setattr("cb_core.model.report.train_with_report", lambda book, progress=None, **kw: trained)
    real_write_text = Path.write_text
    monkeypatch.setattr(Path, "write_text", _full_under("models", real_write_text, path_is_self=True))
    app = app_as("admin", store)
    shown = unescape("\n".join([e.value for e in app.error] + [c.value for c in app.code]))  # said in Korean
    assert f"{state / 'models' / trained[0].version}에 쓸 수 없습니다: 디스크가 가득 찼습니다" in shown
    assert "바뀐 것은 없으며 쓰던 것은 그대로 쓰입니다" in shown
    assert workspace.current_model_dir() is None and not (state / "current_model.json").exists()
    assert [p.name for p in (state / "models").iterdir()] == []  # no half-written model folder
    assert workspace.current_fingerprint() == small_book.fingerprint  # the book stays in use

    monkeypatch.setattr(Path, "write_text", real_write_text)  # space freed: the next run just works
    app.run()
    assert not app.exception and not app.error
    assert workspace.current_model_dir() == state / "models" / trained[0].version


def test_caches_that_cannot_be_written_cost_speed_not_the_page(fresh_state, trained, monkeypatch, caplog):
    from cb_core import workspace

    state, store = fresh_state
    workspace.install_model(*trained)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full_under("cache", pd.DataFrame.to_parquet))
    app = app_as("admin", store)  # the portfolio scores the whole book
    assert not app.error and app.metric
    assert not (state / "cache").exists() or not any((state / "cache").iterdir())
    assert "cache not saved (it will be computed again next time): cannot write a cache file" in caplog.text


def test_uploading_a_book_onto_a_full_disk_keeps_the_book_in_use(fresh_state, trained, small_book, monkeypatch):
    import streamlit

    from cb_core import workspace
    from cb_core.i18n import t
    from tests.support.bad_inputs import UploadedFile, case_files

    state, store = fresh_state
    workspace.install_model(*trained)
    files = [UploadedFile(name, content) for name, content in case_files("excel_export_valid").items()]
    monkeypatch.setattr(streamlit, "file_uploader", lambda *args, **kwargs: list(files))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full_under("books", pd.DataFrame.to_parquet))
    app = app_as("admin", store)
    app.session_state["lang"] = "en"
    app.switch_page("views/data.py").run()
    app.button[[b.label for b in app.button].index(t("data_validate_and_load", "en"))].click().run()
    assert not app.exception, app.exception
    [said] = [unescape(e.value) for e in app.error]  # one message: the upload failed, then why
    assert said.startswith(t("data_upload_failed", "en") + "\n\n"), said  # said above an emptied uploader
    assert re.search(rf"cannot write to {re.escape(str(state / 'books'))}/\w+: the disk is full .*nothing was changed",
                     said), said
    assert workspace.current_fingerprint() == small_book.fingerprint  # the book in use stays
    assert [p.name for p in (state / "books").iterdir()] == [small_book.fingerprint]  # no half-written book
