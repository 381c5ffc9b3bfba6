"""Book -> feature tables: the training table (one as-of snapshot per mature outcome month) and the
current snapshot the CLI, the app and batch jobs score."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..data import OUTCOME_HORIZON_MONTHS, STATIC_FIELDS, Book
from ..errors import ModelError
from ..lazy import LazyModule
from .asof import month_index, month_label, snapshot, snapshot_columns, snapshot_in_parts

if TYPE_CHECKING:
    from ._columns import FeatureColumns

pd = LazyModule("pandas")

#: Features computed from a static field (the merchants table's value today): ``thin_file`` is
#: whether ``bureau_score`` is missing.
_DERIVED = {"bureau_score": ("bureau_score", "thin_file"), "owner_has_credit_card": ("owner_has_credit_card",),
            "region_income_index": ("region_income_index",)}


def outcome_maturity(book: Book) -> dict[str, Any]:
    """Which outcome rows are known: a row's 12-month window must end by the book's last month.

    Returns
    -------
    dict
        ``horizon_months``, ``last_month`` (of the book), ``latest_mature_snapshot`` (the last
        snapshot month whose window has ended, or None), ``mature_rows``, ``immature_rows`` (left
        out of training) and ``immature_snapshots`` (their months).
    """
    latest = month_label(month_index(book.last_month) - OUTCOME_HORIZON_MONTHS)
    months = pd.Series([], dtype=str) if book.outcomes is None else book.outcomes["snapshot_month"].astype(str)
    mature = months <= latest
    return {"horizon_months": OUTCOME_HORIZON_MONTHS, "last_month": book.last_month,
            "latest_mature_snapshot": max(months[mature]) if mature.any() else None,
            "mature_rows": int(mature.sum()), "immature_rows": int((~mature).sum()),
            "immature_snapshots": sorted(set(months[~mature]))}


def static_features(book: Book | None = None, *, bureau_history: bool = False) -> list[str]:
    """Features that are not point-in-time in this book: computed from a merchants-table field
    (today's value) for every past snapshot. ``bureau_history`` makes the bureau fields
    point-in-time; ``region_income_index`` (from the address) stays static. Without a book, say
    whether a ``bureau_history`` table is there (the Dask trainer knows its tables, not a Book)."""
    has_history = book.bureau_history is not None if book is not None else bureau_history
    covered = {"bureau_score", "owner_has_credit_card"} if has_history else set()
    return [f for field in STATIC_FIELDS if field not in covered for f in _DERIVED[field]]


def training_table(book: Book) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series | None, pd.Series]:
    """Stack one as-of snapshot per mature outcome ``snapshot_month`` with its outcomes.

    Outcome rows whose 12-month window ends after the book's last month are not known yet and are
    left out (:func:`outcome_maturity` counts them).

    Returns
    -------
    X : DataFrame
        Features (RangeIndex), one row per mature outcome row whose merchant had activity by then.
    y : Series
        ``defaulted_12m`` (0/1).
    time : Series
        The snapshot month of each row (for out-of-time validation).
    true_pd : Series or None
        The generator's true PD when the outcomes carry it (demo books).
    merchant_id : Series
        The merchant of each row.
    """
    if book.outcomes is None or book.outcomes.empty:
        raise ModelError("the book has no outcomes table: training needs rows of merchant_id, "
                         "snapshot_month, defaulted_12m", key="err_pipeline_book_outcomes_table_training")
    maturity = outcome_maturity(book)
    if maturity["mature_rows"] == 0:
        raise ModelError(f"no outcome is known yet: every outcome row's {OUTCOME_HORIZON_MONTHS}-month window ends "
                         f"after the book's last month {book.last_month} (snapshot months "
                         f"{', '.join(maturity['immature_snapshots'])}); training needs snapshots up to "
                         f"{month_label(month_index(book.last_month) - OUTCOME_HORIZON_MONTHS)}", key="err_pipeline_outcome_known_yet_every", OUTCOME_HORIZON_MONTHS=OUTCOME_HORIZON_MONTHS, last_month=book.last_month, maturity=', '.join(maturity['immature_snapshots']), value=month_label(month_index(book.last_month) - OUTCOME_HORIZON_MONTHS))
    parts = []
    mature = book.outcomes[book.outcomes["snapshot_month"].astype(str) <= maturity["latest_mature_snapshot"]]
    for month, rows in mature.groupby("snapshot_month", sort=True):
        snap = snapshot(book.merchants, book.activity, str(month), book.bureau_history)
        joined = rows.set_index("merchant_id").join(snap, how="inner")
        parts.append(joined.reset_index())
    table = pd.concat(parts, ignore_index=True)
    features = list(snap.columns)
    X = table[features]
    X["category"] = X["category"].astype(snap["category"].dtype)
    true_pd = table["true_pd"].astype(float) if "true_pd" in table else None
    return (X, table["defaulted_12m"].astype(int), table["snapshot_month"].astype(str), true_pd,
            table["merchant_id"].astype(str))


def current_snapshot(book: Book, as_of: str | None = None) -> pd.DataFrame:
    """Features of every merchant as of the book's last month (or ``as_of``). An installed book whose
    activity is not read yet gives it in parts of whole merchants (:meth:`Book.activity_parts`): the
    same snapshot without holding its 18 million rows (1,000,000 merchants) at once."""
    month = as_of or book.last_month
    parts = book.activity_parts(dictionaries=True)
    if parts is None:
        return snapshot(book.merchants, book.activity, month, book.bureau_history)
    return snapshot_in_parts(book.merchants, parts, month, book.bureau_history)


def current_columns(book: Book, as_of: str | None = None, *, then: Callable[[int], Any] | None = None
                    ) -> tuple[FeatureColumns, Any] | None:
    """:func:`current_snapshot` as columns (:class:`~cb_core.features._columns.FeatureColumns`), computed from
    the Arrow tables of the book's source without pandas, when it can: every table it reads is not read yet and
    its source gives it as Arrow (the installed book, its activity file sorted by merchant). None otherwise
    (then use :func:`current_snapshot`). ``then`` is called with the number of merchants once they are read,
    before the activity (the command line starts loading its kernels there); the pair returned holds its result.
    """
    pending = book.pending()
    if "merchants" not in pending or ("bureau_history" not in pending and book.bureau_history is not None):
        return None
    month = as_of or book.last_month
    parts = book.activity_parts(dictionaries=True)
    if parts is None:
        return None
    merchants = book.arrow_table("merchants")
    history = book.arrow_table("bureau_history") if "bureau_history" in pending else None
    started = then(merchants.num_rows) if then is not None else None
    return snapshot_columns(merchants, parts, month, history), started


__all__ = ["current_columns", "current_snapshot", "outcome_maturity", "static_features", "training_table"]
