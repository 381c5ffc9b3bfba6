"""glibc's allocator, set for a command-line process: its numpy arrays are reused instead of mapped anew.

By default glibc maps every block from 128 kB (raised, as blocks are freed, to the largest freed one) straight
from the kernel and gives it back when freed, and it returns the top of its heap from 128 kB free. The
snapshot's per-part arrays (a few hundred kB to a few MB each, made and freed part after part) then cost the
kernel fresh zeroed pages every time: 26,000 of the 69,000 page faults of a 50,000-merchant
``score --explain``, 0.1-0.3 s of system time on this machine, and far more in the hours when its hypervisor
takes CPU away (system time alone then varied from 0.3 to 1.3 s between runs of the same command). From
:data:`MMAP_THRESHOLD` the blocks are still mapped (the feature matrix of 1,000,000 merchants, 300 MB), and up to
:data:`TRIM_THRESHOLD` of free heap is kept for the next part instead of returned (bench/RESULTS.md).

A command's process sets them before its command runs (``cb_core/__main__.py``). The app's server keeps glibc's
defaults: set there too, its cold start at 1,000,000 merchants took 19.1-19.5 s against 18.8 s without, in the
same hour (bench/RESULTS.md), though the snapshot alone, in a process of its own, took 8.0-8.3 s instead of
9.4-12.5 s; a long-lived server would also keep up to 128 MB of freed heap. A base module: it imports nothing
from ``cb_core``.
"""
from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

#: ``mallopt`` parameters (glibc's ``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks from this size are mapped from the kernel (glibc's largest default threshold is 32 MB).
MMAP_THRESHOLD = 64 << 20
#: Free heap above this is returned to the kernel.
TRIM_THRESHOLD = 128 << 20
#: glibc's own settings of the same (read when the process starts): when one is set, nothing is changed.
_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def keep_freed_blocks() -> bool:
    """Set glibc's thresholds to :data:`MMAP_THRESHOLD` and :data:`TRIM_THRESHOLD`. True when set; False on a
    C library without ``mallopt`` (musl, macOS), or when the environment sets glibc's own thresholds."""
    if any(name in os.environ for name in _ENVIRONMENT):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only: mallopt's numbers are glibc's
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not done:
        log.debug("mallopt refused the thresholds")
    return done
