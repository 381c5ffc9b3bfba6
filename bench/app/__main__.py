"""``python -m bench.app ...``: the app benchmarks (:mod:`bench.app.cli`)."""
import sys

from .cli import main

sys.exit(main())
