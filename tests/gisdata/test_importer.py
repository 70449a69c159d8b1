"""Reading base data files: formats, CRSs, GBK Shapefiles, field mapping, legacy grid codes, tables."""

from __future__ import annotations

import math

import openpyxl
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gisdata.importer import (
    ImportInputError,
    clean_value,
    layer_spec,
    parse_mapping,
    read_features,
    read_table,
)
from tests.gisdata.test_validation import COMM1, gk_box, gk_point, write_layer

# CGCS2000 ellipsoid, for an independent check of the Gauss-Krüger reprojection.
A = 6378137.0
F = 1 / 298.257222101
E2 = 2 * F - F * F


def meridian_arc(lat_deg: float) -> float:
    """Length of the meridian from the equator (the northing on a Gauss-Krüger central meridian)."""
    p = math.radians(lat_deg)
    e4, e6 = E2 * E2, E2 * E2 * E2
    return A * (
        (1 - E2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * p
        - (3 * E2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * math.sin(2 * p)
        + (15 * e4 / 256 + 45 * e6 / 1024) * math.sin(4 * p)
        - (35 * e6 / 3072) * math.sin(6 * p)
    )


def test_gauss_kruger_file_lands_in_4490_at_the_right_place(tmp_path):
    """EPSG:4549 is CM 120°E, false easting 500 km: check against the meridian arc, not against pyproj."""
    north = meridian_arc(31.5)
    path = write_layer(
        tmp_path / "p.gpkg", [{"code": "3202110101000001"}, {"code": "3202110101000002"}],
        [shapely.Point(500_000, north), shapely.Point(501_000, north)], crs="EPSG:4549",
    )
    src = read_features(path, "parts")
    assert src.crs == "EPSG:4549"
    p0, p1 = (f.geom for f in src.features)
    assert p0.x == pytest.approx(120.0, abs=1e-9)
    assert p0.y == pytest.approx(31.5, abs=1e-6)  # 0.1 m
    n = A / math.sqrt(1 - E2 * math.sin(math.radians(31.5)) ** 2)
    assert p1.x == pytest.approx(120.0 + math.degrees(1000 / (n * math.cos(math.radians(31.5)))), abs=1e-6)
    assert p1.y == pytest.approx(31.5, abs=1e-6)


def test_wgs84_geojson_is_read_in_4490(tmp_path):
    path = write_layer(tmp_path / "d.geojson", [{"code": "320211", "name": "滨湖区"}],
                       [shapely.box(120.3, 31.5, 120.31, 31.51)], crs="EPSG:4326")
    [f] = read_features(path, "districts").features
    assert f.geom.bounds == pytest.approx((120.3, 31.5, 120.31, 31.51), abs=1e-6)
    assert f.attrs == {"code": "320211", "name": "滨湖区"}


def test_gbk_shapefile_needs_the_encoding(tmp_path):
    path = write_layer(tmp_path / "c.shp", [{"CODE": "320211001001", "NAME": "蠡湖社区"}], [gk_box(0, 0)],
                       encoding="GBK")
    cpg = path.with_suffix(".cpg")
    cpg.unlink(missing_ok=True)  # as most delivered files: no code page declared
    raw = path.with_suffix(".dbf").read_bytes()
    assert "蠡湖社区".encode("gbk") in raw
    [f] = read_features(path, "communities", encoding="gbk").features
    assert f.attrs["name"] == "蠡湖社区"
    assert f.attrs["code"] == "320211001001"
    wrong = read_features(path, "communities").features[0].attrs["name"]
    assert wrong != "蠡湖社区"


def test_fields_match_case_insensitively_and_by_mapping(tmp_path):
    path = write_layer(tmp_path / "s.geojson", [{"CODE": "320211001", "JDMC": "蠡园街道", "QDM": "320211"}],
                       [gk_box(0, 0)])
    spec = layer_spec("streets")
    [f] = read_features(path, "streets", parse_mapping(["name=JDMC", "district_code=qdm"], spec)).features
    assert f.attrs == {"code": "320211001", "name": "蠡园街道", "district_code": "320211"}


def test_mapping_errors_name_the_field(tmp_path):
    spec = layer_spec("grids")
    with pytest.raises(ImportInputError, match="'colour'"):
        parse_mapping(["colour=X"], spec)
    with pytest.raises(ImportInputError, match="target=source"):
        parse_mapping(["code"], spec)
    path = write_layer(tmp_path / "g.geojson", [{"WGBM": f"{COMM1}001"}], [gk_box(0, 0)])
    with pytest.raises(ImportInputError, match="'BM'"):
        read_features(path, "grids", {"code": "BM"})
    with pytest.raises(ImportInputError, match=r"required field\(s\) code.*WGBM"):
        read_features(path, "grids")
    [f] = read_features(path, "grids", {"code": "WGBM"}).features
    assert f.attrs["code"] == f"{COMM1}001"


def test_14_digit_grid_codes_become_15(tmp_path):
    path = write_layer(tmp_path / "g.geojson", [{"code": "32021100100107"}, {"code": "3202110010010x"}],
                       [gk_box(0, 0), gk_box(100, 0)])
    f, bad = read_features(path, "grids").features
    assert (f.attrs["code"], f.raw_code) == ("320211001001007", "32021100100107")
    assert bad.attrs["code"] == "3202110010010x"  # left for the report to name
    parts = write_layer(tmp_path / "p.geojson", [{"code": "3202110101000001", "grid_code": "32021100100107"}],
                        [gk_point(5, 5)])
    assert read_features(parts, "parts").features[0].attrs["grid_code"] == "320211001001007"


def test_numeric_codes_are_read_as_digits(tmp_path):
    path = write_layer(tmp_path / "g.gpkg", [{"code": 320211001001007, "key_area": 1}], [gk_box(0, 0)])
    [f] = read_features(path, "grids").features
    assert f.attrs == {"code": "320211001001007", "key_area": "1"}


def test_file_without_crs_needs_one(tmp_path):
    path = write_layer(tmp_path / "d.shp", [{"code": "320211", "name": "x"}], [gk_box(0, 0)])
    path.with_suffix(".prj").unlink()
    with pytest.raises(ImportInputError, match="no CRS definition"):
        read_features(path, "districts")
    [f] = read_features(path, "districts", source_crs="EPSG:4549").features
    assert f.geom.centroid.x == pytest.approx(120.3, abs=0.01)
    with pytest.raises(ImportInputError, match="'EPSG:0'"):
        read_features(path, "districts", source_crs="EPSG:0")


def test_multi_layer_geopackage(tmp_path):
    path = tmp_path / "base.gpkg"
    write_layer(path, [{"code": "320211", "name": "x"}], [gk_box(0, 0)], layer="districts")
    write_layer(path, [{"code": "320211001", "name": "y"}], [gk_box(0, 0)], layer="jd")
    assert read_features(path, "districts").source_layer == "districts"
    with pytest.raises(ImportInputError, match="several layers"):
        read_features(path, "streets")
    assert read_features(path, "streets", source_layer="jd").features[0].attrs["code"] == "320211001"
    with pytest.raises(ImportInputError, match="'nope'"):
        read_features(path, "streets", source_layer="nope")


def test_missing_file_and_wrong_layer_kind(tmp_path):
    with pytest.raises(ImportInputError, match="does not exist"):
        read_features(tmp_path / "none.gpkg", "grids")
    with pytest.raises(ImportInputError, match="未知的图层"):
        layer_spec("rivers")
    with pytest.raises(ImportInputError, match="CSV or XLSX"):
        read_features(tmp_path / "x.csv", "departments")


def test_csv_tables_utf8_bom_and_gbk(tmp_path):
    utf = tmp_path / "d.csv"
    utf.write_text("code,name,kind\nD01,市政处,专业部门\n,,\nD02,环卫处,\n", encoding="utf-8-sig")
    rows = read_table(utf, "departments").features
    assert [(r.fid, r.attrs["name"], r.attrs["kind"]) for r in rows] == [("2", "市政处", "专业部门"), ("4", "环卫处", None)]
    gbk = tmp_path / "g.csv"
    gbk.write_bytes("编号,名称\nD01,市政处\n".encode("gbk"))
    [r] = read_table(gbk, "departments", {"code": "编号", "name": "名称"}, encoding="gbk").features
    assert r.attrs["name"] == "市政处"
    with pytest.raises(ImportInputError, match="gbk"):
        read_table(gbk, "departments", {"code": "编号", "name": "名称"})
    with pytest.raises(ImportInputError, match="'gbkk'"):
        read_table(gbk, "departments", encoding="gbkk")


def test_xlsx_table(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["class_code", "area_code", "department"])
    ws.append(["0101", 320211, "D01"])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    [r] = read_table(path, "responsibility").features
    assert (r.fid, r.attrs) == ("2", {"class_code": "0101", "area_code": "320211", "department": "D01"})


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=2**53))
def test_whole_numbers_read_as_their_digits(n):
    """A code stored as a number (int or float) reads back as exactly its digits."""
    assert clean_value(n) == str(n)
    assert clean_value(float(n)) == str(n)
    assert clean_value(f"  {n} ") == str(n)


def test_zipped_gbk_shapefile(tmp_path):
    import zipfile

    shp = write_layer(tmp_path / "jd.shp", [{"code": "320211001", "name": "蠡园街道"}], [gk_box(0, 0)], encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    archive = tmp_path / "jd.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("jd.*"):
            if part != archive:
                z.write(part, part.name)
    [f] = read_features(archive, "streets", encoding="gbk").features
    assert f.attrs["name"] == "蠡园街道"
