"""The app served to a real browser: ``streamlit run server.py`` (app.py behind server.py's guard) on a
free port of 127.0.0.1 over a state folder, and how Chromium is launched against it.

One helper for the browser tests (``tests/conftest.py``'s ``streamlit_server`` fixture) and the
benchmarks (:mod:`bench.app`, :mod:`bench.load`)::

    with streamlit_server(state_dir) as base_url:
        ...                                   # the server answers /_stcore/health

:class:`StreamlitServer` is the same with the steps apart, for a caller that times them or reads the
process. Standard library only; it imports neither the engine nor the rest of ``bench``.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """``python -m streamlit run server.py`` (headless, 127.0.0.1, no usage stats, no file watcher) over
    ``state_dir``; started by :meth:`start`, stopped by :meth:`stop`; a context manager does both and
    waits for health in between.

    Parameters
    ----------
    state_dir : the app's state folder (``CB_STATE_DIR`` of the server)
    port : a free one by default
    env : the server's environment before ``CB_STATE_DIR`` is set (default: this process's)
    log_path : the server's stdout and stderr, appended (default ``state_dir/streamlit.log``)
    timeout, poll : seconds :meth:`wait_healthy` waits for ``/_stcore/health``, and between its tries
    args : more ``streamlit run`` options (e.g. ``["--server.maxUploadSize", "1"]``)
    warm : whether the server warms every page cache in the background at start (``ui.warm``; the
        default, as for users); False sets ``CB_WARM_UP=0``: the browser tests' servers, whose
        warm-up would compete with the tests for the CPU
    """

    def __init__(self, state_dir: Path | str, *, port: int | None = None, env: Mapping[str, str] | None = None,
                 log_path: Path | str | None = None, timeout: float = 60, poll: float = 0.3,
                 args: Sequence[str] = (), warm: bool = True) -> None:
        self.state_dir = Path(state_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**(os.environ if env is None else env), "CB_STATE_DIR": str(self.state_dir),
                    "CB_WARM_UP": "1" if warm else "0"}
        self.log_path = Path(log_path) if log_path else self.state_dir / "streamlit.log"
        self.timeout, self.poll = timeout, poll
        self.args = list(args)
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the streamlit server has not been started")
        return self.process.pid

    def start(self) -> float:
        """Launch the server; return the ``time.perf_counter()`` of the launch."""
        with open(self.log_path, "ab") as log:  # the child keeps its own handle
            started = time.perf_counter()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(self.port), "--browser.gatherUsageStats",
                 "false", "--server.fileWatcherType", "none", *self.args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return started

    def wait_healthy(self) -> float:
        """Wait until ``/_stcore/health`` answers 200; return the ``time.perf_counter()`` of that answer.

        Raises
        ------
        RuntimeError
            The server exited or did not answer within ``timeout`` seconds; the message ends with the
            last 2,000 characters of its log.
        """
        deadline = time.perf_counter() + self.timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter()
            except OSError:
                pass
            if self.process is None or self.process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"streamlit did not start: {self.log_tail()}")
            time.sleep(self.poll)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self, grace: float = 15) -> None:
        """Terminate the server (kill it after ``grace`` seconds); nothing when it is not running."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> StreamlitServer:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def streamlit_server(state_dir: Path | str, port: int | None = None, env: Mapping[str, str] | None = None,
                     log_path: Path | str | None = None, timeout: float = 60,
                     args: Sequence[str] = (), warm: bool = True) -> Iterator[str]:
    """A running ``streamlit run server.py`` over ``state_dir`` (see :class:`StreamlitServer`); yields its
    base URL once ``/_stcore/health`` answers and terminates it on exit, whatever happened."""
    with StreamlitServer(state_dir, port=port, env=env, log_path=log_path, timeout=timeout,
                         args=args, warm=warm) as server:
        yield server.url


__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "StreamlitServer", "free_port", "streamlit_server"]
