"""When and how :meth:`cb_core.model.TreeEnsemble.raw_margin` runs a compiled pass instead of its numpy one;
all three give the same margins bit for bit.

From :data:`WARM_ROWS` rows the C pass (``_trees_native.c``, the numba kernel line for line, built and loaded as
every C kernel of the engine is: :mod:`cb_core.native`) runs: loading it costs a millisecond. Where it cannot be
built, the numba pass (:mod:`cb_core.model._trees_kernel`): numba costs a process its import and, on the first
parallel call, its thread pool and the cached kernel, 1.2-3 s together, against a saving of 9-25 µs a row
(``python -m bench.trees_predict``, on two cores), so it runs from :data:`COLD_ROWS` rows, or from
:data:`WARM_ROWS` once something has imported numba. Without either, numpy. This module imports numpy only.
"""
from __future__ import annotations

import ctypes
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .. import native
from ..errors import ConfigError

#: Rows from which numba is imported for a prediction (its import and kernel load pay for themselves).
COLD_ROWS = 200_000
#: Rows from which the numba pass runs when numba is already imported.
WARM_ROWS = 20_000
#: Rows per parallel work item.
BLOCK_ROWS = 1024
ENGINES = ("numpy", "numba", "native")
SOURCE = Path(__file__).with_name("_trees_native.c")

# numba's "workqueue" threading layer (its fallback without OpenMP or TBB) must not be entered from
# two threads at once, and Streamlit scores and explains in several threads: every parallel numba
# call of the engine (this one, the explainer's) holds this lock.
NUMBA_POOL_LOCK = threading.Lock()


def engine_for(rows: int, engine: str | None) -> str:
    """The pass ``rows`` rows go through ("numpy", "numba" or "native"); ``engine`` forces one."""
    if engine is not None and engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}",
                          key="err_trees_engine", engines=", ".join(ENGINES), engine=engine)
    if engine == "numba" and _kernel() is None:
        raise ConfigError("engine 'numba' needs the numba package, which is not installed",
                          key="err_trees_numba_missing")
    if engine == "native" and library() is None:
        raise ConfigError("engine 'native' needs the C kernel, which is not built here (no C compiler, or "
                          "CB_NATIVE_KERNELS=0)", key="err_trees_native_missing")
    if engine is not None:
        return engine
    if rows < WARM_ROWS:
        return "numpy"
    if library() is not None:
        return "native"
    if rows < COLD_ROWS and "numba" not in sys.modules:
        return "numpy"
    return "numba" if _kernel() is not None else "numpy"


def build() -> Path:
    """Compile the C pass into its cache path (unless built already) and return that path."""
    return native.build(SOURCE)


class _Trees(ctypes.Structure):
    """Mirror of ``trees_t`` in the C source: :func:`flatten`'s arrays in its order."""

    _fields_ = [("n_trees", ctypes.c_int64), *((name, ctypes.c_void_p) for name in (
        "tree_type", "tree_n0", "tree_nn", "tree_l0", "tree_all", "feat", "thr", "kind", "default_left", "nan_left",
        "cat_row", "keep", "left", "right", "leaf_value", "cat_mask")), ("cat_width", ctypes.c_int64)]


def _declare(lib: Any) -> None:
    lib.cb_tree_margins.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                    ctypes.c_int64, ctypes.POINTER(_Trees)]
    lib.cb_tree_margins.restype = ctypes.c_int
    lib.cb_trees_size.restype = ctypes.c_int64
    if lib.cb_trees_size() != ctypes.sizeof(_Trees):
        raise RuntimeError("the library's trees layout differs from its ctypes mirror")


#: The loaded C pass (built first if needed), or None (then numba's or numpy's).
library = native.Once(lambda: native.load(build, _declare, "tree margins computed with numba or numpy"))


def _kernel() -> Any:
    try:
        from . import _trees_kernel
    except ImportError:  # numba missing or broken: the numpy pass
        return None
    return _trees_kernel


def flatten(plans: list[Any], cat_mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kernel's arrays of the numpy pass's plans (``_Plan`` of :mod:`cb_core.model.trees`) and
    bitset rows: per tree its type (one leaf, bits, walked), first split, splits, first leaf and
    all-leaves bits; per split feature, threshold, kind, default side, NaN side, bitset row, bits
    kept when the row goes right, children (walked trees); the leaf values in each plan's order."""
    tree_type, n0, nn, l0, all_bits = [], [], [], [], []
    cols: list[list[Any]] = [[] for _ in range(9)]  # feat, thr, kind, dl, nan_left, cat_row, keep, left, right
    leaf_value: list[float] = []
    for plan in plans:
        n0.append(len(cols[0]))
        l0.append(len(leaf_value))
        all_bits.append(int(plan.all_bits))
        if plan.single is not None:
            tree_type.append(0)
            nn.append(0)
            leaf_value.append(plan.single)
        elif plan.walk is not None:
            tree_type.append(2)
            nn.append(len(plan.walk[0]))
            for col, values in zip(cols[:6] + cols[7:], plan.walk):
                col += values.tolist()
            cols[6] += [0] * len(plan.walk[0])
            leaf_value += plan.leaf_values.tolist()
        else:
            tree_type.append(1)
            nn.append(len(plan.nodes))
            for f, kind, th, dl, nan_left, cat_row, keep in plan.nodes:
                for col, value in zip(cols, (f, th, kind, dl, nan_left, cat_row, int(keep), 0, 0)):
                    col.append(value)
            leaf_value += plan.leaf_values.tolist()
    ints = [np.asarray(a, dtype=np.int64) for a in (tree_type, n0, nn, l0)]
    types = (np.int64, np.float64, np.int8, np.bool_, np.bool_, np.int64, np.uint64, np.int64, np.int64)
    return (*ints, np.asarray(all_bits, dtype=np.uint64), *(np.asarray(c, dtype=t) for c, t in zip(cols, types)),
            np.asarray(leaf_value, dtype=np.float64), np.ascontiguousarray(cat_mask))


def margins(X: np.ndarray, flat: tuple[np.ndarray, ...], engine: str = "numba") -> np.ndarray:
    """Sum of the trees' leaf values per row of ``X`` (floats, model columns), with the threads of the C pass
    (``engine`` "native") or numba's."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty(len(X))
    if engine == "native":
        trees = _Trees(len(flat[0]), *(a.ctypes.data for a in flat), flat[-1].shape[1])
        if library().cb_tree_margins(X.ctypes.data, len(X), X.shape[1], out.ctypes.data, BLOCK_ROWS, native.default_threads(),
                                     ctypes.byref(trees)) != 0:
            raise MemoryError(f"the tree margins' working memory for {len(X):,} rows could not be had")
        return out
    kernel = _kernel()
    with NUMBA_POOL_LOCK:
        kernel.margins(X, out, BLOCK_ROWS, *flat)
    return out


__all__ = ["COLD_ROWS", "ENGINES", "NUMBA_POOL_LOCK", "WARM_ROWS", "engine_for", "flatten", "margins"]
