"""Build the demo store: the generated city (``gisdata.demo_city``), its users, then a simulated year.

The store is built in a side file and moved into place only when complete, so a cancelled or failed
build never leaves a half-written store at ``path`` (and never touches an existing one until the end).
All base data goes in one transaction with the R-tree triggers dropped during the bulk load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from app.auth import hash_password
from app.base_data import load_catalog_into
from app.progress import Progress
from db import base_repo
from db.base_repo import AppUser, Department, Responsibility
from db.store import Store
from gisdata.codes import CATALOG_LEGACY
from gisdata.demo_city import SCALES, DemoCity, available_cities, build_city, person_name

DEMO_PASSWORD = "wanmi2026"  # every demo account (documented in docs/demo-city.md)
ADMIN_PASSWORD = "admin2026"
DEMO_HASH_N = 2**12  # demo accounts use a lower scrypt cost so ~100 accounts hash in about a second

# One department user per main department (code → user id suffix).
DEPARTMENT_USERS = ("SZC", "LDS", "YLC", "HWC", "CGZF", "GSGS", "RQGS", "DLGS", "TXGS", "JJZD")


class DemoError(ValueError):
    """The demo cannot be built as asked (unknown city or scale, existing store without --force)."""


@dataclass
class DemoSummary:
    path: Path
    city: str
    seed: int
    scale: str
    figures: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def demo_users(city: DemoCity, seed: int) -> list[AppUser]:
    """Accounts for every role: desk roles, one per main department and per district bureau, inspectors."""
    rng = np.random.default_rng([seed, 7])
    all_districts = ",".join(d.code for d in city.districts)
    pw = hash_password(DEMO_PASSWORD, n=DEMO_HASH_N)
    out = [
        AppUser("admin", "系统管理员", "admin", all_districts, "", hash_password(ADMIN_PASSWORD, n=DEMO_HASH_N)),
        AppUser("intake01", person_name(rng), "intake", all_districts, "", pw),
        AppUser("intake02", person_name(rng), "intake", all_districts, "", pw),
        AppUser("shift01", person_name(rng), "shift_lead", all_districts, "", pw),
        AppUser("dispatch01", person_name(rng), "dispatcher", all_districts, "", pw),
        AppUser("dispatch02", person_name(rng), "dispatcher", all_districts, "", pw),
        AppUser("eval01", person_name(rng), "evaluator", all_districts, "", pw),
        AppUser("leader01", person_name(rng), "leader", all_districts, "", pw),
    ]
    names = {d.code: d.name for d in city.departments}
    for code in DEPARTMENT_USERS:
        if code in names:
            out.append(AppUser(f"dept_{code.lower()}", names[code], "department", all_districts, code, pw))
    for d in city.districts:
        dep = f"CG{d.code}"
        out.append(AppUser(f"dept_cg{d.code}", f"{d.name}城市管理局", "department", d.code, dep, pw))
    for ins in city.inspectors:
        out.append(AppUser(ins.id, ins.name, "inspector", ins.district_code, "", pw))
    return out


def build_demo(
    path: str | Path,
    city: str = "xuzhou",
    seed: int = 1,
    scale: str = "demo",
    progress: Progress | None = None,
    overwrite: bool = True,
    simulate: bool = True,
) -> DemoSummary:
    """Build a complete demo store at ``path`` (replacing it when ``overwrite``); see docs/demo-city.md."""
    import time

    if city not in available_cities():
        raise DemoError(f"不支持的城市 city '{city}' (supported: {', '.join(available_cities())})")
    if scale not in SCALES:
        raise DemoError(f"未知的规模 scale '{scale}' (expected one of {', '.join(SCALES)})")
    path = Path(path)
    if path.exists() and not overwrite:
        raise DemoError(f"数据库已存在 store '{path}' exists (use --force to replace it)")
    prog = progress or Progress()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    has_sim = False
    if simulate:
        try:
            from app import simulate as sim_mod  # written by the workflow issue; optional until then
            has_sim = hasattr(sim_mod, "simulate_year")
        except ImportError:
            has_sim = False
    base_end = 0.6 if has_sim else 1.0
    generated = build_city(city, seed, scale, prog.sub(0.0, 0.45 * base_end))
    seconds["generate"] = time.perf_counter() - t0
    tmp = path.with_name(f"{path.name}.building-{os.getpid()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(path)
    _remove(tmp)
    store = Store.open(tmp, create=True)
    try:
        t1 = time.perf_counter()
        # The side file is private and deleted on any failure, so the bulk load can skip the WAL and
        # fsyncs (the rollback journal stays in memory, so a cancel still rolls back cleanly).
        store.conn.execute("PRAGMA journal_mode = MEMORY")
        store.conn.execute("PRAGMA synchronous = OFF")
        load_catalog_into(store, CATALOG_LEGACY)
        write_city(store, generated, prog.sub(0.45 * base_end, base_end), seed)
        store.conn.execute("PRAGMA journal_mode = WAL")
        store.conn.execute("PRAGMA synchronous = NORMAL")
        seconds["write"] = time.perf_counter() - t1
        if has_sim:
            t2 = time.perf_counter()
            from app.simulate import simulate_year

            simulate_year(store, seed=seed, scale=scale, end=date.today(), progress=prog.sub(base_end, 1.0))
            seconds["simulate"] = time.perf_counter() - t2
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        store.close()
        _remove(tmp)
        raise
    store.close()
    _remove(path)
    os.replace(tmp, path)
    seconds["total"] = time.perf_counter() - t0
    prog.report(1.0, f"演示城市已生成 demo city built: {generated.figures['grids']} 网格 {generated.figures['parts']} 部件")
    return DemoSummary(path, city, seed, scale, generated.figures, has_sim, seconds)


def _remove_stale_builds(path: Path) -> None:
    """Side files of builds whose process was killed (a kill skips the clean-up in ``build_demo``)."""
    for f in path.parent.glob(f"{path.name}.building-*"):
        pid = f.name.rsplit("-", 1)[-1]
        if not pid.isdigit():  # "-wal"/"-shm" go with their main file
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            _remove(f)
        except PermissionError:
            pass


def _remove(p: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(p) + suffix).unlink(missing_ok=True)


def write_city(store: Store, c: DemoCity, progress: Progress | None = None, seed: int = 1) -> None:
    """Write a generated city into ``store`` in one transaction (replacing any base data it holds)."""
    prog = progress or Progress()
    with store.atomic() as conn:
        base_repo.clear_base_data(conn)
        base_repo.write_districts(conn, [
            base_repo.District(d.code, d.name, c.city_name, d.geom) for d in c.districts])
        base_repo.write_streets(conn, [
            base_repo.Street(s.code, s.name, s.district_code, s.geom) for s in c.streets])
        base_repo.write_communities(conn, [
            base_repo.Community(m.code, m.name, m.parent_code or "", m.district_code, m.geom) for m in c.communities])
        prog.report(0.05, "写入单元网格 writing unit grids")
        prog.check()
        base_repo.write_grids(conn, [
            base_repo.UnitGrid(g.code, g.community_code, g.street_code, g.district_code, g.area_m2, g.area_class,
                               g.road_class, g.key_area, g.inspector_id, g.geom) for g in c.grids])
        base_repo.write_roads(conn, [base_repo.Road(r.name, r.road_class, r.district_code, r.geom) for r in c.roads])
        prog.report(0.15, "写入地址 writing addresses")
        prog.check()
        base_repo.write_addresses(conn, [
            {"kind": a.kind, "name": a.name, "full_name": a.full_name, "street_name": a.street_name,
             "house_no": a.house_no, "grid_code": a.grid_code, "initials": a.initials,
             "geom": _point(a.x, a.y)} for a in c.addresses])
        prog.report(0.25, "写入部件 writing parts")
        prog.check()
        p = c.parts
        n = len(p)
        chunk = 250_000
        base_repo_cols = base_repo.PART_POINT_COLUMNS
        assert base_repo_cols[:8] == ("code", "class_code", "name", "owner_dept", "custodian_dept",
                                      "maintainer_dept", "status", "grid_code")
        # parts in chunks so progress and cancel stay responsive; the R-tree is filled from the coordinates
        from db import gpkg

        gpkg.drop_rtree_triggers(conn, "part")
        for start in range(0, n, chunk):
            sl = slice(start, min(n, start + chunk))
            since = np.datetime_as_string(p.since[sl]).tolist()
            changed = np.datetime_as_string(p.changed[sl]).tolist()
            records = list(zip(p.code[sl], p.class_code[sl], p.name[sl], p.owner_dept[sl], p.owner_dept[sl],
                               p.owner_dept[sl], p.status[sl], p.grid_code[sl], since, changed))
            base_repo.write_part_points(conn, p.x[sl], p.y[sl], records, index=False)
            prog.report(0.25 + 0.65 * sl.stop / max(1, n), f"写入部件 writing parts {sl.stop:,}/{n:,}")
            prog.check()
        gpkg.create_rtree_triggers(conn, "part")
        gpkg.update_extent(conn, "part")
        base_repo.write_departments(conn, [
            Department(d.code, d.name, d.kind, d.district_code, d.parent_code) for d in c.departments])
        base_repo.write_responsibilities(conn, [Responsibility(*r) for r in c.responsibilities])
        base_repo.write_users(conn, demo_users(c, seed))
        meta = {
            "city": c.city, "city_name": c.city_name, "seed": str(c.seed), "scale": c.scale, "epsg": str(c.epsg),
            "centre": json.dumps(c.centre), "demo_figures": json.dumps(c.figures, ensure_ascii=False),
            "built_at": date.today().isoformat(),
        }
        base_repo.write_meta(conn, meta)
    prog.report(1.0, "基础数据已写入 base data written")


def _point(x: float, y: float) -> Any:
    import shapely

    return shapely.Point(x, y)
