"""Base-data repositories: dataclass round trips, bulk loads keep the R-tree right, writes need a transaction."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from db import base_repo as br
from db import gpkg

SQ = Polygon([(117.0, 34.0), (117.01, 34.0), (117.01, 34.01), (117.0, 34.01)])


def _rtree_count(store, table):
    return store.conn.execute(f"SELECT count(*) FROM {gpkg.rtree_name(table)}").fetchone()[0]


def test_division_and_grid_round_trip(mem_store):
    with mem_store.atomic() as conn:
        br.write_districts(conn, [br.District("320311", "泉山区", "徐州市", SQ)])
        br.write_streets(conn, [{"code": "320311001", "name": "王陵街道", "district_code": "320311", "geom": SQ}])
        br.write_communities(conn, [br.Community("320311001001", "和平社区", "320311001", "320311", SQ)])
        br.write_grids(conn, [br.UnitGrid("320311001001001", "320311001001", "320311001", "320311", 10000.0,
                                          "二类区域", "背街小巷", 1, "insp001", SQ)])
    (d,) = br.districts(mem_store.conn)
    assert (d.code, d.name, d.city) == ("320311", "泉山区", "徐州市")
    assert d.geom.geom_type == "MultiPolygon"  # promoted to the declared layer type
    assert d.geom.equals(SQ)
    (s,) = br.streets(mem_store.conn, "320311")
    assert s.name == "王陵街道"
    assert br.streets(mem_store.conn, "320302") == []
    g = br.grid(mem_store.conn, "320311001001001")
    assert g is not None
    assert (g.area_m2, g.area_class, g.road_class, g.key_area, g.inspector_id) == (10000.0, "二类区域", "背街小巷", 1, "insp001")
    assert br.grid(mem_store.conn, "320311001001002") is None
    assert _rtree_count(mem_store, "unit_grid") == 1
    minx = mem_store.conn.execute("SELECT min_x FROM gpkg_contents WHERE table_name='unit_grid'").fetchone()[0]
    assert minx == pytest.approx(117.0)


def test_parts_addresses_roads_attrs_round_trip(mem_store):
    with mem_store.atomic() as conn:
        br.write_parts(conn, [br.Part("3203110118000001", "0118", "路灯", "LDS", "LDS", "LDS", "破损",
                                      "320311001001001", "2010-01-01", "2025-05-01", geom=Point(117.005, 34.005))])
        br.write_addresses(conn, [br.Address("门楼牌", "解放路12号", "徐州市泉山区解放路12号", "解放路", "12号",
                                             "320311001001001", "jfl12h", Point(117.004, 34.004))])
        br.write_roads(conn, [br.Road("解放路", "主要路段", "320311", LineString([(117.0, 34.0), (117.01, 34.0)]))])
        br.write_departments(conn, [br.Department("LDS", "路灯管理所", "municipal")])
        br.write_responsibilities(conn, [br.Responsibility("0118", "320311", "LDS")] * 2)  # duplicates ignored
        br.write_users(conn, [br.AppUser("u1", "张三", "department", "320311", "LDS,SZC", "hash")])
    (p,) = br.parts(mem_store.conn, grid_code="320311001001001")
    assert (p.code, p.status, p.owner_dept, p.since, p.changed) == ("3203110118000001", "破损", "LDS", "2010-01-01", "2025-05-01")
    assert p.geom.equals(Point(117.005, 34.005))
    assert br.part(mem_store.conn, "3203110118000001") == p
    assert br.parts_in_bbox(mem_store.conn, 117.0, 34.0, 117.006, 34.006) == [p]
    assert br.parts_in_bbox(mem_store.conn, 118.0, 35.0, 118.1, 35.1) == []
    (a,) = br.addresses(mem_store.conn, "门楼牌")
    assert (a.name, a.initials, a.house_no) == ("解放路12号", "jfl12h", "12号")
    (r,) = br.roads(mem_store.conn)
    assert r.geom.geom_type == "MultiLineString"
    assert br.responsibilities(mem_store.conn) == [br.Responsibility("0118", "320311", "LDS")]
    u = br.user(mem_store.conn, "u1")
    assert u is not None
    assert u.department_list == ["LDS", "SZC"]
    assert u.district_list == ["320311"]
    assert [d.code for d in br.departments(mem_store.conn)] == ["LDS"]


def test_bulk_point_parts_and_arrays(mem_store):
    n = 2000  # above the bulk threshold: triggers dropped, index rebuilt once
    xs = [117.0 + i * 1e-5 for i in range(n)]
    ys = [34.0 + i * 2e-5 for i in range(n)]
    recs = [(f"320311030500{i + 1:04d}", "0305", "垃圾箱", "HWC", "HWC", "HWC", "完好", None, None, None) for i in range(n)]
    with mem_store.atomic() as conn:
        assert br.write_part_points(conn, xs, ys, recs) == n
    assert mem_store.count("part") == n
    assert _rtree_count(mem_store, "part") == n
    # the R-tree rows (filled straight from the coordinates) find each point by its own fid
    for i in (0, 777, n - 1):
        fid = mem_store.conn.execute("SELECT fid FROM part WHERE code=?", (recs[i][0],)).fetchone()[0]
        hits = [r[0] for r in mem_store.conn.execute(
            "SELECT id FROM rtree_part_geom WHERE minx<=? AND maxx>=? AND miny<=? AND maxy>=?",
            (xs[i], xs[i], ys[i], ys[i]))]
        assert fid in hits
    arr = br.part_arrays(mem_store.conn)
    assert arr.x.tolist() == xs
    assert arr.y.tolist() == ys
    assert arr.code[5] == "3203110305000006"
    # the per-row triggers are back after the bulk load
    with mem_store.atomic() as conn:
        br.write_parts(conn, [{"code": "3203110305009999", "class_code": "0305", "geom": Point(117.5, 34.5)}])
    assert _rtree_count(mem_store, "part") == n + 1


def test_decode_points_falls_back_for_other_layouts():
    blob = gpkg.encode(shapely.to_wkb(Point(1.5, 2.5)), (1.5, 2.5, 1.5, 2.5))  # with an envelope
    xs, ys = br.decode_points([blob, gpkg.encode_point(3.0, 4.0)])
    assert xs.tolist() == [1.5, 3.0]
    assert ys.tolist() == [2.5, 4.0]


def test_writes_need_a_transaction(mem_store):
    with pytest.raises(br.BaseDataError, match="atomic"):
        br.write_districts(mem_store.conn, [br.District("320311", "泉山区", None, SQ)])


def test_bad_rows_name_the_field_and_roll_back(mem_store):
    with pytest.raises(br.BaseDataError, match="'name'"), mem_store.atomic() as conn:
        br.write_districts(conn, [br.District("320311", "", None, SQ)])
    with pytest.raises(br.BaseDataError, match="duplicate"), mem_store.atomic() as conn:
        br.write_districts(conn, [br.District("320311", "泉山区", None, SQ)])
        br.write_districts(conn, [br.District("320311", "又一个", None, SQ)])
    assert mem_store.count("district") == 0
    with pytest.raises(br.BaseDataError, match="row type"), mem_store.atomic() as conn:
        br.write_districts(conn, [("320311", "泉山区")])  # type: ignore[list-item]


def test_meta_and_clear(mem_store):
    with mem_store.atomic() as conn:
        br.write_meta(conn, {"city": "xuzhou", "seed": "3"})
        br.write_districts(conn, [br.District("320311", "泉山区", None, SQ)])
    assert br.read_meta(mem_store.conn)["seed"] == "3"
    with mem_store.atomic() as conn:
        br.clear_base_data(conn)
    assert mem_store.count("district") == 0
    assert _rtree_count(mem_store, "district") == 0
