"""One catalog of user-facing strings in Korean and English, and the one formatter of each unit
(KRW, %, counts, months, days, KST times, plain numbers).

Strings live in ``data/i18n/*.json`` (one file per area of the app, merged) as
``{key: {"ko": ..., "en": ...}}``. A key defined in two files is an error. A test checks that every
key has both languages and that every ``tr("...")`` used in the pages exists.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache

from .config import DATA_DIR
from .errors import ConfigError

LANGUAGES = ("ko", "en")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    """All labels, merged from ``data/i18n/*.json``."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted((DATA_DIR / "i18n").glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            part = json.load(fh)
        twice = sorted(set(part) & set(merged))
        if twice:
            raise ConfigError(f"label(s) defined twice, again in {path.name}: {', '.join(twice)}")
        merged.update(part)
    return merged


def t(key: str, lang: str = "ko", **fmt: object) -> str:
    """The string ``key`` in ``lang``, formatted with ``fmt``.

    Raises
    ------
    ConfigError
        If the key or language is unknown (a missing label is a bug, not a silent fallback).
    """
    if lang not in LANGUAGES:
        raise ConfigError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    try:
        text = strings()[key][lang]
    except KeyError:
        raise ConfigError(f"no {lang} text for label {key!r} in data/i18n/*.json") from None
    return text.format(**fmt) if fmt else text


def format_krw(amount: float | int | None, lang: str = "ko", short: bool = False) -> str:
    """KRW the way users read it: ``1,250만원`` / ``2억 5,000만원`` in Korean, ``₩12.5M`` in English.

    Parameters
    ----------
    amount : number or None
        Amount in won; None or NaN gives "–".
    short : bool
        For headline figures (a metric in a row of five): from 1억 on, three significant digits in
        억 or 조 (``5.33억원``, ``53.3억원``, ``1.25조원``), so the value never outgrows its column;
        below 1억 the full form. English is short already.
    """
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    sign = "-" if amount < 0 else ""
    a = abs(float(amount))
    if lang == "ko":
        won = int(round(a))
        if short and won >= 99_995_000:  # rounds to at least 1.00억
            return sign + _in_units(won, ((1e12, "조원"), (1e8, "억원")), decimals=2)
        if won < 100_000:
            return f"{sign}{won:,}원"
        jo, rest = divmod(int(round(won / 10_000)), 100_000_000)  # in 만: 1조 = 10^8 만
        eok, man = divmod(rest, 10_000)
        parts = [f"{n:,}{word}" for n, word in ((jo, "조"), (eok, "억"), (man, "만")) if n]
        return f"{sign}{' '.join(parts)}원"
    if a >= 999_950:  # rounds to at least ₩1.0M
        return f"{sign}₩" + _in_units(a, ((1e12, "T"), (1e9, "B"), (1e6, "M")), decimals=1)
    return f"{sign}₩{a:,.0f}"


def _in_units(a: float, units: tuple[tuple[float, str], ...], decimals: int) -> str:
    """``a`` (≥ the smallest unit) in the largest unit it reaches once rounded, with ``decimals``
    below 10 of it, one fewer below 100, none from 100 (decimals=2: ``5.33``, ``53.3``, ``533``;
    decimals=1: ``5.3``, ``53.3``, ``533``)."""
    for i, (limit, word) in enumerate(units):
        last = i == len(units) - 1
        value = a / limit
        digits = decimals if value < 10 - 0.5 * 10 ** -decimals else 1 if value < 99.95 else 0
        if last or float(f"{value:.{digits}f}") >= 1:
            return f"{value:,.{digits}f}{word}"
    raise AssertionError("unreachable")


# ----------------------------------------------------------------- one formatter per unit
#: Korea Standard Time (no daylight saving): every date and time a user reads is shown in it.
KST_OFFSET_HOURS = 9
MISSING = "–"


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or math.isinf(float(value))  # NaN, NaT, ±inf
    except (TypeError, ValueError):
        return False


def format_pct(fraction: float | None, lang: str = "ko", digits: int = 1, signed: bool = False) -> str:
    """A share or rate given as a fraction (0.0123) shown as a percentage: ``1.2%``; ``+0.4%p`` with
    ``signed`` (a change of a rate is in percentage points: ``%p`` in Korean, ``pp`` in English).
    Missing, NaN or infinite gives "–"."""
    if _missing(fraction):
        return MISSING
    value = float(fraction) * 100
    if signed:
        unit = "%p" if lang == "ko" else " pp"
        return f"{value:+,.{digits}f}{unit}"
    return f"{value:,.{digits}f}%"


def format_count(n: float | int | None, lang: str = "ko", unit: str = "") -> str:
    """A count with thousands separators (``12,345``), optionally followed by a unit key's word
    (``unit="merchants"`` -> ``12,345개`` / ``12,345 merchants``; see ``count_unit_*`` labels)."""
    if _missing(n):
        return MISSING
    text = f"{int(round(float(n))):,}"
    return t(f"count_unit_{unit}", lang, n=text) if unit else text


def _counted(n: float | int | None, lang: str, ko_unit: str, en_unit: str) -> str:
    if _missing(n):
        return MISSING
    k = int(round(float(n)))
    if lang == "ko":
        return f"{k:,}{ko_unit}"
    return f"{k:,} {en_unit}" if k == 1 else f"{k:,} {en_unit}s"


def format_months(n: float | int | None, lang: str = "ko") -> str:
    """A number of months: ``3개월`` / ``3 months`` (``1 month``)."""
    return _counted(n, lang, "개월", "month")


def format_days(n: float | int | None, lang: str = "ko") -> str:
    """A number of days: ``45일`` / ``45 days``."""
    return _counted(n, lang, "일", "day")


def format_kst(moment: object, lang: str = "ko", seconds: bool = False) -> str:
    """A date and time in Korea time with the zone shown: ``2026-12-02 21:30 KST``.

    ``moment`` is a datetime, pandas Timestamp or ISO text; naive values are taken as UTC (the store
    and the audit log keep UTC). Missing gives "–". The same form in both languages (KST is what
    Korean and English readers of this product both use)."""
    if _missing(moment):
        return MISSING
    import pandas as pd

    ts = pd.Timestamp(moment)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    from datetime import timedelta, timezone

    local = ts.tz_convert(timezone(timedelta(hours=KST_OFFSET_HOURS)))
    return local.strftime("%Y-%m-%d %H:%M:%S KST" if seconds else "%Y-%m-%d %H:%M KST")


def format_number(value: float | None, lang: str = "ko", digits: int = 0) -> str:
    """A plain quantity (a score, a points value) with separators and ``digits`` decimals; never
    scientific notation. Missing gives "–"."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"
