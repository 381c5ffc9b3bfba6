"""The WoE/logistic scorecard candidate, on numpy: monotone binning per feature, weights of evidence,
a logistic regression on them, and the scorecard written as LightGBM trees.

Each numeric feature is cut into quantile pre-bins that are merged (pool-adjacent-violators) until
the bad rate is monotone in the value, then until every bin holds at least ``min_share`` of the
rows; the direction is the feature's monotone constraint when it has one, otherwise the one with
the higher information value. A categorical feature's levels are ordered by bad rate and grouped
into bins of at least ``min_share``. Missing values are a bin of their own (neutral, WoE 0, when
the training rows have none; unseen categories count as missing). Bad rates are shrunk toward the
overall rate by ``prior_rows`` pseudo-rows, so a small bin cannot get an extreme WoE.

``margin = intercept + sum_j coef_j * woe_j(x_j)`` is a sum of one-feature step functions, so it is
written exactly as one LightGBM tree per feature (a NaN split first, then the bin edges): the
scorecard then saves, loads, scores and explains (TreeSHAP) like any booster, and its points are
additive by construction: a feature's points depend on that feature alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logit

from ..errors import ModelError

#: Pre-bins per numeric feature, smallest bin share, pseudo-rows of the shrinkage, smallest
#: information value a feature needs to enter the regression, and the regression's inverse L2 strength.
MAX_PREBINS = 20
MIN_SHARE = 0.05
PRIOR_ROWS = 10.0
MIN_IV = 0.02
LOGISTIC_C = 1.0
#: The NaN split at each scorecard tree's root: every number goes left, a missing value right.
_ALL_NUMBERS = 1e300


@dataclass
class Steps:
    """One feature's step function: ``values[i]`` on ``(edges[i-1], edges[i]]`` (``edges`` sorted,
    one fewer than ``values``), ``missing`` for a missing value; ``counts`` are the training rows
    of each step and ``missing_count`` of the missing step."""

    edges: np.ndarray
    values: np.ndarray
    counts: np.ndarray
    missing: float
    missing_count: int

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = self.values[np.searchsorted(self.edges, np.where(np.isnan(x), 0.0, x), side="left")]
        return np.where(np.isnan(x), self.missing, out)


@dataclass
class WoeScorecard:
    """A fitted scorecard: WoE steps of every feature, the logistic coefficients (0 = not used)
    and the intercept, all in log-odds of a bad."""

    steps: list[Steps]
    coef: np.ndarray
    intercept: float
    iv: np.ndarray
    directions: list[str]

    def margin(self, matrix: np.ndarray) -> np.ndarray:
        """Log-odds of a bad for each row of the model matrix (categories as their codes)."""
        out = np.full(len(matrix), self.intercept)
        for j in np.flatnonzero(self.coef):
            out += self.coef[j] * self.steps[j](matrix[:, j])
        return out

    def summary(self, features: list[str]) -> dict[str, Any]:
        """For the card: each feature's information value, coefficient, trend and bin count."""
        return {f: {"iv": round(float(self.iv[j]), 4), "coef": round(float(self.coef[j]), 4),
                    "trend": self.directions[j], "bins": int(len(self.steps[j].values))}
                for j, f in enumerate(features)}


def _woe(bads: np.ndarray, rows: np.ndarray, rate: float, prior_rows: float) -> np.ndarray:
    shrunk = (bads + prior_rows * rate) / (rows + prior_rows)
    return logit(shrunk) - logit(rate)


def _pav(bads: list[float], rows: list[float], edges: list[float], ascending: bool) -> tuple[list, list, list]:
    """Merge adjacent bins until the bad rate rises (``ascending``) or falls strictly with the value."""
    b, n, e = [], [], []  # e[i] = right edge of bin i (inf for the last)
    for bi, ni, ei in zip(bads, rows, edges):
        b.append(bi), n.append(ni), e.append(ei)
        while len(b) > 1 and ((b[-2] / n[-2] >= b[-1] / n[-1]) if ascending else (b[-2] / n[-2] <= b[-1] / n[-1])):
            bl, nl, el = b.pop(), n.pop(), e.pop()
            b[-1], n[-1], e[-1] = b[-1] + bl, n[-1] + nl, el
    return b, n, e


def _merge_small(b: list, n: list, e: list, min_rows: float) -> tuple[list, list, list]:
    """Merge each bin below ``min_rows`` into the neighbour whose bad rate is closest."""
    while len(n) > 1 and min(n) < min_rows:
        i = int(np.argmin(n))
        if i == 0:
            j = 1
        elif i == len(n) - 1:
            j = i - 1
        else:
            r = b[i] / n[i]
            j = i - 1 if abs(b[i - 1] / n[i - 1] - r) <= abs(b[i + 1] / n[i + 1] - r) else i + 1
        lo, hi = min(i, j), max(i, j)
        b[lo], n[lo], e[lo] = b[lo] + b[hi], n[lo] + n[hi], e[hi]
        del b[hi], n[hi], e[hi]
    return b, n, e


def _prebin_edges(x: np.ndarray, max_prebins: int) -> np.ndarray:
    uniq = np.unique(x)
    mids = (uniq[:-1] + uniq[1:]) / 2
    if len(uniq) <= max_prebins:
        return mids
    q = np.quantile(x, np.linspace(0, 1, max_prebins + 1)[1:-1])
    return np.unique(mids[np.clip(np.searchsorted(uniq, q, side="right") - 1, 0, len(mids) - 1)])


def _iv(b: np.ndarray, n: np.ndarray, total_b: float, total_g: float, woe: np.ndarray) -> float:
    return float(np.sum((b / max(total_b, 1) - (n - b) / max(total_g, 1)) * woe))


def bin_feature(x: np.ndarray, y: np.ndarray, *, categorical: bool, n_levels: int = 0, monotone: int = 0,
                max_prebins: int = MAX_PREBINS, min_share: float = MIN_SHARE,
                prior_rows: float = PRIOR_ROWS) -> tuple[Steps, float, str]:
    """WoE steps of one feature from the rows ``x`` (NaN = missing; a categorical's codes
    ``0..n_levels-1``) and their outcomes ``y``: ``(steps, information value, trend)``."""
    y = np.asarray(y, dtype=float)
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    total_b, total_g = float(y.sum()), float(len(y) - y.sum())
    miss = np.isnan(x)
    xv, yv = x[~miss], y[~miss]
    min_rows = max(1.0, min_share * len(y))
    if categorical:
        codes = xv.astype(np.int64)
        n = np.bincount(codes, minlength=n_levels).astype(float)
        b = np.bincount(codes, weights=yv, minlength=n_levels)
        seen = np.flatnonzero(n > 0)
        order = seen[np.argsort(_woe(b[seen], n[seen], rate, prior_rows), kind="mergesort")]
        gb, gn, members = [], [], []
        for c in order:  # group levels in bad-rate order until each group is big enough
            if gn and gn[-1] < min_rows:
                gb[-1] += b[c]
                gn[-1] += n[c]
                members[-1].append(c)
            else:
                gb.append(b[c]), gn.append(n[c]), members.append([c])
        if len(gn) > 1 and gn[-1] < min_rows:
            bl, nl, ml = gb.pop(), gn.pop(), members.pop()
            gb[-1], gn[-1] = gb[-1] + bl, gn[-1] + nl
            members[-1] += ml
        gwoe = _woe(np.array(gb), np.array(gn), rate, prior_rows) if gn else np.zeros(0)
        level_woe = np.zeros(max(n_levels, 1))  # a level no training row has: neutral
        for g, cs in enumerate(members):
            level_woe[cs] = gwoe[g]
        iv, trend = _iv(np.array(gb), np.array(gn), total_b, total_g, gwoe) if gn else 0.0, "by level"
        edges = np.arange(len(level_woe) - 1) + 0.5
        counts = n if len(n) == len(level_woe) else np.zeros(len(level_woe))
        steps = Steps(edges, level_woe, counts, 0.0, 0)
    else:
        cuts = _prebin_edges(xv, max_prebins) if len(xv) else np.zeros(0)
        idx = np.searchsorted(cuts, xv, side="left")
        n0 = np.bincount(idx, minlength=len(cuts) + 1).astype(float)
        b0 = np.bincount(idx, weights=yv, minlength=len(cuts) + 1)
        keep = n0 > 0
        right = np.append(cuts, np.inf)[keep]
        best = None
        directions = ("ascending",) if monotone > 0 else ("descending",) if monotone < 0 else ("ascending",
                                                                                                "descending")
        for direction in directions:
            bb, nn, ee = _merge_small(*_pav(list(b0[keep]), list(n0[keep]), list(right), direction == "ascending"),
                                      min_rows)
            bb, nn = np.array(bb), np.array(nn)
            w = _woe(bb, nn, rate, prior_rows) if len(nn) else np.zeros(1)
            iv = _iv(bb, nn, total_b, total_g, w) if len(nn) else 0.0
            if best is None or iv > best[1]:
                best = (Steps(np.array(ee[:-1], dtype=float), w, nn if len(nn) else np.zeros(1), 0.0, 0), iv,
                        direction)
        steps, iv, trend = best
        if len(steps.values) == 1:
            trend = "flat"
    m = int(miss.sum())
    if m:
        steps.missing = float(_woe(np.array([y[miss].sum()]), np.array([float(m)]), rate, prior_rows)[0])
        steps.missing_count = m
        iv += _iv(np.array([y[miss].sum()]), np.array([float(m)]), total_b, total_g, np.array([steps.missing]))
    return steps, float(iv), trend


def fit_woe_scorecard(matrix: np.ndarray, y: np.ndarray, categorical: list[bool], n_levels: list[int],
                      monotone: list[int], *, min_iv: float = MIN_IV, C: float = LOGISTIC_C) -> WoeScorecard:
    """Bin every column of ``matrix`` (:func:`bin_feature`), then fit a logistic regression on the
    WoE of the features with information value at least ``min_iv`` (the strongest one at least);
    a feature whose coefficient comes out negative (its WoE says the opposite of the others, a sign of
    collinearity) leaves the regression, which is fitted again."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=np.int64)
    binned = [bin_feature(matrix[:, j], y, categorical=categorical[j], n_levels=n_levels[j], monotone=monotone[j])
              for j in range(matrix.shape[1])]
    steps = [s for s, _, _ in binned]
    iv = np.array([v for _, v, _ in binned])
    use = [j for j in np.argsort(-iv) if iv[j] >= min_iv] or [int(np.argmax(iv))]
    woe = np.column_stack([steps[j](matrix[:, j]) for j in range(matrix.shape[1])])
    coef = np.zeros(matrix.shape[1])
    intercept = float(logit(np.clip(y.mean(), 1e-6, 1 - 1e-6)))
    while use:
        lr = LogisticRegression(C=C, max_iter=1000).fit(woe[:, use], y)
        negative = [j for j, c in zip(use, lr.coef_[0]) if c <= 0]
        if not negative:
            coef[use] = lr.coef_[0]
            intercept = float(lr.intercept_[0])
            break
        use = [j for j in use if j not in negative]
    return WoeScorecard(steps, coef, intercept, iv, [t for _, _, t in binned])


# ------------------------------------------------------------------ as LightGBM trees

def _num(v: float) -> str:
    return repr(float(v))


def step_tree(index: int, feature: int, steps: Steps, scale: float, shift: float) -> str:
    """One ``Tree=`` block of LightGBM's model text: ``scale * steps(x) + shift`` on column ``feature``.

    The root sends a missing value right to its own leaf (decision type 8: missing type NaN, default
    right) and every number left, into a balanced tree over the bin edges (``x <= edge`` goes left)."""
    values = scale * np.asarray(steps.values, dtype=float) + shift
    counts = np.maximum(np.asarray(steps.counts, dtype=float), 1.0)
    n_leaves = len(values) + 1  # the bins, then the missing leaf
    split, thr, left, right, ival, icount = [], [], [], [], [], []
    leaf_value = list(values) + [scale * steps.missing + shift]
    leaf_count = list(counts) + [max(1.0, float(steps.missing_count))]

    def node(threshold: float) -> int:
        split.append(feature), thr.append(threshold), left.append(0), right.append(0), ival.append(0.0)
        icount.append(0.0)
        return len(split) - 1

    def build(lo: int, hi: int) -> int:  # child reference of the bins lo..hi-1
        if hi - lo == 1:
            return ~lo
        mid = (lo + hi) // 2
        k = node(float(steps.edges[mid - 1]))
        left[k], right[k] = build(lo, mid), build(mid, hi)
        icount[k] = float(np.sum(counts[lo:hi]))
        ival[k] = float(np.dot(values[lo:hi], counts[lo:hi]) / icount[k])
        return k

    root = node(_ALL_NUMBERS)
    left[root], right[root] = build(0, len(values)), ~(n_leaves - 1)
    icount[root] = float(sum(leaf_count))
    ival[root] = float(np.dot(leaf_value, leaf_count) / icount[root])
    join = " ".join
    return "\n".join([
        f"Tree={index}", f"num_leaves={n_leaves}", "num_cat=0",
        "split_feature=" + join(str(f) for f in split), "split_gain=" + join("1" for _ in split),
        "threshold=" + join(_num(t) for t in thr), "decision_type=" + join("8" for _ in split),
        "left_child=" + join(str(c) for c in left), "right_child=" + join(str(c) for c in right),
        "leaf_value=" + join(_num(v) for v in leaf_value), "leaf_weight=" + join(_num(c) for c in leaf_count),
        "leaf_count=" + join(str(int(c)) for c in leaf_count), "internal_value=" + join(_num(v) for v in ival),
        "internal_weight=" + join(_num(c) for c in icount), "internal_count=" + join(str(int(c)) for c in icount),
        "is_linear=0", "shrinkage=1", "", ""])


def scorecard_trees(card: WoeScorecard, scale: float = 1.0, shift: float = 0.0, first_index: int = 0) -> list[str]:
    """``scale * card.margin + shift`` as tree blocks, one per used feature (the intercept and
    ``shift`` ride on the first)."""
    used = [int(j) for j in np.flatnonzero(card.coef)] or [0]
    blocks = []
    for k, j in enumerate(used):
        add = scale * card.intercept + shift if k == 0 else 0.0
        coef = card.coef[j] if card.coef[j] else 0.0
        blocks.append(step_tree(first_index + k, j, card.steps[j], scale * coef, add))
    return blocks


def model_text(header: str, blocks: list[str], tail: str = "pandas_categorical:null\n") -> str:
    """A LightGBM model text from a header (``tree`` ... ``feature_infos=``), tree blocks and the
    ``pandas_categorical`` line; LightGBM reads it back and writes it out whole
    (``Booster(model_str=...).model_to_string()``)."""
    header = "\n".join(line for line in header.strip().splitlines() if not line.startswith("tree_sizes="))
    return header + "\n\n" + "\n".join(blocks) + "\nend of trees\n\n" + tail


def header_for(names: list[str], matrix: np.ndarray) -> str:
    """The header of a model text over ``names`` (the booster's names), ranges from ``matrix``."""
    infos = []
    for j in range(matrix.shape[1]):
        col = matrix[:, j][~np.isnan(matrix[:, j])]
        infos.append(f"[{_num(col.min())}:{_num(col.max())}]" if len(col) else "none")
    return "\n".join(["tree", "version=v4", "num_class=1", "num_tree_per_iteration=1", "label_index=0",
                      f"max_feature_idx={len(names) - 1}", "objective=binary sigmoid:1",
                      "feature_names=" + " ".join(names), "feature_infos=" + " ".join(infos)])


def scaled_blocks(text: str, scale: float, shift: float) -> tuple[str, list[str], str]:
    """A LightGBM model text cut into header, tree blocks (each leaf value times ``scale``, ``shift``
    added to the first tree's) and the ``pandas_categorical`` tail."""
    head, sep, rest = text.partition("\nTree=")
    body, sep2, tail = rest.partition("end of trees")
    if not sep or not sep2:
        raise ModelError("not a LightGBM model text with trees", key="err_woe_lightgbm_model_text_trees")
    blocks = []
    for k, block in enumerate(("Tree=" + body).split("\nTree=")):
        block = block if block.startswith("Tree=") else "Tree=" + block
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            key, _, value = line.partition("=")
            if key in ("leaf_value", "internal_value"):
                add = shift if k == 0 else 0.0
                lines[i] = key + "=" + " ".join(_num(scale * float(v) + add) for v in value.split())
        blocks.append("\n".join(lines) + "\n\n")
    pandas_line = next((ln for ln in tail.splitlines() if ln.startswith("pandas_categorical:")),
                       "pandas_categorical:null")
    return head, blocks, pandas_line + "\n"


def renumber(blocks: list[str]) -> list[str]:
    """Tree blocks numbered ``Tree=0, 1, ...`` in order."""
    out = []
    for k, block in enumerate(blocks):
        first, _, rest = block.partition("\n")
        out.append(f"Tree={k}\n{rest}")
    return out
