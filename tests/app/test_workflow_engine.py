"""Scenario tests of the engine: every branch of the case loop and its bookkeeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import timefmt
from app.workflow import ConflictError, DataError, NotFoundError, RefusedError
from app.workflow.engine import EventIn, replay_states
from db import cases as db_cases
from tests.app.workflow_helpers import (
    DEPT,
    DISPATCHER,
    GRIDS,
    INSIDE,
    INSPECTOR,
    INTAKE,
    LEAD,
    LEADER,
    OUTSIDE,
    X0,
    Y0,
    drive_to,
    make_engine,
    make_store,
    report_data,
)


@pytest.fixture
def env():
    store = make_store()
    engine, clock = make_engine(store)
    yield engine, clock
    store.close()


def _dt(text):
    return timefmt.parse(text)


def test_report_derives_place_and_number(env):
    engine, _ = env
    a = engine.act(None, "report", INSPECTOR, report_data(engine.store, lon=X0 + 0.0015, lat=Y0 + 0.0015))
    case = engine.case(a.case_no)
    assert a.case_no == "2026J000001"
    assert case.grid_code == GRIDS[3]
    assert (case.community_code, case.street_code, case.district_code) == (GRIDS[3][:12], GRIDS[3][:9], GRIDS[3][:6])
    assert case.stage == "accept"
    assert case.lon == pytest.approx(X0 + 0.0015)
    b = engine.act(None, "report", INTAKE, report_data(engine.store, source="hotline_12345"))
    c = engine.act(None, "report", INSPECTOR, report_data(engine.store))
    assert (b.case_no, c.case_no) == ("2026H000001", "2026J000002")


@pytest.mark.parametrize(("change", "field"), [
    ({"class_code": "9999"}, "class_code"),
    ({"lon": OUTSIDE[0], "lat": OUTSIDE[1]}, "lon/lat"),
    ({"lon": "117"}, "lon"),
    ({"source": "twitter"}, "source"),
    ({"kind": "thing"}, "kind"),
    ({"urgency": "very"}, "urgency"),
    ({"grid_code": "320311001001999"}, "grid_code"),
    ({"_grid_code": "x"}, "data._grid_code"),
])
def test_bad_report_data_names_the_field(env, change, field):
    engine, _ = env
    with pytest.raises(DataError) as info:
        engine.act(None, "report", INSPECTOR, report_data(engine.store, **change))
    assert info.value.field == field
    assert field.split(".")[-1] in str(info.value)
    assert engine.store.count("case_event") == 0
    assert engine.store.count("case_state") == 0


def test_failed_check_is_rework_to_the_same_department(env):
    engine, clock = env
    no = drive_to(engine, clock, "checking")
    clock.advance(hours=1)
    a = engine.act(no, "check", INSPECTOR, {"passed": False, "comment": "未修好"})
    case = engine.case(no)
    assert a.status == "dispatched"
    assert case.department == "D01"
    assert case.rework_count == 1
    assert case.dispatch_count == 1
    assert case.stage == "handle"
    assert case.handle_deadline == case.stage_deadline
    assert _dt(case.handle_deadline) > _dt(case.stage_started_at)


def test_close_type_normal_and_overdue(env):
    engine, clock = env
    no = drive_to(engine, clock, "closed")
    assert engine.case(no).close_type == "正常结案"
    late = drive_to(engine, clock, "dispatched")
    deadline = _dt(engine.case(late).handle_deadline)
    clock.set(deadline + timedelta(minutes=5))
    for action, actor, data in [("handle", DEPT, {}), ("send_check", INTAKE, {}),
                                ("check", INSPECTOR, {"passed": True}), ("close", LEAD, {})]:
        engine.act(late, action, actor, data)
    case = engine.case(late)
    assert case.status == "closed"
    assert case.close_type == "超时结案"
    assert case.closed_at == timefmt.fmt(clock.now())


def test_extension_moves_the_handle_deadline(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    before = engine.case(no).handle_deadline
    engine.act(no, "request_extension", DEPT, {"amount": 2, "unit": "工作日", "reason": "需要采购"})
    engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "amount": 2, "unit": "小时"})
    case = engine.case(no)
    assert _dt(case.handle_deadline) == _dt(before) + timedelta(hours=2)
    assert case.stage_deadline == case.handle_deadline
    assert case.extension_count == 1
    assert case.extension_hours == pytest.approx(2)
    until = timefmt.fmt(_dt(case.handle_deadline) + timedelta(days=3))
    engine.act(no, "request_extension", DEPT, {})
    engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "until": until})
    assert engine.case(no).handle_deadline == until
    engine.act(no, "request_extension", DEPT, {})
    with pytest.raises(DataError, match="until"):
        engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "until": before})
    with pytest.raises(DataError, match="until"):
        engine.act(no, "decide_extension", DISPATCHER, {"approved": True})
    with pytest.raises(DataError, match="unit"):
        engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "amount": 1, "unit": "周"})


def test_suspend_stops_the_clock_until_resume(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    engine.act(no, "request_suspend", DEPT, {"reason": "等待拆迁"})
    engine.act(no, "decide_suspend", DISPATCHER, {"approved": True})
    frozen = engine.case(no)
    clock.advance(hours=30)
    engine.act(no, "comment", LEADER, {"text": "关注"})
    engine.act(no, "escalate", LEADER, {"level": 1})
    during = engine.case(no)
    assert (during.handle_deadline, during.stage_deadline) == (frozen.handle_deadline, frozen.stage_deadline)
    engine.act(no, "resume", DISPATCHER)
    case = engine.case(no)
    assert case.status == "dispatched"
    assert case.suspended_hours == pytest.approx(30)
    assert _dt(case.handle_deadline) == _dt(frozen.handle_deadline) + timedelta(hours=30)
    assert case.suspended_at is None


def test_return_is_counted_and_redispatch_counts(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    engine.act(no, "request_return", DEPT, {"reason": "非本部门职责"})
    engine.act(no, "decide_return", DISPATCHER, {"approved": True})
    engine.act(no, "dispatch", DISPATCHER, {"department": "D02"})
    case = engine.case(no)
    assert (case.return_count, case.dispatch_count, case.department) == (1, 2, "D02")
    with pytest.raises(DataError, match="department"):
        drive_to(engine, clock, "registered")
        engine.act(engine.store.conn.execute("SELECT max(case_no) FROM case_state").fetchone()[0],
                   "dispatch", DISPATCHER, {"department": "D99"})


def test_escalation_levels_and_repeats(env):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    engine.act(no, "escalate", LEADER, {"level": 1})
    a = engine.act(no, "escalate", LEAD, {"level": 2})
    case = engine.case(no)
    assert (case.escalation_level, case.escalation_count) == (2, 2)
    assert a.payload["_escalation_count"] == 2
    with pytest.raises(DataError, match="level"):
        engine.act(no, "escalate", LEADER, {"level": 0})


def test_mark_duplicate_links_to_the_original(env):
    engine, clock = env
    original = drive_to(engine, clock, "dispatched")
    dup = drive_to(engine, clock, "reported")
    with pytest.raises(DataError, match="original"):
        engine.act(dup, "mark_duplicate", INTAKE, {"original": "2026J999999"})
    with pytest.raises(DataError, match="original"):
        engine.act(dup, "mark_duplicate", INTAKE, {"original": dup})
    engine.act(dup, "mark_duplicate", INTAKE, {"original": original})
    case = engine.case(dup)
    assert (case.status, case.duplicate_of) == ("void", original)
    assert case.closed_at is not None


def test_self_handle_reports_fixes_and_closes(env):
    engine, _ = env
    a = engine.act(None, "self_handle", INSPECTOR, report_data(engine.store, feedback="已扶正"))
    case = engine.case(a.case_no)
    assert (case.status, case.self_handled, case.close_type) == ("closed", 1, "正常结案")
    assert case.reported_at == case.handled_at == case.closed_at
    with pytest.raises(RefusedError):
        engine.act(None, "self_handle", INTAKE, report_data(engine.store))


def test_photos_are_stored_with_sha256(env):
    engine, clock = env
    import hashlib

    no = drive_to(engine, clock, "dispatched")
    blob = b"\xff\xd8 fake jpeg"
    engine.act(no, "handle", DEPT, {"feedback": "ok", "photos": ["after.jpg"]}, photos={"after.jpg": blob})
    engine.act(no, "attach_photo", DEPT, {"file": "more.jpg"}, photos={"more.jpg": b"x"})
    photos = db_cases.photos_of(engine.store.conn, no)
    assert [(p.stage, p.sha256, p.path) for p in photos] == [
        ("handle", hashlib.sha256(blob).hexdigest(), "after.jpg"),
        ("handle", hashlib.sha256(b"x").hexdigest(), "more.jpg"),
    ]
    with pytest.raises(DataError, match="sha256"):
        engine.act(no, "attach_photo", DEPT, {"file": "b.jpg", "sha256": "0" * 64}, photos={"b.jpg": b"y"})


def test_conflict_when_the_case_changed_meanwhile(env):
    engine, clock = env
    no = drive_to(engine, clock, "registered")
    seen = engine.case(no).last_seq
    engine.act(no, "comment", LEADER, {"text": "请尽快"}, expected_seq=seen)
    with pytest.raises(ConflictError, match="已被他人更新"):
        engine.act(no, "dispatch", DISPATCHER, {"department": "D01"}, expected_seq=seen)
    engine.act(no, "dispatch", DISPATCHER, {"department": "D01"}, expected_seq=engine.case(no).last_seq)


def test_out_of_order_time_and_unknown_case(env):
    engine, clock = env
    no = drive_to(engine, clock, "reported")
    with pytest.raises(DataError, match="at"):
        engine.act(no, "accept", INTAKE, {}, at="2020-01-01T00:00:00+08:00")
    with pytest.raises(NotFoundError):
        engine.act("2026J123456", "accept", INTAKE, {})
    with pytest.raises(DataError, match="action"):
        engine.act(no, "teleport", INTAKE, {})


def test_batch_rejects_bad_events_and_applies_the_rest(env):
    engine, _ = env
    data = report_data(engine.store)
    evs = [
        EventIn("2026J000010", "report", INSPECTOR, data, "2026-03-02T10:00:00+08:00", ref=1),
        EventIn("2026J000010", "dispatch", DISPATCHER, {"department": "D01"}, "2026-03-02T10:01:00+08:00", ref=2),
        EventIn("2026J000010", "accept", INTAKE, {}, "2026-03-02T10:02:00+08:00", ref=3),
        EventIn("2026J000011", "report", INSPECTOR, {**data, "lon": OUTSIDE[0]}, "2026-03-02T10:03:00+08:00", ref=4),
        EventIn("2026J000010", "register", LEAD, {}, "2026-03-02T10:01:30+08:00", ref=5),
        EventIn("2026J000010", "register", LEAD, {}, "2026-03-02T10:03:00+08:00", ref=6),
    ]
    res = engine.apply_batch(evs, chunk_size=2)
    assert res.applied == 3
    assert [r for r, _ in res.rejected] == [2, 4, 5]
    assert engine.case("2026J000010").status == "registered"
    assert engine.store.count("case_event") == 3
    again = engine.apply_batch(evs)
    assert (again.applied, again.skipped) == (0, 3)
    assert engine.store.count("case_event") == 3


def test_projection_equals_replay_of_the_record(env):
    engine, clock = env
    for state in ("closed", "suspended", "void", "return_requested", "checking"):
        drive_to(engine, clock, state)
    rebuilt = replay_states(db_cases.iter_events(engine.store.conn))
    stored = {s.case_no: s for s in db_cases.iter_states(engine.store.conn)}
    assert rebuilt == stored


def test_inside_point_lookup_matches_helper(env):
    engine, _ = env
    loc = engine.locator.locate(*INSIDE)
    assert loc is not None
    assert loc.grid_code == GRIDS[0]
    assert engine.locator.locate(*OUTSIDE) is None


def test_batch_evicting_finished_cases_still_knows_them(env):
    """After finished cases leave the batch's memory, later events on them are still checked correctly."""
    engine, _ = env
    data = report_data(engine.store)
    lines = []
    for i in range(3):
        no = f"2026J00010{i}"
        lines += [EventIn(no, "report", INSPECTOR, data, f"2026-03-02T10:0{i}:00+08:00"),
                  EventIn(no, "reject", LEAD, {}, f"2026-03-02T10:0{i}:30+08:00")]
    lines += [EventIn("2026J000100", "comment", LEADER, {"text": "x"}, "2026-03-02T11:00:00+08:00", ref="late"),
              EventIn("2026J000101", "report", INSPECTOR, data, "2026-03-02T11:01:00+08:00", ref="dup")]
    res = engine.apply_batch(lines, chunk_size=2, keep_cases=0)  # evict finished cases after every chunk
    assert res.applied == 7
    assert [r for r, _ in res.rejected] == ["dup"]


def test_batch_stops_cleanly_if_another_writer_appends_meanwhile(env):
    engine, clock = env
    other = drive_to(engine, clock, "reported")
    data = report_data(engine.store)
    evs = [EventIn(f"2026J00020{i}", "report", INSPECTOR, data, f"2026-03-02T12:0{i}:00+08:00") for i in range(4)]
    seen = []

    def meddle(ev, applied):
        seen.append(applied.case_no)
        if len(seen) == 3:  # a console action commits between the batch's chunks
            engine.act(other, "comment", LEADER, {"text": "插入"}, at="2026-03-02T12:30:00+08:00")

    from app.workflow import WorkflowError

    with pytest.raises(WorkflowError, match="其他写入者"):
        engine.apply_batch(evs, chunk_size=2, on_applied=meddle)
    assert engine.case("2026J000201") is not None  # the first chunk was committed whole
    assert engine.case("2026J000202") is None
    rebuilt = replay_states(db_cases.iter_events(engine.store.conn))
    assert rebuilt == {s.case_no: s for s in db_cases.iter_states(engine.store.conn)}


def test_batch_on_a_file_store(tmp_path):
    """Chunked writes on a GeoPackage file: R-tree rows written directly, projection equals the replay."""
    store = make_store(tmp_path / "s.gpkg")
    try:
        engine, _ = make_engine(store)
        data = report_data(store)
        evs = []
        for i in range(30):
            no = f"2026J{i + 1:06d}"
            evs += [EventIn(no, "report", INSPECTOR, data, f"2026-03-02T10:{i:02d}:00+08:00", ref=f"r{i}"),
                    EventIn(no, "accept", INTAKE, {}, f"2026-03-02T11:{i:02d}:00+08:00", ref=f"a{i}"),
                    EventIn(no, "dispatch", DISPATCHER, {"department": "D01"}, f"2026-03-02T11:{i:02d}:30+08:00",
                            ref=f"d{i}")]
        res = engine.apply_batch(evs, chunk_size=7)
        assert (res.applied, len(res.rejected)) == (60, 30)
        assert store.count("case_event") == 60
        rebuilt = replay_states(db_cases.iter_events(store.conn))
        assert rebuilt == {s.case_no: s for s in db_cases.iter_states(store.conn)}
        assert {s.status for s in rebuilt.values()} == {"accepted"}
        assert store.conn.execute("SELECT count(*) FROM rtree_case_state_geom").fetchone()[0] == 30
        again = engine.apply_batch(evs, chunk_size=7)
        assert (again.applied, again.skipped) == (0, 60)
    finally:
        store.close()


def test_file_batch_stops_if_another_writer_appends(tmp_path):
    store = make_store(tmp_path / "s.gpkg")
    try:
        engine, clock = make_engine(store)
        other = drive_to(engine, clock, "reported")
        data = report_data(store)
        evs = [EventIn(f"2026J00030{i}", "report", INSPECTOR, data, f"2026-03-02T12:0{i}:00+08:00") for i in range(6)]

        def meddle(ev, applied):
            if applied.case_no == "2026J000303":
                engine.act(other, "comment", LEADER, {"text": "插入"}, at="2026-03-02T12:30:00+08:00")

        from app.workflow import WorkflowError

        with pytest.raises(WorkflowError, match="其他写入者"):
            engine.apply_batch(evs, chunk_size=2, on_applied=meddle)
        rebuilt = replay_states(db_cases.iter_events(store.conn))
        assert rebuilt == {s.case_no: s for s in db_cases.iter_states(store.conn)}
        assert engine.case("2026J000305") is None
    finally:
        store.close()


def _report_lines(store, n, minute0=0):
    data = report_data(store)
    return [EventIn(f"2026J{minute0 + i + 1:06d}", "report", INSPECTOR, data,
                    f"2026-03-02T{10 + (minute0 + i) // 60:02d}:{(minute0 + i) % 60:02d}:00+08:00") for i in range(n)]


def test_file_batch_inside_a_caller_transaction_joins_it(tmp_path):
    """Inside the caller's transaction the chunks are written on the caller's connection (no background
    writer, which would wait for the caller's lock), so rolling the caller back undoes the whole batch."""
    store = make_store(tmp_path / "s.gpkg")
    try:
        engine, _ = make_engine(store)
        with pytest.raises(RuntimeError, match="undo"), store.atomic():
            res = engine.apply_batch(_report_lines(store, 5), chunk_size=2)
            assert res.applied == 5
            assert store.count("case_event") == 5
            raise RuntimeError("undo")
        assert store.count("case_event") == 0
        assert store.count("case_state") == 0
        assert engine.apply_batch(_report_lines(store, 5), chunk_size=2).applied == 5
        assert store.count("case_event") == 5
    finally:
        store.close()


def test_file_batch_cancelled_keeps_whole_chunks(tmp_path, monkeypatch):
    """A cancel stops the batch between events: every written chunk is whole (chain and projection agree),
    the events not yet written are simply not there, and a second run applies exactly those."""
    from app.progress import Cancelled, Progress
    from app.workflow import engine as engine_module

    monkeypatch.setattr(engine_module, "PROGRESS_EVERY", 4)
    store = make_store(tmp_path / "s.gpkg")
    try:
        engine, _ = make_engine(store)
        lines = _report_lines(store, 30)
        reports: list[float] = []
        prog = Progress(lambda f, m: reports.append(f))

        def cancel_later(ev, applied):
            if applied.case_no == "2026J000019":
                prog.cancel()

        with pytest.raises(Cancelled):
            engine.apply_batch(lines, progress=prog, chunk_size=6, on_applied=cancel_later)
        written = store.count("case_event")
        assert 0 < written < 30
        assert written % 6 == 0
        assert reports
        assert reports[-1] < 1.0
        rebuilt = replay_states(db_cases.iter_events(store.conn))
        assert rebuilt == {s.case_no: s for s in db_cases.iter_states(store.conn)}
        again = engine.apply_batch(lines, chunk_size=6)
        assert (again.applied, again.skipped) == (30 - written, written)
        assert store.count("case_event") == 30
    finally:
        store.close()


@pytest.mark.parametrize("text", ["2026-03-02T10:00:00+08:00", "2026-12-31T23:59:59+08:00", "2026-03-02T02:00:00+00:00",
                                  "2026-03-02T10:00:00.250000+08:00", "2026-03-02T10:00:00-05:30"])
def test_fast_timestamp_text_equals_timefmt(text):
    from datetime import datetime

    from app.workflow.engine import _fmt_dt

    d = datetime.fromisoformat(text)
    assert _fmt_dt(d) == timefmt.fmt(d)
    assert _fmt_dt(timefmt.to_cst(d)) == timefmt.fmt(d)
