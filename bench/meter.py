"""Measuring one step inside a step process: wall and CPU time, peak RSS with the mark reset first;
profiling a whole group.

Standard library only (Arrow's pool is released only when pyarrow is already loaded).
"""
from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from typing import Any, Callable

from . import procfs
from .serve import ROOT

PROFILE_DIR = ROOT / "bench" / "out"
BENCH_VENV = ROOT / "bench" / ".venv"


class Meter:
    """Times one step and reads the peak RSS of this process during it; appends a record on exit."""

    def __init__(self, records: list[dict[str, Any]], step: str, merchants: int, rows: int) -> None:
        self.record: dict[str, Any] = {"step": step, "merchants": merchants, "rows": rows, "notes": []}
        self.records = records

    def __enter__(self) -> Meter:
        gc.collect()
        if "pyarrow" in sys.modules:  # free pages the parquet reads left in Arrow's pool: not the step's
            sys.modules["pyarrow"].default_memory_pool().release_unused()
        self.exact = procfs.reset_peak() and procfs.status_kib("VmHWM") is not None
        self.base = procfs.status_kib("VmRSS")
        self.load0 = os.getloadavg()[0]
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> bool:
        seconds = time.perf_counter() - self.t0
        cpu = time.process_time() - self.cpu0
        if exc_type is not None:
            return False
        if self.exact:
            peak = procfs.status_kib("VmHWM")
        else:  # no /proc: the process's high-water mark since it started (KiB on Linux)
            import resource

            peak = float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            self.record["notes"].append("peak is the child's whole-life ru_maxrss (no /proc reset)")
        self.record.setdefault("seconds", seconds)
        self.record.setdefault("cpu_seconds", cpu)
        self.record.update({"peak_rss_mb": round(peak / 1024, 1),
                            "base_rss_mb": None if self.base is None else round(self.base / 1024, 1),
                            "load_1m_start": self.load0, "load_1m_end": os.getloadavg()[0], "status": "ok"})
        self.records.append(self.record)
        return False

    def note(self, text: str) -> None:
        self.record["notes"].append(text)


def timed_calls(meter: Meter, calls: list[Callable[[], Any]]) -> None:
    """Run ``calls`` inside ``meter``; the step's seconds (and CPU seconds) become their median."""
    times, cpu = [], []
    for call in calls:
        c0, t0 = time.process_time(), time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    ordered = sorted(times)
    meter.record["seconds"] = statistics.median(times)
    meter.record["cpu_seconds"] = statistics.median(cpu)
    meter.note(f"median of {len(times)} calls; min {ordered[0] * 1e3:.2f} ms, "
               f"p95 {ordered[int(0.95 * (len(ordered) - 1))] * 1e3:.2f} ms, max {ordered[-1] * 1e3:.2f} ms")


def profiled(run: Callable[[dict[str, Any], list], None], spec: dict[str, Any], records: list) -> None:
    """Run a step group under pyinstrument (from bench/.venv) or cProfile; the report goes to bench/out/."""
    for site in sorted((BENCH_VENV / "lib").glob("python*/site-packages")):
        sys.path.append(str(site))  # after the app's packages, which keep precedence
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    target = PROFILE_DIR / f"profile-{spec['group']}-{spec['merchants']}.txt"
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run, spec, records)
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(40)
        target.write_text(text.getvalue(), encoding="utf-8")
    else:
        prof = Profiler(interval=0.005)
        prof.start()
        run(spec, records)
        prof.stop()
        target.write_text(prof.output_text(unicode=True, show_all=False), encoding="utf-8")
    for r in records:
        r["notes"].append(f"PROFILED (times include profiler overhead): {target.relative_to(ROOT)}")


__all__ = ["Meter", "profiled", "timed_calls"]
