"""Checks of the values verbs receive, shared by the verb modules (no database access here).

Each returns the value in the form the store keeps, or raises :class:`~cb_core.errors.ConfigError`
naming the argument and what was received.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ..errors import ConfigError

MAX_LIMIT = 100_000


def sha256_text(value: str) -> str:
    """sha256 of ``value`` (UTF-8) as 64 hex characters: how tokens and tickets are kept."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def user_agent_hash(user_agent: str | None) -> str | None:
    """sha256 of a browser's User-Agent header (None when the caller has none to give)."""
    if not isinstance(user_agent, str) or not user_agent:
        return None
    return sha256_text(user_agent)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(now: datetime | None, name: str = "now") -> datetime:
    """``now`` (or the current time) as an aware UTC datetime; a naive one is refused, never guessed."""
    if now is None:
        return utcnow()
    if not isinstance(now, datetime):
        raise ConfigError(f"{name} must be a datetime; got {type(now).__name__} {now!r}", key="err_values_name_datetime_got_kind", name=name, kind=type(now).__name__, now=now)
    if now.tzinfo is None:
        raise ConfigError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc)); "
                          f"got naive {now.isoformat()}", key="err_values_name_timezone_aware_e", name=name, now=now.isoformat())
    return now.astimezone(timezone.utc)


def clean_text(value: Any, name: str, *, max_length: int, allow_empty: bool = False) -> str:
    """``value`` stripped; a str of at most ``max_length`` characters, non-empty unless allowed."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text; got {type(value).__name__} {value!r}", key="err_values_name_text_got_kind", name=name, kind=type(value).__name__, value=value)
    value = value.strip()
    if not value and not allow_empty:
        raise ConfigError(f"{name} must not be empty", key="err_values_name_empty", name=name)
    if len(value) > max_length:
        raise ConfigError(f"{name} must be at most {max_length} characters; got {len(value)}", key="err_values_name_most_max_length", name=name, max_length=max_length, n_value=len(value))
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_document(value: Any, name: str) -> Any:
    """``value`` as plain JSON data (dates as ISO text, numpy scalars as numbers); NaN is refused."""
    try:
        return json.loads(json.dumps(value, default=_jsonable, allow_nan=False, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        reason = "NaN and infinity are not numbers JSON can hold" if "Out of range float" in str(exc) else str(exc)
        raise ConfigError(f"{name} must be JSON data (dicts, lists, text, finite numbers); {reason}", key="err_values_name_json_data_dicts", name=name, reason=reason) from None


def finite_number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) and not hasattr(value, "__float__"):
        raise ConfigError(f"{name} must be a number; got {type(value).__name__} {value!r}", key="err_values_name_number_got_kind", name=name, kind=type(value).__name__, value=value)
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise ConfigError(f"{name} must be within {low:g}–{high:g}; got {value!r}", key="err_values_name_within_low_high", name=name, low=low, high=high, value=value)
    return number


def check_filters(filters: Mapping[str, Any] | None, allowed: tuple[str, ...], limit: int) -> dict[str, Any]:
    """The filters of a listing verb (unknown keys refused, ``since``/``until`` made aware, None dropped)."""
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown filter(s) {', '.join(unknown)}; use {', '.join(allowed)}", key="err_values_unknown_filter_s_unknown", unknown=', '.join(unknown), allowed=', '.join(allowed))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be a whole number within 1–{MAX_LIMIT}; got {limit!r}", key="err_values_limit_whole_number_within", MAX_LIMIT=MAX_LIMIT, limit=limit)
    for key in ("since", "until"):
        if filters.get(key) is not None:
            filters[key] = aware(filters[key], key)
    return {k: v for k, v in filters.items() if v is not None}
