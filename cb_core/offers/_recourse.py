"""Recourse: what a merchant who misses a product would have to change to get it.

Two kinds of answer:

- **Requirements** (``option`` 0): product rules the score cannot fix — months with sales, a
  minimum sales level, the category, a grade better than the product's range. Each says what would
  have to change and whether it can change at all (``actionable``); none is
  ``achievable_by_score``. A sales level that is also a model feature is applied before the
  search below, because raising sales raises the score too.
- **The score target** (``option`` 0, ``kind`` "target"): the score the product needs (its
  ``min_score`` and the lowest score of its worst grade), and whether any option reaches it.
- **Score options** (``option`` 1, 2, ...): the smallest changes of *actionable* catalog features
  (``FeatureSpec.actionable``) that lift the score into the product's range, each moved only the
  way its monotone constraint lets it improve the score (``risk_direction`` +1: only down, -1:
  only up; features with no direction are left alone). Single features first; pairs only when no
  single feature suffices.

The search only tries values where the model's prediction can change: the model's own split
thresholds, rounded to a value a person would say ("return rate 8.0% -> 5.0%"). A score is
monotone along each allowed direction, so the first threshold that reaches the target is the
smallest change of that feature. Every option is then rescored with
:func:`~cb_core.explain.points.what_if` (the points each change adds on its own, and the score with all
of the option's changes) and re-checked against the product's rules with
:func:`~cb_core.offers.match.offers_for`. Effort is the move as a share of the span of the
feature's split thresholds (a scale-free proxy for how far along the feature's range it is).
"""
from __future__ import annotations

import itertools
import math
import re
import time
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..data import categories, feature_catalog
from ..errors import ConfigError
from ..explain import what_if
from ..i18n import format_krw
from ..model import CreditModel
from .catalog import LIMIT_STEP_KRW
from .match import offers_for, won_pair
from ..model import grade_of, score_from_logit

__all__ = ["RECOURSE_COLUMNS", "recourse"]

RECOURSE_COLUMNS: tuple[str, ...] = (
    "option", "kind", "feature", "label_ko", "label_en", "current_value", "new_value", "points",
    "score_after", "grade_after", "eligible_after", "actionable", "achievable_by_score", "effort",
    "message_ko", "message_en",
)
#: Rounding of suggested values by catalog unit (a person says "5.0%", not "4.9731%").
UNIT_STEP: dict[str, float] = {"ratio": 0.001, "KRW": 10_000, "count": 1, "stars": 0.01, "turns": 0.01,
                               "months": 1, "points": 1}
_PAIR_GRID = 6          # values per feature tried in pairs
_PAIR_CHUNK = 20_000    # rows per prediction batch in the pair search


# ------------------------------------------------------------------ the model's split points

_TREE_LINE = re.compile(r"^(split_feature|threshold|decision_type)=(.*)$", re.M)


@lru_cache(maxsize=8)
def _split_points(booster_text: str, n_features: int) -> tuple[np.ndarray, ...]:
    """Sorted distinct numeric split thresholds per feature (model column order)."""
    found: list[set[float]] = [set() for _ in range(n_features)]
    feats = thresholds = None
    for key, value in _TREE_LINE.findall(booster_text):
        if key == "split_feature":
            feats = [int(v) for v in value.split()]
        elif key == "threshold":
            thresholds = value.split()
        elif feats is not None and thresholds is not None:
            for f, t, d in zip(feats, thresholds, value.split()):
                if not int(d) & 1:  # bit 0 set: categorical split
                    found[f].add(float(t))
            feats = thresholds = None
    return tuple(np.array(sorted(s)) for s in found)


def _nice(thresholds: np.ndarray, step: float | None, down: bool) -> np.ndarray:
    """Values just past each threshold on the improving side (x <= t goes left, x > t right)."""
    if step is None:
        return thresholds.copy() if down else np.nextafter(thresholds, np.inf)
    units = np.round(thresholds / step, 9)
    return (np.floor(units) if down else np.floor(units) + 1) * step


# ------------------------------------------------------------------ scoring many candidate rows

def _score_matrix(model: CreditModel, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = model.calibration
    margin = model.booster_predict(matrix, raw_score=True)
    scores = score_from_logit(a * margin + b, model.scale, rounded=True)
    return scores, grade_of(scores, model.bands)


def _text(value: float, unit: str, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "KRW":
        return format_krw(value, lang)
    if unit == "months":
        return f"{value:.0f}개월" if lang == "ko" else f"{value:.0f} months"
    if unit in ("count", "points"):
        return f"{value:,.0f}"
    return f"{value:.2f}"


# ------------------------------------------------------------------ the search

class _Search:
    """Candidates and targets for one merchant and product."""

    def __init__(self, model: CreditModel, base: pd.Series, product: Mapping[str, Any], deadline: float) -> None:
        self.model, self.base, self.deadline = model, base, deadline
        self.min_score = float(product["min_score"])
        self.grades = np.array(product["eligible_grades"])
        self.base_matrix = model.matrix(base)
        points = _split_points(model.booster_text, len(model.features))
        spec = feature_catalog()
        self.candidates: dict[int, np.ndarray] = {}
        self.span: dict[int, float] = {}
        for j, f in enumerate(model.features):
            entry = spec.get(f)
            current = self.base_matrix[0, j]
            if (entry is None or not entry.actionable or entry.risk_direction == 0
                    or f in model.categorical_levels or np.isnan(current) or not len(points[j])):
                continue
            down = entry.risk_direction > 0
            values = np.unique(_nice(points[j], UNIT_STEP.get(entry.unit), down))
            values = values[values < current] if down else values[values > current]
            if len(values):
                self.candidates[j] = np.sort(values)[::-1] if down else np.sort(values)  # nearest first
                self.span[j] = float(points[j][-1] - points[j][0]) or max(abs(float(points[j][0])), 1.0)

    def reaches(self, scores: np.ndarray, grades: np.ndarray) -> np.ndarray:
        return (scores >= self.min_score) & np.isin(grades, self.grades)

    def effort(self, j: int, value: float) -> float:
        return abs(value - self.base_matrix[0, j]) / self.span[j]

    def singles(self) -> list[dict[int, float]]:
        cols = list(self.candidates)
        if not cols:
            return []
        rows = np.repeat(self.base_matrix, sum(len(self.candidates[j]) for j in cols), axis=0)
        owner, start = [], 0
        for j in cols:
            k = len(self.candidates[j])
            rows[start:start + k, j] = self.candidates[j]
            owner += [(j, v) for v in self.candidates[j]]
            start += k
        ok = self.reaches(*_score_matrix(self.model, rows))
        found: dict[int, float] = {}
        for (j, v), hit in zip(owner, ok):
            if hit and j not in found:  # nearest first, and the score is monotone along the way
                found[j] = float(v)
        return sorted(({j: v} for j, v in found.items()), key=lambda c: self.effort(*next(iter(c.items()))))

    def pairs(self) -> list[dict[int, float]]:
        grids = {}
        for j, values in self.candidates.items():
            pick = np.unique(np.linspace(0, len(values) - 1, min(_PAIR_GRID, len(values))).round().astype(int))
            grids[j] = values[pick]
        combos = [(i, j, vi, vj) for i, j in itertools.combinations(grids, 2)
                  for vi in grids[i] for vj in grids[j]]
        best: dict[tuple[int, int], tuple[float, dict[int, float]]] = {}
        for start in range(0, len(combos), _PAIR_CHUNK):
            if time.perf_counter() > self.deadline:
                break
            chunk = combos[start:start + _PAIR_CHUNK]
            rows = np.repeat(self.base_matrix, len(chunk), axis=0)
            for r, (i, j, vi, vj) in enumerate(chunk):
                rows[r, i], rows[r, j] = vi, vj
            ok = self.reaches(*_score_matrix(self.model, rows))
            for (i, j, vi, vj), hit in zip(chunk, ok):
                if hit:
                    cost = self.effort(i, vi) + self.effort(j, vj)
                    if (i, j) not in best or cost < best[(i, j)][0]:
                        best[(i, j)] = (cost, {i: float(vi), j: float(vj)})
        return [c for _, c in sorted(best.values(), key=lambda t: t[0])]


# ------------------------------------------------------------------ requirements (not the score)

def _requirements(m: pd.Series, product: Mapping[str, Any], failed: tuple[str, ...]) -> tuple[list[dict], dict]:
    """Rows for rules the score cannot fix, and the merchant values they would need."""
    rows: list[dict[str, Any]] = []
    needed: dict[str, Any] = {}
    spec = feature_catalog()

    def row(feature: str, current: Any, new: Any, actionable: bool, ko: str, en: str) -> None:
        entry = spec.get(feature)
        rows.append({"option": 0, "kind": "requirement", "feature": feature,
                     "label_ko": entry.label_ko if entry else feature, "label_en": entry.label_en if entry else feature,
                     "current_value": current, "new_value": new, "actionable": actionable,
                     "achievable_by_score": False, "message_ko": ko, "message_en": en})

    if "months_active" in failed:
        have, need = float(m["months_active"]), int(product["min_months_active"])
        more = need - (0 if math.isnan(have) else int(have))
        needed["months_active"] = need
        row("months_active", have, need, False,
            f"매출 발생 {need}개월 이상 필요 (현재 {have:.0f}개월, {more}개월 더 판매 필요) — 점수 개선만으로는 충족할 수 없습니다",
            f"needs {need} months with sales (has {have:.0f}: {more} more months of trading) — "
            "not achievable by score improvements alone")
    if "gmv" in failed or "limit" in failed:
        need = float(product["min_avg_monthly_gmv_krw"]) if "gmv" in failed else 0.0
        if "limit" in failed:
            need = max(need, math.ceil(LIMIT_STEP_KRW / float(product["limit_multiple_of_monthly_gmv"])))
        have = float(m["gmv_3m_avg_krw"])
        needed["gmv_3m_avg_krw"] = need
        ko, en = won_pair(have, need, "ko"), won_pair(have, need, "en")
        row("gmv_3m_avg_krw", have, need, True,
            f"최근 3개월 평균 매출 {ko[0]} → {ko[1]} 이상 필요 — 점수 개선만으로는 충족할 수 없습니다",
            f"3-month average sales {en[0]} -> at least {en[1]} — not achievable by score improvements alone")
    if "category" in failed:
        labels = categories()
        cat = m["category"]
        allowed = product["eligible_categories"]
        row("category", cat, None, False,
            f"대상 업종이 아닙니다 ({labels.get(cat, {}).get('ko', cat)}; 대상: "
            f"{', '.join(labels[c]['ko'] for c in allowed)}) — 바꿀 수 없는 조건입니다",
            f"the category is not offered ({labels.get(cat, {}).get('en', cat)}; offered to: "
            f"{', '.join(labels[c]['en'] for c in allowed)}) — cannot be changed")
    grades = tuple(product["eligible_grades"])
    grade = float(m["grade"])
    if "grade" in failed and not math.isnan(grade) and grade < grades[0]:
        row("grade", grade, None, False,
            f"{grade:.0f}등급은 이 상품의 대상 등급({grades[0]}–{grades[-1]}등급)보다 우수하여 대상이 아닙니다",
            f"grade {grade:.0f} is better than this product's grades ({grades[0]}–{grades[-1]}); "
            "it is offered only to those grades")
        needed["_blocked"] = True
    if "category" in failed:
        needed["_blocked"] = True
    return rows, needed


def _target_row(model: CreditModel, product: Mapping[str, Any], score: float, found: bool) -> dict[str, Any]:
    """The score the product needs: its minimum, and the lowest score of its worst grade."""
    worst = max(product["eligible_grades"])
    bottom = model.bands.boundaries[worst - 1] if worst <= len(model.bands.boundaries) else 1.0
    need = max(float(product["min_score"]), bottom)
    tail_ko = "" if found else " — 실행 가능한 항목 한두 개를 바꾸는 것만으로는 도달하지 않습니다"
    tail_en = "" if found else " — no change of one or two actionable features gets there"
    grade_ko = f" ({worst}등급 이내)" if worst < 10 else ""
    grade_en = f" (grade {worst} or better)" if worst < 10 else ""
    return {"option": 0, "kind": "target", "feature": "score", "label_ko": "신용점수", "label_en": "score",
            "current_value": score, "new_value": need, "actionable": found, "achievable_by_score": found,
            "message_ko": f"신용점수 {score:.0f}점 → {need:.0f}점 이상{grade_ko} 필요{tail_ko}",
            "message_en": f"score {score:.0f} -> at least {need:.0f}{grade_en} needed{tail_en}"}


# ------------------------------------------------------------------ public API

def recourse(model: CreditModel, x_row: pd.Series, product: pd.Series | Mapping[str, Any], merchant: pd.Series,
             *, max_options: int = 5, time_budget_s: float = 1.0) -> pd.DataFrame:
    """The smallest changes that would make a merchant eligible for a product.

    Parameters
    ----------
    model : CreditModel
    x_row : Series
        The merchant's feature values (what the model scores).
    product : Series or dict
        One row of :func:`~cb_core.offers.catalog.load_products`.
    merchant : Series
        ``score``, ``grade``, ``months_active``, ``gmv_3m_avg_krw``, ``category``.
    max_options : int
        At most this many score options.
    time_budget_s : float
        The pair search stops when this much time has passed (the answer then holds what was
        found by then).

    Returns
    -------
    DataFrame
        :data:`RECOURSE_COLUMNS`; empty when the merchant is already eligible. ``option`` 0 rows
        (``kind`` "requirement" or "target") hold for every option; rows sharing an ``option`` number >= 1 are
        changes to make together. ``points``: what that change alone adds to the score
        (:func:`~cb_core.explain.points.what_if`); ``score_after`` / ``grade_after``: with every change
        of the option and the requirements; ``eligible_after``: the product re-checked with all
        of them (months with sales as if the merchant had traded long enough).
    """
    if isinstance(max_options, bool) or not isinstance(max_options, int) or max_options < 1:
        raise ConfigError(f"max_options must be a whole number of at least 1; got {max_options!r}", key="err_recourse_max_options_whole_number", max_options=max_options)
    deadline = time.perf_counter() + float(time_budget_s)
    if isinstance(product, pd.Series) and "product_id" not in product.index:
        product = product.copy()
        product["product_id"] = product.name  # a row of a catalog indexed by product_id
    product = dict(product)
    catalog_row = pd.DataFrame([product])
    status = offers_for(merchant, catalog_row).iloc[0]
    if status["eligible"]:
        return pd.DataFrame(columns=list(RECOURSE_COLUMNS))
    failed = status["failed_rules"]
    rows, needed = _requirements(merchant, product, failed)
    forced = {f: v for f, v in needed.items() if f in model.features and f != "months_active"}
    spec = feature_catalog()

    def recheck(changes: dict[str, float]) -> dict[str, Any]:
        result = what_if(model, x_row, {**forced, **changes})
        updated = merchant.copy()
        for f, v in {**needed, **forced, **changes}.items():
            if not f.startswith("_"):
                updated[f] = v
        updated["score"], updated["grade"] = result["score"], result["grade"]
        eligible = bool(offers_for(updated, catalog_row).iloc[0]["eligible"]) and "_blocked" not in needed
        return {"score_after": result["score"], "grade_after": result["grade"], "eligible_after": eligible}

    for r in rows:
        if r["feature"] in forced:
            r["points"] = float(what_if(model, x_row, {r["feature"]: forced[r["feature"]]})["score_change"])
    if "_blocked" in needed:
        options: list[dict[int, float]] = []
    else:
        base = x_row.copy()
        for f, v in forced.items():
            base[f] = v
        search = _Search(model, base, product, deadline)
        s0, g0 = _score_matrix(model, search.base_matrix)  # after the requirements
        if search.reaches(s0, g0)[0]:
            options = []  # the requirements alone are enough
        else:
            options = search.singles()[:max_options] or search.pairs()[:max_options]
    if "_blocked" not in needed and not search.reaches(s0, g0)[0]:
        rows.append(_target_row(model, product, float(s0[0]), found=bool(options)))
    after = recheck({})
    for r in rows:
        r |= after
    for number, option in enumerate(options, start=1):
        changes = {model.features[j]: v for j, v in option.items()}
        after = recheck(changes)
        for f, v in changes.items():
            entry = spec[f]
            current = float(x_row[f])
            alone = float(what_if(model, x_row, {f: v})["score_change"])
            sign = "+" if alone >= 0 else ""
            rows.append({
                "option": number, "kind": "change", "feature": f, "label_ko": entry.label_ko,
                "label_en": entry.label_en, "current_value": current, "new_value": v, "points": alone,
                "actionable": True, "achievable_by_score": True,
                "effort": search.effort(model.features.index(f), v),
                "message_ko": f"{entry.label_ko} {_text(current, entry.unit, 'ko')} → {_text(v, entry.unit, 'ko')}: "
                              f"{sign}{alone:.0f}점",
                "message_en": f"{entry.label_en.lower()} {_text(current, entry.unit, 'en')} -> "
                              f"{_text(v, entry.unit, 'en')}: {sign}{alone:.0f} points",
                **after,
            })
    out = pd.DataFrame.from_records(rows, columns=list(RECOURSE_COLUMNS))
    return out.astype({"option": "int64", "eligible_after": bool, "actionable": bool, "achievable_by_score": bool})
