"""The validation report: one test per problem type on small crafted files, plus tiling invariants.

The crafted geography sits near 120.30°E 31.50°N and is drawn in metres in EPSG:4549 (CGCS2000
Gauss-Krüger CM 120°E): district 320211 and street 320211001 cover a 400 m square, communities
320211001001 (west half) and 320211001002 (east half), unit grids of 100 m × 100 m = 10,000 m².
The builders at the top are shared with ``tests/app/test_base_import.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gisdata.importer import Feature, SourceLayer, layer_spec, read_features, read_table
from gisdata.validation import ERROR, WARNING, StoreContext, validate

# -- builders (shared) --------------------------------------------------------------------------------------
GK = "EPSG:4549"
ORIGIN = (120.30, 31.50)
_FWD = Transformer.from_crs(4490, 4549, always_xy=True)
_INV = Transformer.from_crs(4549, 4490, always_xy=True)
X0, Y0 = _FWD.transform(*ORIGIN)

DISTRICT, STREET = "320211", "320211001"
COMM1, COMM2 = "320211001001", "320211001002"


def gk_box(x: float, y: float, w: float = 100, h: float = 100) -> shapely.Polygon:
    """A rectangle in EPSG:4549 metres, relative to the origin's south-west corner."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def gk_point(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def to4490(geom: Any) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(_INV.transform(xy[:, 0], xy[:, 1])))


def write_layer(path: Path, records: list[dict[str, Any]], geoms: list[Any], crs: str = GK, **kw: Any) -> Path:
    """A tiny GeoJSON/GPKG/Shapefile by suffix (pyogrio)."""
    import geopandas as gpd

    gpd.GeoDataFrame(records, geometry=geoms, crs=crs).to_file(path, engine="pyogrio", **kw)
    return path


def grid_layout() -> list[tuple[str, shapely.Polygon]]:
    """Eight grids of community 1 (2 columns × 4 rows), serials west→east then north→south."""
    out = []
    serial = 1
    for row in range(4):
        for col in range(2):
            out.append((f"{COMM1}{serial:03d}", gk_box(col * 100, 300 - row * 100)))
            serial += 1
    return out


def base_context(**kw: Any) -> StoreContext:
    """What a store holding the district, the street and both communities offers the checks."""
    ctx = StoreContext(
        class_codes=frozenset({"0101", "0102", "0201"}),
        all_class_codes=frozenset({"0101", "0102", "0201", "0301"}),
        districts={DISTRICT},
        departments={"D01"},
        area_codes={DISTRICT, STREET, COMM1, COMM2},
    )
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def grid_context(**kw: Any) -> StoreContext:
    comms = {COMM1: to4490(gk_box(0, 0, 200, 400)), COMM2: to4490(gk_box(200, 0, 200, 400))}
    return base_context(**{"parent_codes": {COMM1, COMM2}, "parent_geoms": comms, "communities": comms, **kw})


def stored_grids() -> dict[str, Any]:
    return {code: to4490(g) for code, g in grid_layout()}


def check(tmp_path: Path, layer: str, records: list[dict[str, Any]], geoms: list[Any], ctx: StoreContext,
          name: str = "f.geojson", crs: str = GK, tolerance_m2: float = 1.0, encoding: str | None = None):
    extra = {"encoding": encoding} if encoding else {}
    src = read_features(write_layer(tmp_path / name, records, geoms, crs=crs, **extra), layer, encoding=encoding)
    return validate(src, ctx, tolerance_m2)


def kinds(report: Any, severity: str | None = None) -> set[tuple[str, str]]:
    return {(p.kind, p.feature) for p in report.problems if severity is None or p.severity == severity}


# -- geometry ---------------------------------------------------------------------------------------------
def test_clean_grids_have_no_problems(tmp_path):
    layout = grid_layout()
    r = check(tmp_path, "grids", [{"code": c} for c, _ in layout], [g for _, g in layout], grid_context())
    assert r.problems == []
    assert all(abs(r.derived[str(i)]["area_m2"] - 10000) < 1 for i in range(8))


def test_empty_geometry_is_an_error(tmp_path):
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "区"}, {"code": "320212", "name": "区2"}],
              [gk_box(0, 0), None], base_context())
    assert kinds(r, ERROR) == {("empty_geometry", "1")}


def test_invalid_geometry_is_an_error_with_reason(tmp_path):
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "区"}, {"code": "320212", "name": "区2"}],
              [gk_box(0, 0), bowtie], base_context(), name="f.gpkg")
    [p] = r.errors
    assert (p.kind, p.feature) == ("invalid_geometry", "2")  # GeoPackage fids start at 1
    assert "Self-intersection" in p.message


def test_invalid_polygon_repaired_on_request_is_a_warning(tmp_path):
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    src = read_features(write_layer(tmp_path / "f.geojson", [{"code": DISTRICT, "name": "区"}], [bowtie]),
                        "districts")
    r = validate(src, base_context(), fix_geometry=True)
    assert [(p.severity, p.kind) for p in r.problems] == [(WARNING, "invalid_geometry")]
    fixed = src.features[0].geom
    assert fixed.is_valid
    assert fixed.geom_type == "MultiPolygon"
    assert len(fixed.geoms) == 2


def test_wrong_geometry_type_is_an_error(tmp_path):
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "区"}], [gk_point(5, 5)], base_context())
    assert kinds(r, ERROR) == {("geometry_type", "0")}


def test_coordinates_outside_china_are_an_error(tmp_path):
    # metres written as if they were degrees: the classic wrong-CRS mistake
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "区"}], [shapely.box(0, 0, 1, 1)], base_context(),
              crs="EPSG:4490")
    assert kinds(r, ERROR) == {("out_of_range", "0")}


# -- codes ------------------------------------------------------------------------------------------------
def test_malformed_code_names_the_position(tmp_path):
    r = check(tmp_path, "districts", [{"code": "3202x1", "name": "区"}, {"code": DISTRICT, "name": "区"}],
              [gk_box(0, 0), gk_box(100, 0)], base_context())
    [p] = r.errors
    assert (p.kind, p.feature, p.code) == ("malformed_code", "0", "3202x1")
    assert "第 5 位" in p.message


def test_duplicate_code_is_an_error(tmp_path):
    """In a GBK Shapefile, as most cities deliver them."""
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "滨湖区"}, {"code": DISTRICT, "name": "蠡湖区"}],
              [gk_box(0, 0), gk_box(100, 0)], base_context(), name="qh.shp", encoding="GBK")
    assert kinds(r, ERROR) == {("duplicate_code", "1")}
    assert "feature 0" in r.errors[0].message


def test_code_already_in_store_is_a_warning(tmp_path):
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": "a"}], [gk_box(0, 0)],
              base_context(existing={DISTRICT}))
    assert kinds(r, WARNING) == {("existing_code", "0")}
    assert not r.has_errors
    assert r.replaced == 1


def test_missing_required_value_is_an_error(tmp_path):
    r = check(tmp_path, "districts", [{"code": DISTRICT, "name": None}], [gk_box(0, 0)], base_context())
    assert ("missing_field", "0") in kinds(r, ERROR)


def test_grid_not_matching_its_parent_code(tmp_path):
    layout = grid_layout()[:2]
    recs = [{"code": layout[0][0], "community_code": COMM1}, {"code": layout[1][0], "community_code": COMM2}]
    r = check(tmp_path, "grids", recs, [g for _, g in layout], grid_context())
    assert ("parent_mismatch", "1") in kinds(r, ERROR)
    assert ("parent_mismatch", "0") not in kinds(r)


def test_missing_parent_code_is_an_error(tmp_path):
    code = "320211001009001"  # community 009 does not exist
    r = check(tmp_path, "grids", [{"code": code}], [gk_box(0, 0)], grid_context())
    assert kinds(r, ERROR) == {("missing_parent", "0")}


def test_part_of_unknown_district_is_a_warning(tmp_path):
    r = check(tmp_path, "parts", [{"code": "3202120101000001"}], [gk_point(50, 50)],
              base_context(grids=stored_grids()))
    assert kinds(r) == {("missing_parent", "0")}
    assert r.problems[0].severity == WARNING


def test_grid_partly_outside_its_community_is_a_warning(tmp_path):
    r = check(tmp_path, "grids", [{"code": f"{COMM1}001"}], [gk_box(150, 0)], grid_context())
    [p] = [p for p in r.problems if p.kind == "outside_parent"]
    assert p.severity == WARNING
    assert "5000.0 m²" in p.message


def test_grid_entirely_outside_its_community_is_an_error(tmp_path):
    r = check(tmp_path, "grids", [{"code": f"{COMM1}001"}], [gk_box(250, 0)], grid_context())
    assert ("outside_parent", "0") in kinds(r, ERROR)


def test_community_outside_its_street(tmp_path):
    ctx = base_context(parent_codes={STREET}, parent_geoms={STREET: to4490(gk_box(0, 0, 400, 400))})
    r = check(tmp_path, "communities", [{"code": COMM1, "name": "一"}, {"code": COMM2, "name": "二"}],
              [gk_box(0, 0, 200, 400), gk_box(300, 0, 200, 400)], ctx)
    [p] = r.problems
    assert (p.severity, p.kind, p.feature) == (WARNING, "outside_parent", "1")
    assert "40000.0 m²" in p.message  # 100 m × 400 m beyond the street


# -- grid coverage ------------------------------------------------------------------------------------------
def test_overlap_above_tolerance_is_a_warning_with_area(tmp_path):
    layout = grid_layout()
    geoms = [g for _, g in layout]
    geoms[1] = gk_box(95, 300, 105, 100)  # reaches 5 m into grid 001: 500 m² overlap
    r = check(tmp_path, "grids", [{"code": c} for c, _ in layout], geoms, grid_context())
    overlaps = [p for p in r.problems if p.kind == "overlap"]
    assert len(overlaps) == 1
    assert overlaps[0].severity == WARNING
    assert "500.0 m²" in overlaps[0].message


def test_overlap_below_tolerance_is_not_reported(tmp_path):
    layout = grid_layout()
    geoms = [g for _, g in layout]
    geoms[1] = gk_box(99.995, 300, 100.005, 100)  # 0.5 m² overlap
    r = check(tmp_path, "grids", [{"code": c} for c, _ in layout], geoms, grid_context())
    assert "overlap" not in {p.kind for p in r.problems}


def test_overlap_with_a_grid_already_in_the_store(tmp_path):
    stored = {f"{COMM2}001": to4490(gk_box(200, 300))}
    r = check(tmp_path, "grids", [{"code": f"{COMM1}002"}], [gk_box(150, 300)], grid_context(grids=stored))
    [p] = [p for p in r.problems if p.kind == "overlap"]
    assert f"{COMM2}001" in p.message
    assert "5000.0 m²" in p.message


def test_gap_in_a_community_is_a_warning_with_area(tmp_path):
    layout = grid_layout()
    del layout[3]  # serial 004 missing
    r = check(tmp_path, "grids", [{"code": c} for c, _ in layout], [g for _, g in layout], grid_context())
    gaps = [p for p in r.problems if p.kind == "gap"]
    assert [(p.severity, p.feature) for p in gaps] == [(WARNING, f"社区 {COMM1}")]
    assert "10000.0 m²" in gaps[0].message


def test_gap_without_community_polygon_is_a_hole(tmp_path):
    """A community not in the store: a hole inside its grids is still a gap."""
    cells = [(f"{COMM1}{i + 1:03d}", gk_box(c * 100, r * 100)) for i, (r, c) in
             enumerate([(r, c) for r in range(3) for c in range(3) if (r, c) != (1, 1)])]
    ctx = grid_context(communities={}, parent_geoms={})
    r = check(tmp_path, "grids", [{"code": c} for c, _ in cells], [g for _, g in cells], ctx)
    assert [p.kind for p in r.problems] == ["gap"]


# -- parts, addresses ----------------------------------------------------------------------------------------
def test_part_outside_every_grid_is_a_warning(tmp_path):
    r = check(tmp_path, "parts", [{"code": "3202110101000001"}, {"code": "3202110101000002"}],
              [gk_point(50, 50), gk_point(350, 50)], base_context(grids=stored_grids()))
    assert kinds(r) == {("part_outside_grids", "1")}
    assert r.derived["0"]["grid_code"] == f"{COMM1}007"


def test_part_grid_code_contradicting_its_location(tmp_path):
    r = check(tmp_path, "parts", [{"code": "3202110101000001", "grid_code": f"{COMM1}001"}],
              [gk_point(50, 50)], base_context(grids=stored_grids()))
    assert kinds(r, WARNING) == {("grid_mismatch", "0")}
    assert r.derived["0"]["grid_code"] == f"{COMM1}007"


def test_unknown_class_is_an_error(tmp_path):
    r = check(tmp_path, "parts", [{"code": "3202110101000001"}, {"code": "3202110999000001"}],
              [gk_point(50, 50), gk_point(60, 50)], base_context(grids=stored_grids()))
    assert kinds(r, ERROR) == {("unknown_class", "1")}


def test_part_code_length_must_match_the_catalogue(tmp_path):
    r = check(tmp_path, "parts", [{"code": "32021101001000001"}], [gk_point(50, 50)],
              base_context(grids=stored_grids()))
    assert kinds(r, ERROR) == {("malformed_code", "0")}


def test_bad_status_and_class_mismatch(tmp_path):
    recs = [{"code": "3202110101000001", "status": "坏了", "class_code": "0101"},
            {"code": "3202110101000002", "status": "damaged", "class_code": "0102"}]
    r = check(tmp_path, "parts", recs, [gk_point(50, 50), gk_point(60, 50)], base_context(grids=stored_grids()))
    assert kinds(r, ERROR) == {("bad_value", "0"), ("parent_mismatch", "1")}
    assert r.derived["1"]["status"] == "破损"


def test_bad_grid_enumerations(tmp_path):
    layout = grid_layout()
    recs = [{"code": c, "area_class": "一类", "road_class": "主要路段", "key_area": "是"} for c, _ in layout]
    recs[2]["road_class"] = "高速"
    r = check(tmp_path, "grids", recs, [g for _, g in layout], grid_context())
    assert kinds(r) == {("bad_value", "2")}
    assert r.derived["0"]["area_class"] == "一类区域"
    assert r.derived["0"]["key_area"] == 1


def test_address_kind_and_duplicates(tmp_path):
    recs = [{"kind": "门楼牌", "name": "湖滨路1号"}, {"kind": "门楼牌", "name": "湖滨路1号"},
            {"kind": "小区", "name": "某小区"}]
    r = check(tmp_path, "addresses", recs, [gk_point(10, 10), gk_point(20, 10), gk_point(30, 10)],
              base_context(grids=stored_grids()))
    assert kinds(r, ERROR) == {("duplicate_code", "1"), ("bad_value", "2")}
    assert r.derived["0"]["grid_code"] == f"{COMM1}007"


# -- departments and responsibility ---------------------------------------------------------------------------
def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_department_duplicates_and_existing(tmp_path):
    p = _csv(tmp_path / "d.csv", "code,name,kind\nD01,市政处,专业部门\nD02,环卫处,专业部门\nD02,重复,专业部门\n")
    r = validate(read_table(p, "departments"), base_context(existing={"D01"}))
    assert kinds(r) == {("existing_code", "2"), ("duplicate_code", "4")}


def test_responsibility_unknown_department_class_and_area(tmp_path):
    p = _csv(tmp_path / "r.csv",
             "class_code,area_code,department\n0101,320211,D01\n0101,320211,D99\n9999,320211,D01\n"
             "0102,999999,D01\n0101,320211,D01\n")
    r = validate(read_table(p, "responsibility"), base_context())
    assert kinds(r) == {("unknown_department", "3"), ("unknown_class", "4"), ("unknown_area", "5"),
                        ("duplicate_code", "6")}
    assert {p.severity for p in r.problems if p.kind in ("unknown_department", "unknown_class")} == {ERROR}
    assert r.skip == {"6"}


# -- invariants -------------------------------------------------------------------------------------------------
def _tiling(cuts_x: list[float], cuts_y: list[float]) -> list[shapely.Polygon]:
    xs = [0.0, *sorted(cuts_x), 200.0]
    ys = [0.0, *sorted(cuts_y), 400.0]
    return [gk_box(xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j])
            for j in range(len(ys) - 1) for i in range(len(xs) - 1)]


def _source(geoms: list[Any]) -> SourceLayer:
    feats = [Feature(str(i), {"code": f"{COMM1}{i + 1:03d}"}, to4490(g), f"{COMM1}{i + 1:03d}")
             for i, g in enumerate(geoms)]
    return SourceLayer(layer_spec("grids"), Path("mem"), "EPSG:4490", feats)


_cuts_x = st.lists(st.floats(20, 180), min_size=0, max_size=3, unique=True).filter(
    lambda c: all(abs(a - b) > 5 for a in c for b in c if a != b))
_cuts_y = st.lists(st.floats(20, 380), min_size=0, max_size=3, unique=True).filter(
    lambda c: all(abs(a - b) > 5 for a in c for b in c if a != b))


@settings(max_examples=20, deadline=None)
@given(_cuts_x, _cuts_y, st.data())
def test_a_tiling_is_clean_and_a_removed_tile_is_one_gap(cuts_x, cuts_y, data):
    """Any rectangular tiling of a community has no problems; dropping one tile gives one gap of its area."""
    geoms = _tiling(cuts_x, cuts_y)
    ctx = grid_context()
    r = validate(_source(geoms), ctx)
    assert r.problems == []
    assert sum(d["area_m2"] for d in r.derived.values()) == pytest.approx(80_000, abs=1)
    k = data.draw(st.integers(0, len(geoms) - 1))
    removed = geoms.pop(k)
    if not geoms:
        return
    r = validate(_source(geoms), grid_context())
    gaps = [p for p in r.problems if p.kind == "gap"]
    assert [p.kind for p in r.problems] == ["gap"]
    area = float(re.search(r"gap of ([0-9.]+) m²", gaps[0].message).group(1))
    assert area == pytest.approx(removed.area, abs=0.5)  # through EPSG:4490 and back
