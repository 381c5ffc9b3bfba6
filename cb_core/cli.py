"""``python -m cb_core ...``: the engine from the command line.

Exit codes: 0 success, 2 bad input (the report goes to stderr), 1 anything unexpected.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .errors import CBError, SchemaError


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from .sources import write_book
    from .synth import generate_book

    book = generate_book(args.merchants, args.months, args.seed, args.end_month)
    out = write_book(book, Path(args.out), fmt=args.format)
    print(json.dumps({"out": str(out), "merchants": len(book.merchants), "activity_rows": len(book.activity),
                      "outcome_rows": 0 if book.outcomes is None else len(book.outcomes),
                      "fingerprint": book.fingerprint}, ensure_ascii=False))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .sources import read_book

    book = read_book(args.source)
    print(json.dumps({"valid": True, "source": book.source, "merchants": len(book.merchants),
                      "activity_rows": len(book.activity),
                      "outcome_rows": 0 if book.outcomes is None else len(book.outcomes),
                      "last_month": book.last_month, "fingerprint": book.fingerprint}, ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cb_core", description="Merchant CB engine")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo-data", help="write a reproducible synthetic merchant book")
    p.add_argument("--merchants", type=int, default=20_000)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end-month", default="2026-10", help="last month of activity, YYYY-MM")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("validate", help="validate a book folder (CSV or Parquet) or a SQLAlchemy URL")
    p.add_argument("source", help="folder with merchants / monthly_activity / outcomes files, or a URL")
    p.set_defaults(func=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except SchemaError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except CBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
