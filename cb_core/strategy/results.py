"""What a policy decides and yields on a scored book: decisions, grades, :func:`evaluate` ->
:class:`PolicyResult`, and :func:`compare_policies` (who moves between two policies).

Decision rule, per merchant: **approve** when ``score >= approve cutoff`` (the merchant's segment
cutoff when a segment override covers it), else **refer** (to a credit officer) when
``score >= refer_cutoff``, else **decline**. A score equal to a cutoff passes it.

Economics of the approved, over one loan term (``tf = term_months / 12``):

- expected loss      ``EL = sum(PD * LGD * exposure)`` — PD is the model's 12-month PD, so set
  ``term_months = 12`` for a like-for-like year;
- interest revenue   ``sum(exposure * APR) * tf`` — the lender's, simple interest on the full
  limit for the whole term (a bullet loan fully drawn; amortisation would lower it);
- funding cost       ``sum(exposure) * funding_rate * tf`` — the lender's cost of funds;
- profit             ``interest - EL - funding cost`` — the lender's, before operating costs;
- broker fee         ``sum(exposure * broker_fee_pct / 100)`` — the platform's revenue, once per
  loan, reported apart from (not netted out of) the lender's profit.

Rates of the approved (expected bad rate = mean PD, observed bad rate) count approved merchants
only; referred merchants await an officer and are in neither.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import ConfigError, PolicyError
from ..model import grade_of
from ._inputs import FrameArrays, frame_arrays, segment_values
from .policy import BUREAU_ONLY_COLUMN, DECISION_DTYPE, DECISIONS, Policy, _fmt


@dataclass(frozen=True)
class PolicyResult:
    """What a policy yields on a book. Amounts in KRW; rates are shares of all merchants
    (approval, refer, decline) or of the approved (bad rates); NaN when the base is empty."""

    n_merchants: int
    n_approved: int
    n_referred: int
    n_declined: int
    approval_rate: float
    refer_rate: float
    decline_rate: float
    expected_bads: float
    expected_bad_rate: float
    n_approved_with_outcome: int
    observed_bads: int
    observed_bad_rate: float
    approved_volume_krw: float
    expected_loss_krw: float
    interest_revenue_krw: float
    funding_cost_krw: float
    broker_fee_revenue_krw: float
    profit_krw: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PolicyResult))
_COUNT_FIELDS = {"n_merchants", "n_approved", "n_referred", "n_declined", "n_approved_with_outcome", "observed_bads"}


def ratio(num: Any, den: Any) -> Any:
    """``num / den`` elementwise, NaN where ``den`` is 0 (scalars stay scalars)."""
    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(a, b).shape, np.nan)
    np.divide(a, b, out=out, where=b > 0)
    return out[()] if out.ndim == 0 else out


#: Sums over the approved that every result is made of.
SUM_NAMES: tuple[str, ...] = ("pd", "pd_exposure", "exposure", "exposure_apr", "exposure_fee_pct",
                              "with_outcome", "observed_bads")


def row_terms(arrays: FrameArrays) -> dict[str, np.ndarray | None]:
    """Per-merchant terms of :data:`SUM_NAMES` (``None`` where the policy's scalar applies)."""
    e = arrays.exposure
    return {"pd": arrays.pd, "pd_exposure": arrays.pd * e, "exposure": e,
            "exposure_apr": None if arrays.apr is None else e * arrays.apr,
            "exposure_fee_pct": None if arrays.fee_pct is None else e * arrays.fee_pct,
            "with_outcome": arrays.has_outcome.astype(float), "observed_bads": arrays.bad.astype(float)}


def result_columns(n: int, n_approved: Any, n_referred: Any, sums: Mapping[str, Any],
                   policy: Policy) -> dict[str, Any]:
    """Every :class:`PolicyResult` field from counts and sums (scalars or arrays alike).

    ``sums["exposure_apr"]`` / ``sums["exposure_fee_pct"]`` are ``None`` when the frame has no
    per-merchant column, and the policy's scalar applies to the approved volume.
    """
    volume = sums["exposure"]
    exposure_apr = policy.apr * volume if sums["exposure_apr"] is None else sums["exposure_apr"]
    exposure_fee = policy.broker_fee_pct * volume if sums["exposure_fee_pct"] is None else sums["exposure_fee_pct"]
    tf = policy.term_fraction
    interest = exposure_apr * tf
    loss = policy.lgd * sums["pd_exposure"]
    funding = policy.funding_rate * tf * volume
    declined = n - np.asarray(n_approved) - np.asarray(n_referred)
    return {
        "n_merchants": np.full(np.shape(n_approved), n) if np.ndim(n_approved) else n,
        "n_approved": n_approved, "n_referred": n_referred, "n_declined": declined,
        "approval_rate": ratio(n_approved, n), "refer_rate": ratio(n_referred, n), "decline_rate": ratio(declined, n),
        "expected_bads": sums["pd"], "expected_bad_rate": ratio(sums["pd"], n_approved),
        "n_approved_with_outcome": sums["with_outcome"], "observed_bads": sums["observed_bads"],
        "observed_bad_rate": ratio(sums["observed_bads"], sums["with_outcome"]),
        "approved_volume_krw": volume, "expected_loss_krw": loss, "interest_revenue_krw": interest,
        "funding_cost_krw": funding, "broker_fee_revenue_krw": exposure_fee / 100.0,
        "profit_krw": interest - loss - funding,
    }


def as_result(columns: Mapping[str, Any]) -> PolicyResult:
    return PolicyResult(**{k: (int(round(float(columns[k]))) if k in _COUNT_FIELDS else float(columns[k]))
                           for k in RESULT_FIELDS})


# ------------------------------------------------------------------ decisions

def effective_score(frame: pd.DataFrame, policy: Policy, score: np.ndarray | None = None) -> np.ndarray:
    """The score the policy decides on: the frame's (or ``score``), floored at
    ``bureau_only_score`` when ``policy.positive_only``."""
    s = frame_arrays(frame).score if score is None else np.asarray(score, dtype=float)
    if not policy.positive_only:
        return s
    if BUREAU_ONLY_COLUMN not in frame:
        raise PolicyError(f"the positive-only option needs a {BUREAU_ONLY_COLUMN} column in the frame", key="err_results_positive_only_option_needs", BUREAU_ONLY_COLUMN=BUREAU_ONLY_COLUMN)
    floor = pd.to_numeric(frame[BUREAU_ONLY_COLUMN]).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(floor), s, np.fmax(s, floor))


def approve_cutoffs(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Each merchant's approve cutoff: ``policy.approve_cutoff``, or the highest segment cutoff
    of the overridden segments it belongs to."""
    override = segment_overrides(frame, policy)
    return np.where(np.isnan(override), policy.approve_cutoff, override)


def segment_overrides(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Each merchant's segment cutoff (the highest of the overrides covering it), NaN where none does:
    fixed by the policy's ``segment_cutoffs`` alone, whatever its base approve cutoff."""
    override = np.full(len(frame), np.nan)
    for column, value, cut in policy.segment_cutoffs:
        try:
            segment = segment_values(frame, column)
        except ConfigError as err:
            raise PolicyError(f"the policy has a cutoff for segment {column}={_fmt(value)}, but {err}", key="err_results_policy_cutoff_segment_column", column=column, value=_fmt(value), err=err) from None
        hit = (segment == value).to_numpy(dtype=bool, na_value=False)
        override[hit] = np.fmax(override[hit], cut)
    return override


def decision_codes(score: np.ndarray, cutoffs: np.ndarray | float, refer_cutoff: float) -> np.ndarray:
    """0 approve, 1 refer, 2 decline; a missing score declines."""
    with np.errstate(invalid="ignore"):
        return np.where(score >= cutoffs, 0, np.where(score >= refer_cutoff, 1, 2)).astype(np.int8)


def decisions(frame: pd.DataFrame, policy: Policy) -> pd.Series:
    """``approve`` / ``refer`` / ``decline`` per merchant (categorical, index of ``frame``)."""
    codes = decision_codes(effective_score(frame, policy), approve_cutoffs(frame, policy), policy.refer_cutoff)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=DECISION_DTYPE), index=frame.index, name="decision")


def policy_grades(frame: pd.DataFrame, policy: Policy) -> pd.Series:
    """Grade (1 best .. 10) of each merchant under the policy's grade boundaries."""
    return pd.Series(grade_of(effective_score(frame, policy), policy.bands), index=frame.index, name="grade")


def evaluate(frame: pd.DataFrame, policy: Policy) -> PolicyResult:
    """Approval / refer / decline rates, bad rates, loss, revenue and profit of ``policy``.

    Parameters
    ----------
    frame : DataFrame
        A strategy frame (see :mod:`cb_core.strategy._inputs`).
    policy : Policy

    Returns
    -------
    PolicyResult
        E.g. four of eight merchants approved with PDs 1%, 2%, 3%, 5% give approval rate 0.5
        and expected bad rate 0.0275.
    """
    arrays = frame_arrays(frame)
    codes = decision_codes(effective_score(frame, policy, arrays.score), approve_cutoffs(frame, policy),
                           policy.refer_cutoff)
    approved = codes == 0
    sums = {k: (None if v is None else float(v[approved].sum())) for k, v in row_terms(arrays).items()}
    return as_result(result_columns(arrays.n, int(approved.sum()), int((codes == 1).sum()), sums, policy))


@dataclass(frozen=True)
class PolicyComparison:
    """Who changes decision between a published policy and a draft.

    Attributes
    ----------
    changes : DataFrame
        ``merchant_id``, ``score``, ``old`` (published), ``new`` (draft), one row per merchant
        whose decision changes, best score first.
    matrix : DataFrame
        3x3 counts, rows the published decision, columns the draft's (approve, refer, decline).
    """

    changes: pd.DataFrame
    matrix: pd.DataFrame = field(repr=False)


def compare_policies(frame: pd.DataFrame, draft: Policy, published: Policy) -> PolicyComparison:
    """Merchants whose decision changes from ``published`` to ``draft``, and the 3x3 count matrix."""
    old, new = decisions(frame, published), decisions(frame, draft)
    codes_old, codes_new = old.cat.codes.to_numpy(), new.cat.codes.to_numpy()
    counts = np.bincount(codes_old.astype(np.int64) * 3 + codes_new, minlength=9).reshape(3, 3)
    matrix = pd.DataFrame(counts, index=pd.Index(DECISIONS, name="published"),
                          columns=pd.Index(DECISIONS, name="draft"))
    moved = codes_old != codes_new
    changes = pd.DataFrame({"merchant_id": frame.index[moved], "score": frame["score"].to_numpy()[moved],
                            "old": old.to_numpy()[moved], "new": new.to_numpy()[moved]})
    changes = changes.sort_values(["score", "merchant_id"], ascending=[False, True], kind="stable")
    return PolicyComparison(changes.reset_index(drop=True), matrix)
