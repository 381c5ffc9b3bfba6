"""One partition of the batch pipeline: plain pandas, no Dask, so a worker runs exactly the
single-machine code on its share of the merchants.

A partition holds every row of the merchants whose ``merchant_id`` hashes to its bucket
(:func:`with_bucket`), so each rule that spans rows of one merchant (unique ids, one row per
month, contiguous months, ids that exist in ``merchants``) and each feature of the snapshot can be
computed without seeing any other partition. :func:`score_partition` then validates the tables
with :func:`~cb_core.data.schema.validate_tables`, builds the snapshot with
:func:`~cb_core.features.asof.snapshot`, scores with :meth:`~cb_core.model.credit_model.CreditModel.score`,
explains with :func:`~cb_core.explain.points.points_by_feature` and matches offers with
:func:`~cb_core.offers.match.match_book`: the same functions, hence the same numbers, as the
single-machine path.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..data import categories
from ..errors import ModelError
from ..explain import BASE_COLUMN, points_by_feature, points_column
from ..features import feature_names, snapshot
from ..model import CreditModel
from ..loans import block_offers
from ..offers import BOOK_FIELDS, match_book
from ..features import training_table
from ..data import validate_tables

__all__ = ["BUCKET_COLUMN", "OFFER_PREFIX", "category_dtype", "with_bucket", "offer_column",
           "flatten_offers", "output_meta", "score_partition", "training_meta", "training_partition"]

#: Partition key added to every input table before the shuffle.
BUCKET_COLUMN = "_bucket"
#: Offer columns are ``offer__<field>__<product_id>`` and ``offer__best__<field>``.
OFFER_PREFIX = "offer__"
_TEXT = pd.StringDtype(na_value=np.nan)  # pandas' default string dtype, as in the canonical tables
_OFFER_FIELDS = ("eligible", "failed", "limit_krw", "apr_pct", "monthly_payment_krw", "total_cost_krw")
_BEST_FIELDS = ("limit_krw", "apr_pct", "monthly_payment_krw", "product_id", "n_eligible")
_OFFER_INPUTS = ("months_active", "gmv_3m_avg_krw", "category")
_models: dict[str, CreditModel] = {}


def category_dtype() -> pd.CategoricalDtype:
    """The shipped category list as one fixed dtype: every partition, the training frame and the
    output use it, so category codes mean the same thing everywhere."""
    return pd.CategoricalDtype(list(categories()))


# ------------------------------------------------------------------ partitioning

def with_bucket(frame: pd.DataFrame, n_buckets: int) -> pd.DataFrame:
    """``frame`` with :data:`BUCKET_COLUMN`: a stable hash of the stripped ``merchant_id`` modulo
    ``n_buckets`` (the same in every process and on every machine)."""
    ids = frame["merchant_id"].astype(_TEXT).str.strip().fillna("")
    hashed = pd.util.hash_array(ids.to_numpy(dtype=object))
    return frame.assign(**{BUCKET_COLUMN: (hashed % np.uint64(n_buckets)).astype(np.int64)})


def _unbucketed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    return out.drop(columns=[BUCKET_COLUMN]) if BUCKET_COLUMN in out.columns else out


def _validated(tables: dict[str, pd.DataFrame], today: date, partition_info: dict | None) -> Any:
    where = f"partition {partition_info['number']}" if partition_info else "a partition"
    return validate_tables({k: _unbucketed(v) for k, v in tables.items()}, today=today,
                           source=f"{where} of the book (row numbers count rows within the partition)")


# ------------------------------------------------------------------ the model on a worker

class _TaskModel(CreditModel):
    """A :class:`CreditModel` whose LightGBM calls run on one thread.

    Dask runs one task per worker thread; a LightGBM call that also starts an OpenMP thread per
    core oversubscribes the machine (on 2 busy cores that can be many times slower). The thread
    count does not change any value LightGBM returns.
    """

    def booster_predict(self, matrix: np.ndarray, **kwargs: Any) -> np.ndarray:
        kwargs.setdefault("num_threads", 1)
        return super().booster_predict(matrix, **kwargs)


def _task_model(booster_text: str, card: dict[str, Any]) -> CreditModel:
    """The model built once per worker process and version (parsing the booster is not free)."""
    version = str(card["version"])
    if version not in _models:
        _models.clear()
        _models[version] = _TaskModel(booster_text, card)
    return _models[version]


# ------------------------------------------------------------------ offers as flat columns

def offer_column(field: str, product_id: str) -> str:
    """Output column of one :func:`~cb_core.offers.match.match_book` column ``(field, product_id)``."""
    return f"{OFFER_PREFIX}{field}__{product_id}"


def flatten_offers(matched: pd.DataFrame) -> pd.DataFrame:
    """:func:`~cb_core.offers.match.match_book`'s two column levels as flat names Parquet can
    store (:func:`offer_column`); ``best`` ``product_id`` becomes text (missing when none)."""
    flat = matched.copy()
    flat.columns = [offer_column(field, product) for field, product in matched.columns]
    best = offer_column("best", "product_id")
    flat[best] = flat[best].astype(_TEXT)
    return flat


def _offer_dtypes(product_ids: list[str]) -> dict[str, Any]:
    kinds = {"eligible": np.dtype(bool), "failed": np.dtype(np.uint8)}
    out = {offer_column(f, p): kinds.get(f, np.dtype(float)) for f in _OFFER_FIELDS for p in product_ids}
    out |= {offer_column("best", f): np.dtype(float) for f in _BEST_FIELDS[:3]}
    out |= {offer_column("best", "product_id"): _TEXT, offer_column("best", "n_eligible"): np.dtype(np.int64)}
    return out


# ------------------------------------------------------------------ scoring

def output_meta(model: CreditModel, *, explain: bool, products: pd.DataFrame | None,
                include_features: bool) -> pd.DataFrame:
    """The empty frame every scored partition conforms to (its columns and dtypes).

    Columns: ``merchant_id``, ``pd``, ``score``, ``grade``; with ``explain`` ``base_points`` and
    ``points__<feature>`` per model feature; with ``products`` the offer columns
    (:func:`offer_column`); with ``include_features`` every snapshot feature, ``category`` with
    :func:`category_dtype`.
    """
    if list(BOOK_FIELDS) != list(_OFFER_FIELDS):
        raise ModelError(f"match_book fields changed to {BOOK_FIELDS}; update the batch output columns")
    dtypes: dict[str, Any] = {"merchant_id": _TEXT, "pd": np.dtype(float), "score": np.dtype(np.int64),
                              "grade": np.dtype(np.int64)}
    if explain:
        dtypes |= {c: np.dtype(float) for c in (BASE_COLUMN, *map(points_column, model.features))}
    if products is not None:
        dtypes |= _offer_dtypes(products["product_id"].astype(str).tolist())
    if include_features:
        dtypes |= {f: category_dtype() if f == "category" else np.dtype(float) for f in feature_names()}
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})


def score_partition(merchants: pd.DataFrame, activity: pd.DataFrame, *, booster_text: str,
                    card: dict[str, Any], as_of: str, today: date, explain: bool,
                    products: pd.DataFrame | None, include_features: bool, like: pd.DataFrame,
                    blocked: tuple[str, ...] = (), partition_info: dict | None = None) -> pd.DataFrame:
    """Validate, snapshot, score, explain and match one partition of merchants.

    Parameters
    ----------
    merchants, activity : DataFrame
        The raw rows of the partition's merchants (any extra :data:`BUCKET_COLUMN` is dropped).
    booster_text, card
        The model (:class:`~cb_core.model.credit_model.CreditModel` parts, shipped as text).
    as_of : str
        Snapshot month of the whole book (not of the partition).
    today : date
        What "future" means to the validation, the same for every partition.
    explain, products, include_features
        As in :func:`output_meta`; ``products`` None skips offers.
    blocked : tuple of str
        Merchants who get no offer (Square's rule, :func:`cb_core.loans.block_offers`).
    like : DataFrame
        From :func:`output_meta`; the result has exactly its columns and dtypes.

    Returns
    -------
    DataFrame
        One row per merchant with activity up to ``as_of``, sorted by ``merchant_id``.
    """
    if len(activity) == 0:
        return like.copy()  # no merchant here has a row to score
    book = _validated({"merchants": merchants, "monthly_activity": activity}, today, partition_info)
    features = snapshot(book.merchants, book.activity, as_of)
    if len(features) == 0:
        return like.copy()
    features["category"] = features["category"].astype(category_dtype())
    model = _task_model(booster_text, card)
    parts = [model.score(features)]
    if explain:
        parts.append(points_by_feature(model, features))
    if products is not None:
        matched = match_book(parts[0].join(features[list(_OFFER_INPUTS)]), products)
        parts.append(flatten_offers(block_offers(matched, blocked)))
    if include_features:
        parts.append(features)
    out = pd.concat(parts, axis=1).sort_index(kind="mergesort")
    out.index.name = "merchant_id"
    out = out.reset_index()
    return out[list(like.columns)].astype(like.dtypes.to_dict())


# ------------------------------------------------------------------ training rows

def training_meta() -> pd.DataFrame:
    """Columns and dtypes of :func:`training_partition`."""
    cols: dict[str, Any] = {f: category_dtype() if f == "category" else np.dtype(float) for f in feature_names()}
    cols |= {"defaulted_12m": np.dtype(np.int64), "snapshot_month": _TEXT, "true_pd": np.dtype(float),
             "merchant_id": _TEXT}
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in cols.items()})


def training_partition(merchants: pd.DataFrame, activity: pd.DataFrame, outcomes: pd.DataFrame, *,
                       today: date, partition_info: dict | None = None) -> pd.DataFrame:
    """:func:`~cb_core.features.pipeline.training_table` of one partition: one row per outcome row whose
    merchant had activity by its snapshot month, features as of that month, then
    ``defaulted_12m``, ``snapshot_month``, ``true_pd`` (NaN when the outcomes lack it) and
    ``merchant_id``; ``category`` with :func:`category_dtype`."""
    meta = training_meta()
    if len(activity) == 0 or len(outcomes) == 0:
        return meta.copy()
    book = _validated({"merchants": merchants, "monthly_activity": activity, "outcomes": outcomes}, today,
                      partition_info)
    X, y, time, true_pd, merchant_id = training_table(book)
    out = X.assign(defaulted_12m=y.to_numpy(), snapshot_month=time.to_numpy(),
                   true_pd=np.nan if true_pd is None else true_pd.to_numpy(), merchant_id=merchant_id.to_numpy())
    out["category"] = out["category"].astype(category_dtype())
    return out[list(meta.columns)].astype(meta.dtypes.to_dict())
