"""A command's process keeps glibc's freed blocks for its next arrays (cb_core/allocator.py).

Checked where the blocks land: with glibc's defaults a fresh 4 MB array is a mapping of its own (from 128 kB
a block is mapped straight from the kernel, and unmapped when freed); once the thresholds are set it comes
from the heap, so the next part's arrays reuse its pages instead of faulting in fresh ones."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.app import ROOT

_PROBE = r"""
import json, sys
import numpy as np
from cb_core.allocator import keep_freed_blocks

set_ = keep_freed_blocks() if sys.argv[1] == "set" else None
block = np.ones(4 << 20, dtype=np.uint8)  # 4 MB: above glibc's default mapping threshold, below ours
address = block.ctypes.data
in_heap = False
with open("/proc/self/maps") as maps:
    for line in maps:  # the heap may be listed as several ranges
        if line.rstrip().endswith("[heap]"):
            low, high = (int(x, 16) for x in line.split()[0].split("-"))
            in_heap = in_heap or low <= address < high
print(json.dumps({"set": set_, "in_heap": in_heap}))
"""


def _probe(mode: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                                                      "GLIBC_TUNABLES")}
    environment.update(env, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=environment, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout)


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                                reason="glibc's allocator only")


def test_with_glibc_defaults_a_4_mb_array_is_a_mapping_of_its_own():
    assert _probe("defaults") == {"set": None, "in_heap": False}


def test_a_commands_process_takes_it_from_the_heap():
    assert _probe("set") == {"set": True, "in_heap": True}


@pytest.mark.parametrize("name, value", [("MALLOC_MMAP_THRESHOLD_", "131072"),
                                         ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072")])
def test_thresholds_set_in_the_environment_are_left_alone(name, value):
    assert _probe("set", **{name: value}) == {"set": False, "in_heap": False}


def test_the_command_line_entry_points_set_them_before_the_command_runs():
    for entry in ("cb_core/__main__.py", "cb_core/batch/__main__.py"):
        source = (ROOT / entry).read_text(encoding="utf-8")
        assert source.index("keep_freed_blocks()") < source.index("main(")
