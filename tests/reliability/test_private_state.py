"""Personal data private at rest: the state folder and everything in it 0700/0600, and replaced
books kept only as many as ``keep_replaced_books`` says (issue 17)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cb_core.config import get_settings, state_dir


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def _book(seed: int):
    from cb_core.synth import generate_book

    return generate_book(40, 13, seed=seed)


@pytest.fixture
def loose_umask():
    before = os.umask(0o022)  # what most services run with: new files 0644, folders 0755
    yield
    os.umask(before)


def test_everything_the_engine_writes_in_the_state_folder_is_private(tmp_path, loose_umask, trained):
    from cb_core.workspace import book_snapshot, install_book, install_model

    settings = get_settings(state_dir=str(tmp_path / "state"))
    book = _book(1)
    install_book(book, settings)
    book_snapshot(book, settings)  # a cache file
    install_model(*trained, settings=settings)
    modes = _modes(tmp_path / "state")
    assert {name for name in modes if name.startswith("books/") and name.endswith(".parquet")}
    assert any(name.startswith("cache/") for name in modes) and any(name.startswith("models/") for name in modes)
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (tmp_path / "state" / name).is_dir() else 0o600)}
    assert loose == {}


def test_a_world_readable_state_folder_left_by_an_older_version_is_made_private(tmp_path, loose_umask):
    old = tmp_path / "old-state"
    (old / "books" / "abc").mkdir(parents=True)
    (old / "books" / "abc" / "merchants.parquet").write_bytes(b"names")
    (old / "cb.sqlite").write_bytes(b"")
    os.chmod(old, 0o755)
    assert _modes(old)["books/abc/merchants.parquet"] == 0o644
    state_dir(get_settings(state_dir=str(old)))
    assert _modes(old) == {".": 0o700, "books": 0o700, "books/abc": 0o700, "books/abc/merchants.parquet": 0o600,
                           "cb.sqlite": 0o600}


def test_only_the_newest_replaced_book_is_kept_with_its_caches(tmp_path):
    from cb_core.workspace import book_snapshot, current_book, install_book

    settings = get_settings(state_dir=str(tmp_path / "state"))
    books = [_book(seed) for seed in (1, 2, 3)]
    for i, book in enumerate(books):
        install_book(book, settings)
        book_snapshot(book, settings)
        os.utime(tmp_path / "state" / "books" / book.fingerprint, (1_000_000 + i, 1_000_000 + i))
    kept = sorted(p.name for p in (tmp_path / "state" / "books").iterdir())
    assert kept == sorted([books[1].fingerprint, books[2].fingerprint])  # the one in use and the last replaced
    caches = " ".join(p.name for p in (tmp_path / "state" / "cache").iterdir())
    assert books[0].fingerprint not in caches and books[1].fingerprint in caches
    assert current_book(settings).fingerprint == books[2].fingerprint
    from cb_core.workspace import stored_books

    listed = stored_books(settings)
    assert listed["fingerprint"].tolist() == [books[2].fingerprint, books[1].fingerprint]
    assert listed["in_use"].tolist() == [True, False]
    install_book(books[0], settings)  # switching back to an old book is a new install: it is written again
    assert sorted(p.name for p in (tmp_path / "state" / "books").iterdir()) == sorted(
        [books[0].fingerprint, books[2].fingerprint])
