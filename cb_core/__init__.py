"""Merchant CB engine: data contract, demo book, features, model, scores, policies, offers.

Sub-packages, lowest layer first; each imports only its own modules and the layers below it
(``tests/test_layout.py`` checks it): base modules (errors, config, i18n, diskio, access, lazy) ->
``data`` -> ``synth``, ``features`` -> ``model`` -> ``explain``, ``strategy`` -> ``offers`` ->
``reports`` -> ``store``, ``workspace`` -> ``batch`` -> ``cli``. Nothing here imports Streamlit.

The public names below load lazily (PEP 562), so ``python -m cb_core validate`` does not pay for
LightGBM and a notebook can ``from cb_core import train_model`` as usual.
"""
from __future__ import annotations

import os

# LightGBM's OpenMP threads spin while they wait by default; on a 2-core machine shared with the app
# server that made training 3x slower (bench/RESULTS.md: 222 s vs 77 s at 1M merchants). It must be
# set before LightGBM loads, and cb_core is imported first everywhere.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Likewise numpy's and scipy's OpenBLAS: each starts a thread per core that spins for ~0.1 s (2^28 cycles)
# waiting for work as the library loads, CPU taken from a command's own threads (a 50,000-merchant
# score --explain: 0.2 CPU s). 2^4 cycles: they sleep at once and wake when a product needs them.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
# numpy asks the kernel for huge pages on every array of 4 MB or more; where that is granted on a fault
# (transparent huge pages "madvise", as on Debian), the fault may first compact memory, and the engine
# makes many such arrays once each (a fresh score --explain: 0.2 s more system time at 50,000 merchants,
# 1.6 s at 1,000,000; wall time no worse).
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

from .lazy import lazy_exports  # noqa: E402  (after the environment above)

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "data": ("Book", "feature_catalog", "read_book", "read_uploaded", "validate_tables", "write_book"),
    "synth": ("generate_book", "true_pd_at"),
    "features": ("current_snapshot", "feature_names", "snapshot", "training_table"),
    "model": ("CreditModel", "GradeBands", "ScoreScale", "grade_of", "load_model", "pd_from_score", "score_from_pd",
              "train_model", "train_scorecard", "train_with_report"),
    "explain": ("FastTreeShap", "points_by_feature", "reason_codes", "what_if"),
    "strategy": ("CutoffCurves", "Policy", "evaluate", "swap_sets"),
    "offers": ("load_products", "match_book", "offers_for", "recourse", "simulate"),
    "reports": ("explanation_record", "explanation_text", "partner_pool", "report_html"),
    "store": ("Store",),
    "batch": ("run_batch",),
    "config": ("Settings", "get_settings"),
    "errors": ("AuthError", "CBError", "ConfigError", "ConflictError", "DataSourceError", "MissingFeaturesError",
               "ModelError", "PolicyError", "SchemaError", "StoreUnavailableError"),
})
