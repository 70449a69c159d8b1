"""The map's data service (Qt-free): layers loaded once into compact arrays with spatial indexes.

The canvas asks for "what is in this box, at this scale" and gets numpy arrays and ring lists back;
it never queries SQL. Polygon layers keep shapely geometries in an ``STRtree`` for viewport culling and
identify; point layers (parts, cases) keep coordinate arrays and small integer style classes so that
millions of points can be culled with one vectorised mask and drawn per style class, or binned into a
density raster when zoomed out (level of detail).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree

from app.deadlines import LightThresholds
from app.timefmt import fmt, now
from db import map_queries
from db.store import connect

POLYGON_LAYERS = ("district", "street", "community", "unit_grid")
LINE_LAYERS = ("road",)

#: Part style classes by major class (CJ/T 214-2007 majors; 2026 majors map by the same numbers).
PART_MAJORS = {
    "01": "公用设施", "02": "道路交通", "03": "市容环境", "04": "园林绿化", "05": "房屋土地", "06": "其他设施",
}
PART_STATUSES = ("完好", "破损", "丢失", "废弃", "移除")

#: Case style classes: status groups shown on the map.
CASE_GROUPS = {
    "reported": "待受理", "verifying": "待受理", "accepted": "待立案", "registered": "待派遣",
    "dispatched": "处置中", "return_requested": "处置中", "suspended": "挂账", "handled": "待核查",
    "checking": "待核查", "closing": "待结案", "closed": "已结案", "void": "已作废",
}
CASE_GROUP_ORDER = ("待受理", "待立案", "待派遣", "处置中", "挂账", "待核查", "待结案", "已结案", "已作废")
LIGHTS = ("green", "yellow", "red", "severe")

LAYER_TITLES = {
    "district": "区", "street": "街道", "community": "社区", "unit_grid": "单元网格", "road": "道路",
    "part": "城市部件", "case": "案件", "heat": "案件热力", "beat": "监督员责任网格",
}


@dataclass
class PolygonLayer:
    name: str
    geoms: np.ndarray  # shapely geometries
    codes: list[str]
    labels: list[str]
    fids: list[int]
    tree: STRtree
    attrs: dict[str, list[object]] = field(default_factory=dict)
    _rings: dict[float, list[list[np.ndarray]]] = field(default_factory=dict, repr=False)

    def query(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        return self.tree.query(shapely.box(*bbox))

    def rings(self, indices: np.ndarray, tolerance: float = 0.0) -> list[list[np.ndarray]]:
        """Coordinate rings per feature, simplified at ``tolerance`` degrees (cached per tolerance step)."""
        key = round(tolerance, 9)
        cache = self._rings.get(key)
        if cache is None:
            geoms = shapely.simplify(self.geoms, tolerance, preserve_topology=True) if tolerance > 0 else self.geoms
            cache = [_rings_of(g) for g in geoms]
            if len(self._rings) > 6:
                self._rings.clear()
            self._rings[key] = cache
        return [cache[i] for i in indices]


def _rings_of(geom: shapely.Geometry) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    if geom is None or geom.is_empty:
        return out
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        polys = geom.geoms if kind == "MultiPolygon" else [geom]
        for p in polys:
            out.append(np.asarray(p.exterior.coords))
            out.extend(np.asarray(r.coords) for r in p.interiors)
    elif kind in ("LineString", "MultiLineString"):
        lines = geom.geoms if kind == "MultiLineString" else [geom]
        out.extend(np.asarray(line.coords) for line in lines)
    return out


@dataclass
class PointLayer:
    name: str
    fid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    style: np.ndarray  # int16 style class index
    sub: np.ndarray  # int8 secondary class (part status / case light)
    codes: np.ndarray  # object array of codes (part code / case number)
    style_names: tuple[str, ...]
    recent: np.ndarray | None = None  # bool: reported today (cases)

    def in_bbox(self, bbox: tuple[float, float, float, float]) -> np.ndarray:
        minx, miny, maxx, maxy = bbox
        return np.flatnonzero((self.x >= minx) & (self.x <= maxx) & (self.y >= miny) & (self.y <= maxy))

    def nearest(self, lon: float, lat: float, max_deg: float) -> int | None:
        idx = self.in_bbox((lon - max_deg, lat - max_deg, lon + max_deg, lat + max_deg))
        if len(idx) == 0:
            return None
        d = (self.x[idx] - lon) ** 2 + (self.y[idx] - lat) ** 2
        return int(idx[int(np.argmin(d))])


def density(x: np.ndarray, y: np.ndarray, bbox: tuple[float, float, float, float], w: int, h: int,
            blur: int = 0) -> np.ndarray:
    """Counts per pixel (row 0 = north) for a point set, optionally box-blurred ``blur`` pixels."""
    minx, miny, maxx, maxy = bbox
    if w <= 0 or h <= 0 or len(x) == 0:
        return np.zeros((max(h, 1), max(w, 1)), dtype=np.float32)
    hist, _, _ = np.histogram2d(y, x, bins=(h, w), range=((miny, maxy), (minx, maxx)))
    grid = hist[::-1].astype(np.float32)
    if blur > 0:
        for axis in (0, 1):
            c = np.cumsum(np.pad(grid, [(blur + 1, blur) if a == axis else (0, 0) for a in (0, 1)]), axis=axis)
            hi = np.take(c, np.arange(2 * blur + 1, c.shape[axis]), axis=axis)
            lo = np.take(c, np.arange(0, c.shape[axis] - 2 * blur - 1), axis=axis)
            grid = (hi - lo) / (2 * blur + 1)
    return grid


@cache
def _thresholds() -> LightThresholds:
    return LightThresholds.from_config()


_LIGHT_INDEX = {"green": 0, "yellow": 1, "red": 2, "severe": 3}


def traffic_light(started: str | None, deadline: str | None, at: str) -> int:
    """0 green, 1 yellow, 2 red, 3 severely late: the configured thresholds of ``app.deadlines`` applied
    to the elapsed share of a stage's time.

    For thousands of map points the share is taken in calendar time between stored instants; the case
    detail shows the exact working-time figure from ``app.deadlines``.
    """
    if not started or not deadline:
        return 0
    from app.timefmt import parse

    s, d, t = parse(started), parse(deadline), parse(at)
    total = (d - s).total_seconds()
    if total <= 0:
        return 2
    return _LIGHT_INDEX[_thresholds().light((t - s).total_seconds() / total)]


class MapData:
    """Loads and caches the map's layers from a store through its own read-only connection."""

    def __init__(self, store_path: str | Path) -> None:
        self.path = Path(store_path)
        self._lock = threading.Lock()
        self._conn = connect(self.path, readonly=True, check_same_thread=False)
        self._polygons: dict[str, PolygonLayer] = {}
        self._points: dict[str, PointLayer] = {}
        self._versions: dict[str, str] = {}
        self.closed = False
        self._names: dict[str, dict[str, str]] | None = None

    def close(self) -> None:
        with self._lock:  # never while a background load is inside a query on this connection
            self.closed = True
            self._conn.close()

    # -- extent --------------------------------------------------------------------------------------
    def extent(self) -> tuple[float, float, float, float]:
        with self._lock:
            for table in ("district", "unit_grid", "part"):
                ext = map_queries.layer_extent(self._conn, table)
                if ext:
                    return ext
        return (116.9, 34.0, 117.5, 34.5)

    # -- polygons ------------------------------------------------------------------------------------
    def polygons(self, name: str) -> PolygonLayer:
        layer = self._polygons.get(name)
        if layer is None:
            layer = self._load_polygons(name)
            self._polygons[name] = layer
        return layer

    def _load_polygons(self, name: str) -> PolygonLayer:
        if name == "beat":
            return self._load_beats()
        cols = {
            "district": ["code", "name"], "street": ["code", "name"], "community": ["code", "name"],
            "unit_grid": ["code", "code", "inspector_id", "road_class"], "road": ["name", "name", "road_class"],
        }[name]
        with self._lock:
            rows = map_queries.read_polygons(self._conn, name, cols)
        geoms = shapely.from_wkb(rows.wkb) if rows.wkb else np.array([], dtype=object)
        codes = [str(v) for v in rows.attrs[cols[0]]]
        labels = [str(v) for v in rows.attrs[cols[1]]]
        if name == "unit_grid":
            labels = [c[-3:] for c in codes]  # the serial, shown at street zoom
        extra = {c: rows.attrs[c] for c in cols[2:]}
        return PolygonLayer(name, np.asarray(geoms, dtype=object), codes, labels, rows.fid, STRtree(geoms), extra)

    def _load_beats(self) -> PolygonLayer:
        grids = self.polygons("unit_grid")
        inspectors = grids.attrs.get("inspector_id", [])
        groups: dict[str, list[int]] = {}
        for i, insp in enumerate(inspectors):
            if insp:
                groups.setdefault(str(insp), []).append(i)
        names = sorted(groups)
        geoms = [shapely.union_all(shapely.buffer(grids.geoms[groups[n]], 1e-7)) for n in names]
        arr = np.asarray(geoms, dtype=object)
        return PolygonLayer("beat", arr, names, names, list(range(len(names))), STRtree(arr))

    # -- points --------------------------------------------------------------------------------------
    def points(self, name: str) -> PointLayer:
        layer = self._points.get(name)
        if layer is None:
            layer = self._load_parts() if name == "part" else self._load_cases()
            self._points[name] = layer
        return layer

    def _load_parts(self) -> PointLayer:
        with self._lock:
            cols = map_queries.read_points(self._conn, "part", ["code", "class_code", "status"])
        majors = list(PART_MAJORS)
        major_idx = {m: i for i, m in enumerate(majors)}
        style = np.fromiter((major_idx.get(str(c)[:2], len(majors) - 1) for c in cols.attrs["class_code"]),
                            dtype=np.int16, count=len(cols.fid))
        status_idx = {s: i for i, s in enumerate(PART_STATUSES)}
        sub = np.fromiter((status_idx.get(s, 0) for s in cols.attrs["status"]), dtype=np.int8, count=len(cols.fid))
        return PointLayer("part", cols.fid, cols.x, cols.y, style, sub, cols.attrs["code"],
                          tuple(PART_MAJORS.values()))

    def _load_cases(self) -> PointLayer:
        with self._lock:
            cols = map_queries.read_points(
                self._conn, "case_state",
                ["case_no", "status", "stage_started_at", "stage_deadline", "reported_at", "suspended_at"],
            )
            self._versions["case"] = map_queries.layer_version(self._conn, "case_state")
        group_idx = {g: i for i, g in enumerate(CASE_GROUP_ORDER)}
        style = np.fromiter((group_idx[CASE_GROUPS.get(s, "处置中")] for s in cols.attrs["status"]),
                            dtype=np.int16, count=len(cols.fid))
        t = fmt(now())
        today = t[:10]
        open_mask = ~np.isin(cols.attrs["status"], ["closed", "void"])
        sub = np.zeros(len(cols.fid), dtype=np.int8)
        suspended = cols.attrs["suspended_at"]
        for i in np.flatnonzero(open_mask):
            # a suspended case's clock stopped when it was suspended (挂账): its light is frozen there, as
            # in the inbox and the case detail
            sub[i] = traffic_light(cols.attrs["stage_started_at"][i], cols.attrs["stage_deadline"][i],
                                   suspended[i] or t)
        recent = np.array([bool(r) and str(r)[:10] == today for r in cols.attrs["reported_at"]], dtype=bool)
        return PointLayer("case", cols.fid, cols.x, cols.y, style, sub, cols.attrs["case_no"], CASE_GROUP_ORDER, recent)

    # -- changes -------------------------------------------------------------------------------------
    def cases_changed(self) -> bool:
        """True (and the case layer is dropped for reload) if the store's cases changed since loading."""
        with self._lock:
            v = map_queries.layer_version(self._conn, "case_state")
        if v != self._versions.get("case"):
            self._points.pop("case", None)
            return True
        return False

    def is_loaded(self, name: str) -> bool:
        """Whether a layer's data is in memory (drawing it will not wait on the store)."""
        return name in self._points or name in self._polygons

    def load(self, name: str) -> None:
        """Load a layer's data (for a background thread: the big layers load while the map is shown)."""
        if name in ("part", "case"):
            self.points(name)
        else:
            self.polygons(name)

    def invalidate(self, layers: set[str]) -> None:
        for name in layers:
            self._points.pop(name, None)
            self._polygons.pop(name, None)

    # -- identify and selection -----------------------------------------------------------------------
    def identify(self, lon: float, lat: float, tolerance_deg: float) -> dict[str, dict[str, object]]:
        """Grid, part and case under a click: {"unit_grid": attrs, "part": attrs, "case": attrs}."""
        out: dict[str, dict[str, object]] = {}
        pt = shapely.Point(lon, lat)
        grids = self.polygons("unit_grid")
        hits = grids.tree.query(pt, predicate="intersects")
        if len(hits):
            with self._lock:
                out["unit_grid"] = map_queries.feature_attributes(self._conn, "unit_grid", grids.fids[int(hits[0])])
        for name, table in (("part", "part"), ("case", "case_state")):
            layer = self.points(name)
            i = layer.nearest(lon, lat, tolerance_deg)
            if i is not None:
                with self._lock:
                    out[name] = map_queries.feature_attributes(self._conn, table, int(layer.fid[i]))
        return out

    def describe(self, result: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        """Identify attributes for people: names next to codes (class, department, divisions, inspector),
        statuses and sources in Chinese."""
        from app.workflow.transitions import SOURCE_LABELS, STATE_LABELS

        if self._names is None:
            with self._lock:
                self._names = map_queries.reference_names(self._conn)
        names = self._names
        out: dict[str, dict[str, object]] = {}
        for section, attrs in result.items():
            a = dict(attrs)
            kind = "part" if section == "part" else str(a.get("kind") or "event")
            if a.get("class_code"):
                a["class_code"] = f"{a['class_code']} {names.get(kind, {}).get(str(a['class_code']), '')}".strip()
            for key in ("owner_dept", "custodian_dept", "maintainer_dept", "department"):
                if a.get(key):
                    a[key] = names["department"].get(str(a[key]), a[key])
            for key in ("district_code", "street_code", "community_code"):
                if a.get(key):
                    a[key] = f"{names['division'].get(str(a[key]), '')}（{a[key]}）"
            if a.get("inspector_id"):
                a["inspector_id"] = f"{names.get('user', {}).get(str(a['inspector_id']), '')}（{a['inspector_id']}）"
            if section == "case":
                a["status"] = STATE_LABELS.get(str(a.get("status")), a.get("status"))
                a["source"] = SOURCE_LABELS.get(str(a.get("source")), a.get("source"))
                a["kind"] = {"event": "事件", "part": "部件"}.get(str(a.get("kind")), a.get("kind"))
            out[section] = a
        return out

    def select_rect(self, layer_name: str, bbox: tuple[float, float, float, float]) -> list[str]:
        if layer_name in ("part", "case"):
            layer = self.points(layer_name)
            return [str(c) for c in layer.codes[layer.in_bbox(bbox)]]
        poly = self.polygons(layer_name)
        idx = poly.tree.query(shapely.box(*bbox), predicate="intersects")
        return [poly.codes[int(i)] for i in idx]

    def locate(self, layer_name: str, code: str) -> tuple[float, float, float, float] | None:
        """The bounding box of a feature by code (grid/district/... or part code/case number)."""
        if layer_name in ("part", "case"):
            layer = self.points(layer_name)
            hit = np.flatnonzero(layer.codes == code)
            if len(hit) == 0:
                return None
            x, y = float(layer.x[hit[0]]), float(layer.y[hit[0]])
            return x, y, x, y
        poly = self.polygons(layer_name)
        try:
            i = poly.codes.index(code)
        except ValueError:
            return None
        return tuple(poly.geoms[i].bounds)  # type: ignore[return-value]
