"""The demo store: counts at test scale, consistency of codes, owners and users, GDAL sees the layers."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import shapely

from app.auth import ROLES, verify_password
from app.demo import ADMIN_PASSWORD, DEMO_PASSWORD, DemoError, build_demo
from app.progress import Cancelled, Progress
from db import base_repo as br
from db.store import Store
from gisdata.codes import parse_grid, parse_part
from gisdata.demo_city import owner_of


@pytest.fixture(scope="module")
def ro(demo_store_path):
    store = Store.open(demo_store_path, readonly=True)
    yield store
    store.close()


def test_test_scale_counts(ro):
    assert 1 <= ro.count("district") <= 2
    assert 150 <= ro.count("unit_grid") <= 800
    assert ro.count("part") == 4000
    assert ro.count("address") > 300
    assert ro.count("road") > 5
    assert ro.count("catalog_class") > 100
    meta = br.read_meta(ro.conn)
    assert (meta["city"], meta["seed"], meta["scale"], meta["catalog"]) == ("xuzhou", "7", "test", "cjt214-2007")


def test_codes_are_standard_and_nested(ro):
    grids = br.grids(ro.conn)
    communities = {c.code: c for c in br.communities(ro.conn)}
    streets = {s.code for s in br.streets(ro.conn)}
    for g in grids:
        gc = parse_grid(g.code)
        assert gc.community_code == g.community_code
        assert g.community_code in communities
        assert g.street_code in streets
        assert communities[g.community_code].street_code == g.street_code
        assert 0 < g.area_m2 <= 22_000  # a full 100 m cell plus at most a few merged slivers
    assert 8_000 <= sum(g.area_m2 for g in grids) / len(grids) <= 10_500  # "about 10,000 m²"
    parts = br.parts(ro.conn, limit=500)
    grid_codes = {g.code for g in grids}
    for p in parts:
        pc = parse_part(p.code)
        assert pc.class_code == p.class_code
        assert p.grid_code in grid_codes
        assert pc.district == p.grid_code[:6]


def test_grids_tile_each_community(ro):
    from gisdata.crs import Projector

    grids = br.grids(ro.conn)
    proj = Projector.for_lon(grids[0].geom.centroid.x)
    for com in br.communities(ro.conn):
        mine = [proj.forward(g.geom) for g in grids if g.community_code == com.code]
        union = shapely.union_all(mine)
        target = proj.forward(com.geom)
        assert abs(sum(g.area for g in mine) - target.area) < 1.0  # no overlaps (m²)
        assert target.symmetric_difference(union).area < 1.0  # no gaps


def test_parts_lie_in_their_grid(ro):
    grids = {g.code: g.geom for g in br.grids(ro.conn)}
    for p in br.parts(ro.conn, limit=300):
        assert grids[p.grid_code].buffer(1e-7).contains(p.geom)


def test_owner_departments_follow_the_responsibility_table(ro):
    resp = {(r.class_code, r.area_code): r.department for r in br.responsibilities(ro.conn)}
    depts = {d.code for d in br.departments(ro.conn)}
    statuses = set()
    for p in br.parts(ro.conn):
        assert p.grid_code is not None
        want = resp.get((p.class_code, p.grid_code[:9])) or resp.get((p.class_code, p.grid_code[:6]))
        assert p.owner_dept == want == owner_of(p.class_code, p.grid_code[:6], p.grid_code[:9])
        assert p.owner_dept in depts
        assert p.since is not None
        assert p.changed is not None
        assert p.since <= p.changed
        statuses.add(p.status)
    assert {"完好", "破损"} <= statuses


def test_users_cover_every_role_with_documented_passwords(ro):
    users = br.users(ro.conn)
    assert {u.role for u in users} == set(ROLES)
    admin = br.user(ro.conn, "admin")
    assert admin is not None
    assert verify_password(ADMIN_PASSWORD, admin.password_hash)
    intake = br.user(ro.conn, "intake01")
    assert intake is not None
    assert verify_password(DEMO_PASSWORD, intake.password_hash)
    assert not verify_password("wrong-password", intake.password_hash)
    depts = {d.code for d in br.departments(ro.conn)}
    for u in br.users(ro.conn, "department"):
        assert u.department_list
        assert set(u.department_list) <= depts
    inspectors = {u.id for u in br.users(ro.conn, "inspector")}
    assert {g.inspector_id for g in br.grids(ro.conn)} == inspectors


def test_addresses_have_initials_and_grids(ro):
    addrs = br.addresses(ro.conn)
    kinds = {a.kind for a in addrs}
    assert {"街巷", "门楼牌", "兴趣点"} <= kinds
    plates = [a for a in addrs if a.kind == "门楼牌"]
    assert all(a.name == f"{a.street_name}{a.house_no}" for a in plates)
    assert all(a.initials and a.initials.isascii() for a in addrs)
    assert all(a.grid_code for a in addrs)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")
def test_ogrinfo_lists_layers_with_counts(demo_store_path, tmp_path):
    copy = tmp_path / "copy.gpkg"
    shutil.copy2(demo_store_path, copy)  # ogrinfo may write; keep the session store untouched
    out = subprocess.run(["ogrinfo", "-so", "-al", str(copy)], capture_output=True, text=True, check=True).stdout
    counts = {}
    layer = None
    for line in out.splitlines():
        if line.startswith("Layer name:"):
            layer = line.split(":", 1)[1].strip()
        elif line.startswith("Feature Count:") and layer:
            counts[layer] = int(line.split(":", 1)[1])
    with Store.open(demo_store_path, readonly=True) as s:
        for t in ("district", "street", "community", "unit_grid", "road", "part", "address"):
            assert counts[t] == s.count(t) > 0


def test_cancel_leaves_nothing(tmp_path):
    target = tmp_path / "demo.gpkg"
    target.write_bytes(b"")  # an existing file stays as it was when the build is cancelled
    calls = []

    def cb(fraction: float, message: str) -> None:
        calls.append(message)
        if "写入部件" in message:
            prog.cancel()

    prog = Progress(cb)
    with pytest.raises(Cancelled):
        build_demo(target, seed=3, scale="test", progress=prog, simulate=False)
    assert target.read_bytes() == b""
    assert list(tmp_path.iterdir()) == [target]


def test_bad_city_and_scale(tmp_path):
    with pytest.raises(DemoError, match="beijing"):
        build_demo(tmp_path / "x.gpkg", city="beijing", scale="test")
    with pytest.raises(DemoError, match="huge"):
        build_demo(tmp_path / "x.gpkg", scale="huge")
    (tmp_path / "y.gpkg").write_bytes(b"")
    with pytest.raises(DemoError, match="--force"):
        build_demo(tmp_path / "y.gpkg", scale="test", overwrite=False)


def test_init_demo_command(tmp_path, capsys):
    from main import main

    path = tmp_path / "cli.gpkg"
    assert main(["init-demo", "--scale", "test", "--seed", "2", "--no-simulate", "--store", str(path)]) == 0
    assert "单元网格" in capsys.readouterr().out
    assert main(["init-demo", "--scale", "test", "--store", str(path)]) == 1
    assert "--force" in capsys.readouterr().err


def test_auth_hash_verify_and_users(mem_store):
    from app.auth import AuthError, add_user, authenticate, hash_password, set_password

    h = hash_password("secret-1", n=2**10)
    assert h.startswith("scrypt$1024$8$1$")
    assert verify_password("secret-1", h)
    assert not verify_password("secret-2", h)
    assert hash_password("secret-1", n=2**10) != h  # salted
    for bad in (None, "", "md5$x", "scrypt$a$b$c$d$e", "scrypt$1024$8$1$!!$!!"):
        assert not verify_password("secret-1", bad)
    with pytest.raises(AuthError, match="6"):
        hash_password("short")
    add_user(mem_store, "u1", "张三", "dispatcher", "secret-1")
    assert authenticate(mem_store, "u1", "secret-1").role == "dispatcher"
    with pytest.raises(AuthError, match="u1"):
        authenticate(mem_store, "u1", "wrong-pass")
    with pytest.raises(AuthError, match="already"):
        add_user(mem_store, "u1", "李四", "dispatcher", "secret-1")
    with pytest.raises(AuthError, match="boss"):
        add_user(mem_store, "u2", "李四", "boss", "secret-1")
    set_password(mem_store, "u1", "secret-3")
    assert authenticate(mem_store, "u1", "secret-3").id == "u1"
    with pytest.raises(AuthError, match="nobody"):
        set_password(mem_store, "nobody", "secret-3")


def test_killed_build_leaves_the_existing_store(tmp_path):
    """Kill ``init-demo --force`` mid-way: the old store is untouched and the next build cleans up."""
    import os
    import signal
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    target = tmp_path / "demo.gpkg"
    target.write_bytes(b"old store")
    proc = subprocess.Popen(
        [sys.executable, str(root / "main.py"), "init-demo", "--scale", "test", "--force", "--store", str(target)],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    # kill while the parts are being written: the simulated year still lies ahead, so the new store
    # cannot have been moved into place yet
    while "写入部件".encode() not in seen:
        chunk = os.read(proc.stderr.fileno(), 256)
        assert chunk, "init-demo ended before writing parts"
        seen += chunk
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == b"old store"
    assert any(p.name.startswith("demo.gpkg.building-") for p in tmp_path.iterdir())
    build_demo(target, seed=3, scale="test", simulate=False)  # removes the killed build's side files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.gpkg"]
    with Store.open(target, readonly=True) as s:
        assert s.count("unit_grid") > 0
