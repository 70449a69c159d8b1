"""Integration with the real time limits (``app.deadlines``): the engine's default Deadlines service."""

from __future__ import annotations

import pytest

from app import timefmt
from app.clock import ManualClock
from app.deadlines import WorkDeadlines
from app.workflow import WorkflowEngine
from tests.app.workflow_helpers import DEPT, DISPATCHER, drive_to, make_store


@pytest.fixture
def env():
    store = make_store()
    clock = ManualClock("2026-03-05T09:00:00+08:00")  # a Thursday
    engine = WorkflowEngine(store, clock=clock)
    yield engine, clock
    store.close()


def test_default_deadlines_are_the_working_time_service(env):
    engine, clock = env
    assert isinstance(engine.deadlines, WorkDeadlines)
    no = drive_to(engine, clock, "dispatched")
    case = engine.case(no)
    expected = engine.deadlines.deadline("handle", timefmt.parse(case.dispatched_at), case)
    assert case.handle_deadline == timefmt.fmt(expected)
    assert case.stage_deadline == case.handle_deadline
    assert case.handle_deadline > case.dispatched_at


def test_suspension_over_a_weekend_uses_working_time(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    d = engine.deadlines
    case = engine.case(no)
    unit = d.limit("handle", case.kind, case.class_code, case.urgency, d.area_class_of(case.grid_code)).unit
    clock.set("2026-03-06T16:00:00+08:00")  # Friday afternoon
    engine.act(no, "request_suspend", DEPT, {"reason": "等待材料"})
    engine.act(no, "decide_suspend", DISPATCHER, {"approved": True})
    before = engine.case(no)
    clock.set("2026-03-09T10:00:00+08:00")  # Monday morning
    engine.act(no, "resume", DISPATCHER)
    after = engine.case(no)
    start, end = timefmt.parse(before.suspended_at), timefmt.parse(after.updated_at)
    assert after.suspended_hours == pytest.approx(round(d.unit_hours(start, end, unit), 4))
    assert after.handle_deadline == timefmt.fmt(d.resume(before.handle_deadline, start, end, unit))
    assert after.handle_deadline >= before.handle_deadline
    if unit in ("工作时", "工作日"):
        assert after.suspended_hours < 24  # the weekend costs a working-time limit nothing


def test_extension_in_working_days(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    before = engine.case(no).handle_deadline
    engine.act(no, "request_extension", DEPT, {})
    engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "amount": 2, "unit": "工作日"})
    after = engine.case(no).handle_deadline
    assert after == timefmt.fmt(engine.deadlines.add(timefmt.parse(before), 2, "工作日"))
