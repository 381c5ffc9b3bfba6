import math

import numpy as np
import pandas as pd
import pytest

from cb_core.config import get_settings
from cb_core.errors import ConfigError
from cb_core.model import (
    DEFAULT_GRADE_BOUNDARIES, GradeBands, ScoreScale, grade_of, pd_from_score, score_from_logit, score_from_pd,
)

FACTOR = 40 / math.log(2)                     # 57.7078...
OFFSET = 600 - FACTOR * math.log(50)          # 374.2458...


def test_scale_constants_by_hand():
    s = ScoreScale()
    assert s.factor == pytest.approx(57.70780163555854)
    assert s.offset == pytest.approx(374.2458260857)
    assert (s.pdo, s.base_score, s.base_odds) == (40.0, 600.0, 50.0)


@pytest.mark.parametrize(("pd_", "expected"), [
    (1 / 51, 600.0),                          # 50:1 is the base
    (1 / 101, 640.0),                         # 100:1, one doubling: +PDO
    (1 / 26, 560.0),                          # 25:1, one halving: -PDO
    (0.01, 600 + FACTOR * math.log(99 / 50)),  # 99:1 -> 639.42
    (0.5, OFFSET),                            # even odds
])
def test_score_from_pd_hand_computed(pd_, expected):
    assert score_from_pd(pd_) == pytest.approx(expected, abs=1e-9)
    assert pd_from_score(expected) == pytest.approx(pd_, rel=1e-12)


def test_score_of_pd_001_is_639_point_4():
    assert score_from_pd(0.01) == pytest.approx(639.42, abs=0.005)
    assert score_from_pd(0.01, rounded=True) == 639.0


def test_score_clipped_to_1_and_1000_and_vectorised():
    got = score_from_pd(np.array([0.0, 1e-12, 1 / 51, 0.999999, 1.0]))
    assert got.tolist() == pytest.approx([1000.0, 1000.0, 600.0, 1.0, 1.0])
    unclipped = score_from_pd(1e-12, clip=False)
    assert unclipped == pytest.approx(OFFSET + FACTOR * math.log((1 - 1e-12) / 1e-12))
    assert unclipped > 1000


def test_score_from_logit_and_series_keep_index():
    logit = pd.Series([math.log(1 / 50), 0.0], index=["m1", "m2"])
    got = score_from_logit(logit)
    assert list(got.index) == ["m1", "m2"]
    assert got.tolist() == pytest.approx([600.0, OFFSET])
    pds = pd_from_score(pd.Series([600.0, 640.0], index=[7, 9]))
    assert list(pds.index) == [7, 9]
    assert pds.tolist() == pytest.approx([1 / 51, 1 / 101])


def test_custom_scale():
    s = ScoreScale(pdo=20, base_score=500, base_odds=20)
    assert score_from_pd(1 / 21, s) == pytest.approx(500.0)
    assert score_from_pd(1 / 41, s) == pytest.approx(520.0)


def test_scale_from_settings():
    assert ScoreScale.from_settings(get_settings(pdo=20, base_score=700, base_odds=30)) == ScoreScale(20, 700, 30)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pdo": 0}, "pdo must be greater than 0; got 0"),
    ({"pdo": -5}, "pdo must be greater than 0; got -5"),
    ({"base_odds": 0}, "base_odds must be greater than 0; got 0"),
    ({"base_score": float("nan")}, "base_score must be a finite number"),
])
def test_scale_validation(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ScoreScale(**kwargs)


def test_pd_outside_0_1_rejected():
    with pytest.raises(ConfigError, match="pd must be within 0–1; got values from -0.1 to 0.5"):
        score_from_pd([-0.1, 0.5])


def test_nan_pd_stays_nan():
    got = score_from_pd(np.array([np.nan, 1 / 51]))
    assert np.isnan(got[0]) and got[1] == pytest.approx(600)


def test_grade_edges_default_bands():
    scores = [1000, 680, 679.99, 660, 659.5, 640, 620, 600, 580, 560, 540, 500, 499.99, 1]
    assert grade_of(scores).tolist() == [1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 10]
    assert grade_of(600) == 5
    assert isinstance(grade_of(600), int)


def test_grade_of_series_keeps_index_and_custom_bands():
    bands = GradeBands((900, 800, 700, 600, 500, 400, 300, 200, 100))
    got = grade_of(pd.Series([950, 650, 99], index=["a", "b", "c"]), bands)
    assert got.to_dict() == {"a": 1, "b": 4, "c": 10}


def test_grade_of_missing_score_rejected():
    with pytest.raises(ConfigError, match="scores must not be missing to get a grade; got 1 missing"):
        grade_of([600, np.nan])


@pytest.mark.parametrize(("boundaries", "message"), [
    ((820, 770, 730, 690, 650, 610, 570, 530, 530), "grade boundaries must be strictly descending; got"),
    ((480, 530, 570, 610, 650, 690, 730, 770, 820), "grade boundaries must be strictly descending; got"),
    ((820, 770, 730), "grade boundaries must be 9 scores; got 3"),
    ((1200, 770, 730, 690, 650, 610, 570, 530, 480), "grade boundaries must be within 1–1000; got"),
    ((820, 770, 730, 690, 650, 610, 570, 530, 0), "grade boundaries must be within 1–1000; got"),
])
def test_grade_bands_validation(boundaries, message):
    with pytest.raises(ConfigError, match=message):
        GradeBands(boundaries)


def test_grade_table():
    table = GradeBands().table()
    assert table["grade"].tolist() == list(range(1, 11))
    assert table["score_from"].tolist() == [*DEFAULT_GRADE_BOUNDARIES, 1.0]
    assert table["score_to"].tolist() == [1000.0, *DEFAULT_GRADE_BOUNDARIES]
    row7 = table.set_index("grade").loc[7]           # 560 <= score < 580
    assert row7["pd_at_score_to"] == pytest.approx(pd_from_score(580.0))
    assert (table["pd_at_score_from"].diff().dropna() > 0).all()  # worse grades, higher PD
