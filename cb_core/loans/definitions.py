"""The one registry of delinquency definitions, and when each loan first meets one.

Every chart and table of booked loans names the definition it counts (its ``key`` and its
label in :file:`data/i18n/loans.json`). Months on book (``mob``) count from the booking month,
which is mob 0.

=============  ==================================================================  ============
key            a loan is bad from the first month it ...                           window
=============  ==================================================================  ============
``dpd_30``     is 30 or more days past due, or charged off                         whole life
``dpd_60``     is 60 or more days past due, or charged off                         whole life
``dpd_90``     is 90 or more days past due, or charged off                         whole life
``charge_off`` is charged off                                                      whole life
``bad``        is 90 or more days past due, or charged off, by mob 12: the         12 months
               outcome the score predicts (``outcomes.defaulted_12m``)
=============  ==================================================================  ============
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..i18n import t

__all__ = ["BAD_FOR_SCORE", "DEFINITIONS", "Definition", "definition", "first_bad_mob", "months_on_book"]


@dataclass(frozen=True)
class Definition:
    """One delinquency definition: ``min_days_past_due`` (None: charge-off only) and an optional
    window of months on book (``within_months``) after which a first occurrence no longer counts."""

    key: str
    min_days_past_due: int | None
    within_months: int | None = None

    def label(self, lang: str = "ko") -> str:
        """The definition's name in ``lang`` (from ``data/i18n/loans.json``)."""
        return t(f"loans_def_{self.key}", lang)

    def meets(self, loan_months: pd.DataFrame) -> pd.Series:
        """Per ``loan_months`` row: does the loan meet the definition that month (window aside)?"""
        charged = loan_months["status"].eq("charged_off")
        if self.min_days_past_due is None:
            return charged
        return charged | loan_months["days_past_due"].ge(self.min_days_past_due)


DEFINITIONS: dict[str, Definition] = {d.key: d for d in (
    Definition("dpd_30", 30), Definition("dpd_60", 60), Definition("dpd_90", 90),
    Definition("charge_off", None), Definition("bad", 90, within_months=12),
)}
#: The definition the score is trained on and backtested against.
BAD_FOR_SCORE = "bad"


def definition(key: str | Definition) -> Definition:
    """The registry's definition ``key``; a :class:`ConfigError` naming the known keys otherwise."""
    if isinstance(key, Definition):
        return key
    try:
        return DEFINITIONS[key]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown delinquency definition {key!r}; expected one of {', '.join(DEFINITIONS)}", key="err_definitions_unknown_delinquency_definition_key", key_value=key, DEFINITIONS=', '.join(DEFINITIONS)) from None


def _period(months: pd.Series) -> np.ndarray:
    text = months.astype(str)
    return (text.str.slice(0, 4).astype(np.int64) * 12 + text.str.slice(5, 7).astype(np.int64) - 1).to_numpy()


def months_on_book(loans: pd.DataFrame, loan_months: pd.DataFrame) -> pd.Series:
    """Months on book of each ``loan_months`` row: its month minus its loan's ``booked_month``."""
    booked = pd.Series(_period(loans["booked_month"]), index=loans["loan_id"].to_numpy())
    start = booked.reindex(loan_months["loan_id"].to_numpy()).to_numpy()
    return pd.Series(_period(loan_months["month"]) - start, index=loan_months.index, name="mob")


def first_bad_mob(loans: pd.DataFrame, loan_months: pd.DataFrame, key: str | Definition) -> pd.Series:
    """Months on book at which each loan first meets the definition (NaN: never, or only after
    its window), indexed by ``loan_id`` in ``loans`` order."""
    d = definition(key)
    mob = months_on_book(loans, loan_months)
    hit = d.meets(loan_months)
    if d.within_months is not None:
        hit &= mob.le(d.within_months)
    first = mob[hit].groupby(loan_months["loan_id"][hit].to_numpy()).min()
    return first.reindex(loans["loan_id"].to_numpy()).astype("float64").rename("first_bad_mob")
