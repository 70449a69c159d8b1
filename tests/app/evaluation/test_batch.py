"""The batch engine (``app.evaluation.batch``: several periods at once, slices by closing period, case lists
kept as text, DISTINCT done in Python) gives exactly what the plain reference gives period by period
(``indicators.compute``), on random multi-month histories with redispatches, reworks, extensions,
suspensions, cases open across months, odd timestamps and odd case numbers; and a whole evaluation through
it equals one through the reference."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.evaluation import batch, run
from app.evaluation import indicators as ind
from app.evaluation.periods import Period, parse_period
from db import evaluation_repo as repo
from db.store import Store
from tests.app.evaluation.history import History, at

A, B = "320302", "320303"
KINDS = ["district", "street", "community", "grid", "department", "inspector", "intake", "shift_lead", "dispatcher",
         "person", "post", "centre"]
FATES = ["on_time", "late", "open", "rework", "redispatch", "extended", "suspended", "rejected", "self", "void",
         "registered", "odd_close", "handle_only", "late_extension", "resumed", "late_redispatch", "suspend_void"]
SOURCES = ["inspector", "hotline_12345", "hotline_12319", "public", "media"]
MONTHS = ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
# filtered names exercise every filter through the batch queries as well
NAMES = [*ind.DEFINITIONS, "closure_rate@hotline", "on_time_handling_rate@key_area", "due_to_handle@public",
         "overdue_open@inspector", "received@hotline", "handled_on_time@public", "valid_reports@public",
         "closed_on_time@general_area"]


def _day(month: int, day: int) -> str:
    """Day ``day`` counted from the first of month ``month`` of MONTHS (may run into later months)."""
    from datetime import date, timedelta

    y, m = map(int, MONTHS[month].split("-"))
    return (date(y, m, 1) + timedelta(days=day - 1)).isoformat()


# (month, day, fate, district, source, department, second department, days to closing, time of day): the
# day may be the 1st and the time midnight, so that events fall exactly on period bounds
case = st.tuples(st.integers(0, 4), st.one_of(st.just(1), st.integers(1, 28)), st.sampled_from(FATES),
                 st.sampled_from([A, B]), st.sampled_from(SOURCES), st.sampled_from(["D1", "D2", "D3"]),
                 st.sampled_from(["D1", "D2"]), st.one_of(st.just(0), st.integers(0, 70)),
                 st.sampled_from(["00:00", "09:30", "23:59"]))


def build(store: Store, cases: list[tuple[Any, ...]], odd_numbers: bool = False, cutoff: str | None = None) -> None:
    """A history over August–December 2026 (and a little after): every fate the indicators distinguish.
    With ``cutoff`` only the events before that instant are written (the record as it stood then)."""
    h = History(store, cutoff).base()
    with store.atomic() as c:
        c.execute("UPDATE unit_grid SET key_area = 1 WHERE code = '320302001001002'")
    for i, (month, day, fate, district, source, dept, dept2, delay, hm) in enumerate(cases):
        d = _day(month, day)
        later = _day(month, day + delay)
        reporter = "insp1" if source == "inspector" else "op1"
        grid = district + ("001001002" if i % 3 == 1 and district == A else "001001001")
        no = f"H{i:03d}"
        if odd_numbers and i % 4 == 1:
            no = f"H{i:03d},X"  # a number with a comma: the reference splits it, the batch must too
        c = h.case(no, district, grid=grid, source=source, reporter=reporter)
        if fate == "self":
            c.self_handle(at(d))
            continue
        c.report(at(d))
        if fate == "rejected":
            c.reject(at(d, "10:00"))
            continue
        c.accept(at(d, "09:10")).register(at(d, "09:20"))
        if fate == "registered":
            continue
        if fate == "void":
            c.void(at(later, "12:00"))
            continue
        if fate == "handle_only":  # no dispatch at all: the engine never does this, an import might
            c.handle(at(later, "11:00"))
            continue
        deadline = at(_day(month, day + 3), hm)
        c.dispatch(at(d, hm), dept, deadline=deadline)
        if fate == "open":
            continue
        if fate == "suspended":
            c.suspend(at(later, "23:00"))
            continue
        if fate == "suspend_void":  # 挂账 the next day, 作废 weeks later without resuming
            c.suspend(at(_day(month, day + 1), "08:00"))
            c.void(at(_day(month, day + delay + 2), "12:00"))
            continue
        if fate in ("resumed", "late_redispatch", "late_extension"):
            # the change comes days or weeks after the dispatch (often after a month's end), in time order
            mid = _day(month, day + 1 + delay // 2)
            if fate == "resumed":
                c.suspend(at(_day(month, day + 1), "08:00"))
                c.resume(at(mid, "08:30"), deadline=at(_day(month, day + delay // 2 + 5), "09:00"))
            elif fate == "late_redispatch":
                c.return_(at(mid, "11:00"))
                c.dispatch(at(mid, "12:00"), dept2, deadline=at(_day(month, day + delay // 2 + 4), "12:00"),
                           by="disp2")
            else:
                c.extend(at(mid, "10:00"), until=at(_day(month, day + delay + 20), "17:00"))
            done = _day(month, day + delay + 2)
            c.handle(at(done, "15:00")).send_check(at(done, "16:00")).check(at(done, "16:10"))
            c.close(at(_day(month, day + delay + 3), "09:00"))
            continue
        if fate == "redispatch":
            c.return_(at(d, "11:00"))
            c.dispatch(at(d, "12:00"), dept2, deadline=deadline, by="disp2")
        if fate == "extended":
            c.extend(at(_day(month, day + 1)), until=at(_day(month, day + 20), "17:00"))
        handled = at(d, "15:00") if fate in ("on_time", "redispatch", "extended") else at(later, "15:00")
        c.handle(handled)
        if fate == "rework":
            c.send_check(at(later, "15:10")).check(at(later, "15:20"), passed=False,
                                                  deadline=at(_day(month, day + delay + 3), "15:20"))
            c.handle(at(later, "15:40"))
        if fate == "odd_close":  # timestamps not in the canonical form: compared as text, like the reference
            c.close(f"{MONTHS[min(month + 1, 4)]}")
            continue
        c.send_check(at(later, "16:00")).check(at(later, "16:10")).close(at(_day(month, day + delay + 1), hm))
        if source != "inspector":
            c.callback(at(later, "18:00"), "满意" if i % 2 else "不满意")


def _periods(draw_start: int, length: int, gap: bool) -> list[Period]:
    keys = MONTHS[draw_start:draw_start + length]
    if gap and len(keys) > 2:
        keys = [keys[0], *keys[2:]]
    return [parse_period(k) for k in keys]


def _units(store: Store, kind: str) -> list[str]:
    codes = [str(r["code"]) for r in repo.unit_rows(store.conn, kind)]
    return codes or ["nobody"]


def reference(store: Store, kind: str, periods: list[Period], units: list[str], names: list[str],
              options: dict[str, Any]) -> list[dict[str, Any]]:
    return [ind.compute(store, kind, p, units, names, options) for p in periods]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case, min_size=1, max_size=14), st.sampled_from(KINDS), st.integers(0, 4), st.integers(1, 5),
       st.booleans(), st.integers(1, 45))
def test_batch_equals_the_reference_period_by_period(cases, kind, start, length, gap, days):
    store = Store.memory()
    try:
        build(store, cases)
        periods = _periods(start, length, gap)
        units = _units(store, kind)
        opts = {"long_term_cases": {"days": days}}
        want = reference(store, kind, periods, units, NAMES, opts)
        assert batch.compute(store, kind, periods, units, NAMES, opts) == want
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case, min_size=1, max_size=14), st.sampled_from(["district", "department", "grid", "centre"]),
       st.sampled_from(["", repo.CASE_FILTERS["public"], repo.CASE_FILTERS["key_area"]]),
       st.lists(st.sampled_from(["2026-08-01", "2026-08-20", "2026-09-01", "2026-09-15", "2026-10-01",
                                 "2026-10-31", "2026-11-01", "2026-12-01", "2027-01-01", "2027-03-01"]),
                min_size=2, max_size=7, unique=True))
def test_period_slices_equal_one_query_per_period(cases, kind, flt, bounds):
    """The slice queries of 应处置 and 超期未结 against the one-period queries, for arbitrary ascending periods
    (of unequal length, with gaps between them)."""
    store = Store.memory()
    try:
        build(store, cases)
        b = sorted(f"{x}T00:00:00+08:00" for x in bounds)
        spans = [(b[i], b[i + 1]) for i in range(0, len(b) - 1, 2)] or [(b[0], b[1])]
        c = store.conn
        due = repo.due_to_handle_by_periods(c, kind, spans, flt)
        assert [repo._lists(x) for x in due] == [repo.due_to_handle_by_unit(c, kind, s, e, flt) for s, e in spans]
        ends = [e for _s, e in spans]
        over = repo.overdue_open_by_periods(c, kind, ends, flt)
        assert [repo._lists(x) for x in over] == [repo.overdue_open_by_unit(c, kind, e, flt) for e in ends]
    finally:
        store.close()


def test_events_on_period_bounds(mem_store):
    """Dispatched, due, closed and suspended exactly at midnight between two months: each instant belongs
    to the month it starts, in the slices as in the one-period queries."""
    h = History(mem_store).base()
    first = at("2026-10-01", "00:00")
    for i, (dispatched, deadline, closed) in enumerate([
        (first, at("10-03"), at("10-15")), (at("09-20"), first, first), (at("09-20"), at("09-25"), first),
        (at("09-30", "23:59"), first, at("2026-11-01", "00:00")), (first, first, None),
        (at("08-31", "12:00"), at("2026-09-01", "00:00"), at("2026-12-01", "00:00")),
    ]):
        c = h.case(f"B{i}", A if i % 2 else B).report(at("08-30")).accept(at("08-30", "09:10"))
        c.register(at("08-30", "09:20")).dispatch(dispatched, "D1" if i % 3 else "D2", deadline=deadline)
        if i == 4:
            c.suspend(at("2026-11-01", "00:00"))
        if closed:
            c.handle(closed).close(closed)
    periods = [parse_period(m) for m in MONTHS]
    for kind in ("district", "department", "centre"):
        units = _units(mem_store, kind)
        assert batch.compute(mem_store, kind, periods, units, NAMES, {}) == reference(
            mem_store, kind, periods, units, NAMES, {})
        spans = [(p.start_at, p.end_at) for p in periods]
        c = mem_store.conn
        due = repo.due_to_handle_by_periods(c, kind, spans)
        assert [repo._lists(x) for x in due] == [repo.due_to_handle_by_unit(c, kind, s, e) for s, e in spans]
        over = repo.overdue_open_by_periods(c, kind, [e for _s, e in spans])
        assert [repo._lists(x) for x in over] == [repo.overdue_open_by_unit(c, kind, e) for _s, e in spans]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case, min_size=4, max_size=12), st.sampled_from(["department", "district", "dispatcher", "post"]))
def test_case_numbers_with_commas_fall_back_exactly(cases, kind):
    """A number holding a comma is split by the reference like two numbers; the batch keeps SQLite's
    DISTINCT then (Python could not tell values from numbers) and still agrees."""
    store = Store.memory()
    try:
        build(store, cases, odd_numbers=True)
        periods = [parse_period(m) for m in MONTHS]
        units = _units(store, kind)
        assert batch.compute(store, kind, periods, units, NAMES, {}) == reference(store, kind, periods, units,
                                                                                   NAMES, {})
    finally:
        store.close()


def test_distinct_in_python_only_when_exact(mem_store):
    h = History(mem_store).base()
    h.case("A,B").report(at("10-01")).accept(at("10-01", "09:10")).register(at("10-01", "09:20")) \
        .dispatch(at("10-01", "09:30"), "D1", deadline=at("10-04"))
    h.case("A").report(at("10-01")).accept(at("10-01", "09:10")).register(at("10-01", "09:20")) \
        .dispatch(at("10-01", "09:30"), "D1", deadline=at("10-04"))
    oct_ = parse_period("2026-10")
    texts, repeats = repo.distinct_dispatched_text(mem_store.conn, "department", oct_.start_at, oct_.end_at)
    assert not repeats  # "A,B" and "A": the numbers of the text are not its values
    assert repo._lists(texts) == repo.dispatched_by_unit(mem_store.conn, "department", oct_.start_at, oct_.end_at,
                                                         distinct=True)
    h.case("C").report(at("10-02"))
    texts, repeats = repo.distinct_events_text(mem_store.conn, "district", "report", oct_.start_at, oct_.end_at)
    assert not repeats
    with mem_store.atomic() as c:
        c.execute("DELETE FROM case_state WHERE case_no = 'A,B'")
    texts, repeats = repo.distinct_dispatched_text(mem_store.conn, "department", oct_.start_at, oct_.end_at)
    assert not repeats  # the event of "A,B" is still in the record
    got = batch.compute(mem_store, "department", [oct_], ["D1"], ["received", "dispatched"])
    assert got == reference(mem_store, "department", [oct_], ["D1"], ["received", "dispatched"], {})


@pytest.mark.parametrize(("scheme", "kinds"), [("standard", ["district", "department", "dispatcher"]),
                                               ("zhengzhou", None), ("ningbo_district_bureau", None)])
def test_evaluation_through_the_batch_equals_the_reference(demo_store: Store, monkeypatch, scheme, kinds):
    """Year and month of the demo city: every unit, item, case list and rank as with the reference path."""
    last = repo.last_event_at(demo_store.conn)
    assert last is not None
    month, year = last[:7], last[:4]
    for kind in kinds or [None]:
        fast = [run.canonical(run.evaluate_full(demo_store, scheme, p, kind, workers=w).result)
                for p in (month, year) for w in (1, 2)]
        assert fast[0] == fast[1]
        assert fast[2] == fast[3]
        with monkeypatch.context() as m:
            def plain(store, kind_, periods, units, names=None, options=None, results=None, only=None):
                chosen = list(periods) if only is None else [periods[only]]
                return reference(store, kind_, chosen, list(units), list(names or ind.DEFINITIONS),
                                 dict(options or {}))

            m.setattr(batch, "compute", plain)
            m.setattr(run, "_jobs", lambda scheme, kinds, periods: ([], [set() for _ in periods]))
            slow = [run.canonical(run.evaluate_full(demo_store, scheme, p, kind, workers=1).result)
                    for p in (month, year)]
        assert fast[0] == slow[0]
        assert fast[2] == slow[1]
