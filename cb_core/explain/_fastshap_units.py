"""Table trees cut into units (a single leaf or two sibling leaves, see
:mod:`cb_core.explain._fastshap_tables`) and the per-unit entries :func:`parse_booster` lays out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._fastshap_tables import UNIT_LEAF, UNIT_PAIR_FIRST, UNIT_PAIR_REPEAT, build_unit_tables

def _int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class _TreeSpan:
    n0: int
    nint: int
    l0: int
    nleaf: int


@dataclass
class _TreeUnits:
    """A table tree's units: (kind, node or -1, first leaf, second leaf or -1) and table values."""

    units: list[tuple[int, int, int, int]]
    table_values: int


def _units(tree: _TreeSpan, left: np.ndarray, right: np.ndarray, leaf_d: np.ndarray, path_d: np.ndarray
           ) -> _TreeUnits:
    """Two leaf children of one node form a pair (one table read per path feature for both);
    other leaves stand alone."""
    units: list[tuple[int, int, int, int]] = []
    values = 0
    for n in range(tree.n0, tree.n0 + tree.nint):
        lc, rc = int(left[n]), int(right[n])
        if lc < 0 and rc < 0:
            l1, l2 = tree.l0 + ~lc, tree.l0 + ~rc
            first = leaf_d[l1] > path_d[n]
            units.append((UNIT_PAIR_FIRST if first else UNIT_PAIR_REPEAT, n, l1, l2))
            values += 2 << (int(path_d[n]) + 1)
            continue
        for c in (lc, rc):
            if c < 0:
                units.append((UNIT_LEAF, -1, tree.l0 + ~c, -1))
                values += 1 << int(leaf_d[tree.l0 + ~c])
    return _TreeUnits(units, values)


class _UnitTables:
    """Units of all table trees: entries (feature, table, test bit, clear bit, coefficients) and
    the child encoding of the node pass (``~unit`` for a leaf child)."""

    def __init__(self, n_nodes: int) -> None:
        self.uleft = np.zeros(n_nodes, dtype=np.int64)
        self.uright = np.zeros(n_nodes, dtype=np.int64)
        self.pair_unit = np.full(n_nodes, -1, dtype=np.int64)
        self.pairbit = np.zeros(n_nodes, dtype=np.int64)
        self.kind: list[int] = []
        self.l1: list[int] = []
        self.l2: list[int] = []
        self.pos: list[int] = []
        self.bits: list[int] = []
        self.moff: list[int] = []
        self.koff: list[int] = []
        self.eoff: list[int] = []
        self.ne: list[int] = []
        self.e_feat: list[int] = []
        self.e_toff: list[int] = []
        self.e_test: list[int] = []
        self.e_clear: list[int] = []
        self.e_coef: list[float] = []
        self.size = 0

    def _entry(self, feature: int, toff: int, test: int, clear: int, unsat: float, sat: float) -> None:
        self.e_feat.append(feature)
        self.e_toff.append(toff)
        self.e_test.append(test)
        self.e_clear.append(clear)
        self.e_coef.extend((unsat, sat))

    def add_tree(self, tree: _TreeSpan, left: np.ndarray, right: np.ndarray, leaf_d: np.ndarray,
                 path_d: np.ndarray, leaf_foff: np.ndarray, leaf_feat: np.ndarray, leaf_coef: np.ndarray,
                 bit: np.ndarray) -> int:
        u0 = len(self.kind)
        leaf_unit: dict[int, int] = {}
        for kind, node, l1, l2 in _units(tree, left, right, leaf_d, path_d).units:
            local = len(self.kind) - u0
            self.eoff.append(len(self.e_feat))
            fo = int(leaf_foff[l1])
            if kind == UNIT_LEAF:
                d = int(leaf_d[l1])
                leaf_unit[l1] = local
                self._table(kind, l1, -1, 0, d, 1 << d, 0)
                for k in range(d):
                    self._entry(int(leaf_feat[fo + k]), self.moff[-1], 1 << k, 1 << k, -1.0,
                                float(leaf_coef[2 * (fo + k) + 1]))
                self.ne.append(d)
                continue
            bits = int(path_d[node]) + 1
            pos = bits - 1 if kind == UNIT_PAIR_FIRST else int(bit[node]).bit_length() - 1
            self.pair_unit[node] = local
            self.pairbit[node] = 1 << (bits - 1)
            self._table(kind, l1, l2, pos, bits, 1 << bits, 1 << bits)
            count = 0
            for j in range(bits - 1):
                if j != pos:
                    self._entry(int(leaf_feat[fo + j]), self.moff[-1], 1 << j, 1 << j, -1.0,
                                float(leaf_coef[2 * (fo + j) + 1]))
                    count += 1
            self._entry(int(leaf_feat[fo + pos]), self.koff[-1], 0, 0, 1.0, 1.0)
            self.ne.append(count + 1)
        for n in range(tree.n0, tree.n0 + tree.nint):
            for child, codes in ((int(left[n]), self.uleft), (int(right[n]), self.uright)):
                codes[n] = child if child >= 0 else ~leaf_unit.get(tree.l0 + ~child, 0)
        return len(self.kind) - u0

    def _table(self, kind: int, l1: int, l2: int, pos: int, bits: int, m_size: int, k_size: int) -> None:
        self.kind.append(kind)
        self.l1.append(l1)
        self.l2.append(l2)
        self.pos.append(pos)
        self.bits.append(bits)
        self.moff.append(self.size)
        self.koff.append(self.size + m_size)
        self.size += m_size + k_size

    def tables(self, leaf_toff: np.ndarray, leaf_coef: np.ndarray, leaf_foff: np.ndarray,
               leaf_tables: np.ndarray) -> np.ndarray:
        out = np.zeros(max(self.size, 1))
        if self.kind:
            i64 = _int64
            build_unit_tables(i64(self.kind), i64(self.l1), i64(self.l2), i64(self.pos), i64(self.bits),
                              i64(self.moff), i64(self.koff), leaf_toff, leaf_coef, leaf_foff, leaf_tables, out)
        return out
