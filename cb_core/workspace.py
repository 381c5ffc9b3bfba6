"""The state folder's current book and model: what the app and the CLI work on.

``ensure_demo`` builds the demo book (and, once a model can be trained, the model) on first
start and reuses them afterwards. Progress is reported through an optional callback
``progress(fraction, message_key)`` so the app can show it without this module knowing Streamlit.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from .book import Book
from .config import get_settings, state_dir

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


def _noop(fraction: float, message: str) -> None:
    log.info("%3.0f%% %s", fraction * 100, message)


def current_book(settings: dict[str, Any] | None = None) -> Book | None:
    """The book in use, or None before the first load."""
    from .sources import load_current

    return load_current(state_dir(settings))


def install_book(book: Book, settings: dict[str, Any] | None = None) -> Path:
    """Make a validated book the one in use (atomically); the previous one stays until then."""
    from .sources import save_current

    return save_current(book, state_dir(settings))


def ensure_demo_book(settings: dict[str, Any] | None = None, progress: Progress | None = None) -> Book:
    """The current book; on first start, generate the demo book and install it."""
    settings = settings or get_settings()
    progress = progress or _noop
    book = current_book(settings)
    if book is not None:
        return book
    from .synth import generate_book

    progress(0.05, "progress_generating")
    book = generate_book(settings["demo_merchants"], settings["demo_months"], settings["demo_seed"],
                         settings["demo_end_month"])
    progress(0.5, "progress_saving")
    install_book(book, settings)
    progress(0.6, "progress_book_ready")
    return current_book(settings) or book


def current_fingerprint(settings: dict[str, Any] | None = None) -> str | None:
    """Fingerprint of the book in use (cheap: reads the pointer file only), None before the first load."""
    import json

    pointer = state_dir(settings) / "current_book.json"
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8")).get("fingerprint")
