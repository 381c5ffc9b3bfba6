"""Our score against a bureau-only view: swap sets, thin-file uplift, the positive-only rescue.

A *bureau-only* policy ranks merchants by the traditional bureau score alone. Thin-file owners have
none and a bureau-only policy declines them all: that is the gap alternative data closes.

- :func:`swap_sets` — at equal approval count (or equal expected bad rate, or a given bureau
  cutoff): who we approve that the bureau would not (swap-in), the reverse (swap-out), both,
  neither; their counts and bad rates.
- :func:`thin_file_uplift` — the statistic Naver publishes: approval of thin-file sellers, and the
  share of applicants upgraded (turned from decline to approval, or given a better grade) versus a
  bureau-only score on our points scale under the same policy.
- :func:`bureau_only_scores` — that bureau-only score: bureau points mapped to our scale.
- :func:`rescue_view` — positive-only (final = max(our score, bureau-only score)) and the
  two-stage view (stage 2, platform data only, re-screens stage-1 declines).

Bad rates here are the *expected* bad rate (mean of our model's PD) and the *observed* one (share
of ``defaulted_12m == 1`` among merchants with an outcome), both of the group in question.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..model import ScoreScale, grade_of, score_from_logit
from ._inputs import FrameArrays, frame_arrays
from .policy import DECISION_DTYPE, Policy
from .results import approve_cutoffs, decision_codes, decisions, effective_score, ratio

GROUP_COLUMNS: tuple[str, ...] = ("n", "share", "expected_bad_rate", "observed_bad_rate", "n_with_outcome",
                                  "n_thin_file")


def _bureau(frame: pd.DataFrame) -> np.ndarray:
    if "bureau_score" not in frame:
        raise ConfigError("a bureau comparison needs a bureau_score column (missing = thin file)", key="err_bureau_bureau_comparison_needs_bureau")
    return pd.to_numeric(frame["bureau_score"]).to_numpy(dtype=float, na_value=np.nan)


def _group_table(groups: dict[str, np.ndarray], arrays: FrameArrays, thin: np.ndarray) -> pd.DataFrame:
    rows = {}
    for name, mask in groups.items():
        n = int(mask.sum())
        with_outcome = int((mask & arrays.has_outcome).sum())
        rows[name] = {"n": n, "share": ratio(n, arrays.n), "expected_bad_rate": ratio(arrays.pd[mask].sum(), n),
                      "observed_bad_rate": ratio((mask & arrays.bad).sum(), with_outcome),
                      "n_with_outcome": with_outcome, "n_thin_file": int((mask & thin).sum())}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(GROUP_COLUMNS))
    out.index.name = "group"
    return out.astype({"n": np.int64, "n_with_outcome": np.int64, "n_thin_file": np.int64})


def _as_score(values: Any, frame: pd.DataFrame, name: str) -> np.ndarray:
    if isinstance(values, str):
        if values not in frame:
            raise ConfigError(f"{name}: the frame has no column {values!r}", key="err_bureau_name_frame_column_values", name=name, values=values)
        values = frame[values]
    if isinstance(values, pd.Series):
        if not values.index.equals(frame.index):
            raise ConfigError(f"{name} must have the same index as the frame", key="err_bureau_name_same_index_as", name=name)
    out = pd.to_numeric(pd.Series(np.asarray(values))).to_numpy(dtype=float, na_value=np.nan)
    if out.shape != (len(frame),):
        raise ConfigError(f"{name} must have one value per merchant ({len(frame)}); got {out.shape[0]}", key="err_bureau_name_one_value_per", name=name, n_frame=len(frame), shape=out.shape[0])
    return out


# ------------------------------------------------------------------ swap sets

@dataclass(frozen=True)
class SwapSets:
    """Swap sets of our policy against a bureau-only cutoff.

    Attributes
    ----------
    matrix : DataFrame
        2x2 counts; rows ``ours: approve`` / ``ours: not approved`` (refer and decline), columns
        ``bureau: approve`` / ``bureau: decline``.
    summary : DataFrame
        Rows ``both_approve``, ``swap_in``, ``swap_out``, ``both_decline``, ``approved_ours``,
        ``approved_bureau``; columns ``n``, ``share`` (of all merchants), ``expected_bad_rate``,
        ``observed_bad_rate``, ``n_with_outcome``, ``n_thin_file`` (no bureau score).
    membership : Series
        Each merchant's set (``both_approve`` / ``swap_in`` / ``swap_out`` / ``both_decline``).
    bureau_cutoff : float
        Bureau scores at or above it are approved; ``inf`` approves no one.
    match : str
        ``"approval"``, ``"bad_rate"`` or ``"cutoff"`` (the caller gave the cutoff).
    """

    matrix: pd.DataFrame
    summary: pd.DataFrame
    membership: pd.Series
    bureau_cutoff: float
    match: str


def matched_bureau_cutoff(bureau: np.ndarray, pd_: np.ndarray, *, n_approved: int | None = None,
                          bad_rate: float | None = None) -> float:
    """Bureau cutoff approving closest to ``n_approved`` merchants (ties: fewer), or the most
    merchants whose expected bad rate is at most ``bad_rate``. ``inf`` when the best is no one."""
    return pick_bureau_cutoff(bureau_ladder(bureau, pd_), n_approved=n_approved, bad_rate=bad_rate)


def bureau_ladder(bureau: np.ndarray, pd_: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every bureau cutoff worth trying, best first (``inf`` = no one), with the count approved at
    each and their expected bad rate: sorted once, then :func:`pick_bureau_cutoff` is O(distinct scores)."""
    thick = ~np.isnan(bureau)
    b, p = bureau[thick], pd_[thick]
    order = np.argsort(-b, kind="stable")
    b, p = b[order], p[order]
    ends = np.flatnonzero(np.r_[b[1:] != b[:-1], True]) if len(b) else np.zeros(0, dtype=np.int64)
    counts = np.r_[0, ends + 1]
    return np.r_[np.inf, b[ends]], counts, ratio(np.r_[0.0, np.cumsum(p)[ends]], counts)


def pick_bureau_cutoff(ladder: tuple[np.ndarray, np.ndarray, np.ndarray], *, n_approved: int | None = None,
                       bad_rate: float | None = None) -> float:
    """:func:`matched_bureau_cutoff` on a :func:`bureau_ladder`."""
    values, counts, rates = ladder
    if n_approved is not None:
        return float(values[int(np.argmin(np.abs(counts - n_approved)))])  # argmin: first = fewest
    ok = np.flatnonzero(rates <= bad_rate * (1 + 1e-12)) if bad_rate is not None and bad_rate == bad_rate else []
    return float(values[ok[-1]]) if len(ok) else float("inf")


def swap_sets(frame: pd.DataFrame, policy: Policy, bureau_cutoff: float | None = None,
              match: Literal["approval", "bad_rate"] = "approval") -> SwapSets:
    """Who our policy approves that a bureau-only policy would not, and the reverse.

    Parameters
    ----------
    frame : DataFrame
        Strategy frame with ``bureau_score`` (NaN = thin file, always declined by the bureau).
    policy : Policy
        Our policy (segment overrides and positive-only included).
    bureau_cutoff : float, optional
        Bureau-only cutoff; when omitted it is chosen by ``match``.
    match : {"approval", "bad_rate"}
        ``approval``: the bureau cutoff approving as many merchants as we do (as close as ties
        allow, fewer on a tie). ``bad_rate``: the lowest bureau cutoff whose approved merchants'
        expected bad rate (our PD) is no higher than that of ours — equal risk, compare volume.

    Returns
    -------
    SwapSets
    """
    if match not in ("approval", "bad_rate"):
        raise ConfigError(f"match must be 'approval' or 'bad_rate'; got {match!r}", key="err_bureau_match_approval_bad_rate", match=match)
    arrays = frame_arrays(frame)
    bureau = _bureau(frame)
    ours = (decisions(frame, policy) == "approve").to_numpy()
    if bureau_cutoff is None:
        if match == "approval":
            cutoff = matched_bureau_cutoff(bureau, arrays.pd, n_approved=int(ours.sum()))
        else:
            cutoff = matched_bureau_cutoff(bureau, arrays.pd, bad_rate=ratio(arrays.pd[ours].sum(), ours.sum()))
        how = match
    else:
        if isinstance(bureau_cutoff, bool) or not isinstance(bureau_cutoff, (int, float, np.number)):
            raise ConfigError(f"bureau_cutoff must be a number; got {bureau_cutoff!r}", key="err_bureau_bureau_cutoff_number_got", bureau_cutoff=bureau_cutoff)
        cutoff, how = float(bureau_cutoff), "cutoff"
    with np.errstate(invalid="ignore"):
        theirs = bureau >= cutoff  # NaN (thin file) compares False: declined
    sets = {"both_approve": ours & theirs, "swap_in": ours & ~theirs, "swap_out": ~ours & theirs,
            "both_decline": ~ours & ~theirs}
    labels = np.select(list(sets.values()), list(sets.keys()), default="")
    matrix = pd.DataFrame([[int(sets["both_approve"].sum()), int(sets["swap_in"].sum())],
                           [int(sets["swap_out"].sum()), int(sets["both_decline"].sum())]],
                          index=["ours: approve", "ours: not approved"], columns=["bureau: approve", "bureau: decline"])
    summary = _group_table({**sets, "approved_ours": ours, "approved_bureau": theirs}, arrays, np.isnan(bureau))
    membership = pd.Series(labels, index=frame.index, name="swap_set")
    return SwapSets(matrix, summary, membership, cutoff, how)


# ------------------------------------------------------------------ bureau-only score

def bureau_only_scores(frame: pd.DataFrame, scale: ScoreScale | None = None, *,
                       method: Literal["auto", "logistic", "linear"] = "auto", min_outcomes: int = 30,
                       fit_on: pd.DataFrame | None = None) -> pd.Series:
    """The bureau score mapped to our points: a stage-1 score from a model without platform data.

    ``logistic``: fit ``logit(PD) = a * z + b`` with ``z = (bureau_score - 750) / 100`` on the
    thick-file merchants with an outcome (maximum likelihood), then points by ``scale``; needs
    ``min_outcomes`` such merchants with both goods and bads, and a falling PD (``a < 0``).
    ``linear``: ``points = mean_s + (sd_s / sd_b) * (bureau - mean_b)`` over thick-file merchants,
    matching the mean and spread of our scores (the slope is 0 when all bureau scores are equal).
    ``auto``: logistic when its conditions hold, else linear.

    Points are rounded to whole points and clipped to 1–1000; thin-file merchants get NaN.

    ``fit_on``: fit the logistic mapping on this frame's outcomes instead of ``frame``'s — the
    score-at-decision frame (:func:`decision_frame`), whose bureau scores are as of each outcome's
    snapshot month; today's bureau score set against an outcome that ended long ago is not the
    relation a bureau-only lender would have seen. The mapping is then applied to ``frame``.

    Returns
    -------
    Series
        ``bureau_only_score``, index of the frame; ``attrs["method"]`` says which mapping ran
        and ``attrs["coefficients"]`` its constants.
    """
    if method not in ("auto", "logistic", "linear"):
        raise ConfigError(f"method must be 'auto', 'logistic' or 'linear'; got {method!r}", key="err_bureau_method_auto_logistic_linear", method=method)
    arrays = frame_arrays(frame)
    bureau = _bureau(frame)
    thick = ~np.isnan(bureau)
    out = np.full(arrays.n, np.nan)
    fit_arrays, fit_bureau = (arrays, bureau) if fit_on is None else (frame_arrays(fit_on), _bureau(fit_on))
    fit_rows = ~np.isnan(fit_bureau) & fit_arrays.has_outcome
    y = fit_arrays.bad[fit_rows].astype(float)
    usable = fit_rows.sum() >= min_outcomes and 0 < y.sum() < len(y)
    chosen, coefficients = "linear", {}
    if method == "logistic" and not usable:
        raise ConfigError(f"a logistic bureau mapping needs at least {min_outcomes} thick-file merchants with "
                          f"outcomes, goods and bads; got {int(fit_rows.sum())} with {int(y.sum())} bad", key="err_bureau_logistic_bureau_mapping_needs", min_outcomes=min_outcomes, fit_rows=int(fit_rows.sum()), y=int(y.sum()))
    if method != "linear" and usable:
        from ..model import fit_platt  # the model module loads LightGBM: import only when needed

        a, b = fit_platt((fit_bureau[fit_rows] - 750.0) / 100.0, y)
        if a < 0:
            chosen, coefficients = "logistic", {"a": a, "b": b}
            out[thick] = score_from_logit(a * (bureau[thick] - 750.0) / 100.0 + b, scale, rounded=True)
        elif method == "logistic":
            raise ConfigError(f"the logistic bureau mapping must fall with the bureau score; got slope {a:.4g}", key="err_bureau_logistic_bureau_mapping_fall", a=a)
    if chosen == "linear" and thick.any():
        s, b_ = arrays.score[thick], bureau[thick]
        slope = float(s.std() / b_.std()) if b_.std() > 0 else 0.0
        coefficients = {"mean_score": float(s.mean()), "mean_bureau": float(b_.mean()), "slope": slope}
        out[thick] = np.round(np.clip(s.mean() + slope * (b_ - b_.mean()), 1, 1000))
    result = pd.Series(out, index=frame.index, name="bureau_only_score")
    result.attrs.update({"method": chosen, "coefficients": coefficients})
    return result


# ------------------------------------------------------------------ thin-file uplift

@dataclass(frozen=True)
class ThinFileUplift:
    """Inclusion versus a bureau-only score under the same policy.

    ``thin_file_approval_rate_bureau_only`` is 0 by construction when thin-file merchants have
    no bureau-only score (the usual case): a bureau-only policy cannot approve them. Upgraded =
    turned from decline to approval (approved by us, not by the bureau-only score; thin files
    included) or given a better grade by us than by the bureau-only score (both graded).
    """

    n_applicants: int
    n_thin_file: int
    thin_file_approval_rate: float
    thin_file_approval_rate_bureau_only: float
    thin_file_uplift: float
    n_approved: int
    n_turned_to_approval: int
    n_better_grade: int
    n_upgraded: int
    upgraded_share_of_applicants: float
    upgraded_share_of_approved: float
    n_turned_to_decline: int
    n_worse_grade: int


def thin_file_uplift(frame: pd.DataFrame, policy: Policy, bureau_points: pd.Series | None = None,
                     scale: ScoreScale | None = None) -> ThinFileUplift:
    """Thin-file approval under our score vs bureau-only, and the share of applicants upgraded.

    Parameters
    ----------
    frame : DataFrame
        Strategy frame; thin file is ``thin_file == 1`` (or a missing ``bureau_score``).
    policy : Policy
        Applied to both scores (same cutoffs, segment overrides, grade boundaries).
    bureau_points : Series, optional
        Bureau-only score on our points scale; defaults to :func:`bureau_only_scores`.
    scale : ScoreScale, optional
        For the default ``bureau_points``.

    Returns
    -------
    ThinFileUplift
        ``upgraded_share_of_approved`` is the basis of Naver's "58.9% of borrowers upgraded or
        turned from decline to approval".
    """
    arrays = frame_arrays(frame)
    points = _as_score(bureau_only_scores(frame, scale) if bureau_points is None else bureau_points, frame,
                       "bureau_points")
    thin = (frame["thin_file"].to_numpy(dtype=float) == 1) if "thin_file" in frame else np.isnan(_bureau(frame))
    ours = (decisions(frame, policy) == "approve").to_numpy()
    theirs = decision_codes(points, approve_cutoffs(frame, policy), policy.refer_cutoff) == 0
    graded = ~np.isnan(points)
    ours_grade = grade_of(effective_score(frame, policy, arrays.score), policy.bands)
    their_grade = np.full(arrays.n, 99)
    their_grade[graded] = grade_of(points[graded], policy.bands)
    turned, better = ours & ~theirs, graded & (ours_grade < their_grade)
    upgraded = turned | better
    rate_ours, rate_theirs = ratio((ours & thin).sum(), thin.sum()), ratio((theirs & thin).sum(), thin.sum())
    return ThinFileUplift(
        n_applicants=arrays.n, n_thin_file=int(thin.sum()), thin_file_approval_rate=float(rate_ours),
        thin_file_approval_rate_bureau_only=float(rate_theirs), thin_file_uplift=float(rate_ours - rate_theirs),
        n_approved=int(ours.sum()), n_turned_to_approval=int(turned.sum()), n_better_grade=int(better.sum()),
        n_upgraded=int(upgraded.sum()), upgraded_share_of_applicants=float(ratio(upgraded.sum(), arrays.n)),
        upgraded_share_of_approved=float(ratio((upgraded & ours).sum(), ours.sum())),
        n_turned_to_decline=int((theirs & ~ours).sum()),
        n_worse_grade=int((graded & (ours_grade > their_grade)).sum()),
    )


# ------------------------------------------------------------------ positive-only rescue

@dataclass(frozen=True)
class RescueView:
    """The positive-only option and the two-stage rescue.

    Attributes
    ----------
    summary : DataFrame
        Rows ``approved_bureau_only``, ``approved_ours``, ``approved_positive_only``,
        ``lifted_by_platform`` (approved under positive-only, not bureau-only: platform data
        helped), ``protected_by_floor`` (approved under positive-only, not by our score: the
        promise kept them); with a platform-only score also ``stage1_declined`` (our decision
        decline), ``stage2_rescued`` (of those, approved on the platform-only score) and
        ``approved_two_stage``. Columns as in :class:`SwapSets` ``summary``.
    merchants : DataFrame
        Per merchant: the scores and each view's decision.
    """

    summary: pd.DataFrame
    merchants: pd.DataFrame


def rescue_view(frame: pd.DataFrame, policy: Policy, bureau_only_score: Any,
                platform_only_score: Any = None) -> RescueView:
    """Positive-only final score ``max(score, bureau_only_score)`` and the two-stage rescue.

    Parameters
    ----------
    frame : DataFrame
        Strategy frame; ``score`` is stage 1 (bureau + platform data, our model).
    policy : Policy
        Cutoffs and segment overrides, applied to every score (its ``positive_only`` flag is
        ignored: this view shows both).
    bureau_only_score : Series, array or column name
        Score of a model without platform data, on our scale; NaN for thin file (the final score
        is then our score).
    platform_only_score : Series, array or column name, optional
        Score of a model on platform data only (stage 2). Stage 2 re-screens stage-1 *declines*
        (referred merchants are already with an officer) and rescues those it would approve.

    Returns
    -------
    RescueView
        Expected bad rates use our model's PD (the best estimate of every merchant's risk), not
        the PD a floored score would imply.
    """
    arrays = frame_arrays(frame)
    plain = replace(policy, positive_only=False)
    cutoffs = approve_cutoffs(frame, plain)
    bureau = _as_score(bureau_only_score, frame, "bureau_only_score")
    final = np.where(np.isnan(bureau), arrays.score, np.fmax(arrays.score, bureau))
    codes = {name: decision_codes(s, cutoffs, plain.refer_cutoff)
             for name, s in (("ours", arrays.score), ("bureau_only", bureau), ("positive_only", final))}
    ok = {name: c == 0 for name, c in codes.items()}
    groups = {"approved_bureau_only": ok["bureau_only"], "approved_ours": ok["ours"],
              "approved_positive_only": ok["positive_only"],
              "lifted_by_platform": ok["positive_only"] & ~ok["bureau_only"],
              "protected_by_floor": ok["positive_only"] & ~ok["ours"]}
    merchants = pd.DataFrame({"score": arrays.score, "bureau_only_score": bureau, "positive_only_score": final},
                             index=frame.index)
    if platform_only_score is not None:
        platform = _as_score(platform_only_score, frame, "platform_only_score")
        declined = codes["ours"] == 2
        rescued = declined & (decision_codes(platform, cutoffs, plain.refer_cutoff) == 0)
        groups.update({"stage1_declined": declined, "stage2_rescued": rescued,
                       "approved_two_stage": ok["ours"] | rescued})
        merchants["platform_only_score"] = platform
        codes["two_stage"] = np.where(rescued, 0, codes["ours"]).astype(np.int8)
    for name, c in codes.items():
        merchants[f"decision_{name}"] = pd.Categorical.from_codes(c, dtype=DECISION_DTYPE)
    thin = np.isnan(_bureau(frame)) if "bureau_score" in frame else np.isnan(bureau)
    return RescueView(_group_table(groups, arrays, thin), merchants)


__all__ = ["SwapSets", "ThinFileUplift", "RescueView", "swap_sets", "matched_bureau_cutoff", "bureau_ladder",
           "pick_bureau_cutoff", "thin_file_uplift", "bureau_only_scores", "rescue_view"]
