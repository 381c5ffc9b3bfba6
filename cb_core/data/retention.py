"""Retention of the state folder's books: only as many replaced books as the setting says.

A book holds owners' names and business numbers; a replaced one is personal data kept for no
purpose once nobody can switch back to it. :func:`prune_books` runs each time a book is made
current (:func:`cb_core.data.save_current`) and keeps the ``keep_replaced_books`` most recently
in use.
"""
from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["prune_books"]


def prune_books(state_dir: Path, current: str, keep: int) -> list[str]:
    """Delete the books in ``state_dir/books`` other than ``current`` and the ``keep`` most recently in
    use, and the caches made from them; returns the fingerprints deleted.

    Deletion is ``unlink``: on journaling file systems and SSDs overwriting in place does not reach
    the old blocks, so this makes the data unreachable through the file system only (README,
    Security: encrypt the volume for more).
    """
    books = Path(state_dir) / "books"
    if not books.is_dir():
        return []
    others = sorted((p for p in books.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != current),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    gone = []
    for folder in others[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
        for cached in (Path(state_dir) / "cache").glob(f"*-{folder.name}*"):
            cached.unlink(missing_ok=True)
        gone.append(folder.name)
    return gone
