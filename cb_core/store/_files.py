"""What the store keeps beside the database: the SQLite file's identity, the marker that a database
existed, and the secret that keys the hashes of unknown user names and client addresses.

* **The file must stay the file.** SQLite keeps writing into a database file deleted (or replaced)
  under a running server, and every decision "saved" there is lost with it. :class:`FileIdentity`
  remembers the file's device and inode when the store opens it, and the gateway compares them
  before each transaction: a file gone or swapped stops the store with
  :class:`DatabaseDamagedError` instead.
* **An empty database where one existed is not a fresh install.** Once a store has migrated a
  database, a marker file says so (beside the SQLite file, i.e. in the state folder by default;
  for another backend, in the state folder when the URL is the configured ``database_url``). A
  store opened on an empty database while the marker exists refuses, until an admin confirms with
  ``python -m cb_core db init --confirm-empty``: users, decisions and the audit log are never
  silently re-initialised.
* **Private at rest.** The SQLite file is created 0600 (SQLite gives its ``-wal`` and ``-shm``
  files the same mode) in a 0700 folder; the secret key file is 0600.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from ..config import get_settings, state_dir
from ..errors import StoreUnavailableError

SECRET_FILE = "store.key"
DIR_MODE = 0o700
FILE_MODE = 0o600


class DatabaseDamagedError(StoreUnavailableError):
    """The database file vanished, was replaced, is corrupted, or is empty where one existed.

    The message names no server path (it may be shown on the login page); ``key`` is the label of
    the same message in ``data/i18n`` (``store_vanished``, ``store_corrupt``, ``store_empty``).
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


VANISHED = ("store_vanished", "the database file was deleted or replaced while the app was running; nothing was "
                              "saved. Stop the app, put the database back (python -m cb_core db restore FILE) and "
                              "start it again")
CORRUPT = ("store_corrupt", "the database file is damaged (not a readable database); nothing was saved. An admin "
                            "can check it with python -m cb_core db check and restore a backup with python -m "
                            "cb_core db restore FILE")
EMPTY = ("store_empty", "the database is empty, but a database with users and decisions existed here before; it is "
                        "not set up again automatically. Restore a backup (python -m cb_core db restore FILE) or, "
                        "to really start afresh, python -m cb_core db init --confirm-empty")


def damaged(kind: tuple[str, str]) -> DatabaseDamagedError:
    return DatabaseDamagedError(*kind)


def sqlite_file(url: URL) -> Path | None:
    """The SQLite database file of ``url``; None for another backend or an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def private_folder(url: URL) -> Path:
    """Where the marker and the secret live: the SQLite file's folder, else the state folder."""
    path = sqlite_file(url)
    return path.parent if path is not None else state_dir()


def marker_path(url: URL) -> Path | None:
    """The file saying a database existed at ``url``: ``<file>.existed`` beside a SQLite file;
    ``database.existed`` in the state folder for the configured ``database_url``; otherwise None."""
    path = sqlite_file(url)
    if path is not None:
        return path.with_name(path.name + ".existed")
    configured = get_settings().database_url
    if configured and url.render_as_string(hide_password=False) == configured:
        return state_dir() / "database.existed"
    return None


def make_private(path: Path) -> None:
    """0700 for a folder, 0600 for a file (only what this process owns; others are left alone)."""
    try:
        if path.stat().st_uid == os.geteuid():
            path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)
    except FileNotFoundError:
        pass


def prepare_sqlite(path: Path, marker: Path | None, confirm_empty: bool) -> None:
    """Before the first connection: refuse a missing file where one existed; create a new one 0600
    (SQLite would create it world-readable); make an existing one and its WAL files private."""
    if not path.exists():
        if marker is not None and marker.exists() and not confirm_empty:
            raise damaged(EMPTY)
        if path.parent.is_dir():  # a missing folder is SQLite's to report ("unable to open")
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        make_private(each)


def write_marker(marker: Path | None) -> None:
    if marker is None or marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd = os.open(marker, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("A database was set up here; an empty one is refused until `python -m cb_core db init "
                 "--confirm-empty`.\n")


@dataclass(frozen=True)
class FileIdentity:
    """A SQLite file's device and inode when the store opened it."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity:
        st = path.stat()
        return cls(path, st.st_dev, st.st_ino)

    def check(self) -> None:
        """DatabaseDamagedError when the file is gone or another file now has its name."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise damaged(VANISHED) from None
        if (st.st_dev, st.st_ino) != (self.device, self.inode):
            raise damaged(VANISHED)


class Secret:
    """A random key kept in ``folder/store.key`` (0600), read or created on first use, that keys
    the hashes the store keeps instead of raw text (unknown user names, client addresses)."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / SECRET_FILE
        self._key: bytes | None = None

    def _load(self) -> bytes:
        if self._key is None:
            if not self._path.exists():
                self._create()
            key = bytes.fromhex(self._path.read_text(encoding="ascii").strip())
            if len(key) < 32:
                raise StoreUnavailableError(f"the store's key file {SECRET_FILE} is damaged; remove it (the hashes "
                                            "already in the audit log then no longer match new ones)", key="err_files_store_s_key_file", SECRET_FILE=SECRET_FILE)
            self._key = key
        return self._key

    def _create(self) -> None:
        # Written whole under a temporary name, then linked into place: a process that loses the race
        # to create it reads the winner's complete key, never a half-written file.
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        staging = self._path.with_name(f".{SECRET_FILE}.{secrets.token_hex(6)}")
        fd = os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(staging, self._path)
            except FileExistsError:
                pass
        finally:
            staging.unlink(missing_ok=True)

    def digest(self, purpose: str, text: str) -> str:
        """HMAC-SHA256 of ``text`` for ``purpose`` (64 hex characters)."""
        return hmac.new(self._load(), f"{purpose}\x00{text}".encode("utf-8"), hashlib.sha256).hexdigest()
