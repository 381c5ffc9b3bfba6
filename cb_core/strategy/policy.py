"""A credit policy (cutoffs, grade boundaries, economics), its decisions and what it yields.

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

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..config import Settings, get_settings
from ..errors import ConfigError, PolicyError
from ..model.scale import DEFAULT_GRADE_BOUNDARIES, SCORE_MAX, SCORE_MIN, GradeBands, grade_of
from ._inputs import FrameArrays, frame_arrays, segment_values

DECISIONS: tuple[str, ...] = ("approve", "refer", "decline")
DECISION_DTYPE = pd.CategoricalDtype(list(DECISIONS))
BUREAU_ONLY_COLUMN = "bureau_only_score"


class SegmentCutoff(NamedTuple):
    """Approve cutoff for the merchants whose ``column`` equals ``value``."""

    column: str
    value: Any
    approve_cutoff: float


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _number(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise PolicyError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def _within(name: str, value: Any, low: float, high: float, hint: str = "") -> float:
    v = _number(name, value)
    if not low <= v <= high:
        raise PolicyError(f"{name} must be within {_fmt(float(low))}–{_fmt(float(high))}{hint}; got {_fmt(v)}")
    return v


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _segment_cutoffs(raw: Any) -> tuple[SegmentCutoff, ...]:
    """Normalise ``{"category": {"food": 580}}`` or ``[{"column", "value", "approve_cutoff"}]``."""
    if raw is None:
        return ()
    items: list[tuple[Any, Any, Any]] = []
    if isinstance(raw, Mapping):
        for column, by_value in raw.items():
            if not isinstance(by_value, Mapping):
                raise PolicyError(f"segment_cutoffs[{column!r}] must map segment values to cutoffs; got {by_value!r}")
            items += [(column, value, cut) for value, cut in by_value.items()]
    elif isinstance(raw, Iterable) and not isinstance(raw, (str, bytes)):
        for entry in raw:
            if isinstance(entry, Mapping):
                unknown = set(entry) - {"column", "value", "approve_cutoff"}
                if unknown or len(entry) != 3:
                    raise PolicyError("each segment cutoff needs exactly column, value, approve_cutoff; "
                                      f"got {sorted(map(str, entry))}")
                items.append((entry["column"], entry["value"], entry["approve_cutoff"]))
            else:
                items.append(tuple(entry))  # type: ignore[arg-type]
    else:
        raise PolicyError(f"segment_cutoffs must be a mapping or a list; got {type(raw).__name__}")
    out: list[SegmentCutoff] = []
    seen: set[tuple[str, Any]] = set()
    for column, value, cut in items:
        if not isinstance(column, str) or not column:
            raise PolicyError(f"a segment cutoff's column must be a column name; got {column!r}")
        value = _plain(value)
        label = f"{column}={_fmt(value)}"
        if (column, value) in seen:
            raise PolicyError(f"segment cutoff for {label} is given twice")
        seen.add((column, value))
        out.append(SegmentCutoff(column, value, _within(f"segment cutoff for {label}", _plain(cut), SCORE_MIN, SCORE_MAX)))
    return tuple(out)


@dataclass(frozen=True)
class Policy:
    """A credit policy: cutoffs, optional segment cutoffs, grade boundaries and economics.

    Parameters
    ----------
    approve_cutoff : float
        Lowest score approved, 1–1000.
    refer_cutoff : float
        Lowest score referred to an officer, 1–1000 and not above ``approve_cutoff``.
    segment_cutoffs : mapping or list, optional
        Approve cutoffs replacing ``approve_cutoff`` for a segment, e.g. ``{"thin_file": {1: 600}}``
        or ``{"category": {"food": 580}}`` (any frame column, or ``tenure_lt_12m``). A merchant
        in several overridden segments gets the *highest* of their cutoffs (the stricter one,
        whatever the order they were given in). Stored as a tuple of :class:`SegmentCutoff`.
    grade_boundaries : tuple of 9 floats
        As in :class:`~cb_core.model.scale.GradeBands`.
    lgd : float
        Loss given default, 0–1.
    apr : float
        Yearly interest rate as a fraction (0.057 = 5.7%); a frame column ``apr`` replaces it.
    broker_fee_pct : float
        Platform fee in percent of the limit (1.0 = 1%); a frame column of that name replaces it.
    funding_rate : float
        Lender's yearly cost of funds as a fraction.
    term_months : int
        Loan term, 1–120 months.
    positive_only : bool
        Alternative data may only help: decisions use ``max(score, bureau_only_score)`` (the
        frame must have ``bureau_only_score``; a missing one, a thin file, leaves the score).
    """

    approve_cutoff: float = 590.0
    refer_cutoff: float = 550.0
    segment_cutoffs: tuple[SegmentCutoff, ...] = ()
    grade_boundaries: tuple[float, ...] = DEFAULT_GRADE_BOUNDARIES
    lgd: float = 0.6
    apr: float = 0.057
    broker_fee_pct: float = 1.0
    funding_rate: float = 0.035
    term_months: int = 12
    positive_only: bool = False

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "approve_cutoff", _within("approve_cutoff", self.approve_cutoff, SCORE_MIN, SCORE_MAX))
        put(self, "refer_cutoff", _within("refer_cutoff", self.refer_cutoff, SCORE_MIN, SCORE_MAX))
        if self.refer_cutoff > self.approve_cutoff:
            raise PolicyError(f"refer_cutoff must not be above approve_cutoff; got refer_cutoff "
                              f"{_fmt(self.refer_cutoff)} > approve_cutoff {_fmt(self.approve_cutoff)}")
        put(self, "segment_cutoffs", _segment_cutoffs(self.segment_cutoffs))
        try:
            bands = GradeBands(tuple(self.grade_boundaries))
        except (ConfigError, TypeError) as err:
            raise PolicyError(str(err)) from None
        put(self, "grade_boundaries", bands.boundaries)
        put(self, "lgd", _within("lgd", self.lgd, 0, 1))
        put(self, "apr", _within("apr", self.apr, 0, 1, " (a yearly fraction, 0.057 for 5.7%)"))
        put(self, "broker_fee_pct", _within("broker_fee_pct", self.broker_fee_pct, 0, 100, " (percent of the limit)"))
        put(self, "funding_rate", _within("funding_rate", self.funding_rate, 0, 1, " (a yearly fraction)"))
        term = self.term_months
        if isinstance(term, (bool, np.bool_)) or not isinstance(term, (int, np.integer, float)) \
                or not float(term).is_integer() or not 1 <= term <= 120:
            raise PolicyError(f"term_months must be a whole number within 1–120; got {term!r}")
        put(self, "term_months", int(term))
        if not isinstance(self.positive_only, (bool, np.bool_)):
            raise PolicyError(f"positive_only must be true or false; got {self.positive_only!r}")
        put(self, "positive_only", bool(self.positive_only))

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> Policy:
        """The policy the settings describe (``approve_cutoff``, ``refer_cutoff``, ``lgd``; default:
        the current :func:`~cb_core.config.get_settings`), with ``overrides`` on top: the policy in
        force until one is published."""
        s = settings or get_settings()
        base = {"approve_cutoff": s.approve_cutoff, "refer_cutoff": s.refer_cutoff, "lgd": s.lgd}
        return cls(**{**base, **overrides})

    @property
    def bands(self) -> GradeBands:
        return GradeBands(self.grade_boundaries)

    @property
    def term_fraction(self) -> float:
        """Share of a year the loan runs: ``term_months / 12``."""
        return self.term_months / 12.0

    def segment_key(self) -> tuple[tuple[str, Any, float], ...]:
        """Segment cutoffs in a canonical order (for comparing two policies' overrides)."""
        return tuple(sorted(((c.column, repr(c.value), c.approve_cutoff) for c in self.segment_cutoffs)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; :meth:`from_dict` gives back an equal policy."""
        out = asdict(self)
        out["segment_cutoffs"] = [{"column": c.column, "value": c.value, "approve_cutoff": c.approve_cutoff}
                                  for c in self.segment_cutoffs]
        out["grade_boundaries"] = list(self.grade_boundaries)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """A policy from :meth:`to_dict` output; fields it lacks take their defaults, unknown
        fields are an error."""
        if not isinstance(data, Mapping):
            raise PolicyError(f"a stored policy must be a mapping; got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(map(str, data)) - known)
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(unknown)}")
        return cls(**dict(data))


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
        raise PolicyError(f"the positive-only option needs a {BUREAU_ONLY_COLUMN} column in the frame")
    floor = pd.to_numeric(frame[BUREAU_ONLY_COLUMN]).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(floor), s, np.fmax(s, floor))


def approve_cutoffs(frame: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Each merchant's approve cutoff: ``policy.approve_cutoff``, or the highest segment cutoff
    of the overridden segments it belongs to."""
    override = np.full(len(frame), np.nan)
    for column, value, cut in policy.segment_cutoffs:
        try:
            segment = segment_values(frame, column)
        except ConfigError as err:
            raise PolicyError(f"the policy has a cutoff for segment {column}={_fmt(value)}, but {err}") from None
        hit = (segment == value).to_numpy(dtype=bool, na_value=False)
        override[hit] = np.fmax(override[hit], cut)
    return np.where(np.isnan(override), policy.approve_cutoff, override)


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


def with_cutoffs(policy: Policy, approve_cutoff: float, refer_cutoff: float | None = None) -> Policy:
    """``policy`` with new cutoffs; without ``refer_cutoff``, the policy's one, lowered to the
    approve cutoff when it would lie above it."""
    refer = min(policy.refer_cutoff, approve_cutoff) if refer_cutoff is None else refer_cutoff
    return replace(policy, approve_cutoff=approve_cutoff, refer_cutoff=refer)
