"""Our own reader and predictor of a LightGBM model text (``booster.txt``), without LightGBM.

Why: LightGBM's Python package imports scikit-learn whenever it is installed, a second that scoring
never used. The model text is the documented file LightGBM itself reloads; it gives the split arrays
``Tree::Predict`` walks, and the decisions below are LightGBM's ``Tree::Decision`` (``tree.h``):

- numeric split, missing type ``None``: NaN reads as 0, then ``value <= threshold`` goes left;
- missing type ``Zero``: NaN reads as 0, and 0 goes the default side;
- missing type ``NaN``: NaN goes the default side;
- categorical split: the value's integer part in the split's bitset goes left; NaN, negative and
  unknown codes go right;
- values within 1e-35 of zero are zero (LightGBM drops them from a dense row).

Trees are summed in their order, as LightGBM sums them: margins equal ``Booster.predict(X,
raw_score=True)`` bit for bit (tests/model/test_trees.py). Small inputs run in numpy (QuickScorer bit
masks, below); big ones in a C or numba kernel with the same sums (:mod:`cb_core.model._trees_fast` says
when). :meth:`TreeEnsemble.dump` gives the ``dump_model()``-shaped trees the exact TreeSHAP explainer reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from . import _trees_fast


def _damaged(detail: str) -> ModelError:
    """A model text this reader cannot use (damaged, or unsupported), naming what is wrong."""
    return ModelError(detail, key="err_model_text_damaged", detail=detail)

_CATEGORICAL_MASK, _DEFAULT_LEFT_MASK = 1, 2
#: Split kinds (``kind`` array): LightGBM's missing types, and categorical.
KIND_NONE, KIND_ZERO, KIND_NAN, KIND_CATEGORICAL = 0, 1, 2, 3
_MISSING_NAMES = ("None", "Zero", "NaN")
# LightGBM's kZeroThreshold, a float 1e-35 widened to double
ZERO_THRESHOLD = float(np.float32(1e-35))
#: Rows per block in :meth:`TreeEnsemble.raw_margin` (its node matrices stay in cache).
BLOCK_ROWS = 65536


@dataclass
class _Tree:
    num_leaves: int
    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left_child: list[int]
    right_child: list[int]
    leaf_value: list[float]
    leaf_count: list[float]
    internal_count: list[float]
    cat_boundaries: list[int]
    cat_threshold: list[int]


def _numbers(fields: dict[str, str], key: str, kind: type, count: int, where: str) -> list[Any]:
    text = fields.get(key, "")
    try:
        values = [kind(v) for v in text.split()] if kind is float else [int(v) for v in text.split()]
    except ValueError:
        raise _damaged(f"{where}: {key} holds a value that is not a number") from None
    if count >= 0 and len(values) != count:
        raise _damaged(f"{where}: {key} has {len(values)} values, expected {count}")
    return values


def _tree(fields: dict[str, str], where: str) -> _Tree:
    if fields.get("is_linear", "0") != "0":
        raise _damaged(f"{where}: linear trees are not supported")
    try:
        leaves = int(fields["num_leaves"])
        num_cat = int(fields.get("num_cat", "0"))
    except (KeyError, ValueError):
        raise _damaged(f"{where}: no valid num_leaves") from None
    if leaves < 1:
        raise _damaged(f"{where}: num_leaves must be at least 1; got {leaves}")
    n = leaves - 1
    tree = _Tree(
        num_leaves=leaves,
        split_feature=_numbers(fields, "split_feature", int, n, where),
        threshold=_numbers(fields, "threshold", float, n, where),
        decision_type=_numbers(fields, "decision_type", int, n, where),
        left_child=_numbers(fields, "left_child", int, n, where),
        right_child=_numbers(fields, "right_child", int, n, where),
        leaf_value=_numbers(fields, "leaf_value", float, leaves, where),
        leaf_count=_numbers(fields, "leaf_count", float, leaves if n else -1, where),
        internal_count=_numbers(fields, "internal_count", float, n, where),
        cat_boundaries=_numbers(fields, "cat_boundaries", int, num_cat + 1 if num_cat else 0, where),
        cat_threshold=_numbers(fields, "cat_threshold", int, -1, where),
    )
    for child in tree.left_child + tree.right_child:
        if not -leaves <= child < n:
            raise _damaged(f"{where}: child {child} is neither a node nor a leaf of the tree")
    return tree


class TreeEnsemble:
    """The trees of a LightGBM model text, flattened for prediction.

    Parameters
    ----------
    text : str
        A model text as ``Booster.model_to_string()`` writes it (``booster.txt``).

    Attributes
    ----------
    n_features : int
        Columns a matrix must have (``max_feature_idx + 1``).
    feature_names : list of str
    n_trees : int

    Raises
    ------
    ModelError
        The text is not a complete single-output LightGBM model (names what is wrong).
    """

    def __init__(self, text: str) -> None:
        header, trees = _split(text)
        if header.get("num_class", "1") != "1" or header.get("num_tree_per_iteration", "1") != "1":
            raise _damaged("only single-output (binary or regression) LightGBM models are supported")
        try:
            self.n_features = int(header["max_feature_idx"]) + 1
        except (KeyError, ValueError):
            raise _damaged("no valid max_feature_idx in the model header") from None
        self.feature_names = header.get("feature_names", "").split()
        self.average_output = "average_output" in header
        self._trees = trees
        self.n_trees = len(trees)
        for i, tree in enumerate(trees):
            if any(not 0 <= f < self.n_features for f in tree.split_feature):
                raise _damaged(f"Tree={i}: a split feature is outside the model's {self.n_features} features")
        self._flatten()
        self._flat: tuple[np.ndarray, ...] | None = None  # the numba kernel's arrays

    def _flatten(self) -> None:
        masks: list[np.ndarray] = []
        self._plans = [_plan(tree, i, masks) for i, tree in enumerate(self._trees)]
        width = max((len(m) for m in masks), default=0)
        self._cat_mask = np.zeros((max(len(masks), 1), width + 1), dtype=np.bool_)  # last column: unknown codes
        for row, m in enumerate(masks):
            self._cat_mask[row, :len(m)] = m

    def raw_margin(self, matrix: np.ndarray, *, engine: str | None = None) -> np.ndarray:
        """Sum of the trees' leaf values per row: ``Booster.predict(matrix, raw_score=True)``.

        Parameters
        ----------
        matrix : array-like, shape (rows, n_features)
            Floats in the model's column order; NaN is missing; a categorical feature holds its
            integer code.
        engine : {"numpy", "numba", "native"}, optional
            Forces a pass (all give the same margins bit for bit); default by rows (``_trees_fast.engine_for``).
        """
        X = np.asarray(matrix, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise _damaged(f"the matrix must have {self.n_features} columns (the model's features); got shape {X.shape}")
        chosen = _trees_fast.engine_for(len(X), engine)
        if chosen != "numpy":
            if self._flat is None:  # once per ensemble, on its first big input
                self._flat = _trees_fast.flatten(self._plans, self._cat_mask)
            out = _trees_fast.margins(X, self._flat, chosen)
        else:
            out = np.zeros(len(X))
            for start in range(0, len(X), BLOCK_ROWS):
                out[start:start + BLOCK_ROWS] = self._block(X[start:start + BLOCK_ROWS])
        if self.average_output and self.n_trees:
            out /= self.n_trees
        return out

    def _block(self, X: np.ndarray) -> np.ndarray:
        """One block of rows, QuickScorer-style (Lucchese et al. 2015): per tree a bit per leaf in
        left-to-right order; every split a row fails (goes right) clears the leaves of its left
        subtree, and the row's leaf is the leftmost bit left. Each split is one vectorised
        comparison over a contiguous column, whatever the tree's shape."""
        cols = np.where(np.abs(X) <= ZERO_THRESHOLD, 0.0, X).T.copy()  # NaN stays NaN; features as rows
        nan = np.isnan(cols)
        has_nan = nan.any(axis=1)
        zero = None
        total = np.zeros(len(X))
        go = np.empty(len(X), dtype=np.bool_)
        for tree in self._plans:
            if tree.single is not None:
                total += tree.single
                continue
            if tree.walk is not None:
                total += tree.leaf_values[self._walk(tree.walk, cols, nan)]
                continue
            bits = np.full(len(X), tree.all_bits, dtype=np.uint64)
            for f, kind, th, dl, nan_left, cat_row, clear in tree.nodes:
                x = cols[f]
                if kind == KIND_CATEGORICAL:
                    go[:] = self._categorical(x, cat_row)
                else:
                    np.less_equal(x, th, out=go)
                    if nan_left and has_nan[f]:
                        go |= nan[f]
                    if kind == KIND_ZERO:
                        zero = x == 0.0
                        go[zero] = dl
                np.bitwise_and(bits, clear, out=bits, where=~go)
            lowest = bits & (~bits + np.uint64(1))
            position = np.frexp(lowest.astype(np.float64))[1] - 1
            total += tree.leaf_values[position]
        return total

    def _walk(self, walk: tuple[np.ndarray, ...], cols: np.ndarray, nan: np.ndarray) -> np.ndarray:
        """The leaf of every row in a wide tree, all rows one level per step."""
        feat, thr, kind, dl, nan_left, cat_row, left, right = walk
        n = cols.shape[1]
        node, leaf, active = np.zeros(n, dtype=np.intp), np.zeros(n, dtype=np.intp), np.arange(n)
        while active.size:
            nd = node[active]
            f = feat[nd]
            x = cols[f, active]
            k = kind[nd]
            go = (x <= thr[nd]) | (nan[f, active] & nan_left[nd])
            zero = (k == KIND_ZERO) & (x == 0.0)
            go[zero] = dl[nd][zero]
            cat = k == KIND_CATEGORICAL
            if cat.any():
                go[cat] = self._categorical(x[cat], cat_row[nd[cat]])
            child = np.where(go, left[nd], right[nd])
            done = child < 0
            leaf[active[done]] = ~child[done]
            node[active[~done]] = child[~done]
            active = active[~done]
        return leaf

    def _categorical(self, v: np.ndarray, row: int | np.ndarray) -> np.ndarray:
        width = self._cat_mask.shape[1] - 1
        ok = (v > -1.0) & (v < width)  # truncation toward zero; NaN, negative and unknown codes go right
        code = np.where(ok, np.trunc(np.where(ok, v, 0.0)), width).astype(np.intp)
        return self._cat_mask[row, code]

    def dump(self) -> dict[str, Any]:
        """The trees in the shape of LightGBM's ``Booster.dump_model()`` (the fields the exact
        TreeSHAP explainer reads: splits, thresholds, missing handling, counts, leaf values)."""
        return {"num_class": 1, "num_tree_per_iteration": 1, "max_feature_idx": self.n_features - 1,
                "feature_names": list(self.feature_names), "average_output": self.average_output,
                "tree_info": [{"tree_index": i, "num_leaves": t.num_leaves, "tree_structure": _structure(t)}
                              for i, t in enumerate(self._trees)]}


def _split(text: str) -> tuple[dict[str, str], list[_Tree]]:
    """Header fields and trees of a model text."""
    if not isinstance(text, str) or not text.startswith("tree") or "end of trees" not in text:
        raise _damaged("not a complete LightGBM model text")
    body = text[:text.index("end of trees")]
    blocks = body.split("\nTree=")
    header = _fields(blocks[0])
    trees = []
    for block in blocks[1:]:
        number, _, rest = block.partition("\n")
        trees.append(_tree(_fields(rest), f"Tree={number.strip()}"))
    if not trees:
        raise _damaged("the model text has no trees")
    return header, trees


def _fields(block: str) -> dict[str, str]:
    out = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
        elif line.strip():
            out[line.strip()] = ""
    return out


def _bitset_mask(tree: _Tree, index: int) -> np.ndarray:
    if not 0 <= index < len(tree.cat_boundaries) - 1:
        raise _damaged(f"categorical split refers to bitset {index}, which the tree does not have")
    words = tree.cat_threshold[tree.cat_boundaries[index]:tree.cat_boundaries[index + 1]]
    mask = np.zeros(32 * len(words), dtype=np.bool_)
    for w, word in enumerate(words):
        for b in range(32):
            mask[32 * w + b] = bool((word >> b) & 1)
    return mask


@dataclass
class _Plan:
    """One tree for :meth:`TreeEnsemble._block`: per split (feature, kind, threshold, default left,
    whether NaN goes left, bitset row, the bits kept when the row goes right), all leaves' bits, and
    the leaf values in left-to-right order; ``single`` is the value of a one-leaf tree."""

    nodes: list[tuple[int, int, float, bool, bool, int, np.uint64]]
    all_bits: np.uint64
    leaf_values: np.ndarray
    single: float | None
    #: a tree of more than :data:`MAX_LEAVES` leaves (a scorecard's bins as one tree): its split
    #: arrays (feature, threshold, kind, default left, NaN goes left, bitset row, left, right;
    #: children ``~leaf`` for leaves), walked level by level; ``leaf_values`` then by leaf index
    walk: tuple[np.ndarray, ...] | None = None


def _wide(tree: _Tree, number: int, masks: list[np.ndarray]) -> _Plan:
    feat, thr, kind, dl, nan_left, cat_row = [], [], [], [], [], []
    for i in range(tree.num_leaves - 1):
        d = tree.decision_type[i]
        feat.append(tree.split_feature[i])
        dl.append(bool(d & _DEFAULT_LEFT_MASK))
        if d & _CATEGORICAL_MASK:
            kind.append(KIND_CATEGORICAL)
            thr.append(0.0)
            nan_left.append(False)
            cat_row.append(len(masks))
            masks.append(_bitset_mask(tree, int(tree.threshold[i])))
            continue
        k = (d >> 2) & 3
        if k > 2:
            raise _damaged(f"Tree={number}: unsupported missing type {k}")
        kind.append(k)
        thr.append(tree.threshold[i])
        nan_left.append((0.0 <= tree.threshold[i]) if k == KIND_NONE else dl[-1])
        cat_row.append(0)
    walk = tuple(np.asarray(a, dtype=t) for a, t in zip(
        (feat, thr, kind, dl, nan_left, cat_row, tree.left_child, tree.right_child),
        (np.intp, np.float64, np.int8, np.bool_, np.bool_, np.intp, np.intp, np.intp)))
    return _Plan([], np.uint64(0), np.asarray(tree.leaf_value, dtype=np.float64), None, walk)


#: Leaves a tree may have for the bit-per-leaf predictor.
MAX_LEAVES = 64


def _plan(tree: _Tree, number: int, masks: list[np.ndarray]) -> _Plan:
    if tree.num_leaves == 1:
        return _Plan([], np.uint64(0), np.zeros(0), tree.leaf_value[0])
    if tree.num_leaves > MAX_LEAVES:
        return _wide(tree, number, masks)
    order: list[int] = []  # leaves left to right
    left_leaves: dict[int, list[int]] = {}

    def walk(child: int, seen: int) -> list[int]:
        if seen > tree.num_leaves:
            raise _damaged(f"Tree={number}: its children do not form a tree")
        if child < 0:
            order.append(~child)
            return [~child]
        left = walk(tree.left_child[child], seen + 1)
        right = walk(tree.right_child[child], seen + 1)
        left_leaves[child] = left
        return left + right

    walk(0, 0)
    if sorted(order) != list(range(tree.num_leaves)):
        raise _damaged(f"Tree={number}: its children do not form a tree")
    position = {leaf: i for i, leaf in enumerate(order)}
    all_bits = (1 << tree.num_leaves) - 1
    nodes = []
    for i in range(tree.num_leaves - 1):
        d = tree.decision_type[i]
        keep = all_bits & ~sum(1 << position[leaf] for leaf in left_leaves[i])
        if d & _CATEGORICAL_MASK:
            nodes.append((tree.split_feature[i], KIND_CATEGORICAL, 0.0, False, False, len(masks), np.uint64(keep)))
            masks.append(_bitset_mask(tree, int(tree.threshold[i])))
            continue
        kind = (d >> 2) & 3
        if kind > 2:
            raise _damaged(f"Tree={number}: unsupported missing type {kind}")
        th, dl = tree.threshold[i], bool(d & _DEFAULT_LEFT_MASK)
        nan_left = (0.0 <= th) if kind == KIND_NONE else dl  # None: NaN reads as 0; Zero, NaN: default side
        nodes.append((tree.split_feature[i], kind, th, dl, nan_left, 0, np.uint64(keep)))
    values = np.asarray([tree.leaf_value[leaf] for leaf in order], dtype=np.float64)
    return _Plan(nodes, np.uint64(all_bits), values, None)


def _structure(tree: _Tree) -> dict[str, Any]:
    """One tree as ``dump_model()`` nests it."""
    if tree.num_leaves == 1:
        return {"leaf_value": tree.leaf_value[0], "leaf_count": tree.leaf_count[0] if tree.leaf_count else 0}

    def node(i: int) -> dict[str, Any]:
        if i < 0:
            leaf = ~i
            return {"leaf_index": leaf, "leaf_value": tree.leaf_value[leaf], "leaf_count": tree.leaf_count[leaf]}
        d = tree.decision_type[i]
        out: dict[str, Any] = {"split_index": i, "split_feature": tree.split_feature[i],
                               "default_left": bool(d & _DEFAULT_LEFT_MASK),
                               "missing_type": _MISSING_NAMES[min((d >> 2) & 3, 2)],
                               "internal_count": tree.internal_count[i]}
        if d & _CATEGORICAL_MASK:
            cats = np.flatnonzero(_bitset_mask(tree, int(tree.threshold[i])))
            out.update(decision_type="==", threshold="||".join(str(int(c)) for c in cats))
        else:
            out.update(decision_type="<=", threshold=min(max(tree.threshold[i], -1e300), 1e300))  # AvoidInf
        out["left_child"] = node(tree.left_child[i])
        out["right_child"] = node(tree.right_child[i])
        return out

    return node(0)


__all__ = ["KIND_CATEGORICAL", "KIND_NAN", "KIND_NONE", "KIND_ZERO", "TreeEnsemble"]
