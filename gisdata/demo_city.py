"""The demo city: real district boundaries clipped to an urban core, cut into the base data of 数字城管.

Pure geometry and attribute generation, no store: :func:`build_city` returns a :class:`DemoCity` that
``app.demo`` writes. Everything is generated in the CGCS2000 Gauss-Krüger zone of the city (metres) and
projected back to EPSG:4490 lon/lat at the end; it is deterministic for a (city, seed, scale).

How it is made:

* the core is the union of the districts intersected with a disk around the city centre, with the radius
  chosen (by bisection) so that the core has the area the scale asks for;
* streets and communities are a seeded Voronoi split (two Lloyd relaxations) of each district's core;
* roads lie on a 100 m lattice shared by the whole city: a main road every 1 km, a secondary road
  between them, and broken back streets in the blocks between;
* unit grids are the lattice cells clipped to each community, slivers below 30 % of a full cell merged
  into the neighbour that shares the longest edge, numbered west→east then north→south;
* parts are sampled along the roads with a class mix per road class (trees and lamps on main roads,
  manholes everywhere, fewer of everything in back streets), with owner departments by class;
* addresses are the street names, door plates every 30–60 m along each side of a road and points of
  interest (schools, hospitals, supermarkets, parks, housing estates …) in every community.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gisdata.catalog import RESOURCES, load_catalog
from gisdata.codes import CATALOG_LEGACY
from gisdata.crs import Projector
from gisdata.spatial_index import GridIndex

BOUNDARIES = RESOURCES / "boundaries"
CELL = 100.0  # unit grid lattice (m): 100 m x 100 m = 10,000 m²
SLIVER = 0.3  # pieces below this share of a full cell are merged into a neighbour


class ProgressLike(Protocol):
    def report(self, fraction: float, message: str = "") -> None: ...

    def check(self) -> None: ...


class _NoProgress:
    def report(self, fraction: float, message: str = "") -> None:
        pass

    def check(self) -> None:
        pass


@dataclass(frozen=True)
class ScaleSpec:
    """How big a demo is: the core area, the number of parts and the size of streets and communities."""

    name: str
    area_km2: float
    parts: int
    street_km2: float
    community_km2: float
    beat_grids: int  # grids per inspector beat
    poi_per_community: int


SCALES: dict[str, ScaleSpec] = {
    "test": ScaleSpec("test", 3.0, 4_000, 1.5, 0.5, 80, 4),
    "demo": ScaleSpec("demo", 112.0, 210_000, 6.0, 0.8, 160, 6),
    "city": ScaleSpec("city", 280.0, 2_000_000, 6.0, 0.8, 160, 6),
}


# -- records -----------------------------------------------------------------------------------------
@dataclass
class Division:
    """A district, street or community: lon/lat ``geom`` for the store, ``metric`` for generation."""

    code: str
    name: str
    district_code: str
    parent_code: str | None
    geom: BaseGeometry
    metric: BaseGeometry


@dataclass
class GridPiece:
    """One unit grid cut from a community: its lattice cell (``col`` west→east, ``row`` south→north)."""

    col: int
    row: int
    geom: BaseGeometry
    area: float


@dataclass
class Grid:
    code: str
    community_code: str
    street_code: str
    district_code: str
    col: int
    row: int
    area_m2: float
    area_class: str
    road_class: str
    key_area: int
    inspector_id: str | None
    geom: BaseGeometry
    metric: BaseGeometry


@dataclass
class RoadLine:
    name: str
    road_class: str
    district_code: str
    geom: BaseGeometry
    metric: BaseGeometry


@dataclass
class AddressPoint:
    kind: str  # 区域/地片/区片/街巷/门楼牌/兴趣点
    name: str
    full_name: str
    street_name: str | None
    house_no: str | None
    x: float  # lon
    y: float  # lat
    grid_code: str | None
    initials: str


@dataclass
class PartSet:
    """All parts as parallel arrays (millions at city scale, so no per-part objects).

    String columns other than ``code`` share their string objects (class, owner, status, grid code).
    """

    x: np.ndarray  # lon
    y: np.ndarray  # lat
    code: np.ndarray
    class_code: np.ndarray
    name: np.ndarray
    owner_dept: np.ndarray
    status: np.ndarray
    grid_code: np.ndarray
    since: np.ndarray  # datetime64[D]
    changed: np.ndarray  # datetime64[D]

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    kind: str
    district_code: str | None = None
    parent_code: str | None = None


@dataclass(frozen=True)
class Inspector:
    id: str
    name: str
    district_code: str
    street_code: str
    grid_count: int


@dataclass
class DemoCity:
    city: str
    city_name: str
    seed: int
    scale: str
    epsg: int
    centre: tuple[float, float]  # lon/lat
    radius_m: float
    districts: list[Division]
    streets: list[Division]
    communities: list[Division]
    grids: list[Grid]
    roads: list[RoadLine]
    addresses: list[AddressPoint]
    parts: PartSet
    departments: list[DepartmentRow]
    responsibilities: list[tuple[str, str, str]]  # (class_code, area_code, department)
    inspectors: list[Inspector]
    figures: dict[str, Any] = field(default_factory=dict)


# -- boundaries ----------------------------------------------------------------------------------------
def available_cities() -> list[str]:
    return sorted(p.stem for p in BOUNDARIES.glob("*.geojson"))


@cache
def load_boundaries(city: str) -> tuple[tuple[str, str, str, BaseGeometry], ...]:
    """(adcode, district name, city name, lon/lat geometry) for each district shipped for ``city``."""
    path = BOUNDARIES / f"{city}.geojson"
    if not path.exists():
        raise ValueError(f"不支持的城市 city '{city}' (supported: {', '.join(available_cities())})")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        p = f["properties"]
        out.append((str(p["adcode"]), str(p["name"]), str(p.get("city", city)), shapely.make_valid(shape(f["geometry"]))))
    out.sort(key=lambda t: t[0])
    return tuple(out)


def _polygonal(g: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of a geometry (intersections can add lines and points)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _drop_small(g: BaseGeometry, min_area: float) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(_polygonal(g)) if p.area >= min_area]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def core_region(
    district_metric: Sequence[BaseGeometry], target_m2: float
) -> tuple[tuple[float, float], float, list[BaseGeometry]]:
    """Clip districts to a disk around the centre so that together they cover ``target_m2``.

    The centre is the mean of the district centroids (where the districts of a city's core meet).
    Returns (centre, radius, clipped district polygons); a radius of ``inf`` keeps whole districts.
    """
    union = shapely.union_all(list(district_metric))
    cents = np.array([[g.centroid.x, g.centroid.y] for g in district_metric])
    cx, cy = float(cents[:, 0].mean()), float(cents[:, 1].mean())
    # move the centre onto the nearest border between two districts, so a small core spans both
    borders = [
        a.boundary.intersection(b.buffer(10.0))
        for i, a in enumerate(district_metric) for b in district_metric[i + 1 :]
    ]
    borders = [g for g in borders if not g.is_empty]
    if borders:
        near = shapely.ops.nearest_points(shapely.union_all(borders), shapely.Point(cx, cy))[0]
        cx, cy = float(near.x), float(near.y)
    if target_m2 >= union.area * 0.995:
        r = math.inf
        clipped = list(district_metric)
    else:
        centre = shapely.Point(cx, cy)
        shapely.prepare(union)
        lo, hi = 0.0, 60_000.0
        for _ in range(40):
            mid = (lo + hi) / 2
            a = union.intersection(centre.buffer(mid, quad_segs=32)).area
            if a < target_m2:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1.0:
                break
        r = hi
        disk = centre.buffer(r, quad_segs=32)
        clipped = [g.intersection(disk) for g in district_metric]
    return (cx, cy), r, [_drop_small(g, 50_000.0) for g in clipped]


# -- Voronoi splits ------------------------------------------------------------------------------------
def _sample_inside(poly: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(16, 4 * (n - len(out)))
        xs = rng.uniform(minx, maxx, k)
        ys = rng.uniform(miny, maxy, k)
        ok = shapely.contains_xy(poly, xs, ys)
        out = np.vstack([out, np.column_stack([xs[ok], ys[ok]])])
    return out[:n]


def _reading_order(geoms: Sequence[BaseGeometry], band: float) -> list[int]:
    """Indices in reading order (north→south bands of ``band`` metres, west→east within a band)."""
    pts = [g.representative_point() for g in geoms]
    return sorted(range(len(geoms)), key=lambda i: (-math.floor(pts[i].y / band), pts[i].x))


def voronoi_split(region: BaseGeometry, n: int, rng: np.random.Generator, band: float = 1000.0) -> list[BaseGeometry]:
    """Split a polygon into ``n`` seeded Voronoi cells (two Lloyd steps), in reading order."""
    if n <= 1 or region.area == 0:
        return [region]
    seeds = _sample_inside(region, n, rng)
    cells: list[BaseGeometry] = []
    for step in range(3):
        vor = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region.envelope.buffer(1000))
        raw = list(shapely.get_parts(vor))
        cells = [_drop_small(region.intersection(c), 1.0) for c in raw]
        cells = [c for c in cells if not c.is_empty]
        if step < 2:
            seeds = np.array([[c.representative_point().x, c.representative_point().y] if c.centroid.is_empty
                              or not region.contains(c.centroid) else [c.centroid.x, c.centroid.y] for c in cells])
    # Voronoi cells clipped to a concave region can cover a tiny leftover; give it to the nearest cell.
    rest = _drop_small(region.difference(shapely.union_all(cells)), 1.0)
    if not rest.is_empty:
        for part in shapely.get_parts(rest):
            j = int(np.argmin([c.distance(part) for c in cells]))
            cells[j] = _polygonal(shapely.union_all([cells[j], part]))
    order = _reading_order(cells, band)
    return [cells[i] for i in order]


# -- unit grids ----------------------------------------------------------------------------------------
def cut_unit_grids(
    poly: BaseGeometry, origin: tuple[float, float] = (0.0, 0.0), cell: float = CELL, sliver: float = SLIVER
) -> list[GridPiece]:
    """Cut a (metric) community polygon into unit grids on a lattice; serial order W→E then N→S.

    Cells wholly inside are kept as squares; boundary cells are clipped; a clipped piece smaller than
    ``sliver`` of a full cell is merged into the 4-neighbour piece sharing the longest edge (a piece with
    no edge-sharing neighbour stays alone). The pieces tile ``poly`` exactly (up to floating point).
    """
    poly = _polygonal(poly)
    if poly.is_empty:
        return []
    ox, oy = origin
    minx, miny, maxx, maxy = poly.bounds
    c0, c1 = math.floor((minx - ox) / cell), math.ceil((maxx - ox) / cell)
    r0, r1 = math.floor((miny - oy) / cell), math.ceil((maxy - oy) / cell)
    cgrid, rgrid = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
    cols, rows = cgrid.ravel(), rgrid.ravel()
    boxes = shapely.box(ox + cols * cell, oy + rows * cell, ox + (cols + 1) * cell, oy + (rows + 1) * cell)
    shapely.prepare(poly)
    inside = shapely.contains_properly(poly, boxes)
    edge = shapely.intersects(poly, boxes) & ~inside
    pieces = boxes.copy()
    if edge.any():
        pieces[edge] = [_polygonal(g) for g in shapely.intersection(boxes[edge], poly)]
    keep = (inside | edge) & (shapely.area(pieces) > 0)
    pieces, cols, rows = pieces[keep], cols[keep], rows[keep]
    areas = shapely.area(pieces)
    n = len(pieces)
    at = {(int(c), int(r)): i for i, (c, r) in enumerate(zip(cols, rows))}
    parent = list(range(n))
    group_area = areas.astype(float).copy()

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    limit = sliver * cell * cell
    for i in np.argsort(areas, kind="stable"):
        i = int(i)
        ri = root(i)
        if group_area[ri] >= limit:
            continue
        best: tuple[bool, float, int] | None = None
        for dc, dr in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            j = at.get((int(cols[i]) + dc, int(rows[i]) + dr))
            if j is None:
                continue
            rj = root(j)
            if rj == ri:
                continue
            shared = shapely.length(shapely.intersection(pieces[i].boundary, pieces[j].boundary))
            if shared <= 1e-6:
                continue
            cand = (bool(group_area[rj] >= limit), float(shared), -rj)
            if best is None or cand > best:
                best = cand
        if best is not None:
            rj = -best[2]
            parent[ri] = rj
            group_area[rj] += group_area[ri]
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        main = max(members, key=lambda k: (areas[k], -k))
        geom = pieces[members[0]] if len(members) == 1 else _polygonal(shapely.union_all(pieces[members]))
        out.append(GridPiece(int(cols[main]), int(rows[main]), geom, float(sum(areas[k] for k in members))))
    out.sort(key=lambda p: (-p.row, p.col))
    return out


# -- roads ---------------------------------------------------------------------------------------------
ROAD_MAIN, ROAD_SECONDARY, ROAD_BACK = "主要路段", "次干道", "背街小巷"
ROAD_RANK = {ROAD_MAIN: 3, ROAD_SECONDARY: 2, ROAD_BACK: 1}

_ROAD_BASES = ["解放", "中山", "人民", "建国", "和平", "复兴", "淮海", "彭城", "民主", "青年", "光明", "文化", "工农", "朝阳", "新生", "幸福", "健康", "长安", "太平", "永安", "迎宾", "黄河", "长江", "泰山", "华山", "云龙", "汉源", "金山", "银河", "北京", "南京", "上海", "天津", "西安", "济南", "青岛", "徐海", "煤建", "矿山", "电厂", "团结", "胜利", "友谊", "东风", "红旗", "前进", "建设", "振兴", "繁荣", "富强", "文明", "和谐", "凤凰", "翠屏", "滨湖", "兴华", "正阳", "昆仑", "泰和", "三环", "二环", "万寿", "庆丰", "广场", "学院", "师大", "医学", "体育", "花园", "公园", "火车站", "汽车站", "奎河", "故黄河", "大龙湖", "玉泉", "金鹰", "华联", "中枢", "西安", "苏堤", "平江", "鼓楼", "钟楼", "马市", "牌楼", "丰财", "环城", "铜沛", "九里", "子房", "骆驼山", "黄山", "彭园", "庆云", "王陵", "湖滨", "段庄", "翟山", "火花", "永康", "开明", "兴隆", "和信", "德胜", "宣武", "崇文", "朝晖", "曙光", "春晖", "秋实", "青松", "紫荆", "海棠", "银杏", "梧桐", "桂花", "樱花", "丁香", "玉兰", "芙蓉", "牡丹", "荷花", "枫林", "竹林", "梅园", "兰亭", "菊香"]
_BACK_BASES = ["文亭", "大同", "石桥", "青年", "苏家", "王家", "李家", "刘家", "张家", "陈家", "赵家", "孙家", "周家", "吴家", "郑家", "冯家", "大井", "小井", "油坊", "酱园", "染坊", "铁匠", "木匠", "花市", "鱼市", "米市", "柴市", "盐店", "当铺", "书院", "学堂", "文庙", "武庙", "城隍", "土地", "关帝", "观音", "龙王", "玉皇", "三官", "白衣", "红砖", "青砖", "石板", "柳树", "槐树", "榆树", "桑园", "菜园", "果园", "竹园", "杏园", "桃园", "梨园", "枣园", "花园", "后营", "前营", "东营", "西营", "南营", "北营", "新华", "新民", "新安", "新建", "新兴", "新城", "老街", "老城", "旧县", "古井", "古槐", "古楼", "宝塔", "塔影", "钟楼", "鼓楼", "状元", "进士", "翰林", "秀才"]


def _road_names(rng: np.random.Generator, n_main: int, n_sec: int, n_back: int) -> tuple[list[str], list[str], list[str]]:
    bases = list(_ROAD_BASES)
    rng.shuffle(bases)
    mains = [b + "路" for b in bases]
    secs = [b + "街" for b in bases] + [b + d + "路" for d in "东西南北中" for b in bases]
    rng.shuffle(secs)
    secs = [s for s in secs if s not in set(mains[:n_main])]
    backs_base = list(_BACK_BASES)
    rng.shuffle(backs_base)
    backs = [b + s for s in ("巷", "里", "后街", "小巷") for b in backs_base]
    backs += [b + k + "巷" for k in "一二三四五六七八九" for b in backs_base]
    rng.shuffle(backs)
    extra = 1
    while len(mains) < n_main:
        mains.append(f"{bases[extra % len(bases)]}{extra}号路")
        extra += 1
    return mains[:n_main], secs[:n_sec], backs[:n_back]


@dataclass
class _LatticeRoad:
    name: str
    road_class: str
    metric: BaseGeometry  # (Multi)LineString in metres, clipped to the core


def make_roads(core: BaseGeometry, origin: tuple[float, float], rng: np.random.Generator) -> list[_LatticeRoad]:
    """Roads on the lattice lines: main every 10 cells, secondary at the half, broken back streets."""
    ox, oy = origin
    minx, miny, maxx, maxy = core.bounds
    c0, c1 = math.floor((minx - ox) / CELL), math.ceil((maxx - ox) / CELL)
    r0, r1 = math.floor((miny - oy) / CELL), math.ceil((maxy - oy) / CELL)
    specs: list[tuple[str, int, str]] = []  # (orientation, lattice index, class)
    for orient, lo, hi in (("v", c0, c1), ("h", r0, r1)):
        phase = int(rng.integers(0, 10))
        for k in range(lo, hi + 1):
            m = (k - phase) % 10
            if m == 0:
                specs.append((orient, k, ROAD_MAIN))
            elif m == 5:
                specs.append((orient, k, ROAD_SECONDARY))
            elif m in (2, 3, 7, 8) and rng.random() < 0.45:
                specs.append((orient, k, ROAD_BACK))
    n_main = sum(1 for s in specs if s[2] == ROAD_MAIN)
    n_sec = sum(1 for s in specs if s[2] == ROAD_SECONDARY)
    n_back = sum(1 for s in specs if s[2] == ROAD_BACK)
    mains, secs, backs = _road_names(rng, n_main, n_sec, n_back)
    pools = {ROAD_MAIN: iter(mains), ROAD_SECONDARY: iter(secs), ROAD_BACK: iter(backs)}
    shapely.prepare(core)
    out: list[_LatticeRoad] = []
    for orient, k, cls in specs:
        if orient == "v":
            x = ox + k * CELL
            line = shapely.LineString([(x, miny - 1), (x, maxy + 1)])
        else:
            y = oy + k * CELL
            line = shapely.LineString([(minx - 1, y), (maxx + 1, y)])
        if cls == ROAD_BACK:
            # back streets are broken: keep 500 m chunks with probability 0.6
            (ax, ay), (bx, by) = line.coords[0], line.coords[-1]
            length = line.length
            ux, uy = (bx - ax) / length, (by - ay) / length
            chunks = [
                shapely.LineString([(ax + ux * s, ay + uy * s), (ax + ux * min(s + 500.0, length), ay + uy * min(s + 500.0, length))])
                for s in np.arange(0, length, 500.0)
            ]
            kept = [c for c in chunks if rng.random() < 0.6]
            if not kept:
                continue
            line = shapely.line_merge(shapely.MultiLineString(kept))
        clipped = core.intersection(line)
        lines = [g for g in shapely.get_parts(clipped) if g.geom_type == "LineString" and g.length > 50]
        if not lines:
            continue
        out.append(_LatticeRoad(next(pools[cls]), cls, lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)))
    return out


# -- parts ---------------------------------------------------------------------------------------------
# Relative frequency of each CJ/T 214-2007 class along a main road / secondary road / back street.
PART_MIX: dict[str, tuple[float, float, float]] = {
    "0402": (30, 25, 5), "0118": (8, 7, 6), "0117": (2, 2, 1), "0101": (4, 4, 4), "0102": (5, 5, 5),
    "0103": (4, 4, 3), "0104": (6, 5, 3), "0105": (3, 2, 1), "0106": (2, 2, 1), "0107": (4, 3, 2),
    "0109": (1, 1, 1), "0110": (1, 1, 0.5), "0111": (2, 2, 1.5), "0112": (0.5, 0.3, 0.1), "0113": (1, 1, 0.8),
    "0114": (0.3, 0.3, 0.5), "0115": (1, 1, 0.5), "0116": (1, 1, 0.5), "0134": (0.3, 0.3, 0.3),
    "0135": (0.1, 0.1, 0.2), "0136": (1, 0.5, 0.3), "0121": (0.2, 0.1, 0.01), "0123": (0.2, 0.1, 0.05),
    "0126": (0.1, 0.2, 0.5), "0137": (0.1, 0.1, 0.1), "0203": (0.8, 0.5, 0.01), "0209": (3, 2, 0.5),
    "0210": (1, 0.5, 0.01), "0211": (2, 1, 0.01), "0212": (0.5, 0.5, 0.3), "0213": (1, 1, 0.8),
    "0202": (0.5, 0.3, 0.01), "0301": (0.1, 0.1, 0.15), "0303": (0.2, 0.2, 0.2), "0305": (5, 4, 3),
    "0304": (0.1, 0.1, 0.3), "0306": (1, 0.5, 0.2), "0307": (3, 2, 1), "0403": (3, 2, 0.3),
    "0404": (1, 0.5, 0.1), "0405": (1, 1, 0.3), "0407": (0.5, 0.5, 0.3), "0408": (1, 1, 0.2),
    "0406": (0.05, 0.02, 0.01), "0501": (0.2, 0.3, 0.5), "0401": (0.01, 0.01, 0.02),
}
ROAD_PART_WEIGHT = {ROAD_MAIN: 1.6, ROAD_SECONDARY: 1.2, ROAD_BACK: 0.7}

# Departments: (code, name, kind). Districts and streets get their own (区城管局, 街道办事处).
CITY_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("SZC", "市政工程管理处", "municipal"), ("LDS", "路灯管理所", "municipal"), ("YLC", "园林绿化管理处", "municipal"),
    ("HWC", "环境卫生管理处", "municipal"), ("CGZF", "城市管理综合执法支队", "enforcement"),
    ("GSGS", "供水有限公司", "utility"), ("RQGS", "港华燃气有限公司", "utility"), ("DLGS", "供电公司", "utility"),
    ("TXGS", "电信分公司", "utility"), ("RLGS", "热力有限公司", "utility"), ("GJGS", "公交集团", "utility"),
    ("YZGS", "邮政分公司", "utility"), ("JJZD", "公安局交通警察支队", "municipal"), ("GAJ", "公安局", "municipal"),
    ("XFZD", "消防救援支队", "municipal"), ("HBJ", "生态环境局", "municipal"), ("RFB", "人民防空办公室", "municipal"),
    ("FGJ", "住房和城乡建设局", "municipal"),
)
DISTRICT = "@district"  # owned by the district's city-management bureau
STREET = "@street"  # owned by the street office
CLASS_OWNER: dict[str, str] = {
    "0101": "GSGS", "0131": "GSGS", "0132": "GSGS", "0127": "GSGS",
    "0102": "SZC", "0103": "SZC", "0104": "SZC", "0205": "SZC", "0206": "SZC", "0207": "SZC", "0208": "SZC",
    "0213": "SZC", "0215": "SZC", "0216": "SZC",
    "0105": "DLGS", "0116": "DLGS", "0133": "DLGS", "0134": "DLGS",
    "0106": "LDS", "0117": "LDS", "0118": "LDS", "0119": "LDS", "0120": "LDS",
    "0107": "TXGS", "0108": "TXGS", "0109": "TXGS", "0115": "TXGS", "0122": "TXGS", "0124": "TXGS",
    "0110": "RLGS", "0111": "RQGS", "0135": "RQGS", "0129": "RQGS",
    "0112": "GAJ", "0136": "GAJ", "0138": "GAJ", "0113": "XFZD", "0123": "YZGS", "0128": "GJGS", "0203": "GJGS",
    "0201": "JJZD", "0202": "JJZD", "0204": "JJZD", "0209": "JJZD", "0210": "JJZD", "0211": "JJZD",
    "0214": "JJZD", "0217": "JJZD",
    "0301": "HWC", "0302": "HWC", "0303": "HWC", "0304": "HWC", "0305": "HWC",
    "0306": "CGZF", "0307": "CGZF", "0308": "HBJ", "0309": "HBJ", "0310": "HBJ", "0311": "HBJ",
    "0401": "YLC", "0402": "YLC", "0403": "YLC", "0404": "YLC", "0405": "YLC", "0406": "YLC", "0407": "YLC",
    "0408": "YLC", "0409": "YLC", "0410": "YLC",
    "0126": STREET, "0212": STREET, "0501": STREET, "0502": "RFB", "0503": "FGJ",
}


def district_dept(district_code: str) -> str:
    return f"CG{district_code}"


def street_dept(street_code: str) -> str:
    return f"JD{street_code}"


def owner_of(class_code: str, district_code: str, street_code: str) -> str:
    """The owner department of a part class at a place (the rule the responsibility table records)."""
    owner = CLASS_OWNER.get(class_code, DISTRICT)
    if owner == DISTRICT:
        return district_dept(district_code)
    if owner == STREET:
        return street_dept(street_code)
    return owner


STATUSES = ("完好", "破损", "丢失", "废弃", "移除")
STATUS_P = (0.94, 0.04, 0.01, 0.007, 0.003)


# -- names -----------------------------------------------------------------------------------------------
_PLACE = ["彭城", "丰财", "牌楼", "黄楼", "琵琶", "环城", "铜沛", "九里", "子房", "骆驼山", "大龙湖", "翠屏山", "黄山", "彭园", "庆云桥", "王陵", "永安", "湖滨", "七里沟", "段庄", "翟山", "奎山", "火花", "金山", "泰山", "和平", "民主", "东环", "西苑", "南湖", "北园", "汉城", "楚园", "云龙湖", "潘塘", "大庙", "新城", "汉王", "拖龙山", "苏山", "三环", "中枢", "矿山", "电厂", "煤建", "工农", "青年", "解放", "淮塔", "韩山", "卧牛", "殷庄", "坝山", "蟠桃", "绿地", "荷花", "紫金", "望湖", "金鼎", "滨河", "万科", "恒大", "碧桂园", "保利", "绿城", "中南", "世茂", "龙湖", "融创", "华润", "金地", "招商", "天安", "富春", "锦绣", "翡翠", "御景", "龙城", "凤鸣", "鹤鸣"]
_COMMUNITY_SUFFIX = ("", "新村", "花园", "东苑", "西苑", "南苑", "北苑", "家园", "小区")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅琳鹏辉斌宇浩凯健俊帆帅旭宁龙林欣晨博文雪琪婷倩"


def _unique_names(rng: np.random.Generator, n: int, suffix: str, used: set[str]) -> list[str]:
    middles = ("",) if suffix == "街道" else _COMMUNITY_SUFFIX
    cands = [p + s + suffix for s in middles for p in _PLACE]
    idx = rng.permutation(len(cands))
    out = []
    for i in idx:
        name = cands[int(i)]
        if name not in used:
            used.add(name)
            out.append(name)
            if len(out) == n:
                return out
    k = 1
    while len(out) < n:
        name = f"{_PLACE[k % len(_PLACE)]}第{k}{suffix}"
        if name not in used:
            used.add(name)
            out.append(name)
        k += 1
    return out


def person_name(rng: np.random.Generator) -> str:
    s = _SURNAMES[int(rng.integers(len(_SURNAMES)))]
    g = "".join(_GIVEN[int(i)] for i in rng.integers(len(_GIVEN), size=int(rng.integers(1, 3))))
    return s + g


@cache
def initials(text: str) -> str:
    """Pinyin initials of a name for search: 解放路12号 → jfl12h (letters and digits only, lower case)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(ch for ch in "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)) if ch.isalnum()).lower()


# POI kinds: (type, weight, name patterns using {place} {road} {street} {community} {n})
_POI_TYPES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("小区", 4.0, ("{place}花园", "{place}小区", "{place}家园", "{place}新村", "{place}华庭", "{place}名都", "{place}公寓")),
    ("学校", 1.2, ("{place}小学", "{place}中学", "{place}幼儿园", "{road}小学", "{place}实验学校")),
    ("医院", 0.5, ("{street}社区卫生服务中心", "{place}医院", "{place}中医院", "{place}口腔诊所")),
    ("超市", 1.0, ("苏果超市({road}店)", "华润万家({road}店)", "大润发({place}店)", "{place}便利店", "全家便利店({road}店)")),
    ("公园", 0.5, ("{place}公园", "{place}游园", "{road}街心花园")),
    ("银行", 0.7, ("中国银行({road}支行)", "工商银行({road}支行)", "建设银行({place}支行)", "农业银行({road}分理处)")),
    ("药店", 0.6, ("{place}大药房", "老百姓大药房({road}店)", "国大药房({road}店)")),
    ("派出所", 0.15, ("{street}派出所",)),
    ("加油站", 0.2, ("中国石化{road}加油站", "中国石油{place}加油站")),
    ("社区服务中心", 0.4, ("{community}党群服务中心",)),
    ("菜市场", 0.4, ("{place}农贸市场", "{road}菜市场")),
    ("酒店", 0.5, ("{place}大酒店", "如家酒店({road}店)", "汉庭酒店({road}店)")),
)


# -- the builder ---------------------------------------------------------------------------------------
def build_city(city: str = "xuzhou", seed: int = 1, scale: str = "demo", progress: ProgressLike | None = None) -> DemoCity:
    """Generate the whole demo city. Deterministic for (city, seed, scale)."""
    if scale not in SCALES:
        raise ValueError(f"未知的规模 scale '{scale}' (expected one of {', '.join(SCALES)})")
    spec = SCALES[scale]
    prog: ProgressLike = progress or _NoProgress()
    rng = np.random.default_rng([seed, 20261])
    bounds = load_boundaries(city)
    lon0 = float(np.mean([b[3].centroid.x for b in bounds]))
    proj = Projector.for_lon(lon0)
    city_name = bounds[0][2]
    metric = [proj.forward(b[3]) for b in bounds]
    prog.report(0.02, "裁剪城区 clipping the urban core")
    (cx, cy), radius, clipped = core_region(metric, spec.area_km2 * 1e6)
    # test scale keeps only the (one or two) districts with a real share of the small core
    keep = [i for i, g in enumerate(clipped) if g.area >= (0.15 if scale == "test" else 0.03) * spec.area_km2 * 1e6]
    if not keep:
        keep = [int(np.argmax([g.area for g in clipped]))]
    ox = math.floor(min(clipped[i].bounds[0] for i in keep) / CELL) * CELL
    oy = math.floor(min(clipped[i].bounds[1] for i in keep) / CELL) * CELL
    origin = (ox, oy)

    districts: list[Division] = []
    streets: list[Division] = []
    communities: list[Division] = []
    used_names: set[str] = set()
    for i in keep:
        adcode, dname, _, _ = bounds[i]
        region = clipped[i]
        districts.append(Division(adcode, dname, adcode, None, proj.inverse(region), region))
        n_st = max(1, round(region.area / (spec.street_km2 * 1e6)))
        st_cells = voronoi_split(region, n_st, rng)
        st_names = _unique_names(rng, len(st_cells), "街道", used_names)
        for si, (sg, sname) in enumerate(zip(st_cells, st_names), start=1):
            scode = f"{adcode}{si:03d}"
            streets.append(Division(scode, sname, adcode, adcode, proj.inverse(sg), sg))
            n_co = max(1, round(sg.area / (spec.community_km2 * 1e6)))
            co_cells = voronoi_split(sg, n_co, rng, band=500.0)
            co_names = _unique_names(rng, len(co_cells), "社区", used_names)
            for ci, (cg, cname) in enumerate(zip(co_cells, co_names), start=1):
                ccode = f"{scode}{ci:03d}"
                communities.append(Division(ccode, cname, adcode, scode, proj.inverse(cg), cg))
    prog.report(0.08, f"{len(districts)} 区 {len(streets)} 街道 {len(communities)} 社区")
    prog.check()

    core = shapely.union_all([d.metric for d in districts])
    roads_lat = make_roads(core, origin, rng)
    road_tree = shapely.STRtree([r.metric for r in roads_lat])

    # unit grids
    grids: list[Grid] = []
    for k, com in enumerate(communities):
        pieces = cut_unit_grids(com.metric, origin)
        if len(pieces) > 999:
            raise ValueError(f"社区网格过多 community '{com.code}' has {len(pieces)} grids (max 999)")
        for serial, p in enumerate(pieces, start=1):
            grids.append(Grid(f"{com.code}{serial:03d}", com.code, com.parent_code or "", com.district_code,
                              p.col, p.row, round(p.area, 1), "", "", 0, None, p.geom, p.geom))
        if k % 20 == 0:
            prog.report(0.08 + 0.22 * k / len(communities), f"切分单元网格 cutting unit grids {len(grids)}")
            prog.check()
    gmetric = np.array([g.metric for g in grids], dtype=object)
    # grid attributes: road class from the roads touching it, area class and key area from the centre
    gi, ri = road_tree.query(gmetric, predicate="intersects")
    best = np.zeros(len(grids), dtype=int)
    ranks = np.array([ROAD_RANK[r.road_class] for r in roads_lat]) if roads_lat else np.zeros(0, dtype=int)
    if len(gi):
        np.maximum.at(best, gi, ranks[ri])
    rank_name = {3: ROAD_MAIN, 2: ROAD_SECONDARY, 1: ROAD_BACK, 0: ROAD_BACK}
    cent = shapely.centroid(gmetric)
    dist = np.hypot(shapely.get_x(cent) - cx, shapely.get_y(cent) - cy)
    r_eff = radius if math.isfinite(radius) else math.sqrt(core.area / math.pi)
    for g, b, d in zip(grids, best, dist):
        g.road_class = rank_name[int(b)]
        g.key_area = int(d < 0.3 * r_eff)
        g.area_class = "一类区域" if (d < 0.6 * r_eff or b == 3) else "二类区域"
    # inspector beats: consecutive grids of one street
    inspectors: list[Inspector] = []
    by_street: dict[str, list[Grid]] = {}
    for g in grids:
        by_street.setdefault(g.street_code, []).append(g)
    for scode, sg_list in by_street.items():
        n_beats = max(1, round(len(sg_list) / spec.beat_grids))
        size = math.ceil(len(sg_list) / n_beats)
        for b in range(n_beats):
            chunk = sg_list[b * size : (b + 1) * size]
            if not chunk:
                continue
            iid = f"insp{len(inspectors) + 1:03d}"
            inspectors.append(Inspector(iid, person_name(rng), chunk[0].district_code, scode, len(chunk)))
            for g in chunk:
                g.inspector_id = iid
    geoms_ll = proj.inverse(gmetric)
    for g, gl in zip(grids, geoms_ll):
        g.geom = gl
    prog.report(0.32, f"{len(grids)} 单元网格 unit grids")
    prog.check()
    grid_index = GridIndex(gmetric, [g.code for g in grids])

    # roads per district
    roads: list[RoadLine] = []
    for r in roads_lat:
        for d in districts:
            piece = d.metric.intersection(r.metric)
            lines = [x for x in shapely.get_parts(piece) if x.geom_type == "LineString" and x.length > 1]
            if not lines:
                continue
            m = lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
            roads.append(RoadLine(r.name, r.road_class, d.code, proj.inverse(shapely.segmentize(m, CELL)), m))
    prog.report(0.36, f"{len(roads)} 道路 roads")

    district_name = {d.code: d.name for d in districts}
    street_name = {s.code: s.name for s in streets}
    community_name = {c.code: c.name for c in communities}
    addresses = _make_addresses(rng, proj, roads, communities, grid_index, city_name, district_name, street_name,
                                community_name, spec)
    prog.report(0.45, f"{len(addresses)} 地址 addresses")
    prog.check()

    parts = _make_parts(rng, proj, roads, grid_index, spec.parts, prog)
    prog.report(0.95, f"{len(parts)} 部件 parts")

    departments, responsibilities = _departments(districts, streets, city_name)
    city_area = float(sum(d.metric.area for d in districts))
    figures = {
        "districts": len(districts), "streets": len(streets), "communities": len(communities),
        "grids": len(grids), "roads": len(roads), "parts": len(parts), "addresses": len(addresses),
        "area_km2": round(city_area / 1e6, 2), "mean_grid_m2": round(city_area / max(1, len(grids)), 1),
        "radius_m": None if not math.isfinite(radius) else round(radius, 1), "epsg": proj.epsg,
    }
    clon, clat = proj.inverse_xy([cx], [cy])
    return DemoCity(
        city, city_name, seed, scale, proj.epsg, (float(clon[0]), float(clat[0])), r_eff, districts, streets,
        communities, grids, roads, addresses, parts, departments, responsibilities, inspectors, figures,
    )


def _side_points(line: BaseGeometry, step: float, offset: float, rng: np.random.Generator) -> list[tuple[float, float, int]]:
    """Door plate positions along a straight road piece: (x, y, side) with side ±1, alternating numbering."""
    out = []
    for piece in shapely.get_parts(line):
        length = piece.length
        (x0, y0), (x1, y1) = piece.coords[0], piece.coords[-1]
        if (x1 - x0) + (y0 - y1) < 0:  # number from the west end or the north end
            x0, y0, x1, y1 = x1, y1, x0, y0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        s = float(rng.uniform(10, step))
        while s < length - 5:
            for side in (1, -1):
                out.append((x0 + ux * s - uy * offset * side, y0 + uy * s + ux * offset * side, side))
            s += float(rng.uniform(0.6 * step, 1.4 * step))
    return out


def _make_addresses(
    rng: np.random.Generator, proj: Projector, roads: list[RoadLine], communities: list[Division],
    grid_index: GridIndex, city_name: str, district_name: dict[str, str], street_name: dict[str, str],
    community_name: dict[str, str], spec: ScaleSpec,
) -> list[AddressPoint]:
    rows: list[tuple[str, str, str, str | None, str | None, float, float]] = []
    # 街巷: one per road and district, at the middle of its longest piece
    for r in roads:
        longest = max(shapely.get_parts(r.metric), key=lambda g: g.length)
        mid = longest.interpolate(0.5, normalized=True)
        rows.append(("街巷", r.name, f"{city_name}{district_name[r.district_code]}{r.name}", r.name, None, mid.x, mid.y))
    # 门楼牌: both sides, odd numbers on one side and even on the other; numbering per road name
    counters: dict[str, list[int]] = {}
    for r in roads:
        c = counters.setdefault(r.name, [-1, 0])
        for x, y, side in _side_points(r.metric, 45.0, 18.0, rng):
            k = 0 if side > 0 else 1
            c[k] += 2
            no = f"{c[k]}号"
            rows.append(("门楼牌", f"{r.name}{no}", f"{city_name}{district_name[r.district_code]}{r.name}{no}",
                         r.name, no, x, y))
    # 地片 (community) and 兴趣点 (POIs)
    road_names = [r.name for r in roads] or ["中山路"]
    weights = np.array([t[1] for t in _POI_TYPES])
    weights = weights / weights.sum()
    poi_names: set[str] = set()
    for com in communities:
        p = com.metric.representative_point()
        rows.append(("地片", com.name, f"{city_name}{district_name[com.district_code]}{com.name}", None, None, p.x, p.y))
        pts = _sample_inside(com.metric, spec.poi_per_community, rng)
        kinds = rng.choice(len(_POI_TYPES), size=len(pts), p=weights)
        for (x, y), ki in zip(pts, kinds):
            _, _, patterns = _POI_TYPES[int(ki)]
            name = ""
            for _attempt in range(6):  # POI names are unique in the city
                pattern = patterns[int(rng.integers(len(patterns)))]
                place = _PLACE[int(rng.integers(len(_PLACE)))]
                road = road_names[int(rng.integers(len(road_names)))]
                name = pattern.format(place=place, road=road,
                                      street=street_name[com.parent_code or ""].removesuffix("街道"),
                                      community=com.name.removesuffix("社区"))
                if name not in poi_names:
                    break
            if name in poi_names:
                continue
            poi_names.add(name)
            rows.append(("兴趣点", name, f"{city_name}{district_name[com.district_code]}{name}", None, None, x, y))
    xs = np.array([r[5] for r in rows])
    ys = np.array([r[6] for r in rows])
    codes = grid_index.codes_at(xs, ys)
    lon, lat = proj.inverse_xy(xs, ys)
    out = []
    for row, code, lo, la in zip(rows, codes, lon, lat):
        if code is None:  # a door plate offset beyond the core's edge
            continue
        kind, name, full, sname, house, _, _ = row
        ini = initials(sname) + initials(house) if (kind == "门楼牌" and sname and house) else initials(name)
        out.append(AddressPoint(kind, name, full, sname, house, float(lo), float(la), code, ini))
    return out


def _make_parts(
    rng: np.random.Generator, proj: Projector, roads: list[RoadLine], grid_index: GridIndex, n: int,
    prog: ProgressLike,
) -> PartSet:
    cat = load_catalog(CATALOG_LEGACY)
    names = {c.class_code: c.name for c in cat.of_kind("part")}
    mix = {k: v for k, v in PART_MIX.items() if k in names}
    classes = np.array(sorted(mix), dtype=object)
    # one entry per straight road piece
    pieces: list[BaseGeometry] = []
    piece_cls: list[int] = []
    for r in roads:
        for g in shapely.get_parts(r.metric):
            pieces.append(g)
            piece_cls.append(ROAD_RANK[r.road_class])
    if not pieces or n <= 0:
        e = np.empty(0, dtype=object)
        d = np.empty(0, dtype="datetime64[D]")
        return PartSet(np.empty(0), np.empty(0), e, e, e, e, e, e, d, d)
    parr = np.array(pieces, dtype=object)
    lengths = shapely.length(parr)
    pcls = np.array(piece_cls)
    w = lengths * np.array([ROAD_PART_WEIGHT[{3: ROAD_MAIN, 2: ROAD_SECONDARY, 1: ROAD_BACK}[c]] for c in pcls])
    m = int(n * 1.04) + 100
    which = rng.choice(len(parr), size=m, p=w / w.sum())
    t = rng.uniform(0, 1, m) * lengths[which]
    pts = shapely.line_interpolate_point(parr[which], t)
    px, py = shapely.get_x(pts), shapely.get_y(pts)
    # perpendicular offset: the lattice roads are axis-aligned
    starts = shapely.get_coordinates(shapely.get_point(parr, 0))
    ends = shapely.get_coordinates(shapely.get_point(parr, -1))
    vertical = np.abs(ends[:, 0] - starts[:, 0]) < np.abs(ends[:, 1] - starts[:, 1])
    off = rng.choice([-1.0, 1.0], m) * rng.uniform(3.0, 15.0, m)
    v = vertical[which]
    px = px + np.where(v, off, 0.0)
    py = py + np.where(v, 0.0, off)
    prog.report(0.55, "部件落格 assigning parts to grids")
    prog.check()
    gidx = grid_index.locate(px, py)
    ok = np.flatnonzero(gidx >= 0)[:n]
    px, py, gidx, which = px[ok], py[ok], gidx[ok], which[ok]
    k = len(ok)
    # class per part (an index into ``classes``) from its road class mix
    cls_i = np.zeros(k, dtype=np.int64)
    rank = pcls[which]
    for col, rk in ((0, 3), (1, 2), (2, 1)):
        sel = np.flatnonzero(rank == rk)
        if len(sel):
            p = np.array([mix[c][col] for c in classes], dtype=float)
            cls_i[sel] = rng.choice(len(classes), size=len(sel), p=p / p.sum())
    prog.report(0.7, "部件编码 coding parts")
    prog.check()
    # per-grid district and street as small integer ids, so nothing below makes per-part strings
    grid_codes = np.asarray(grid_index.codes, dtype=object)
    d_names, g_dist = np.unique(np.array([c[:6] for c in grid_codes]), return_inverse=True)
    s_names, g_street = np.unique(np.array([c[:9] for c in grid_codes]), return_inverse=True)
    dist_i = g_dist[gidx]
    # serials per (district, class) in grid order then west→east
    order = np.lexsort((px, gidx, cls_i, dist_i))
    key = dist_i[order] * len(classes) + cls_i[order]
    newgrp = np.ones(k, dtype=bool)
    newgrp[1:] = key[1:] != key[:-1]
    grp_start = np.maximum.accumulate(np.where(newgrp, np.arange(k), 0))
    serial = np.empty(k, dtype=np.int64)
    serial[order] = np.arange(k) - grp_start + 1
    d_obj = np.array([str(d) for d in d_names], dtype=object)
    codes = np.array([f"{d}{c}{sn:06d}" for d, c, sn in zip(d_obj[dist_i], classes[cls_i], serial)], dtype=object)
    # owner department by (class, street): a small lookup table
    street_district = np.array([g_dist[np.flatnonzero(g_street == j)[0]] for j in range(len(s_names))])
    owner_table = np.array(
        [[owner_of(c, str(d_names[street_district[j]]), str(s_names[j])) for j in range(len(s_names))] for c in classes],
        dtype=object,
    )
    owner = owner_table[cls_i, g_street[gidx]]
    status = np.array(STATUSES, dtype=object)[rng.choice(len(STATUSES), size=k, p=STATUS_P)]
    epoch = np.datetime64("2008-01-01")
    today = np.datetime64(date.today().isoformat())
    span = int((today - epoch).astype(int))
    since_d = epoch + rng.integers(0, max(1, span - 400), k).astype("timedelta64[D]")
    left = (today - since_d).astype(int)
    changed_d = since_d + (rng.uniform(0, 1, k) * left).astype("timedelta64[D]")
    damaged = status != "完好"
    changed_d[damaged] = today - rng.integers(1, 365, int(damaged.sum())).astype("timedelta64[D]")
    changed_d = np.maximum(changed_d, since_d)
    prog.report(0.85, "部件坐标转换 projecting parts")
    lon, lat = proj.inverse_xy(px, py)
    class_names = np.array([names[c] for c in classes], dtype=object)
    return PartSet(lon, lat, codes, classes[cls_i], class_names[cls_i], owner, status, grid_codes[gidx],
                   since_d, changed_d)


def _departments(
    districts: list[Division], streets: list[Division], city_name: str
) -> tuple[list[DepartmentRow], list[tuple[str, str, str]]]:
    """Departments and the responsibility table that explains every part's owner department."""
    city_prefix = city_name.removesuffix("市")
    deps = [DepartmentRow(code, f"{city_prefix}{name}" if kind == "utility" else f"{city_name}{name}", kind)
            for code, name, kind in CITY_DEPARTMENTS]
    for d in districts:
        deps.append(DepartmentRow(district_dept(d.code), f"{d.name}城市管理局", "district", d.code))
    for s in streets:
        deps.append(DepartmentRow(street_dept(s.code), f"{s.name}办事处", "street_office", s.district_code,
                                  district_dept(s.district_code)))
    resp: list[tuple[str, str, str]] = []
    cat = load_catalog(CATALOG_LEGACY)
    for c in cat.of_kind("part"):
        owner = CLASS_OWNER.get(c.class_code, DISTRICT)
        if owner == STREET:
            resp.extend((c.class_code, s.code, street_dept(s.code)) for s in streets)
        else:
            resp.extend((c.class_code, d.code, owner_of(c.class_code, d.code, "")) for d in districts)
    return deps, resp
