"""As-of feature snapshots (nothing after the as-of month is read) and the tables built from them:
the training table (one snapshot per outcome month) and the current snapshot that is scored.

May import the base modules and ``data``.
"""
from ._columns import FeatureColumns
from .pipeline import current_columns, current_snapshot, outcome_maturity, static_features, training_table
from .asof import (ACTIVITY_FEATURES, RATE_FIELDS, SUM_FIELDS, WINDOW, feature_names, month_index, month_label, snapshot,
                   snapshot_columns, snapshot_in_parts)

__all__ = ["ACTIVITY_FEATURES", "RATE_FIELDS", "SUM_FIELDS", "WINDOW", "FeatureColumns", "current_columns",
           "current_snapshot", "feature_names", "month_index", "month_label", "outcome_maturity", "snapshot",
           "snapshot_columns", "snapshot_in_parts", "static_features", "training_table"]
