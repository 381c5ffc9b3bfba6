"""The records every app benchmark step emits, and the load average they carry. Standard library only."""
from __future__ import annotations

import os
from typing import Any


def load1() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


def record(step: str, merchants: int, seconds: float | None, *, peak_rss_mb: float | None = None,
           notes: str = "", status: str = "ok", load_start: float | None = None, **extra: Any) -> dict[str, Any]:
    """One JSON record: ``step, merchants, seconds, peak_rss_mb, notes, status, load_1m_start, load_1m_end``
    and any ``extra`` keys."""
    return {"step": step, "merchants": merchants, "seconds": seconds, "peak_rss_mb": peak_rss_mb, "notes": notes,
            "status": status, "load_1m_start": load_start, "load_1m_end": load1(), **extra}


__all__ = ["load1", "record"]
