"""One partner's booked book: the loans it booked through the brokerage and how they perform.

A partner bank judges the referrals it buys by how its own loans do, so this module takes the
book's ``loans`` and ``loan_months`` tables, keeps the rows of one partner only (another partner's
loans never enter any figure), and sums them up as of the last month of ``loan_months`` (the same
month for every partner).

Definitions (``as_of`` is that month; "open" is a loan with a row in ``as_of`` whose status is not
``repaid`` or ``charged_off``; its balance is the outstanding balance):

volume
    Per month from the partner's first booking to ``as_of``: loans booked and amount booked that
    month, open loans and outstanding balance at that month's end.
vintages
    :func:`cb_core.loans.vintages` of the partner's loans under a registry definition.
delinquency by grade
    Per grade at booking, open loans at ``as_of``: count and balance, and for 30+, 60+ and 90+
    days past due (the registry's ``dpd_30``/``dpd_60``/``dpd_90``) the loans and balance that meet
    it and their shares of the grade's open loans and of its outstanding balance.
concentration
    Outstanding balance at ``as_of`` by category, region and grade at booking: each group's share,
    and the Herfindahl-Hirschman index HHI = sum of (share in %)^2, 0-10,000. Read as the
    U.S. merger guidelines of 2010 do: below 1,500 unconcentrated, 1,500-2,500 moderately
    concentrated, above 2,500 highly concentrated.
delinquent loans
    The partner's open loans 30+ days past due at ``as_of``, largest balance first, with owner names
    and business numbers masked as for a partner whoever looks (business names are left out).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..features import month_index, month_label
from ..loans import DEFINITIONS, definition, vintages
from .masking import mask_frame

__all__ = ["CONCENTRATION_BY", "DELINQUENCY_KEYS", "HHI_MODERATE", "HHI_HIGH", "PartnerBook", "hhi",
           "hhi_reading", "partner_book"]

#: Concentration dimensions and the column each groups on.
CONCENTRATION_BY: dict[str, str] = {"category": "category", "region": "region", "grade": "grade_at_booking"}
#: Registry definitions counted in the delinquency table, mildest first.
DELINQUENCY_KEYS: tuple[str, ...] = ("dpd_30", "dpd_60", "dpd_90")
#: HHI at or above which a book is moderately concentrated, and above which highly.
HHI_MODERATE = 1_500.0
HHI_HIGH = 2_500.0
#: Delinquent loans listed at most.
DELINQUENT_LIMIT = 50
_TERMINAL = ("repaid", "charged_off")
_MONTH = re.compile(r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")
_PARTNER_ROLE = "partner"  # masking role of everything here, whoever looks


def hhi(balances: pd.Series | np.ndarray) -> float:
    """Herfindahl-Hirschman index of ``balances`` (one amount per group): sum of squared shares in
    percent, 0-10,000. NaN when the total is zero; ConfigError on a negative amount."""
    values = np.asarray(balances, dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise ConfigError("hhi needs amounts that are zero or more; got a negative or missing one", key="err_booked_book_hhi_needs_amounts_that")
    total = values.sum()
    if total <= 0:
        return float("nan")
    return float(np.sum((values / total * 100.0) ** 2))


def hhi_reading(value: float) -> str | None:
    """``unconcentrated`` (< 1,500), ``moderate`` (1,500-2,500) or ``high`` (> 2,500); None for NaN."""
    if value != value:
        return None
    if value < HHI_MODERATE:
        return "unconcentrated"
    return "moderate" if value <= HHI_HIGH else "high"


@dataclass(frozen=True)
class PartnerBook:
    """A partner's booked book as of ``as_of`` (see the module docstring for every definition).

    ``volume``: ``month``, ``booked_loans``, ``booked_krw``, ``open_loans``, ``outstanding_krw``.
    ``vintages``: ``cohort``, ``mob``, ``loans``, ``bads``, ``cum_bad_rate`` under ``bad``.
    ``delinquency``: one row per grade with open loans: ``grade``, ``open_loans``, ``outstanding_krw``,
    and per key of :data:`DELINQUENCY_KEYS` ``<key>_loans``, ``<key>_krw``, ``<key>_loan_share``,
    ``<key>_balance_share``; ``delinquency_total`` the same over all grades (one row, no grade).
    ``concentration``: per dimension of :data:`CONCENTRATION_BY` a frame ``group``, ``open_loans``,
    ``outstanding_krw``, ``share`` (largest first); ``hhi``: the index per dimension.
    ``delinquent``: ``loan_id``, ``merchant_id``, ``owner_name``, ``business_reg_no`` (masked),
    ``category``, ``region``, ``grade``, ``booked_month``, ``days_past_due``, ``status``, ``balance_krw``.
    """

    partner: str
    as_of: str | None
    bad: str
    n_loans: int
    booked_krw: float
    volume: pd.DataFrame
    vintages: pd.DataFrame
    delinquency: pd.DataFrame
    delinquency_total: pd.DataFrame
    concentration: dict[str, pd.DataFrame]
    hhi: dict[str, float]
    delinquent: pd.DataFrame

    @property
    def empty(self) -> bool:
        """No booked loan of this partner."""
        return self.n_loans == 0

    @property
    def open_loans(self) -> int:
        return int(self.delinquency_total["open_loans"].iloc[0]) if len(self.delinquency_total) else 0

    @property
    def outstanding_krw(self) -> float:
        return float(self.delinquency_total["outstanding_krw"].iloc[0]) if len(self.delinquency_total) else 0.0


def _delinquency_row(rows: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {"open_loans": len(rows), "outstanding_krw": float(rows["balance_krw"].sum())}
    for key in DELINQUENCY_KEYS:
        hit = DEFINITIONS[key].meets(rows)
        loans, krw = int(hit.sum()), float(rows.loc[hit, "balance_krw"].sum())
        out[f"{key}_loans"], out[f"{key}_krw"] = loans, krw
        out[f"{key}_loan_share"] = loans / len(rows) if len(rows) else float("nan")
        out[f"{key}_balance_share"] = krw / out["outstanding_krw"] if out["outstanding_krw"] > 0 else float("nan")
    return out


def _concentration(open_rows: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = open_rows.groupby(open_rows[column].astype(str), sort=False)
    frame = pd.DataFrame({"open_loans": grouped.size(), "outstanding_krw": grouped["balance_krw"].sum().astype(float)})
    total = frame["outstanding_krw"].sum()
    frame["share"] = frame["outstanding_krw"] / total if total > 0 else float("nan")
    frame = frame.rename_axis("group").reset_index()
    return frame.sort_values(["outstanding_krw", "group"], ascending=[False, True], ignore_index=True)


def _volume(loans: pd.DataFrame, rows: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    months = [month_label(m) for m in range(first, last + 1)]
    booked = loans.groupby("booked_month")["amount_krw"].agg(["size", "sum"]).reindex(months, fill_value=0)
    live = rows[~rows["status"].isin(_TERMINAL)]
    held = live.groupby("month")["balance_krw"].agg(["size", "sum"]).reindex(months, fill_value=0)
    return pd.DataFrame({"month": months, "booked_loans": booked["size"].to_numpy(dtype="int64"),
                         "booked_krw": booked["sum"].to_numpy(dtype=float),
                         "open_loans": held["size"].to_numpy(dtype="int64"),
                         "outstanding_krw": held["sum"].to_numpy(dtype=float)})


def partner_book(book: Book, partner: str, *, bad: str = "dpd_30", as_of: str | None = None) -> PartnerBook:
    """Sum up ``partner``'s booked loans (see the module docstring).

    Parameters
    ----------
    book : Book
        With ``merchants``; a book without ``loans``/``loan_months`` gives an empty result.
    partner : str
        The partner's key (``loans.partner``, as the catalog's ``partner`` field).
    bad : str
        The registry definition of the vintages (``dpd_30``, ``dpd_60``, ``dpd_90``, ``charge_off``, ``bad``).
    as_of : str, optional
        Month ``YYYY-MM`` the book is read at (default: the last month of ``loan_months``).
    """
    if not isinstance(partner, str) or not partner.strip():
        raise ConfigError(f"partner must be a non-empty text; got {partner!r}", key="err_booked_book_partner_non_empty_text", partner=partner)
    d = definition(bad)
    has_tables = book.loans is not None and book.loan_months is not None and len(book.loan_months) > 0
    if has_tables:
        last_all = int(np.max(month_index(book.loan_months["month"].astype(str))))
        if as_of is not None:
            if not isinstance(as_of, str) or not _MONTH.match(as_of):
                raise ConfigError(f"as_of must be a month YYYY-MM; got {as_of!r}", key="err_booked_book_as_month_yyyy_mm", as_of=as_of)
            if month_index(as_of) > last_all:
                raise ConfigError(f"as_of {as_of} is after the last month of loan_months ({month_label(last_all)})", key="err_booked_book_as_as_after_last", as_of=as_of, last_all=month_label(last_all))
            last_all = int(month_index(as_of))
        mine = book.loans[book.loans["partner"].astype(str) == partner]
        mine = mine[np.asarray(month_index(mine["booked_month"].astype(str))) <= last_all] if len(mine) else mine
    if not has_tables or mine.empty:
        return _empty(partner, d.key, month_label(last_all) if has_tables else None)

    as_of_label = month_label(last_all)
    rows = book.loan_months[book.loan_months["loan_id"].isin(mine["loan_id"])]
    rows = rows[np.asarray(month_index(rows["month"].astype(str))) <= last_all]
    own = replace(book, loans=mine.reset_index(drop=True), loan_months=rows.reset_index(drop=True), _fingerprint=None)
    curves = vintages(own, bad=d.key, as_of=as_of_label).drop(columns="group")

    people = book.merchants.assign(merchant_id=book.merchants["merchant_id"].astype(str)).set_index("merchant_id")
    facts = mine.assign(merchant_id=mine["merchant_id"].astype(str)).set_index("loan_id")
    at = rows[(rows["month"].astype(str) == as_of_label) & ~rows["status"].isin(_TERMINAL)].copy()
    at["grade_at_booking"] = facts["grade_at_booking"].reindex(at["loan_id"]).astype(int).to_numpy()
    at["merchant_id"] = facts["merchant_id"].reindex(at["loan_id"]).to_numpy()
    for column in ("category", "region"):
        values = people[column].reindex(at["merchant_id"]) if column in people else pd.Series(index=at.index)
        at[column] = pd.Series(values.to_numpy(), index=at.index).astype(object).where(lambda s: s.notna(), "")

    grades = sorted(at["grade_at_booking"].unique())
    delinquency = pd.DataFrame([{"grade": int(g), **_delinquency_row(at[at["grade_at_booking"] == g])}
                                for g in grades], columns=["grade", *_delinquency_row(at.iloc[:0])])
    total = pd.DataFrame([_delinquency_row(at)])
    concentration = {k: _concentration(at, c) for k, c in CONCENTRATION_BY.items()}

    late = at[DEFINITIONS["dpd_30"].meets(at)].sort_values(["balance_krw", "loan_id"], ascending=[False, True])
    late = late.head(DELINQUENT_LIMIT)
    masked = mask_frame(people.reindex(late["merchant_id"])[["owner_name", "business_reg_no"]]
                        if {"owner_name", "business_reg_no"} <= set(people.columns)
                        else pd.DataFrame({"owner_name": [""] * len(late), "business_reg_no": [""] * len(late)}),
                        _PARTNER_ROLE)
    delinquent = pd.DataFrame({
        "loan_id": late["loan_id"].astype(str).to_numpy(), "merchant_id": late["merchant_id"].to_numpy(),
        "owner_name": masked["owner_name"].to_numpy(), "business_reg_no": masked["business_reg_no"].to_numpy(),
        "category": late["category"].to_numpy(), "region": late["region"].to_numpy(),
        "grade": late["grade_at_booking"].to_numpy(dtype="int64"),
        "booked_month": facts["booked_month"].reindex(late["loan_id"]).astype(str).to_numpy(),
        "days_past_due": late["days_past_due"].to_numpy(dtype="int64"), "status": late["status"].astype(str).to_numpy(),
        "balance_krw": late["balance_krw"].to_numpy(dtype=float)})

    first = int(np.min(month_index(mine["booked_month"].astype(str))))
    return PartnerBook(partner, as_of_label, d.key, len(mine), float(mine["amount_krw"].sum()),
                       _volume(mine, rows, first, last_all), curves, delinquency, total, concentration,
                       {k: hhi(f["outstanding_krw"]) for k, f in concentration.items()}, delinquent)


def _empty(partner: str, bad: str, as_of: str | None) -> PartnerBook:
    none = pd.DataFrame()
    return PartnerBook(partner, as_of, bad, 0, 0.0, none, none, none, none,
                       {k: none for k in CONCENTRATION_BY}, {k: float("nan") for k in CONCENTRATION_BY}, none)
