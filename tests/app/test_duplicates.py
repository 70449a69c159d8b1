"""Duplicates at filing (class, sibling, radius in metres, window, recently closed) and the repeat-case rule."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.base_data import load_catalog_into
from app.clock import ManualClock
from app.deadlines import WorkDeadlines
from app.duplicates import (
    SAME_CLASS,
    SIBLING_CLASS,
    DuplicateError,
    DuplicateRule,
    RepeatRule,
    distance_m,
    find_duplicates,
    repeat_case_numbers,
    repeat_groups,
)
from app.workflow.engine import Actor, WorkflowEngine
from app.workflow.ports import Location

LON, LAT = 117.18, 34.26
M_PER_DEG_LAT = 111_195.0
GRIDS = {  # grid -> road class, key area
    "320302001001001": ("主要路段", 0),
    "320302001001002": ("次干道", 0),
    "320302001001003": ("背街小巷", 0),
    "320302001001004": ("背街小巷", 1),
}


class ByLon:
    """Grid by longitude offset: 117.18 -> ...001, 117.19 -> ...002, and so on."""

    def locate(self, lon: float, lat: float) -> Location | None:
        i = round((lon - LON) * 100) + 1
        return self.grid(f"32030200100100{i}")

    def grid(self, grid_code: str) -> Location | None:
        if grid_code not in GRIDS:
            return None
        return Location(grid_code, grid_code[:12], grid_code[:9], grid_code[:6])


INSP, INTAKE, LEAD = Actor("i1", "inspector"), Actor("k1", "intake"), Actor("s1", "shift_lead")
DISP, DEPT = Actor("p1", "dispatcher"), Actor("d1", "department")


@pytest.fixture
def env(mem_store):
    load_catalog_into(mem_store, "cjt214-2007")
    with mem_store.atomic() as c:
        c.executemany(
            "INSERT INTO unit_grid (code, community_code, street_code, district_code, road_class, key_area) "
            "VALUES (?,?,?,?,?,?)",
            [(g, g[:12], g[:9], g[:6], rc, ka) for g, (rc, ka) in GRIDS.items()],
        )
        c.execute("INSERT INTO department (code, name) VALUES ('D1', '环卫处')")
    clock = ManualClock("2025-03-03T09:00:00+08:00")
    eng = WorkflowEngine(mem_store, clock=clock, deadlines=WorkDeadlines.from_store(mem_store), locator=ByLon())
    return mem_store, eng, clock


def report(eng, class_code, north_m=0.0, lon=LON, kind="event") -> str:
    return eng.act(None, "report", INSP, {
        "source": "inspector", "kind": kind, "class_code": class_code, "lon": lon, "lat": LAT + north_m / M_PER_DEG_LAT,
    }).case_no


def close(eng, clock, case_no) -> None:
    for action, actor, data in [
        ("accept", INTAKE, {}), ("register", LEAD, {}), ("dispatch", DISP, {"department": "D1"}),
        ("handle", DEPT, {"feedback": "已清理"}), ("send_check", INTAKE, {}), ("check", INSP, {"passed": True}),
        ("close", LEAD, {}),
    ]:
        clock.advance(minutes=10)
        eng.act(case_no, action, actor, data)


def test_same_and_sibling_class_within_radius(env) -> None:
    store, eng, clock = env
    near = report(eng, "0102", north_m=20)  # 暴露垃圾 20 m north
    sibling = report(eng, "0104", north_m=10)  # 道路不洁, same major 01
    report(eng, "0102", north_m=45)  # too far
    report(eng, "0501", north_m=5)  # other major
    report(eng, "0102", kind="part", north_m=5)  # 污水井盖 (part with the same code)
    clock.advance(hours=1)
    found = find_duplicates(store, kind="event", class_code="0102", lon=LON, lat=LAT, at=clock.now())
    assert [(c.case_no, c.reason) for c in found] == [(near, SAME_CLASS), (sibling, SIBLING_CLASS)]
    assert found[0].distance_m == pytest.approx(20, abs=0.2)
    assert "距离 20 米" in found[0].label
    no_siblings = find_duplicates(store, kind="event", class_code="0102", lon=LON, lat=LAT, at=clock.now(),
                                  rule=DuplicateRule(siblings=False))
    assert [c.case_no for c in no_siblings] == [near]
    wide = find_duplicates(store, kind="event", class_code="0102", lon=LON, lat=LAT, at=clock.now(),
                           rule=DuplicateRule(radius_by_class={"event:0102": 50}))
    assert len([c for c in wide if c.reason == SAME_CLASS]) == 2


def test_time_window_and_recently_closed(env) -> None:
    store, eng, clock = env
    old_open = report(eng, "0102", north_m=5)
    closed = report(eng, "0102", north_m=8)
    close(eng, clock, closed)
    clock.advance(days=2)
    ids = lambda **kw: [c.case_no for c in find_duplicates(  # noqa: E731
        store, kind="event", class_code="0102", lon=LON, lat=LAT, at=clock.now(), **kw)]
    assert ids() == [old_open, closed]  # open 2 days ago, closed 2 days ago
    assert ids(rule=DuplicateRule(closed_days=1)) == [old_open]
    assert ids(rule=DuplicateRule(window_days=1)) == [closed]
    clock.advance(days=6)
    assert ids() == []  # both outside their windows now
    # voided duplicates are not offered again
    clock.advance(minutes=1)
    new = report(eng, "0102", north_m=1)
    dup = report(eng, "0102", north_m=2)
    clock.advance(minutes=1)
    eng.act(dup, "mark_duplicate", INTAKE, {"original": new})
    assert ids() == [new]
    assert ids(exclude=new) == []


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"lon": float("nan")}, "lon="), ({"lat": 95.0}, "lat="), ({"class_code": ""}, "class_code="),
     ({"rule": DuplicateRule(radius_m=0)}, "radius_m=")],
)
def test_bad_input(env, kw, field) -> None:
    store, _eng, clock = env
    args = {"kind": "event", "class_code": "0102", "lon": LON, "lat": LAT, "at": clock.now()} | kw
    with pytest.raises(DuplicateError, match=field):
        find_duplicates(store, **args)


@settings(max_examples=50, deadline=None)
@given(north=st.floats(-500, 500), east=st.floats(-500, 500))
def test_distance_matches_local_metres(north: float, east: float) -> None:
    lat2 = LAT + north / M_PER_DEG_LAT
    lon2 = LON + east / (M_PER_DEG_LAT * math.cos(math.radians(LAT)))
    assert distance_m(LON, LAT, lon2, lat2) == pytest.approx(math.hypot(north, east), rel=5e-3, abs=0.05)


# -- repeat cases ------------------------------------------------------------------------------------------
def test_repeat_rule_by_road_class(env) -> None:
    store, eng, _clock = env
    main, secondary, back, key = (LON + i * 0.01 for i in range(4))
    expected = []
    expected += [report(eng, "0102", lon=main) for _ in range(2)]  # 2 on a main road: repeats
    report(eng, "0104", lon=main)  # another class once: not
    [report(eng, "0102", lon=secondary) for _ in range(2)]  # 2 on a secondary road: not yet
    expected += [report(eng, "0104", lon=secondary) for _ in range(3)]  # 3: repeats
    [report(eng, "0102", lon=back) for _ in range(3)]  # 3 in a back street: not yet
    expected += [report(eng, "0103", lon=back) for _ in range(4)]  # 4: repeats
    expected += [report(eng, "0102", lon=key) for _ in range(2)]  # key area counts like a main road
    [report(eng, "0201", lon=main) for _ in range(5)]  # 非法小广告: excluded
    [report(eng, "0101", lon=main, kind="part") for _ in range(5)]  # part classes: excluded
    got = repeat_case_numbers(store, "2025-03-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00")
    assert got == sorted(expected)
    groups = repeat_groups(store, "2025-03-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00")
    assert [(g.road_class, g.threshold, len(g.case_nos)) for g in groups] == [
        ("主要路段", 2, 2), ("次干道", 3, 3), ("背街小巷", 4, 4), ("背街小巷", 2, 2),
    ]
    # parameters are passed in: a stricter main-road threshold drops that group
    strict = RepeatRule(thresholds={"主要路段": 3, "次干道": 3, "背街小巷": 4}, key_area_threshold=3)
    assert len(repeat_case_numbers(store, "2025-03-01T00:00:00+08:00", "2025-04-01T00:00:00+08:00", strict)) == 7
    # outside the period nothing counts
    assert repeat_case_numbers(store, "2025-04-01T00:00:00+08:00", "2025-05-01T00:00:00+08:00") == []
