"""``python -m cb_core ...``: the engine from the command line.

Exit codes: 0 success, 2 bad input (the report goes to stderr), 1 anything unexpected.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ..access import ROLES, can, roles_with
from ..errors import CBError, SchemaError
from . import batch, bench, db, loans, policy, report, score


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from ..data import write_book
    from ..loans import with_demo_loans
    from ..synth import generate_book

    started = time.perf_counter()
    book = generate_book(args.merchants, args.months, args.seed, args.end_month)
    seconds = {"generate": time.perf_counter() - started}
    if not args.no_loans:
        book = with_demo_loans(book, args.seed)
        seconds["loans"] = time.perf_counter() - started - seconds["generate"]
    out = write_book(book, Path(args.out), fmt=args.format)
    seconds["total"] = time.perf_counter() - started
    print(json.dumps({"out": str(out), "merchants": len(book.merchants), "activity_rows": len(book.activity),
                      "outcome_rows": 0 if book.outcomes is None else len(book.outcomes),
                      "bureau_history_rows": 0 if book.bureau_history is None else len(book.bureau_history),
                      "loans": 0 if book.loans is None else len(book.loans),
                      "fingerprint": book.fingerprint,
                      "seconds": {k: round(v, 2) for k, v in seconds.items()}}, ensure_ascii=False))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..data import open_book

    book, checked = open_book(args.source)
    print(json.dumps({"valid": True, "validation": checked, "source": book.source, "merchants": len(book.merchants),
                      "activity_rows": len(book.activity),
                      "outcome_rows": 0 if book.outcomes is None else len(book.outcomes),
                      "loans": 0 if book.loans is None else len(book.loans),
                      "last_month": book.last_month, "fingerprint": book.fingerprint}, ensure_ascii=False))
    return 0


def _read_table(path: Path):
    from ..data import read_table

    return read_table(path)  # the reader books use: UTF-8 or CP949 CSV, or Parquet


def _constraints_catalog(path: str | None, columns) -> dict:
    """Monotone constraints for a bring-your-own table: none unless ``--constraints FILE`` (a JSON
    object ``{"column": 1 | -1 | 0}``, +1 = a higher value means more risk) names them; the
    merchant catalog's constraints are for merchant books only."""
    from ..data import FeatureSpec
    from ..errors import ConfigError

    if not path:
        return {}
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--constraints {path}: cannot read a JSON object: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"--constraints {path} must hold a JSON object {{column: 1, -1 or 0}}; got {type(raw).__name__}")
    bad = {k: v for k, v in raw.items() if k not in columns or v not in (-1, 0, 1) or isinstance(v, bool)}
    if bad:
        raise ConfigError(f"--constraints {path}: each key must be a feature column and each value 1, -1 or 0; got "
                          f"{bad}")
    return {k: FeatureSpec(name=k, kind="numeric", unit="", risk_direction=int(v), source="table", sensitive=False,
                           actionable=False, info_group="", label_ko=k, label_en=k, description_ko="",
                           description_en="", reason_ko=f"{k} 항목이 점수를 낮췄습니다",
                           reason_en=f"{k} lowered the score") for k, v in raw.items()}


def _target(table, column: str, bad_value: str | None):
    """The 0/1 outcome: ``--bad-value`` marks the bad rows of a text target ('bad', 'yes', ...)."""
    import pandas as pd

    from ..errors import ConfigError

    values = table[column]
    if bad_value is None:
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().sum() != values.notna().sum():
            raise ConfigError(f"--target {column} must be 0/1; got values like "
                              f"{sorted(values.dropna().astype(str).unique().tolist())[:5]}: give --bad-value VALUE "
                              "for a text outcome")
        return numbers
    text = values.astype(str).str.strip()
    if values.isna().any():
        raise ConfigError(f"--target {column} must not be missing; got {int(values.isna().sum())} missing")
    if not (text == bad_value).any():
        raise ConfigError(f"--bad-value {bad_value!r} does not occur in {column}; its values are "
                          f"{sorted(text.unique().tolist())[:10]}")
    return (text == bad_value).astype(int)


def _metrics_line(model) -> str:
    """The test window's (or the outer folds') metrics, and the rows and bads of each window."""
    keys = ("auc", "gini", "ks", "brier", "ece", "oracle_auc")
    metrics = {k: round(float(model.card["metrics"][k]), 6) for k in keys if model.card["metrics"].get(k) is not None}
    validation = model.card["validation"]
    windows = {w: {k: validation[w][k] for k in ("periods", "rows", "bads")}
               for w in ("train", "valid", "test") if w in validation}
    extra = {}
    if "outcome_maturity" in validation:
        extra["immature_outcome_rows"] = validation["outcome_maturity"]["immature_rows"]
    if "point_in_time" in validation:
        extra["not_point_in_time"] = validation["point_in_time"]["static_features"]
        extra["static_features_used"] = validation["point_in_time"]["used"]
    return json.dumps({**metrics, "version": model.version, "validation": validation["method"], "windows": windows,
                       **extra}, ensure_ascii=False)


def _cmd_train(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..model import save_bundle

    if bool(args.data) == bool(args.table):
        raise ConfigError("give exactly one of --data DIR (a merchant book) or --table FILE (a feature table)")
    if args.data:
        from ..model import train_with_report
        from ..data import read_book

        model, report = train_with_report(read_book(args.data), exclude_sensitive=args.exclude_sensitive,
                                          seed=args.seed, allow_static=args.allow_static)
    else:
        from ..model import train_model

        if not args.target:
            raise ConfigError("--table needs --target COL (the 0/1 outcome column)")
        from ..model import typed_table

        table = _read_table(Path(args.table))
        needed = [c for c in (args.target, args.id, args.time) if c]
        missing = [c for c in needed if c not in table.columns]
        if missing:
            raise ConfigError(f"{args.table}: no column(s) {', '.join(missing)}; columns are {', '.join(map(str, table.columns))}")
        if args.id:
            table = table.set_index(table[args.id].astype(str))
        X = typed_table(table.drop(columns=needed))
        model = train_model(X, _target(table, args.target, args.bad_value),
                            time=table[args.time] if args.time else None,
                            groups=table[args.id] if args.id and args.time else None,
                            catalog=_constraints_catalog(args.constraints, X.columns),
                            exclude_sensitive=args.exclude_sensitive, seed=args.seed, n_folds=args.folds)
        report = None
    save_bundle(model, report, Path(args.out))
    print(_metrics_line(model))
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from ..data import feature_catalog
    from ..model import load_model
    from ..model import check_book_features

    # Everything is checked before anything is written: a bad folder never becomes the model in use.
    model = load_model(args.folder)
    check_book_features(model.card["features"], feature_catalog(), str(args.folder))
    out = {"valid": True, "model": model.version, "features": len(model.features)}
    if args.model_command == "install":
        from ..workspace import current_model_dir, install_model

        previous = current_model_dir()
        out.update(installed=str(install_model(model)), previous=None if previous is None else previous.name)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _cmd_products(args: argparse.Namespace) -> int:
    from ..offers import load_products, products_to_records

    products = load_products(args.file)  # checked before the store is opened: a bad file changes nothing
    out = {"valid": True, "products": len(products), "product_ids": products["product_id"].tolist()}
    if args.products_command == "install":
        from ..store import Store

        store = Store(args.database_url or None)
        try:
            user = store.get_user(args.user)
            if user is not None and not can(user.role, "edit_products"):
                from ..errors import AuthError

                raise AuthError(f"user {args.user!r} is a {user.role}; only {' and '.join(roles_with('edit_products'))} "
                                "users may change the product catalog")
            current = store.current_products()
            out["version"] = store.save_products(products_to_records(products), args.user,
                                                 None if current is None else current[0])
        finally:
            store.close()
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _cmd_users(args: argparse.Namespace) -> int:
    from ..store import Store

    store = Store(args.database_url or None)
    try:
        if args.users_command == "add":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
            if args.password_stdin and not password:
                from ..errors import ConfigError

                raise ConfigError("--password-stdin was given but standard input had no password")
            user, generated = store.add_user(args.name, args.role, partner=args.partner, password=password,
                                             actor="cli")
            print(json.dumps({"user": user.name, "role": user.role, "partner": user.partner}, ensure_ascii=False))
            if generated:
                print(f"password (shown once): {generated}")
        elif args.users_command == "list":
            for u in store.list_users():
                print(json.dumps({"user": u.name, "role": u.role, "partner": u.partner, "disabled": u.disabled,
                                  "locked_until": u.locked_until.isoformat() if u.locked_until else None},
                                 ensure_ascii=False))
        elif args.users_command == "disable":
            store.disable_user(args.name, actor="cli")
            print(json.dumps({"user": args.name, "disabled": True}))
        elif args.users_command == "unlock":
            store.unlock_user(args.name, actor="cli")
            print(json.dumps({"user": args.name, "locked_until": None}))
        elif args.users_command == "reset-password":
            print(f"new password for {args.name} (shown once): {store.reset_password(args.name, actor='cli')}")
        elif args.users_command == "ensure-admin":
            created = store.ensure_first_admin()
            if created:
                print(f"first start: created user '{created[0].name}' (admin), password (shown once): {created[1]}")
    finally:
        store.close()
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
    p.add_argument("--no-loans", action="store_true", help="leave out the booked loans (loans, loan_months)")
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("validate", help="validate a book folder (CSV or Parquet) or a SQLAlchemy URL")
    p.add_argument("source", help="folder with merchants / monthly_activity / outcomes files, or a URL")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("train", help="train a model on a merchant book or on any labelled feature table")
    p.add_argument("--data", help="merchant book folder (with an outcomes table)")
    p.add_argument("--table", help="feature table (CSV/Parquet) with an outcome column")
    p.add_argument("--target", help="0/1 outcome column of --table (1 = default)")
    p.add_argument("--id", help="id column of --table (not a feature)")
    p.add_argument("--time", help="period column of --table (numbers, dates or YYYY-MM, in their real order): "
                                  "train on the earliest periods, early-stop and calibrate on the next, report on "
                                  "the latest; without it, nested cross-validation")
    p.add_argument("--bad-value", help="value of a text --target that marks a bad (e.g. bad, yes); other values are good")
    p.add_argument("--constraints", help="JSON file {column: 1|-1|0} of monotone constraints for --table "
                                         "(+1: a higher value means more risk); without it a table gets none")
    p.add_argument("--folds", type=int, default=5, help="outer folds of nested cross-validation (--table without --time)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the folds and of LightGBM")
    p.add_argument("--exclude-sensitive", action="store_true", help="train without features flagged sensitive")
    p.add_argument("--allow-static", action="store_true",
                   help="--data: also train on merchant fields that are not point-in-time (today's bureau score, "
                        "credit card and region income for past snapshots; without a bureau_history table)")
    p.add_argument("--out", required=True, help="model folder to write")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("model", help="check a model folder, or check it and make it the model in use")
    models = p.add_subparsers(dest="model_command", required=True)
    for name, text in (("validate", "check that a model folder loads and fits the merchant book's features"),
                       ("install", "check a model folder, then make it the model in use (state folder)")):
        m = models.add_parser(name, help=text)
        m.add_argument("folder", help="model folder (booster.txt and card.json)")
    p.set_defaults(func=_cmd_model)

    p = sub.add_parser("products", help="check a partner product catalog file, or check it and save it as the "
                                        "catalog in use")
    products = p.add_subparsers(dest="products_command", required=True)
    m = products.add_parser("validate", help="check a catalog JSON file (every problem listed)")
    m.add_argument("file", help="catalog JSON file (a list of products, as data/loan_products.json)")
    m = products.add_parser("install", help="check a catalog JSON file, then save it as the next catalog version")
    m.add_argument("file", help="catalog JSON file (a list of products, as data/loan_products.json)")
    m.add_argument("--user", required=True, help="the app user (pm or admin) the new version is recorded under")
    m.add_argument("--database-url", help="SQLAlchemy URL (default: CB_DATABASE_URL or the SQLite file in the "
                                          "state folder)")
    p.set_defaults(func=_cmd_products)

    p = sub.add_parser("users", help="manage app users (stored with argon2 hashes)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: CB_DATABASE_URL or the SQLite file in the state folder)")
    users = p.add_subparsers(dest="users_command", required=True)
    u = users.add_parser("add", help="add a user; without --password-stdin a random password is printed once")
    u.add_argument("name")
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--partner", help="the partner a partner user belongs to")
    u.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (at least 10 characters, not a common password, "
                        "not containing the user name)")
    users.add_parser("list", help="list users")
    u = users.add_parser("disable", help="disable a user (its sessions end)")
    u.add_argument("name")
    u = users.add_parser("unlock", help="end a login lock after failed logins at once")
    u.add_argument("name")
    u = users.add_parser("reset-password", help="set a new random password, printed once")
    u.add_argument("name")
    users.add_parser("ensure-admin", help="on an empty store, create 'admin' with a random password printed once")
    p.set_defaults(func=_cmd_users)

    db.add_parser(sub)
    policy.add_parser(sub)
    batch.add_parser(sub)
    bench.add_parser(sub)
    loans.add_parsers(sub)
    report.add_parser(sub)
    score.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except SchemaError as exc:
        print(str(exc), file=sys.stderr)  # the report as raised: it names the source
        return 2
    except CBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
