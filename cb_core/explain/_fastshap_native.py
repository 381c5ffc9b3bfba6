"""The explainer's row passes compiled ahead of time: ``_fastshap_native.c`` (the numba kernels of
:mod:`cb_core.explain._fastshap_kernels`, line for line) built once per machine with the C compiler and
loaded with :mod:`ctypes`.

A process that explains with it imports neither numba nor LLVM: with a 20,000-merchant model numba's
import, registries and cached kernels cost 0.35 s of a 50,000-merchant ``score --explain``, loading
this library about a millisecond. Both give the same contributions bit for bit (the C keeps numba's
order of operations and is built without fused multiply-adds; tests/explain/test_fastshap_native.py).

The library is built by ``scripts/bytecode.sh`` (``python -m cb_core.explain._fastshap_native``; ``make run``
and ``make test`` call it) and otherwise on first use (well under a second), into this package's
``__pycache__`` (or ``~/.cache/cb_core`` when that is read-only), named by the sha256 of the source, the
flags and the CPU's features, so an edited source or another CPU never loads a stale build. Where no compiler works, :func:`library` is None
and the explainer runs numba's kernels as before; ``CB_NATIVE_KERNELS=0`` asks for them explicitly.
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
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("_fastshap_native.c")
#: Flags: optimised for this machine's CPU (the build is named by its CPU flags, so another CPU builds
#: its own), position-independent, no contraction into fused multiply-adds (numba's order of
#: operations, bit for bit), threads.
CFLAGS = ("-O3", "-march=native", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-pthread")
#: Set to 0 to run numba's kernels instead.
ENV_SWITCH = "CB_NATIVE_KERNELS"

_I64 = ctypes.POINTER(ctypes.c_int64)
_F64 = ctypes.POINTER(ctypes.c_double)
_U8 = ctypes.POINTER(ctypes.c_uint8)
_INT = ctypes.c_int64


class _Forest(ctypes.Structure):
    """Mirror of ``forest_t`` in the C source."""

    _fields_ = [("bias", ctypes.c_double),
                *((name, _I64) for name in ("tree_algo", "tree_n0", "tree_nint", "tree_l0", "tree_u0", "tree_nunit")),
                ("n_trees", _INT), ("max_nodes", _INT), ("max_depth", _INT),
                ("feat", _I64), ("thr", _F64), ("kind", _I64), ("default_left", _U8), ("cat_row", _I64),
                ("cat_mask", _U8), ("cat_width", _INT),
                *((name, _I64) for name in ("left", "right", "uleft", "uright")), ("node_count", _F64),
                *((name, _I64) for name in ("bit", "setbit", "pair_unit", "pairbit")),
                ("leaf_value", _F64), ("leaf_count", _F64),
                *((name, _I64) for name in ("unit_eoff", "unit_ne", "e_feat", "e_toff", "e_test", "e_clear")),
                ("e_coef", _F64), ("tables", _F64)]


_DTYPES = {_I64: np.int64, _F64: np.float64, _U8: np.uint8}

_lock = threading.Lock()
_loaded: list[Any] = []  # [library or None] once tried


def _cpu_flags() -> bytes:
    try:
        for line in Path("/proc/cpuinfo").read_bytes().splitlines():
            if line.startswith((b"flags", b"Features")):
                return line
    except OSError:
        pass
    return platform.processor().encode()


def _built_path(source: bytes) -> Path:
    digest = hashlib.sha256(b"\0".join([source, " ".join(CFLAGS).encode(), _cpu_flags()])).hexdigest()[:16]
    name = f"_fastshap_native-{digest}-{platform.machine()}-{sys.implementation.cache_tag}.so"
    here = SOURCE.parent / "__pycache__"
    try:
        here.mkdir(exist_ok=True)
        if os.access(here, os.W_OK):
            return here / name
    except OSError:
        pass
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cb_core" / name


def build() -> Path:
    """Compile the source into its cache path (unless built already) and return that path; raises
    RuntimeError naming the compiler's complaint when it cannot be built."""
    source = SOURCE.read_bytes()
    target = _built_path(source)
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    done = subprocess.run([compiler, *CFLAGS, str(SOURCE), "-o", str(partial)], capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{compiler} failed: {done.stderr.strip()[:2000]}")
    os.replace(partial, target)  # atomic: a concurrent process sees the whole library or none
    return target


def library() -> Any:
    """The loaded library, built first if needed; None when switched off or it cannot be built or
    loaded (the reason is logged once)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_load())
    return _loaded[0]


def _load() -> Any:
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return None
    try:
        lib = ctypes.CDLL(str(build()))
        lib.cb_explain.argtypes = [_F64, _INT, _INT, _F64, _F64, _INT, _INT, ctypes.POINTER(_Forest)]
        lib.cb_margins.argtypes = [_F64, _INT, _INT, _F64, _INT, _INT, ctypes.POINTER(_Forest)]
        lib.cb_explain.restype = lib.cb_margins.restype = ctypes.c_int
        lib.cb_forest_size.restype = ctypes.c_int64
        if lib.cb_forest_size() != ctypes.sizeof(_Forest):
            raise RuntimeError("the library's forest layout differs from its ctypes mirror")
        return lib
    except (OSError, RuntimeError) as exc:
        log.info("explainer runs numba's kernels: the C kernels are not available (%s)", exc)
        return None


class NativeForest:
    """A Forest's arrays handed to the C kernels (contiguous, in the C types; kept alive here)."""

    def __init__(self, forest: Any) -> None:
        self._keep: list[np.ndarray] = []
        fields: dict[str, Any] = {}
        for name, ctype in _Forest._fields_:
            if ctype in _DTYPES:
                array = np.ascontiguousarray(getattr(forest, name), dtype=_DTYPES[ctype])  # bools as 0/1
                self._keep.append(array)
                fields[name] = array.ctypes.data_as(ctype)
        fields["bias"] = float(forest.bias)
        fields["n_trees"] = len(forest.tree_algo)
        fields["max_nodes"] = int(forest.max_nodes)
        fields["max_depth"] = int(forest.max_depth)
        fields["cat_width"] = int(np.asarray(forest.cat_mask).shape[1])
        self.n_features = int(forest.n_features)
        self.struct = _Forest(**fields)

    def contributions(self, matrix: np.ndarray, block: int, threads: int, *,
                      margins: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """``matrix`` (C-ordered float64, rows x features) -> rows x (features + 1); with ``margins`` also
        every row's raw margin, from the same pass."""
        out = np.empty((len(matrix), self.n_features + 1))
        sums = np.empty(len(matrix)) if margins else None
        self._check(library().cb_explain(matrix.ctypes.data_as(_F64), len(matrix), self.n_features,
                                         out.ctypes.data_as(_F64), None if sums is None else sums.ctypes.data_as(_F64),
                                         block, threads, ctypes.byref(self.struct)), len(matrix))
        return out if sums is None else (out, sums)

    def margins(self, matrix: np.ndarray, block: int, threads: int) -> np.ndarray:
        sums = np.empty(len(matrix))
        self._check(library().cb_margins(matrix.ctypes.data_as(_F64), len(matrix), self.n_features,
                                         sums.ctypes.data_as(_F64), block, threads, ctypes.byref(self.struct)),
                    len(matrix))
        return sums

    @staticmethod
    def _check(code: int, rows: int) -> None:
        if code != 0:
            raise MemoryError(f"the explainer's working memory for {rows:,} rows could not be had")


def default_threads() -> int:
    """Threads the kernels use by default: numba's own default (``NUMBA_NUM_THREADS``, else the CPUs
    this process may run on)."""
    configured = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


if __name__ == "__main__":  # scripts/install.sh: build once at install time
    print(build())
