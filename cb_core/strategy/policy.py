"""A credit policy: cutoffs, segment overrides, grade boundaries and the economics assumptions
(LGD, APR, funding rate, term, broker fee), validated when built and frozen; the store keeps published
versions immutable.

What a policy decides and yields on a scored book (the decision rule, expected loss, revenue and
profit) is in :mod:`cb_core.strategy.results`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..config import Settings, get_settings
from ..errors import ConfigError, PolicyError
from ..model import DEFAULT_GRADE_BOUNDARIES, SCORE_MAX, SCORE_MIN, GradeBands

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
        raise PolicyError(f"{name} must be a finite number; got {value!r}", key="err_policy_name_finite_number_got", name=name, value=value)
    return float(value)


def _within(name: str, value: Any, low: float, high: float, hint: str = "") -> float:
    v = _number(name, value)
    if not low <= v <= high:
        raise PolicyError(f"{name} must be within {_fmt(float(low))}–{_fmt(float(high))}{hint}; got {_fmt(v)}", key="err_policy_out_of_range", name=name, low=_fmt(float(low)), high=_fmt(float(high)), hint=hint, v=_fmt(v))
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
                raise PolicyError(f"segment_cutoffs[{column!r}] must map segment values to cutoffs; got {by_value!r}", key="err_policy_segment_cutoffs_column_map", column=column, by_value=by_value)
            items += [(column, value, cut) for value, cut in by_value.items()]
    elif isinstance(raw, Iterable) and not isinstance(raw, (str, bytes)):
        for entry in raw:
            if isinstance(entry, Mapping):
                unknown = set(entry) - {"column", "value", "approve_cutoff"}
                if unknown or len(entry) != 3:
                    raise PolicyError("each segment cutoff needs exactly column, value, approve_cutoff; "
                                      f"got {sorted(map(str, entry))}", key="err_policy_each_segment_cutoff_needs", value=sorted(map(str, entry)))
                items.append((entry["column"], entry["value"], entry["approve_cutoff"]))
            else:
                items.append(tuple(entry))  # type: ignore[arg-type]
    else:
        raise PolicyError(f"segment_cutoffs must be a mapping or a list; got {type(raw).__name__}", key="err_policy_segment_cutoffs_mapping_list", kind=type(raw).__name__)
    out: list[SegmentCutoff] = []
    seen: set[tuple[str, Any]] = set()
    for column, value, cut in items:
        if not isinstance(column, str) or not column:
            raise PolicyError(f"a segment cutoff's column must be a column name; got {column!r}", key="err_policy_segment_cutoff_s_column", column=column)
        value = _plain(value)
        label = f"{column}={_fmt(value)}"
        if (column, value) in seen:
            raise PolicyError(f"segment cutoff for {label} is given twice", key="err_policy_segment_cutoff_label_given", label=label)
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
                              f"{_fmt(self.refer_cutoff)} > approve_cutoff {_fmt(self.approve_cutoff)}", key="err_policy_refer_above_approve", refer_cutoff=_fmt(self.refer_cutoff), approve_cutoff=_fmt(self.approve_cutoff))
        put(self, "segment_cutoffs", _segment_cutoffs(self.segment_cutoffs))
        try:
            bands = GradeBands(tuple(self.grade_boundaries))
        except (ConfigError, TypeError) as err:
            raise PolicyError(str(err), key="err_policy_grade_bands", problem=err) from None
        put(self, "grade_boundaries", bands.boundaries)
        put(self, "lgd", _within("lgd", self.lgd, 0, 1))
        put(self, "apr", _within("apr", self.apr, 0, 1, " (a yearly fraction, 0.057 for 5.7%)"))
        put(self, "broker_fee_pct", _within("broker_fee_pct", self.broker_fee_pct, 0, 100, " (percent of the limit)"))
        put(self, "funding_rate", _within("funding_rate", self.funding_rate, 0, 1, " (a yearly fraction)"))
        term = self.term_months
        if isinstance(term, (bool, np.bool_)) or not isinstance(term, (int, np.integer, float)) \
                or not float(term).is_integer() or not 1 <= term <= 120:
            raise PolicyError(f"term_months must be a whole number within 1–120; got {term!r}", key="err_policy_term_months_whole_number", term=term)
        put(self, "term_months", int(term))
        if not isinstance(self.positive_only, (bool, np.bool_)):
            raise PolicyError(f"positive_only must be true or false; got {self.positive_only!r}", key="err_policy_positive_only_true_false", positive_only=self.positive_only)
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
            raise PolicyError(f"a stored policy must be a mapping; got {type(data).__name__}", key="err_policy_stored_policy_mapping_got", kind=type(data).__name__)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(map(str, data)) - known)
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(unknown)}", key="err_policy_unknown_policy_field_s", unknown=', '.join(unknown))
        return cls(**dict(data))


def with_cutoffs(policy: Policy, approve_cutoff: float, refer_cutoff: float | None = None) -> Policy:
    """``policy`` with new cutoffs; without ``refer_cutoff``, the policy's one, lowered to the
    approve cutoff when it would lie above it."""
    refer = min(policy.refer_cutoff, approve_cutoff) if refer_cutoff is None else refer_cutoff
    return replace(policy, approve_cutoff=approve_cutoff, refer_cutoff=refer)
