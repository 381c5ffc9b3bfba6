"""``python -m cb_core vintages | backtest | watchlist``: booked-loan analytics (:mod:`cb_core.loans`)."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_parsers(sub: Any) -> None:
    """Register the booked-loan commands on the subparsers of ``python -m cb_core``."""
    p = sub.add_parser("vintages", help="cumulative bad rate by months on book for each booking cohort")
    p.add_argument("--data", required=True, help="book folder or URL with loans and loan_months")
    p.add_argument("--out", required=True, help="output .csv or .parquet (cohort, group, mob, loans, bads, "
                                                "cum_bad_rate)")
    p.add_argument("--by", choices=("grade", "partner", "product", "category"), help="group the cohorts")
    p.add_argument("--bad", default="dpd_90", choices=("dpd_30", "dpd_60", "dpd_90", "charge_off", "bad"),
                   help="delinquency definition of the registry (default dpd_90)")
    p.set_defaults(func=_cmd_vintages)

    p = sub.add_parser("backtest", help="predicted PD at booking against the observed 12-month bad rate by grade")
    p.add_argument("--data", required=True, help="book folder or URL with loans and loan_months")
    p.add_argument("--model", help="model folder: test its PD re-scored at each booking month instead of the PD "
                                   "recorded at booking")
    p.add_argument("--out", required=True, help="output .csv or .parquet (grade, loans, predicted_pd, "
                                                "observed_bad_rate, ci_low, ci_high, light)")
    p.set_defaults(func=_cmd_backtest)

    p = sub.add_parser("watchlist", help="open loans flagged by early-warning triggers")
    p.add_argument("--data", required=True, help="book folder or URL with loans and loan_months")
    p.add_argument("--model", required=True, help="model folder (re-scores merchants for the grade trigger)")
    p.add_argument("--as-of", help="month YYYY-MM (default: the last month of loan_months)")
    p.add_argument("--out", required=True, help="output .csv or .parquet (loan_id, merchant_id, triggers, "
                                                "severity, months_since_booking, balance_krw)")
    p.set_defaults(func=_cmd_watchlist)


def _write(frame, out: str, **summary: Any) -> int:
    from ..diskio import write_frame_atomic
    from ._out import table_out

    write_frame_atomic(frame, table_out(out), "the output", index=False)
    print(json.dumps({"out": out, "rows": len(frame), **summary}, ensure_ascii=False))
    return 0


def _cmd_vintages(args: argparse.Namespace) -> int:
    from ..data import open_book
    from ..loans import definition, vintages

    book, checked = open_book(args.data)
    table = vintages(book, by=args.by, bad=args.bad)
    return _write(table, args.out, definition=definition(args.bad).label("en"), validation=checked)


def _cmd_backtest(args: argparse.Namespace) -> int:
    from ..data import open_book
    from ..loans import backtest, pd_at_booking

    book, checked = open_book(args.data)
    predicted = None
    if args.model:
        from ..model import load_model

        predicted = pd_at_booking(book, load_model(args.model))
    table = backtest(book, predicted=predicted)
    return _write(table, args.out, predicted="model" if args.model else "pd_at_booking",
                  lights=table["light"].value_counts().to_dict(), validation=checked)


def _cmd_watchlist(args: argparse.Namespace) -> int:
    from ..data import open_book
    from ..loans import watchlist
    from ..model import load_model

    book, checked = open_book(args.data)
    table = watchlist(book, load_model(args.model), as_of=args.as_of)
    return _write(table, args.out, severity=table["severity"].value_counts().to_dict(), validation=checked)
