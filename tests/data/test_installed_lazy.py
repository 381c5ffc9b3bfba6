"""The installed book read table by table on first use (issue #15): the same frames as the stored files,
each file's digest checked again on the bytes that are parsed, and a file changed since caught."""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cb_core.data import Book, load_current, open_book, save_current, validate_tables
from cb_core.data import TRUSTED
from cb_core.data import _installed
from cb_core.data import PendingTable
from cb_core.errors import DataSourceError
from tests.support.books import TODAY, good_tables

FIELDS = {"merchants": "merchants", "monthly_activity": "activity", "outcomes": "outcomes"}


@pytest.fixture
def installed(tmp_path):
    book = validate_tables(good_tables(), today=TODAY, source="hand-made")
    state = tmp_path / "state"
    folder = save_current(book, state)
    return book, state, folder


def test_no_table_is_read_until_it_is_used_and_then_it_is_the_stored_one(installed, monkeypatch):
    book, state, folder = installed
    reads = []
    real = _installed._read_checked
    monkeypatch.setattr(_installed, "_read_checked", lambda path, *a: reads.append(path.name) or real(path, *a))
    loaded = load_current(state)
    assert set(loaded.pending()) == {"merchants", "activity", "outcomes"} and reads == []
    # the fingerprint comes from the pointer, the last month from the month column's statistics
    assert loaded.fingerprint == book.fingerprint
    assert loaded.last_month == book.activity["month"].max() and reads == []
    pd.testing.assert_frame_equal(loaded.merchants, pd.read_parquet(folder / "merchants.parquet"))
    assert reads == ["merchants.parquet"] and set(loaded.pending()) == {"activity", "outcomes"}
    loaded.load_all()
    assert loaded.pending() == () and sorted(reads) == sorted(f"{t}.parquet" for t in FIELDS)
    for table, attr in FIELDS.items():  # the stored rows, in the canonical dtypes of a validated book
        pd.testing.assert_frame_equal(getattr(loaded, attr), pd.read_parquet(folder / f"{table}.parquet"))
        pd.testing.assert_frame_equal(getattr(loaded, attr), getattr(book, attr))
    assert loaded.loans is None and loaded.bureau_history is None  # absent tables stay None
    assert loaded.activity is loaded.activity  # read once, kept
    assert sorted(reads) == sorted(f"{t}.parquet" for t in FIELDS)


def test_the_command_line_shortcut_is_lazy_too(installed):
    book, state, folder = installed
    loaded, how = open_book(folder)
    assert how == TRUSTED and "activity" in loaded.pending()
    pd.testing.assert_frame_equal(loaded.activity, book.activity)


def test_a_big_file_changed_after_the_book_was_opened_is_caught_when_it_is_read(installed):
    book, state, folder = installed
    loaded = load_current(state)
    changed = book.activity.copy()
    changed.loc[0, "gmv_krw"] += 1  # same columns and dtypes, one value different
    changed.to_parquet(folder / "monthly_activity.parquet", index=False)
    with pytest.raises(DataSourceError, match=r"monthly_activity\.parquet changed since the book was installed") as caught:
        loaded.activity
    assert caught.value.key == "err_installed_file_changed"
    with pytest.raises(DataSourceError):  # never half-read: asked again, refused again
        loaded.activity
    assert "activity" in loaded.pending()
    pd.testing.assert_frame_equal(loaded.merchants, book.merchants)  # the untouched files still read
    # a new start does not trust it either: read in full, refused by the fingerprint
    with pytest.raises(DataSourceError, match="no longer matches its fingerprint"):
        load_current(state)


def test_a_table_asked_for_by_two_threads_at_once_is_read_once(installed, monkeypatch):
    book, state, folder = installed
    calls, gate = [], threading.Event()
    real = _installed._read_checked

    def slow(path, *args):
        calls.append(path.name)
        gate.wait(5)
        return real(path, *args)

    monkeypatch.setattr(_installed, "_read_checked", slow)
    loaded = load_current(state)
    got = []
    threads = [threading.Thread(target=lambda: got.append(loaded.activity)) for _ in range(3)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert calls == ["monthly_activity.parquet"] and len(got) == 3
    assert all(frame is got[0] for frame in got)
    pd.testing.assert_frame_equal(got[0], book.activity)


def test_without_month_statistics_the_last_month_is_read_from_the_rows(installed):
    book, state, folder = installed
    pq.write_table(pq.read_table(folder / "monthly_activity.parquet"), folder / "monthly_activity.parquet",
                   write_statistics=False)
    pointer = json.loads((state / "current_book.json").read_text(encoding="utf-8"))
    pointer["files"] = _installed._digests(folder)  # as if installed so
    (state / "current_book.json").write_text(json.dumps(pointer), encoding="utf-8")
    loaded = load_current(state)
    assert "activity" in loaded.pending()
    assert loaded.last_month == book.activity["month"].max()
    assert "activity" not in loaded.pending()


def test_a_stored_file_in_other_dtypes_is_not_trusted_even_with_its_digest(installed):
    """The schema check runs on the files' footers before any table is handed out lazily: a file that
    is not in canonical dtypes goes to the full read, which validates it."""
    book, state, folder = installed
    book.activity.astype({"orders": "float64"}).to_parquet(folder / "monthly_activity.parquet", index=False)
    pointer = json.loads((state / "current_book.json").read_text(encoding="utf-8"))
    pointer["files"] = _installed._digests(folder)
    (state / "current_book.json").write_text(json.dumps(pointer), encoding="utf-8")
    assert _installed._stored_book(folder, book.fingerprint, pointer["files"]) is None


def test_a_book_given_pending_tables_reads_them_on_access():
    book = validate_tables(good_tables(), today=TODAY)
    calls = []
    lazy = Book(merchants=book.merchants, activity=PendingTable(lambda: calls.append(1) or book.activity))
    assert lazy.pending() == ("activity",) and calls == []
    assert lazy.activity is book.activity and calls == [1] and lazy.pending() == ()
    assert lazy.fingerprint == Book(merchants=book.merchants, activity=book.activity).fingerprint


def _hashes_counted(monkeypatch) -> list[str]:
    hashed: list[str] = []
    real = _installed.hashlib.file_digest
    monkeypatch.setattr(_installed.hashlib, "file_digest",
                        lambda f, name: hashed.append(Path(f.name).name) or real(f, name))
    return hashed


def test_a_settled_file_is_hashed_once_per_process_and_again_once_written(installed, monkeypatch):
    """The server's start opened the book in two threads, each hashing every file (550 MB at 1,000,000
    merchants): a file not written since it was hashed is not hashed again; one written since is."""
    book, state, folder = installed
    monkeypatch.setattr(_installed, "_SETTLED_NS", 0)  # the files were written just now; count them as settled
    monkeypatch.setattr(_installed, "_HASHED", {})
    hashed = _hashes_counted(monkeypatch)
    first = _installed._digests(folder)
    assert sorted(hashed) == sorted(first) and len(first) >= 3
    assert load_current(state).fingerprint == book.fingerprint
    assert _installed._digests(folder) == first and sorted(hashed) == sorted(first)  # none hashed again
    whole, real_sha = [], _installed.hashlib.sha256
    monkeypatch.setattr(_installed.hashlib, "sha256", lambda data: whole.append(len(data)) or real_sha(data))
    data = _installed._checked_bytes(folder / "merchants.parquet", first["merchants.parquet"])
    assert data[:] == (folder / "merchants.parquet").read_bytes() and whole == []  # read, not hashed again
    target = folder / "outcomes.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    target.write_bytes(bytes(data))
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a later write, in any tick
    with pytest.raises(DataSourceError, match="changed since the book was installed"):
        _installed._checked_bytes(target, first["outcomes.parquet"])  # hashed again, and found changed
    assert whole == [target.stat().st_size]
    again = _installed._digests(folder)
    assert again["outcomes.parquet"] == hashlib.sha256(target.read_bytes()).hexdigest() != first["outcomes.parquet"]
    assert {k: v for k, v in again.items() if k != "outcomes.parquet"} == \
        {k: v for k, v in first.items() if k != "outcomes.parquet"}


def test_a_file_written_moments_ago_is_hashed_every_time(installed, monkeypatch):
    """Its times may not have advanced since a write in the same clock tick: it is never taken from memory."""
    _, _, folder = installed
    monkeypatch.setattr(_installed, "_HASHED", {})
    hashed = _hashes_counted(monkeypatch)
    _installed._digests(folder)
    _installed._digests(folder)
    assert len(hashed) == 2 * len(list(folder.iterdir()))


def test_two_threads_opening_the_book_at_once_hash_each_file_once(installed, monkeypatch):
    book, state, folder = installed
    monkeypatch.setattr(_installed, "_SETTLED_NS", 0)
    monkeypatch.setattr(_installed, "_HASHED", {})
    hashed = _hashes_counted(monkeypatch)
    barrier, books = threading.Barrier(2), []

    def open_it() -> None:
        barrier.wait()
        books.append(load_current(state))

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [b.fingerprint for b in books] == [book.fingerprint] * 2
    assert sorted(hashed) == sorted(p.name for p in folder.iterdir())


def test_checked_bytes_are_the_file_mapped_and_stay_the_hashed_ones_when_it_is_replaced(installed, tmp_path):
    """Mapped from the page cache, not copied (a 500 MB activity file at 1,000,000 merchants); a book written
    again replaces its files whole, and a mapping keeps the bytes that were hashed."""
    _, state, folder = installed
    digests = json.loads((state / "current_book.json").read_text())["files"]
    path = folder / "merchants.parquet"
    original = path.read_bytes()
    data = _installed._checked_bytes(path, digests[path.name])
    assert isinstance(data, mmap.mmap) and data[:] == original
    other = tmp_path / "other.parquet"
    other.write_bytes(b"PAR1" + b"\0" * 100)
    os.replace(other, path)  # as a book written again is swapped in
    assert data[:] == original
    with pytest.raises(DataSourceError, match="changed since the book was installed"):
        _installed._checked_bytes(path, digests[path.name])
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(DataSourceError, match="changed since"):
        _installed._checked_bytes(empty, digests[path.name])
