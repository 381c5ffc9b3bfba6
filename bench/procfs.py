"""What Linux's ``/proc`` says about a process: its memory marks and CPU time (None without ``/proc``)."""
from __future__ import annotations

import os
from pathlib import Path


def status_kib(key: str, pid: int | str = "self") -> float | None:
    """A ``/proc/<pid>/status`` field in KiB, e.g. ``VmRSS`` or ``VmHWM`` (the peak-RSS mark)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def status_mib(key: str, pid: int | str = "self") -> float | None:
    """:func:`status_kib` in MiB."""
    kib = status_kib(key, pid)
    return None if kib is None else kib / 1024


def reset_peak() -> bool:
    """Reset this process's peak-RSS mark (``VmHWM``) to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
