"""Labels from the catalog (``data/i18n``) in the session's language, and the formatter of each unit."""
from __future__ import annotations

from typing import Callable

from cb_core.i18n import (format_count, format_days, format_krw, format_kst, format_months, format_number,
                          format_pct, t)
from ui.session import lang


def tr(key: str, **fmt: object) -> str:
    """A label from the catalog in the session's language."""
    return t(key, lang(), **fmt)


def label_func(prefix: str) -> Callable[[object], str]:
    """``format_func`` for choice widgets: label key ``prefix + option`` in the language of this run
    (bound now: Streamlit may call format functions outside the script run)."""
    language = lang()
    return lambda option: t(f"{prefix}{option}", language)


def krw(amount: float | int | None, short: bool = False, exact: bool = False) -> str:
    """A won amount as readers of the session's language read it (1,250만원 / ₩12.5M; ``short``: a
    headline metric's value, 5.33억원, that fits its column; ``exact``: every won, 221만 7,433원)."""
    return format_krw(amount, lang(), short=short, exact=exact)


def pct(fraction: float | None, digits: int = 1, signed: bool = False) -> str:
    """A rate as % in the session's language (``signed``: a change in %p / pp)."""
    return format_pct(fraction, lang(), digits=digits, signed=signed)


def count(n: float | int | None, unit: str = "") -> str:
    """A count with separators (and a unit word: ``count_unit_<unit>``)."""
    return format_count(n, lang(), unit=unit)


def months(n: float | int | None) -> str:
    """A number of months (3개월 / 3 months)."""
    return format_months(n, lang())


def days(n: float | int | None) -> str:
    """A number of days (45일 / 45 days)."""
    return format_days(n, lang())


def kst(moment: object, seconds: bool = False) -> str:
    """A date and time in Korea time with the zone (2026-12-02 21:30 KST)."""
    return format_kst(moment, lang(), seconds=seconds)


def number(value: float | None, digits: int = 0) -> str:
    """A plain quantity with separators, never scientific notation."""
    return format_number(value, lang(), digits=digits)
