"""``python bench/bench_load.py ...`` runs ``python -m bench.load ...``: many users at once (bench/load/)."""
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository root, not bench/ itself

from bench.load.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
