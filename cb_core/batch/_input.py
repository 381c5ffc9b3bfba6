"""The batch's input: the book's tables as Dask DataFrames, one partition per range or bucket of merchants.

:func:`partitioned_tables` cuts a sorted Parquet book into ranges of merchants that each worker
reads by itself (:mod:`cb_core.batch._ranges`, no shuffle); any other book (CSV, unsorted, ids
that are not text) is read whole and shuffled by a hash of the stripped id
(:func:`partition_by_merchant`). Either way partition ``k`` of every table holds the same merchants.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..errors import DataSourceError

__all__ = ["blocked_ids", "location", "partition_by_merchant", "partitioned_tables", "ranges_plain", "read_tables",
           "table_path"]

def location(path: str | Path) -> tuple[Any, str]:
    """File system and path as the workers must see it: an absolute path for a local folder (the
    workers' working directory is not the client's), the URL as given otherwise."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    fs, root = fsspec.core.url_to_fs(str(path).rstrip("/"))
    return fs, root if isinstance(fs, LocalFileSystem) else str(path).rstrip("/")


def read_tables(data: str | Path, *, outcomes: bool = False) -> dict[str, Any]:
    """The book's tables under ``data`` (a folder or an fsspec URL such as ``s3://bucket/book``)
    as Dask DataFrames, unvalidated: ``merchants``, ``monthly_activity`` and, with ``outcomes``,
    ``outcomes``. Each is ``<table>.parquet`` (file or folder of parts) or ``<table>.csv``
    (UTF-8, read as text like :func:`~cb_core.data.sources.read_book`).

    Raises
    ------
    DataSourceError
        ``data`` or a needed table is missing.
    """
    import dask.dataframe as dd

    fs, base = location(data)
    if not fs.isdir(base):
        raise DataSourceError(f"book folder not found: {base}")
    names = ("merchants", "monthly_activity") + (("outcomes",) if outcomes else ())
    tables: dict[str, Any] = {}
    for name in names:
        found = next(((f"{base}/{name}.{ext}", ext) for ext in ("parquet", "csv")
                      if fs.exists(f"{base}/{name}.{ext}")), None)
        if found is None:
            need = "training needs an outcomes table:" if name == "outcomes" else "required table is missing:"
            raise DataSourceError(f"{need} no {name}.parquet or {name}.csv in {base}")
        path, ext = found
        if ext == "parquet":
            tables[name] = dd.read_parquet(path)
        else:
            tables[name] = dd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], blocksize="64MB")
    return tables


def blocked_ids(data: str | Path, as_of: str, frozen: Iterable[str] = ()) -> tuple[str, ...]:
    """The merchants who get no offer (:func:`cb_core.loans.blocked_merchants` as of ``as_of``): an
    open loan past due in the book's ``loans`` and ``loan_months`` (read here, in the driver: one row
    per loan and month is small next to the activity), or ``frozen``. A book without both tables
    blocks only ``frozen``."""
    import pandas as pd

    from ..data import Book
    from ..loans import blocked_merchants

    fs, base = location(data)
    found = {}
    for name in ("loans", "loan_months"):
        hit = next((f"{base}/{name}.{ext}" for ext in ("parquet", "csv") if fs.exists(f"{base}/{name}.{ext}")), None)
        if hit is not None:
            with fs.open(hit, "rb") as fh:
                found[name] = pd.read_parquet(fh) if hit.endswith(".parquet") else \
                    pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""])
    if len(found) == 1:
        raise DataSourceError(f"the book in {base} has {next(iter(found))} without "
                              f"{({'loans', 'loan_months'} - set(found)).pop()}; give both or neither")
    loans, months = found.get("loans"), found.get("loan_months")
    if months is not None:
        days = pd.to_numeric(months["days_past_due"], errors="coerce")
        if days.isna().any():
            bad = months.loc[days.isna(), "days_past_due"].iloc[0]
            raise DataSourceError(f"loan_months.days_past_due must be whole numbers; got {bad!r} in {base}")
        months = months.assign(days_past_due=days.astype("int64"))
    empty = pd.DataFrame({"merchant_id": []})
    book = Book(merchants=empty, activity=empty, loans=loans, loan_months=months, source=base)
    return tuple(blocked_merchants(book, frozen, as_of=as_of)["merchant_id"])


def partition_by_merchant(frame: Any, partitions: int) -> Any:
    """``frame`` shuffled into ``partitions`` partitions by a stable hash of ``merchant_id``.

    Partition ``k`` holds exactly the rows whose bucket is ``k`` (divisions ``0, 1, ...,
    partitions``), so two tables partitioned this way line up partition by partition.
    """
    from ._partition import BUCKET_COLUMN, with_bucket

    if "merchant_id" not in frame.columns:
        raise DataSourceError(f"a table has no merchant_id column; columns are {', '.join(map(str, frame.columns))}")
    bucketed = frame.map_partitions(with_bucket, partitions, meta=with_bucket(frame._meta, partitions))
    return bucketed.set_index(BUCKET_COLUMN, divisions=list(range(partitions + 1)))



def table_path(data: str | Path, name: str) -> tuple[Any, str, str] | None:
    """File system, path and extension (``parquet`` or ``csv``) of table ``name`` of the book, or None."""
    fs, base = location(data)
    return next(((fs, f"{base}/{name}.{ext}", ext) for ext in ("parquet", "csv")
                 if fs.exists(f"{base}/{name}.{ext}")), None)


def partitioned_tables(data: str | Path, tables: dict[str, Any], partitions: int, *, ranges: bool = True
                       ) -> tuple[dict[str, Any], list[str] | None]:
    """``tables`` (from :func:`read_tables`) in ``partitions`` partitions that line up by merchant,
    and the ids that cut them into ranges read in place (None: hash buckets, shuffled).

    Ranges when ``ranges`` and every table is Parquet, sorted by ``merchant_id``
    (:func:`~cb_core.batch._ranges.sorted_by_merchant`); each of their tasks raises
    :class:`~cb_core.batch._ranges.UnplainIds` on an id that is not plain (the caller then asks
    again with ``ranges=False``).
    """
    import dask.dataframe as dd

    from ._ranges import merchant_bounds, read_range, sorted_by_merchant

    found = {name: table_path(data, name) for name in tables}
    if ranges and all(f is not None and f[2] == "parquet" and sorted_by_merchant(f[0], f[1]) for f in found.values()):
        fs, path, _ = found["merchants"]
        bounds = merchant_bounds(fs, path, partitions)
        lows, highs = [None, *bounds], [*bounds, None]
        return {name: dd.from_map(read_range, lows, highs, fs=found[name][0], path=found[name][1],
                                  meta=frame._meta, label=f"read-{name}", enforce_metadata=False)
                for name, frame in tables.items()}, bounds
    return {name: partition_by_merchant(frame, partitions) for name, frame in tables.items()}, None


def ranges_plain(client: Any, data: str | Path, names: Iterable[str], bounds: list[str]) -> bool:
    """Whether every id in every range of every table ``names`` is plain, reading only ``merchant_id``
    (:func:`~cb_core.batch._ranges.plain_ids`, one task per range and table)."""
    from ._ranges import plain_ids

    lows, highs = [None, *bounds], [*bounds, None]
    futures = []
    for name in names:
        fs, path, _ = table_path(data, name)
        futures += client.map(plain_ids, lows, highs, fs=fs, path=path, pure=False)
    return all(client.gather(futures))
