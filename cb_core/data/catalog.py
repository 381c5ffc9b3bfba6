"""The feature catalog and the other small shipped reference tables (categories, regions).

The catalog (``data/feature_catalog.csv``) is data, not code: name, kind, unit, expected direction
of risk (the monotone constraint), source table, ``sensitive`` and ``actionable`` flags, the category
of information it belongs to (``info_group``: what an explanation under the Credit Information Act
reports weights by), and Korean and English labels, descriptions and reason-code texts.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config import DATA_DIR


@dataclass(frozen=True)
class FeatureSpec:
    """One catalog entry.

    ``risk_direction`` is +1 when a higher value raises the probability of default, -1 when it
    lowers it, 0 when no direction is imposed. It becomes the LightGBM monotone constraint.
    """

    name: str
    kind: str
    unit: str
    risk_direction: int
    source: str
    sensitive: bool
    actionable: bool
    info_group: str
    label_ko: str
    label_en: str
    description_ko: str
    description_en: str
    reason_ko: str
    reason_en: str

    def label(self, lang: str = "ko") -> str:
        return self.label_ko if lang == "ko" else self.label_en

    def description(self, lang: str = "ko") -> str:
        return self.description_ko if lang == "ko" else self.description_en

    def reason(self, lang: str = "ko") -> str:
        return self.reason_ko if lang == "ko" else self.reason_en


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=4)
def feature_catalog(path: str | None = None) -> dict[str, FeatureSpec]:
    """The feature catalog, in catalog order, keyed by feature name."""
    rows = _read_csv(Path(path) if path else DATA_DIR / "feature_catalog.csv")
    out: dict[str, FeatureSpec] = {}
    for r in rows:
        out[r["name"]] = FeatureSpec(
            name=r["name"], kind=r["kind"], unit=r["unit"], risk_direction=int(r["risk_direction"]),
            source=r["source"], sensitive=r["sensitive"] == "1", actionable=r["actionable"] == "1",
            info_group=r["info_group"],
            label_ko=r["label_ko"], label_en=r["label_en"],
            description_ko=r["description_ko"], description_en=r["description_en"],
            reason_ko=r["reason_ko"], reason_en=r["reason_en"],
        )
    return out


@lru_cache(maxsize=1)
def categories() -> dict[str, dict[str, str]]:
    """Category code -> {"ko": label, "en": label}."""
    return {r["code"]: {"ko": r["label_ko"], "en": r["label_en"]} for r in _read_csv(DATA_DIR / "categories.csv")}


@lru_cache(maxsize=1)
def regions() -> dict[str, dict[str, str]]:
    """Region (official Korean name, as stored in the data) -> {"ko": short label, "en": label}."""
    return {r["code"]: {"ko": r["label_ko"], "en": r["label_en"]} for r in _read_csv(DATA_DIR / "regions.csv")}
