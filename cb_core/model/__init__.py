"""The credit model: LightGBM with monotone constraints from the feature catalog, three disjoint
out-of-time windows (train, early-stop/calibrate, test) or nested cross-validation, Platt calibration linear
in the margin (so points stay additive), the score scale and grades, metrics, the WoE scorecard challenger,
the choice among LightGBM, a WoE/logistic scorecard and their blend on small own tables, and model folders
(booster + card).

May import the base modules, ``data`` and ``features``. The front loads lazily: importing
``score_from_pd`` does not load LightGBM.
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "artifact": ("CreditModel", "load_model"),
    "credit_model": ("assemble_model", "train_model"),
    "trees": ("TreeEnsemble",),
    "_trees_fast": ("COLD_ROWS", "NUMBA_POOL_LOCK", "engine_for"),
    "_inputs": ("BOOSTER_FILE", "CARD_FILE", "DEFAULT_EARLY_STOPPING_ROUNDS", "DEFAULT_NUM_BOOST_ROUND",
                "DEFAULT_PARAMS", "booster_names", "check_book_features", "feature_layout", "feature_matrix",
                "typed_table"),
    "_choice": ("AUC_TOLERANCE", "BLEND_WEIGHT", "INNER_FOLDS", "MODEL_CANDIDATES", "SMALL_DATA_PARAMS",
                "SMALL_TABLE_ROWS"),
    "_training": ("TimeSplit", "calibrate", "checked_windows", "fit_platt",
                  "held_out_metrics", "out_of_time_split"),
    "_windows": ("TEST_SHARE", "VALID_SHARE", "TimeWindows", "outcome_gap", "period_order", "purge", "sorted_periods",
                 "time_windows"),
    "scale": ("DEFAULT_GRADE_BOUNDARIES", "N_GRADES", "SCORE_MAX", "SCORE_MIN", "GradeBands", "ScoreScale",
              "grade_of", "pd_from_logit", "pd_from_score", "score_from_logit", "score_from_pd"),
    "scorecard": ("ScorecardResult", "train_scorecard"),
    "woe": ("Steps", "WoeScorecard", "bin_feature", "fit_woe_scorecard"),
    "report": ("NON_PLATFORM_FEATURES", "TrainingReport", "point_in_time_note", "save_bundle",
               "train_with_report", "validation_windows"),
})
# ``metrics`` is a public module of its own: ``from cb_core.model import metrics``.
