"""The load run's state folder (a seeded demo book and its model), users and server: the app started
through bench/serve.py, with the memory and CPU of its process tree (psutil, loaded when measured)."""
from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..serve import StreamlitServer
from .records import PASSWORD, Users


def install_state(folder: Path, book, trained) -> None:
    """Make ``book`` and the trained ``(model, report)`` the state folder's current book and model."""
    from cb_core.config import get_settings
    from cb_core.data.sources import save_current
    from cb_core.workspace import install_model

    save_current(book, folder)
    install_model(*trained, settings=get_settings(state_dir=str(folder)))


def build_state(folder: Path, merchants: int, months: int, seed: int):
    """A seeded demo book and a model trained on it, installed in ``folder``; returns the book."""
    from cb_core.model.report import train_with_report
    from cb_core.synth.generate import generate_book

    book = generate_book(merchants, months, seed=seed)
    install_state(folder, book, train_with_report(book))
    return book


def database_url(folder: Path, database: str) -> str:
    """``sqlite`` = the state folder's SQLite file; anything else is taken as a SQLAlchemy URL."""
    return f"sqlite:///{folder / 'cb.sqlite'}" if database == "sqlite" else database


def create_users(url: str, officers: int, pms: int) -> Users:
    """``officer01..`` (officer), ``pm1..`` (pm) and ``rss_admin`` (admin), all with PASSWORD."""
    from cb_core.store import Store

    users = Users(tuple(f"officer{i:02d}" for i in range(1, officers + 1)), tuple(f"pm{i}" for i in range(1, pms + 1)))
    with Store(url) as store:
        for name in users.all:
            role = "officer" if name in users.officers else "pm" if name in users.pms else "admin"
            store.add_user(name, role, password=PASSWORD)
    return users


def pick_merchants(book, n: int, seed: int) -> list[str]:
    """``n`` merchants whose id typed into the search box selects exactly that merchant."""
    from cb_core.explain.review import find_merchants

    ids = book.merchants["merchant_id"].tolist()
    random.Random(seed).shuffle(ids)
    chosen = []
    for merchant_id in ids:
        if find_merchants(book.merchants, merchant_id)["merchant_id"].iloc[0] == merchant_id:
            chosen.append(merchant_id)
        if len(chosen) == n:
            break
    return chosen



@dataclass
class Server:
    """The running app server of a load run: its base URL, process id and log."""

    url: str
    pid: int
    log_path: Path

    def rss_mib(self) -> float:
        """Resident memory of the server process and all its children, MiB."""
        return _tree_sum(self.pid, lambda p: p.memory_info().rss) / 2**20

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process and its children used so far."""
        return _tree_sum(self.pid, _cpu)


def _cpu(p) -> float:
    t = p.cpu_times()
    return t.user + t.system


def _tree_sum(pid: int, measure: Callable) -> float:
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in (root, *root.children(recursive=True)):
        try:
            total += measure(p)
        except psutil.NoSuchProcess:
            pass
    return total


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children: measured around a browser phase, the driver,
    Playwright's node process and Chromium (they have exited and were reaped; the server is still running)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system



@contextmanager
def load_server(state: Path, url: str, timeout_s: float = 90) -> Iterator[Server]:
    """A real ``streamlit run app.py`` on 127.0.0.1 over ``state`` and the database at ``url``."""
    with StreamlitServer(state, env=dict(os.environ, CB_DATABASE_URL=url), timeout=timeout_s) as server:
        yield Server(server.url, server.pid, server.log_path)


__all__ = ["Server", "build_state", "create_users", "database_url", "install_state", "load_server", "own_cpu_seconds",
           "pick_merchants"]
