"""``python -m bench.load ...``: the command line of the load run (bench/load/__init__.py)."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..results import chromium_version, machine_facts
from ..serve import ROOT
from . import __doc__ as PACKAGE_DOC
from .report import PACKAGES, Outcome, load_avg, report_section
from .sessions import assign_merchants, rss_run, run_load, warm_up
from .state import build_state, create_users, database_url, load_server, own_cpu_seconds, pick_merchants
from .verify import Verification, verify

log = logging.getLogger("bench.load")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=PACKAGE_DOC.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--officers", type=int, default=20)
    p.add_argument("--pms", type=int, default=2)
    p.add_argument("--decisions-per-officer", type=int, default=3)
    p.add_argument("--publish-rounds", type=int, default=3)
    p.add_argument("--rss-loads", type=int, default=500, help="page loads of the memory session (0: skip)")
    p.add_argument("--rss-every", type=int, default=25)
    p.add_argument("--reload-every", type=int, default=100, help="memory session: reload and sign in every N loads")
    p.add_argument("--database", default="sqlite", help="sqlite (state folder file) or an empty database's URL")
    p.add_argument("--merchants", type=int, default=1500, help="demo book size")
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--timeout", type=float, default=180, help="seconds one action may take before it fails")
    p.add_argument("--workdir", type=Path, help="state folder parent (system temp by default; removed afterwards)")
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    p.add_argument("--no-results", action="store_true", help="print the section, do not append it")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.load ...``; returns 1 when any session saw a problem or a check failed, else 0."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    args = parse_args(argv)
    info, load_start = {**machine_facts(PACKAGES), "chromium": chromium_version()}, load_avg()
    work = Path(tempfile.mkdtemp(prefix="cb-load-", dir=args.workdir))
    try:
        state = work / "state"
        state.mkdir()
        log.info(f"building the demo book ({args.merchants:,} merchants) and its model in {state}")
        book = build_state(state, args.merchants, args.months, args.seed)
        url = database_url(state, args.database)
        users = create_users(url, args.officers, args.pms)
        pool = pick_merchants(book, max(args.officers * args.decisions_per_officer // 2, args.decisions_per_officer),
                              args.seed)
        rss_merchants = pick_merchants(book, 100, args.seed + 1)
        since = datetime.now(timezone.utc)
        with load_server(state, url) as server:
            log.info(f"server {server.url}: warm-up")
            warm = asyncio.run(warm_up(server.url, users.rss, rss_merchants[0]))
            rss_before, server_cpu, own_cpu = server.rss_mib(), server.cpu_seconds(), own_cpu_seconds()
            log.info(f"{len(users.officers)} officers and {len(users.pms)} product managers at once")
            run = asyncio.run(run_load(server.url, users, assign_merchants(users, pool, args.decisions_per_officer,
                                                                           args.seed),
                                       publish_rounds=args.publish_rounds, run_id=f"{since:%H%M%S}",
                                       seed=args.seed, timeout_s=args.timeout))
            outcome = Outcome(run, Verification({}, []), warm, rss_before, server.rss_mib(),
                              server_cpu=server.cpu_seconds() - server_cpu, browser_cpu=own_cpu_seconds() - own_cpu)
            log.info(f"concurrent phase done in {run.seconds:.0f} s")
            if args.rss_loads:
                outcome.samples, outcome.rss_log = asyncio.run(rss_run(
                    server, users.rss, rss_merchants, args.rss_loads, args.rss_every, args.reload_every, args.timeout))
        extra = warm.sign_ins + (outcome.rss_log.sign_ins if outcome.rss_log else 0)
        outcome.check = verify(url, users, run, since, extra_sign_ins=extra)
        backend = "SQLite" if args.database == "sqlite" else {"postgresql": "PostgreSQL"}.get(
            url.split(":", 1)[0].split("+")[0], url.split(":", 1)[0])
        section = report_section(args, info, (load_start, load_avg()), backend, len(pool), outcome)
        print(section)
        print(json.dumps(outcome.check.counts))
        if not args.no_results:
            with open(args.results, "a", encoding="utf-8") as out:
                out.write("\n" + section)  # one write: other runs append their sections too
        for problem in outcome.problems:
            log.error("problem: %s", problem)
        return 1 if outcome.problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["main", "parse_args"]
