"""One catalog of user-facing strings in Korean and English, and the one formatter of each unit
(KRW, %, counts, months, days, KST times, plain numbers).

Strings live in ``data/i18n/*.json`` (one file per area of the app, merged) as
``{key: {"ko": ..., "en": ...}}``. A key defined in two files is an error. A test checks that every
key has both languages and that every ``tr("...")`` used in the pages exists.
"""
from __future__ import annotations

import errno
import json
import math
import re
from functools import lru_cache
from string import Formatter

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
            raise ConfigError(f"label(s) defined twice, again in {path.name}: {', '.join(twice)}", key="err_i18n_label_s_defined_twice", name=path.name, twice=', '.join(twice))
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
        raise ConfigError(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}", key="err_i18n_language_one_languages_got", LANGUAGES=', '.join(LANGUAGES), lang=lang)
    try:
        text = strings()[key][lang]
    except KeyError:
        raise ConfigError(f"no {lang} text for label {key!r} in data/i18n/*.json", key="err_i18n_lang_text_label_key", lang=lang, key_value=key) from None
    return text.format(**fmt) if fmt else text


def format_krw(amount: float | int | None, lang: str = "ko", short: bool = False, exact: bool = False) -> str:
    """KRW the way users read it: ``1,250만원`` / ``2억 5,000만원`` in Korean, ``₩12.5M`` in English.

    Parameters
    ----------
    amount : number or None
        Amount in won; None or NaN gives "–".
    short : bool
        For headline figures (a metric in a row of five): from 1억 on, three significant digits in
        억 or 조 (``5.33억원``, ``53.3억원``, ``1.25조원``), so the value never outgrows its column;
        below 1억 the full form. English is short already.
    exact : bool
        Every won (a schedule's balance, a value beside a threshold it would round to):
        ``221만 7,433원`` / ``₩2,217,433``.
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
        in_man, below = divmod(won, 10_000) if exact else (int(round(won / 10_000)), 0)
        jo, rest = divmod(in_man, 100_000_000)  # in 만: 1조 = 10^8 만
        eok, man = divmod(rest, 10_000)
        parts = [f"{n:,}{word}" for n, word in ((jo, "조"), (eok, "억"), (man, "만")) if n]
        if below or not parts:
            return f"{sign}{' '.join([*parts, f'{below:,}원'])}"
        return f"{sign}{' '.join(parts)}원"
    if exact:
        return f"{sign}₩{int(round(a)):,}"
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


# ----------------------------------------------------------------- engine errors in the user's language
#: Parameters that name a field or setting: shown by its catalog label ``field_<value>`` when there is one.
FIELD_PARAMS = frozenset({"name", "column", "field", "what", "f", "feature"})
#: Parameters that hold a code with a label of its own (``decline`` -> ``decision_decline``).
CODE_LABELS = {"decision": "decision_", "policy_decision": "decision_", "action": "watch_action_", "role": "role_"}


def os_reason(exc: OSError, lang: str = "ko") -> str:
    """What the operating system said, in ``lang`` when the catalog knows its error number
    (``os_errno_ENOSPC``...); else its own (English) text."""
    name = errno.errorcode.get(exc.errno or 0, "")
    key = f"os_errno_{name}"
    return t(key, lang) if name and key in strings() else (exc.strerror or str(exc))


def format_param(name: str, value: object, lang: str = "ko") -> str:
    """One parameter of a keyed engine error, with the formatter of its unit, chosen by its name:
    ``*_krw`` won, ``*_rate`` a fraction as %, ``months``/``*_months``,
    ``days``/``*_days``, ``*_at`` a time in KST, ``n``/``n_*`` a count, ``*id``/``*version`` as written;
    other numbers with separators and at most 4 decimals (never scientific notation); lists joined
    with commas. Missing (None, NaN) gives "–"."""
    if isinstance(value, OSError) and getattr(value, "key", None) is None:
        return os_reason(value, lang)
    if isinstance(value, BaseException):  # a cause: said in the language too when it has a key
        return error_text(value, lang) or str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        if value and all(isinstance(v, BaseException) for v in value):
            return " / ".join(format_param(name, v, lang) for v in value)
        return ", ".join(format_param(name, v, lang) for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value))
    if name.endswith("_at") and not isinstance(value, (list, tuple, set, frozenset)) and not _missing(value):
        try:
            return format_kst(value, lang)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, str):
        label = (f"field_{value.strip().replace(' ', '_')}" if name in FIELD_PARAMS
                 else f"{CODE_LABELS[name]}{value}" if name in CODE_LABELS else "")
        return t(label, lang) if label in strings() else value
    if _missing(value) and not isinstance(value, (dict, bytes)):
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if name.endswith("_krw"):
        return format_krw(value, lang)
    if name.endswith("_rate"):  # a rate kept as a fraction (``*_pct`` fields here hold percent already)
        return format_pct(value, lang)
    if name == "months" or name.endswith("_months"):
        return format_months(value, lang)
    if name == "days" or name.endswith("_days"):
        return format_days(value, lang)
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if name.endswith(("id", "version", "year")) and number.is_integer():
            return str(int(number))
        if name == "n" or name.startswith("n_") or number.is_integer():
            return format_count(number, lang)
        return f"{number:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def say(key: str, params: dict | None = None, lang: str = "ko", escape=None) -> str:
    """The catalog text ``key`` in ``lang`` with ``params`` each shown by :func:`format_param`
    (``escape``: applied to every shown value, e.g. to keep untrusted text plain on a page)."""
    params = dict(params or {})
    shown = {k: format_param(k, v, lang) for k, v in params.items()}
    if params.get("hint") and f"field_hint_{params.get('name')}" in strings():  # a range's note, e.g. "a yearly fraction"
        shown["hint"] = t(f"field_hint_{params['name']}", lang)
    if escape is not None:
        shown = {k: escape(v) for k, v in shown.items()}
    return t(key, lang, **shown) if shown else t(key, lang)


def error_text(exc: BaseException, lang: str = "ko", escape=None) -> str | None:
    """An engine error said in ``lang`` from its catalog key and parameters; None when it has no key
    (or the key is not in the catalog): then only its English message exists."""
    key = getattr(exc, "key", None)
    if not key or key not in strings():
        return None
    return say(key, getattr(exc, "params", {}), lang, escape)


# ----------------------------------------------------------------- the data contract's rules
@lru_cache(maxsize=1)
def _rule_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """Each ``rule_*`` catalog entry's English text as a pattern: its {params} match any text."""
    out = []
    for key, texts in strings().items():
        if key.startswith("rule_"):
            regex = "".join(re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
                            for literal, name, _, _ in Formatter().parse(texts["en"]))
            out.append((re.compile(regex + r"\Z", re.S), key))
    return tuple(out)


def rule_key(rule: str) -> tuple[str, dict[str, str]] | None:
    """The catalog key and parameters of a broken rule's English text (a validation report's rule,
    such as ``must be ≥ 0``), or None when the catalog has no such rule."""
    for pattern, key in _rule_patterns():
        found = pattern.match(rule)
        if found:
            return key, found.groupdict()
    return None


def translate_rule(rule: str, lang: str = "ko") -> str:
    """A broken rule's text in ``lang`` through its rule key and parameters (a product's rule names its
    field by its label ``prodfield_<field>`` and is itself translated); unknown rules stay as they are."""
    if lang == "en":
        return rule
    found = rule_key(rule)
    if found is None:
        return rule
    key, params = found
    if "rule" in params:
        params["rule"] = translate_rule(params["rule"], lang)
    if key == "rule_duplicate_key" and lang == "ko":  # "merchant_id + month" / "merchant_id and month"
        params = {k: v.replace(" + ", "·").replace(" and ", "·") for k, v in params.items()}
    if key == "rule_product" and f"prodfield_{params['field']}" in strings():
        params["field"] = t(f"prodfield_{params['field']}", lang)
    t(key, lang)  # an unknown language is an error, as everywhere
    return strings()[key][lang].format(**params)
