"""The merchant book: the input tables of the data contract, held together.

Column lists here are the contract's single source; ``schema.py`` turns them into validation
rules, ``synth.py`` produces them and ``sources.py`` reads them.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from ..lazy import LazyModule

if TYPE_CHECKING:
    import pyarrow as pa

pd = LazyModule("pandas")

MERCHANT_COLUMNS: tuple[str, ...] = (
    "merchant_id", "business_name", "owner_name", "business_reg_no", "category", "region",
    "opened_on", "joined_platform_on", "bureau_score", "owner_has_credit_card",
    "region_income_index",
)
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "merchant_id", "month", "gmv_krw", "orders", "returns", "refund_krw", "unique_buyers",
    "repeat_buyer_rate", "active_listings", "inventory_turnover", "avg_rating", "reviews",
    "disputes", "ship_delay_rate", "settlement_krw", "search_clicks", "ad_spend_krw",
)
OUTCOME_COLUMNS: tuple[str, ...] = ("merchant_id", "snapshot_month", "defaulted_12m")
#: Optional outcome column: the generator's true probability of default (demo books only).
OUTCOME_OPTIONAL_COLUMNS: tuple[str, ...] = ("true_pd",)

#: Optional table: the owner's bureau record as it was each month, so snapshots are point-in-time.
BUREAU_HISTORY_COLUMNS: tuple[str, ...] = ("merchant_id", "month", "bureau_score", "owner_has_credit_card")
#: Merchant fields that describe the merchant today, not as of a past snapshot; ``bureau_history``
#: gives the first two as of each month.
STATIC_FIELDS: tuple[str, ...] = ("bureau_score", "owner_has_credit_card", "region_income_index")
#: Months of the outcome window of ``defaulted_12m``: an outcome is known once this many months
#: after its snapshot are in the book.
OUTCOME_HORIZON_MONTHS: int = 12

PERSONAL_COLUMNS: tuple[str, ...] = ("owner_name", "business_reg_no")
SENSITIVE_COLUMNS: tuple[str, ...] = ("region_income_index",)

#: Optional table: each merchant's persistent default event (the month it first reached 90+ days
#: past due on its credit), at most one row per merchant. It is a label, like ``outcomes``: the
#: features and the trainer never read it. The demo book's demo loans default exactly then.
DEFAULT_EVENT_COLUMNS: tuple[str, ...] = ("merchant_id", "default_month")

TABLES: tuple[str, ...] = ("merchants", "monthly_activity", "outcomes", "bureau_history", "loans", "loan_months",
                           "default_events")
REQUIRED_TABLES: tuple[str, ...] = ("merchants", "monthly_activity")


class PendingTable:
    """A table of a :class:`Book` that is read on first use: ``load()`` runs once (in whichever thread
    asks first; a second caller waits for it) and its frame is kept. A load that fails raises in
    every caller and is tried again on the next access (nothing half-read is kept).

    The installed book (:func:`cb_core.data.load_current`) gives its large tables this way, so a
    page that needs only the merchants (or the cached snapshot) does not wait for 18 million activity
    rows; ``load`` checks the file's digest before it uses a byte of it."""

    def __init__(self, load: Callable[[], pd.DataFrame],
                 parts: Callable[..., Iterator[pa.Table] | None] | None = None,
                 arrow: Callable[[], pa.Table] | None = None,
                 rows: Callable[[str], pd.DataFrame | None] | None = None) -> None:
        self._load: Callable[[], pd.DataFrame] | None = load
        #: The table in parts without reading it whole (:meth:`Book.activity_parts`), when the source can.
        self.parts = parts
        #: The table as an Arrow table, read each time and not kept (:meth:`Book.arrow_table`), when the source can.
        self.arrow = arrow
        #: One merchant's rows, read each time without the whole table (:meth:`Book.activity_rows`), when the source can.
        self.rows = rows
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def result(self) -> pd.DataFrame:
        with self._lock:
            if self._load is not None:
                self._frame = self._load()
                self._load = None  # what it closed over (paths, digests) is not kept
            return self._frame


class _Table:
    """A table field of :class:`Book`: holds a frame, None (an absent optional table) or a
    :class:`PendingTable`, which is read on first access and replaced by its frame."""

    def __init__(self, optional: bool) -> None:
        self.optional = optional

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_table_{name}"

    def __get__(self, obj: object, owner: type | None = None) -> pd.DataFrame | None:
        if obj is None:  # the dataclass's default: None for an optional table, none for a required one
            if self.optional:
                return None
            raise AttributeError(self.name)
        value = obj.__dict__[self.slot]
        if isinstance(value, PendingTable):
            value = value.result()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class Book:
    """Validated input tables plus where they came from.

    Attributes
    ----------
    merchants, activity : DataFrame
        The ``merchants`` and ``monthly_activity`` tables.
    outcomes : DataFrame or None
        The optional ``outcomes`` table.
    source : str
        Human-readable origin (folder, URL, "demo").
    bureau_history : DataFrame or None
        The optional ``bureau_history`` table (bureau score and credit card of the owner by month).
    loans, loan_months : DataFrame or None
        The optional booked-loan tables (:mod:`cb_core.data.loan_contract`).
    default_events : DataFrame or None
        The optional ``default_events`` table (:data:`DEFAULT_EVENT_COLUMNS`).

    Any table may be given as a :class:`PendingTable`: it is read on first access (once, thread-safe),
    so the attributes above always hold the real frames. :meth:`pending` names the tables not read
    yet; :meth:`load_all` reads them.
    """

    merchants: pd.DataFrame = _Table(optional=False)
    activity: pd.DataFrame = _Table(optional=False)
    outcomes: pd.DataFrame | None = _Table(optional=True)
    source: str = ""
    _fingerprint: str | None = field(default=None, repr=False)
    bureau_history: pd.DataFrame | None = _Table(optional=True)
    _last_month: str | None = field(default=None, repr=False, compare=False)
    loans: pd.DataFrame | None = _Table(optional=True)
    loan_months: pd.DataFrame | None = _Table(optional=True)
    default_events: pd.DataFrame | None = _Table(optional=True)

    def pending(self) -> tuple[str, ...]:
        """The fields (``activity``, ``loan_months``, ...) whose table is not read yet."""
        return tuple(slot.removeprefix("_table_") for slot, value in vars(self).items()
                     if slot.startswith("_table_") and isinstance(value, PendingTable))

    def activity_parts(self, *, dictionaries: bool = False) -> Iterator[pa.Table] | None:
        """The activity table as Arrow tables (the columns and types of the installed file) that each hold
        every row of the merchants they name (a merchant's rows are never split between two), read one after
        the other and not kept, when the table is not
        read yet and its source can give it so (the installed book, its file sorted by merchant); None
        otherwise (then use :attr:`activity`). The features of every merchant are computed this way
        without holding the whole table (:func:`cb_core.features.snapshot_in_parts`). ``dictionaries``: ids and
        months encoded against their distinct values, as Parquet stores them (what the snapshot reads: no string
        of them decoded or hashed)."""
        value = self.__dict__.get("_table_activity")
        if not isinstance(value, PendingTable) or value.parts is None:
            return None
        return value.parts(dictionaries=dictionaries)

    def activity_rows(self, merchant_id: str) -> pd.DataFrame | None:
        """One merchant's activity rows (the whole table's columns and dtypes, in its order), read from the
        installed file's row groups that hold that merchant, while the table is not read yet and its source can
        (the installed book, its file sorted by merchant); None otherwise (then take them from :attr:`activity`).
        The review page shows a merchant without waiting for 18 million rows (1,000,000 merchants)."""
        value = self.__dict__.get("_table_activity")
        if not isinstance(value, PendingTable) or value.rows is None:
            return None
        return value.rows(merchant_id)

    def arrow_table(self, name: str) -> pa.Table | None:
        """The table of the field ``name`` (``merchants``, ``bureau_history``, ...) as an Arrow table, read from
        its source now and not kept, when it is not read yet and its source can (the installed book: its file,
        checked against its digest); None otherwise (then use the attribute). No frame is made: the command
        line's score of the installed book computes its snapshot from these (:func:`cb_core.features.current_columns`)."""
        value = self.__dict__.get(f"_table_{name}")
        if not isinstance(value, PendingTable) or value.arrow is None:
            return None
        return value.arrow()

    def load_all(self) -> None:
        """Read every table not read yet (the app's background warm-up, after the landing page)."""
        for name in self.pending():
            getattr(self, name)

    @property
    def fingerprint(self) -> str:
        """Content hash of the tables (16 hex digits); same data, same fingerprint."""
        if self._fingerprint is None:
            h = hashlib.sha256()
            # optional tables count only when present, so a book without them keeps its fingerprint
            extra = tuple(f for f in (self.bureau_history, self.loans, self.loan_months, self.default_events)
                          if f is not None)
            for frame in (self.merchants, self.activity, self.outcomes, *extra):
                if frame is None:
                    h.update(b"none")
                    continue
                h.update(",".join(map(str, frame.columns)).encode())
                h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
            self._fingerprint = h.hexdigest()[:16]
        return self._fingerprint

    @property
    def last_month(self) -> str:
        """Latest month present in the activity table (YYYY-MM); computed once (a Book's tables are
        not changed after it is made)."""
        if self._last_month is None:
            self._last_month = str(self.activity["month"].max())
        return self._last_month

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"merchants": self.merchants, "monthly_activity": self.activity}
        if self.outcomes is not None:
            out["outcomes"] = self.outcomes
        if self.bureau_history is not None:
            out["bureau_history"] = self.bureau_history
        for name, frame in (("loans", self.loans), ("loan_months", self.loan_months),
                            ("default_events", self.default_events)):
            if frame is not None:
                out[name] = frame
        return out
