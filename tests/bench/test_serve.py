"""bench/serve.py, the one server start of the browser tests and the benchmarks: up when health
answers, gone afterwards, and a server that cannot start is an error that carries its log."""
from __future__ import annotations

import socket
import urllib.request

import pytest

from bench.serve import StreamlitServer, streamlit_server

pytestmark = pytest.mark.slow


def test_server_answers_health_then_is_terminated(tmp_path):
    log = tmp_path / "server.log"
    server = StreamlitServer(tmp_path / "state", env={"PATH": "/usr/bin:/bin", "CB_MARK": "x"}, log_path=log)
    (tmp_path / "state").mkdir()
    with server as running:
        with urllib.request.urlopen(f"{running.url}/_stcore/health", timeout=5) as r:
            assert (r.status, r.read()) == (200, b"ok")
        assert running.env == {"PATH": "/usr/bin:/bin", "CB_MARK": "x", "CB_STATE_DIR": str(tmp_path / "state"),
                               "CB_WARM_UP": "1"}  # the warm-up on, as for users
        assert running.process.poll() is None
    assert server.process.poll() is not None
    assert log.stat().st_size > 0


def test_a_server_that_cannot_start_raises_with_its_log_tail(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"streamlit did not start: .*Port {port} is not available"):
            with streamlit_server(tmp_path, port=port):
                pass  # pragma: no cover


def test_warm_false_turns_the_servers_warm_up_off(tmp_path):
    server = StreamlitServer(tmp_path, env={"CB_WARM_UP": "1"}, warm=False)
    assert server.env["CB_WARM_UP"] == "0"
    assert StreamlitServer(tmp_path, env={}).env["CB_WARM_UP"] == "1"
