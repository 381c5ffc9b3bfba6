"""Writing files safely: atomic replacement, and one clear error when the disk says no.

Everything the engine writes for keeps (the current book and model pointers, model folders,
caches, CLI outputs) is written to a temporary name beside the target and renamed into place,
so a crash or a full disk never leaves a half-written file under the real name. An ``OSError``
on the way becomes a :class:`~cb_core.errors.StorageError` that names the file, says why in plain
words (the disk is full, read-only, ...) and that nothing changed.
"""
from __future__ import annotations

import errno
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StorageError

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be larger than this process may write",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def describe(exc: OSError, target: str | Path, what: str) -> str:
    """``cannot write <what> to <target>: <plain reason> (<OS text>); nothing was changed ...``"""
    reason = _REASONS.get(exc.errno or 0, "the system refused the write")
    detail = exc.strerror or str(exc)
    return (f"cannot write {what} to {target}: {reason} ({detail}); nothing was changed: what was in use "
            "before stays in use. Free some space (or fix the folder's permissions) and try again")


_nesting = threading.local()


@contextmanager
def disk_errors(target: str | Path, what: str) -> Iterator[None]:
    """Turn an ``OSError`` raised inside into a :class:`StorageError` naming ``target``.

    Nested blocks defer to the outermost one, so the message names what the caller asked to write
    (the model folder), not a temporary file inside it.
    """
    depth = getattr(_nesting, "depth", 0)
    _nesting.depth = depth + 1
    try:
        yield
    except OSError as exc:
        if depth:
            raise
        raise StorageError(describe(exc, target, what)) from None
    finally:
        _nesting.depth = depth


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_name(path: Path) -> Path:
    """A unique hidden temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")


def write_text_atomic(path: Path, text: str, what: str = "a file") -> None:
    """Replace ``path`` with ``text`` in one rename; on failure ``path`` is as it was."""
    path = Path(path)
    with disk_errors(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_name(path)
        try:
            with open(staging, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(staging, path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        fsync_path(path.parent)


def write_frame_atomic(frame, path: Path, what: str = "a table", **options) -> None:
    """Write a DataFrame as CSV or Parquet (by ``path``'s suffix) under a temporary name, then rename."""
    path = Path(path)
    with disk_errors(path, what):
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_name(path)
        try:
            if path.suffix.lower() == ".csv":
                frame.to_csv(staging, **options)
            else:
                frame.to_parquet(staging, **options)
            os.replace(staging, path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
