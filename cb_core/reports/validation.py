"""The validation pack's figures: what a partner bank's validation committee reads about the model and the book.

:func:`validation_tables` computes every table once, in no language (the page caches it per book
and model); :func:`cb_core.reports.validation_html.validation_pack_html` lays them out in Korean or
English. The sections:

- the model card and its windows (train / early-stop and calibration / test, with rows and bads);
- discrimination and calibration on the test window (AUC, Gini, KS, Brier, ECE from the card; the
  calibration table from the test rows saved beside the model);
- the backtest by grade at booking with its lights (:func:`cb_core.loans.backtest`);
- vintages under one registry definition (default 90+), roll rates and early reads;
- stability: score PSI by month since training (:func:`cb_core.loans.score_psi_by_month`) and
  feature PSI of the current snapshot against the training sample when the model folder has one;
- the information categories and their weights: each category's share of the mean absolute score
  points over a sample of merchants (the feature catalog's ``info_group``), as Korean bureaus disclose;
- a sample of bad loans with personal data masked as for a partner, whoever builds the pack.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..data import Book
from ..errors import ConfigError
from ..features import current_snapshot
from ..loans import (BAD_FOR_SCORE, backtest, cohort_metrics, definition, first_bad_mob, roll_rates,
                     score_psi_by_month, vintages)
from ..model import metrics, validation_windows
from .explanation import information_weights
from .masking import mask_frame
from .partner import PARTNER_ROLE

__all__ = ["BAD_LOAN_SAMPLE", "POINTS_SAMPLE", "ValidationTables", "information_weights_of", "sample_points",
           "validation_tables"]

#: Bad loans listed (masked) in the pack at most.
BAD_LOAN_SAMPLE = 15
#: Merchants whose points give the information weights.
POINTS_SAMPLE = 2_000
#: Features in the feature-PSI table at most (worst first).
FEATURE_PSI_ROWS = 15


@dataclass(frozen=True)
class ValidationTables:
    """Every figure of the pack, language-neutral (frames keep the engine's column names).

    ``card``: the model card (dict). ``windows``: :func:`cb_core.model.validation_windows`.
    ``calibration``: :func:`cb_core.model.metrics.calibration_table` of the test rows (None without them).
    ``backtest``, ``vintages`` (under ``vintage_definition``), ``roll_rates``, ``early_reads``,
    ``score_psi``: the engine's frames. ``feature_psi``: ``column``, ``psi``, ``band`` (None without a
    training sample). ``weights``: ``group``, ``label`` (unused), ``points``, ``weight``, ``features``.
    ``bad_loans``: masked sample of bad loans. ``book_fingerprint``, ``data_month``.
    """

    card: dict[str, Any]
    windows: pd.DataFrame
    calibration: pd.DataFrame | None
    backtest: pd.DataFrame
    vintage_definition: str
    vintages: pd.DataFrame
    roll_rates: pd.DataFrame
    early_reads: pd.DataFrame
    score_psi: pd.DataFrame
    feature_psi: pd.DataFrame | None
    weights: pd.DataFrame
    bad_loans: pd.DataFrame
    book_fingerprint: str
    data_month: str
    loans: int


def information_weights_of(points: pd.DataFrame) -> pd.DataFrame:
    """Each information category's weight: its share of the mean absolute points over ``points``'s rows.

    Parameters
    ----------
    points : DataFrame
        ``points__<feature>`` columns (``cb_core.explain.points_by_feature`` of a sample of merchants).

    Returns
    -------
    DataFrame
        ``group``, ``label``, ``points`` (mean absolute points of the group), ``weight`` (0–1, summing
        to 1), ``features``; largest weight first.
    """
    cols = [c for c in points.columns if str(c).startswith("points__")]
    if not cols or len(points) == 0:
        raise ConfigError("information weights need points__<feature> columns for at least one merchant", key="err_validation_information_weights_need_points")
    return information_weights(points[cols].abs().mean(), "en")


def _bad_loans(book: Book, n: int) -> pd.DataFrame:
    loans = book.loans
    first = first_bad_mob(loans, book.loan_months, BAD_FOR_SCORE).to_numpy()
    bad = loans.loc[~np.isnan(first)].assign(first_bad_mob=first[~np.isnan(first)])
    bad = bad.sort_values(["booked_month", "loan_id"]).head(n)
    people = book.merchants.assign(merchant_id=book.merchants["merchant_id"].astype(str)).set_index("merchant_id")
    owners = people.reindex(bad["merchant_id"].astype(str).to_numpy())[["owner_name", "business_reg_no"]]
    masked = mask_frame(owners, PARTNER_ROLE)  # the pack leaves the platform: masked whoever builds it
    return pd.DataFrame({"loan_id": bad["loan_id"].astype(str).to_numpy(),
                         "merchant_id": bad["merchant_id"].astype(str).to_numpy(),
                         "owner_name": masked["owner_name"].to_numpy(),
                         "business_reg_no": masked["business_reg_no"].to_numpy(),
                         "partner": bad["partner"].astype(str).to_numpy(),
                         "booked_month": bad["booked_month"].astype(str).to_numpy(),
                         "grade": bad["grade_at_booking"].astype(int).to_numpy(),
                         "pd": bad["pd_at_booking"].astype(float).to_numpy(),
                         "first_bad_mob": bad["first_bad_mob"].astype(int).to_numpy()})


def sample_points(book: Book, model, n: int = POINTS_SAMPLE) -> pd.DataFrame:
    """Points by feature of a fixed random sample of the book's current snapshot (``random_state=0``, the
    app's sample too), from LightGBM's own TreeSHAP (``pred_contrib``; no numba to load)."""
    from ..explain import contributions_to_points

    snap = current_snapshot(book)
    sample = snap.sample(min(n, len(snap)), random_state=0)
    contrib = model.booster_predict(model.matrix(sample), pred_contrib=True)
    return contributions_to_points(model, np.asarray(contrib, dtype=float), sample.index)


def validation_tables(book: Book, model, report_data: Mapping[str, Any], points: pd.DataFrame | None = None, *,
                      bad: str = "dpd_90") -> ValidationTables:
    """Compute every figure of the pack.

    Parameters
    ----------
    book : Book
        With ``loans`` and ``loan_months``.
    model : CreditModel
    report_data : mapping
        What was saved beside the model (``cb_core.workspace.model_report_data``): ``validation``
        (test rows, DataFrame or None), ``training_scores`` (list), ``training_sample`` (DataFrame or None).
    points : DataFrame, optional
        Points by feature of a sample of the book's merchants (for the information weights); default
        :func:`sample_points`.
    bad : str
        The registry definition of the vintages (default ``dpd_90``).
    """
    if book.loans is None or book.loan_months is None:
        where = f" {book.source}" if book.source else ""
        raise ConfigError(f"the book{where} has no loans and loan_months tables; the validation pack needs both "
                          "(python -m cb_core demo-data writes them)", key="err_validation_book_where_loans_loan", where=where)
    vintage_definition = definition(bad).key
    points = sample_points(book, model) if points is None else points
    validation = report_data.get("validation")
    calibration = None
    if validation is not None and len(validation):
        calibration = metrics.calibration_table(validation["pd"], validation["defaulted_12m"])
    feature_psi = None
    sample = report_data.get("training_sample")
    if sample is not None and len(sample):
        features = [f for f in model.features if f in sample.columns]
        current = current_snapshot(book)
        feature_psi = metrics.psi_by_column(sample, current, columns=[f for f in features if f in current.columns])
        feature_psi = feature_psi.head(FEATURE_PSI_ROWS)
    return ValidationTables(
        card=dict(model.card), windows=validation_windows(model.card), calibration=calibration,
        backtest=backtest(book), vintage_definition=vintage_definition, vintages=vintages(book, bad=bad),
        roll_rates=roll_rates(book), early_reads=cohort_metrics(book),
        score_psi=score_psi_by_month(book, model, report_data.get("training_scores") or None),
        feature_psi=feature_psi, weights=information_weights_of(points), bad_loans=_bad_loans(book, BAD_LOAN_SAMPLE),
        book_fingerprint=str(book.fingerprint), data_month=str(book.last_month), loans=len(book.loans))
