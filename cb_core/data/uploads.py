"""A book from uploaded files (the Data page): names checked, sizes bounded, one file per table."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .book import TABLES, Book
from ..config import Settings, get_settings
from ..errors import DataSourceError
from ._files import _read_files
from .schema import _validate
from .sources import FORMATS, _max_rows

__all__ = ["read_uploaded"]

#: Bytes in a megabyte of ``max_upload_mb`` (Streamlit's ``server.maxUploadSize`` counts the same way).
_MB = 1024 * 1024
_SAME_TABLE_TWICE = "{n} files for this table ({names}): upload one"
_UNKNOWN_FILE = ("unknown file: expected merchants, monthly_activity and optionally outcomes, bureau_history, loans, "
                 "loan_months, default_events, each as .csv or .parquet")


def read_uploaded(files: dict[str, bytes] | Sequence[tuple[str, bytes]], *, today: date | None = None,
                  settings: Settings | None = None) -> Book:
    """Read and validate a book from uploaded files (file name -> content, or ``(name, content)``
    pairs: an upload may hold two files of the same name).

    File names are ``merchants.csv``, ``monthly_activity.parquet`` and so on (any letter case,
    folders ignored); other names are reported as problems. When a table comes both as CSV and
    as Parquet, the Parquet file wins; two files of the same table in the same format
    (``merchants.csv`` twice, or ``Merchants.CSV`` beside it) are a problem naming both, never a
    silent choice of one.

    Parameters
    ----------
    settings : Settings, optional
        ``max_upload_mb``: the largest file accepted, in MB of 1024 x 1024 bytes (as Streamlit's
        ``server.maxUploadSize``); ``max_report_rows`` as in :func:`read_book`. Default: the
        current settings.

    Raises
    ------
    DataSourceError
        A file is larger than ``max_upload_mb`` (each such file is named with its size and the
        limit; nothing is parsed), or cannot be read.
    SchemaError
        The tables were read but break the data contract.
    """
    settings = settings or get_settings()
    pairs = list(files.items()) if isinstance(files, dict) else [(str(n), c) for n, c in files]
    _check_upload_sizes(dict(pairs), settings.max_upload_mb)
    chosen: dict[str, tuple[str, bytes]] = {}
    problems: list[tuple[str, str, str]] = []
    bases = []
    same: dict[tuple[str, str], list[str]] = {}
    for file_name, content in pairs:
        base = _base_name(file_name)
        bases.append(base)
        stem, _, ext = base.lower().rpartition(".")
        if ext not in FORMATS or stem not in TABLES:
            problems.append((base, "*", _UNKNOWN_FILE))
            continue
        same.setdefault((stem, ext), []).append(base)
        if stem not in chosen or ext == "parquet":
            chosen[stem] = (base, bytes(content))
    for (stem, _), names in same.items():
        if len(names) > 1:
            problems.append((stem, "*", _SAME_TABLE_TWICE.format(n=len(names), names=", ".join(names))))
    source = "upload: " + ", ".join(sorted(bases))
    return _validate(_read_files(chosen), today=today, max_rows=_max_rows(settings), source=source,
                     problems=tuple(problems))


def _base_name(file_name: str) -> str:
    return str(file_name).replace("\\", "/").rsplit("/", 1)[-1]


def _check_upload_sizes(files: dict[str, bytes], max_upload_mb: int) -> None:
    """Refuse the upload, before any file is parsed, when a file is larger than ``max_upload_mb``."""
    limit = max_upload_mb * _MB
    too_big = [f"{_base_name(name)} is {len(content):,} bytes ({len(content) / _MB:,.1f} MB)"
               for name, content in files.items() if len(content) > limit]
    if too_big:
        raise DataSourceError(f"upload refused: {'; '.join(too_big)}; the limit is {max_upload_mb:,} MB "
                              f"({limit:,} bytes, setting max_upload_mb)", key="err_uploads_too_big", too_big='; '.join(too_big), max_upload_mb=max_upload_mb, limit=limit)
