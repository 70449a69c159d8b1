"""Dispatch suggestions with reasons, returns charged to the dispatcher, bounced and redispatched cases."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.base_data import load_catalog_into
from app.clock import ManualClock
from app.deadlines import WorkDeadlines
from app.dispatch import Dispatcher, bounced_cases, redispatch_count, return_charges, suggest_department
from app.workflow.engine import Actor, WorkflowEngine
from app.workflow.ports import Location

DISTRICT, STREET, COMMUNITY, GRID = "320302", "320302001", "320302001001", "320302001001001"
PART = "3203020101000001"


class OneGrid:
    """A locator that puts every point in one grid."""

    loc = Location(GRID, COMMUNITY, STREET, DISTRICT)

    def locate(self, lon: float, lat: float) -> Location | None:
        return self.loc

    def grid(self, grid_code: str) -> Location | None:
        return self.loc if grid_code == GRID else None


@pytest.fixture
def store(mem_store):
    load_catalog_into(mem_store, "cjt214-2007")
    c = mem_store.conn
    with mem_store.atomic():
        c.execute("INSERT INTO district (code, name) VALUES (?, '鼓楼区')", (DISTRICT,))
        c.execute("INSERT INTO street (code, name, district_code) VALUES (?, '彭城街道', ?)", (STREET, DISTRICT))
        c.executemany("INSERT INTO department (code, name, kind) VALUES (?,?,?)", [
            ("D01", "市政处", "专业部门"), ("D02", "环卫处", "专业部门"), ("D03", "彭城街道办", "街道"),
            ("D04", "园林处", "专业部门"), ("D05", "城管局", "专业部门"),
        ])
        c.executemany("INSERT INTO responsibility (class_code, area_code, department) VALUES (?,?,?)", [
            ("event:0102", STREET, "D03"),  # 暴露垃圾 in 彭城街道 -> the street office
            ("event:0102", DISTRICT, "D02"),  # 暴露垃圾 in the district -> 环卫处
            ("0102", DISTRICT, "D04"),  # a plain code means the part class 0102 (污水井盖)
            ("event", "*", "D05"),  # any event city-wide -> 城管局
            ("part:01", DISTRICT, "D01"),  # 公用设施 parts -> 市政处
        ])
        c.execute("INSERT INTO part (code, class_code, owner_dept, maintainer_dept) VALUES (?, '0101', 'D01', '园林处')",
                  (PART,))
    return mem_store


def test_event_ranked_by_area_specificity(store) -> None:
    case = SimpleNamespace(kind="event", class_code="0102", part_code=None, district_code=DISTRICT,
                           street_code=STREET, community_code=COMMUNITY, grid_code=GRID)
    ranked = suggest_department(case, store)
    assert [c.department for c in ranked] == ["D03", "D02", "D05"]
    assert ranked[0].reasons == ("属地: 彭城街道",)
    assert ranked[1].reasons == ("属地: 鼓楼区",)
    assert ranked[2].reasons == ("职责: 全市",)
    assert ranked[0].name == "彭城街道办"


def test_part_owner_first_with_names_resolved(store) -> None:
    case = {"kind": "part", "class_code": "0101", "part_code": PART, "district_code": DISTRICT, "street_code": STREET}
    ranked = suggest_department(case, store)
    assert ranked[0].department == "D01"
    assert ranked[0].reasons[0] == "部件主管: 市政处"
    assert "属地: 鼓楼区" in ranked[0].reasons  # the responsibility table agrees
    assert ranked[1].department == "D04"  # maintainer given by name
    assert ranked[1].reasons == ("部件养护: 园林处",)


def test_kind_qualified_rows_do_not_cross_kinds(store) -> None:
    # part 0102 (污水井盖) must not pick up the "event:0102" (暴露垃圾) rules nor the "event" rule;
    # the plain "0102" row means the part class and, being exact, beats the major rule
    case = {"kind": "part", "class_code": "0102", "district_code": DISTRICT, "street_code": STREET}
    assert [c.department for c in suggest_department(case, store)] == ["D04", "D01"]
    # an event 0102 never picks up the plain (part) row
    event = {"kind": "event", "class_code": "0102", "district_code": DISTRICT, "street_code": STREET}
    assert "D04" not in [c.department for c in suggest_department(event, store)]
    # unless the table is declared kind-agnostic
    both = Dispatcher.from_store(store)
    both.plain_kind = None
    assert "D04" in [c.department for c in both.suggest(event)]


def test_no_candidates(store) -> None:
    assert Dispatcher([], {}, {}).suggest({"kind": "event", "class_code": "0102"}) == []


def _engine(store, clock):
    return WorkflowEngine(store, clock=clock, deadlines=WorkDeadlines.from_store(store), locator=OneGrid())


def test_returns_charged_to_dispatcher_and_demoted(store) -> None:
    clock = ManualClock("2025-03-03T09:00:00+08:00")
    eng = _engine(store, clock)
    intake, lead = Actor("u-intake", "intake"), Actor("u-lead", "shift_lead")
    disp_a, disp_b, dept = Actor("disp-a", "dispatcher"), Actor("disp-b", "dispatcher"), Actor("d3", "department")
    case_no = eng.act(None, "report", Actor("insp-1", "inspector"), {
        "source": "inspector", "kind": "event", "class_code": "0102", "lon": 117.18, "lat": 34.26,
    }).case_no
    for action, actor, data in [("accept", intake, {}), ("register", lead, {})]:
        clock.advance(minutes=5)
        eng.act(case_no, action, actor, data)
    bounces = [(disp_a, "D02"), (disp_b, "D05"), (disp_a, "D02")]
    for who, to in bounces:
        clock.advance(minutes=10)
        eng.act(case_no, "dispatch", who, {"department": to})
        clock.advance(minutes=30)
        eng.act(case_no, "request_return", dept, {"reason": "非本单位职责"})
        clock.advance(minutes=5)
        eng.act(case_no, "decide_return", disp_b, {"approved": True})
    charges = return_charges(store)
    assert {k: [c.department for c in v] for k, v in charges.items()} == {"disp-a": ["D02", "D02"], "disp-b": ["D05"]}
    # the next suggestion avoids the departments that returned the case
    ranked = suggest_department(eng.case(case_no), store)
    assert ranked[0].department == "D03"
    demoted = {c.department: c for c in ranked}
    assert "曾回退: 已退回本案" in demoted["D02"].reasons
    assert demoted["D02"].score < demoted["D03"].score
    # bounced 3 times > 2: flagged for the shift lead; dispatched 3 times: a redispatch
    assert [b[0] for b in bounced_cases(store, more_than=2)] == [case_no]
    assert bounced_cases(store, more_than=3) == []
    assert redispatch_count(store) == 1
    with pytest.raises(ValueError, match="more_than='-1'"):
        bounced_cases(store, more_than=-1)


def test_demo_city_suggestions(demo_store) -> None:
    """In the demo city, events are suggested by 属地 and parts by their owner, with reasons."""
    conn = demo_store.conn
    event = conn.execute(
        "SELECT * FROM case_state WHERE kind = 'event' AND class_code = '0507' AND dispatch_count > 0 LIMIT 1"
    ).fetchone()
    cols = [d[0] for d in conn.execute("SELECT * FROM case_state LIMIT 0").description]
    case = dict(zip(cols, event))
    ranked = suggest_department(case, demo_store)
    assert ranked[0].reasons[0].startswith("属地: ")
    assert ranked[0].reasons[0].endswith("街道")
    assert ranked[0].name.endswith("办事处")
    part = conn.execute("SELECT * FROM case_state WHERE kind = 'part' AND part_code IS NOT NULL LIMIT 1").fetchone()
    ranked = suggest_department(dict(zip(cols, part)), demo_store)
    assert ranked[0].reasons[0].startswith("部件主管: ")
