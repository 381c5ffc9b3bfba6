"""server.py's guard in front of Streamlit (what no Streamlit 1.67 option closes): /_stcore/metrics
answers 404 and a websocket ``clear_cache`` message never reaches Streamlit; everything else passes."""
from __future__ import annotations

import asyncio
import threading

from streamlit.proto.BackMsg_pb2 import BackMsg

from server import StreamlitGuard


def _frame(kind: str) -> bytes:
    msg = BackMsg()
    if kind == "clear_cache":
        msg.clear_cache = True
    else:
        msg.rerun_script.query_string = "x=1"
    return msg.SerializeToString()


def _through_guard(scope: dict, incoming: list[dict]) -> tuple[list[dict], list[dict]]:
    """(what the app behind the guard received, what went back to the client)."""
    seen, sent = [], []

    async def inner(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] in ("websocket.disconnect", "http.request"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def run():
        queue = list(incoming)

        async def receive():
            return queue.pop(0)

        async def send(message):
            sent.append(message)

        await StreamlitGuard(inner)(scope, receive, send)

    # In its own thread: a browser test earlier in the session may leave Playwright's loop running in this one.
    failure: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(failure, lambda: asyncio.run(run())))
    worker.start()
    worker.join(30)
    if failure:
        raise failure[0]
    return seen, sent


def _capture(failure: list[BaseException], call) -> None:
    try:
        call()
    except BaseException as exc:  # re-raised in the test's thread
        failure.append(exc)


def test_clear_cache_never_reaches_streamlit_other_messages_do():
    frames = [{"type": "websocket.receive", "bytes": _frame(k)} for k in ("clear_cache", "rerun", "clear_cache")]
    seen, _ = _through_guard({"type": "websocket", "path": "/_stcore/stream"},
                             [{"type": "websocket.connect"}, *frames, {"type": "websocket.disconnect"}])
    kinds = [BackMsg.FromString(m["bytes"]).WhichOneof("type") for m in seen if m.get("bytes")]
    assert kinds == ["rerun_script"]
    assert [m["type"] for m in seen] == ["websocket.connect", "websocket.receive", "websocket.disconnect"]


def test_metrics_answer_404_other_paths_pass():
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/base/_stcore/metrics"):
        seen, sent = _through_guard({"type": "http", "path": path, "method": "GET"}, [{"type": "http.request"}])
        assert seen == [] and sent[0]["status"] == 404, path
    seen, sent = _through_guard({"type": "http", "path": "/_stcore/health", "method": "GET"},
                                [{"type": "http.request"}])
    assert len(seen) == 1 and sent[0]["status"] == 200
