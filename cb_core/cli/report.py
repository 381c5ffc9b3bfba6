"""``python -m cb_core report validation``: documents built by :mod:`cb_core.reports` from a book and a model."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``report`` command group on the subparsers of ``python -m cb_core``."""
    p = sub.add_parser("report", help="write a document for people outside the platform (HTML)")
    kinds = p.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    v = kinds.add_parser("validation", help="the model validation pack with the booked book's performance "
                                            "(self-contained, printable HTML, personal data masked)")
    v.add_argument("--data", required=True, help="book folder or URL with loans and loan_months")
    v.add_argument("--model", required=True, help="model folder (card.json, booster.txt; its report files if saved)")
    v.add_argument("--out", required=True, help="output .html file")
    v.add_argument("--lang", default="ko", choices=("ko", "en"), help="language of the document (default ko)")
    v.add_argument("--bad", default="dpd_90", choices=("dpd_30", "dpd_60", "dpd_90", "charge_off", "bad"),
                   help="delinquency definition of the vintages (default dpd_90)")
    v.set_defaults(func=_cmd_validation)


def _cmd_validation(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from ..data import read_book
    from ..diskio import write_text_atomic
    from ..errors import ConfigError
    from ..model import load_model
    from ..reports import validation_pack_html, validation_tables
    from ..workspace import model_report_data

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out must end in .html; got {out.name}")
    model = load_model(args.model)  # names the file when the folder is not a model
    book = read_book(args.data)
    tables = validation_tables(book, model, model_report_data(Path(args.model)), bad=args.bad)
    page = validation_pack_html(tables, lang=args.lang, generated_at=datetime.now(timezone.utc))
    write_text_atomic(out, page, "the validation pack")
    print(json.dumps({"out": str(out), "lang": args.lang, "model": model.version, "loans": tables.loans,
                      "lights": tables.backtest["light"].value_counts().to_dict(),
                      "months_scored": len(tables.score_psi)}, ensure_ascii=False))
    return 0
