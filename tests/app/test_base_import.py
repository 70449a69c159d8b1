"""Base-data import end to end: store unchanged on errors, refusal, cancel and a killed process; acceptance."""

from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import shapely

import main
from app.base_data import create_empty_store
from app.base_import import PAUSE_ENV, PAUSE_MARKER, apply_import, import_base, plan_import
from app.progress import Cancelled, Progress
from db import gpkg
from db.store import Store
from tests.gisdata.test_validation import (
    COMM1,
    COMM2,
    DISTRICT,
    STREET,
    gk_box,
    gk_point,
    grid_layout,
    write_layer,
)

ROOT = Path(__file__).resolve().parents[2]


def yes(report):
    return True


def content_hash(store: Store) -> tuple[dict[str, int], str]:
    """Row counts of every table and one hash over the schema and every row, in rowid order."""
    conn = store.conn
    h = hashlib.sha256()
    counts: dict[str, int] = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master ORDER BY type, name").fetchall():
        h.update(f"{name}:{sql}".encode())
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    for t in tables:
        if t.startswith("rtree_") and t.rsplit("_", 1)[-1] in ("node", "parent", "rowid"):
            continue  # rtree shadow tables: covered by the virtual table's rows
        rows = conn.execute(f'SELECT * FROM "{t}"').fetchall()
        counts[t] = len(rows)
        h.update(t.encode())
        for r in sorted(rows, key=repr):
            h.update(repr(r).encode())
    return counts, h.hexdigest()


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def base_store(tmp_path):
    """An empty store plus district 320211, street 320211001 and communities 001/002, imported as files."""
    store = create_empty_store(tmp_path / "s.gpkg")
    steps = [
        ("districts", [{"code": DISTRICT, "name": "滨湖区"}], [gk_box(0, 0, 400, 400)]),
        ("streets", [{"code": STREET, "name": "蠡园街道"}], [gk_box(0, 0, 400, 400)]),
        ("communities", [{"code": COMM1, "name": "一社区"}, {"code": COMM2, "name": "二社区"}],
         [gk_box(0, 0, 200, 400), gk_box(200, 0, 200, 400)]),
    ]
    for layer, recs, geoms in steps:
        out = import_base(store, write_layer(tmp_path / f"{layer}.geojson", recs, geoms), layer, yes)
        assert out.status == "written", out.report.problems
    yield store
    store.close()


def import_grids(store, tmp_path, layout=None):
    layout = layout or grid_layout()
    path = write_layer(tmp_path / "grids.gpkg", [{"WGBM": c[:12] + c[13:]} for c, _ in layout],
                       [g for _, g in layout])  # 14-digit codes, as older systems deliver them
    return import_base(store, path, "grids", yes, mapping=["code=WGBM"])


def test_full_base_import_writes_every_level(base_store, tmp_path):
    out = import_grids(base_store, tmp_path)
    assert (out.status, out.written) == ("written", 8)
    rows = base_store.conn.execute(
        "SELECT code, community_code, street_code, district_code, area_m2, area_class FROM unit_grid ORDER BY code"
    ).fetchall()
    assert rows[0][:4] == (f"{COMM1}001", COMM1, STREET, DISTRICT)
    assert all(r[4] == pytest.approx(10_000, abs=1) and r[5] == "一类区域" for r in rows)
    path = write_layer(tmp_path / "parts.geojson",
                       [{"code": "3202110101000001", "owner_dept": "D01"}, {"code": "3202110201000001"}],
                       [gk_point(50, 50), gk_point(150, 350)])
    out = import_base(base_store, path, "parts", yes)
    assert out.status == "written"
    parts = base_store.conn.execute("SELECT code, class_code, name, grid_code, status FROM part ORDER BY code").fetchall()
    assert parts == [("3202110101000001", "0101", "上水井盖", f"{COMM1}007", "完好"),
                     ("3202110201000001", "0201", parts[1][2], f"{COMM1}002", "完好")]
    # the store stays a GeoPackage with a working R-tree
    n = base_store.conn.execute("SELECT count(*) FROM rtree_part_geom").fetchone()[0]
    assert n == 2
    path = write_layer(tmp_path / "addr.geojson", [{"kind": "门楼牌", "name": "湖滨路1号"}], [gk_point(120, 120)])
    assert import_base(base_store, path, "addresses", yes).status == "written"
    assert base_store.conn.execute("SELECT grid_code, initials, full_name FROM address").fetchone() == (
        f"{COMM1}006", "hbl1h", "滨湖区湖滨路1号")


def test_errors_abort_with_the_store_unchanged(base_store, tmp_path):
    import_grids(base_store, tmp_path)
    before = content_hash(base_store)
    path = write_layer(tmp_path / "bad.geojson",
                       [{"code": "3202110101000001"}, {"code": "3202110999000002"}],  # second: unknown class
                       [gk_point(50, 50), gk_point(60, 60)])
    asked = []
    out = import_base(base_store, path, "parts", lambda r: asked.append(r) or True)
    assert out.status == "errors"
    assert asked == []
    assert content_hash(base_store) == before
    plan = plan_import(base_store, path, "parts")
    with pytest.raises(RuntimeError, match="has errors"):
        apply_import(base_store, plan)
    assert content_hash(base_store) == before


def test_warnings_need_acceptance(base_store, tmp_path):
    layout = grid_layout()[:-1]  # a gap: one warning
    before = content_hash(base_store)
    path = write_layer(tmp_path / "g.geojson", [{"code": c} for c, _ in layout], [g for _, g in layout])
    seen = []
    out = import_base(base_store, path, "grids", lambda r: seen.append(r) or False)
    assert out.status == "refused"
    assert [p.kind for p in seen[0].problems] == ["gap"]
    assert content_hash(base_store) == before
    out = import_base(base_store, path, "grids", yes)
    assert (out.status, out.written) == ("written", 7)


def test_reimport_replaces_by_code(base_store, tmp_path):
    path = write_layer(tmp_path / "c.geojson", [{"code": COMM1, "name": "新名字"}], [gk_box(0, 0, 200, 400)])
    out = import_base(base_store, path, "communities", yes)
    assert [p.kind for p in out.report.problems] == ["existing_code"]
    rows = base_store.conn.execute("SELECT code, name FROM community ORDER BY code").fetchall()
    assert rows == [(COMM1, "新名字"), (COMM2, "二社区")]


def test_cancel_during_write_rolls_back(base_store, tmp_path):
    before = content_hash(base_store)
    layout = grid_layout()
    path = write_layer(tmp_path / "g.geojson", [{"code": c} for c, _ in layout], [g for _, g in layout])
    plan = plan_import(base_store, path, "grids")
    progress = Progress(lambda f, m: progress.cancel() if m.startswith("写入") else None)
    with pytest.raises(Cancelled):
        apply_import(base_store, plan, progress)
    assert content_hash(base_store) == before


# -- command line -------------------------------------------------------------------------------------------
def run_cli(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main.main(argv)
    return rc, capsys.readouterr().out


def test_cli_prompt_refusal_and_accept_warnings(base_store, tmp_path, monkeypatch, capsys):
    layout = grid_layout()[:-1]
    path = write_layer(tmp_path / "g.geojson", [{"code": c} for c, _ in layout], [g for _, g in layout])
    store_path = str(base_store.path)
    before = content_hash(base_store)
    argv = ["import-base", str(path), "--layer", "grids", "--store", store_path]
    rc, out = run_cli(monkeypatch, capsys, argv, "n\n")
    assert rc == 1
    assert "级别" in out
    assert "网格缝隙" in out
    assert "仍然导入? [y/N]" in out
    assert "未导入" in out
    rc, out = run_cli(monkeypatch, capsys, argv, "")  # no answer (EOF) is no
    assert rc == 1
    rc, out = run_cli(monkeypatch, capsys, [*argv, "--check"])
    assert rc == 0
    assert "nothing written" in out
    assert content_hash(base_store) == before
    rc, out = run_cli(monkeypatch, capsys, [*argv, "--accept-warnings"])
    assert rc == 0
    assert "已导入 7 条" in out
    assert base_store.count("unit_grid") == 7


def test_cli_interactive_yes_and_errors_exit_1(base_store, tmp_path, monkeypatch, capsys):
    layout = grid_layout()
    path = write_layer(tmp_path / "g.geojson", [{"code": c} for c, _ in layout], [g for _, g in layout])
    argv = ["import-base", str(path), "--layer", "grids", "--store", str(base_store.path)]
    rc, out = run_cli(monkeypatch, capsys, argv, "y\n")
    assert rc == 0
    assert "未发现问题" in out
    assert "确认导入? [y/N]" in out
    before = content_hash(base_store)
    bad = write_layer(tmp_path / "bad.geojson", [{"code": "320211001001x01"}], [gk_box(0, 0)])
    csv_path = tmp_path / "problems.csv"
    rc, out = run_cli(monkeypatch, capsys, ["import-base", str(bad), "--layer", "grids", "--store",
                                            str(base_store.path), "--accept-warnings", "--report-csv", str(csv_path)])
    assert rc == 1
    assert "编码格式错误" in out
    assert "数据库未改动" in out
    assert "malformed_code" in csv_path.read_text(encoding="utf-8-sig")
    assert content_hash(base_store) == before


def test_cli_unreadable_input_is_one_clear_line(base_store, tmp_path, monkeypatch, capsys):
    path = write_layer(tmp_path / "g.geojson", [{"BM": f"{COMM1}001"}], [gk_box(0, 0)])
    rc, out = run_cli(monkeypatch, capsys, ["import-base", str(path), "--layer", "grids", "--store",
                                            str(base_store.path), "--map", "code=XX"])
    assert rc == 1
    assert out.startswith("错误: ")
    assert "'XX'" in out
    rc, out = run_cli(monkeypatch, capsys, ["import-base", str(path), "--layer", "grids", "--store",
                                            str(tmp_path / "missing.gpkg")])
    assert rc == 1
    assert "does not exist" in out


# -- departments and responsibility ------------------------------------------------------------------------
def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def test_departments_and_responsibility_from_csv_and_xlsx(base_store, tmp_path):
    csv_path = tmp_path / "dept.csv"
    csv_path.write_text("code,name,kind\nD01,市政工程处,专业部门\nD02,环卫处,专业部门\n", encoding="utf-8-sig")
    assert import_base(base_store, csv_path, "departments", yes).written == 2
    xlsx = _xlsx(tmp_path / "dept.xlsx", [["code", "name", "kind"], ["D03", "园林处", "专业部门"], ["D01", "市政处", "专业部门"]])
    out = import_base(base_store, xlsx, "departments", yes)
    assert [p.kind for p in out.report.problems] == ["existing_code"]
    assert base_store.conn.execute("SELECT code, name FROM department ORDER BY code").fetchall() == [
        ("D01", "市政处"), ("D02", "环卫处"), ("D03", "园林处")]

    resp_csv = tmp_path / "resp.csv"
    resp_csv.write_text(f"class_code,area_code,department\n0101,{DISTRICT},D01\n0102,{STREET},D01\n", encoding="utf-8")
    assert import_base(base_store, resp_csv, "responsibility", yes).written == 2
    resp_xlsx = _xlsx(tmp_path / "resp.xlsx", [["类别", "区域", "部门"], ["0101", int(DISTRICT), "D01"],
                                               ["0201", COMM1, "D02"]])
    out = import_base(base_store, resp_xlsx, "responsibility", yes,
                      mapping=["class_code=类别", "area_code=区域", "department=部门"])
    assert [p.kind for p in out.report.problems] == ["existing_code"]  # the first row is already there
    assert out.written == 1
    rows = base_store.conn.execute("SELECT class_code, area_code, department FROM responsibility ORDER BY id").fetchall()
    assert rows == [("0101", DISTRICT, "D01"), ("0102", STREET, "D01"), ("0201", COMM1, "D02")]


def test_responsibility_naming_an_unknown_department_aborts(base_store, tmp_path):
    before = content_hash(base_store)
    p = tmp_path / "resp.csv"
    p.write_text(f"class_code,area_code,department\n0101,{DISTRICT},D77\n", encoding="utf-8")
    out = import_base(base_store, p, "responsibility", yes)
    assert out.status == "errors"
    assert out.report.errors[0].kind == "unknown_department"
    assert content_hash(base_store) == before


# -- a killed import ------------------------------------------------------------------------------------------
def test_killed_import_leaves_the_store_exactly_as_before(base_store, tmp_path):
    """Kill ``main.py import-base`` inside its write transaction (after the first chunk of a bulk load)."""
    import_grids(base_store, tmp_path)
    rng = random.Random(3)
    n = 5200  # > the bulk threshold: the R-tree triggers are dropped inside the transaction too
    recs = [{"code": f"{DISTRICT}0101{i + 1:06d}"} for i in range(n)]
    pts = [gk_point(rng.uniform(1, 199), rng.uniform(1, 399)) for _ in range(n)]
    path = write_layer(tmp_path / "parts.gpkg", recs, pts)
    store_path = Path(base_store.path)
    before = content_hash(base_store)
    base_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    base_store.close()
    sha_before = file_sha(store_path)

    env = {**os.environ, PAUSE_ENV: "1"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "import-base", str(path), "--layer", "parts", "--accept-warnings",
         "--store", str(store_path)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    seen = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if PAUSE_MARKER in line:
                break
        assert any(PAUSE_MARKER in s for s in seen), "".join(seen)
        assert any("写入 2000/5200" in s for s in seen)  # killed mid-way, not at the end
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert file_sha(store_path) == sha_before  # the main file was not touched
    store = Store.open(store_path)
    try:
        assert content_hash(store) == before
        assert store.count("part") == 0
        triggers = store.conn.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger' "
                                      "AND name LIKE 'rtree_part_geom_%'").fetchone()[0]
        assert triggers == 6
    finally:
        store.close()
    # and the same file then imports normally
    store = Store.open(store_path)
    try:
        out = import_base(store, path, "parts", yes)
        assert (out.status, out.written) == ("written", n)
        assert store.conn.execute("SELECT count(*) FROM rtree_part_geom").fetchone()[0] == n
        out = import_base(store, path, "parts", yes)  # again: every part replaced, index still exact
        assert out.report.replaced == n
        ids = store.conn.execute("SELECT id FROM rtree_part_geom EXCEPT SELECT fid FROM part").fetchall()
        assert ids == []
        assert store.conn.execute("SELECT count(*) FROM rtree_part_geom").fetchone()[0] == n
    finally:
        store.close()


def test_points_are_in_their_grids(base_store, tmp_path):
    """The geometry wins over a wrong grid_code, and the report says so."""
    import_grids(base_store, tmp_path)
    path = write_layer(tmp_path / "p.geojson", [{"code": "3202110101000009", "grid_code": f"{COMM1}001"}],
                       [gk_point(150, 50)])
    out = import_base(base_store, path, "parts", yes)
    assert [p.kind for p in out.report.problems] == ["grid_mismatch"]
    assert base_store.conn.execute("SELECT grid_code FROM part").fetchone()[0] == f"{COMM1}008"
    geom = shapely.from_wkb(gpkg.wkb_of(base_store.conn.execute("SELECT geom FROM part").fetchone()[0]))
    assert 120.29 < geom.x < 120.31


def test_demo_city_base_data_reimports_clean(demo_store, tmp_path):
    """The demo's own grids and parts, exported in Gauss-Krüger and WGS 84, validate with nothing but
    "will replace", and re-importing the grids leaves codes, parents and areas as they were."""
    import geopandas as gpd

    grids = gpd.read_file(demo_store.path, layer="unit_grid", engine="pyogrio")
    grids.to_crs(4548).to_file(tmp_path / "grids.gpkg", engine="pyogrio")
    parts = gpd.read_file(demo_store.path, layer="part", engine="pyogrio").head(500)
    parts.to_crs(4326).to_file(tmp_path / "parts.geojson", engine="pyogrio")
    sql = "SELECT code, community_code, round(area_m2) FROM unit_grid ORDER BY code"
    before = demo_store.conn.execute(sql).fetchall()
    plan = plan_import(demo_store, tmp_path / "parts.geojson", "parts")
    assert set(plan.report.kinds()) == {"existing_code"}
    out = import_base(demo_store, tmp_path / "grids.gpkg", "grids", yes)
    assert set(out.report.kinds()) == {"existing_code"}
    assert out.report.replaced == len(grids) == out.written
    after = demo_store.conn.execute(sql).fetchall()
    assert [r[:2] for r in after] == [r[:2] for r in before]
    assert all(abs(a[2] - b[2]) <= 1 for a, b in zip(after, before))


def test_demo_addresses_reimport_by_full_name(demo_store, tmp_path):
    """The demo has 文明路 in two districts: same name, different full names, so no false duplicates."""
    import geopandas as gpd

    addr = gpd.read_file(demo_store.path, layer="address", engine="pyogrio")
    addr.drop(columns=["initials"]).to_file(tmp_path / "a.geojson", engine="pyogrio")
    before = demo_store.conn.execute("SELECT kind, name, full_name, grid_code, initials FROM address ORDER BY 1, 3")
    before = before.fetchall()
    out = import_base(demo_store, tmp_path / "a.geojson", "addresses", yes)
    assert set(out.report.kinds()) == {"existing_code"}
    assert out.report.replaced == len(addr) == out.written
    after = demo_store.conn.execute("SELECT kind, name, full_name, grid_code, initials FROM address ORDER BY 1, 3")
    assert after.fetchall() == before


def test_partial_grid_delivery_counts_the_community_s_stored_grids(base_store, tmp_path):
    """Re-delivering one grid of a community: its stored neighbours close the community, so no gap."""
    import_grids(base_store, tmp_path)
    code, geom = grid_layout()[0]
    path = write_layer(tmp_path / "one.geojson", [{"code": code}], [geom])
    plan = plan_import(base_store, path, "grids", tolerance_m2=1.0)
    assert set(plan.report.kinds()) == {"existing_code"}
    code, geom = grid_layout()[7]
    path = write_layer(tmp_path / "gap.geojson", [{"code": code}], [gk_box(100, 0, 50, 100)])  # half of 008
    plan = plan_import(base_store, path, "grids")
    gaps = [p for p in plan.report.problems if p.kind == "gap"]
    assert len(gaps) == 1
    assert "5000.0 m²" in gaps[0].message


def test_cli_fix_geometry_writes_the_repaired_shape(tmp_path, monkeypatch, capsys):
    store = create_empty_store(tmp_path / "e.gpkg")
    store.close()
    x0, y0 = gk_box(0, 0).bounds[:2]
    bowtie = shapely.Polygon([(x0, y0), (x0 + 100, y0 + 100), (x0 + 100, y0), (x0, y0 + 100)])
    path = write_layer(tmp_path / "d.geojson", [{"code": DISTRICT, "name": "滨湖区"}], [bowtie])
    argv = ["import-base", str(path), "--layer", "districts", "--store", str(tmp_path / "e.gpkg"), "--accept-warnings"]
    rc, out = run_cli(monkeypatch, capsys, argv)
    assert rc == 1
    assert "Self-intersection" in out
    rc, out = run_cli(monkeypatch, capsys, [*argv, "--fix-geometry"])
    assert rc == 0
    assert "已修复" in out
    with Store.open(tmp_path / "e.gpkg") as s:
        geom = shapely.from_wkb(gpkg.wkb_of(s.conn.execute("SELECT geom FROM district").fetchone()[0]))
    assert geom.is_valid
    assert len(geom.geoms) == 2
