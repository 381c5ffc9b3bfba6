"""``python -m cb_core.batch ...`` is ``python -m cb_core batch ...`` (one parser, one error handling)."""
import sys

from cb_core.allocator import keep_freed_blocks
from cb_core.cli import main

keep_freed_blocks()
sys.exit(main(["batch", *sys.argv[1:]]))
