"""Part and event catalogues (部件和事件分类) as versioned data in ``resources/catalog/``.

A catalogue is identified by a short id (``cjt214-2007`` or ``gbt47678-2026``); its rows come from
``../shared/reference/classification.csv`` with a default 立案条件/结案条件 per class that a city edits.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gisdata.codes import CATALOG_2026, CATALOG_LEGACY, CodeError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CATALOG_DIR = RESOURCES / "catalog"
CATALOG_TITLES = {CATALOG_LEGACY: "CJ/T 214-2007", CATALOG_2026: "GB/T 47678.5-2026"}


@dataclass(frozen=True, slots=True)
class CatalogClass:
    catalog: str
    kind: str  # "part" or "event"
    major_code: str
    major_name: str
    class_code: str
    name: str
    filing_rule: str
    closing_rule: str

    @property
    def kind_name(self) -> str:
        return "部件" if self.kind == "part" else "事件"


class Catalog:
    """All classes of one catalogue, looked up by (kind, class_code)."""

    def __init__(self, catalog_id: str, classes: list[CatalogClass]) -> None:
        self.id = catalog_id
        self.title = CATALOG_TITLES.get(catalog_id, catalog_id)
        self.classes = classes
        self._by_key = {(c.kind, c.class_code): c for c in classes}

    @property
    def class_code_length(self) -> int:
        return 4 if self.id == CATALOG_LEGACY else 5

    def get(self, kind: str, class_code: str) -> CatalogClass:
        try:
            return self._by_key[(kind, class_code)]
        except KeyError:
            raise CodeError("class_code", class_code, None, f"{self.title} 中存在的{'部件' if kind == 'part' else '事件'}小类") from None

    def find(self, class_code: str) -> CatalogClass | None:
        """A class by code when the kind is not known (parts first)."""
        return self._by_key.get(("part", class_code)) or self._by_key.get(("event", class_code))

    def of_kind(self, kind: str) -> list[CatalogClass]:
        return [c for c in self.classes if c.kind == kind]

    def majors(self, kind: str) -> dict[str, str]:
        return {c.major_code: c.major_name for c in self.classes if c.kind == kind}


@cache
def load_catalog(catalog_id: str = CATALOG_LEGACY) -> Catalog:
    path = CATALOG_DIR / f"{catalog_id}.csv"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CATALOG_DIR.glob("*.csv")))
        raise ValueError(f"未知的分类目录 catalog '{catalog_id}' (known: {known})")
    with path.open(encoding="utf-8", newline="") as f:
        rows = [
            CatalogClass(
                catalog_id, r["kind"], r["major_code"], r["major_name"], r["class_code"], r["name"],
                r["filing_rule"], r["closing_rule"],
            )
            for r in csv.DictReader(f)
        ]
    return Catalog(catalog_id, rows)


def catalog_ids() -> list[str]:
    return sorted(p.stem for p in CATALOG_DIR.glob("*.csv"))
