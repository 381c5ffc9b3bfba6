"""Every setting acts: for each row of ``cb_core.config.SETTINGS``, the engine run under two values
gives two different outcomes, each checked against what the value should do, computed here by hand.

Values reach the engine the way an operator sets them, as ``CB_<NAME>`` environment variables, and
the engine is called without a settings argument (it reads :func:`get_settings` itself), except
where the entry point takes the settings object. A setting added to the table without a case here
fails :func:`test_setting_changes_behaviour`: show what it changes, or remove it.
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from cb_core.config import SETTINGS, Settings, get_settings
from cb_core.errors import ConfigError, DataSourceError, SchemaError
from tests.support.books import TODAY, good_tables
from tests.support.store import FAST_HASHER, PASSWORD, T0

# one thread: on a busy 2-core machine two OpenMP threads can make LightGBM 100x slower
FAST = {"learning_rate": 0.1, "num_boost_round": 60, "early_stopping_rounds": 10, "num_threads": 1}
MB = 1024 * 1024


@dataclass
class Run:
    """What a case needs: ``under(**values)`` sets the environment and returns the settings."""

    under: Callable[..., Settings]
    tmp_path: Path
    fixture: Callable[[str], Any]


CASES: dict[str, Callable[[Run], None]] = {}


def case(*names: str) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    def register(check: Callable[[Run], None]) -> Callable[[Run], None]:
        for name in names:
            CASES[name] = lambda run, check=check, name=name: check(run, name)
        return check
    return register


@pytest.fixture
def run(monkeypatch, tmp_path, request) -> Run:
    count = iter(range(1_000))

    def under(**values: Any) -> Settings:
        """Only ``values`` set (every other CB_* variable removed), in a fresh state folder unless given."""
        for s in SETTINGS:
            monkeypatch.delenv(f"CB_{s.name.upper()}", raising=False)
        values.setdefault("state_dir", tmp_path / f"state{next(count)}")
        for name, value in values.items():
            monkeypatch.setenv(f"CB_{name.upper()}", str(value))
        settings = get_settings()
        for name, value in values.items():
            assert str(getattr(settings, name)) == str(value)
        return settings

    return Run(under, tmp_path, request.getfixturevalue)


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_setting_changes_behaviour(name, run):
    if name not in CASES:
        pytest.fail(f"setting {name!r} has no case in {Path(__file__).name}: show what it changes, or remove it "
                    "from cb_core.config")
    CASES[name](run)


def test_every_case_is_a_setting():
    assert set(CASES) - {s.name for s in SETTINGS} == set()


# ------------------------------------------------------------------ fixtures

def scale_table(n: int = 1_200, seed: int = 3) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Catalog features with a known logistic effect, six months of rows: trains in about a second."""
    rng = np.random.default_rng(seed)
    ret, gmv, own = rng.beta(2, 20, n), np.exp(rng.normal(15, 1, n)), rng.normal(0, 1, n)
    y = (rng.random(n) < expit(-2.5 + 12 * (ret - 0.09) - 0.8 * (np.log(gmv) - 15) + 0.3 * own)).astype(int)
    index = pd.Index([f"m{i:05d}" for i in range(n)], name="merchant_id")
    X = pd.DataFrame({"return_rate_6m": ret, "gmv_3m_avg_krw": gmv, "my_signal": own}, index=index)
    time = pd.Series(np.repeat([f"2024-{m:02d}" for m in range(1, 7)], n // 6), index=index, name="month")
    return X, pd.Series(y, index=index, name="defaulted_12m"), time


@pytest.fixture(scope="module")
def table():
    return scale_table()


@pytest.fixture(scope="module")
def default_model(table):
    from cb_core.model.credit_model import train_model
    from cb_core.model.scale import ScoreScale

    X, y, time = table
    return train_model(X, y, time=time, params=FAST, scale=ScoreScale())


def strategy_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "score": [700, 620, 600, 580, 560, 540, 500],
        "pd": [0.01, 0.03, 0.05, 0.08, 0.10, 0.15, 0.25],
        "exposure_krw": [10e6, 8e6, 4e6, 6e6, 2e6, 3e6, 1e6],
    }, index=pd.Index([f"m{i}" for i in range(7)], name="merchant_id"))


# ------------------------------------------------------------------ where things are kept

@case("state_dir")
def _state_dir(run: Run, name: str) -> None:
    from cb_core import workspace
    from cb_core.synth.generate import generate_book

    book = generate_book(40, 6, seed=1)
    first, second = run.tmp_path / "first", run.tmp_path / "second"
    run.under(state_dir=first)
    workspace.install_book(book)
    assert json.loads((first / "current_book.json").read_text(encoding="utf-8"))["fingerprint"] == book.fingerprint
    assert not second.exists()
    run.under(state_dir=second)
    assert workspace.current_book() is None  # nothing installed there yet
    workspace.install_book(book)
    assert workspace.current_fingerprint() == book.fingerprint
    assert (second / "current_book.json").is_file()


@case("database_url")
def _database_url(run: Run, name: str) -> None:
    from cb_core.store import Store, default_url

    first, second = run.tmp_path / "first.sqlite", run.tmp_path / "second.sqlite"
    run.under(database_url=f"sqlite:///{first}")
    with Store(default_url(), password_hasher=FAST_HASHER) as store:
        store.add_user("ann", "officer", password=PASSWORD)
    run.under(database_url=f"sqlite:///{second}")
    with Store(default_url(), password_hasher=FAST_HASHER) as store:
        assert store.get_user("ann") is None
    run.under(database_url=f"sqlite:///{first}")
    with Store(default_url(), password_hasher=FAST_HASHER) as store:
        assert store.get_user("ann").role == "officer"
    assert first.is_file() and second.is_file()
    state = run.tmp_path / "state-default"
    run.under(state_dir=state)  # database_url empty: the SQLite file in the state folder
    assert default_url() == f"sqlite:///{state / 'cb.sqlite'}"


# ------------------------------------------------------------------ the demo book

DEMO = {"demo_merchants": 50, "demo_months": 6, "demo_seed": 7, "demo_end_month": "2026-10"}
DEMO_OTHER = {"demo_merchants": 80, "demo_months": 9, "demo_seed": 8, "demo_end_month": "2025-03"}


@case(*DEMO)
def _demo(run: Run, name: str) -> None:
    from cb_core.loans import with_demo_loans
    from cb_core.synth.generate import generate_book
    from cb_core.workspace import ensure_demo_book

    books = []
    for value in (DEMO[name], DEMO_OTHER[name]):
        values = {**DEMO, name: value}
        settings = run.under(**values)
        book = ensure_demo_book(settings)
        months = sorted(book.activity["month"].astype(str).unique())
        end = pd.Period(values["demo_end_month"], "M")
        assert len(book.merchants) == values["demo_merchants"]
        # the booked loans come along, read back from the state folder (none when none was booked)
        assert (book.loans is None) == (book.loan_months is None)
        assert months == [str(end - k) for k in range(values["demo_months"] - 1, -1, -1)]
        books.append(book)
        if name == "demo_seed":  # the same seed gives the same book, another seed another one
            again = with_demo_loans(generate_book(values["demo_merchants"], values["demo_months"], value,
                                                  values["demo_end_month"]), value)
            assert again.fingerprint == book.fingerprint
    assert books[0].fingerprint != books[1].fingerprint


# ------------------------------------------------------------------ the score scale

SCALE = {"pdo": (40.0, 20.0), "base_score": (600.0, 700.0), "base_odds": (50.0, 10.0)}


@case(*SCALE)
def _scale(run: Run, name: str) -> None:
    """A model trained under a scale setting scores PD by hand-computed PDO scaling, records the scale
    in its card and keeps it when loaded under other settings."""
    from cb_core.model.credit_model import load_model, train_model

    X, y, time = run.fixture("table")
    models = []
    for value in SCALE[name]:
        settings = run.under(**{name: value})
        model = train_model(X, y, time=time, params=FAST)
        factor = settings.pdo / math.log(2)
        offset = settings.base_score - factor * math.log(settings.base_odds)
        pd_ = model.predict_pd(X).to_numpy()
        by_hand = np.clip(offset + factor * np.log((1 - pd_) / pd_), 1, 1000)
        scored = model.score(X)["score"].to_numpy()
        assert np.abs(scored - by_hand).max() <= 0.5 + 1e-6
        assert model.card["scale"] == {"pdo": settings.pdo, "base_score": settings.base_score,
                                       "base_odds": settings.base_odds}
        models.append((model, scored))
    (first, first_scores), (second, second_scores) = models
    assert (first_scores != second_scores).any()
    np.testing.assert_allclose(first.predict_pd(X), second.predict_pd(X))  # same booster, other points
    folder = first.save(run.tmp_path / "model")
    run.under(**{name: SCALE[name][1]})  # the settings change after training
    np.testing.assert_array_equal(load_model(folder).score(X)["score"].to_numpy(), first_scores)


# ------------------------------------------------------------------ loading a book

def _upload(book, folder: Path) -> dict[str, bytes]:
    """A book as the CSV files a user would upload."""
    from cb_core.data.sources import write_book

    write_book(book, folder, "csv")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@case("max_report_rows")
def _max_report_rows(run: Run, name: str) -> None:
    from cb_core.data.schema import validate_tables
    from cb_core.data import read_uploaded

    files = _upload(validate_tables(good_tables(), today=TODAY), run.tmp_path / "book")
    activity = pd.read_csv(io.BytesIO(files["monthly_activity.csv"]), dtype=str, keep_default_na=False)
    activity["gmv_krw"] = "-5"  # every one of the 16 rows breaks the same rule
    files["monthly_activity.csv"] = activity.to_csv(index=False).encode("utf-8")
    for value in (2, 5):
        run.under(max_report_rows=value)
        with pytest.raises(SchemaError) as caught:
            read_uploaded(files, today=TODAY)
        (problem,) = [p for p in caught.value.problems if (p.table, p.column) == ("monthly_activity", "gmv_krw")]
        assert (len(problem.rows), problem.n_rows) == (value, 16)
        assert f"(+{16 - value} more)" in str(problem)


@case("max_upload_mb")
def _max_upload_mb(run: Run, name: str) -> None:
    from cb_core.data import read_uploaded
    from cb_core.synth.generate import generate_book

    files = _upload(generate_book(900, 18, seed=1), run.tmp_path / "book")
    size = len(files["monthly_activity.csv"])
    assert 1 * MB < size < 2 * MB
    run.under(max_upload_mb=1)
    message = (f"upload refused: monthly_activity.csv is {size:,} bytes ({size / MB:.1f} MB); the limit is 1 MB "
               f"(1,048,576 bytes, setting max_upload_mb)")
    with pytest.raises(DataSourceError) as refused:
        read_uploaded(files)
    assert str(refused.value) == message
    with pytest.raises(DataSourceError, match=r"^upload refused: merchants\.csv is 1,048,577 bytes"):
        read_uploaded({"merchants.csv": b"\xff" * (MB + 1)})  # refused for its size before it is parsed
    run.under(max_upload_mb=2)
    assert len(read_uploaded(files).merchants) == 900


# ------------------------------------------------------------------ the policy until one is published

POLICY = {"approve_cutoff": (590.0, 610.0), "refer_cutoff": (550.0, 570.0)}


@case(*POLICY)
def _cutoffs(run: Run, name: str) -> None:
    from cb_core.strategy import Policy, decisions

    frame = strategy_frame()
    outcomes = []
    for value in POLICY[name]:
        settings = run.under(**{name: value})
        got = decisions(frame, Policy.from_settings()).tolist()
        by_hand = ["approve" if s >= settings.approve_cutoff else "refer" if s >= settings.refer_cutoff else "decline"
                   for s in frame["score"]]
        assert got == by_hand
        outcomes.append(got)
    assert outcomes[0] != outcomes[1]


@case("lgd")
def _lgd(run: Run, name: str) -> None:
    from cb_core.strategy import Policy, evaluate

    frame = strategy_frame()
    approved = frame[frame["score"] >= 590]  # the default approve cutoff
    losses = []
    for value in (0.6, 0.25):
        run.under(lgd=value)
        result = evaluate(frame, Policy.from_settings())
        assert result.expected_loss_krw == pytest.approx(value * (approved["pd"] * approved["exposure_krw"]).sum())
        losses.append(result.expected_loss_krw)
    assert losses[0] != losses[1]


# ------------------------------------------------------------------ reason codes

@case("reason_band")
def _reason_band(run: Run, name: str) -> None:
    from cb_core.explain.review import cutoff_reference

    X, _, _ = run.fixture("table")
    model = run.fixture("default_model")
    scores = model.score(X)
    cutoff = float(scores["score"].median())
    references = []
    for value in (5.0, 40.0):
        run.under(reason_band=value)
        reference = cutoff_reference(model, X, scores, cutoff, sample=len(X))
        s = scores["score"]
        assert reference.attrs["band"] == value
        assert reference.attrs["rows"] == int(((s >= cutoff) & (s <= cutoff + value)).sum()) > 0
        references.append(reference)
    assert not np.allclose(references[0].to_numpy(), references[1].to_numpy())


# ------------------------------------------------------------------ logins

@case("session_timeout_minutes")
def _session_timeout(run: Run, name: str) -> None:
    from cb_core.store import Store

    url = f"sqlite:///{run.tmp_path / 'sessions.sqlite'}"
    idle = timedelta(minutes=10)
    for value in (5, 60):
        run.under(session_timeout_minutes=value)
        with Store(url, password_hasher=FAST_HASHER) as store:
            if store.get_user("ann") is None:
                store.add_user("ann", "officer", password=PASSWORD)
            token = store.start_session("ann", now=T0)
            user = store.session_user(token, now=T0 + idle)
            assert (user is None) == (idle > timedelta(minutes=value))


@case("keep_replaced_books")
def _keep_replaced_books(run: Run, name: str) -> None:
    from cb_core.synth import generate_book
    from cb_core.workspace import install_book

    books = [generate_book(30, 13, seed=seed) for seed in (1, 2, 3, 4)]
    for value in (0, 2):
        settings = run.under(keep_replaced_books=value)
        for book in books:
            install_book(book)  # the engine reads the setting itself
        kept = {p.name for p in (Path(settings.state_dir) / "books").iterdir()}
        # the book in use, and the `value` installed just before it
        assert kept == {b.fingerprint for b in books[len(books) - 1 - value:]}


# ------------------------------------------------------------------ the app server

def _accepts(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@case("server_address")
def _server_address(run: Run, name: str) -> None:
    """The server started with the settings' flags (``streamlit_flags``, what ``make run`` passes) listens
    where the setting says: 127.0.0.1 (the default) is not reachable at another address of this machine
    (127.0.0.2 stands for one: every 127/8 address is local), 0.0.0.0 is."""
    import subprocess
    import sys
    import time
    import urllib.request

    from bench.serve import ROOT, free_port
    from cb_core.config import streamlit_flags

    makefile = (ROOT / "Makefile").read_text()
    assert "streamlit_flags" in makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]  # make run uses the same flags
    for value, elsewhere in (("127.0.0.1", False), ("0.0.0.0", True)):
        settings = run.under(**({name: value} if value != "127.0.0.1" else {}))
        assert settings.server_address == value
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
             *streamlit_flags(settings)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            assert _accepts("127.0.0.2", port) is elsewhere
        finally:
            server.terminate()
            server.wait(timeout=15)
    with pytest.raises(ConfigError, match="server_address must be an IP address or host name"):
        run.under(**{name: "0.0.0.0 --server.enableCORS false"})
