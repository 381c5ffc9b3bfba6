"""Category and region profiles and the holiday calendar of the synthetic book (see :mod:`cb_core.synth.generate`)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


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
