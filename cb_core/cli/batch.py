"""``python -m cb_core batch``: the scoring pipeline over a Dask cluster (:mod:`cb_core.batch`)."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    """Register ``batch`` on the subparsers of ``python -m cb_core``."""
    from ..batch import MERCHANTS_PER_PARTITION

    p = sub.add_parser("batch", help="score a book on a Dask cluster; Parquet partitions and _SUCCESS out")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--data", required=True, help="book folder or URL (merchants, monthly_activity[, outcomes])")
    p.add_argument("--out", required=True, help="output folder or URL for the Parquet partitions")
    p.add_argument("--model", help="model folder to score with; with --train, where to save the model")
    p.add_argument("--train", action="store_true", help="train with lightgbm.dask on the cluster first")
    p.add_argument("--explain", action="store_true", help="add base_points and points__<feature> columns")
    p.add_argument("--no-offers", action="store_true", help="leave out the offer columns")
    p.add_argument("--products", help="product catalog JSON (default: the shipped catalog)")
    p.add_argument("--features", action="store_true", help="add the snapshot's feature columns")
    p.add_argument("--partitions", type=int, help=f"partitions (default: merchants / {MERCHANTS_PER_PARTITION:,}, "
                                                  "at least 2 per worker thread)")
    p.add_argument("--as-of", help="snapshot month YYYY-MM (default: the book's last month)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier batch output in --out")
    p.add_argument("--frozen-from-store", action="store_true",
                   help="also give no offer to merchants frozen on the Watch-list (read from the app database); "
                        "merchants with an overdue open loan in the book never get one")
    p.set_defaults(func=_cmd_batch)


def _cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import run_batch

    frozen: tuple[str, ...] = ()
    if args.frozen_from_store:
        from ..store import Store

        with Store() as store:
            frozen = tuple(store.frozen_merchants())
    result = run_batch(args.data, args.out, model=args.model, train=args.train, scheduler=args.scheduler,
                       workers=args.workers, explain=args.explain, offers=not args.no_offers,
                       products=args.products, partitions=args.partitions, as_of=args.as_of,
                       include_features=args.features, overwrite=args.overwrite, frozen=frozen)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0
