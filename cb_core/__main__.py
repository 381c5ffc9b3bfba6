"""``python -m cb_core``: the command line (:mod:`cb_core.cli`) in a process of its own."""
import gc
import sys

from .allocator import keep_freed_blocks
from .cli import main

keep_freed_blocks()  # before any array is made (cb_core/allocator.py)
code = main()
# The command is done: Python's shutdown would otherwise walk every object of every module imported
# (pandas, pyarrow, numba: some 150,000) in several collections, 0.3 s after a score --explain. Frozen
# objects are skipped; they are freed with the process. Files are closed and renamed by then.
gc.freeze()
sys.exit(code)
