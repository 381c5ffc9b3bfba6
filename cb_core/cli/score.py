"""``python -m cb_core score``: a book (or a feature table) scored with a model folder, optionally explained.

The installed book scored to Parquet takes a path without pandas (Arrow and numpy: :func:`cb_core.features.current_columns`,
:func:`cb_core.explain.score_columns`); anything else goes through frames, with the same values.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``score`` command on the subparsers of ``python -m cb_core``."""
    p = sub.add_parser("score", help="score a book (or a feature table) with a model folder")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="merchant book folder, or a feature table file")
    p.add_argument("--id", help="id column when --data is a feature table")
    p.add_argument("--as-of", help="snapshot month YYYY-MM (default: the book's last month)")
    p.add_argument("--out", required=True, help="output .csv or .parquet")
    p.add_argument("--explain", action="store_true", help="add base_points and points__<feature> columns")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from ..model import load_model
    from ..explain import kernels_beside, score_columns, score_frame
    from ..features import FeatureColumns, current_columns, current_snapshot

    from ._out import table_out

    out = table_out(args.out)  # before any work: a 1,000,000-merchant score takes 10 s
    model = load_model(args.model)
    source = Path(args.data)
    checked = loading = None
    if source.is_file():
        from ..data import read_table
        from ..model import typed_table

        table = read_table(source)
        features = typed_table(table.set_index(args.id) if args.id else table)
    else:
        from ..data import open_book

        book, checked = open_book(source)

        def beside(rows: int):  # the kernels load while the features are computed, not after
            return kernels_beside(model, rows, explain=args.explain, lean=True)

        # the installed book, scored to Parquet: Arrow and numpy only, no pandas (0.25 s at 50,000 merchants)
        columns = current_columns(book, args.as_of, then=beside) if _parquet_out(args) else None
        if columns is not None:
            features, loading = columns
        else:
            loading = beside(len(book.merchants))
            features = current_snapshot(book, args.as_of)
        del book  # the book's tables (GBs at 1M merchants) are not needed past the snapshot
        import pyarrow as pa

        pa.default_memory_pool().release_unused()  # their Arrow buffers go back to the system now
    model.check_features(features)
    if loading is not None:
        loading.join()  # its kernels are the scoring's (and nothing imports scipy.linalg while it loads them)
    if isinstance(features, FeatureColumns):
        _write_columns(features.index, score_columns(model, features, explain=args.explain), out)
        rows = len(features)
    else:
        scores = score_frame(model, features, explain=args.explain)
        del features
        scores.index.name = args.id or "merchant_id"
        _write_table(scores.reset_index(), out)
        rows = len(scores)
    print(json.dumps({"out": args.out, "rows": rows, "model": model.version,
                      **({"validation": checked} if checked else {})}, ensure_ascii=False))
    return 0


def _parquet_out(args: argparse.Namespace) -> bool:
    return Path(args.out).suffix.lower() == ".parquet" and not args.id


def _write_columns(ids, columns: dict, path: Path) -> None:
    """:func:`_write_table` of a score's arrays (:func:`cb_core.explain.score_columns`) with the merchants' ids
    (Arrow) first: the table pandas would write of the same frame, without pandas."""
    import pyarrow as pa

    from ..data import numpy_to_arrow
    from ..diskio import write_frame_atomic

    table = pa.Table.from_arrays([ids, *map(numpy_to_arrow, columns.values())], names=["merchant_id", *columns])
    write_frame_atomic(table, path, "the output")


def _write_table(frame, path: Path) -> None:
    from ..diskio import write_frame_atomic

    write_frame_atomic(frame, path, "the output", index=False)
