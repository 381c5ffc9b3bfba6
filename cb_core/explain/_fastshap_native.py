"""The explainer's row passes compiled ahead of time: ``_fastshap_native.c`` (the numba kernels of
:mod:`cb_core.explain._fastshap_kernels`, line for line) built once per machine with the C compiler and
loaded with :mod:`ctypes`.

A process that explains with it imports neither numba nor LLVM: with a 20,000-merchant model numba's
import, registries and cached kernels cost 0.35 s of a 50,000-merchant ``score --explain``, loading
this library about a millisecond. Both give the same contributions bit for bit (the C keeps numba's
order of operations and is built without fused multiply-adds; tests/explain/test_fastshap_native.py).

The library is built by ``scripts/bytecode.sh`` (``make run`` and ``make test`` call it) and otherwise on first
use, as every C kernel of the engine is (:mod:`cb_core.native`: named by the source, flags and CPU). Where no
compiler works, :func:`library` is None and the explainer runs numba's kernels as before; ``CB_NATIVE_KERNELS=0``
asks for them explicitly.
"""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .. import native

SOURCE = Path(__file__).with_name("_fastshap_native.c")
CFLAGS, ENV_SWITCH = native.CFLAGS, native.ENV_SWITCH

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


def build() -> Path:
    """Compile the source into its cache path (unless built already) and return that path; raises
    RuntimeError naming the compiler's complaint when it cannot be built."""
    return native.build(SOURCE)


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
    return native.load(build, _declare, "explainer runs numba's kernels")


def _declare(lib: Any) -> None:
    lib.cb_explain.argtypes = [_F64, _INT, _INT, _F64, _F64, _INT, _INT, ctypes.POINTER(_Forest)]
    lib.cb_margins.argtypes = [_F64, _INT, _INT, _F64, _INT, _INT, ctypes.POINTER(_Forest)]
    lib.cb_explain.restype = lib.cb_margins.restype = ctypes.c_int
    lib.cb_forest_size.restype = ctypes.c_int64
    if lib.cb_forest_size() != ctypes.sizeof(_Forest):
        raise RuntimeError("the library's forest layout differs from its ctypes mirror")


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


default_threads = native.default_threads


if __name__ == "__main__":  # scripts/install.sh: build once at install time
    print(build())
