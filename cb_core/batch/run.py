"""The scoring pipeline over a Dask cluster: a book too big for one machine, partitioned by merchant.

``python -m cb_core batch --data DIR --out DIR --model DIR [--scheduler ADDRESS]``, or
:func:`run_batch` from Python:

1. read ``merchants`` and ``monthly_activity`` (and ``outcomes`` to train) as Dask DataFrames
   from ``<table>.parquet`` (a file or a folder of parts) or ``<table>.csv`` under ``--data``;
2. cut every table into ``--partitions`` partitions of whole merchants, the same merchants in
   partition ``k`` of every table: ranges of ``merchant_id`` that each worker reads by itself from a
   Parquet book sorted by merchant (as :func:`~cb_core.data.sources.write_book` writes it; no
   shuffle), else a shuffle by a stable hash of the stripped ``merchant_id``
   (:func:`partition_by_merchant`) with the same known divisions in every table;
3. per partition (:func:`~cb_core.batch._partition.score_partition`): validate, snapshot as of
   the book's last month, score, explain (``--explain``) and match offers, the single-machine
   functions on each partition's rows, ``category`` fixed to the shipped category list;
4. write one Parquet file per partition to ``--out`` and then ``_SUCCESS`` (a JSON summary):
   readers wait for it (:func:`read_output`).

With ``--train`` the model is first trained on the cluster (:mod:`cb_core.batch.train`) and saved
to ``--model`` (or ``<out>/_model``). Without ``--scheduler`` a local cluster with one worker
process per core is started.

The numbers are those of the single-machine path: every feature, score, point and offer of a
merchant depends on that merchant's rows only, and LightGBM's predictions are row by row.
"""
from __future__ import annotations

import json
import logging
import math
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import ConfigError, DataSourceError, SchemaError
from ._input import (blocked_ids, location as _location, partition_by_merchant, partitioned_tables, ranges_plain,
                     read_tables)

__all__ = ["MERCHANTS_PER_PARTITION", "SUCCESS_FILE", "MODEL_DIR", "BatchResult", "cluster_client",
           "read_tables", "partition_by_merchant", "run_batch", "read_output"]

log = logging.getLogger(__name__)

#: Default partition size: ~1.2M activity rows at 24 months, a few hundred MB per task.
MERCHANTS_PER_PARTITION = 50_000
#: Written last into the output folder; its presence means every partition is there.
SUCCESS_FILE = "_SUCCESS"
#: Where ``--train`` saves the model when no ``--model`` folder is given (Parquet readers skip it).
MODEL_DIR = "_model"
_PART = "part-{:05d}.parquet"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class BatchResult:
    """What one batch run wrote (also the content of ``_SUCCESS``)."""

    out: str
    rows: int
    partitions: int
    workers: int
    threads: int
    model_version: str
    model_dir: str | None
    trained: bool
    as_of: str
    explain: bool
    offers: bool
    seconds: float
    finished: str
    blocked: int = 0  # merchants whose offers Square's rule took out (an overdue loan or a freeze)
    #: ``ranges`` (each worker read its merchants' rows of a sorted Parquet book) or ``shuffle``
    partitioned_by: str = "shuffle"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------ cluster

@contextmanager
def cluster_client(scheduler: str | None = None, *, workers: int | None = None,
                   processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client`` for the scheduler at ``scheduler`` (``tcp://host:8786``), or for a
    local cluster of ``workers`` single-threaded workers (default: one per core) when None.

    With ``processes`` the local workers are processes: a script that calls this must do so
    under ``if __name__ == "__main__":`` (workers re-import the main module).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"workers must be a whole number of at least 1; got {workers!r}")
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


# ------------------------------------------------------------------ output folder

def _check_out(out: str, overwrite: bool) -> tuple[Any, str, bool]:
    """The output folder's file system and path, and whether it holds an earlier output that
    ``overwrite`` allows to replace; anything else in the way is refused."""
    fs, root = _location(out)
    if not fs.exists(root):
        return fs, root, False
    if not fs.isdir(root):
        raise ConfigError(f"--out must be a folder; {out} is a file")
    names = sorted(Path(p.rstrip("/")).name for p in fs.ls(root, detail=False))
    strangers = [n for n in names if n not in (SUCCESS_FILE, MODEL_DIR) and not re.fullmatch(r"part-\d{5}\.parquet", n)]
    if strangers:
        raise ConfigError(f"will not write into {out}: it holds files that are not batch output "
                          f"({', '.join(strangers[:5])})")
    if names and not overwrite:
        raise ConfigError(f"{out} already holds a batch output; give --overwrite to replace it")
    return fs, root, bool(names)


def _prepare_out(out: str, overwrite: bool) -> tuple[Any, str]:
    """:func:`_check_out`, then the earlier output removed and the folder created."""
    fs, root, earlier = _check_out(out, overwrite)
    if earlier:
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)
    return fs, root


def _rows_written(fs: Any, root: str) -> tuple[int, int]:
    """Rows and files of the written partitions, from the Parquet footers."""
    import pyarrow.parquet as pq

    files = sorted(fs.glob(f"{root}/part-*.parquet"))
    rows = 0
    for f in files:
        with fs.open(f, "rb") as fh:
            rows += pq.ParquetFile(fh).metadata.num_rows
    return rows, len(files)


def read_output(out: str | Path) -> Any:
    """The merchants a finished batch wrote, as one pandas DataFrame (partition by partition,
    each sorted by ``merchant_id``).

    Raises
    ------
    DataSourceError
        ``out`` holds no ``_SUCCESS``: the batch did not finish (or is still running).
    """
    import pandas as pd

    from ._partition import category_dtype

    fs, root = _location(out)
    if not fs.exists(f"{root}/{SUCCESS_FILE}"):
        raise DataSourceError(f"{out} has no {SUCCESS_FILE}: the batch did not finish; run it again")
    files = sorted(fs.glob(f"{root}/part-*.parquet"))
    frame = pd.concat([pd.read_parquet(fs.open(f, "rb")) for f in files], ignore_index=True)
    if "category" in frame.columns:
        frame["category"] = frame["category"].astype(str).astype(category_dtype())
    return frame


# ------------------------------------------------------------------ the run

def _check_args(as_of: str | None, partitions: int | None) -> None:
    if as_of is not None and (not isinstance(as_of, str) or not _MONTH.match(as_of)):
        raise ConfigError(f"as_of must be a month YYYY-MM; got {as_of!r}")
    if partitions is not None and (isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1):
        raise ConfigError(f"partitions must be a whole number of at least 1; got {partitions!r}")


def run_batch(data: str | Path, out: str | Path, *, model: str | Path | None = None, train: bool = False,
              scheduler: str | None = None, client: Any = None, workers: int | None = None,
              explain: bool = False, offers: bool = True, products: str | Path | None = None,
              partitions: int | None = None, as_of: str | None = None, include_features: bool = False,
              overwrite: bool = False, frozen: Iterable[str] = ()) -> BatchResult:
    """Score (and explain, and match offers for) every merchant of a book on a Dask cluster.

    Parameters
    ----------
    data : str or Path
        Book folder or URL (see :func:`read_tables`), readable by every worker.
    out : str or Path
        Output folder or URL: ``part-NNNNN.parquet`` per partition, then ``_SUCCESS``.
    model : str or Path, optional
        Model folder to score with; with ``train``, where the trained model is saved (default
        ``<out>/_model``).
    train : bool
        Train on the cluster first (the book needs an ``outcomes`` table).
    scheduler, client, workers
        A running ``distributed.Client``; else the scheduler address; else a local cluster of
        ``workers`` processes.
    explain : bool
        Add ``base_points`` and ``points__<feature>``.
    offers : bool
        Add the offer columns (``offer__<field>__<product_id>``, ``offer__best__*``).
    products : str or Path, optional
        Product catalog JSON (default: the shipped one).
    partitions : int, optional
        Default: ``max(2 x worker threads, merchants / MERCHANTS_PER_PARTITION)``.
    as_of : str, optional
        Snapshot month ``YYYY-MM``; default the book's last month.
    include_features : bool
        Add the snapshot's feature columns.
    overwrite : bool
        Replace an earlier batch output in ``out``.
    frozen : iterable of str
        Merchants whose offers an officer froze (``Store.frozen_merchants()``). With those whose
        open loan is past due in the book's ``loans``/``loan_months`` (when it has them) as of
        ``as_of``, they get no offer (:func:`cb_core.loans.blocked_merchants`, Square's rule).

    Returns
    -------
    BatchResult
    """
    _check_args(as_of, partitions)
    if model is None and not train:
        raise ConfigError("give --model DIR (a trained model folder) or --train")
    if client is None:
        _check_out(str(out), overwrite)  # before minutes of cluster start-up, not after
        with cluster_client(scheduler, workers=workers) as own:
            return run_batch(data, out, model=model, train=train, client=own, explain=explain, offers=offers,
                             products=products, partitions=partitions, as_of=as_of,
                             include_features=include_features, overwrite=overwrite, frozen=frozen)
    from ._ranges import UnplainIds
    from ..model import load_model
    from ..offers import load_products

    started = time.perf_counter()
    today = date.today()
    loaded = None if train else load_model(model)
    catalog = load_products(products) if offers else None
    tables = read_tables(data, outcomes=train)
    data = _location(data)[1]
    model_dir = None
    if train:
        model_dir = _local_folder(str(model) if model is not None else f"{_location(out)[1]}/{MODEL_DIR}")
    fs, root = _prepare_out(str(out), overwrite)
    threads = sum(client.nthreads().values())
    if partitions is None:
        partitions = max(2 * threads, math.ceil(len(tables["merchants"]) / MERCHANTS_PER_PARTITION))
    if as_of is None:
        as_of = str(tables["monthly_activity"]["month"].astype(str).max().compute())
    blocked = blocked_ids(data, as_of, frozen) if offers else ()
    pipeline = dict(client=client, loaded=loaded, train=train, today=today, as_of=as_of, explain=explain,
                    catalog=catalog, include_features=include_features, blocked=blocked, root=root)
    parts, bounds = partitioned_tables(data, tables, partitions)
    log.info("book %s: %d partitions (%s) on %d worker threads, as of %s", data, partitions,
             "shuffled by merchant" if bounds is None else "merchant ranges", threads, as_of)
    try:
        loaded = _score_and_write(parts, **pipeline)
    except (UnplainIds, SchemaError) as exc:
        # A range cannot hold an id with spaces or invisible characters beside its stripped form, which
        # the validation compares: then the report is that of the shuffle by the stripped id.
        if bounds is None or not (isinstance(exc, UnplainIds) or not ranges_plain(client, data, tables, bounds)):
            raise
        log.info("book %s: an id with spaces or invisible characters; partitions shuffled by the stripped id", data)
        for part in fs.glob(f"{root}/part-*.parquet"):
            fs.rm(part)
        bounds = None
        loaded = _score_and_write(partitioned_tables(data, tables, partitions, ranges=False)[0], **pipeline)
    if model_dir is not None:
        loaded.save(model_dir)
    rows, files = _rows_written(fs, root)
    result = BatchResult(
        out=root, rows=rows, partitions=files, workers=len(client.nthreads()), threads=threads,
        model_version=loaded.version, model_dir=model_dir, trained=train, as_of=as_of, explain=explain,
        offers=offers, seconds=round(time.perf_counter() - started, 3),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"), blocked=len(blocked),
        partitioned_by="shuffle" if bounds is None else "ranges")
    with fs.open(f"{root}/{SUCCESS_FILE}", "w") as fh:
        fh.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    log.info("wrote %d merchants in %d partitions to %s in %.1f s", rows, files, out, result.seconds)
    return result


def _score_and_write(parts: dict[str, Any], *, client: Any, loaded: Any, train: bool, today: date, as_of: str,
                     explain: bool, catalog: Any, include_features: bool, blocked: tuple[str, ...], root: str) -> Any:
    """Train (with ``train``) and score the partitioned tables, one Parquet file per partition under
    ``root``; the model used."""
    import dask.dataframe as dd

    from ._partition import output_meta, score_partition

    if train:
        from .train import train_on_cluster

        persisted = client.persist([parts["merchants"], parts["monthly_activity"]])
        parts["merchants"], parts["monthly_activity"] = persisted
        loaded = train_on_cluster(client, parts["merchants"], parts["monthly_activity"], parts["outcomes"],
                                  today=today)
    meta = output_meta(loaded, explain=explain, products=catalog, include_features=include_features)
    scored = dd.map_partitions(
        score_partition, parts["merchants"], parts["monthly_activity"], booster_text=loaded.booster_text,
        card=loaded.card, as_of=as_of, today=today, explain=explain, products=catalog,
        include_features=include_features, blocked=blocked, like=meta, meta=meta, align_dataframes=False)
    scored.to_parquet(root, write_index=False, name_function=_PART.format, write_metadata_file=False)
    return loaded


def _local_folder(model_dir: str) -> str:
    """Where a trained model goes: a local folder (models are read and written with local paths)."""
    from fsspec.implementations.local import LocalFileSystem

    fs, root = _location(model_dir)
    if not isinstance(fs, LocalFileSystem):
        raise ConfigError(f"a trained model is saved to a local folder; give --model DIR (got {model_dir})")
    return root


# ------------------------------------------------------------------ command line
