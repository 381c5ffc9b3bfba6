r"""The pattern tables of :mod:`cb_core.explain.fastshap`, built once per model (numba).

Notation (one tree, one leaf ``l`` with value ``v``): ``U`` are the distinct features split on along
the root-to-leaf path, ``d = |U|``; ``z_k`` is the product of the cover fractions
``count(child) / count(node)`` of the path's splits on feature ``k``; a row *satisfies* ``k`` when it
goes the leaf's way at every split on ``k``; ``A`` is the set of satisfied features. Path-dependent
TreeSHAP (LightGBM's ``pred_contrib``) is the Shapley value of the game
``v * prod_{k in S} o_k * prod_{k in U \ S} z_k`` summed over leaves, with ``o_k`` 1 when ``k`` is
satisfied, else 0. Only subsets of ``A`` then count, and with ``w(s) = s! (d - s - 1)! / d!``,

    N(A) = v * prod_{k in U \ A} z_k * sum_{S subset of A} w(|S|) * prod_{k in A \ S} z_k

a leaf adds ``-N(A)`` to each unsatisfied feature and ``(1 - z_k) / z_k * N(A minus k)`` to each
satisfied ``k``. ``N`` is tabulated once per leaf over all ``2^d`` patterns (the idea of Fast
TreeSHAP v2, Yang 2021; the inner sum from elementary symmetric polynomials of ``z_A``), so a row
costs one pass over a tree's nodes to find every leaf's pattern, then one table read per leaf and
path feature, where the recursion (Lundberg's Algorithm 2) spends ``O(d^2)``.

Two leaves under one node share every path feature but the node's own, with the same ``z`` and the
same satisfaction, so they are explained as one *pair unit*: over the pair index ``I`` (the
node's pattern plus its decision bit), ``M(I) = N1(A1) + N2(A2)`` serves every shared feature like
a leaf's ``N``, and ``K(I)`` holds the node feature's whole contribution. Same memory, half the
table reads for those leaves (a third fewer in all on a 31-leaf model).
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Units of a table tree (``unit_kind``): one leaf, or two sibling leaves whose parent splits on a
#: feature new to the path or one already on it.
UNIT_LEAF, UNIT_PAIR_FIRST, UNIT_PAIR_REPEAT = 0, 1, 2


@njit(cache=True)
def build_tables(leaf_d, leaf_foff, leaf_toff, leaf_value, leaf_z, tables):
    """Fill ``tables[leaf_toff[l] : leaf_toff[l] + 2**d]`` with ``N(A)`` for every tabulated leaf
    (``leaf_toff[l] >= 0``)."""
    max_d = 0
    for l in range(leaf_d.shape[0]):
        if leaf_toff[l] >= 0 and leaf_d[l] > max_d:
            max_d = leaf_d[l]
    # patterns in counting order: A's set bits are those of A without its lowest bit plus that
    # bit, and A without its lowest bit was the last pattern with one bit fewer, so one
    # polynomial per bit count suffices: poly[c] holds e_0..e_c of z over the current c bits
    poly = np.zeros((max_d + 2, max_d + 1))
    weight = np.zeros(max_d + 1)
    for l in range(leaf_d.shape[0]):
        off = leaf_toff[l]
        if off < 0:
            continue
        d = leaf_d[l]
        fo = leaf_foff[l]
        v = leaf_value[l]
        for s in range(d):
            # s! (d - s - 1)! / d! = 1 / (d * C(d - 1, s))
            c = 1.0
            for i in range(s):
                c = c * (d - 1 - i) / (i + 1)
            weight[s] = 1.0 / (d * c)
        poly[0, 0] = 1.0
        zall = 1.0
        for k in range(d):
            zall *= leaf_z[fo + k]
        tables[off] = v * weight[0] * zall
        for a in range(1, 1 << d):
            k = 0
            while not (a >> k) & 1:
                k += 1
            size = 0
            b = a
            while b:
                b &= b - 1
                size += 1
            zk = leaf_z[fo + k]
            below, here = poly[size - 1], poly[size]
            here[0] = below[0] * zk
            for j in range(1, size):
                here[j] = below[j] * zk + below[j - 1]
            here[size] = below[size - 1]
            # here[s]: the sum over subsets S of A with s elements of prod_{A minus S} z; w(s)
            # exists for s < d (the full pattern's entry is never read)
            g = 0.0
            for s in range(min(size, d - 1) + 1):
                g += weight[s] * here[s]
            zc = 1.0
            for j in range(d):
                if not (a >> j) & 1:
                    zc *= leaf_z[fo + j]
            tables[off + a] = v * g * zc


@njit(cache=True)
def build_unit_tables(unit_kind, unit_l1, unit_l2, unit_pos, unit_bits, unit_moff, unit_koff, leaf_toff,
                      leaf_coef, leaf_foff, leaf_tables, tables):
    """Tables of the units from the leaves' ``N`` tables: a single leaf copies its own; two sibling
    leaves get ``M(I) = N1(A1) + N2(A2)`` (every feature but the parent's) and ``K(I)``, the parent
    feature's whole contribution, over the pair index ``I`` (parent pattern plus decision bit)."""
    for u in range(unit_kind.shape[0]):
        l1 = unit_l1[u]
        bits = unit_bits[u]
        n1 = leaf_tables[leaf_toff[l1]:]
        mo = unit_moff[u]
        if unit_kind[u] == UNIT_LEAF:
            for a in range(1 << bits):
                tables[mo + a] = n1[a]
            continue
        l2 = unit_l2[u]
        n2 = leaf_tables[leaf_toff[l2]:]
        ko = unit_koff[u]
        pos = unit_pos[u]
        bk = np.int64(1) << pos
        pb = np.int64(1) << (bits - 1)
        r1 = leaf_coef[2 * (leaf_foff[l1] + pos) + 1]
        r2 = leaf_coef[2 * (leaf_foff[l2] + pos) + 1]
        for i in range(1 << bits):
            go = (i >> (bits - 1)) & 1
            base = i & ~pb
            if unit_kind[u] == UNIT_PAIR_FIRST:
                # the parent's feature is new: its bit in the leaves' patterns is the decision bit
                base |= bk
            s = (base >> pos) & 1
            a1 = base if s & go else base & ~bk
            a2 = base if s & (1 - go) else base & ~bk
            tables[mo + i] = n1[a1] + n2[a2]
            c1 = r1 if s & go else -1.0
            c2 = r2 if s & (1 - go) else -1.0
            tables[ko + i] = c1 * n1[base & ~bk] + c2 * n2[base & ~bk]
