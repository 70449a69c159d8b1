"""A period's indicators read the case record as it stood at the period's end.

The October bulletin is published in November; a deadline extended, a case returned and sent elsewhere, a
挂账 resumed or a failed 核查 in November must not change October's 超期未结, 应处置 or 按期处置, or the
published result stops verifying and the year's roll-up no longer matches the monthly bulletins.

The oracle is the record itself cut at the end: the same random history written twice, once whole and once
without the events at or after the period's end (``History(cutoff=…)``: what the store held at that
instant). Every indicator of the period must be the same on both, through the reference path
(``indicators.compute``) and through the batch engine.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.evaluation import batch
from app.evaluation import indicators as ind
from app.evaluation.periods import parse_period
from db import evaluation_repo as repo
from db.store import Store
from tests.app.evaluation.history import History, at
from tests.app.evaluation.test_batch import FATES, KINDS, MONTHS, NAMES, SOURCES, A, B, _units, build

# histories in time order per case (what the workflow engine writes): no text-only timestamps, and the
# dispatch after the same day's report, acceptance and registration (09:00–09:20) and before the steps a
# fate takes later that day
ORDERED = st.tuples(st.integers(0, 4), st.one_of(st.just(1), st.integers(1, 28)),
                    st.sampled_from([f for f in FATES if f != "odd_close"]), st.sampled_from([A, B]),
                    st.sampled_from(SOURCES), st.sampled_from(["D1", "D2", "D3"]), st.sampled_from(["D1", "D2"]),
                    st.one_of(st.just(0), st.integers(0, 70)), st.sampled_from(["09:30", "10:59"]))


def _as_of(cases, end: str) -> Store:
    store = Store.memory()
    build(store, cases, cutoff=end)
    return store


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ORDERED, min_size=1, max_size=16), st.sampled_from(KINDS), st.integers(0, 4))
def test_a_period_reads_only_the_record_before_its_end(cases, kind, month):
    period = parse_period(MONTHS[month])
    whole = Store.memory()
    cut = _as_of(cases, period.end_at)
    try:
        build(whole, cases)
        units = sorted(set(_units(whole, kind)) | set(_units(cut, kind)))
        opts = {"long_term_cases": {"days": 30}}
        then = ind.compute(cut, kind, period, units, NAMES, opts)
        assert ind.compute(whole, kind, period, units, NAMES, opts) == then
        assert batch.compute(whole, kind, [period], units, NAMES, opts) == [then]
    finally:
        whole.close()
        cut.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ORDERED, min_size=1, max_size=16), st.sampled_from(["district", "department", "centre"]),
       st.integers(0, 3), st.integers(2, 5))
def test_every_month_of_a_batch_reads_its_own_end(cases, kind, first, length):
    """The multi-period queries (one scan for many months) cut each month at its own end."""
    periods = [parse_period(m) for m in MONTHS[first:first + length]]
    whole = Store.memory()
    try:
        build(whole, cases)
        for p, got in zip(periods, batch.compute(whole, kind, periods, _units(whole, kind), NAMES, {})):
            cut = _as_of(cases, p.end_at)
            try:
                units = sorted(got)
                assert got == ind.compute(cut, kind, p, units, NAMES, {})
            finally:
                cut.close()
    finally:
        whole.close()


@pytest.mark.parametrize("change", ["extension", "redispatch", "resume", "rework"])
def test_october_after_a_november_change(mem_store, change):
    """By hand: a case dispatched on 20 October, due on the 25th and still open at the month's end is
    超期未结 in October, whatever November does to it."""
    h = History(mem_store).base()
    c = (h.case("K1", A).report(at("10-20")).accept(at("10-20", "09:10")).register(at("10-20", "09:20"))
         .dispatch(at("10-20", "09:30"), "D1", deadline=at("10-25")))
    if change == "extension":
        c.extend(at("11-02"), until=at("11-30"))
    elif change == "redispatch":
        c.return_(at("11-02")).dispatch(at("11-02", "10:00"), "D2", deadline=at("11-05"), by="disp2")
    elif change == "resume":
        c.suspend(at("10-22")).resume(at("11-03"), deadline=at("11-12"))
    else:
        c.handle(at("10-30")).send_check(at("10-30", "10:00")).check(at("11-02"), passed=False, deadline=at("11-09"))
    october = parse_period("2026-10")
    got = ind.compute(mem_store, "district", october, [A], ["overdue_open", "due_to_handle", "closure_rate"])[A]
    if change == "resume":  # suspended on the 22nd: the clock was stopped at the month's end
        assert got["overdue_open"].cases == ()
    else:
        assert got["overdue_open"].cases == ("K1",)
        assert got["closure_rate"].value == 0.0
    assert got["due_to_handle"].cases == ("K1",)
    dept = ind.compute(mem_store, "department", october, ["D1", "D2"], ["overdue_open", "due_to_handle"])
    assert dept["D2"]["overdue_open"].cases == ()
    assert dept["D2"]["due_to_handle"].cases == ()
    assert dept["D1"]["due_to_handle"].cases == ("K1",)
    assert repo.overdue_open_by_periods(mem_store.conn, "department", [october.end_at]) == (
        [{"D1": "K1"}] if change != "resume" else [{}])


def test_a_published_month_still_verifies_after_later_changes(october):
    """The published October stays reproducible when November extends, redispatches and reworks its open
    cases: the inputs hash covers the events before the end, and the result reads nothing else."""
    from app.evaluation import run
    from tests.app.evaluation.history import CaseBuilder

    run.publish(october, "standard", "2026-10", "district", by="t", at="2026-11-01T08:00:00+08:00")
    run.publish(october, "standard", "2026-10", "department", by="t", at="2026-11-01T08:00:00+08:00")
    h = History(october)
    h.prev = october.conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()[0]
    c3 = CaseBuilder(h, "C3", A, A + "001001001", "hotline_12345", "op1", "", "010101", "event")
    c3.dispatches = 1
    c3.extend(at("11-02"), until=at("11-30"))  # C3 was 超期未结 at the end of October
    c3.return_(at("11-03")).dispatch(at("11-03", "10:00"), "D1", deadline=at("11-06"))
    assert run.verify_published(october) == []
