"""Korean names, business registration numbers and Arrow string builders of the synthetic book."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._profiles import _CATEGORIES

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
