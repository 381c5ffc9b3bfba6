"""The row passes of :mod:`cb_core.explain.fastshap` (numba): for a block of rows, tree by tree, find every
unit's pattern (one pass over the tree's nodes) and add each unit's table values to the
contributions (see :mod:`cb_core.explain._fastshap_tables` for the tables); parallel over blocks.

The rows are innermost and contiguous, so the node pass vectorises and nothing branches on a row's
path, and a tree's tables stay in cache for the whole block. Blocks of a few rows (one merchant)
go row by row instead. Trees too wide for tables run the recursion of
:mod:`cb_core.explain._fastshap_recursive` row by row.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._fastshap_parse import ALGO_RECURSIVE, ALGO_TABLE, NUMERIC_NAN, NUMERIC_NONE, NUMERIC_ZERO, ZERO_THRESHOLD
from ._fastshap_recursive import goes_left, recursive_tree

#: Blocks of fewer rows take the one-row table kernel.
FEW_ROWS = 4


@njit(cache=True)
def _table_tree(xt, phit, nb, n0, n_int, u0, n_units, feat, thr, kind, default_left, cat_row, cat_mask,
                uleft, uright, bit, setbit, pair_unit, pairbit, unit_eoff, unit_ne, e_feat, e_toff, e_test,
                e_clear, e_coef, tables, node_pat, unit_pat, go):
    """One tree for a block of ``nb`` rows, vectorised over the rows: ``xt`` holds the block's
    features as rows, ``phit`` its contributions as rows (features x rows)."""
    root = node_pat[0]
    for r in range(nb):
        root[r] = 0
    for i in range(n_int):
        n = n0 + i
        x = xt[feat[n]]
        k = kind[n]
        th = thr[n]
        dl = np.int64(default_left[n])
        if k == NUMERIC_NAN:
            for r in range(nb):
                v = x[r]
                go[r] = np.int64(v <= th) | (np.int64(v != v) & dl)
        elif k == NUMERIC_NONE:
            zl = np.int64(0.0 <= th)  # LightGBM reads NaN as 0 here
            for r in range(nb):
                v = x[r]
                go[r] = np.int64(v <= th) | (np.int64(v != v) & zl)
        elif k == NUMERIC_ZERO:
            for r in range(nb):
                v = x[r]
                missing = np.int64(v != v) | np.int64(v == 0.0)
                go[r] = (np.int64(v <= th) & (missing ^ 1)) | (missing & dl)
        else:
            mask = cat_mask[cat_row[n]]
            width = mask.shape[0] - 1  # the last entry is 0: codes outside the mask go right
            for r in range(nb):
                v = x[r]
                # truncation toward zero like LightGBM's static_cast<int>; NaN and negative codes go right
                code = int(v) if v > -1.0 and v < width else width
                go[r] = np.int64(mask[code])
        src = node_pat[i]
        pu = pair_unit[n]
        if pu >= 0:
            # two leaf children explained together: their unit pattern is the node's plus the decision
            dst = unit_pat[pu]
            pb = pairbit[n]
            for r in range(nb):
                dst[r] = src[r] | (pb & -go[r])
            continue
        b = bit[n]
        sb = setbit[n]
        c = uleft[n]
        dst_l = node_pat[c] if c >= 0 else unit_pat[~c]
        c = uright[n]
        dst_r = node_pat[c] if c >= 0 else unit_pat[~c]
        for r in range(nb):
            p = src[r] | sb
            g = go[r]
            dst_l[r] = p & ~(b & (g - 1))
            dst_r[r] = p & ~(b & -g)
    for j in range(n_units):
        u = u0 + j
        pats = unit_pat[j]
        for e in range(unit_eoff[u], unit_eoff[u] + unit_ne[u]):
            ph = phit[e_feat[e]]
            toff = e_toff[e]
            test = e_test[e]
            clear = ~e_clear[e]
            unsat = e_coef[2 * e]
            sat = e_coef[2 * e + 1]
            for r in range(nb):
                a = pats[r]
                # an unsigned index skips numba's negative-index wraparound (1.5x faster here)
                ph[r] += (sat if a & test else unsat) * tables[np.uint64(toff + (a & clear))]


@njit(cache=True)
def _table_tree_row(x, phi, n0, n_int, u0, n_units, feat, thr, kind, default_left, cat_row, cat_mask, uleft,
                    uright, bit, setbit, pair_unit, pairbit, unit_eoff, unit_ne, e_feat, e_toff, e_test, e_clear,
                    e_coef, tables, node_pat, unit_pat):
    """:func:`_table_tree` for a single row: the block version's per-loop set-up dominates there."""
    node_pat[0] = 0
    for i in range(n_int):
        n = n0 + i
        go = np.int64(goes_left(x[feat[n]], kind[n], thr[n], default_left[n], cat_row[n], cat_mask))
        src = node_pat[i]
        pu = pair_unit[n]
        if pu >= 0:
            unit_pat[pu] = src | (pairbit[n] & -go)
            continue
        p = src | setbit[n]
        b = bit[n]
        c = uleft[n]
        if c >= 0:
            node_pat[c] = p & ~(b & (go - 1))
        else:
            unit_pat[~c] = p & ~(b & (go - 1))
        c = uright[n]
        if c >= 0:
            node_pat[c] = p & ~(b & -go)
        else:
            unit_pat[~c] = p & ~(b & -go)
    for j in range(n_units):
        u = u0 + j
        a = unit_pat[j]
        for e in range(unit_eoff[u], unit_eoff[u] + unit_ne[u]):
            coef = e_coef[2 * e + 1] if a & e_test[e] else e_coef[2 * e]
            phi[e_feat[e]] += coef * tables[np.uint64(e_toff[e] + (a & ~e_clear[e]))]


# ------------------------------------------------------------------ blocks of rows

@njit(cache=True)
def _explain_block(X, out, r0, r1, bias, tree_algo, tree_n0, tree_nint, tree_l0, tree_u0, tree_nunit, max_nodes,
                   max_depth, feat, thr, kind, default_left, cat_row, cat_mask, left, right, uleft, uright,
                   node_count, bit, setbit, pair_unit, pairbit, leaf_value, leaf_count, unit_eoff, unit_ne,
                   e_feat, e_toff, e_test, e_clear, e_coef, tables):
    n_features = X.shape[1]
    nb = r1 - r0
    # the block transposed, values LightGBM drops from dense rows (|x| <= 1e-35) as 0
    xt = np.empty((n_features, nb))
    for r in range(nb):
        for f in range(n_features):
            v = X[r0 + r, f]
            xt[f, r] = 0.0 if (v <= ZERO_THRESHOLD and v >= -ZERO_THRESHOLD) else v
    phit = np.zeros((n_features + 1, nb))
    node_pat = np.zeros((max_nodes + 1, nb), dtype=np.int64)
    unit_pat = np.zeros((max_nodes + 1, nb), dtype=np.int64)
    go = np.zeros(nb, dtype=np.int64)
    width = max_depth + 2
    pf = np.zeros(width * width, dtype=np.int64)
    pz = np.zeros(width * width)
    po = np.zeros(width * width)
    pw = np.zeros(width * width)
    stack = 2 * width + 2
    st_node = np.zeros(stack, dtype=np.int64)
    st_level = np.zeros(stack, dtype=np.int64)
    st_depth = np.zeros(stack, dtype=np.int64)
    st_zero = np.zeros(stack)
    st_one = np.zeros(stack)
    st_feat = np.zeros(stack, dtype=np.int64)
    x = np.empty(n_features)
    phi = np.empty(n_features + 1)
    if nb < FEW_ROWS:
        # row by row: the vectorised loops' set-up would cost more than the work
        row_nodes = np.zeros(max_nodes + 1, dtype=np.int64)
        row_units = np.zeros(max_nodes + 1, dtype=np.int64)
        for r in range(nb):
            for f in range(n_features):
                x[f] = xt[f, r]
                phi[f] = 0.0
            for t in range(tree_algo.shape[0]):
                if tree_algo[t] == ALGO_TABLE:
                    _table_tree_row(x, phi, tree_n0[t], tree_nint[t], tree_u0[t], tree_nunit[t], feat, thr, kind,
                                    default_left, cat_row, cat_mask, uleft, uright, bit, setbit, pair_unit, pairbit,
                                    unit_eoff, unit_ne, e_feat, e_toff, e_test, e_clear, e_coef, tables, row_nodes,
                                    row_units)
                elif tree_algo[t] == ALGO_RECURSIVE:
                    recursive_tree(x, phi, tree_n0[t], tree_l0[t], feat, thr, kind, default_left, cat_row,
                                    cat_mask, left, right, node_count, leaf_value, leaf_count, pf, pz, po, pw,
                                    st_node, st_level, st_depth, st_zero, st_one, st_feat, width)
            for f in range(n_features):
                phit[f, r] = phi[f]
    else:
        for t in range(tree_algo.shape[0]):
            algo = tree_algo[t]
            if algo == ALGO_TABLE:
                _table_tree(xt, phit, nb, tree_n0[t], tree_nint[t], tree_u0[t], tree_nunit[t], feat, thr, kind,
                            default_left, cat_row, cat_mask, uleft, uright, bit, setbit, pair_unit, pairbit,
                            unit_eoff, unit_ne, e_feat, e_toff, e_test, e_clear, e_coef, tables, node_pat, unit_pat,
                            go)
            elif algo == ALGO_RECURSIVE:
                for r in range(nb):
                    for f in range(n_features):
                        x[f] = xt[f, r]
                        phi[f] = 0.0
                    recursive_tree(x, phi, tree_n0[t], tree_l0[t], feat, thr, kind, default_left, cat_row,
                                    cat_mask, left, right, node_count, leaf_value, leaf_count, pf, pz, po, pw,
                                    st_node, st_level, st_depth, st_zero, st_one, st_feat, width)
                    for f in range(n_features):
                        phit[f, r] += phi[f]
    for r in range(nb):
        for f in range(n_features):
            out[r0 + r, f] = phit[f, r]
        out[r0 + r, n_features] = bias


@njit(cache=True, parallel=True)
def explain_parallel(X, out, block, bias, tree_algo, tree_n0, tree_nint, tree_l0, tree_u0, tree_nunit,
                     max_nodes, max_depth, feat, thr, kind, default_left, cat_row, cat_mask, left, right, uleft,
                     uright, node_count, bit, setbit, pair_unit, pairbit, leaf_value, leaf_count, unit_eoff,
                     unit_ne, e_feat, e_toff, e_test, e_clear, e_coef, tables):
    """Contributions of every row of ``X`` into ``out`` (rows x (features + 1)), blocks of
    ``block`` rows in parallel; within a block tree-major so a tree's tables stay in cache."""
    n = X.shape[0]
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        r0 = b * block
        _explain_block(X, out, r0, min(n, r0 + block), bias, tree_algo, tree_n0, tree_nint, tree_l0, tree_u0,
                       tree_nunit, max_nodes, max_depth, feat, thr, kind, default_left, cat_row, cat_mask, left,
                       right, uleft, uright, node_count, bit, setbit, pair_unit, pairbit, leaf_value,
                       leaf_count, unit_eoff, unit_ne, e_feat, e_toff, e_test, e_clear, e_coef, tables)


@njit(cache=True)
def explain_serial(X, out, block, bias, tree_algo, tree_n0, tree_nint, tree_l0, tree_u0, tree_nunit, max_nodes,
                   max_depth, feat, thr, kind, default_left, cat_row, cat_mask, left, right, uleft, uright,
                   node_count, bit, setbit, pair_unit, pairbit, leaf_value, leaf_count, unit_eoff, unit_ne,
                   e_feat, e_toff, e_test, e_clear, e_coef, tables):
    """As :func:`explain_parallel` on the calling thread only (few rows: no pool wake-up)."""
    n = X.shape[0]
    for r0 in range(0, n, block):
        _explain_block(X, out, r0, min(n, r0 + block), bias, tree_algo, tree_n0, tree_nint, tree_l0, tree_u0,
                       tree_nunit, max_nodes, max_depth, feat, thr, kind, default_left, cat_row, cat_mask, left,
                       right, uleft, uright, node_count, bit, setbit, pair_unit, pairbit, leaf_value,
                       leaf_count, unit_eoff, unit_ne, e_feat, e_toff, e_test, e_clear, e_coef, tables)


@njit(cache=True, parallel=True)
def predict_parallel(X, out, tree_nint, tree_n0, tree_l0, feat, thr, kind, default_left, cat_row, cat_mask, left,
                     right, leaf_value):
    """Raw margins (sum of leaf values, trees in order, as LightGBM adds them) of every row: the
    score of a batch that is explained anyway, with the explainer's arrays and threads."""
    for r in prange(X.shape[0]):
        total = 0.0
        for t in range(tree_nint.shape[0]):
            if tree_nint[t] == 0:
                total += leaf_value[tree_l0[t]]
                continue
            node = 0
            while True:
                g = tree_n0[t] + node
                if goes_left(X[r, feat[g]], kind[g], thr[g], default_left[g], cat_row[g], cat_mask):
                    child = left[g]
                else:
                    child = right[g]
                if child < 0:
                    total += leaf_value[tree_l0[t] + ~child]
                    break
                node = child
        out[r] = total
