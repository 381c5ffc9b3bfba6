"""LightGBM's split decision and the classic path-dependent TreeSHAP recursion (Lundberg's
Algorithm 2, as LightGBM's ``Tree::TreeSHAP`` runs it), for one row and one tree (numba).

:mod:`cb_core.explain._fastshap_kernels` uses the recursion for trees whose paths are too wide for
pattern tables, and the decision for single rows.
"""
from __future__ import annotations

from numba import njit

from ._fastshap_parse import CATEGORICAL, NUMERIC_NAN, NUMERIC_NONE, NUMERIC_ZERO, ZERO_THRESHOLD


@njit(cache=True, inline="always")
def goes_left(value, kind, threshold, default_left, cat_row, cat_mask):
    """LightGBM's ``Tree::Decision`` on a raw feature value (``tree.h``)."""
    if value <= ZERO_THRESHOLD and value >= -ZERO_THRESHOLD:
        value = 0.0
    if kind == CATEGORICAL:
        # static_cast<int> of NaN or out-of-range values is INT_MIN on x86: always right
        if not (value > -2147483649.0 and value < 2147483648.0):
            return False
        code = int(value)
        if code < 0 or code >= cat_mask.shape[1]:
            return False
        return cat_mask[cat_row, code] != 0
    if value != value:
        if kind == NUMERIC_NAN:
            return default_left
        value = 0.0
    if kind == NUMERIC_ZERO and value == 0.0:
        return default_left
    return value <= threshold


@njit(cache=True, inline="always")
def _extend(pf, pz, po, pw, base, depth, zero, one, feature):
    pf[base + depth] = feature
    pz[base + depth] = zero
    po[base + depth] = one
    pw[base + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        pw[base + i + 1] += one * pw[base + i] * (i + 1) / (depth + 1)
        pw[base + i] = zero * pw[base + i] * (depth - i) / (depth + 1)


@njit(cache=True, inline="always")
def _unwind(pf, pz, po, pw, base, depth, index):
    one = po[base + index]
    zero = pz[base + index]
    next_one = pw[base + depth]
    for i in range(depth - 1, -1, -1):
        if one != 0.0:
            tmp = pw[base + i]
            pw[base + i] = next_one * (depth + 1) / ((i + 1) * one)
            next_one = tmp - pw[base + i] * zero * (depth - i) / (depth + 1)
        else:
            pw[base + i] = pw[base + i] * (depth + 1) / (zero * (depth - i))
    for i in range(index, depth):
        pf[base + i] = pf[base + i + 1]
        pz[base + i] = pz[base + i + 1]
        po[base + i] = po[base + i + 1]


@njit(cache=True, inline="always")
def _unwound_sum(pz, po, pw, base, depth, index):
    one = po[base + index]
    zero = pz[base + index]
    next_one = pw[base + depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one != 0.0:
            tmp = next_one * (depth + 1) / ((i + 1) * one)
            total += tmp
            next_one = pw[base + i] - tmp * zero * ((depth - i) / (depth + 1))
        else:
            total += (pw[base + i] / zero) / ((depth - i) / (depth + 1))
    return total


@njit(cache=True)
def recursive_tree(x, phi, n0, l0, feat, thr, kind, default_left, cat_row, cat_mask, left, right,
                    node_count, leaf_value, leaf_count, pf, pz, po, pw, st_node, st_level, st_depth,
                    st_zero, st_one, st_feat, width):
    """Lundberg's Algorithm 2 as LightGBM's ``Tree::TreeSHAP`` runs it, with an explicit stack;
    path slot ``level`` holds the unique path of the node at that tree depth."""
    top = 0
    st_node[0], st_level[0], st_depth[0] = 0, 0, 0
    st_zero[0], st_one[0], st_feat[0] = 1.0, 1.0, -1
    while top >= 0:
        node, level, depth = st_node[top], st_level[top], st_depth[top]
        zero, one, feature = st_zero[top], st_one[top], st_feat[top]
        top -= 1
        base = level * width
        if depth > 0:
            parent = base - width
            for i in range(depth):
                pf[base + i] = pf[parent + i]
                pz[base + i] = pz[parent + i]
                po[base + i] = po[parent + i]
                pw[base + i] = pw[parent + i]
        _extend(pf, pz, po, pw, base, depth, zero, one, feature)
        if node < 0:
            value = leaf_value[l0 + ~node]
            for i in range(1, depth + 1):
                w = _unwound_sum(pz, po, pw, base, depth, i)
                phi[pf[base + i]] += w * (po[base + i] - pz[base + i]) * value
            continue
        n = n0 + node
        split = feat[n]
        if goes_left(x[split], kind[n], thr[n], default_left[n], cat_row[n], cat_mask):
            hot, cold = left[n], right[n]
        else:
            hot, cold = right[n], left[n]
        cover = node_count[n]
        hot_zero = (node_count[n0 + hot] if hot >= 0 else leaf_count[l0 + ~hot]) / cover
        cold_zero = (node_count[n0 + cold] if cold >= 0 else leaf_count[l0 + ~cold]) / cover
        in_zero, in_one = 1.0, 1.0
        index = 0
        while index <= depth and pf[base + index] != split:
            index += 1
        if index != depth + 1:
            in_zero, in_one = pz[base + index], po[base + index]
            _unwind(pf, pz, po, pw, base, depth, index)
            depth -= 1
        top += 1
        st_node[top], st_level[top], st_depth[top] = cold, level + 1, depth + 1
        st_zero[top], st_one[top], st_feat[top] = cold_zero * in_zero, 0.0, split
        top += 1
        st_node[top], st_level[top], st_depth[top] = hot, level + 1, depth + 1
        st_zero[top], st_one[top], st_feat[top] = hot_zero * in_zero, in_one, split
