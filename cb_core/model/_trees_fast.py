"""When and how :meth:`cb_core.model.TreeEnsemble.raw_margin` runs the numba pass
(:mod:`cb_core.model._trees_kernel`) instead of its numpy one; both give the same margins.

numba costs a process its import and, on the first parallel call, its thread pool and the cached
kernel: 1.2-3 s together, against a saving of 9-25 µs a row (``python -m bench.trees_predict``, on
two cores). So the numba pass runs from :data:`COLD_ROWS` rows, or from :data:`WARM_ROWS` once
something (an explanation) has imported numba: its pool is then usually started (the first call
after an explanation took 0.06 s). Without numba, numpy. This module itself imports numpy only.
"""
from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from ..errors import ConfigError

#: Rows from which numba is imported for a prediction (its import and kernel load pay for themselves).
COLD_ROWS = 200_000
#: Rows from which the numba pass runs when numba is already imported.
WARM_ROWS = 20_000
#: Rows per parallel work item.
BLOCK_ROWS = 1024
ENGINES = ("numpy", "numba")

# numba's "workqueue" threading layer (its fallback without OpenMP or TBB) must not be entered from
# two threads at once, and Streamlit scores and explains in several threads: every parallel numba
# call of the engine (this one, the explainer's) holds this lock.
NUMBA_POOL_LOCK = threading.Lock()


def use_numba(rows: int, engine: str | None) -> bool:
    """Whether ``rows`` rows go through the numba pass; ``engine`` forces one ("numpy", "numba")."""
    if engine is not None and engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}",
                          key="err_trees_engine", engines=", ".join(ENGINES), engine=engine)
    if engine is not None:
        if engine == "numba" and _kernel() is None:
            raise ConfigError("engine 'numba' needs the numba package, which is not installed",
                              key="err_trees_numba_missing")
        return engine == "numba"
    if rows < WARM_ROWS or (rows < COLD_ROWS and "numba" not in sys.modules):
        return False
    return _kernel() is not None


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


def margins(X: np.ndarray, flat: tuple[np.ndarray, ...]) -> np.ndarray:
    """Sum of the trees' leaf values per row of ``X`` (floats, model columns), with numba's threads."""
    kernel = _kernel()
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty(len(X))
    with NUMBA_POOL_LOCK:
        kernel.margins(X, out, BLOCK_ROWS, *flat)
    return out


__all__ = ["COLD_ROWS", "ENGINES", "NUMBA_POOL_LOCK", "WARM_ROWS", "flatten", "margins", "use_numba"]
