"""The console's search box: a case number, grid code, part code, address or POI name (pinyin initials
too) → the place to zoom to. Codes are recognised by shape; everything else goes to the geocoder.

A search returns every candidate with how it matched and the district it lies in, and
:func:`single_target` decides whether the text names exactly one place. Jumping straight to the first
hit sent operators to a similarly named lane in silence (文亭九巷 typed, 文亭小巷 shown); only an
unambiguous match may move the map without asking.

:meth:`Searcher.search` is called on a worker thread, so it opens its own short-lived read-only store per
call instead of keeping a connection bound to whichever pool thread happened to search first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.map_data import MapData
from app.store_access import open_store
from gisdata.geocode import _fold

if TYPE_CHECKING:
    from app.geocoding import Geocoder

CASE_NO = re.compile(r"^\d{4}[A-Z]\d{3,}$")
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class SearchHit:
    kind: str  # case | unit_grid | part | district | street | community | address
    kind_title: str  # 案件, 单元网格 … or the address kind (街巷, 门楼牌, 兴趣点, 地片)
    title: str  # the name (or code) as listed
    code: str
    bbox: tuple[float, float, float, float]
    district: str = ""  # the district's name: tells same-named lanes in different districts apart
    match: str = "code"  # code | exact | prefix | initials | contains | fuzzy

    @property
    def approximate(self) -> bool:
        """A fuzzy hit only resembles the text (文亭小巷 for 文亭九巷): never a target by itself."""
        return self.match == "fuzzy"

    @property
    def centre(self) -> tuple[float, float]:
        return (self.bbox[0] + self.bbox[2]) / 2, (self.bbox[1] + self.bbox[3]) / 2


KIND_TITLES = {
    "case": "案件", "unit_grid": "单元网格", "part": "城市部件", "district": "区", "street": "街道",
    "community": "社区", "address": "地址",
}
MATCH_TITLES = {
    "code": "编码", "exact": "完全匹配", "prefix": "前缀匹配", "initials": "拼音首字母", "contains": "包含",
    "fuzzy": "近似匹配",
}
#: Codes that begin with their district's code (a part's or a case's do not: those are looked up by place).
_DIVISION_KINDS = frozenset({"district", "street", "community", "unit_grid"})
_NAMING = frozenset({"code", "exact"})  # matches that name a place rather than resemble or start one


def single_target(hits: Sequence[SearchHit]) -> SearchHit | None:
    """The one place the text names, or None when the operator has to choose from a list.

    A code or an exact name is a target when it is the only one (文亭九巷 exists in two districts: a
    list); any other match is a target only when it is the sole hit and not merely similar, so a single
    pinyin-initials or partial-name hit still goes straight there.
    """
    naming = [h for h in hits if h.match in _NAMING]
    if len(naming) == 1:
        return naming[0]
    if not naming and len(hits) == 1 and not hits[0].approximate:
        return hits[0]
    return None


def only_approximate(hits: Sequence[SearchHit]) -> bool:
    """Nothing matched the text itself, only similar names: the list must say so."""
    return bool(hits) and all(h.approximate for h in hits)


class Searcher:
    def __init__(self, store_path: str | Path, map_data: MapData) -> None:
        self.store_path = str(store_path)
        self.map_data = map_data
        self._lock = threading.Lock()  # one search at a time: the geocoder is built once, not by two threads
        self._full: tuple[Geocoder, list[str], list[str]] | None = None  # folded full names and names

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

    def search(self, text: str, limit: int = DEFAULT_LIMIT) -> list[SearchHit]:
        """Every candidate for ``text``, best first, each with its match kind and district."""
        text = text.strip()
        if not text:
            return []
        from app.geocoding import get_geocoder

        with self._lock:
            store = open_store(self.store_path, readonly=True)
            try:
                geo = get_geocoder(store)
            finally:
                store.close()
        names = geo.reverse_geocoder.names

        def district_of(grid_code: str | None, lon: float, lat: float) -> str:
            code = grid_code or geo.grid_at(lon, lat)
            return names.get(code[:6], "") if code else ""

        hits = self._code_hits(text)
        if hits:
            return [SearchHit(h.kind, h.kind_title, h.title, h.code, h.bbox,
                              district_of(h.code if h.kind in _DIVISION_KINDS else None, *h.centre))
                    for h in hits]
        folded = _fold(text)
        a = geo.addresses
        out: list[SearchHit] = []
        seen: set[tuple[str, float, float]] = set()

        def add(name: str, kind: str, grid: str | None, lon: float, lat: float, match: str) -> None:
            if (name, lon, lat) not in seen and len(out) < limit:
                seen.add((name, lon, lat))
                out.append(SearchHit("address", kind, name, name, (lon, lat, lon, lat), district_of(grid, lon, lat),
                                     match))

        for i in self._full_address_matches(geo, folded):
            add(a.name[i], a.kind[i], a.grid_code[i], float(a.x[i]), float(a.y[i]), "exact")
        for r in geo.search(text, limit=limit):
            add(r.name, r.kind, r.grid_code, r.lon, r.lat, r.match)
        return out

    def _full_address_matches(self, geo: Geocoder, folded: str) -> list[int]:
        """Addresses the text names with (part of) its division chain: 云龙区文亭九巷 or the full
        徐州市云龙区文亭九巷 name one of the two 文亭九巷 exactly, as the bare name cannot; the geocoder's
        own search only knows names, so these are found here by the end of the full address."""
        with self._lock:
            if self._full is None or self._full[0] is not geo:
                a = geo.addresses
                self._full = (geo, [_fold(f) if f else "" for f in a.full_name], [_fold(n) for n in a.name])
            _, fulls, names = self._full
        return [i for i, f in enumerate(fulls) if len(folded) > len(names[i]) and f.endswith(folded)]
