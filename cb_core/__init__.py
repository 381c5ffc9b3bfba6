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
    "Book": "data.book", "validate_tables": "data.schema", "read_book": "data.sources", "write_book": "data.sources",
    "read_uploaded": "data.sources", "generate_book": "synth.generate", "true_pd_at": "synth.generate",
    "snapshot": "features.snapshot", "feature_names": "features.snapshot", "feature_catalog": "data.catalog",
    # model and explanations
    "train_model": "model.credit_model", "load_model": "model.credit_model", "CreditModel": "model.credit_model", "train_scorecard": "model.credit_model",
    "ScoreScale": "model.scale", "GradeBands": "model.scale", "score_from_pd": "model.scale", "pd_from_score": "model.scale",
    "grade_of": "model.scale", "points_by_feature": "explain.points", "reason_codes": "explain.points", "what_if": "explain.points",
    "training_table": "features.pipeline", "FastTreeShap": "explain.fastshap", "run_batch": "batch.run", "current_snapshot": "features.pipeline", "train_with_report": "model.report",
    # policies and offers
    "Policy": "strategy", "evaluate": "strategy", "CutoffCurves": "strategy", "swap_sets": "strategy",
    "load_products": "offers", "offers_for": "offers", "match_book": "offers", "recourse": "offers",
    "simulate": "offers", "partner_pool": "reports.partner", "report_html": "reports.partner",
    "explanation_record": "reports.explanation", "explanation_text": "reports.explanation", "Store": "store",
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
