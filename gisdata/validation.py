"""The validation report of a base-data import: every problem with its feature id and a severity.

An import is only as good as the base data behind dispatch and evaluation: a grid with a wrong parent
code sends cases to the wrong street, an overlap counts a case twice, a part outside every grid has no
one responsible. So the import never writes anything before this report has been read. Errors make the
data unusable and abort the import; warnings are things a city often lives with (a sliver gap, a part
just outside the grids) and need the user's acceptance.

Areas (overlaps, gaps, parts of a grid outside its community) are measured in m² in the CGCS2000
3-degree Gauss-Krüger zone picked from the data's longitude (EPSG:4534–4554), never in degrees.

The store's existing base data comes in as a :class:`StoreContext` built by ``app.base_import``, so this
module knows nothing of SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gisdata.codes import (
    CATALOG_2026,
    CATALOG_LEGACY,
    CodeError,
    parse_community,
    parse_district,
    parse_grid,
    parse_part,
    parse_street,
)
from gisdata.importer import Feature, SourceLayer

ERROR = "error"
WARNING = "warning"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告"}

KIND_LABELS: dict[str, str] = {
    "empty_geometry": "几何为空",
    "invalid_geometry": "几何无效",
    "geometry_type": "几何类型不符",
    "out_of_range": "坐标超出范围",
    "missing_field": "缺少必填值",
    "malformed_code": "编码格式错误",
    "duplicate_code": "编码重复",
    "existing_code": "已存在将覆盖",
    "parent_mismatch": "与上级编码不符",
    "missing_parent": "上级编码不存在",
    "outside_parent": "超出上级范围",
    "overlap": "网格重叠",
    "gap": "网格缝隙",
    "part_outside_grids": "不在任何网格内",
    "grid_mismatch": "所在网格不符",
    "unknown_class": "未知分类",
    "bad_value": "取值无效",
    "unknown_department": "未知部门",
    "unknown_area": "未知区域",
}

PART_STATUS = {
    "完好": "完好", "破损": "破损", "丢失": "丢失", "废弃": "废弃", "移除": "移除",
    "intact": "完好", "damaged": "破损", "missing": "丢失", "abandoned": "废弃", "removed": "移除",
}
AREA_CLASS = {"一类区域": "一类区域", "一类": "一类区域", "1": "一类区域", "二类区域": "二类区域", "二类": "二类区域",
              "2": "二类区域"}
ROAD_CLASS = {"主要路段": "主要路段", "次干道": "次干道", "背街小巷": "背街小巷",
              "main": "主要路段", "secondary": "次干道", "back": "背街小巷"}
KEY_AREA = {"1": 1, "0": 0, "是": 1, "否": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0}
ADDRESS_KINDS = {"区域", "地片", "区片", "街巷", "门楼牌", "兴趣点", "标志物"}

# Mainland China with a margin: a point outside this box in EPSG:4490 almost always means a wrong CRS.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)

DEFAULT_TOLERANCE_M2 = 1.0

# The parent level of each layer, and how many leading digits of a code make the parent's code.
PARENT: dict[str, tuple[str, int]] = {"streets": ("district", 6), "communities": ("street", 9),
                                      "grids": ("community", 12)}
PARENT_FIELDS: dict[str, tuple[tuple[str, int], ...]] = {
    "streets": (("district_code", 6),),
    "communities": (("street_code", 9), ("district_code", 6)),
    "grids": (("community_code", 12), ("street_code", 9), ("district_code", 6)),
}
_CODE_PARSERS = {"districts": parse_district, "streets": parse_street, "communities": parse_community,
                 "grids": parse_grid}


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``feature`` is the source feature id (or CSV/XLSX line), ``code`` the code as written."""

    severity: str
    kind: str
    feature: str
    code: str
    message: str

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(slots=True)
class Report:
    """The validation report, plus what validation worked out for the writer.

    ``derived`` maps a feature id to attributes found while checking (a part's grid by location, a
    grid's area in m², parent codes taken from the code, normalized enumerations). ``skip`` holds
    feature ids that are valid but need no write (a responsibility row already in the store).
    """

    layer: str
    source: str
    feature_count: int
    crs: str = ""
    problems: list[Problem] = field(default_factory=list)
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    skip: set[str] = field(default_factory=set)
    replaced: int = 0

    def add(self, severity: str, kind: str, feature: str, code: str | None, message: str) -> None:
        self.problems.append(Problem(severity, kind, feature, code or "", message))

    def error(self, kind: str, f: Feature | str, message: str) -> None:
        self._add_for(ERROR, kind, f, message)

    def warn(self, kind: str, f: Feature | str, message: str) -> None:
        self._add_for(WARNING, kind, f, message)

    def _add_for(self, severity: str, kind: str, f: Feature | str, message: str) -> None:
        if isinstance(f, Feature):
            self.add(severity, kind, f.fid, f.raw_code or f.attrs.get("code"), message)
        else:
            self.add(severity, kind, f, None, message)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)

    def kinds(self) -> Counter[str]:
        return Counter(p.kind for p in self.problems)

    def sorted_problems(self) -> list[Problem]:
        """Errors first, then by kind and feature, so the worst is read first; "will replace" comes last
        because a re-delivery repeats it for every feature and would hide the rest."""
        def key(p: Problem) -> tuple[int, bool, str, int, str]:
            num = int(p.feature) if p.feature.isdigit() else 1 << 62
            return (0 if p.severity == ERROR else 1, p.kind == "existing_code", p.kind, num, p.feature)

        return sorted(self.problems, key=key)


@dataclass(slots=True)
class StoreContext:
    """What the store already holds that the checks compare against (all geometries in EPSG:4490).

    ``existing`` holds the keys of the target table (codes, or ``kind|full name`` for addresses, or
    ``class|area|department`` for responsibility); ``parent_codes``/``parent_geoms`` the level above;
    ``grids`` the store's unit grids near the data (for overlaps and for locating parts).
    """

    catalog_id: str = CATALOG_LEGACY
    class_codes: frozenset[str] = frozenset()  # part classes of the store's catalogue
    all_class_codes: frozenset[str] = frozenset()  # part and event classes (responsibility)
    existing: set[str] = field(default_factory=set)
    parent_codes: set[str] = field(default_factory=set)
    parent_geoms: dict[str, Any] = field(default_factory=dict)
    grids: dict[str, Any] = field(default_factory=dict)
    grid_community: dict[str, str] = field(default_factory=dict)
    communities: dict[str, Any] = field(default_factory=dict)
    districts: set[str] = field(default_factory=set)
    departments: set[str] = field(default_factory=set)
    area_codes: set[str] = field(default_factory=set)
    district_names: dict[str, str] = field(default_factory=dict)  # code → "徐州市鼓楼区"


# -- CRS helpers ---------------------------------------------------------------------------------------

def gk_epsg(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger zone (``gisdata.crs``), clamped so odd data still gets a zone."""
    from gisdata.crs import gk_zone_epsg

    return gk_zone_epsg(min(136.5, max(73.5, lon)))


def _transformer(src: int, dst: int) -> Any:
    from gisdata.crs import transformer

    return transformer(src, dst)


def to_gk(geoms: Any, epsg: int) -> Any:
    """Geometries (array-like, EPSG:4490) into the given Gauss-Krüger CRS; ``None`` stays ``None``."""
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return arr
    t = _transformer(4490, epsg)
    return shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def pick_epsg(geoms: Iterable[Any]) -> int:
    """The zone for a data set: from the middle longitude of its extent."""
    import shapely

    valid = [g for g in geoms if g is not None and not g.is_empty]
    if not valid:
        return gk_epsg(117.0)
    minx, _, maxx, _ = shapely.total_bounds(valid)
    return gk_epsg((minx + maxx) / 2)


def areas_m2(geoms: list[Any], epsg: int | None = None) -> list[float]:
    """Areas in m² measured in the Gauss-Krüger zone (``epsg`` picked from the data if not given)."""
    import shapely

    if not geoms:
        return []
    z = epsg or pick_epsg(geoms)
    return [float(a) for a in shapely.area(to_gk(geoms, z))]


def _where(geom_4490: Any) -> str:
    p = geom_4490.representative_point()
    return f"({p.x:.6f}, {p.y:.6f})"


# -- checks ----------------------------------------------------------------------------------------------

def validate(
    source: SourceLayer, ctx: StoreContext, tolerance_m2: float = DEFAULT_TOLERANCE_M2, fix_geometry: bool = False
) -> Report:
    """The full report for one source layer against the store's base data.

    With ``fix_geometry`` an invalid geometry that ``make_valid`` repairs into the right type is replaced
    in ``source`` and reported as a warning instead of an error (surveyed data often has bow-ties and
    touching rings that are one click to fix in QGIS but block a whole delivery).
    """
    layer = source.spec.name
    report = Report(layer, str(source.path), len(source.features), source.crs)
    feats = source.features
    _check_required(report, source)
    if layer == "departments":
        _check_departments(report, feats, ctx)
        return report
    if layer == "responsibility":
        _check_responsibility(report, feats, ctx)
        return report
    good = _check_geometries(report, source, fix_geometry)
    if layer in _CODE_PARSERS:
        _check_division_codes(report, feats, ctx)
        _check_inside_parent(report, feats, good, ctx, tolerance_m2)
        if layer == "grids":
            _check_grid_coverage(report, feats, good, ctx, tolerance_m2)
    elif layer == "parts":
        _check_parts(report, feats, ctx)
        _locate(report, feats, good, ctx, required=True)
    elif layer == "addresses":
        _locate(report, feats, good, ctx, required=False)
        _check_addresses(report, feats, ctx)
    return report


def _check_required(report: Report, source: SourceLayer) -> None:
    for f in source.features:
        for name in source.spec.required:
            if not f.attrs.get(name):
                report.error("missing_field", f, f"字段 {name} 为空 required field '{name}' is empty")


def _check_geometries(report: Report, source: SourceLayer, fix: bool = False) -> set[str]:
    """Empty, invalid, wrongly typed and out-of-China geometries; returns the fids fit for spatial checks."""
    import shapely

    want = source.spec.geometry
    good: set[str] = set()
    lon0, lat0, lon1, lat1 = CHINA_BOUNDS
    for f in source.features:
        g = f.geom
        if g is None or g.is_empty:
            report.error("empty_geometry", f, "几何为空 empty or missing geometry")
            continue
        gtype = g.geom_type
        if want == "polygon" and gtype not in ("Polygon", "MultiPolygon"):
            report.error("geometry_type", f, f"几何类型应为面, 实际为 {gtype} (expected Polygon/MultiPolygon)")
            continue
        if want == "point" and gtype != "Point":
            report.error("geometry_type", f, f"几何类型应为点, 实际为 {gtype} (expected Point)")
            continue
        if gtype == "GeometryCollection":
            report.error("geometry_type", f, "不支持几何集合 GeometryCollection is not supported")
            continue
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            repaired = _repair(g, want) if fix else None
            if repaired is None:
                report.error("invalid_geometry", f, f"几何无效 invalid geometry: {reason}")
                continue
            report.warn("invalid_geometry", f, f"几何无效, 已修复 invalid geometry repaired: {reason}")
            f.geom = g = repaired
        minx, miny, maxx, maxy = g.bounds
        if minx < lon0 or maxx > lon1 or miny < lat0 or maxy > lat1:
            report.error(
                "out_of_range", f,
                f"坐标不在中国范围内 ({minx:.4f}, {miny:.4f}), 坐标系可能有误 coordinates outside China: wrong CRS?",
            )
            continue
        good.add(f.fid)
    return good


def _repair(geom: Any, want: str) -> Any:
    """``make_valid`` kept only when it yields the wanted kind (the polygonal part for polygon layers)."""
    import shapely

    fixed = shapely.make_valid(geom)
    if want == "polygon":
        polys = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return None
        fixed = shapely.union_all(polys)
        if fixed.geom_type == "Polygon":
            fixed = shapely.MultiPolygon([fixed])
    if fixed.is_empty or not fixed.is_valid or fixed.geom_type == "GeometryCollection":
        return None
    return fixed


def _dupes(report: Report, feats: list[Feature], key_of: Any, what: str) -> None:
    seen: dict[str, str] = {}
    for f in feats:
        key = key_of(f)
        if key is None:
            continue
        if key in seen:
            report.error("duplicate_code", f, f"{what} '{key}' 与要素 #{seen[key]} 重复 duplicate of feature {seen[key]}")
        else:
            seen[key] = f.fid


def _existing(report: Report, feats: list[Feature], key_of: Any, ctx: StoreContext, what: str) -> None:
    for f in feats:
        key = key_of(f)
        if key is not None and key in ctx.existing:
            report.replaced += 1
            report.warn("existing_code", f, f"{what} '{key}' 已在数据库中, 导入将覆盖 exists in the store, will be replaced")


def _check_division_codes(report: Report, feats: list[Feature], ctx: StoreContext) -> None:
    """Code format, duplicates, parent fields against the code, and the parent's existence in the store."""
    layer = report.layer
    parser = _CODE_PARSERS[layer]
    ok: list[Feature] = []
    for f in feats:
        code = f.attrs.get("code")
        if not code:
            continue
        try:
            parser(code)
        except CodeError as exc:
            report.error("malformed_code", f, str(exc))
            continue
        ok.append(f)
        derived = report.derived.setdefault(f.fid, {})
        for fld, n in PARENT_FIELDS.get(layer, ()):
            given = f.attrs.get(fld)
            if given and given.replace(" ", "") != code[:n]:
                report.error(
                    "parent_mismatch", f,
                    f"{fld} '{given}' 与编码前 {n} 位 '{code[:n]}' 不符 does not match the code's parent",
                )
            derived[fld] = code[:n]
        if layer == "grids":
            for key, table, what in (("area_class", AREA_CLASS, "area_class 应为 一类区域/二类区域"),
                                     ("road_class", ROAD_CLASS, "road_class 应为 主要路段/次干道/背街小巷")):
                v = f.attrs.get(key)
                if v is None:
                    continue
                norm = table.get(v) or table.get(v.lower())
                if norm is None:
                    report.error("bad_value", f, f"{key} '{v}' 无效: {what}")
                else:
                    derived[key] = norm
            ka = f.attrs.get("key_area")
            if ka is not None:
                if ka.lower() not in KEY_AREA:
                    report.error("bad_value", f, f"key_area '{ka}' 无效: 应为 0/1/是/否")
                else:
                    derived["key_area"] = KEY_AREA[ka.lower()]
    _dupes(report, ok, lambda f: f.attrs.get("code"), "编码 code")
    _existing(report, ok, lambda f: f.attrs.get("code"), ctx, "编码 code")
    if layer in PARENT:
        level, n = PARENT[layer]
        for f in ok:
            code = f.attrs["code"] or ""
            if code[:n] not in ctx.parent_codes:
                report.error(
                    "missing_parent", f,
                    f"上级{_LEVEL_CN[level]} '{code[:n]}' 不在数据库中 parent {level} code not in the store "
                    f"(先导入 import {level} first)",
                )


_LEVEL_CN = {"district": "区", "street": "街道", "community": "社区"}


def _check_inside_parent(
    report: Report, feats: list[Feature], good: set[str], ctx: StoreContext, tol: float
) -> None:
    """A street inside its district, a community inside its street, a grid inside its community."""
    import shapely

    if report.layer not in PARENT:
        return
    level, n = PARENT[report.layer]
    pairs = [(f, ctx.parent_geoms[(f.attrs.get("code") or "")[:n]]) for f in feats
             if f.fid in good and (f.attrs.get("code") or "")[:n] in ctx.parent_geoms]
    if not pairs:
        return
    epsg = pick_epsg([f.geom for f, _ in pairs])
    child = to_gk([f.geom for f, _ in pairs], epsg)
    parent = to_gk([p for _, p in pairs], epsg)
    inside = shapely.area(shapely.intersection(child, parent))
    outside = shapely.area(child) - inside
    for (f, _), a_in, a_out in zip(pairs, inside, outside):
        code = f.attrs.get("code") or ""
        if a_in <= tol:
            report.error(
                "outside_parent", f,
                f"完全在所属{_LEVEL_CN[level]} {code[:n]} 之外 lies entirely outside its {level} {_where(f.geom)}",
            )
        elif a_out > tol:
            report.warn(
                "outside_parent", f,
                f"有 {a_out:.1f} m² 超出所属{_LEVEL_CN[level]} {code[:n]} ({a_out:.1f} m² outside its {level}, "
                f"tolerance {tol:g} m²)",
            )


def _check_grid_coverage(
    report: Report, feats: list[Feature], good: set[str], ctx: StoreContext, tol: float
) -> None:
    """Overlaps between grids (in the file and with the store's other grids) and gaps in each community."""
    import numpy as np
    import shapely

    file_grids = [f for f in feats if f.fid in good and f.attrs.get("code")]
    if not file_grids:
        return
    file_codes = {f.attrs["code"] for f in file_grids}
    store = [(c, g) for c, g in ctx.grids.items() if c not in file_codes]
    epsg = pick_epsg([f.geom for f in file_grids])
    geoms = to_gk([f.geom for f in file_grids] + [g for _, g in store], epsg)
    labels = [f"#{f.fid} {f.attrs['code']}" for f in file_grids] + [f"数据库网格 {c}" for c, _ in store]
    nfile = len(file_grids)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms[:nfile], predicate="intersects")
    keep = (left != right) & ((right >= nfile) | (left < right))
    left, right = left[keep], right[keep]
    touching = shapely.touches(geoms[left], geoms[right])  # neighbours in a clean tiling: no overlay needed
    left, right = left[~touching], right[~touching]
    if len(left):
        areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        for i, j, a in zip(left.tolist(), right.tolist(), areas.tolist()):
            if a > tol:
                f = file_grids[i]
                report.warn("overlap", f, f"与 {labels[j]} 重叠 {a:.1f} m² (overlaps by {a:.1f} m², tolerance {tol:g} m²)")
    # gaps: per community touched by the import
    by_comm: dict[str, list[Any]] = defaultdict(list)
    for k, f in enumerate(file_grids):
        by_comm[(f.attrs["code"] or "")[:12]].append(geoms[k])
    for k, (c, _) in enumerate(store):
        comm = ctx.grid_community.get(c, c[:12])
        if comm in by_comm:
            by_comm[comm].append(geoms[nfile + k])
    for comm, parts in sorted(by_comm.items()):
        union = shapely.union_all(np.asarray(parts, dtype=object))
        if comm in ctx.communities:
            boundary = to_gk([ctx.communities[comm]], epsg)[0]
            missing = shapely.difference(boundary, union)
        else:  # no community polygon: holes inside the grids' union
            holes = [shapely.Polygon(r) for poly in shapely.get_parts(union) for r in poly.interiors]
            missing = shapely.union_all(np.asarray(holes, dtype=object)) if holes else shapely.Polygon()
        pieces = [p for p in shapely.get_parts(missing) if p.area > tol]
        for p in pieces:
            back = to_gk_inverse(p, epsg)
            report.warn(
                "gap", f"社区 {comm}",
                f"网格之间有 {p.area:.1f} m² 的缝隙 {_where(back)} (gap of {p.area:.1f} m² not covered by any grid)",
            )
    # the grid's area for the writer
    for k, f in enumerate(file_grids):
        report.derived.setdefault(f.fid, {})["area_m2"] = round(float(geoms[k].area), 1)


def to_gk_inverse(geom: Any, epsg: int) -> Any:
    """A Gauss-Krüger geometry back into EPSG:4490 (to show a lon/lat position)."""
    import numpy as np
    import shapely

    t = _transformer(epsg, 4490)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _check_parts(report: Report, feats: list[Feature], ctx: StoreContext) -> None:
    expect = {CATALOG_LEGACY: 16, CATALOG_2026: 17}.get(ctx.catalog_id)
    ok: list[Feature] = []
    for f in feats:
        code = f.attrs.get("code")
        if not code:
            continue
        try:
            pc = parse_part(code)
        except CodeError as exc:
            report.error("malformed_code", f, str(exc))
            continue
        if expect is not None and len(code) != expect:
            report.error(
                "malformed_code", f,
                f"部件编码应为 {expect} 位 (数据库分类目录 {ctx.catalog_id}), 实际 {len(code)} 位 "
                f"(part code length does not match the store's catalogue)",
            )
            continue
        ok.append(f)
        derived = report.derived.setdefault(f.fid, {})
        given = f.attrs.get("class_code")
        if given and given != pc.class_code:
            report.error(
                "parent_mismatch", f,
                f"class_code '{given}' 与部件编码中的小类 '{pc.class_code}' 不符 does not match the part code",
            )
        derived["class_code"] = pc.class_code
        if pc.class_code not in ctx.class_codes:
            report.error(
                "unknown_class", f,
                f"小类 '{pc.class_code}' 不在分类目录 {ctx.catalog_id} 中 unknown part class in the store's catalogue",
            )
        if ctx.districts and pc.district not in ctx.districts:
            report.warn("missing_parent", f, f"编码中的区 '{pc.district}' 不在数据库中 district of the code not in the store")
        status = f.attrs.get("status")
        if status is not None:
            norm = PART_STATUS.get(status) or PART_STATUS.get(status.lower())
            if norm is None:
                report.error("bad_value", f, f"status '{status}' 无效: 应为 完好/破损/丢失/废弃/移除")
            else:
                derived["status"] = norm
    _dupes(report, ok, lambda f: f.attrs.get("code"), "部件编码 part code")
    _existing(report, ok, lambda f: f.attrs.get("code"), ctx, "部件编码 part code")


def address_key(kind: str | None, full_name: str | None) -> str | None:
    """An address is identified by its kind and full name (the same 街巷 name recurs across districts)."""
    return f"{kind}|{full_name}" if kind and full_name else None


def _check_addresses(report: Report, feats: list[Feature], ctx: StoreContext) -> None:
    """Kinds, and duplicates by full name; a missing full name is the district's name + the name."""
    for f in feats:
        kind = f.attrs.get("kind")
        if kind and kind not in ADDRESS_KINDS:
            report.error("bad_value", f, f"kind '{kind}' 无效: 应为 {'/'.join(sorted(ADDRESS_KINDS))}")
        name = f.attrs.get("name")
        if name and not f.attrs.get("full_name"):
            derived = report.derived.setdefault(f.fid, {})
            grid = derived.get("grid_code") or f.attrs.get("grid_code") or ""
            derived["full_name"] = ctx.district_names.get(grid[:6], "") + name

    def key(f: Feature) -> str | None:
        full = f.attrs.get("full_name") or report.derived.get(f.fid, {}).get("full_name")
        return address_key(f.attrs.get("kind"), full)

    _dupes(report, feats, key, "地址 address")
    _existing(report, feats, key, ctx, "地址 address")


def _locate(report: Report, feats: list[Feature], good: set[str], ctx: StoreContext, required: bool) -> None:
    """Find each part's (or address's) grid by location; the geometry wins over a given grid_code."""
    import numpy as np
    import shapely

    located = [f for f in feats if f.fid in good]
    if not located:
        return
    codes = sorted(ctx.grids)
    pts = np.asarray([f.geom if f.geom.geom_type == "Point" else f.geom.representative_point() for f in located],
                     dtype=object)
    found: dict[int, str] = {}
    if codes:
        tree = shapely.STRtree(np.asarray([ctx.grids[c] for c in codes], dtype=object))
        left, right = tree.query(pts, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist()):
            if i not in found or codes[j] < found[i]:
                found[i] = codes[j]
    for i, f in enumerate(located):
        given = f.attrs.get("grid_code")
        grid = found.get(i)
        if grid is None:
            if required:
                report.warn(
                    "part_outside_grids", f,
                    f"部件不在任何单元网格内 {_where(f.geom)} (part lies outside every unit grid)",
                )
            if given:
                try:
                    parse_grid(given)
                except CodeError as exc:
                    report.error("malformed_code", f, str(exc))
            continue
        report.derived.setdefault(f.fid, {})["grid_code"] = grid
        if given and given != grid:
            report.warn("grid_mismatch", f, f"grid_code '{given}' 与位置所在网格 {grid} 不符, 将使用 {grid} (location wins)")


def _check_departments(report: Report, feats: list[Feature], ctx: StoreContext) -> None:
    for f in feats:
        dc = f.attrs.get("district_code")
        if dc:
            try:
                parse_district(dc)
            except CodeError as exc:
                report.error("malformed_code", f, str(exc))
                continue
            if ctx.districts and dc not in ctx.districts:
                report.warn("missing_parent", f, f"district_code '{dc}' 不在数据库中 district not in the store")
    file_codes = {f.attrs.get("code") for f in feats}
    for f in feats:
        parent = f.attrs.get("parent_code")
        if parent and parent not in file_codes and parent not in ctx.departments:
            report.warn("missing_parent", f, f"上级部门 parent_code '{parent}' 不存在 unknown parent department")
    _dupes(report, feats, lambda f: f.attrs.get("code"), "部门编码 department code")
    _existing(report, feats, lambda f: f.attrs.get("code"), ctx, "部门编码 department code")


def responsibility_key(class_code: str | None, area_code: str | None, department: str | None) -> str:
    return f"{class_code}|{area_code}|{department}"


def _check_responsibility(report: Report, feats: list[Feature], ctx: StoreContext) -> None:
    seen: dict[str, str] = {}
    for f in feats:
        cc, area, dept = (f.attrs.get(k) for k in ("class_code", "area_code", "department"))
        if not (cc and area and dept):
            continue  # already reported as missing_field
        if cc != "*" and cc not in ctx.all_class_codes:
            report.error("unknown_class", f, f"class_code '{cc}' 不在分类目录 {ctx.catalog_id} 中 unknown class")
        if area != "*" and area not in ctx.area_codes and area not in ctx.departments:
            report.warn(
                "unknown_area", f,
                f"area_code '{area}' 不是数据库中的区/街道/社区/网格或部门 unknown area (not in the store)",
            )
        if dept not in ctx.departments:
            report.error(
                "unknown_department", f,
                f"department '{dept}' 不在数据库的部门表中 unknown department (import departments first)",
            )
        key = responsibility_key(cc, area, dept)
        if key in seen:
            report.warn("duplicate_code", f, f"与第 {seen[key]} 行重复, 将忽略 duplicate of line {seen[key]}, skipped")
            report.skip.add(f.fid)
        elif key in ctx.existing:
            report.warn("existing_code", f, "数据库中已有此责任划分, 将忽略 already in the store, skipped")
            report.skip.add(f.fid)
        seen.setdefault(key, f.fid)
