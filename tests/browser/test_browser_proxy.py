"""The reverse-proxy example, deploy/nginx.conf, run as it is in front of a real server.

Debian's nginx with a self-signed certificate made here (openssl) on a free port, the app
(``streamlit run server.py``, the ``streamlit_server`` fixture) on 127.0.0.1 behind it. Chromium opens
the app over HTTPS and signs in (the session cookie is then Secure as well as HttpOnly); the answers carry the security headers, the console shows no
Content-Security-Policy refusal, the endpoints users do not need are closed, uploads are bounded by
max_upload_mb, and the client address the app sees is the one nginx set.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.serve import free_port
from tests.support.app import ROOT, browser_open

SITE = ROOT / "deploy" / "nginx.conf"
MAX_UPLOAD_MB = 1  # the proxy's bound in these tests (the setting's value in a deployment)
HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def _nginx_binary() -> str:
    """Debian's nginx, installed here when missing (as root); a skip only when browsers are optional."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found:
        return found
    required = os.environ.get("CB_REQUIRE_BROWSER") == "1"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        done = subprocess.run(["apt-get", "install", "-y", "nginx-light"], capture_output=True, text=True,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if found:
            return found
        message = f"apt-get install nginx-light failed: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    else:
        message = "nginx is not installed and this user cannot install it (apt-get install nginx-light as root)"
    if required:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def nginx_in_front_of(app: str, certificate: tuple[Path, Path], folder: Path) -> Iterator[str]:
    """deploy/nginx.conf with its @...@ values filled in, under a minimal main configuration of its own
    (pid, logs and temporary files in ``folder``), proxying to ``app`` (host:port); yields the https URL."""
    binary = _nginx_binary()
    port = free_port()
    cert, key = certificate
    site = SITE.read_text()
    for name, value in {"SERVER_NAME": "127.0.0.1", "LISTEN_PORT": str(port), "CERT": str(cert),
                        "KEY": str(key), "APP": app, "MAX_UPLOAD_MB": str(MAX_UPLOAD_MB)}.items():
        site = site.replace(f"@{name}@", value)
    assert "@" not in re.sub(r"#.*", "", site), "a placeholder of deploy/nginx.conf was not filled in"
    (folder / "site.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                        "scgi"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\nevents {{}}\n"
        + f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n    include {folder / 'site.conf'};\n}}\n")
    checked = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                _get(f"{url}/_stcore/health")
                break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {(folder / 'error.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate


def _get(url: str, method: str = "GET", data: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=_INSECURE) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture(scope="module")
def proxy(streamlit_server, certificate, tmp_path_factory) -> Iterator[str]:
    with nginx_in_front_of(streamlit_server.removeprefix("http://"), certificate,
                           tmp_path_factory.mktemp("nginx")) as url:
        yield url


def test_the_csp_allows_streamlits_one_inline_script():
    """The CSP names Streamlit's inline script by hash: an upgrade that changes it fails here, by name."""
    import streamlit

    html = (Path(streamlit.__file__).parent / "static" / "index.html").read_text()
    hashes = {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
              for s in re.findall(r"<script>(.*?)</script>", html, re.S)}
    for digest in hashes:
        assert f"'sha256-{digest}'" in SITE.read_text(), f"deploy/nginx.conf's CSP lacks 'sha256-{digest}'"


@pytest.fixture
def https_page(chromium):
    """A page that accepts the test's self-signed certificate."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR", ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_the_app_through_the_proxy_over_https(proxy, https_page):
    page = https_page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)) if "Content Security Policy" in str(e) else None)
    responses = []
    page.on("response", lambda r: responses.append(r) if r.url.rstrip("/") == proxy else None)

    from playwright.sync_api import expect

    browser_open(page, proxy)  # signed in over wss through nginx
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)  # the first page drew
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    page.wait_for_timeout(1_500)  # late refusals (images, fonts, workers) reach the console

    assert responses, "the page itself was not served through the proxy"
    headers = responses[0].all_headers()
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert page.evaluate("location.protocol") == "https:"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "cb_session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"  # Secure over HTTPS
    assert violations == [], "\n".join(violations)


def test_endpoints_users_do_not_need_are_closed(proxy, streamlit_server):
    assert _get(f"{proxy}/_stcore/health")[0] == 200
    status, headers, _ = _get(f"{proxy}/_stcore/metrics")
    assert status == 404 and headers.get("x-frame-options") == "DENY"  # headers on refusals too
    assert _get(f"{streamlit_server}/_stcore/metrics")[0] == 404  # server.py closes it without a proxy too
    assert _get(f"{proxy}/_stcore/agent/openapi.json")[0] == 404


def test_uploads_are_bounded_by_the_setting(proxy):
    """A body above max_upload_mb is refused by nginx (413) before it reaches the app; a small one
    reaches Streamlit (which then asks for its XSRF token)."""
    url = f"{proxy}/_stcore/upload_file/no-session/no-file"
    big = b"x" * (MAX_UPLOAD_MB * 1024 * 1024 + 1)
    assert _get(url, "PUT", big, {"Content-Type": "application/octet-stream"})[0] == 413
    assert _get(url, "PUT", b"x" * 1024, {"Content-Type": "application/octet-stream"})[0] not in (413, 404, 502)


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_the_proxy_sets_the_client_address_itself(certificate, tmp_path):
    """What the app is told about the client comes from nginx, not from the client: forged
    X-Real-IP / X-Forwarded-For headers are replaced by the connection's address."""
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    try:
        with nginx_in_front_of(f"127.0.0.1:{echo.server_address[1]}", certificate, tmp_path) as url:
            status, _, body = _get(f"{url}/anything", headers={"X-Real-IP": "203.0.113.9",
                                                              "X-Forwarded-For": "203.0.113.9"})
    finally:
        echo.shutdown()
    seen = json.loads(body)
    assert status == 200
    assert (seen["x-real-ip"], seen["x-forwarded-for"], seen["x-forwarded-proto"]) == ("127.0.0.1", "127.0.0.1",
                                                                                       "https")


def test_a_raw_websocket_cannot_clear_the_caches(streamlit_server, app_state_with_model):
    """Before any login, a websocket client sends ``clear_cache``: server.py drops it (and logs it)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from websockets.sync.client import connect  # sync: Playwright's loop may be running in this thread

    log = app_state_with_model / "streamlit.log"
    before = log.read_text(errors="replace").count("dropped a clear_cache message")
    msg = BackMsg()
    msg.clear_cache = True

    with connect(streamlit_server.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
        ws.send(msg.SerializeToString())
        time.sleep(0.5)
    deadline = time.monotonic() + 5
    while log.read_text(errors="replace").count("dropped a clear_cache message") == before:
        assert time.monotonic() < deadline, "the server did not say it dropped the clear_cache message"
        time.sleep(0.1)
