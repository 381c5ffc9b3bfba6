"""Training on a book plus everything the Model report shows about it.

``train_with_report`` trains the production model and, on the same snapshots and windows, the
challenger scorecard and a model without the sensitive features, and keeps the test window's
predictions so curves and tables can be drawn later without retraining.
"""
from __future__ import annotations

import logging
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..data import OUTCOME_HORIZON_MONTHS, Book
from ..diskio import disk_errors
from .artifact import CreditModel
from .scale import ScoreScale
from ..features import outcome_maturity, static_features, training_table

log = logging.getLogger(__name__)

#: Features that do not come from the platform's own data (bureau, owner, address): the stage-2
#: platform-only model of the two-stage rescue is trained without them.
NON_PLATFORM_FEATURES: tuple[str, ...] = ("bureau_score", "thin_file", "owner_has_credit_card", "region_income_index")


@dataclass
class TrainingReport:
    """What the Model report needs besides the model card.

    Attributes
    ----------
    validation : DataFrame
        Test-window rows (neither trained, early-stopped nor calibrated on): ``merchant_id, snapshot_month, defaulted_12m, pd, score`` and
        ``true_pd`` when known.
    challenger : dict
        Out-of-sample metrics of the WoE logistic scorecard on the same split.
    without_sensitive : dict
        Out-of-sample metrics of the same model trained without sensitive features.
    training_scores : ndarray
        Scores of the training rows (reference distribution for stability).
    scorecard_table : DataFrame or None
        The challenger's binning summary.
    training_sample : DataFrame or None
        Up to 20,000 training rows' features (reference distributions for feature stability).
    platform_only : CreditModel or None
        The same model on platform data only (no bureau score, owner or address features): the
        stage-2 score of the two-stage rescue.
    """

    validation: pd.DataFrame
    challenger: dict[str, Any] = field(default_factory=dict)
    without_sensitive: dict[str, Any] = field(default_factory=dict)
    training_scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    scorecard_table: pd.DataFrame | None = None
    training_sample: pd.DataFrame | None = None
    platform_only: CreditModel | None = None

    def to_json(self) -> dict[str, Any]:
        return {"challenger": self.challenger, "without_sensitive": self.without_sensitive}




def train_with_report(book: Book, *, exclude_sensitive: bool = False, params: dict | None = None,
                      challenger: bool = True, scale: ScoreScale | None = None, seed: int = 0,
                      allow_static: bool = False,
                      progress: Callable[[float, str], None] | None = None) -> tuple[CreditModel, TrainingReport]:
    """Train on a book's outcome snapshots; also the challenger and the no-sensitive model.

    Every model here uses the same three windows of snapshot months: the earliest train, the next
    early-stops and calibrates, the latest is the test window the metrics and the report's rows come
    from. Training-window rows of a merchant whose outcome window overlaps one of its test rows
    are left out (the same default must not label both).

    Parameters
    ----------
    scale : ScoreScale, optional
        Score scale of every model trained here (default: the settings', see
        :meth:`ScoreScale.from_settings`).
    seed : int
        LightGBM's seed.
    allow_static : bool
        Train also on features that are not point-in-time (:func:`~cb_core.features.static_features`:
        today's merchants-table values used for past snapshots). By default they are left out; the
        card's ``validation.point_in_time`` says which and why. Outcome rows not yet mature are left
        out and counted in ``validation.outcome_maturity``.

    Returns
    -------
    (CreditModel, TrainingReport)
    """
    # training's modules here: LightGBM, scikit-learn and scipy.stats are 1 s of import that the app, which reads
    # this module for its model report, does not need
    from .credit_model import train_model
    from .scorecard import train_scorecard

    step = progress or (lambda f, m: None)
    scale = scale or ScoreScale.from_settings()
    X, y, time, true_pd, merchant_id = training_table(book)
    static = [f for f in static_features(book) if f in X.columns]
    if not allow_static:
        X = X.drop(columns=static)
    notes = {"outcome_maturity": outcome_maturity(book), "point_in_time": {
        "bureau_history": book.bureau_history is not None, "static_features": static,
        "used": static if allow_static else [], "excluded": [] if allow_static else static,
        "note": ("every feature is as of its snapshot month" if not static else
                 f"{', '.join(static)} {'are' if len(static) > 1 else 'is'} not point-in-time (today's merchants-table "
                 "value for every past snapshot" + ("; give a bureau_history table for the bureau fields"
                                                    if book.bureau_history is None else "")
                 + ("): used because of --allow-static" if allow_static else "): left out of training"))}}
    step(0.7, "progress_training")
    windows = {"time": time, "groups": merchant_id, "horizon_months": OUTCOME_HORIZON_MONTHS, "seed": seed,
               "notes": notes}
    model = train_model(X, y, oracle_pd=true_pd, exclude_sensitive=exclude_sensitive,
                        params=params, scale=scale, data_fingerprint=book.fingerprint, **windows)
    rows = time.isin(set(model.card["validation"]["test"]["periods"])).to_numpy()
    scored = model.score(X.loc[rows])
    validation = pd.DataFrame({"merchant_id": merchant_id[rows].to_numpy(), "snapshot_month": time[rows].to_numpy(),
                               "defaulted_12m": y[rows].to_numpy(), "pd": scored["pd"].to_numpy(),
                               "score": scored["score"].to_numpy()})
    if true_pd is not None:
        validation["true_pd"] = true_pd[rows].to_numpy()
    train_X = X.loc[time.isin(set(model.card["validation"]["train"]["periods"])).to_numpy()]
    report = TrainingReport(validation=validation, training_scores=model.score(train_X)["score"].to_numpy(),
                            training_sample=train_X.sample(min(len(train_X), 20_000), random_state=0))
    if challenger:
        step(0.8, "progress_challenger")
        try:
            sc = train_scorecard(X, y, exclude_sensitive=exclude_sensitive, scale=scale,
                                 **{k: v for k, v in windows.items() if k != "notes"})
            report.challenger = dict(sc.metrics)
            report.scorecard_table = sc.table
        except Exception as exc:  # the challenger is informative; its failure must not block the model
            log.warning("challenger scorecard failed: %s", exc)
            report.challenger = {"error": str(exc)}
        step(0.9, "progress_sensitive")
        if not exclude_sensitive:
            other = train_model(X, y, oracle_pd=true_pd, exclude_sensitive=True, params=params,
                                scale=scale, data_fingerprint=book.fingerprint, **windows)
            report.without_sensitive = dict(other.card["metrics"])
        step(0.95, "progress_platform_only")
        platform_X = X.drop(columns=[c for c in NON_PLATFORM_FEATURES if c in X.columns])
        report.platform_only = train_model(platform_X, y, oracle_pd=true_pd, params=params,
                                           scale=scale, data_fingerprint=book.fingerprint, **windows)
    return model, report


def validation_windows(card: dict[str, Any]) -> pd.DataFrame:
    """The windows a model card records, one row each, in time order: ``window`` (train / valid /
    test), ``role``, ``periods`` (comma-separated; empty for cross-validation), ``rows``, ``bads``,
    ``bad_rate``; plus the card's ``purged_rows`` and outcome overlap in ``note`` of the test row."""
    validation = card.get("validation", {})
    rows = []
    for window in ("train", "valid", "test"):
        entry = validation.get(window)
        if not entry:
            continue
        rows.append({"window": window, "role": entry.get("role", ""), "periods": ", ".join(entry.get("periods", [])),
                     "rows": int(entry["rows"]), "bads": int(entry["bads"]),
                     "bad_rate": entry["bads"] / entry["rows"] if entry["rows"] else float("nan"), "note": ""})
    if rows and validation.get("method") == "out_of_time":
        overlap = (validation.get("outcome_overlap") or {}).get("overlap_months")
        rows[-1]["note"] = (f"{validation.get('purged_rows', 0):,} training rows of test merchants left out"
                            + (f"; outcome windows overlap by {overlap} months" if overlap else ""))
    if rows and validation.get("outcome_maturity", {}).get("immature_rows"):
        m = validation["outcome_maturity"]
        rows[-1]["note"] += (f"; {m['immature_rows']:,} outcome rows not mature yet (snapshots "
                             f"{', '.join(m['immature_snapshots'])}) left out")
    elif rows and validation.get("method") == "nested_cv":
        rows[-1]["note"] = f"{validation['n_folds']} outer folds; {validation.get('inner', '')}"
    return pd.DataFrame(rows, columns=["window", "role", "periods", "rows", "bads", "bad_rate", "note"])


def point_in_time_note(card: dict[str, Any]) -> str | None:
    """What the card says about features that are not point-in-time (None when it says nothing)."""
    pit = card.get("validation", {}).get("point_in_time")
    return None if not pit else str(pit["note"])


def save_bundle(model: CreditModel, report: TrainingReport | None, path: str | Path) -> Path:
    """Write a model folder with its report files beside it, atomically (temp folder, then rename).

    Files: ``booster.txt``, ``card.json`` (the model), and with a report ``validation.parquet``,
    ``report.json``, ``training_sample.parquet``, ``scorecard.csv``.
    """
    import json
    import tempfile

    final = Path(path)
    with disk_errors(final, "the model folder"):
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=final.parent, prefix=f".{final.name}.incoming-") as tmp:
            staged = model.save(Path(tmp) / "model")
            if report is not None:
                report.validation.to_parquet(staged / "validation.parquet", index=False)
                payload = {**report.to_json(), "training_scores": report.training_scores.tolist()}
                (staged / "report.json").write_text(json.dumps(payload), encoding="utf-8")
                if report.training_sample is not None:
                    report.training_sample.to_parquet(staged / "training_sample.parquet")
                if report.scorecard_table is not None:
                    report.scorecard_table.astype(str).to_csv(staged / "scorecard.csv", index=False)
                if report.platform_only is not None:
                    report.platform_only.save(staged / "platform_only")
            old = Path(tmp) / "previous"  # removed with the temp folder once the new one is in place
            if final.exists():
                final.rename(old)
            try:
                staged.rename(final)
            except OSError:
                if old.exists():
                    old.rename(final)
                raise
    return final
