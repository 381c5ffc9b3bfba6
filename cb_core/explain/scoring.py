"""Scoring a whole snapshot: scores, and with an explanation each feature's points, from one pass over the
trees (:func:`score_frame` of a frame, :func:`score_columns` of the columns the installed book gives without
pandas), and the compiled kernels loaded beside the features (:func:`kernels_beside`).

Split out of :mod:`cb_core.explain.points`, whose :func:`~cb_core.explain.points.points_values` turns the
contributions into points for both.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..lazy import LazyModule
from .points import points_values

if TYPE_CHECKING:
    from ..features import FeatureColumns

pd = LazyModule("pandas")

log = logging.getLogger(__name__)


def score_frame(model, features: pd.DataFrame, explain: bool = False) -> pd.DataFrame:
    """``pd``, ``score``, ``grade`` per merchant; with ``explain``, ``base_points`` and ``points__*``."""
    if not explain:
        return model.score(features)
    scores, (names, points) = _scored(model, features)
    return model.score_margin(scores, features.index).join(
        pd.DataFrame(points, index=features.index, columns=names, copy=False))


def score_columns(model, features: FeatureColumns, explain: bool = False) -> dict[str, np.ndarray]:
    """:func:`score_frame` of a snapshot's columns (:func:`cb_core.features.current_columns`) as one array per
    column, in the frame's order, without pandas: the same values."""
    if not explain:
        return model.score_values(model.trees.raw_margin(model.matrix(features)))
    margins, (names, points) = _scored(model, features)
    return {**model.score_values(margins), **{name: points[:, j] for j, name in enumerate(names)}}


def _scored(model, features) -> tuple[np.ndarray, tuple[list[str], np.ndarray]]:
    """The margins and the points (:func:`points_values`) of ``features``: one matrix, and the margins from the
    explanation's own pass over the trees (equal to LightGBM's)."""
    from .fastshap import explainer_for  # lazily: the kernels load with the first explanation

    explainer = explainer_for(model)
    matrix = model.matrix(features)
    contrib, margins = explainer.contributions_and_margins(matrix)
    del matrix
    return margins, points_values(model, contrib)


def kernels_beside(model, rows: int, *, explain: bool, lean: bool = False) -> threading.Thread | None:
    """When :func:`score_frame` of ``rows`` rows will call compiled kernels (an explanation; margins alone
    from ``COLD_ROWS`` rows), start loading them on a thread of its own and return it, so they load while
    the caller computes the features, not after. With ``explain``: the explainer and its tables (kept in the
    model's folder) and the C kernels (:mod:`cb_core.explain._fastshap_native`, built on a machine's first
    use), or numba's where no C compiler works; margins alone: the C pass of the trees (a millisecond), or where
    it cannot be built numba's import, typing registries, cached kernel and thread pool (0.4-0.6 s on an idle
    machine, 1.5 s beside other work). Best effort: a model
    without trees or a machine without numba is left to the scoring itself to handle. None when nothing
    is to load.

    ``lean``: for a process that imports nothing from ``scipy.linalg`` meanwhile (a command line's), when
    numba loads. numba checks once, as its numpy support loads, whether ``np.dot`` can call BLAS, by
    importing ``scipy.linalg`` (0.3 s of a 50,000-merchant ``score --explain``); no kernel here calls
    ``np.dot``, so that import is refused for the check alone (numba then uses its own loop for ``np.dot``
    in this process) and allowed again right after it."""
    from ..model import COLD_ROWS, engine_for

    if not explain and rows < COLD_ROWS:
        return None

    def load() -> None:
        try:
            with _blas_check_refused(lean):
                if explain:
                    from .fastshap import SERIAL_ROWS, explainer_for

                    explainer = explainer_for(model)  # a model's first explanation builds its tables with numba
                    sample = np.full((SERIAL_ROWS, model.trees.n_features), np.nan)
                    explainer.contributions_and_margins(sample)  # parallel from SERIAL_ROWS rows: threads too
                else:  # the C pass (a millisecond), else numba's
                    engine = engine_for(COLD_ROWS, None)
                    if engine != "numpy":
                        model.trees.raw_margin(np.full((1, model.trees.n_features), np.nan), engine=engine)
        except Exception:  # noqa: BLE001 (the scoring reports its own errors)
            log.debug("kernels not preloaded", exc_info=True)

    thread = threading.Thread(target=load, name="cb-kernels-load", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _blas_check_refused(lean: bool) -> Iterator[None]:
    """With ``lean``, ``scipy.linalg.cython_blas`` refused while the block runs, unless scipy's linear algebra
    or numba's numpy support (``numba.np.arraymath``, whose import makes the check) is loaded already: numba,
    if the block loads it, then finds no BLAS. Nothing is imported here."""
    import sys

    name = "scipy.linalg.cython_blas"
    if not lean or "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        yield
        return
    sys.modules[name] = None  # an import of it raises ImportError, which numba reads as "no BLAS"
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]
