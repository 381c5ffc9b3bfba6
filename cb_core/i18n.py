"""One catalog of user-facing strings in Korean and English, and KRW formatting.

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


def format_krw(amount: float | int | None, lang: str = "ko") -> str:
    """KRW the way users read it: ``1,250만원`` / ``2억 5,000만원`` in Korean, ``₩12.5M`` in English.

    Parameters
    ----------
    amount : number or None
        Amount in won; None or NaN gives "–".
    """
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    sign = "-" if amount < 0 else ""
    a = abs(float(amount))
    if lang == "ko":
        won = int(round(a))
        if won < 100_000:
            return f"{sign}{won:,}원"
        eok, man = divmod(int(round(won / 10_000)), 10_000)
        if eok and man:
            return f"{sign}{eok:,}억 {man:,}만원"
        if eok:
            return f"{sign}{eok:,}억원"
        return f"{sign}{man:,}만원"
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if a >= limit:
            value = a / limit
            digits = 1 if value < 100 else 0
            return f"{sign}₩{value:,.{digits}f}{suffix}"
    return f"{sign}₩{a:,.0f}"
