"""Labels from the catalog (``data/i18n``) in the session's language, and the formatter of each unit."""
from __future__ import annotations

from typing import Callable

from cb_core.i18n import format_krw, t
from ui.session import lang


def tr(key: str, **fmt: object) -> str:
    """A label from the catalog in the session's language."""
    return t(key, lang(), **fmt)


def label_func(prefix: str) -> Callable[[object], str]:
    """``format_func`` for choice widgets: label key ``prefix + option`` in the language of this run
    (bound now: Streamlit may call format functions outside the script run)."""
    language = lang()
    return lambda option: t(f"{prefix}{option}", language)


def krw(amount: float | int | None) -> str:
    """A won amount as readers of the session's language read it (1,250만원 / ₩12.5M)."""
    return format_krw(amount, lang())
