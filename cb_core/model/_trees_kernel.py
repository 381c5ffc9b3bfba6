"""The numba pass of :meth:`cb_core.model.TreeEnsemble.raw_margin` for big inputs (loaded lazily by
:mod:`cb_core.model._trees_fast`, so scoring a small book never imports numba).

The numpy pass's plan, compiled: a block of rows is transposed (features as rows, values within
1e-35 of zero made 0), then tree by tree, in the trees' order, every row's leaf is found and its value
added to the row's one accumulator, so a margin is the same sum in the same order (bit for bit). A
tree of up to 64 leaves is QuickScorer (a bit per leaf; every split a row fails clears its left
subtree's leaves; the lowest bit left is the leaf): each split is one branch-free loop over the
block's contiguous column. Wider trees are walked row by row. Decisions are LightGBM's
``Tree::Decision`` (see :mod:`cb_core.model.trees`). Blocks are shared among numba's threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# the split kinds of cb_core.model.trees (KIND_NONE, KIND_ZERO, KIND_NAN, KIND_CATEGORICAL)
_ZERO, _CATEGORICAL = 1, 3
_ZERO_THRESHOLD = float(np.float32(1e-35))
#: ``tree_type`` values: one leaf, bit per leaf, walked.
SINGLE, BITS, WALK = 0, 1, 2


@intrinsic
def _lowest_bit(typingctx, x):
    """Index of the lowest set bit of a uint64 (LLVM's cttz)."""
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], cgutils.true_bit)
    return types.uint64(types.uint64), codegen


@njit(cache=True, inline="always")
def _go_left(v, k, th, dl, nl, row, cat_mask, width):
    if k == _CATEGORICAL:
        # truncation toward zero; NaN, negative and unknown codes go right
        return cat_mask[row, int(v)] if (v > -1.0 and v < width) else False
    if v != v:
        return nl
    if k == _ZERO and v == 0.0:
        return dl
    return v <= th


@njit(cache=True, parallel=True)
def margins(X, out, block, tree_type, tree_n0, tree_nn, tree_l0, tree_all, feat, thr, kind, default_left, nan_left,
            cat_row, keep, left, right, leaf_value, cat_mask):
    """``out[r]`` = sum over the trees, in order, of the leaf value row ``r`` of ``X`` falls in."""
    n, m = X.shape
    width = cat_mask.shape[1] - 1  # codes at or past it are unknown: right
    for b in prange((n + block - 1) // block):
        lo = b * block
        nb = min(n, lo + block) - lo
        xt = np.empty((m, nb))
        for r in range(nb):
            for j in range(m):
                v = X[lo + r, j]
                xt[j, r] = 0.0 if (v <= _ZERO_THRESHOLD and v >= -_ZERO_THRESHOLD) else v
        acc = np.zeros(nb)
        bits = np.empty(nb, dtype=np.uint64)
        for t in range(tree_type.shape[0]):
            l0 = tree_l0[t]
            if tree_type[t] == SINGLE:
                for r in range(nb):
                    acc[r] += leaf_value[l0]
            elif tree_type[t] == BITS:
                bits[:] = tree_all[t]
                for g in range(tree_n0[t], tree_n0[t] + tree_nn[t]):
                    x = xt[feat[g]]
                    k, th, kp = kind[g], thr[g], keep[g]
                    dl, nl = np.uint64(default_left[g]), np.uint64(nan_left[g])
                    full = ~np.uint64(0)
                    if k == _CATEGORICAL:
                        for r in range(nb):
                            if not _go_left(x[r], k, th, False, False, cat_row[g], cat_mask, width):
                                bits[r] &= kp
                    elif k == _ZERO:
                        for r in range(nb):
                            v = x[r]
                            missing = np.uint64(v != v) | np.uint64(v == 0.0)
                            go = (np.uint64(v <= th) & (missing ^ np.uint64(1))) | (missing & dl)
                            bits[r] &= kp | (full * go)
                    else:
                        for r in range(nb):
                            v = x[r]
                            go = np.uint64(v <= th) | (np.uint64(v != v) & nl)
                            bits[r] &= kp | (full * go)
                for r in range(nb):
                    acc[r] += leaf_value[l0 + _lowest_bit(bits[r])]
            else:
                n0 = tree_n0[t]
                for r in range(nb):
                    node = 0
                    while True:
                        g = n0 + node
                        go = _go_left(xt[feat[g], r], kind[g], thr[g], default_left[g], nan_left[g], cat_row[g],
                                      cat_mask, width)
                        child = left[g] if go else right[g]
                        if child < 0:
                            acc[r] += leaf_value[l0 + ~child]
                            break
                        node = child
        out[lo:lo + nb] = acc
