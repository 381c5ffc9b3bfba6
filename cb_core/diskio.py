"""Writing files safely: atomic replacement, and one clear error when the disk says no.

Everything the engine writes for keeps (the current book and model pointers, model folders,
caches, CLI outputs) is written to a temporary name beside the target and renamed into place,
so a crash or a full disk never leaves a half-written file under the real name. An ``OSError``
on the way becomes a :class:`~cb_core.errors.StorageError` that names the file, says why in plain
words (the disk is full, read-only, ...) and that nothing changed.

What is written with ``private=True`` (everything in the state folder: books, models, caches,
pointers) is 0600 in 0700 folders from the moment it gets its real name; :func:`make_private`
brings what an older version left (0644 files in 0755 folders) to the same modes.
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

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

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



def _storage_error(exc: OSError, target: str | Path, what: str) -> StorageError:
    """The StorageError of a failed write, keyed by its reason (the catalog says it in the user's language)."""
    message, where, detail = describe(exc, target, what), str(target), exc  # the catalog says the OS reason too
    code = exc.errno or 0
    if code == errno.ENOSPC:
        return StorageError(message, key="err_disk_full", target=where, detail=detail)
    if code == errno.EDQUOT:
        return StorageError(message, key="err_disk_quota", target=where, detail=detail)
    if code == errno.EFBIG:
        return StorageError(message, key="err_disk_file_too_big", target=where, detail=detail)
    if code == errno.EROFS:
        return StorageError(message, key="err_disk_read_only", target=where, detail=detail)
    if code in (errno.EACCES, errno.EPERM):
        return StorageError(message, key="err_disk_permission", target=where, detail=detail)
    return StorageError(message, key="err_disk_refused", target=where, detail=detail)


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
        raise _storage_error(exc, target, what) from None
    finally:
        _nesting.depth = depth


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private(path: str | Path) -> None:
    """Make ``path`` and, for a folder, everything below it private to this user: folders 0700,
    files 0600. Symbolic links and what another user owns are left alone; vanished entries are
    skipped (a concurrent cache write may replace one meanwhile)."""
    me = os.geteuid()

    def one(entry: str, mode: int) -> None:
        try:
            st = os.lstat(entry)
            if st.st_uid == me and not os.path.islink(entry) and (st.st_mode & 0o777) != mode:
                os.chmod(entry, mode)
        except FileNotFoundError:
            pass

    path = os.fspath(path)
    if not os.path.isdir(path) or os.path.islink(path):
        one(path, PRIVATE_FILE_MODE)
        return
    one(path, PRIVATE_DIR_MODE)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            one(os.path.join(root, name), PRIVATE_DIR_MODE)
        for name in files:
            one(os.path.join(root, name), PRIVATE_FILE_MODE)


def _mkdir(folder: Path, private: bool) -> None:
    if private:
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    else:
        folder.mkdir(parents=True, exist_ok=True)


def staging_name(path: Path) -> Path:
    """A unique hidden temporary name beside ``path`` (same folder, so the rename is atomic)."""
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")


def write_text_atomic(path: Path, text: str, what: str = "a file", *, private: bool = False) -> None:
    """Replace ``path`` with ``text`` (UTF-8) in one rename; on failure ``path`` is as it was
    (``private``: the file 0600, a folder created for it 0700)."""
    write_bytes_atomic(path, text.encode("utf-8"), what, private=private)


def write_bytes_atomic(path: Path, data: bytes, what: str = "a file", *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` in one rename, as :func:`write_text_atomic`."""
    path = Path(path)
    with disk_errors(path, what):
        _mkdir(path.parent, private)
        staging = staging_name(path)
        try:
            fd = os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE if private else 0o666)
            with open(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(staging, path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        fsync_path(path.parent)


def _parquet_options(frame, options: dict) -> dict:
    """Parquet writer options: a dictionary page for every column but the floating-point ones (unless the
    caller says otherwise). Scores, PDs and points are almost all distinct: their dictionaries were built
    and thrown away (a scored 50,000-merchant book: 80 ms to write instead of 19, and 11% larger)."""
    if "use_dictionary" in options:
        return options
    if hasattr(frame, "dtypes"):
        floats = {str(c) for c, t in frame.dtypes.items() if getattr(t, "kind", "") == "f"}
        names = [str(c) for c in frame.columns]
    else:
        import pyarrow as pa

        floats = {f.name for f in frame.schema if pa.types.is_floating(f.type)}
        names = frame.schema.names
    return {**options, "use_dictionary": [n for n in names if n not in floats]}


def write_frame_atomic(frame, path: Path, what: str = "a table", *, private: bool = False, **options) -> None:
    """Write a DataFrame as CSV or Parquet (by ``path``'s suffix; an Arrow table as Parquet) under a temporary name, then rename
    (``private``: the file 0600 before it gets its name, a folder created for it 0700)."""
    path = Path(path)
    with disk_errors(path, what):
        _mkdir(path.parent, private)
        staging = staging_name(path)
        try:
            if private:  # created 0600 first: the writers below keep an existing file's mode
                os.close(os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
            if path.suffix.lower() == ".csv":
                frame.to_csv(staging, **options)
            elif hasattr(frame, "to_parquet"):
                frame.to_parquet(staging, **_parquet_options(frame, options))
            else:  # an Arrow table (a frame converted beforehand, as pandas would)
                import pyarrow.parquet as pq

                pq.write_table(frame, staging, **_parquet_options(frame, options))
            if private:
                os.chmod(staging, PRIVATE_FILE_MODE)
            os.replace(staging, path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
