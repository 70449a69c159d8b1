"""Indicators on a crafted October 2026: every value and its case list worked out by hand (see comments)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.evaluation import indicators as ind
from app.evaluation.periods import PeriodError, parse_period
from tests.app.evaluation.history import History, at

OCT = parse_period("2026-10")
A, B = "320302", "320303"


def build_october(store) -> History:
    """The crafted month. Deadlines are set by hand on dispatch (the engine would compute them).

    A: C1 on time; C2 late with one rework; C3 from a hotline, extended, still open past its deadline;
       C4 rejected; C9 reported in November (outside).
    B: C5 reported in September, closed late in October; C6 suspended (open, not overdue);
       C7 returned by D1, redispatched to D2, escalated, closed on time; C8 reported 31 Oct 23:00 and
       accepted on 1 Nov (not valid in October).
    """
    h = History(store).base()
    (h.case("C1", A, reported=at("10-02")).accept(at("10-02", "09:10")).register(at("10-02", "09:20"))
     .dispatch(at("10-02", "09:30"), "D1", deadline=at("10-05")).handle(at("10-04"))
     .send_check(at("10-04", "10:00")).check(at("10-04", "11:00")).close(at("10-05"))
     .callback(at("10-06"), "满意"))
    (h.case("C2", A, reported=at("10-03")).accept(at("10-03", "09:10")).register(at("10-03", "09:20"))
     .dispatch(at("10-03", "09:30"), "D1", deadline=at("10-06")).handle(at("10-08"))
     .send_check(at("10-08", "10:00")).check(at("10-08", "11:00"), passed=False).handle(at("10-09"))
     .send_check(at("10-09", "10:00")).check(at("10-09", "11:00")).close(at("10-10"))
     .callback(at("10-11"), satisfaction=False))  # the simulator's form: {"callback": true, "satisfied": false}
    (h.case("C3", A, source="hotline_12345", reporter="op1", reported=at("10-05"))
     .send_verify(at("10-05", "09:10")).verify(at("10-05", "09:30"), by="insp2").register(at("10-05", "10:00"))
     .dispatch(at("10-05", "10:30"), "D2", deadline=at("10-10"), by="disp2")
     .extend(at("10-09"), until=at("10-20")))
    h.case("C4", A, reported=at("10-06")).reject(at("10-06", "10:00"))
    (h.case("C5", B, reported=at("09-25")).accept(at("09-25", "09:10")).register(at("09-25", "09:20"))
     .dispatch(at("09-26"), "D1", deadline=at("09-28")).handle(at("10-02"))
     .send_check(at("10-02", "10:00")).check(at("10-02", "11:00")).close(at("10-03")))
    (h.case("C6", B, reported=at("10-10")).accept(at("10-10", "09:10")).register(at("10-10", "09:20"))
     .dispatch(at("10-10", "09:30"), "D2", deadline=at("10-15")).suspend(at("10-12")))
    (h.case("C7", B, reported=at("10-11")).accept(at("10-11", "09:10")).register(at("10-11", "09:20"))
     .dispatch(at("10-11", "09:30"), "D1", deadline=at("10-13")).return_(at("10-12"))
     .escalate(at("10-12", "11:00"))
     .dispatch(at("10-12", "12:00"), "D2", deadline=at("10-14"), by="disp2").handle(at("10-13"))
     .send_check(at("10-13", "10:00")).check(at("10-13", "11:00")).close(at("10-14")))
    h.case("C8", B, reported=at("10-31", "23:00")).accept(at("11-01", "08:30"))
    h.case("C9", A, reported=at("11-02"))
    return h


def values(store, kind, period=OCT, units=(A, B)):
    return ind.compute(store, kind, period, list(units))


def cases(indicator):
    return sorted(indicator.cases)


def test_area_counts_and_their_cases(october):
    r = values(october, "district")
    a, b = r[A], r[B]
    # reports located in A in October: C1 C2 C3 C4 (C9 is November)
    assert cases(a["reported"]) == ["C1", "C2", "C3", "C4"]
    # valid: accepted or verified true before 1 Nov; C4 was rejected
    assert cases(a["valid_reports"]) == ["C1", "C2", "C3"]
    assert a["registration_rate"].value == pytest.approx(3 / 4)
    assert cases(b["reported"]) == ["C6", "C7", "C8"]
    assert cases(b["valid_reports"]) == ["C6", "C7"]  # C8 accepted on 1 Nov
    assert cases(a["registered"]) == ["C1", "C2", "C3"]
    assert cases(b["registered"]) == ["C6", "C7"]  # C5 was registered in September
    assert cases(a["closed"]) == ["C1", "C2"]
    assert cases(b["closed"]) == ["C5", "C7"]
    # on time: C1 handled 4 Oct ≤ 5 Oct; C2 last handled 9 Oct > 6 Oct; C5 2 Oct > 28 Sep; C7 13 ≤ 14 Oct
    assert cases(a["closed_on_time"]) == ["C1"]
    assert cases(b["closed_on_time"]) == ["C7"]
    # open at 1 Nov past the (extended) 20 Oct deadline: C3; C6 is suspended so its clock stands still
    assert cases(a["overdue_open"]) == ["C3"]
    assert cases(b["overdue_open"]) == []
    assert cases(a["due_to_close"]) == ["C1", "C2", "C3"]
    assert a["closure_rate"].value == pytest.approx(2 / 3)
    assert a["on_time_closure_rate"].value == pytest.approx(1 / 3)
    assert (a["on_time_closure_rate"].numerator, a["on_time_closure_rate"].denominator) == (1, 3)
    # the cases behind a "higher is better" rate are the shortfall: what cost the points
    assert cases(a["closure_rate"]) == ["C3"]
    assert cases(a["on_time_closure_rate"]) == ["C2", "C3"]
    assert cases(a["registration_rate"]) == ["C4"]
    assert b["closure_rate"].value == pytest.approx(1.0)
    assert b["on_time_closure_rate"].value == pytest.approx(0.5)
    assert cases(a["reworked"]) == ["C2"]
    assert a["rework_rate"].value == pytest.approx(1 / 3)
    assert cases(a["rework_rate"]) == ["C2"]  # a "lower is better" rate lists its numerator
    assert cases(a["extended"]) == ["C3"]
    assert cases(a["due_to_handle"]) == ["C1", "C2", "C3"]
    assert a["extension_rate"].value == pytest.approx(1 / 3)
    assert cases(b["due_to_handle"]) == ["C5", "C6", "C7"]  # C5 dispatched in September, open in October
    assert cases(b["suspended"]) == ["C6"]
    assert cases(b["returned"]) == ["C7"]
    assert cases(b["redispatched"]) == ["C7"]
    assert cases(b["escalated"]) == ["C7"]
    assert cases(a["callbacks"]) == ["C1", "C2"]
    assert cases(a["satisfied"]) == ["C1"]
    assert a["satisfaction_rate"].value == pytest.approx(0.5)
    assert cases(a["public_reports"]) == ["C3"]


def test_zero_denominator_is_not_applicable(october):
    r = values(october, "district", units=(A, B, "320311"))
    assert r[B]["callbacks"].value == 0
    assert r[B]["satisfaction_rate"].value is None  # no callbacks: neither 0 nor 100%
    empty = r["320311"]  # 泉山区 has no cases at all
    for name in ("registration_rate", "closure_rate", "on_time_closure_rate", "rework_rate", "extension_rate",
                 "on_time_handling_rate", "repeat_rate", "satisfaction_rate"):
        assert empty[name].value is None, name
        assert empty[name].denominator == 0
    assert empty["reported"].value == 0


def test_department_attribution_follows_the_dispatch_in_force(october):
    r = values(october, "department", units=("D1", "D2", "D3"))
    d1, d2 = r["D1"], r["D2"]
    assert cases(d1["closed"]) == ["C1", "C2", "C5"]  # C7 was closed under D2 after the return
    assert cases(d2["closed"]) == ["C7"]
    assert cases(d1["returned"]) == ["C7"]  # the return is D1's, the case's current department is D2
    assert cases(d2["redispatched"]) == ["C7"]
    assert cases(d1["reworked"]) == ["C2"]
    # open in October and dispatched to the unit before 1 Nov: D1 also had C7 before it was returned
    assert cases(d1["due_to_handle"]) == ["C1", "C2", "C5", "C7"]
    assert cases(d2["due_to_handle"]) == ["C3", "C6", "C7"]
    # handle events in October at or before the deadline: C1 (4 ≤ 5 Oct) for D1; C7 (13 ≤ 14 Oct) for D2
    assert cases(d1["handled_on_time"]) == ["C1"]
    assert d1["on_time_handling_rate"].value == pytest.approx(1 / 4)
    assert d2["on_time_handling_rate"].value == pytest.approx(1 / 3)
    assert cases(d2["extended"]) == ["C3"]
    assert cases(d2["suspended"]) == ["C6"]
    assert r["D3"]["on_time_handling_rate"].value is None
    assert cases(d1["dispatched"]) == ["C1", "C2", "C7"]  # C5 was dispatched in September


def test_post_and_person_indicators(october):
    insp = values(october, "inspector", units=("insp1", "insp2"))
    # insp1 filed C1 C2 C4 C6 C7 C8 in October (the hotline case C3 is op1's); C4 rejected, C8 accepted in Nov
    assert cases(insp["insp1"]["reported"]) == ["C1", "C2", "C4", "C6", "C7", "C8"]
    assert cases(insp["insp1"]["valid_reports"]) == ["C1", "C2", "C6", "C7"]
    assert insp["insp1"]["valid_report_rate"].value == pytest.approx(4 / 6)
    assert cases(insp["insp2"]["verified"]) == ["C3"]
    assert insp["insp2"]["reported"].value == 0
    assert insp["insp2"]["valid_report_rate"].value is None
    disp = values(october, "dispatcher", units=("disp1", "disp2"))
    assert cases(disp["disp1"]["dispatched"]) == ["C1", "C2", "C6", "C7"]
    assert cases(disp["disp2"]["dispatched"]) == ["C3", "C7"]
    # the return of C7 is charged to disp1, whose dispatch it undid
    assert cases(disp["disp1"]["returned_after_dispatch"]) == ["C7"]
    # C2's rework happened under disp1's dispatch: accuracy 1 - 1/4
    assert disp["disp1"]["accurate_dispatch_rate"].value == pytest.approx(3 / 4)
    lead = values(october, "shift_lead", units=("lead1",))
    assert cases(lead["lead1"]["registered"]) == ["C1", "C2", "C3", "C6", "C7"]
    assert lead["lead1"]["accurate_registration_rate"].value == pytest.approx(1.0)
    post = values(october, "post", units=("intake", "dispatcher"))
    # accept events by the intake post in October: C1 C2 C6 C7 (C5 in September, C8 in November)
    assert cases(post["intake"]["accepted"]) == ["C1", "C2", "C6", "C7"]


def test_street_and_grid_kinds(october):
    r = values(october, "street", units=("320302001", "320303001"))
    assert cases(r["320302001"]["reported"]) == ["C1", "C2", "C3", "C4"]
    g = values(october, "grid", units=("320302001001001",))
    assert g["320302001001001"]["closed"].value == 2


def test_self_handled_case_is_a_valid_on_time_report_not_a_close(mem_store):
    h = History(mem_store).base()
    h.case("S1", A).self_handle(at("10-07"))
    r = values(mem_store, "district", units=(A,))[A]
    assert cases(r["reported"]) == ["S1"]
    assert cases(r["valid_reports"]) == ["S1"]
    assert cases(r["self_handled"]) == ["S1"]
    assert r["closed"].value == 0


def test_repeat_cases_by_road_class(mem_store):
    h = History(mem_store).base()
    main, back = "320302001001001", "320302001001002"
    # main road: 2 of the same class → both repeats; a different class once → not a repeat
    h.case("R1", A, grid=main, reported=at("10-01"))
    h.case("R2", A, grid=main, reported=at("10-08"))
    h.case("R3", A, grid=main, reported=at("10-09"), class_code="020202")
    # back street: 3 of the same class is below the threshold of 4
    for i in range(3):
        h.case(f"K{i}", A, grid=back, reported=at(f"10-1{i}"))
    # part classes never count
    h.case("P1", A, grid=main, reported=at("10-02"), kind="part", class_code="0101")
    h.case("P2", A, grid=main, reported=at("10-03"), kind="part", class_code="0101")
    r = values(mem_store, "district", units=(A,))[A]
    assert cases(r["repeat_cases"]) == ["R1", "R2"]
    h.case("K3", A, grid=back, reported=at("10-20"))
    r = values(mem_store, "district", units=(A,))[A]
    assert cases(r["repeat_cases"]) == ["K0", "K1", "K2", "K3", "R1", "R2"]


def test_quarter_and_custom_periods_cover_their_days(october):
    q = values(october, "district", parse_period("2026Q4"))
    assert cases(q[A]["reported"]) == ["C1", "C2", "C3", "C4", "C9"]
    sep = values(october, "district", parse_period("2026Q3"))
    assert cases(sep[B]["reported"]) == ["C5"]
    custom = values(october, "district", parse_period("2026-10-01..2026-10-05"))
    assert cases(custom[A]["reported"]) == ["C1", "C2", "C3"]  # C3 reported 5 Oct, last day included
    y = values(october, "district", parse_period("2026"))
    assert cases(y[B]["closed"]) == ["C5", "C7"]


def test_unknown_indicator_and_kind_are_clear_errors(october):
    with pytest.raises(KeyError, match="indicator='nope'"):
        ind.compute(october, "district", OCT, [A], ["nope"])
    with pytest.raises(ValueError, match="unit_kind='planet'"):
        ind.compute(october, "planet", OCT, [A])


@pytest.mark.parametrize("bad", ["2026-13", "2026Q5", "26", "2026-10-15..2026-10-01", "2026-02-30..2026-03-01", ""])
def test_bad_periods_name_the_value(bad):
    with pytest.raises(PeriodError, match="period="):
        parse_period(bad)


@settings(max_examples=60, deadline=None)
@given(st.integers(2000, 2099), st.integers(1, 12))
def test_months_tile_their_year(y, m):
    p = parse_period(f"{y}-{m:02d}")
    assert p.months() == [p]
    year = parse_period(str(y))
    ms = year.months()
    assert len(ms) == 12
    assert ms[m - 1] == p
    assert all(a.end == b.start for a, b in itertools.pairwise(ms))
    assert ms[0].start == year.start
    assert ms[-1].end == year.end
    assert parse_period(f"{y}Q{(m - 1) // 3 + 1}").contains(p.start_at)


def test_every_indicator_is_documented():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "formulas.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", doc))
    missing = [n for n in ind.DEFINITIONS if n not in documented]
    assert not missing, f"indicators missing from docs/formulas.md: {missing}"


def test_indicators_on_a_history_recorded_by_the_workflow_engine():
    """The same SQL over what the real engine records (payload keys, deadlines, projections)."""
    from tests.app.workflow_helpers import (
        DEPT,
        DISPATCHER,
        DISTRICT,
        INSPECTOR,
        INTAKE,
        LEAD,
        make_engine,
        make_store,
        report_data,
    )

    store = make_store()
    try:
        engine, clock = make_engine(store, "2026-03-02T09:00:00+08:00")  # handle limit 48 h (NaturalDeadlines)

        def step(no, action, actor, data=None, minutes=10):
            clock.advance(minutes=minutes)
            return engine.act(no, action, actor, data or {}).case_no

        # A: on time, one rework; dispatched 25 min after registering (limit 1 h)
        a = step(None, "report", INSPECTOR, report_data(store))
        step(a, "accept", INTAKE)
        step(a, "register", LEAD)
        step(a, "dispatch", DISPATCHER, {"department": "D01"}, minutes=25)
        step(a, "handle", DEPT, minutes=60 * 5)
        step(a, "send_check", INTAKE)
        step(a, "check", INSPECTOR, {"passed": False})
        step(a, "handle", DEPT, minutes=60 * 3)
        step(a, "send_check", INTAKE)
        step(a, "check", INSPECTOR, {"passed": True})
        step(a, "close", LEAD)
        # B: dispatched late (2 h after registering), extended by 3 days, then open past the new deadline
        b = step(None, "report", INSPECTOR, report_data(store))
        step(b, "accept", INTAKE)
        step(b, "register", LEAD)
        step(b, "dispatch", DISPATCHER, {"department": "D02"}, minutes=120)
        step(b, "request_extension", DEPT)
        step(b, "decide_extension", DISPATCHER, {"approved": True, "amount": 3, "unit": "自然日"})
        clock.set("2026-03-31T12:00:00+08:00")
        march = parse_period("2026-03")
        r = ind.compute(store, "district", march, [DISTRICT])[DISTRICT]
        assert cases(r["reported"]) == sorted([a, b])
        assert cases(r["valid_reports"]) == sorted([a, b])
        assert cases(r["closed"]) == [a]
        assert cases(r["closed_on_time"]) == [a]
        assert cases(r["reworked"]) == [a]
        assert cases(r["extended"]) == [b]
        assert cases(r["overdue_open"]) == [b]  # 48 h + 3 days after 2 March, still open at 1 April
        assert r["on_time_closure_rate"].value == pytest.approx(1 / 2)
        assert cases(r["on_time_closure_rate"]) == [b]
        disp = ind.compute(store, "dispatcher", march, [DISPATCHER.id])[DISPATCHER.id]
        # the engine's _stage_deadline on `register` is 1 h: A dispatched after 25 min, B after 2 h
        assert cases(disp["dispatched"]) == sorted([a, b])
        assert cases(disp["dispatched_on_time"]) == [a]
        assert disp["dispatch_on_time_rate"].value == pytest.approx(0.5)
        # 郑州 岗位按时程度: the post's own stage-ending actions; a dispatcher's are its dispatches
        assert disp["post_on_time_rate"].value == pytest.approx(0.5)
        assert cases(disp["post_on_time_rate"]) == [b]
        lead = ind.compute(store, "shift_lead", march, [LEAD.id], ["post_actions", "post_on_time_rate"])[LEAD.id]
        assert cases(lead["post_actions"]) == sorted([a, a, b])  # register A, close A, register B
        dept = ind.compute(store, "department", march, ["D01", "D02"])
        assert cases(dept["D01"]["closed"]) == [a]
        assert cases(dept["D02"]["extended"]) == [b]
    finally:
        store.close()
