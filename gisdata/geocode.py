"""Geocoding: address search (name, prefix, pinyin initials, fuzzy) and reverse geocoding of a point.

Pure and store-free: :class:`AddressBook` and :class:`ReverseGeocoder` are built from arrays that
``app.geocoding`` reads once from the store. Reverse geocoding answers 区/街道/社区/网格 from the unit grid
containing the point, and describes the point relative to the nearest door plate or point of interest
("解放路12号东30米"), measuring in the city's Gauss-Krüger zone.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from gisdata.crs import Projector
from gisdata.spatial_index import GridIndex, NearestIndex

NEAR_KINDS = ("门楼牌", "兴趣点")  # what a point is described relative to
DIRECTIONS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")


class OutsideCity(ValueError):
    """The point is in no unit grid of the store."""


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _fold(text: str) -> str:
    """Search key: no spaces, lower case, full-width ASCII folded to half-width (Ｊ→j, （→()."""
    return "".join(text.translate(_FULL_WIDTH).lower().split())


@dataclass(frozen=True)
class AddressHit:
    index: int
    name: str
    kind: str
    match: str  # exact | prefix | initials | contains | fuzzy
    score: float


class AddressBook:
    """Address search over parallel arrays of names, kinds, full names and pinyin initials."""

    _RANK: ClassVar[dict[str, float]] = {"exact": 5.0, "prefix": 4.0, "initials": 3.0, "contains": 2.0, "fuzzy": 1.0}

    def __init__(self, names: Sequence[str], kinds: Sequence[str], full_names: Sequence[str | None] | None = None,
                 initials: Sequence[str | None] | None = None) -> None:
        self.names = list(names)
        self.kinds = list(kinds)
        n = len(self.names)
        self.full_names = list(full_names) if full_names is not None else [None] * n
        self.initials = [(_fold(i) if i else "") for i in (initials if initials is not None else [None] * n)]
        self._folded = [_fold(x) for x in self.names]
        self._full_folded = [_fold(x) if x else "" for x in self.full_names]
        order = sorted(range(n), key=lambda i: self._folded[i])
        self._sorted_keys = [self._folded[i] for i in order]
        self._sorted_idx = order
        iorder = sorted(range(n), key=lambda i: self.initials[i])
        self._ini_keys = [self.initials[i] for i in iorder]
        self._ini_idx = iorder
        self._chars: dict[str, set[int]] = {}
        for i, key in enumerate(self._folded):
            for ch in set(key):
                self._chars.setdefault(ch, set()).add(i)

    def __len__(self) -> int:
        return len(self.names)

    @staticmethod
    def _prefix_range(keys: list[str], prefix: str) -> range:
        import bisect

        lo = bisect.bisect_left(keys, prefix)
        hi = bisect.bisect_left(keys, prefix + "\U0010ffff")
        return range(lo, hi)

    def search(self, query: str, limit: int = 20, kinds: Sequence[str] | None = None) -> list[AddressHit]:
        """Best matches first: exact name, name prefix, pinyin-initials prefix, substring, then fuzzy.

        Within a tier shorter names come first (``解放路`` before ``解放路12号``), then by name.
        """
        q = _fold(query)
        if not q:
            return []
        allowed = set(kinds) if kinds else None
        found: dict[int, tuple[str, float]] = {}

        def add(i: int, match: str, score: float) -> None:
            if allowed is not None and self.kinds[i] not in allowed:
                return
            old = found.get(i)
            if old is None or score > old[1]:
                found[i] = (match, score)

        for pos in self._prefix_range(self._sorted_keys, q):
            i = self._sorted_idx[pos]
            add(i, "exact" if self._folded[i] == q else "prefix", self._RANK["exact" if self._folded[i] == q else "prefix"])
        if q.isascii() and q.isalnum():
            for pos in self._prefix_range(self._ini_keys, q):
                add(self._ini_idx[pos], "initials", self._RANK["initials"])
        if len(found) < limit:
            sets = [self._chars.get(ch, set()) for ch in set(q)]
            cands = set.intersection(*sets) if sets and all(sets) else set()
            for i in cands:
                if q in self._folded[i] or q in self._full_folded[i]:
                    add(i, "contains", self._RANK["contains"])
        if len(found) < limit and not q.isascii():
            # fuzzy: candidates share at least half of the query's characters, scored by similarity
            counts: dict[int, int] = {}
            for ch in set(q):
                for i in self._chars.get(ch, ()):
                    counts[i] = counts.get(i, 0) + 1
            need = max(1, math.ceil(len(set(q)) / 2))
            scored = []
            for i, c in counts.items():
                if c >= need and i not in found:
                    r = difflib.SequenceMatcher(None, q, self._folded[i]).ratio()
                    if r >= 0.5:
                        scored.append((r, i))
            scored.sort(key=lambda t: (-t[0], self._folded[t[1]]))
            for r, i in scored[: limit * 2]:
                add(i, "fuzzy", self._RANK["fuzzy"] * r)
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][1], len(self._folded[kv[0]]), self._folded[kv[0]], kv[0]))
        return [AddressHit(i, self.names[i], self.kinds[i], m, s) for i, (m, s) in ranked[:limit]]


def direction_name(dx: float, dy: float) -> str:
    """One of 8 compass directions (Chinese) for the vector from a landmark to the point."""
    ang = math.degrees(math.atan2(dy, dx)) % 360.0
    return DIRECTIONS[int(((ang + 22.5) % 360.0) // 45.0)]


def describe(name: str, dx: float, dy: float) -> str:
    """"解放路12号东30米": the point lies 30 m east of 解放路12号 (within 5 m: "解放路12号附近")."""
    d = math.hypot(dx, dy)
    if d < 5.0:
        return f"{name}附近"
    return f"{name}{direction_name(dx, dy)}{round(d)}米"


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    district_code: str
    district_name: str
    street_code: str
    street_name: str
    community_code: str
    community_name: str
    grid_code: str
    address: str | None  # nearest door plate / POI name
    direction: str | None
    distance_m: float | None
    description: str | None  # "解放路12号东30米"

    @property
    def text(self) -> str:
        head = f"{self.district_name} {self.street_name} {self.community_name} 网格 {self.grid_code}"
        return head if not self.description else f"{head}，{self.description}"

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        d = asdict(self)
        d["text"] = self.text
        return d


class ReverseGeocoder:
    """Point → division chain, unit grid and a relative description to the nearest address."""

    def __init__(
        self,
        grid_geoms: Sequence[Any] | np.ndarray,
        grid_codes: Sequence[str],
        names: Mapping[str, str],
        addr_names: Sequence[str],
        addr_lon: Sequence[float] | np.ndarray,
        addr_lat: Sequence[float] | np.ndarray,
        projector: Projector | None = None,
        max_distance_m: float = 500.0,
    ) -> None:
        self.grids = GridIndex(grid_geoms, list(grid_codes))
        self.names = dict(names)
        self.addr_names = list(addr_names)
        alon = np.asarray(addr_lon, dtype=float)
        alat = np.asarray(addr_lat, dtype=float)
        if projector is None:
            lon0 = float(np.mean(alon)) if len(alon) else 117.0
            projector = Projector.for_lon(lon0)
        self.projector = projector
        ax, ay = projector.forward_xy(alon, alat)
        self.near = NearestIndex(ax, ay)
        self.max_distance_m = max_distance_m

    def grid_codes(self, lons: Any, lats: Any) -> np.ndarray:
        """Grid code (or None) for each point: the vectorised lookup behind case filing."""
        return self.grids.codes_at(lons, lats)

    def reverse(self, lon: float, lat: float) -> Place:
        code = self.grids.code_at(lon, lat)
        if code is None:
            raise OutsideCity(f"坐标不在城市范围内 point lon={lon} lat={lat} is outside every unit grid")
        x, y = self.projector.forward_xy([lon], [lat])
        idx, dist = self.near.nearest(x, y, max_distance=self.max_distance_m)
        address = direction = description = None
        distance = None
        if idx[0] >= 0:
            i = int(idx[0])
            address = self.addr_names[i]
            dx = float(x[0] - self.near.xs[i])
            dy = float(y[0] - self.near.ys[i])
            distance = float(dist[0])
            direction = direction_name(dx, dy) if distance >= 5.0 else None
            description = describe(address, dx, dy)
        d, s, c = code[:6], code[:9], code[:12]
        return Place(
            float(lon), float(lat), d, self.names.get(d, d), s, self.names.get(s, s), c, self.names.get(c, c), code,
            address, direction, distance, description,
        )
