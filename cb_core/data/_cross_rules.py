"""Rules across rows and tables of the data contract: merchant ids that exist, one row per key,
contiguous months, joined on or after opened (and the booked-loan rules of :mod:`._loan_rules`).

Split out of :mod:`cb_core.data.schema`. Ids and months are dictionary-encoded
(:class:`~cb_core.data._schema_parse._Column`), so each rule compares integer codes or runs its
text work once per distinct value, not once per row.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..errors import Problem
from .book import TABLES
from ._contract import _KEYS, _column_position, _Found, _rows_problem
from ._event_rules import event_problems
from ._loan_rules import loan_problems
from ._schema_parse import _Column, _clean_ids, _has_invisible, _isin, _month_text

_MONTHS_LISTED = 12


def _valid_dates(col: _Column, today: date) -> pd.Series:
    return col.dates[0].where(col.dates[0] <= pd.Timestamp(today))


def _valid_months(col: _Column, today: date) -> pd.Series:
    return col.months[0].where(col.months[0] <= today.year * 12 + today.month - 1)


def _used(col: _Column) -> np.ndarray:
    """Which distinct values of a text column some row holds (blank cells were dropped after encoding)."""
    return np.bincount(col.codes[col.codes >= 0], minlength=len(col.uniques)) > 0


def _repeated(keys: np.ndarray) -> np.ndarray:
    """Which rows hold a key (≥ 0) that another row holds too: counted in an array when the keys are
    dense (codes), hashed otherwise."""
    if len(keys) and keys.max() < 8 * len(keys) + 1024:
        counts = np.bincount(keys[keys >= 0], minlength=max(int(keys.max()) + 1, 1))
        return (keys >= 0) & (counts[np.maximum(keys, 0)] > 1)
    return (keys >= 0) & pd.Series(keys).duplicated(keep=False).to_numpy()


def _first(col: _Column, bad: np.ndarray) -> object:
    return col.values.iloc[int(np.argmax(bad))]


def _cross_problems(tables: dict[str, dict[str, _Column]], today: date, max_rows: int) -> list[_Found]:
    """Rules across rows and tables, on the values that passed their own column checks."""
    found: list[_Found] = []
    merchants = tables.get("merchants", {})
    if {"opened_on", "joined_platform_on"} <= set(merchants):
        opened, joined = merchants["opened_on"], merchants["joined_platform_on"]
        bad = (_valid_dates(joined, today) < _valid_dates(opened, today)).to_numpy(dtype=bool)
        if bad.any():
            first = int(np.argmax(bad))
            found.append(_rows_problem(
                "merchants", "joined_platform_on", "must not be before opened_on", np.flatnonzero(bad) + 1,
                f"{joined.values.iloc[first]} < {opened.values.iloc[first]}",
                max_rows, (0, 2, _column_position("merchants", "joined_platform_on"))))
    if "merchant_id" in merchants and len(merchants["merchant_id"].values):
        # Compared without surrounding spaces, and ids with invisible characters left out: an id
        # with either is reported once, where it is.
        m = merchants["merchant_id"]
        known = _clean_ids(m.uniques[_used(m)]).drop_duplicates()
        for table in ("monthly_activity", "outcomes", "bureau_history", "loans", "default_events"):
            ids = tables.get(table, {}).get("merchant_id")
            if ids is None:
                continue
            bad = ids.per_value(lambda u: ~_isin(u.str.strip(), known) & ~_has_invisible(u))
            if bad.any():
                found.append(_rows_problem(table, "merchant_id", "merchant_id not found in merchants",
                                           np.flatnonzero(bad) + 1, _first(ids, bad), max_rows,
                                           (TABLES.index(table), 2, 0)))
    for table, key in _KEYS.items():
        columns = tables.get(table, {})
        if set(key) <= set(columns):
            first, second = columns[key[0]], columns[key[1]]
            present = (first.codes >= 0) & (second.codes >= 0)
            combined = first.codes.astype(np.int64) * (len(second.uniques) + 1) + second.codes
            bad = present & _repeated(np.where(present, combined, -1))
            if bad.any():
                at = int(np.argmax(bad))
                found.append(_rows_problem(
                    table, "+".join(key), f"duplicate {' + '.join(key)}: one row per {' and '.join(key)}",
                    np.flatnonzero(bad) + 1, f"{first.values.iloc[at]} {second.values.iloc[at]}", max_rows,
                    (TABLES.index(table), 1, _column_position(table, key[-1]))))
    activity = tables.get("monthly_activity", {})
    if {"merchant_id", "month"} <= set(activity):
        ids, months = activity["merchant_id"], activity["month"]
        periods = _valid_months(months, today).to_numpy(dtype="float64")
        # A merchant with a month that is itself reported (malformed, future), or with a row whose
        # id is reported (spaces, invisible characters), is not also a gap.
        used = ids.uniques[_used(ids)]
        clean = _clean_ids(used)
        odd_month = ~months.missing & np.isnan(periods) & (ids.codes >= 0)
        reported = set(ids.uniques.iloc[np.unique(ids.codes[odd_month])]) | set(clean[clean.ne(used)])
        codes = np.where(ids.per_value(lambda u: _isin(u, reported)), -1, ids.codes) if reported else ids.codes
        found += _gap_problems(codes, ids.uniques, periods, max_rows)
    for table, column, rule, rows, example in loan_problems(tables) + event_problems(tables):
        found.append(_rows_problem(table, column, rule, rows, example, max_rows,
                                   (TABLES.index(table), 2, _column_position(table, column))))
    return found


def _gap_problems(codes: np.ndarray, names: pd.Series, periods: np.ndarray, max_rows: int) -> list[_Found]:
    """Merchants whose months have a gap; ``codes`` index ``names`` (-1: left out), one period per row."""
    ok = (codes >= 0) & ~np.isnan(periods)
    rows, merchant, period = np.flatnonzero(ok) + 1, codes[ok], periods[ok].astype(np.int64)
    if not len(rows):
        return []
    low = period.min()  # one integer key per merchant and month; a stable sort keeps rows in order
    order = np.argsort(merchant * (period.max() - low + 1) + (period - low), kind="stable")
    rows, merchant, period = rows[order], merchant[order], period[order]
    first = np.ones(len(rows), dtype=bool)  # the first row of each merchant and month
    first[1:] = (merchant[1:] != merchant[:-1]) | (period[1:] != period[:-1])
    rows, merchant, period = rows[first], merchant[first], period[first]
    after_gap = np.flatnonzero((merchant[1:] == merchant[:-1]) & (period[1:] - period[:-1] > 1)) + 1
    if not len(after_gap):
        return []
    gaps = pd.DataFrame({"merchant": merchant[after_gap], "period": period[after_gap],
                         "previous": period[after_gap - 1], "row": rows[after_gap]})
    t = TABLES.index("monthly_activity")
    found: list[_Found] = []
    by_merchant = sorted(gaps.groupby("merchant", sort=False), key=lambda kv: kv[1]["row"].min())
    for code, group in by_merchant[:max_rows]:
        merchant_id = names.iloc[int(code)]
        missing = [p for prev, cur in zip(group["previous"], group["period"]) for p in range(int(prev) + 1, int(cur))]
        listed = ", ".join(_month_text(p) for p in missing[:_MONTHS_LISTED])
        more = f" (+{len(missing) - _MONTHS_LISTED} more)" if len(missing) > _MONTHS_LISTED else ""
        found.append(_rows_problem(
            "monthly_activity", "month",
            f"months not contiguous for merchant {merchant_id}: missing {listed}{more} "
            "(add a row for every month, with zeros where nothing was sold)",
            group["row"], merchant_id, max_rows, (t, 2, 1)))
    if len(by_merchant) > max_rows:
        found.append(_Found((t, 2, 1, 1 << 62), Problem(
            "monthly_activity", "month",
            f"months not contiguous for {len(by_merchant) - max_rows} more merchant(s) not listed")))
    return found
