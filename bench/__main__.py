"""``python -m bench ...``: the engine-step benchmark runner (:mod:`bench.runner`)."""
import sys

from .runner import main

sys.exit(main())
