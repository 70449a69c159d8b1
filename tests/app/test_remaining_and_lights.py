"""What a seat operator reads about a stage's time: overdue is overdue on a weekend too, short and long spans
read in minutes and working days, and a suspended (挂账) case keeps the light it had when its clock stopped
on the map as in the inbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from app.desk import DeskService, remaining_text
from app.map_data import MapData
from app.session import Session
from app.timefmt import fmt, now, parse
from db import cases as db_cases


@pytest.mark.parametrize(("hours", "days", "late", "text"), [
    (0.5, 0.0625, False, "剩余 30 分钟"),
    (6.5, 0.81, False, "剩余 6.5 工作时"),
    (20.0, 2.5, False, "剩余 2.5 工作日"),
    (0.0, 0.0, True, "已超期"),  # past the deadline, but no working time since (a weekend)
    (-3.0, -0.375, True, "已超期 3.0 工作时"),
    (-0.25, -0.03, True, "已超期 15 分钟"),
    (-40.0, -5.0, True, "已超期 5.0 工作日"),
])
def test_remaining_text(hours, days, late, text):
    assert remaining_text(hours, days, late) == text


def _open_case(store) -> db_cases.CaseState:
    row = store.conn.execute("SELECT case_no FROM case_state WHERE status = 'dispatched' ORDER BY case_no LIMIT 1").fetchone()
    assert row is not None, "the demo season has open cases"
    state = db_cases.get_case(store.conn, row[0])
    assert state is not None
    return state


def test_a_case_past_its_friday_deadline_is_overdue_on_saturday(demo_store):
    # working hours 08:30-12:00 and 13:30-17:30 (resources/config/calendar.toml)
    desk = DeskService(str(demo_store.path), Session("lead1", "值班长", "shift_lead"))
    state = replace(_open_case(demo_store), stage_deadline="2026-11-20T17:30:00+08:00", suspended_at=None)
    assert desk._remaining(state, "2026-11-21T10:00:00+08:00") == "已超期"  # Saturday: no working time since
    assert desk._remaining(state, "2026-11-23T10:00:00+08:00") == "已超期 1.5 工作时"  # Monday from 08:30
    assert desk._remaining(state, "2026-11-20T17:00:00+08:00") == "剩余 30 分钟"  # the day ends at 17:30
    desk.close()


def test_a_suspended_case_keeps_its_light_on_the_map(demo_store):
    case = _open_case(demo_store)
    t = parse(fmt(now()))
    # a stage of 10 hours that ended an hour ago (red), suspended after its first hour (10 % used: green)
    started, deadline, suspended = t - timedelta(hours=10), t - timedelta(hours=1), t - timedelta(hours=9)
    with demo_store.atomic() as conn:
        conn.execute("UPDATE case_state SET stage_started_at = ?, stage_deadline = ?, suspended_at = ? WHERE case_no = ?",
                     (fmt(started), fmt(deadline), fmt(suspended), case.case_no))
    data = MapData(str(demo_store.path))
    layer = data.points("case")
    i = int(np.flatnonzero(np.asarray(layer.codes) == case.case_no)[0])
    assert layer.sub[i] == 0  # green: frozen at 10 %, not red from now
    with demo_store.atomic() as conn:
        conn.execute("UPDATE case_state SET suspended_at = NULL WHERE case_no = ?", (case.case_no,))
    data.close()
    data = MapData(str(demo_store.path))
    layer = data.points("case")
    assert layer.sub[i] == 2  # the same stage running: red
    data.close()
