"""C kernels compiled once per machine and loaded with :mod:`ctypes`: how every kernel of the engine is built,
named and loaded (the explainer's row passes, ``explain/_fastshap_native.c``; the activity features,
``features/_activity_native.c``). A base module: it imports nothing from ``cb_core``.

A source is built into its package's ``__pycache__`` (or ``~/.cache/cb_core`` when that is read-only), named by
the sha256 of the source, the flags and the CPU's features, so an edited source or another CPU never loads a
stale build. ``scripts/bytecode.sh`` builds them (``make run`` and ``make test`` call it), otherwise the first use
does (well under a second each). Where no compiler works, :func:`load` gives None and its caller runs the same
computation in numba or numpy (same values, slower); ``CB_NATIVE_KERNELS=0`` asks for that explicitly.
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Flags: optimised for this machine's CPU (the build is named by its CPU flags, so another CPU builds its own),
#: position-independent, no contraction into fused multiply-adds and no fast-math (numba's and numpy's order of
#: operations, bit for bit), threads.
CFLAGS = ("-O3", "-march=native", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-pthread")
#: Set to 0 to run the kernels' numba or numpy equivalents instead.
ENV_SWITCH = "CB_NATIVE_KERNELS"


def _cpu_flags() -> bytes:
    try:
        for line in Path("/proc/cpuinfo").read_bytes().splitlines():
            if line.startswith((b"flags", b"Features")):
                return line
    except OSError:
        pass
    return platform.processor().encode()


def built_path(source: Path, text: bytes) -> Path:
    """Where the library of ``source`` (whose bytes are ``text``) is built."""
    digest = hashlib.sha256(b"\0".join([text, " ".join(CFLAGS).encode(), _cpu_flags()])).hexdigest()[:16]
    name = f"{source.stem}-{digest}-{platform.machine()}-{sys.implementation.cache_tag}.so"
    here = source.parent / "__pycache__"
    try:
        here.mkdir(exist_ok=True)
        if os.access(here, os.W_OK):
            return here / name
    except OSError:
        pass
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cb_core" / name


def build(source: Path) -> Path:
    """Compile ``source`` into its cache path (unless built already) and return that path; raises RuntimeError
    naming the compiler's complaint when it cannot be built."""
    text = source.read_bytes()
    target = built_path(source, text)
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    done = subprocess.run([compiler, *CFLAGS, str(source), "-o", str(partial)], capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{compiler} failed: {done.stderr.strip()[:2000]}")
    os.replace(partial, target)  # atomic: a concurrent process sees the whole library or none
    return target


def load(built: Callable[[], Path], setup: Callable[[Any], None], instead: str) -> Any:
    """The library at ``built()`` (which builds it when needed), after ``setup(library)`` declared its functions
    (raising RuntimeError when the library does not fit); None when switched off or it cannot be built or
    loaded, the reason logged once as ``{instead}: the C kernels are not available (reason)``."""
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return None
    try:
        library = ctypes.CDLL(str(built()))
        setup(library)
        return library
    except (OSError, RuntimeError) as exc:
        log.info("%s: the C kernels are not available (%s)", instead, exc)
        return None


def default_threads() -> int:
    """Threads a kernel uses by default: numba's own default (``NUMBA_NUM_THREADS``, else the CPUs this process
    may run on), so the C kernels and numba's share the machine alike."""
    configured = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Once:
    """A value computed once per process on first use, by one thread (the others wait for it)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make, self._lock, self.held = make, threading.Lock(), []

    def __call__(self) -> Any:
        if self.held:
            return self.held[0]
        with self._lock:
            if not self.held:
                self.held.append(self._make())
        return self.held[0]


if __name__ == "__main__":  # scripts/bytecode.sh: every kernel of the engine built once at install time
    failed = False
    for kernel in sorted(Path(__file__).parent.rglob("*.c")):
        try:
            print(build(kernel))
        except RuntimeError as exc:
            print(f"{kernel.name}: {exc}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)
