"""Merchant CB engine: data contract, demo book, features, model, scores, policies, offers.

The public names below load lazily (PEP 562), so ``python -m cb_core validate`` does not pay for
LightGBM and a notebook can ``from cb_core import train_model`` as usual.
"""
from __future__ import annotations

import os
from importlib import import_module
from typing import Any

# LightGBM's OpenMP threads spin while they wait by default; on a 2-core machine shared with the app
# server that made training 3x slower (bench/RESULTS.md: 222 s vs 77 s at 1M merchants). It must be
# set before LightGBM loads, and cb_core is imported first everywhere.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_EXPORTS: dict[str, str] = {
    # data
    "Book": "book", "validate_tables": "schema", "read_book": "sources", "write_book": "sources",
    "read_uploaded": "sources", "generate_book": "synth", "true_pd_at": "synth",
    "snapshot": "features", "feature_names": "features", "feature_catalog": "catalog",
    # model and explanations
    "train_model": "model", "load_model": "model", "CreditModel": "model", "train_scorecard": "model",
    "ScoreScale": "scoring", "GradeBands": "scoring", "score_from_pd": "scoring", "pd_from_score": "scoring",
    "grade_of": "scoring", "points_by_feature": "explain", "reason_codes": "explain", "what_if": "explain",
    "training_table": "pipeline", "FastTreeShap": "fastshap", "run_batch": "batch", "current_snapshot": "pipeline", "train_with_report": "report",
    # policies and offers
    "Policy": "strategy", "evaluate": "strategy", "CutoffCurves": "strategy", "swap_sets": "strategy",
    "load_products": "offers", "offers_for": "offers", "match_book": "offers", "recourse": "offers",
    "simulate": "offers", "partner_pool": "partner_report", "report_html": "partner_report",
    "explanation_record": "compliance", "explanation_text": "compliance", "Store": "store",
    # errors
    "CBError": "errors", "SchemaError": "errors", "DataSourceError": "errors", "ConfigError": "errors",
    "ModelError": "errors", "MissingFeaturesError": "errors", "PolicyError": "errors",
    "ConflictError": "errors", "StoreUnavailableError": "errors", "AuthError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cb_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
