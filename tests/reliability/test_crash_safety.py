"""A process killed while it writes a book or a model never leaves a half-written one in use."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.support.app import ROOT

pytestmark = pytest.mark.slow


def _kill_after(args: list[str], seconds: float) -> int:
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=30)


@pytest.mark.parametrize("delay", [0.5, 2.0, 4.0])
def test_killed_install_keeps_the_previous_current_book(tmp_path, small_book, delay):
    from cb_core.data import load_current, save_current

    save_current(small_book, tmp_path)
    script = ("import sys; from cb_core.synth.generate import generate_book; from cb_core.data.sources import save_current; "
              f"save_current(generate_book(30000, 24, seed=99), __import__('pathlib').Path(r'{tmp_path}'))")
    _kill_after(["-c", script], delay)
    book = load_current(tmp_path)  # either the old book or, if the write finished, the new one: never a broken one
    assert book is not None
    assert book.fingerprint == small_book.fingerprint or len(book.merchants) == 30000


@pytest.mark.parametrize("delay", [1.0, 3.0])
def test_killed_training_keeps_the_previous_model_folder(tmp_path, small_book, trained, delay):
    from cb_core.model import load_model
    from cb_core.model import save_bundle
    from cb_core.data import write_book

    model, report = trained
    out = tmp_path / "model"
    save_bundle(model, report, out)
    book_dir = write_book(small_book, tmp_path / "book")
    _kill_after(["-m", "cb_core", "train", "--data", str(book_dir), "--out", str(out)], delay)
    loaded = load_model(out)
    assert loaded.version == model.version or (out / "card.json").exists()
    assert loaded.score(__import__("cb_core.features.pipeline", fromlist=["x"]).current_snapshot(small_book)).shape[0] > 0
