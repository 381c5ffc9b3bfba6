"""LightGBM ``dump_model()`` -> the flat arrays the :mod:`cb_core.explain._fastshap_kernels` read.

Internal nodes of each tree are renumbered in pre-order (a parent before its children), children
are encoded LightGBM-style (``>= 0`` internal node, ``< 0`` leaf ``~c``), both local to the tree.
Each leaf records its path's distinct features in order of first appearance with their cover
products ``z``; each internal node records the bit of its feature in that order (``bit``) and
whether the feature first appears there (``setbit``), so a row's leaf patterns follow top-down.

Table trees are then cut into units, a single leaf or two sibling leaves (see
:mod:`cb_core.explain._fastshap_tables`); each unit lists its entries: the feature, the table, the bit that
says whether the feature is satisfied, the bit cleared in the index, and the two coefficients.
The node pass writes a unit's pattern where a leaf child's would go (``uleft``/``uright`` hold
``~unit``), and a pair's at its parent (``pair_unit``, ``pairbit``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError

#: How a tree is explained (``tree_algo`` array).
ALGO_TABLE, ALGO_RECURSIVE, ALGO_CONSTANT = 0, 1, 2
#: Split kinds (``kind`` array).
NUMERIC_NONE, NUMERIC_ZERO, NUMERIC_NAN, CATEGORICAL = 0, 1, 2, 3
# LightGBM's kZeroThreshold (1e-35f widened to double): dense rows drop values this small, and
# zero-as-missing splits treat them as zero
ZERO_THRESHOLD = float(np.float32(1e-35))

_MISSING_KINDS = {"None": NUMERIC_NONE, "Zero": NUMERIC_ZERO, "NaN": NUMERIC_NAN}


@dataclass
class Forest:
    """A booster's trees as flat arrays (see the module docstring); ``kernel_args`` in order."""

    n_features: int
    feature_names: list[str]
    bias: float
    tree_algo: np.ndarray
    tree_n0: np.ndarray
    tree_nint: np.ndarray
    tree_l0: np.ndarray
    tree_u0: np.ndarray
    tree_nunit: np.ndarray
    max_nodes: int
    max_depth: int
    feat: np.ndarray
    thr: np.ndarray
    kind: np.ndarray
    default_left: np.ndarray
    cat_row: np.ndarray
    cat_mask: np.ndarray
    left: np.ndarray
    right: np.ndarray
    uleft: np.ndarray
    uright: np.ndarray
    node_count: np.ndarray
    bit: np.ndarray
    setbit: np.ndarray
    pair_unit: np.ndarray
    pairbit: np.ndarray
    leaf_value: np.ndarray
    leaf_count: np.ndarray
    unit_eoff: np.ndarray
    unit_ne: np.ndarray
    e_feat: np.ndarray
    e_toff: np.ndarray
    e_test: np.ndarray
    e_clear: np.ndarray
    e_coef: np.ndarray
    tables: np.ndarray

    def kernel_args(self) -> tuple[Any, ...]:
        return (self.bias, self.tree_algo, self.tree_n0, self.tree_nint, self.tree_l0, self.tree_u0,
                self.tree_nunit, self.max_nodes, self.max_depth, self.feat, self.thr, self.kind, self.default_left,
                self.cat_row, self.cat_mask, self.left, self.right, self.uleft, self.uright, self.node_count,
                self.bit, self.setbit, self.pair_unit, self.pairbit, self.leaf_value, self.leaf_count,
                self.unit_eoff, self.unit_ne, self.e_feat, self.e_toff, self.e_test, self.e_clear, self.e_coef,
                self.tables)


class _Builder:
    """Accumulates nodes and leaves of all trees as Python lists."""

    def __init__(self) -> None:
        self.nodes: dict[str, list[Any]] = {k: [] for k in (
            "feat", "thr", "kind", "default_left", "cat_row", "left", "right", "count", "bit", "setbit", "path_d")}
        self.leaves: dict[str, list[Any]] = {k: [] for k in ("value", "count", "d", "foff")}
        self.leaf_feat: list[int] = []
        self.leaf_z: list[float] = []
        self.categories: list[list[int]] = []

    def tree(self, structure: dict[str, Any]) -> tuple[int, int, int, int, float]:
        """Append one tree; returns (internal nodes, leaves, max depth, max distinct features on a
        path, expected value)."""
        n0, l0 = len(self.nodes["feat"]), len(self.leaves["value"])
        if "split_index" not in structure:  # a one-leaf tree only moves the expected value
            self.leaves["value"].append(float(structure["leaf_value"]))
            self.leaves["count"].append(float(structure.get("leaf_count", 0)))
            self.leaves["d"].append(0)
            self.leaves["foff"].append(len(self.leaf_feat))
            return 0, 1, 0, 0, float(structure["leaf_value"])
        by_leaf_index: dict[int, tuple[float, float]] = {}
        max_depth = max_d = 0
        # (node dict, parent local id, is left child, depth, path features, their z)
        stack: list[tuple[dict[str, Any], int, bool, int, list[int], list[float]]] = [
            (structure, -1, True, 0, [], [])]
        while stack:
            node, parent, is_left, depth, feats, zs = stack.pop()
            if "split_index" not in node:
                if "leaf_coeff" in node:
                    raise ModelError("explanations do not support linear-tree boosters", key="err_fastshap_parse_explanations_do_support_linear")
                local = len(self.leaves["value"]) - l0
                code = ~local
                value = float(node["leaf_value"])
                count = float(node["leaf_count"])
                self.leaves["value"].append(value)
                self.leaves["count"].append(count)
                self.leaves["d"].append(len(feats))
                self.leaves["foff"].append(len(self.leaf_feat))
                self.leaf_feat.extend(feats)
                self.leaf_z.extend(zs)
                by_leaf_index[int(node["leaf_index"])] = (value, count)
                max_depth, max_d = max(max_depth, depth), max(max_d, len(feats))
            else:
                local = len(self.nodes["feat"]) - n0
                code = local
                self._node(node)
                feature = int(node["split_feature"])
                count = float(node["internal_count"])
                first = feature not in feats
                pos = len(feats) if first else feats.index(feature)
                bit = 1 << pos if pos < 63 else 0  # wider paths run the recursive algorithm
                self.nodes["bit"].append(bit)
                self.nodes["setbit"].append(bit if first else 0)
                self.nodes["path_d"].append(len(feats))
                for child, child_is_left in ((node["right_child"], False), (node["left_child"], True)):
                    ratio = float(child["internal_count"] if "split_index" in child else child["leaf_count"]) / count
                    if first:
                        child_feats, child_zs = feats + [feature], zs + [ratio]
                    else:
                        child_feats, child_zs = feats, list(zs)
                        child_zs[pos] = zs[pos] * ratio
                    stack.append((child, local, child_is_left, depth + 1, child_feats, child_zs))
            if parent >= 0:
                self.nodes["left" if is_left else "right"][n0 + parent] = code
        n_int, n_leaves = len(self.nodes["feat"]) - n0, len(self.leaves["value"]) - l0
        total = float(structure["internal_count"])
        expected = 0.0
        for i in range(n_leaves):  # LightGBM's Tree::ExpectedValue, in its leaf order
            value, count = by_leaf_index[i]
            expected += (count / total) * value
        return n_int, n_leaves, max_depth, max_d, expected

    def _node(self, node: dict[str, Any]) -> None:
        decision = node["decision_type"]
        if decision == "==":
            cats = [int(c) for c in str(node["threshold"]).split("||")]
            self.nodes["kind"].append(CATEGORICAL)
            self.nodes["thr"].append(0.0)
            self.nodes["cat_row"].append(len(self.categories))
            self.categories.append(cats)
        elif decision == "<=":
            missing = node.get("missing_type", "None")
            if missing not in _MISSING_KINDS:
                raise ModelError(f"unsupported missing_type {missing!r} in the LightGBM model", key="err_fastshap_parse_unsupported_missing_type_missing", missing=missing)
            self.nodes["kind"].append(_MISSING_KINDS[missing])
            self.nodes["thr"].append(float(node["threshold"]))
            self.nodes["cat_row"].append(0)
        else:
            raise ModelError(f"unsupported decision_type {decision!r} in the LightGBM model", key="err_fastshap_parse_unsupported_decision_type_decision", decision=decision)
        self.nodes["feat"].append(int(node["split_feature"]))
        self.nodes["default_left"].append(bool(node["default_left"]))
        self.nodes["count"].append(float(node["internal_count"]))
        self.nodes["left"].append(0)
        self.nodes["right"].append(0)


def parse_booster(dump: dict[str, Any], max_table_features: int, max_table_values: int) -> Forest:
    """Flatten ``booster.dump_model()``.

    Parameters
    ----------
    dump : dict
        ``booster.dump_model()`` (its default: the best iteration when there is one, like
        ``booster.predict``).
    max_table_features : int
        Trees whose paths all have at most this many distinct features are explained from
        per-leaf pattern tables (``2**d`` values per leaf); deeper trees by the recursion.
    max_table_values : int
        Memory bound on all tables together (8 bytes a value): past it, the trees with the largest
        tables use the recursion.
    """
    # numba's pattern-table kernels load with the first parse (an explainer read back from its model's
    # folder needs none of them)
    from ._fastshap_tables import build_tables
    from ._fastshap_units import _int64, _TreeSpan, _units, _UnitTables

    per_iteration = int(dump.get("num_tree_per_iteration", 1))
    if int(dump.get("num_class", 1)) != 1 or per_iteration != 1:
        raise ModelError(f"explanations support one output per row (binary or regression); "
                         f"got a model with {per_iteration} trees per iteration", key="err_fastshap_parse_explanations_support_one_output", per_iteration=per_iteration)
    if dump.get("average_output"):
        raise ModelError("explanations do not support averaged-output (random forest) boosters", key="err_fastshap_parse_explanations_do_support_averaged")
    builder = _Builder()
    algo, n0, nint, l0, nleaf = [], [], [], [], []
    bias, max_nodes, max_depth = 0.0, 1, 1
    for info in dump["tree_info"]:
        structure = info["tree_structure"]
        n0.append(len(builder.nodes["feat"]))
        l0.append(len(builder.leaves["value"]))
        n_int, n_leaves, depth, d, expected = builder.tree(structure)
        bias += expected
        nint.append(n_int)
        nleaf.append(n_leaves)
        max_nodes = max(max_nodes, n_int, n_leaves)
        max_depth = max(max_depth, depth)
        # the tables divide by z: a split with an empty child (count 0) needs the recursion
        empty = min(builder.leaf_z[builder.leaves["foff"][l0[-1]]:], default=1.0) <= 0.0
        algo.append(ALGO_CONSTANT if n_int == 0 else ALGO_TABLE if d <= max_table_features and not empty
                    else ALGO_RECURSIVE)
    nodes, leaves = builder.nodes, builder.leaves
    left, right = np.asarray(nodes["left"], dtype=np.int64), np.asarray(nodes["right"], dtype=np.int64)
    leaf_d = np.asarray(leaves["d"], dtype=np.int64)
    path_d = np.asarray(nodes["path_d"], dtype=np.int64)
    trees = [_TreeSpan(n0[t], nint[t], l0[t], nleaf[t]) for t in range(len(algo))]
    size = {t: _units(trees[t], left, right, leaf_d, path_d).table_values
            for t, a in enumerate(algo) if a == ALGO_TABLE}
    total = sum(size.values())
    for t in sorted(size, key=lambda t: (-size[t], t)):
        if total <= max_table_values:
            break
        algo[t] = ALGO_RECURSIVE
        total -= size[t]
    leaf_value = np.asarray(leaves["value"], dtype=np.float64)
    leaf_foff = np.asarray(leaves["foff"], dtype=np.int64)
    leaf_feat = np.asarray(builder.leaf_feat, dtype=np.int64)
    leaf_z = np.asarray(builder.leaf_z, dtype=np.float64)
    # per path feature: coefficient of the table value when unsatisfied (-1) and satisfied
    # ((1 - z) / z; empty children only occur in recursive trees)
    leaf_coef = np.empty(2 * len(leaf_z))
    leaf_coef[0::2] = -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        leaf_coef[1::2] = np.where(leaf_z > 0, (1.0 - leaf_z) / np.where(leaf_z > 0, leaf_z, 1.0), 0.0)
    # every leaf's N table first, then the units' tables from them
    leaf_toff = np.full(len(leaf_d), -1, dtype=np.int64)
    leaf_size = 0
    for t, a in enumerate(algo):
        if a == ALGO_TABLE:
            for l in range(l0[t], l0[t] + nleaf[t]):
                leaf_toff[l] = leaf_size
                leaf_size += 1 << int(leaf_d[l])
    leaf_tables = np.zeros(max(leaf_size, 1))
    if leaf_size:
        build_tables(leaf_d, leaf_foff, leaf_toff, leaf_value, leaf_z, leaf_tables)
    units = _UnitTables(len(nodes["feat"]))
    tree_u0, tree_nunit = [], []
    for t, a in enumerate(algo):
        tree_u0.append(len(units.kind))
        tree_nunit.append(units.add_tree(trees[t], left, right, leaf_d, path_d, leaf_foff, leaf_feat, leaf_coef,
                                         np.asarray(nodes["bit"], dtype=np.int64)) if a == ALGO_TABLE else 0)
    tables = units.tables(leaf_toff, leaf_coef, leaf_foff, leaf_tables)
    width = max((max(c) for c in builder.categories), default=-1) + 1
    # one spare zero column: the kernels send codes outside the known ones there (right)
    cat_mask = np.zeros((max(len(builder.categories), 1), width + 1), dtype=np.uint8)
    for row, cats in enumerate(builder.categories):
        cat_mask[row, [c for c in cats if c >= 0]] = 1
    i64 = _int64
    return Forest(
        n_features=int(dump["max_feature_idx"]) + 1, feature_names=list(dump.get("feature_names", [])),
        bias=bias, tree_algo=i64(algo), tree_n0=i64(n0), tree_nint=i64(nint), tree_l0=i64(l0),
        tree_u0=i64(tree_u0), tree_nunit=i64(tree_nunit), max_nodes=max_nodes, max_depth=max_depth,
        feat=i64(nodes["feat"]), thr=np.asarray(nodes["thr"], dtype=np.float64), kind=i64(nodes["kind"]),
        default_left=np.asarray(nodes["default_left"], dtype=np.bool_), cat_row=i64(nodes["cat_row"]),
        cat_mask=cat_mask, left=left, right=right, uleft=units.uleft, uright=units.uright,
        node_count=np.asarray(nodes["count"], dtype=np.float64), bit=i64(nodes["bit"]), setbit=i64(nodes["setbit"]),
        pair_unit=units.pair_unit, pairbit=units.pairbit, leaf_value=leaf_value,
        leaf_count=np.asarray(leaves["count"], dtype=np.float64), unit_eoff=i64(units.eoff), unit_ne=i64(units.ne),
        e_feat=i64(units.e_feat), e_toff=i64(units.e_toff), e_test=i64(units.e_test), e_clear=i64(units.e_clear),
        e_coef=np.asarray(units.e_coef, dtype=np.float64), tables=tables)
