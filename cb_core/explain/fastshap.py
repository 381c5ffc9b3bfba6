"""Exact TreeSHAP contributions of a LightGBM model, 30-40x faster than ``shap.TreeExplainer``.

:class:`FastTreeShap` reads ``booster.dump_model()`` once and computes the same values as
``booster.predict(X, pred_contrib=True)`` (path-dependent TreeSHAP with node counts as cover,
the algorithm of LightGBM and of ``shap.TreeExplainer``, which for LightGBM calls that very
``predict``), equal to rounding (1e-14 on our models): one column per feature plus the expected
value last, each row summing to the raw margin.

How: per leaf, or per pair of sibling leaves, the Shapley weights of every pattern of satisfied
splits are tabulated when the explainer is built (Fast TreeSHAP v2, Yang 2021; see
:mod:`cb_core.explain._fastshap_tables`), so a row costs one pass over a tree's nodes plus one table read
per leaf and path feature, in kernels vectorised over blocks of rows and parallel over blocks:
compiled ahead of time in C (:mod:`cb_core.explain._fastshap_native`) where the machine has a C
compiler, else numba's (:mod:`cb_core.explain._fastshap_kernels`), bit for bit the same. Trees with a path over more than ``max_table_features``
distinct features use the classic recursion (:mod:`cb_core.explain._fastshap_recursive`) in the same
pass. Measured with ``bench/bench_explain.py``.

The first call of a process loads the C library (a millisecond; built once per machine, well under a
second) or numba's kernels from its cache (``__pycache__``, 0.3-0.5 s; compiled on a machine's first
call, about 10 s). The pattern tables are built with numba once per model and kept in its folder.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from ..model import NUMBA_POOL_LOCK, TreeEnsemble
from . import _fastshap_native
from ._fastshap_parse import ALGO_RECURSIVE, ALGO_TABLE, Forest, parse_booster
from ._fastshap_store import load_forest, save_forest

if TYPE_CHECKING:
    import lightgbm as lgb

    from ..model import CreditModel

__all__ = ["FastTreeShap", "pred_contrib", "explainer_for"]

#: Distinct features on a leaf's path up to which the leaf gets a pattern table (2**d values).
MAX_TABLE_FEATURES: int = 16
#: Bound on all pattern tables of one explainer, in values (8 bytes each: 128 MiB).
MAX_TABLE_VALUES: int = 1 << 24
#: Fewer rows than this run on the calling thread (waking the pool costs more than it saves).
SERIAL_ROWS: int = 256
#: Rows per parallel work item: a block's output stays in cache while the trees stream past.
BLOCK_ROWS: int = 256
#: Explainers kept by :func:`explainer_for` (one per model version).
CACHED_EXPLAINERS: int = 4

# numba's "workqueue" threading layer (its fallback without OpenMP or TBB) must not be entered from
# two threads at once (Streamlit runs sessions in threads); thread count and chunk size are set per
# calling thread. One lock with the model's own numba pass (TreeEnsemble.raw_margin on big inputs).
_POOL = NUMBA_POOL_LOCK


class FastTreeShap:
    """Exact path-dependent TreeSHAP for a LightGBM booster.

    Parameters
    ----------
    booster : lightgbm.Booster or TreeEnsemble
        A single-output model (binary or regression; a booster, or a model's own parsed trees,
        ``CreditModel.trees``), numeric and categorical splits, any missing-value handling. Its best iteration is used when it has one, like
        ``booster.predict``.
    max_table_features : int
        Trees whose leaves all have at most this many distinct features on their path use the
        pattern tables (``2**d`` values a leaf); others the recursion, as do the largest trees
        once all tables would pass :data:`MAX_TABLE_VALUES`. 0 runs the recursion everywhere
        (as fast as LightGBM's own; kept for comparison).

    Attributes
    ----------
    n_features : int
        Columns ``X`` must have.
    feature_names : list of str
    expected_value : float
        The last column of every row: the mean margin over the training rows (node counts).
    n_trees, n_table_trees, n_recursive_trees, table_values : int
        Trees, trees explained from tables and by the recursion (the rest have one leaf), and the
        tables' total size in values.
    """

    def __init__(self, booster: lgb.Booster, *, max_table_features: int = MAX_TABLE_FEATURES) -> None:
        if isinstance(max_table_features, bool) or not isinstance(max_table_features, (int, np.integer)) \
                or not 0 <= max_table_features <= 20:
            raise ConfigError(f"max_table_features must be a whole number within 0–20; got {max_table_features!r}",
                              key="err_fastshap_max_table_features_whole", max_table_features=max_table_features)
        if hasattr(booster, "dump_model"):
            dump = booster.dump_model()
        elif isinstance(booster, TreeEnsemble):  # a model's own parsed trees: no LightGBM needed
            dump = booster.dump()
        else:
            raise ConfigError(f"booster must be a lightgbm.Booster; got {type(booster).__name__} "
                              "(or pass a model's TreeEnsemble)", key="err_fastshap_booster_lightgbm_booster_got",
                              kind=type(booster).__name__)
        self._use(parse_booster(dump, int(max_table_features), MAX_TABLE_VALUES),
                  booster if isinstance(booster, TreeEnsemble) else None)

    @classmethod
    def _of_forest(cls, forest: Forest, trees: TreeEnsemble | None) -> FastTreeShap:
        """An explainer of arrays already parsed (kept beside the model: :func:`explainer_for`)."""
        explainer = cls.__new__(cls)
        explainer._use(forest, trees)
        return explainer

    def _use(self, forest: Forest, trees: TreeEnsemble | None) -> None:
        self._forest = forest
        self._native: _fastshap_native.NativeForest | None = None  # made on the first C call
        # margins alone of a model's own trees come from its predictor (numpy, or numba's QuickScorer for many
        # rows: ~8x a walk); an explained batch's from the explanation's own pass (contributions_and_margins)
        self._trees = trees
        self.n_features = self._forest.n_features
        self.feature_names = self._forest.feature_names
        self.expected_value = float(self._forest.bias)
        algo = self._forest.tree_algo
        self.n_trees = int(len(algo))
        self.n_table_trees = int(np.sum(algo == ALGO_TABLE))
        self.n_recursive_trees = int(np.sum(algo == ALGO_RECURSIVE))
        self.table_values = int(self._forest.tables.size) if self.n_table_trees else 0

    def __repr__(self) -> str:
        return (f"FastTreeShap(features={self.n_features}, trees={self.n_trees}, "
                f"table_trees={self.n_table_trees})")

    def contributions(self, X: Any, *, n_threads: int | None = None) -> np.ndarray:
        """TreeSHAP contributions of every row.

        Parameters
        ----------
        X : array-like, shape (rows, n_features)
            Feature values in the model's column order as floats; NaN is missing; a categorical
            feature holds its integer code (as :meth:`CreditModel.matrix` builds it).
        n_threads : int, optional
            Threads to use; default numba's count (``NUMBA_NUM_THREADS``, else the CPUs). Inputs
            under :data:`SERIAL_ROWS` rows always run on the calling thread.

        Returns
        -------
        ndarray, shape (rows, n_features + 1)
            Per feature, then the expected value; what ``booster.predict(X, pred_contrib=True)``
            returns.
        """
        return self._explain(self._checked(X), n_threads, margins=False)

    def contributions_and_margins(self, X: Any, *, n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`contributions` and :meth:`margins` of ``X``; with the C kernels from one pass over the
        trees (the decisions the explanation makes find each row's leaves), the same values as each alone."""
        matrix = self._checked(X)
        if self._native_forest() is None or matrix.shape[0] == 0:
            return self._explain(matrix, n_threads, margins=False), self.margins(matrix)
        return self._explain(matrix, n_threads, margins=True)

    def _explain(self, matrix: np.ndarray, n_threads: int | None, *, margins: bool) -> Any:
        threads = None if n_threads is None else _checked_threads(n_threads)
        if matrix.shape[0] == 0:
            return np.zeros((0, self.n_features + 1))
        serial = matrix.shape[0] < SERIAL_ROWS or threads == 1
        native = self._native_forest()
        if native is not None:
            threads = 1 if serial else threads or _fastshap_native.default_threads()
            return native.contributions(matrix, BLOCK_ROWS, threads, margins=margins)
        from ._fastshap_kernels import explain_parallel, explain_serial

        out = np.zeros((matrix.shape[0], self.n_features + 1))
        args = self._forest.kernel_args()
        if serial:
            explain_serial(matrix, out, BLOCK_ROWS, *args)
            return out
        import numba

        with _POOL:
            before = numba.get_num_threads()
            numba.set_num_threads(before if threads is None else threads)
            # small chunks: a thread slowed by other work on the machine does not hold up the rest
            previous_chunk = numba.set_parallel_chunksize(1)
            try:
                explain_parallel(matrix, out, BLOCK_ROWS, *args)
            finally:
                numba.set_parallel_chunksize(previous_chunk)
                numba.set_num_threads(before)
        return out

    def margins(self, X: Any) -> np.ndarray:
        """Raw margins of every row, ``booster.predict(X, raw_score=True)``: the trees summed in
        order like LightGBM (equal to it, not only to rounding), in parallel."""
        matrix = self._checked(X)
        if self._trees is not None:  # a model's own trees: numpy for few rows, numba's QuickScorer for many
            return self._trees.raw_margin(matrix)
        native = self._native_forest()
        if native is not None:  # a walk per row (1M rows of a 69-tree model: 2.4 s; with contributions, free)
            threads = 1 if matrix.shape[0] < SERIAL_ROWS else _fastshap_native.default_threads()
            return native.margins(matrix, BLOCK_ROWS, threads)
        from ._fastshap_kernels import predict_parallel

        out = np.zeros(matrix.shape[0])
        f = self._forest
        with _POOL:
            predict_parallel(matrix, out, f.tree_nint, f.tree_n0, f.tree_l0, f.feat, f.thr, f.kind, f.default_left,
                             f.cat_row, f.cat_mask, f.left, f.right, f.leaf_value)
        return out

    def _native_forest(self) -> _fastshap_native.NativeForest | None:
        """The forest as the C kernels take it; None where they are not available (numba's then)."""
        if self._native is None and _fastshap_native.library() is not None:
            self._native = _fastshap_native.NativeForest(self._forest)
        return self._native

    def _checked(self, X: Any) -> np.ndarray:
        if hasattr(X, "dtypes") and any(str(t) == "category" for t in getattr(X, "dtypes", [])):
            raise ConfigError("X must be a float matrix with categories as integer codes (CreditModel.matrix); "
                              "got a frame with a categorical column", key="err_fastshap_x_float_matrix_categories")
        try:
            matrix = np.ascontiguousarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"X must be a numeric matrix; got {type(X).__name__} ({exc})", key="err_fastshap_x_numeric_matrix_got", kind=type(X).__name__, exc=exc) from None
        if matrix.ndim != 2:
            raise ConfigError(f"X must be 2-D (rows x {self.n_features} features); got {matrix.ndim}-D "
                              f"shape {matrix.shape}", key="err_fastshap_x_d_rows_x", n_features=self.n_features, ndim=matrix.ndim, shape=matrix.shape)
        if matrix.shape[1] != self.n_features:
            raise ConfigError(f"X must have {self.n_features} columns (the model's features); "
                              f"got {matrix.shape[1]}", key="err_fastshap_x_n_features_columns", n_features=self.n_features, shape=matrix.shape[1])
        return matrix


def _checked_threads(n_threads: Any) -> int:
    limit = _fastshap_native.default_threads()
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or not 1 <= n_threads <= limit:
        raise ConfigError(f"n_threads must be a whole number within 1–{limit}; got {n_threads!r}", key="err_fastshap_n_threads_whole_number", limit=limit, n_threads=n_threads)
    return int(n_threads)


_CACHE: OrderedDict[str, FastTreeShap] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def explainer_for(model: CreditModel) -> FastTreeShap:
    """The :class:`FastTreeShap` of a model, built once per model version (the content hash of
    its booster and card) and kept for the last :data:`CACHED_EXPLAINERS` versions; a model loaded
    from a folder keeps its tables there for the next process (:func:`_kept_or_built`)."""
    key = model.version
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    explainer = _kept_or_built(model)
    with _CACHE_LOCK:
        _CACHE[key] = explainer
        while len(_CACHE) > CACHED_EXPLAINERS:
            _CACHE.popitem(last=False)
    return explainer


def _kept_or_built(model: CreditModel) -> FastTreeShap:
    """The explainer from the tables kept in the model's folder when they are its booster's (see
    :mod:`cb_core.explain._fastshap_store`), else built from the model's own parse of its trees
    (LightGBM is not imported) and kept there for the next process."""
    folder = getattr(model, "folder", None)
    limits = (MAX_TABLE_FEATURES, MAX_TABLE_VALUES)
    if folder is not None:
        forest = load_forest(folder, model.booster_text, limits)
        if forest is not None:
            return FastTreeShap._of_forest(forest, model.trees)
    explainer = FastTreeShap(model.trees)
    if folder is not None:
        save_forest(folder, model.booster_text, explainer._forest, limits)
    return explainer


def pred_contrib(model: CreditModel, X: Any) -> np.ndarray:
    """Drop-in for ``model.booster_predict(model.matrix(X), pred_contrib=True)``.

    Parameters
    ----------
    model : CreditModel
    X : DataFrame, or one merchant as a Series

    Returns
    -------
    ndarray, shape (rows, features + 1)
        Contributions in margin units per model feature, then the expected value.
    """
    return explainer_for(model).contributions(model.matrix(X))
