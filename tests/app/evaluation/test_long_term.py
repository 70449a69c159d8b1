"""长效治理案件 (郑州 4.1.2/5.2.2): cases still open at the end of the period long after registration, and the
same count at the end of the period before (环比)."""

from __future__ import annotations

import pytest

from app.evaluation import indicators as ind
from app.evaluation import run as ev
from app.evaluation.periods import parse_period
from tests.app.evaluation.history import History, at

A, B = "320302", "320303"
NAMES = ["long_term_cases", "long_term_cases_prev"]


@pytest.fixture
def store(mem_store):
    h = History(mem_store).base()
    # L1 registered 20 Aug, still open: long-term at the end of September and of October
    h.case("L1", A, reported=at("08-20")).accept(at("08-20", "09:10")).register(at("08-20", "09:20"))
    # L2 registered 15 Sep, still open: 46 days at 1 Nov (long-term), 16 days at 1 Oct (not yet)
    (h.case("L2", A, reported=at("09-15")).accept(at("09-15", "09:10")).register(at("09-15", "09:20"))
     .dispatch(at("09-15", "10:00"), "D1", deadline=at("09-20")))
    # L3 registered 10 Oct: 22 days at 1 Nov, not long-term
    h.case("L3", A, reported=at("10-10")).accept(at("10-10", "09:10")).register(at("10-10", "09:20"))
    # L4 registered 1 Aug, closed 15 Oct: long-term at the end of September only
    (h.case("L4", A, reported=at("08-01")).accept(at("08-01", "09:10")).register(at("08-01", "09:20"))
     .dispatch(at("08-01", "10:00"), "D1", deadline=at("08-05")).handle(at("10-14"))
     .send_check(at("10-14", "10:00")).check(at("10-14", "11:00")).close(at("10-15")))
    # L5 in B registered 1 Aug, voided 20 Sep: never long-term at a month end after that
    b5 = h.case("L5", B, reported=at("08-01")).accept(at("08-01", "09:10")).register(at("08-01", "09:20"))
    b5._ev(at("09-20"), "decide_void", "lead1", "shift_lead", {"approved": True}, status="void", closed_at=at("09-20"))
    return mem_store


def test_long_term_cases_at_the_end_of_october_and_september(store):
    got = ind.compute(store, "district", parse_period("2026-10"), [A, B], NAMES)
    assert got[A]["long_term_cases"].cases == ("L1", "L2")
    assert got[A]["long_term_cases_prev"].cases == ("L1", "L4")
    assert got[B]["long_term_cases"].value == 0
    assert got[B]["long_term_cases_prev"].value == 0
    dept = ind.compute(store, "department", parse_period("2026-10"), ["D1"], NAMES)["D1"]
    assert dept["long_term_cases"].cases == ("L2",)  # L1 was never dispatched
    assert dept["long_term_cases_prev"].cases == ("L4",)


def test_the_scheme_may_set_the_number_of_days(store):
    opts = {"long_term_cases": {"days": 60}}  # cut 2 Sep for October: only L1 (20 Aug)
    got = ind.compute(store, "district", parse_period("2026-10"), [A], NAMES, opts)[A]
    assert got["long_term_cases"].cases == ("L1",)
    assert got["long_term_cases_prev"].cases == ("L4",)  # cut 2 Aug for September: L4 (1 Aug), not L1 (20 Aug)


def test_zhengzhou_long_term_items_are_computed(store):
    res = ev.evaluate_full(store, "zhengzhou", "2026-10", "district")
    assert "long_term_cases" not in res.uncomputed
    a = res.result.unit(A)
    assert a.indicators["long_term_cases"] == 2
    # 环比 2/2 = 1.0, not above the threshold: no deduction
    assert a.item("long_term").points == pytest.approx(10)
    # 数量: 0.1 × 2 × 100/100 (default road count) ÷ 1 = 0.2
    assert a.item("long_term_count").points == pytest.approx(5 - 0.2)
