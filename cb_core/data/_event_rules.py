"""Rules tying the optional ``default_events`` table to ``outcomes`` (the column checks are the contract's).

A default event is the month a merchant first reached 90+ days past due; ``outcomes.defaulted_12m``
is a label of that same event. So when a book carries both tables they must agree, row by row:

- no outcome row at or after the merchant's ``default_month`` (a defaulted merchant is not scored
  again for a first default);
- ``defaulted_12m`` is 1 exactly when the default month falls in the 12 months after the snapshot
  (``snapshot < default_month <= snapshot + 12``); a merchant without an event has every label 0.

:func:`event_problems` returns plain ``(table, column, rule, rows, example)`` tuples, like
:func:`cb_core.data._loan_rules.loan_problems`.
"""
from __future__ import annotations

import pandas as pd

from ._loan_rules import Found, _flag
from ._schema_parse import _Column

#: Months after a snapshot that ``defaulted_12m`` covers (:data:`cb_core.data.book.OUTCOME_HORIZON_MONTHS`).
_HORIZON = 12


def event_problems(tables: dict[str, dict[str, _Column]]) -> list[Found]:
    """Problems between ``default_events`` and ``outcomes`` (see the module docstring)."""
    events, outcomes = tables.get("default_events", {}), tables.get("outcomes", {})
    if not ({"merchant_id", "default_month"} <= set(events)
            and {"merchant_id", "snapshot_month", "defaulted_12m"} <= set(outcomes)):
        return []
    ids = events["merchant_id"].values.str.strip()
    month = events["default_month"].months[0]
    ok = ids.notna() & month.notna() & ~ids.duplicated(keep=False)
    event = pd.Series(month[ok].to_numpy(), index=ids[ok].to_numpy())
    who = outcomes["merchant_id"].values.str.strip()
    snap = outcomes["snapshot_month"].months[0]
    label = outcomes["defaulted_12m"].numbers[0]
    d = pd.Series(event.reindex(who.to_numpy()).to_numpy(), index=who.index)
    found: list[Found] = []

    def shown(rows: list[object]) -> pd.Series:
        """The examples of ``rows``, built only for a row that is reported (one per rule)."""
        return (who.loc[rows] + " " + outcomes["snapshot_month"].values.loc[rows] + ", default "
                + d.loc[rows].map(lambda p: f"{int(p) // 12:04d}-{int(p) % 12 + 1:02d}" if pd.notna(p) else "none"))

    after = snap.notna() & d.notna() & (snap >= d)
    _flag(found, "outcomes", "snapshot_month",
          "outcome row at or after the merchant's default_month in default_events", after,
          lambda at: shown([at]).loc[at])
    expected = (d.notna() & (snap < d) & (d <= snap + _HORIZON)).astype("float64")
    known = snap.notna() & label.isin([0, 1]) & ~after
    _flag(found, "outcomes", "defaulted_12m",
          "defaulted_12m does not match default_events (1 exactly when the default_month falls in the "
          "12 months after snapshot_month)", known & (label != expected),
          lambda at: (shown([at]) + ", defaulted_12m "
                      + outcomes["defaulted_12m"].values.loc[[at]].astype(str)).loc[at])
    return found
