"""Shared set-up for the workflow tests: a tiny city (4 unit grids), the catalogue, two departments.

A plain module (not conftest) so the workflow tests share it without touching the global fixtures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely

from app.base_data import load_catalog_into
from app.clock import ManualClock
from app.workflow import Actor, WorkflowEngine
from app.workflow.ports import NaturalDeadlines
from db import gpkg
from db.store import Store

DISTRICT = "320311"
STREET = "320311001"
COMMUNITY = "320311001001"
GRIDS = [f"{COMMUNITY}{i:03d}" for i in range(1, 5)]
X0, Y0, STEP = 117.0, 34.0, 0.001
INSIDE = (X0 + STEP * 0.5, Y0 + STEP * 0.5)  # in GRIDS[0]
OUTSIDE = (120.5, 31.2)
EVENT_CLASS = "0101"  # a class code present in the legacy catalogue, kind checked below
T0 = "2026-03-02T09:00:00+08:00"  # a Monday

INTAKE = Actor("u-intake", "intake")
LEAD = Actor("u-lead", "shift_lead")
DISPATCHER = Actor("u-disp", "dispatcher")
DEPT = Actor("u-dept", "department")
INSPECTOR = Actor("u-insp", "inspector")
LEADER = Actor("u-leader", "leader")
ROLE_ACTORS = {a.role: a for a in (INTAKE, LEAD, DISPATCHER, DEPT, INSPECTOR, LEADER)}
ROLE_ACTORS["evaluator"] = Actor("u-eval", "evaluator")
ROLE_ACTORS["admin"] = Actor("u-admin", "admin")


def classes(store: Store) -> dict[str, str]:
    """One part class and one event class code of the store's catalogue."""
    part = store.conn.execute("SELECT class_code FROM catalog_class WHERE kind='part' ORDER BY class_code").fetchone()[0]
    event = store.conn.execute("SELECT class_code FROM catalog_class WHERE kind='event' ORDER BY class_code").fetchone()[0]
    return {"part": part, "event": event}


def make_store(path: Path | None = None) -> Store:
    """The tiny city in memory, or in a GeoPackage file at ``path`` (for command tests)."""
    store = Store.memory() if path is None else Store.open(path, create=True)
    load_catalog_into(store, "cjt214-2007")
    with store.atomic() as c:
        for i, code in enumerate(GRIDS):
            x = X0 + STEP * (i % 2)
            y = Y0 + STEP * (i // 2)
            g = shapely.MultiPolygon([shapely.box(x, y, x + STEP, y + STEP)])
            c.execute(
                "INSERT INTO unit_grid (geom, code, community_code, street_code, district_code) VALUES (?,?,?,?,?)",
                (gpkg.encode(shapely.to_wkb(g), g.bounds), code, COMMUNITY, STREET, DISTRICT),
            )
        c.executemany("INSERT INTO department (code, name) VALUES (?, ?)", [("D01", "市政处"), ("D02", "园林处")])
    return store


def make_engine(store: Store, at: str = T0) -> tuple[WorkflowEngine, ManualClock]:
    clock = ManualClock(at)
    return WorkflowEngine(store, clock=clock, deadlines=NaturalDeadlines()), clock


def report_data(store: Store, kind: str = "event", **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"source": "inspector", "kind": kind, "class_code": classes(store).get(kind, "0101"),
                         "lon": INSIDE[0], "lat": INSIDE[1]}
    d.update(extra)
    return d


def state_rows(store: Store) -> list[tuple[Any, ...]]:
    """case_state as comparable rows (without fid), ordered by case number."""
    cols = [r[1] for r in store.conn.execute("PRAGMA table_info(case_state)") if r[1] != "fid"]
    return [tuple(r) for r in store.conn.execute(f"SELECT {', '.join(cols)} FROM case_state ORDER BY case_no")]


PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "reported": [],
    "verifying": [("send_verify", "intake", {})],
    "accepted": [("accept", "intake", {})],
    "void": [("reject", "shift_lead", {})],
}
PATHS["registered"] = [*PATHS["accepted"], ("register", "shift_lead", {})]
PATHS["dispatched"] = [*PATHS["registered"], ("dispatch", "dispatcher", {"department": "D01"})]
PATHS["return_requested"] = [*PATHS["dispatched"], ("request_return", "department", {})]
PATHS["suspended"] = [*PATHS["dispatched"], ("request_suspend", "department", {}),
                      ("decide_suspend", "dispatcher", {"approved": True})]
PATHS["handled"] = [*PATHS["dispatched"], ("handle", "department", {"feedback": "已修复"})]
PATHS["checking"] = [*PATHS["handled"], ("send_check", "intake", {})]
PATHS["closing"] = [*PATHS["checking"], ("check", "inspector", {"passed": True})]
PATHS["closed"] = [*PATHS["closing"], ("close", "shift_lead", {})]


def drive_to(engine: WorkflowEngine, clock: ManualClock, state: str, **report_extra: Any) -> str:
    """A new case brought to ``state`` along the usual path, one minute per step."""
    clock.advance(minutes=1)
    no = engine.act(None, "report", INSPECTOR, report_data(engine.store, **report_extra)).case_no
    for action, role, data in PATHS[state]:
        clock.advance(minutes=1)
        engine.act(no, action, ROLE_ACTORS[role], data)
    case = engine.case(no)
    assert case is not None
    assert case.status == state
    return no
