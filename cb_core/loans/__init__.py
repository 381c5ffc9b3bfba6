"""Booked loans: what partners booked through the brokerage and how it performed.

- ``definitions`` — the one registry of delinquency definitions (30+, 60+, 90+, charge-off, and
  the score's "bad": 90+ within 12 months) and when a loan first meets one.
- ``demo`` — demo loans booked on a book under the shipped catalog and the policy in force.
- ``cohorts`` — vintages: cumulative bad rate by months on book per booking cohort and segment.
- ``rollrates`` — month-to-month transitions between delinquency states (counts and balances).
- ``calibration`` — the backtest: predicted PD at booking against the observed 12-month bad rate by grade.
- ``early_reads`` — per cohort: first-payment default, 30+ by month 3, AUC/KS once judged.
- ``lift`` — the watch-list's lift and lead time before 90+.
- ``early_warning`` — the watch-list: early-warning triggers for booked merchants.
- ``stability`` — score PSI by month since training (each month's scores against the training window's).

May import the base modules, ``data``, ``synth``, ``features``, ``model``, ``explain``,
``strategy`` and ``offers``. The front loads lazily.
"""
from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "definitions": ("BAD_FOR_SCORE", "DEFINITIONS", "Definition", "definition", "first_bad_mob", "months_on_book"),
    "demo": ("DEMO_TAKE_UP", "MODEL_ERROR_SD", "demo_loans", "with_demo_loans"),
    "cohorts": ("VINTAGE_COLUMNS", "VINTAGE_GROUPS", "loan_segments", "vintages"),
    "rollrates": ("ROLL_COLUMNS", "roll_matrix", "roll_rates"),
    "calibration": ("BACKTEST_COLUMNS", "HORIZON_MONTHS", "backtest", "jeffreys_interval", "traffic_light"),
    "early_reads": ("COHORT_METRIC_COLUMNS", "cohort_metrics"),
    "scoring": ("pd_at_booking", "scores_at_booking"),
    "lift": ("watchlist_lift",),
    "early_warning": ("SEVERITIES", "TRIGGERS", "WATCHLIST_COLUMNS", "watchlist"),
    "stability": ("STABILITY_COLUMNS", "psi_by_month", "score_psi_by_month", "training_end"),
})
