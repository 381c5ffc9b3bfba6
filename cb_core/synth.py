"""Reproducible synthetic merchant book with a known true probability of default.

:func:`generate_book` builds the three contract tables (``merchants``, ``monthly_activity``,
``outcomes``) from a seed: same seed, same bytes. It is vectorised over merchants and loops only
over months, so a million merchants by 24 months fits a small machine.

How the book is made
--------------------
Each merchant draws a hidden quality ``q ~ N(0, 1)``. Quality tilts everything a lender cannot see
directly: the trajectory (growth / steady / declining / churning), return, dispute and shipping-delay
propensities, ratings, repeat buyers, monthly volatility and the bureau score. Monthly activity is then
simulated from those propensities: GMV is lognormal in size (median ~0.9M KRW a month, a Pareto tail
of power sellers up to hundreds of millions), times the category's calendar seasonality (November and
December peaks; Lunar New Year and Chuseok gift peaks lift food, gift sets and beauty, dip the rest;
the holiday lift lands in the three weeks before the holiday, from a table of dates 2015-2030),
a ramp-up for new sellers and AR(1) noise. Orders, returns, reviews, disputes and delays are
Poisson/binomial counts of those orders, so ``unique_buyers <= orders``, ``returns <= orders`` and
``refund_krw <= gmv_krw`` hold by construction; ``settlement_krw = (gmv - refund) * (1 - fee rate)``.
Churning merchants fade to zero sales and about two thirds of them stop having rows. About 15% of
merchants joined within the last 6 months (their first months ramp up from ~15% of their level); the
rest joined earlier (exponential, mean 4 years). About 30% of owners are thin-file (no bureau score),
more often young owners and businesses under two years old. Holiday dates outside 2015-2030 are taken
as 5 February and 25 September. Regions are weighted by population, tilted to Seoul and Gyeonggi.

The true probability of default
-------------------------------
The true PD of a merchant at month *T* is a function of what the book shows up to and including *T*
only, never of the hidden quality: :func:`_pd_drivers` computes the drivers from the activity and
merchants tables and :func:`_pd_from_drivers` combines them. :func:`generate_book` (for
``outcomes.true_pd``) and :func:`true_pd_at` both go through these two functions, so they agree
exactly. Windows hold the rows a merchant has in months T-11..T ("12m"), T-5..T ("6m"),
T-2..T ("3m") and T-5..T-3 ("prior 3m"); a merchant has a PD at *T* when it has a row at *T*.

    logit(PD) = intercept + category effect
        + trend        * sales_trend   ln((GMV 3m + 300,000) / (GMV prior 3m + 300,000)), clipped to
                                       [-2, 1]; 0 without a prior-3m row (too young to tell)
        + return       * return_rate   sum returns / max(sum orders, 1) over 6m, clipped to [0, 0.5]
        + dispute      * dispute_rate  sum disputes / max(sum orders, 1) over 6m, clipped to [0, 0.1]
        + volatility   * gmv_cv        population std / mean of monthly GMV over 12m, clipped to
                                       [0, 2]; 2 when the mean is 0 (one row gives 0)
        + short_tenure * short_tenure  max(0, 12 - (T - month of joined_platform_on)) / 12
        + zero_months  * zero_months   rows with gmv_krw == 0 in 12m, at most 6
        + low_rating   * low_rating    max(0, 4.5 - sum(avg_rating * reviews) / sum reviews) over 6m,
                                       at most 2; 0 without reviews
        + no_reviews   * no_reviews    1 when the 6m window has no review, else 0
        + ship_delay   * ship_delay    sum(ship_delay_rate * orders) / max(sum orders, 1) over 6m,
                                       clipped to [0, 0.6]
        + repeat       * repeat_rate   sum(repeat_buyer_rate * unique_buyers)
                                       / max(sum unique_buyers, 1) over 6m
        + bureau       * bureau_z      (bureau_score - 750) / 100 clipped to [-4, 2.5]; 0 if thin file
        + thin_file    * thin_file     1 when bureau_score is missing, else 0
        + scale        * log_gmv       log10(mean monthly GMV over 3m, clipped to [1e4, 1e9] KRW) - 6
    PD = 1 / (1 + exp(-clip(logit, -8, 3)))

Coefficients (:data:`PD_COEFFICIENTS`; a test checks this text against it):

    intercept -4.7, trend -0.7, return 5, dispute 20, volatility 0.8, short_tenure 0.9,
    zero_months 0.2, low_rating 0.8, no_reviews 0.35, ship_delay 3, repeat -1.8,
    bureau -0.55, thin_file 0.35, scale -0.3

Category effects (:data:`CATEGORY_PD_EFFECT`): fashion +0.15, beauty 0, food -0.10,
living -0.05, digital +0.10, furniture +0.20, kids -0.05, sports +0.05, pets -0.10, hobby 0.

Region and the region income index never enter the PD (sensitive data). With 20,000 merchants by
24 months the mean PD at snapshots is about 4.5% (5th to 95th percentile ~0.3% to ~17%), the oracle AUC of
``true_pd`` against the drawn ``defaulted_12m`` about 0.83.

Outcomes
--------
Snapshot months count back every third month from the month 12 months before the end, keeping those
with at least 6 months of book up to and including them (24 months: months 6, 9 and 12 of 24, i.e.
indices 5, 8, 11). With fewer than 18 months none qualifies and the last month is the only snapshot
(its outcomes then describe the year after the book). At a snapshot, merchants with a row then and at
least 3 months of rows so far, and that had a loan (a 60% draw per merchant and snapshot), get a row
with ``true_pd`` and ``defaulted_12m ~ Bernoulli(true_pd)``.
"""
from __future__ import annotations

import numbers
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .book import ACTIVITY_COLUMNS, MERCHANT_COLUMNS, OUTCOME_COLUMNS, Book
from .catalog import categories, regions
from .errors import ConfigError

__all__ = ["CATEGORY_PD_EFFECT", "LOAN_SHARE", "PD_COEFFICIENTS", "business_reg_check_digit", "generate_book",
           "snapshot_months", "true_pd_at"]

PD_COEFFICIENTS: dict[str, float] = {
    "intercept": -4.7, "trend": -0.7, "return": 5.0, "dispute": 20.0, "volatility": 0.8,
    "short_tenure": 0.9, "zero_months": 0.2, "low_rating": 0.8, "no_reviews": 0.35,
    "ship_delay": 3.0, "repeat": -1.8, "bureau": -0.55, "thin_file": 0.35, "scale": -0.3,
}
CATEGORY_PD_EFFECT: dict[str, float] = {
    "fashion": 0.15, "beauty": 0.0, "food": -0.10, "living": -0.05, "digital": 0.10,
    "furniture": 0.20, "kids": -0.05, "sports": 0.05, "pets": -0.10, "hobby": 0.0,
}
LOAN_SHARE = 0.6
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class _Category(NamedTuple):
    share: float
    ticket_krw: float
    return_rate: float
    repeat_rate: float
    holiday_lift: float  # Lunar New Year / Chuseok gift effect
    commission: float
    calendar: tuple[float, ...]  # Jan..Dec, before normalising to a mean of 1
    nouns: tuple[str, ...]


_CATEGORIES: dict[str, _Category] = {
    "fashion": _Category(0.22, 42_000, 0.120, 0.18, -0.08, 0.055,
                         (.92, .82, 1.05, 1.02, .98, .90, .86, .88, 1.02, 1.08, 1.25, 1.22),
                         ("옷장", "부티크", "클로젯", "의류", "패션", "룩북", "드레스룸", "스타일", "니트", "데님")),
    "beauty": _Category(0.10, 24_000, 0.030, 0.32, 0.10, 0.050,
                        (.95, .90, 1.0, .98, 1.05, .95, .94, .95, .98, 1.0, 1.22, 1.20),
                        ("코스메틱", "뷰티", "화장품", "스킨랩", "향수공방", "네일", "비누공방")),
    "food": _Category(0.14, 28_000, 0.015, 0.38, 0.45, 0.040,
                      (1.0, .92, .95, .95, 1.0, .95, .98, .98, .98, 1.0, 1.15, 1.15),
                      ("상회", "농원", "식품", "푸드", "수산", "한과", "방앗간", "과수원", "감귤농원", "정육",
                       "베이커리", "반찬")),
    "living": _Category(0.14, 31_000, 0.035, 0.24, 0.15, 0.045,
                        (.95, .90, 1.02, 1.0, 1.0, .96, .94, .95, .98, 1.0, 1.18, 1.15),
                        ("리빙", "살림", "주방", "생활용품", "하우스", "홈데코", "잡화점", "그릇가게")),
    "digital": _Category(0.08, 160_000, 0.055, 0.10, -0.08, 0.035,
                         (.95, .85, 1.08, .95, .95, .92, .95, .95, .95, .98, 1.32, 1.15),
                         ("디지털", "전자", "테크", "모바일", "컴퓨터", "가전", "디바이스")),
    "furniture": _Category(0.05, 240_000, 0.045, 0.06, -0.08, 0.045,
                           (.95, .92, 1.12, 1.05, 1.0, .92, .88, .90, 1.05, 1.0, 1.12, 1.10),
                           ("가구", "인테리어", "우드", "목공방", "퍼니처", "조명", "가구공방")),
    "kids": _Category(0.07, 38_000, 0.050, 0.28, -0.05, 0.050,
                      (.92, .88, .98, 1.0, 1.22, .92, .90, .90, .95, .98, 1.12, 1.22),
                      ("키즈", "베이비", "아기옷", "토이", "육아용품", "맘스")),
    "sports": _Category(0.07, 62_000, 0.060, 0.16, -0.08, 0.050,
                        (.82, .80, .98, 1.05, 1.10, 1.12, 1.10, 1.02, 1.0, .98, 1.12, 1.18),
                        ("스포츠", "캠핑", "레저", "아웃도어", "골프", "피트니스", "낚시", "자전거")),
    "pets": _Category(0.05, 30_000, 0.025, 0.40, 0.0, 0.045,
                      (.97, .92, 1.0, .98, 1.0, .98, .98, .98, .98, 1.0, 1.12, 1.12),
                      ("펫", "애견용품", "펫샵", "고양이상점", "멍냥", "펫푸드")),
    "hobby": _Category(0.08, 21_000, 0.020, 0.20, -0.05, 0.045,
                       (.98, .92, 1.10, .98, .95, .92, .97, .96, .95, .97, 1.12, 1.25),
                       ("서점", "책방", "공방", "문구", "화방", "취미", "퍼즐", "레코드")),
}
# 2024 resident population (10k); online sellers lean further to the capital region.
_REGIONS: dict[str, tuple[float, float]] = {  # name: (weight, income index)
    "서울특별시": (934 * 1.25, 125), "부산광역시": (327, 98), "대구광역시": (237, 95),
    "인천광역시": (302, 100), "광주광역시": (141, 96), "대전광역시": (144, 105),
    "울산광역시": (110, 115), "세종특별자치시": (39, 118), "경기도": (1369 * 1.15, 112),
    "강원특별자치도": (152, 88), "충청북도": (159, 92), "충청남도": (213, 95),
    "전북특별자치도": (174, 85), "전라남도": (180, 84), "경상북도": (254, 88),
    "경상남도": (325, 93), "제주특별자치도": (67, 94),
}
_SEOLLAL = {2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25),
            2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
            2027: (2, 7), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3)}
_CHUSEOK = {2015: (9, 27), 2016: (9, 15), 2017: (10, 4), 2018: (9, 24), 2019: (9, 13), 2020: (10, 1),
            2021: (9, 21), 2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6), 2026: (9, 25),
            2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12)}
_SEOLLAL_DEFAULT, _CHUSEOK_DEFAULT = (2, 5), (9, 25)

_PREFIXES = ("달빛", "하루", "초록", "소소", "모던", "봄날", "해담", "온누리", "바른", "참", "새봄", "한결",
             "다온", "라온", "별빛", "햇살", "숲속", "작은", "우리", "하늘", "미소", "행복한", "늘", "가온",
             "도담", "나래", "마루", "소담", "오늘의", "그린", "코지", "데일리", "어반", "심플", "리틀", "해피")
_PLACES = ("제주", "청송", "영동", "남해", "완도", "횡성", "보성", "상주", "나주", "강릉", "의성", "고창")
_SUFFIXES = ("", "", "", "", "", " 스토어", " 샵", "몰", " 마켓", "하우스")
_SURNAMES = {  # share of the population, %
    "김": 21.5, "이": 14.7, "박": 8.4, "최": 4.7, "정": 4.3, "강": 2.4, "조": 2.1, "윤": 2.1, "장": 2.0,
    "임": 1.7, "한": 1.5, "오": 1.5, "서": 1.5, "신": 1.5, "권": 1.4, "황": 1.4, "안": 1.4, "송": 1.3,
    "류": 1.2, "전": 1.1, "홍": 1.1, "고": 0.9, "문": 0.9, "양": 0.9, "손": 0.9, "배": 0.8, "백": 0.8,
    "허": 0.6, "유": 0.6, "남": 0.5, "심": 0.5, "노": 0.4, "하": 0.4, "곽": 0.4, "성": 0.4, "차": 0.4,
    "주": 0.4, "우": 0.4, "구": 0.4, "나": 0.3, "민": 0.3, "진": 0.3, "지": 0.3, "엄": 0.3, "채": 0.3,
    "원": 0.3, "천": 0.3, "방": 0.2, "공": 0.2, "현": 0.2, "함": 0.2, "변": 0.2, "염": 0.2, "여": 0.2,
    "추": 0.2, "도": 0.1, "소": 0.1, "석": 0.1, "선": 0.1, "설": 0.1, "마": 0.1, "길": 0.1, "연": 0.1,
    "위": 0.1, "표": 0.1, "명": 0.1, "기": 0.1, "반": 0.1, "왕": 0.1, "금": 0.1, "옥": 0.1, "육": 0.1,
    "남궁": 0.04, "황보": 0.02, "제갈": 0.01, "선우": 0.01,
}
_GIVEN_NAMES = (
    "민준", "서준", "도윤", "예준", "시우", "하준", "지호", "주원", "지후", "준우", "준서", "건우", "도현",
    "현우", "지훈", "우진", "선우", "서진", "민재", "현준", "연우", "유준", "정우", "승우", "승현", "시윤",
    "준혁", "은우", "지환", "승민", "유찬", "윤우", "민성", "준영", "진우", "지원", "수호", "재윤", "서연",
    "서윤", "지우", "서현", "민서", "하은", "하윤", "윤서", "지유", "지민", "채원", "수아", "지아", "지윤",
    "은서", "다은", "예은", "수빈", "소율", "예린", "예원", "소윤", "지안", "하린", "시은", "유진", "채은",
    "민지", "수민", "영희", "미경", "정희", "은영", "현주", "지영", "미영", "혜진", "은정", "성민", "영수",
    "영호", "정훈", "성호", "상훈", "동현", "성진", "재현", "영진", "종현", "경민", "상민", "재훈", "미숙",
    "정숙", "순자", "영숙", "경희", "혜숙", "명숙", "선영", "수진", "은주", "지혜", "소연", "나연", "보람",
    "슬기", "아름", "다혜", "민정", "유나", "하늘", "가영", "태희", "동훈", "병철", "광수", "용준", "형준",
    "태민", "세훈", "기현", "재민", "준기", "상우", "민혁", "태윤", "성훈", "대현", "진혁", "우현",
)
# Business registration number: tax office 101-999, type 01-79 (individuals) or 81/86/87/88
# (companies), 4-digit serial, check digit.
_REG_TYPES = np.array(list(range(1, 80)) + [81, 86, 87, 88], dtype=np.int64)
_REG_WEIGHTS = np.array([1, 3, 7, 1, 3, 7, 1, 3, 5], dtype=np.int64)


# --------------------------------------------------------------------------- validation

def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    if high is not None and not low <= value <= high:
        raise ConfigError(f"{name} must be within {low}–{high}; got {value}")
    if value < low:
        raise ConfigError(f"{name} must be at least {low}; got {value}")
    return value


def _parse_month(name: str, value: object) -> int:
    """'YYYY-MM' -> absolute month number (year * 12 + month - 1)."""
    match = _MONTH_RE.match(value) if isinstance(value, str) else None
    if match is None or not 1900 <= int(match.group(1)) <= 2999:
        raise ConfigError(f"{name} must be a month YYYY-MM between 1900-01 and 2999-12; got {value!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def _month_label(abs_month: int) -> str:
    return f"{abs_month // 12:04d}-{abs_month % 12 + 1:02d}"


def _reference_tables() -> tuple[list[str], list[str]]:
    cat_codes, region_names = list(categories()), list(regions())
    for what, shipped, known in (("category", cat_codes, _CATEGORIES), ("region", region_names, _REGIONS)):
        if set(shipped) != set(known):
            diff = sorted(set(shipped) ^ set(known))
            raise ConfigError(f"data/{what} list and synth's {what} profiles differ: {', '.join(diff)}")
    return cat_codes, region_names


def snapshot_months(n_months: int, end_month: str = "2026-10") -> list[str]:
    """Snapshot months of the outcomes table for a book of ``n_months`` ending ``end_month``.

    Every third month counting back from 12 months before the end, keeping those with at least six
    months of book up to and including them; the last month alone when none qualifies.
    """
    n_months = _check_int("n_months", n_months, 1, 120)
    end = _parse_month("end_month", end_month)
    return [_month_label(end - n_months + 1 + t) for t in _snapshot_indices(n_months)]


def _snapshot_indices(n_months: int) -> list[int]:
    found = list(range(n_months - 13, 4, -3))[::-1]
    return found or [n_months - 1]


# --------------------------------------------------------------------------- strings

def _to_str_series(array: pa.Array) -> pd.Series:
    return array.cast(pa.large_string()).to_pandas()


def _ascii_fixed(chars: np.ndarray) -> pa.Array:
    """(rows, width) uint8 ASCII matrix -> Arrow string array, without Python objects."""
    rows, width = chars.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int64)
    return pa.Array.from_buffers(pa.large_string(), rows,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars))])


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers) % 10).astype(np.uint8) + ord("0")


def _merchant_ids(n: int) -> pa.Array:
    width = max(7, len(str(n)))
    chars = np.empty((n, width + 1), dtype=np.uint8)
    chars[:, 0] = ord("M")
    chars[:, 1:] = _digits(np.arange(1, n + 1, dtype=np.int64), width)
    return _ascii_fixed(chars)


def business_reg_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """Check digit of Korean business registration numbers from their first nine digits (n, 9)."""
    d = np.asarray(first_nine, dtype=np.int64)
    total = d @ _REG_WEIGHTS + (d[:, 8] * 5) // 10
    return (10 - total % 10) % 10


def _business_reg_nos(rng: np.random.Generator, n: int) -> pa.Array:
    n_types = len(_REG_TYPES)
    code = rng.choice(899 * n_types * 10_000, size=n, replace=False)  # unique numbers
    office, rest = 101 + code // (n_types * 10_000), code % (n_types * 10_000)
    kind, serial = _REG_TYPES[rest // 10_000], rest % 10_000
    chars = np.full((n, 12), ord("-"), dtype=np.uint8)  # NNN-NN-NNNNC
    chars[:, 0:3], chars[:, 4:6], chars[:, 7:11] = _digits(office, 3), _digits(kind, 2), _digits(serial, 4)
    nine = chars[:, [0, 1, 2, 4, 5, 7, 8, 9, 10]].astype(np.int64) - ord("0")
    chars[:, 11] = business_reg_check_digit(nine) + ord("0")
    return _ascii_fixed(chars)


def _join(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _business_names(rng: np.random.Generator, cat: np.ndarray, cat_codes: list[str]) -> pa.Array:
    n = len(cat)
    nouns = [w for c in cat_codes for w in _CATEGORIES[c].nouns]
    sizes = np.array([len(_CATEGORIES[c].nouns) for c in cat_codes])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    noun_idx = starts[cat] + (rng.random(n) * sizes[cat]).astype(np.int64)
    prefixes = list(_PREFIXES) + list(_PLACES)
    use_place = (np.asarray(cat_codes)[cat] == "food") & (rng.random(n) < 0.5)
    pre_idx = np.where(use_place, len(_PREFIXES) + rng.integers(0, len(_PLACES), n),
                       rng.integers(0, len(_PREFIXES), n))
    suf_idx = rng.integers(0, len(_SUFFIXES), n)
    return _join(pa.array(prefixes).take(pre_idx), pa.array(nouns).take(noun_idx),
                 pa.array(_SUFFIXES).take(suf_idx))


def _owner_names(rng: np.random.Generator, n: int) -> pa.Array:
    shares = np.array(list(_SURNAMES.values()))
    surname = rng.choice(len(shares), size=n, p=shares / shares.sum())
    given_w = 1.0 / np.sqrt(np.arange(1, len(_GIVEN_NAMES) + 1))
    given = rng.choice(len(_GIVEN_NAMES), size=n, p=given_w / given_w.sum())
    return _join(pa.array(list(_SURNAMES)).take(surname), pa.array(_GIVEN_NAMES).take(given))


def _date_strings(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype("datetime64[D]")).cast(pa.string())


def _month_start_days(abs_months: np.ndarray) -> np.ndarray:
    return (np.asarray(abs_months, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- merchants

def _seasonality(cat_codes: list[str], start_abs: int, n_months: int) -> np.ndarray:
    """(category, month) multiplicative seasonality of the book's months."""
    holiday = np.zeros(n_months)
    first_year, last_year = start_abs // 12 - 1, (start_abs + n_months) // 12 + 1
    for table, default in ((_SEOLLAL, _SEOLLAL_DEFAULT), (_CHUSEOK, _CHUSEOK_DEFAULT)):
        for year in range(first_year, last_year + 1):
            month, day = table.get(year, default)
            t = year * 12 + month - 1 - start_abs
            in_month = min(1.0, (day - 1) / 21)  # gift shopping: the three weeks before the day
            for tt, share in ((t, in_month), (t - 1, 1.0 - in_month)):
                if 0 <= tt < n_months:
                    holiday[tt] += share
    calendar_month = (start_abs + np.arange(n_months)) % 12
    out = np.empty((len(cat_codes), n_months))
    for i, code in enumerate(cat_codes):
        profile = np.asarray(_CATEGORIES[code].calendar)
        out[i] = profile[calendar_month] / profile.mean() * (1.0 + _CATEGORIES[code].holiday_lift * holiday)
    return out


def _draw_merchants(rng: np.random.Generator, n: int, n_months: int, end_abs: int,
                    cat_codes: list[str], region_names: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The merchants table and the hidden per-merchant parameters that drive the simulation."""
    f32 = np.float32
    cats = [_CATEGORIES[c] for c in cat_codes]
    share = np.array([c.share for c in cats])
    cat = rng.choice(len(cats), size=n, p=share / share.sum())
    reg_w = np.array([_REGIONS[r][0] for r in region_names])
    region = rng.choice(len(region_names), size=n, p=reg_w / reg_w.sum())
    q = rng.standard_normal(n)

    # platform tenure: ~15% joined within the last 6 months, the rest earlier (mean ~3 years)
    recent = rng.random(n) < 0.15
    months_before_end = np.where(recent, rng.integers(0, 6, n),
                                 6 + np.minimum(rng.exponential(48.0, n), 233.0).astype(np.int64))
    join_abs = end_abs - months_before_end
    month_start = _month_start_days(join_abs)
    days_in_month = (_month_start_days(join_abs + 1) - month_start).astype(np.int64)
    joined = month_start + (rng.random(n) * days_in_month).astype(np.int64)
    started_to_sell = rng.random(n) < 0.4  # opened the business to sell online
    lead_days = np.where(started_to_sell, rng.integers(0, 61, n),
                         np.minimum(rng.exponential(48 * 30.44, n), 360 * 30.44).astype(np.int64))
    opened = joined - lead_days
    end_day = _month_start_days(np.array([end_abs + 1]))[0] - 1
    business_age_months = (end_day - opened).astype(np.int64) / 30.44
    owner_age = 24 + 41 * rng.beta(2.0, 2.5, n)

    thin = rng.random(n) < _sigmoid(-1.2 + 1.6 * (owner_age < 30) + 0.8 * (business_age_months < 24) - 0.25 * q)
    bureau = np.clip(np.rint(760 + 95 * (0.55 * q + 0.835 * rng.standard_normal(n)) + 1.5 * (owner_age - 45)),
                     1, 1000).astype(np.int64)
    card = rng.random(n) < _sigmoid(1.6 + 0.5 * q - 1.4 * thin)
    card_missing = rng.random(n) < 0.03
    income_base = np.array([_REGIONS[r][1] for r in region_names], dtype=float)
    income = np.round(np.clip(income_base[region] + rng.normal(0, 6, n), 60, 160), 1)

    names = _business_names(rng, cat, cat_codes)
    owners = _owner_names(rng, n)
    reg_nos = _business_reg_nos(rng, n)
    merchants = pd.DataFrame({
        "merchant_id": _to_str_series(_merchant_ids(n)),
        "business_name": _to_str_series(names),
        "owner_name": _to_str_series(owners),
        "business_reg_no": _to_str_series(reg_nos),
        "category": _to_str_series(pa.array(cat_codes).take(cat)),
        "region": _to_str_series(pa.array(region_names).take(region)),
        "opened_on": _to_str_series(_date_strings(opened)),
        "joined_platform_on": _to_str_series(_date_strings(joined)),
        "bureau_score": pd.arrays.IntegerArray(bureau, thin.copy()),
        "owner_has_credit_card": pd.arrays.BooleanArray(card, card_missing),
        "region_income_index": income,
    }, columns=list(MERCHANT_COLUMNS))

    # hidden behaviour, tilted by quality q
    ticket_cat = np.array([c.ticket_krw for c in cats])[cat]
    size_z = rng.standard_normal(n)
    log_base = np.log(900_000) + 1.35 * size_z + 0.15 * q + 0.3 * np.log(ticket_cat / 40_000)
    power_seller = rng.random(n) < 0.01
    log_base += np.where(power_seller, np.log1p(np.minimum(5 * rng.pareto(1.3, n), 300)), 0.0)
    traj_logits = np.stack([np.log(0.20) + 0.3 * q, np.full(n, np.log(0.50)),
                            np.log(0.18) - 0.4 * q, np.log(0.12) - 0.6 * q])
    traj_p = np.exp(traj_logits) / np.exp(traj_logits).sum(axis=0)
    trajectory = (rng.random(n) > np.cumsum(traj_p, axis=0)).sum(axis=0)  # 0 grow 1 steady 2 decline 3 churn
    slope = np.select([trajectory == 0, trajectory == 2],
                      [rng.uniform(0.01, 0.04, n), -rng.uniform(0.01, 0.04, n)], rng.normal(0, 0.004, n))
    join_t = join_abs - (end_abs - n_months + 1)
    first = np.maximum(join_t, 0)
    churner = trajectory == 3
    churn_t = np.where(churner, first + (rng.random(n) * (n_months - first + 12)).astype(np.int64), 10_000)
    sales_stop_t = churn_t + 1 + rng.integers(0, 5, n)
    rows_stop = churner & (rng.random(n) < 0.65)
    last = np.where(rows_stop, np.minimum(n_months - 1, sales_stop_t + rng.integers(0, 4, n)), n_months - 1)

    params = {
        "cat": cat, "first": first, "last": last, "join_t": join_t, "join_abs": join_abs,
        "bureau": np.where(thin, np.nan, bureau.astype(float)),
        "log_base": log_base.astype(f32), "slope": slope.astype(f32), "churn_t": churn_t,
        "fade": rng.uniform(0.25, 0.7, n).astype(f32), "sales_stop_t": sales_stop_t,
        "declining": trajectory == 2, "churner": churner,
        "sigma": np.minimum(0.2 + 0.08 * np.exp(-0.5 * q), 0.7).astype(f32),
        "p_zero": np.minimum(0.01 * np.exp(-0.7 * q), 0.25).astype(f32),
        "ticket": (ticket_cat * np.exp(0.35 * rng.standard_normal(n))).astype(f32),
        "ret": (np.array([c.return_rate for c in cats])[cat]
                * np.exp(-0.3 * q + 0.3 * rng.standard_normal(n))).astype(f32),
        "disp": (0.004 * np.exp(-0.5 * q + 0.4 * rng.standard_normal(n))).astype(f32),
        "ship": np.minimum(0.05 * np.exp(-0.45 * q + 0.45 * rng.standard_normal(n)), 0.6).astype(f32),
        "rating": np.clip(4.55 + 0.18 * q + 0.12 * rng.standard_normal(n), 2.5, 4.95).astype(f32),
        "review_p": np.clip(0.12 * np.exp(0.4 * rng.standard_normal(n)), 0.01, 0.4).astype(f32),
        "buyer_p": rng.uniform(0.8, 0.97, n).astype(f32),
        "repeat": np.minimum(np.array([c.repeat_rate for c in cats])[cat]
                             * np.exp(0.25 * q + 0.3 * rng.standard_normal(n)), 0.8).astype(f32),
        "listings": np.exp(np.log(25) + 0.45 * (log_base - np.log(900_000))
                           + 0.6 * rng.standard_normal(n)).astype(f32),
        "depth": np.exp(np.log(4) + 0.5 * rng.standard_normal(n)).astype(f32),
        "conv": rng.uniform(0.02, 0.05, n).astype(f32),
        "ad_share": np.where(rng.random(n) < _sigmoid(0.2 + 0.5 * size_z), rng.uniform(0.02, 0.09, n), 0.0).astype(f32),
        "fee": (np.array([c.commission for c in cats])[cat] + rng.uniform(0.015, 0.025, n)).astype(f32),
        "noise": rng.standard_normal(n).astype(f32),
    }
    return merchants, params


# --------------------------------------------------------------------------- activity

_MONEY_COUNT = ("gmv_krw", "orders", "returns", "refund_krw", "unique_buyers", "active_listings", "reviews",
                "disputes", "settlement_krw", "search_clicks", "ad_spend_krw")
_RATES = ("repeat_buyer_rate", "inventory_turnover", "avg_rating", "ship_delay_rate")
_AR_RHO = np.float32(0.55)


def _simulate_activity(seed_seq: np.random.SeedSequence, p: dict[str, np.ndarray], n_months: int,
                       season: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Monthly activity, merchant-major (rows of a merchant are contiguous, months ascending).

    Returns the column arrays and each merchant's offset of its first row.
    """
    first, last = p["first"], p["last"]
    lengths = last - first + 1
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_rows = int(lengths.sum())
    cols = {c: np.empty(n_rows, dtype=np.int64) for c in _MONEY_COUNT}
    cols.update({c: np.empty(n_rows, dtype=np.float64) for c in _RATES})
    noise = p["noise"]
    for t, month_seq in enumerate(seed_seq.spawn(n_months)):
        rng = np.random.default_rng(month_seq)
        idx = np.flatnonzero((first <= t) & (last >= t))
        m = len(idx)
        noise[idx] = _AR_RHO * noise[idx] + np.sqrt(1 - _AR_RHO ** 2) * rng.standard_normal(m, dtype=np.float32)
        age = (t - p["join_t"][idx]).astype(np.float64)
        traj = np.clip(p["slope"][idx] * (t - first[idx]), -3.0, 2.3)
        since_churn = np.maximum(t - p["churn_t"][idx], 0)
        traj = traj - p["fade"][idx] * since_churn
        stopped = t >= p["sales_stop_t"][idx]
        distress = 1.0 + 0.8 * (since_churn > 0) + 0.3 * p["declining"][idx]
        ramp = np.log1p(-0.85 * np.exp(-age / 3.0))  # new sellers start at ~15% of their level
        mu = np.exp(p["log_base"][idx] + traj + np.log(season[p["cat"][idx], t]) + ramp
                    + p["sigma"][idx] * noise[idx])
        ticket = p["ticket"][idx].astype(np.float64)
        expected_orders = mu / ticket
        zero = stopped | (rng.random(m) < p["p_zero"][idx])
        orders = np.where(zero, 0, rng.poisson(expected_orders))
        gmv = (np.rint(orders * ticket * np.exp(0.06 * rng.standard_normal(m)) / 10) * 10).astype(np.int64)
        safe_orders = np.maximum(orders, 1)
        returns = rng.binomial(orders, np.clip(p["ret"][idx] * np.exp(0.25 * rng.standard_normal(m)), 0, 0.8))
        refund = (np.floor(gmv * (returns / safe_orders) * rng.uniform(0.85, 1.0, m) / 10) * 10).astype(np.int64)
        buyers = np.maximum(rng.binomial(orders, p["buyer_p"][idx]), orders > 0)
        repeat_p = np.clip(p["repeat"][idx] * (1 - np.exp(-(age + 1) / 4.0)), 0, 0.95)
        repeaters = rng.binomial(buyers, repeat_p)
        listings = np.rint(p["listings"][idx] * np.exp(0.5 * traj + 0.05 * rng.standard_normal(m))
                           * (1 - 0.6 * np.exp(-age / 2.0))).astype(np.int64)
        listings = np.maximum(listings, orders > 0)  # selling needs a listing
        reviews = rng.binomial(orders, p["review_p"][idx])
        rating = np.clip(p["rating"][idx] - 0.25 * (distress - 1)
                         + 0.5 * rng.standard_normal(m) / np.sqrt(np.maximum(reviews, 1)), 1, 5)
        disputes = np.minimum(rng.poisson(orders * p["disp"][idx] * distress * np.exp(0.3 * rng.standard_normal(m))),
                              orders)
        delayed = rng.binomial(orders, np.clip(p["ship"][idx] * distress * np.exp(0.3 * rng.standard_normal(m)), 0, 1))
        clicks = rng.poisson(expected_orders / p["conv"][idx] * np.exp(0.1 * rng.standard_normal(m)))
        ad = np.where(zero, 0.0, np.rint(mu * p["ad_share"][idx] * np.exp(0.3 * rng.standard_normal(m)) / 1000) * 1000)

        pos = offsets[idx] + (t - first[idx])
        cols["gmv_krw"][pos] = gmv
        cols["orders"][pos] = orders
        cols["returns"][pos] = returns
        cols["refund_krw"][pos] = refund
        cols["unique_buyers"][pos] = buyers
        cols["repeat_buyer_rate"][pos] = repeaters / np.maximum(buyers, 1)
        cols["active_listings"][pos] = listings
        cols["inventory_turnover"][pos] = np.round(orders / (np.maximum(listings, 1) * p["depth"][idx]), 3)
        cols["avg_rating"][pos] = np.where(reviews > 0, np.round(rating, 2), np.nan)
        cols["reviews"][pos] = reviews
        cols["disputes"][pos] = disputes
        cols["ship_delay_rate"][pos] = delayed / safe_orders
        cols["settlement_krw"][pos] = np.rint((gmv - refund) * (1.0 - p["fee"][idx].astype(np.float64)))
        cols["search_clicks"][pos] = clicks
        cols["ad_spend_krw"][pos] = ad
    return cols, offsets


# --------------------------------------------------------------------------- true PD

_PD_INPUTS = ("gmv_krw", "orders", "returns", "disputes", "reviews", "avg_rating", "ship_delay_rate",
              "repeat_buyer_rate", "unique_buyers")


def _pd_drivers(row_merchant: np.ndarray, row_month: np.ndarray, values: dict[str, np.ndarray],
                n: int, as_of: int, join_abs: np.ndarray, bureau: np.ndarray) -> dict[str, np.ndarray]:
    """The PD drivers of every merchant at absolute month ``as_of`` (see the module docstring).

    ``row_merchant`` (merchant position) and ``row_month`` (absolute month) locate each row of
    ``values``; rows outside the 12-month window are ignored. Aggregates are taken over dense
    (month, merchant) matrices so the result does not depend on row order.
    """
    lo = as_of - 11
    sel = np.flatnonzero((row_month >= lo) & (row_month <= as_of))
    slot, who = (row_month[sel] - lo).astype(np.intp), row_merchant[sel]
    present = np.zeros((12, n), dtype=bool)
    present[slot, who] = True
    gmv = np.zeros((12, n))
    gmv[slot, who] = values["gmv_krw"][sel]
    last6 = slot >= 6
    slot6, who6, rows6 = slot[last6] - 6, who[last6], sel[last6]

    def sum_6m(column: np.ndarray) -> np.ndarray:
        dense = np.zeros((6, n))
        dense[slot6, who6] = column
        return dense.sum(axis=0)

    taken = {c: values[c][rows6] for c in _PD_INPUTS[1:]}
    orders = sum_6m(taken["orders"])
    reviews = sum_6m(taken["reviews"])
    rating_x_reviews = sum_6m(np.where(taken["reviews"] > 0, taken["avg_rating"] * taken["reviews"], 0.0))
    buyers = sum_6m(taken["unique_buyers"])

    n_rows = present.sum(axis=0)
    gmv_3m, gmv_prior = gmv[9:].sum(axis=0), gmv[6:9].sum(axis=0)
    trend = np.where(present[6:9].any(axis=0), np.log((gmv_3m + 3e5) / (gmv_prior + 3e5)), 0.0)
    mean = gmv.sum(axis=0) / np.maximum(n_rows, 1)
    var = (np.where(present, gmv - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n_rows, 1)
    cv = np.where(mean > 0, np.sqrt(var) / np.where(mean > 0, mean, 1.0), 2.0)
    avg_3m = gmv_3m / np.maximum(present[9:].sum(axis=0), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rating = rating_x_reviews / reviews
    thin = np.isnan(bureau)
    return {
        "active": present[11],
        "trend": np.clip(trend, -2.0, 1.0),
        "return": np.clip(sum_6m(taken["returns"]) / np.maximum(orders, 1), 0, 0.5),
        "dispute": np.clip(sum_6m(taken["disputes"]) / np.maximum(orders, 1), 0, 0.1),
        "volatility": np.clip(cv, 0, 2.0),
        "short_tenure": np.clip(12 - (as_of - join_abs), 0, 12) / 12.0,
        "zero_months": np.minimum((present & (gmv == 0)).sum(axis=0), 6).astype(np.float64),
        "low_rating": np.where(reviews > 0, np.clip(4.5 - rating, 0, 2.0), 0.0),
        "no_reviews": (reviews == 0).astype(np.float64),
        "ship_delay": np.clip(sum_6m(taken["ship_delay_rate"] * taken["orders"]) / np.maximum(orders, 1), 0, 0.6),
        "repeat": sum_6m(taken["repeat_buyer_rate"] * taken["unique_buyers"]) / np.maximum(buyers, 1),
        "bureau": np.where(thin, 0.0, np.clip((np.where(thin, 750.0, bureau) - 750) / 100, -4, 2.5)),
        "thin_file": thin.astype(np.float64),
        "scale": np.log10(np.clip(avg_3m, 1e4, 1e9)) - 6.0,
    }


def _pd_from_drivers(drivers: dict[str, np.ndarray], category_effect: np.ndarray) -> np.ndarray:
    logit = PD_COEFFICIENTS["intercept"] + category_effect
    for name, coefficient in PD_COEFFICIENTS.items():
        if name != "intercept":
            logit = logit + coefficient * drivers[name]
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -8.0, 3.0)))


def _true_pd(row_merchant: np.ndarray, row_month: np.ndarray, values: dict[str, np.ndarray], n: int,
             as_of: int, join_abs: np.ndarray, bureau: np.ndarray, cat: np.ndarray,
             cat_codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """True PD of every merchant at ``as_of`` and whether it has a row that month."""
    drivers = _pd_drivers(row_merchant, row_month, values, n, as_of, join_abs, bureau)
    effect = np.array([CATEGORY_PD_EFFECT[c] for c in cat_codes])[cat]
    return _pd_from_drivers(drivers, effect), drivers["active"]


def true_pd_at(book: Book, as_of: str) -> pd.Series:
    """True probability of default of each merchant with activity in month ``as_of``.

    The same function of observable behaviour up to and including ``as_of`` that
    :func:`generate_book` uses for ``outcomes.true_pd`` (see the module docstring).

    Parameters
    ----------
    book : Book
        A book with the contract's ``merchants`` and ``monthly_activity`` columns.
    as_of : str
        Month ``YYYY-MM``; a month of the book.

    Returns
    -------
    Series
        ``true_pd`` (float64) indexed by ``merchant_id``, in merchants-table order.

    Raises
    ------
    ConfigError
        If ``as_of`` is not a month of the book, or the tables do not match each other
        (activity of an unknown merchant, an unknown category).
    """
    as_of_abs = _parse_month("as_of", as_of)
    cat_codes, _ = _reference_tables()
    merchants, activity = book.merchants, book.activity
    month_codes, month_labels = pd.factorize(activity["month"])
    label_abs = np.array([_parse_month("activity.month", str(m)) for m in month_labels], dtype=np.int64)
    if as_of_abs not in set(label_abs.tolist()):
        span = f"{_month_label(label_abs.min())} to {_month_label(label_abs.max())}" if len(label_abs) else "none"
        raise ConfigError(f"as_of must be a month of the book ({span}); got {as_of!r}")
    row_month = label_abs[month_codes]
    rows = np.flatnonzero((row_month >= as_of_abs - 11) & (row_month <= as_of_abs))
    ids = pd.Index(merchants["merchant_id"])
    row_merchant = ids.get_indexer(activity["merchant_id"].iloc[rows])
    if (row_merchant < 0).any():
        unknown = activity["merchant_id"].iloc[rows[row_merchant < 0][0]]
        raise ConfigError(f"activity has merchant_id(s) missing from merchants, e.g. {unknown!r}")
    cat = pd.Index(cat_codes).get_indexer(merchants["category"])
    if (cat < 0).any():
        raise ConfigError(f"unknown category {merchants['category'].iloc[np.flatnonzero(cat < 0)[0]]!r}")
    joined = merchants["joined_platform_on"]
    join_abs = (joined.str.slice(0, 4).astype(np.int64) * 12 + joined.str.slice(5, 7).astype(np.int64) - 1).to_numpy()
    # float64 is exact for the counts and accepts nullable (Int64) columns from loaded books
    values = {c: activity[c].to_numpy(dtype=np.float64, na_value=np.nan)[rows] for c in _PD_INPUTS}
    bureau = merchants["bureau_score"].to_numpy(dtype=np.float64, na_value=np.nan)
    pd_all, active = _true_pd(row_merchant, row_month[rows], values, len(merchants),
                              as_of_abs, join_abs, bureau, cat, cat_codes)
    return pd.Series(pd_all[active], index=pd.Index(ids[active], name="merchant_id"), name="true_pd")


# --------------------------------------------------------------------------- the book

def generate_book(n_merchants: int, n_months: int = 24, seed: int = 7, end_month: str = "2026-10") -> Book:
    """A synthetic merchant book whose true probability of default is known.

    Parameters
    ----------
    n_merchants : int
        Merchants to generate (at least 1).
    n_months : int
        Months of activity, 1–120, ending with ``end_month``.
    seed : int
        Non-negative random seed; the same seed gives identical tables.
    end_month : str
        Last month of activity, ``YYYY-MM``.

    Returns
    -------
    Book
        ``merchants``, ``activity`` (the ``monthly_activity`` table, sorted by merchant and month)
        and ``outcomes`` (with the extra ``true_pd`` column), ``source="demo:seed=<seed>"``.

    Raises
    ------
    ConfigError
        If a parameter is out of range.
    """
    n = _check_int("n_merchants", n_merchants, 1)
    n_months = _check_int("n_months", n_months, 1, 120)
    seed = _check_int("seed", seed, 0)
    end_abs = _parse_month("end_month", end_month)
    cat_codes, region_names = _reference_tables()
    start_abs = end_abs - n_months + 1
    merchant_seq, activity_seq, outcome_seq = np.random.SeedSequence(seed).spawn(3)

    merchants, params = _draw_merchants(np.random.default_rng(merchant_seq), n, n_months, end_abs,
                                        cat_codes, region_names)
    season = _seasonality(cat_codes, start_abs, n_months)
    cols, offsets = _simulate_activity(activity_seq, params, n_months, season)
    first = params["first"]
    lengths = params["last"] - first + 1
    row_merchant = np.repeat(np.arange(n, dtype=np.int32), lengths)
    row_t = (np.arange(len(row_merchant), dtype=np.int64) - np.repeat(offsets - first, lengths)).astype(np.int32)
    del lengths

    ids = _merchant_ids(n)
    month_labels = pa.array([_month_label(start_abs + t) for t in range(n_months)])
    outcomes = _draw_outcomes(np.random.default_rng(outcome_seq), ids, month_labels, row_merchant, row_t, cols,
                              params, start_abs, n_months, cat_codes)
    activity = {"merchant_id": _to_str_series(ids.take(row_merchant)),
                "month": _to_str_series(month_labels.take(row_t))}
    del row_merchant, row_t
    activity.update(cols)
    activity = pd.DataFrame(activity, columns=list(ACTIVITY_COLUMNS), copy=False)
    return Book(merchants=merchants, activity=activity, outcomes=outcomes, source=f"demo:seed={seed}")


def _draw_outcomes(rng: np.random.Generator, ids: pa.Array, month_labels: pa.Array, row_merchant: np.ndarray,
                   row_t: np.ndarray, cols: dict[str, np.ndarray], params: dict[str, np.ndarray],
                   start_abs: int, n_months: int, cat_codes: list[str]) -> pd.DataFrame:
    n = len(ids)
    row_month = row_t + np.int32(start_abs)
    values = {c: cols[c] for c in _PD_INPUTS}
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
    for t in _snapshot_indices(n_months):
        pd_all, active = _true_pd(row_merchant, row_month, values, n, start_abs + t, params["join_abs"],
                                  params["bureau"], params["cat"], cat_codes)
        had_loan = rng.random(n) < LOAN_SHARE
        defaulted = rng.random(n) < pd_all
        who = np.flatnonzero(active & (params["first"] <= t - 2) & had_loan)
        parts.append((who, t, defaulted[who].astype(np.int64), pd_all[who]))
    who = np.concatenate([p[0] for p in parts])
    snapshot_t = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in parts])
    return pd.DataFrame({
        "merchant_id": _to_str_series(ids.take(who)),
        "snapshot_month": _to_str_series(month_labels.take(snapshot_t)),
        "defaulted_12m": np.concatenate([p[2] for p in parts]),
        "true_pd": np.concatenate([p[3] for p in parts]),
    }, columns=[*OUTCOME_COLUMNS, "true_pd"])
