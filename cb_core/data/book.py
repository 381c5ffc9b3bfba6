"""The merchant book: the input tables of the data contract, held together.

Column lists here are the contract's single source; ``schema.py`` turns them into validation
rules, ``synth.py`` produces them and ``sources.py`` reads them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

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
    """

    merchants: pd.DataFrame
    activity: pd.DataFrame
    outcomes: pd.DataFrame | None = None
    source: str = ""
    _fingerprint: str | None = field(default=None, repr=False)
    bureau_history: pd.DataFrame | None = None
    _last_month: str | None = field(default=None, repr=False, compare=False)
    loans: pd.DataFrame | None = None
    loan_months: pd.DataFrame | None = None
    default_events: pd.DataFrame | None = None

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
