"""``python bench/bench_app.py ...`` runs ``python -m bench.app ...``: the app benchmarks (bench/app/)."""
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repository root, not bench/ itself

from bench.app.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
