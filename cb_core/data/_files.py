"""Reading one table file: CSV or Parquet bytes into an all-string (CSV) or typed (Parquet) frame.

A CSV file is read chunk by chunk and refused at its first line longer than
:data:`MAX_LINE_BYTES` (a file that is not a table, or a "zip bomb" of one endless line), and a
file larger than :data:`MAX_FILE_BYTES` before it is opened. UTF-8 (with or without BOM) and
CP949 (Korean Excel exports) are recognised; Excel workbooks, UTF-16 text and Parquet in a .csv
name are named for what they are. Every failure is a :class:`~cb_core.errors.DataSourceError`
naming the file.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow as pa

from ..errors import DataSourceError
from ._parquet import read_parquet_frame
from ..lazy import LazyModule

pd = LazyModule("pandas")

_HANGUL = re.compile("[\uac00-\ud7a3]")
_UTF8_BOM = b"\xef\xbb\xbf"
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_PARQUET_MAGIC = b"PAR1"
#: Longest physical line read from a CSV file, in bytes. A row of this contract is a few hundred
#: bytes; a longer line is a broken export or a file that is not a table, refused before it is
#: read any further.
MAX_LINE_BYTES = 1_000_000
#: Largest table file read from a book folder, in bytes; larger books go through ``python -m
#: cb_core batch``, which reads them in partitions.
MAX_FILE_BYTES = 2 * 1024 ** 3
_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class ParquetOnDisk:
    """A Parquet file handed to :func:`_parse_parquet` by path instead of by its bytes: pyarrow then
    reads and decompresses it column by column (a 1M-merchant activity file is 0.5 GB that would
    otherwise be held in full while its table is built). ``head`` and ``tail`` give the bytes the
    format checks look at."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __len__(self) -> int:
        return self.path.stat().st_size

    def head(self, n: int) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def tail(self, n: int) -> bytes:
        with open(self.path, "rb") as fh:
            fh.seek(max(0, len(self) - n))
            return fh.read(n)


def _read_file(path: Path) -> bytes | ParquetOnDisk:
    """A table file's bytes (a Parquet file: where it is); a CSV file is refused at its first
    over-long line, before the rest is read."""
    try:
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            hint = (" (a partitioned Parquet dataset? read it with python -m cb_core batch)"
                    if path.is_dir() and path.suffix == ".parquet" else "")
            raise DataSourceError(f"cannot read {path}: it is {kind}, not a table file{hint}", key="err_files_cannot_read_path_kind", path=path, kind=kind, hint=hint)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataSourceError(f"{path} is {size / 1024 ** 2:,.0f} MiB, more than the "
                                  f"{MAX_FILE_BYTES / 1024 ** 3:g} GiB a book file may have here; load a book this "
                                  "size with python -m cb_core batch", key="err_files_path_size_mib_more", path=path, size=round(size / 1024 ** 2), MAX_FILE_BYTES=MAX_FILE_BYTES / 1024 ** 3)
        if path.suffix.lower() == ".parquet":
            return ParquetOnDisk(path)  # read by pyarrow from the file: no second copy of its bytes
        guard = _LineLength(str(path))
        parts = []
        with open(path, "rb") as fh:
            while chunk := fh.read(guard.chunk_bytes):
                guard.feed(chunk)
                parts.append(chunk)
        return b"".join(parts)
    except OSError as exc:
        raise DataSourceError(f"cannot read {path}: {exc.strerror or exc}", key="err_files_cannot_read_path_value", path=path, value=exc) from None


class _LineLength:
    """Fed a CSV file chunk by chunk, refuses it at the first line longer than :data:`MAX_LINE_BYTES`.

    Chunks are at most that long, so only a line that spans chunks can be longer: the bytes
    since the last line break are carried over. LF, CR LF and a lone CR all end a line.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.limit = MAX_LINE_BYTES
        self.chunk_bytes = max(1, min(1 << 20, self.limit))
        self.since_break = 0
        self.line = 1

    def feed(self, chunk: bytes) -> None:
        breaks = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
        if not breaks:
            self.since_break += len(chunk)
            if self.since_break > self.limit:
                raise self._too_long()
            return
        if self.since_break + min(breaks) > self.limit:
            raise self._too_long()
        self.line += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        self.since_break = len(chunk) - 1 - max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))

    def _too_long(self) -> DataSourceError:
        return DataSourceError(
            f"{self.name}: line {self.line} is longer than {self.limit:,} bytes; a row of a book table is a few "
            "hundred bytes, so this is not a CSV table of merchants, monthly_activity or outcomes: export it "
            "again with one row per line", key="err_files_line_too_long", name=self.name, line=self.line,
            limit=self.limit)


def _check_lines(name: str, content: bytes) -> None:
    guard = _LineLength(name)
    for start in range(0, len(content), guard.chunk_bytes):
        guard.feed(content[start:start + guard.chunk_bytes])


def _read_files(files: dict[str, tuple[str, bytes | ParquetOnDisk]]) -> dict[str, pd.DataFrame]:
    """Parse each table's file; every file that cannot be read is named in one error."""
    frames: dict[str, pd.DataFrame] = {}
    errors: list[str] = []
    for table, (name, content) in files.items():
        try:
            if name.lower().endswith(".parquet"):
                frames[table] = _parse_parquet(name, content)
            else:
                frames[table] = _parse_csv(name, content)
        except DataSourceError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]  # the same message, said in the user's language without a list around it
    if errors:
        raise DataSourceError("\n".join(map(str, errors)), key="err_files_unreadable", errors=errors)
    return frames


def _parse_csv(name: str, content: bytes) -> pd.DataFrame:
    if content[:4] in _EXCEL_MAGIC:
        raise DataSourceError(f"{name} is an Excel workbook, not CSV: save it as CSV (UTF-8)", key="err_files_excel_not_csv", name=name)
    if content[:4] == _PARQUET_MAGIC:
        raise DataSourceError(f"{name} is a Parquet file, not CSV: name it .parquet", key="err_files_name_parquet_file_csv", name=name)
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataSourceError(f"{name} is UTF-16 text (Excel's 'Unicode Text'), not CSV: save it as CSV (UTF-8)", key="err_files_name_utf_text_excel", name=name)
    _check_lines(name, content)
    text = _decode(name, content)
    if not text.strip():
        return pd.DataFrame()  # reported as an empty table, next to any other problem
    if (nul := text.find("\x00")) >= 0:
        line = text.count("\n", 0, nul) + 1
        raise DataSourceError(f"{name}: NUL bytes at line {line}: not a CSV text file (a binary or damaged "
                              "file?); save it as CSV (UTF-8)", key="err_files_name_nul_bytes_line", name=name, line=line)
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise DataSourceError(f"{name} is not a well-formed CSV table: {exc}", key="err_files_csv_malformed", name=name, exc=exc) from None
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise DataSourceError(f"{name}: column(s) {', '.join(map(repr, repeated))} appear more than once "
                              "in the header", key="err_files_name_column_s_value", name=name, value=', '.join(map(repr, repeated)))
    try:
        return pd.read_csv(io.StringIO(text), dtype="str", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as exc:
        fields = _FIELDS_ERROR.search(str(exc))
        if fields:
            expected, line, saw = fields.groups()
            raise DataSourceError(
                f"{name} is not a well-formed CSV table: line {line} has {saw} fields but the header has "
                f"{expected}; a value that contains a comma (such as 1,200,000 or a name) must be in double "
                "quotes", key="err_files_csv_field_count", name=name, line=line, saw=saw, expected=expected) from None
        raise DataSourceError(f"{name} is not a well-formed CSV table: {exc}".strip(), key="err_files_csv_malformed",
                              name=name, exc=str(exc).strip()) from None


def _decode(name: str, content: bytes) -> str:
    """UTF-8 (BOM or not), else CP949; never a lossy guess."""
    if content.startswith(_UTF8_BOM):
        try:
            return content[len(_UTF8_BOM):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _undecodable(name, content, exc.start + len(_UTF8_BOM), "UTF-8") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    # Text that was valid UTF-8 Korean before the bad byte is a damaged UTF-8 file, not CP949.
    if _HANGUL.search(content[:utf8_error].decode("utf-8")):
        raise _undecodable(name, content, utf8_error, "UTF-8")
    try:
        return content.decode("cp949")
    except UnicodeDecodeError as exc:
        raise _undecodable(name, content, max(utf8_error, exc.start), "UTF-8 or CP949") from None


def _undecodable(name: str, content: bytes, offset: int, encodings: str) -> DataSourceError:
    line = content.count(b"\n", 0, offset) + 1
    return DataSourceError(f"{name}: byte 0x{content[offset]:02x} at byte offset {offset} (line {line}) "
                           f"is not valid {encodings} text; save the file as CSV (UTF-8)", key="err_files_undecodable",
                           name=name, byte=f"{content[offset]:02x}", offset=offset, line=line, encodings=encodings)


def _parse_parquet(name: str, content: bytes | ParquetOnDisk) -> pd.DataFrame:
    on_disk = isinstance(content, ParquetOnDisk)
    try:
        head, tail = (content.head(4), content.tail(4)) if on_disk else (content[:4], content[-4:])
    except OSError as exc:
        raise DataSourceError(f"cannot read {name}: {exc.strerror or exc}", key="err_files_cannot_read_path_value",
                              path=name, value=exc) from None
    if len(content) < 12 or head != _PARQUET_MAGIC or tail != _PARQUET_MAGIC:
        kind = "an Excel workbook" if head in _EXCEL_MAGIC else "not a complete Parquet file"
        raise DataSourceError(f"{name} is {kind} (truncated, corrupt or another format)",
                              key="err_files_name_kind_truncated_corrupt", name=name, kind=kind)
    try:
        frame = read_parquet_frame(content.path if on_disk else pa.BufferReader(content))
        if frame is None:  # an index stored as columns, extension types: as pandas reads it
            columns = _column_by_column(content.path) if on_disk else None
            if columns is not None:
                frame = pd.concat([pd.read_parquet(content.path, engine="pyarrow", columns=[c],
                                                   to_pandas_kwargs=_SLIM) for c in columns], axis=1)
            else:
                frame = pd.read_parquet(content.path if on_disk else io.BytesIO(content), engine="pyarrow",
                                        to_pandas_kwargs=_SLIM)
        pa.default_memory_pool().release_unused()  # what decompressing took goes back to the system
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise DataSourceError(f"{name}: cannot read Parquet: {exc}", key="err_files_name_cannot_read_parquet", name=name, exc=exc) from None
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()  # written with a named index: it holds a column
    return frame.reset_index(drop=True)


#: Arrow columns are released as they are converted: a table is never held twice.
_SLIM = {"self_destruct": True, "split_blocks": True}
#: Parquet files at least this large are read one column at a time.
COLUMNWISE_BYTES = 32 * 1024 ** 2


def _column_by_column(path: Path) -> list[str] | None:
    """The columns of a large Parquet file without an index column, to read one at a time (then
    only one column's compressed and decoded buffers are in memory besides the frame: at 1M
    merchants 2.6 GB instead of 4.6 GB at the peak); None to read it whole."""
    import json

    import pyarrow.parquet as pq

    if path.stat().st_size < COLUMNWISE_BYTES:
        return None
    schema = pq.read_schema(path)
    try:
        index = json.loads((schema.metadata or {})[b"pandas"])["index_columns"]
    except (KeyError, ValueError, TypeError):
        return None
    names = list(schema.names)
    if any(not isinstance(i, dict) for i in index) or len(set(names)) != len(names) or not names:
        return None  # an index stored as a column, or repeated names: read whole, as before
    return names


def read_table(path: str | Path) -> pd.DataFrame:
    """Any one table file (a lender's own feature table) through the reader books use: CSV in
    UTF-8 (BOM or not) or CP949, Excel's quirks refused by name, or Parquet. CSV cells come back
    as text (blank = missing); type them with :func:`cb_core.model.typed_table`.

    Raises
    ------
    DataSourceError
        The file is missing, too large, not CSV/Parquet, or not readable as its format.
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise DataSourceError(f"{path}: use a .csv or .parquet file; got {path.suffix or 'no extension'}", key="err_files_path_use_csv_parquet", path=path, value=path.suffix or 'no extension')
    return _read_files({"table": (str(path), _read_file(path))})["table"]
