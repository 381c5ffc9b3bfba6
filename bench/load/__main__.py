"""``python -m bench.load ...``: many users at once (:mod:`bench.load.cli`)."""
import sys

from .cli import main

sys.exit(main())
