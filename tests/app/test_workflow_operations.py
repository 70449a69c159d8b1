"""Console operations return Changes and refuse stale views; case numbers are readable and unique."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import operations as ops
from app.case_numbers import (
    SOURCE_LETTERS,
    CaseNumberAllocator,
    check_case_no,
    format_case_no,
    parse_case_no,
    spoken,
)
from app.changes import CASE_LAYER, NO_CHANGES, Changes, merge_all
from app.workflow import ConflictError, RefusedError
from tests.app.workflow_helpers import (
    DEPT,
    DISPATCHER,
    INSIDE,
    INSPECTOR,
    INTAKE,
    LEAD,
    LEADER,
    classes,
    make_engine,
    make_store,
)


@pytest.fixture
def env():
    store = make_store()
    engine, clock = make_engine(store)
    yield engine, clock
    store.close()


def test_full_loop_through_operations(env, tmp_path):
    engine, clock = env
    photo = tmp_path / "before.jpg"
    photo.write_bytes(b"before")
    ch = ops.file_case(engine, INSPECTOR, source="inspector", kind="event", class_code=classes(engine.store)["event"],
                       lon=INSIDE[0], lat=INSIDE[1], address="解放路", photos=[photo])
    no = ch.case_no
    assert no is not None
    assert ch == Changes(frozenset({no}), frozenset({CASE_LAYER}), True)
    steps = [
        lambda s: ops.accept_case(engine, INTAKE, no, expected_seq=s),
        lambda s: ops.register_case(engine, LEAD, no, expected_seq=s),
        lambda s: ops.dispatch_case(engine, DISPATCHER, no, department="D01", expected_seq=s),
        lambda s: ops.request_extension(engine, DEPT, no, amount=1, unit="工作日", expected_seq=s),
        lambda s: ops.decide_extension(engine, DISPATCHER, no, approved=True, amount=1, unit="工作日", expected_seq=s),
        lambda s: ops.escalate_case(engine, LEADER, no, level=2, expected_seq=s),
        lambda s: ops.handle_case(engine, DEPT, no, feedback="已清理", expected_seq=s),
        lambda s: ops.send_check(engine, INTAKE, no, expected_seq=s),
        lambda s: ops.check_case(engine, INSPECTOR, no, passed=True, expected_seq=s),
        lambda s: ops.close_case(engine, LEAD, no, expected_seq=s),
    ]
    for step in steps:
        clock.advance(minutes=10)
        assert step(engine.case(no).last_seq).cases == {no}
    case = engine.case(no)
    assert (case.status, case.extension_count, case.escalation_level) == ("closed", 1, 2)
    assert engine.store.count("case_photo") == 1
    note = ops.comment(engine, LEADER, no, "做得好")
    assert note.scores is False
    assert note.cases == {no}


def test_stale_view_is_refused(env):
    engine, _ = env
    no = ops.file_case(engine, INSPECTOR, source="inspector", kind="event", class_code=classes(engine.store)["event"],
                       lon=INSIDE[0], lat=INSIDE[1]).case_no
    seen = engine.case(no).last_seq
    ops.accept_case(engine, INTAKE, no, expected_seq=seen)
    with pytest.raises(ConflictError, match="请刷新后重试"):
        ops.reject_case(engine, LEAD, no, expected_seq=seen)
    with pytest.raises(RefusedError, match="不能立案"):
        ops.register_case(engine, DISPATCHER, no)


def test_mark_duplicate_changes_both_cases(env):
    engine, _ = env
    kw = {"source": "public", "kind": "event", "class_code": classes(engine.store)["event"], "lon": INSIDE[0],
          "lat": INSIDE[1]}
    a = ops.file_case(engine, INTAKE, **kw).case_no
    b = ops.file_case(engine, INTAKE, **kw).case_no
    assert ops.mark_duplicate(engine, INTAKE, b, original=a).cases == {a, b}
    assert engine.case(b).duplicate_of == a
    sh = ops.self_handle(engine, INSPECTOR, kind="event", class_code=kw["class_code"], lon=INSIDE[0], lat=INSIDE[1])
    assert engine.case(sh.case_no).self_handled == 1


def test_changes_merge():
    a = Changes.of_cases(["A"], scores=False)
    b = Changes(frozenset(), frozenset({"part"}), True)
    assert (a | b) == Changes(frozenset({"A"}), frozenset({CASE_LAYER, "part"}), True)
    assert merge_all([]) == NO_CHANGES
    assert not NO_CHANGES
    assert (a | b).case_no == "A"
    assert Changes.of_cases(["A", "B"]).case_no is None


@settings(max_examples=50)
@given(st.integers(2000, 2099), st.sampled_from(sorted(SOURCE_LETTERS)), st.integers(1, 999_999))
def test_case_numbers_round_trip(year, source, serial):
    no = format_case_no(year, source, serial)
    assert len(no) == 11
    assert parse_case_no(no) == (year, source, serial)
    assert check_case_no(no) == no
    assert spoken(no).replace(" ", "") == no


def test_case_number_allocation_is_unique_per_year_and_source(env):
    engine, _ = env
    alloc = CaseNumberAllocator(engine.store.conn)
    got = [alloc.next(2026, "inspector") for _ in range(3)] + [alloc.next(2026, "hotline_12319"), alloc.next(2027, "inspector")]
    assert got == ["2026J000001", "2026J000002", "2026J000003", "2026R000001", "2027J000001"]
    alloc.seen("2026J000010")
    assert alloc.next(2026, "inspector") == "2026J000011"
    assert len(set(SOURCE_LETTERS.values())) == len(SOURCE_LETTERS)
    assert not {"I", "O"} & set(SOURCE_LETTERS.values())
    with pytest.raises(ValueError, match="source"):
        format_case_no(2026, "pigeon", 1)
    with pytest.raises(ValueError, match="case_no"):
        check_case_no("2026 J 1")
