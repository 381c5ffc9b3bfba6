"""Benchmarks of whole commands and pages against references (bench/README.md); not timed tests.

``python -m bench`` runs the engine steps (:mod:`bench.runner`, steps in :mod:`bench.steps`);
``python -m bench.app`` the app start and Merchant review in Chromium; ``python -m bench.load`` many
users at once. :mod:`bench.serve` starts ``streamlit run app.py`` for them and for the browser tests.
The engine never imports this package. These modules, and those of ``app/`` and ``load/``, import
only the standard library at the top: ``bench/.venv`` (polars, DuckDB, explainerdashboard; not the
app's packages) runs some of them. The ``bench_*.py`` scripts are standalone benchmarks.
"""
