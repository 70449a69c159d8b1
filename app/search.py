"""The console's search box: a case number, grid code, part code, address or POI name (pinyin initials
too) → the place to zoom to. Codes are recognised by shape; everything else goes to the geocoder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.map_data import MapData
from app.store_access import open_store
from db.store import Store

CASE_NO = re.compile(r"^\d{4}[A-Z]\d{3,}$")


@dataclass(frozen=True)
class SearchHit:
    kind: str  # case | unit_grid | part | district | street | community | address
    kind_title: str
    title: str
    code: str
    bbox: tuple[float, float, float, float]


KIND_TITLES = {
    "case": "案件", "unit_grid": "单元网格", "part": "城市部件", "district": "区", "street": "街道",
    "community": "社区", "address": "地址",
}


class Searcher:
    def __init__(self, store_path: str | Path, map_data: MapData) -> None:
        self.store_path = str(store_path)
        self.map_data = map_data
        self._store: Store | None = None

    def _code_hits(self, text: str) -> list[SearchHit]:
        code = text.replace(" ", "").upper()
        layers: list[str] = []
        if CASE_NO.match(code):
            layers = ["case"]
        elif code.isdigit():
            layers = {6: ["district"], 9: ["street"], 12: ["community"], 14: ["unit_grid"], 15: ["unit_grid"],
                      16: ["part"], 17: ["part"]}.get(len(code), [])
            if len(code) == 14:
                from gisdata.codes import CodeError, normalize_grid

                try:
                    code = normalize_grid(code)
                except CodeError:
                    return []
        hits = []
        for layer in layers:
            bbox = self.map_data.locate(layer, code)
            if bbox is not None:
                hits.append(SearchHit(layer, KIND_TITLES[layer], code, code, bbox))
        return hits

    def search(self, text: str, limit: int = 20) -> list[SearchHit]:
        text = text.strip()
        if not text:
            return []
        hits = self._code_hits(text)
        if hits:
            return hits
        from app.geocoding import get_geocoder

        if self._store is None:
            self._store = open_store(self.store_path, readonly=True)
        out = []
        for a in get_geocoder(self._store).search(text, limit=limit):
            out.append(SearchHit("address", a.kind, a.full_name or a.name, a.name, (a.lon, a.lat, a.lon, a.lat)))
        return out
