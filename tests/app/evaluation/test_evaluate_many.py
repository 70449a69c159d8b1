"""``run.evaluate_many`` (several periods in one batch, as a bulletin's trend asks) must give exactly what
``run.evaluate_full`` gives for each period on its own, including schemes whose scores read earlier
periods: a chain shared by several periods must not change any of them."""

from __future__ import annotations

import pytest

from app.evaluation import run
from app.evaluation.periods import parse_period
from db import evaluation_repo as repo
from db.store import Store
from tests.app.evaluation.history import at
from tests.app.evaluation.test_indicators import A, B


def _alone(store: Store, scheme: str, periods: list[str], kind: str | None = None, workers: int = 1) -> list:
    return [run.canonical(run.evaluate_full(store, scheme, p, kind, workers=workers).result) for p in periods]


def _many(store: Store, scheme: str, periods: list[str], kind: str | None = None, workers: int = 1) -> list:
    return [run.canonical(e.result) for e in run.evaluate_many(store, scheme, periods, kind, workers=workers)]


@pytest.mark.parametrize("workers", [1, 2])
def test_recent_months_equal_each_month_alone(demo_store: Store, workers: int) -> None:
    last = repo.last_event_at(demo_store.conn)
    assert last is not None
    months = [m.key for m in parse_period(last[:7]).previous_months(6)]
    # out of order, repeated, and mixed with the year the months belong to
    asked = [months[3], *months, months[0], last[:4]]
    for kind in ("district", "department"):
        got = _many(demo_store, "standard", asked, kind, workers)
        assert got == _alone(demo_store, "standard", asked, kind, workers)
        assert any(u["total"] for u in got[1]["units"]), "the demo months must have scored cases"


def enter(store, scheme, period, unit, item, points, when):
    run.enter_score(store, scheme, period, unit, item, points, "考评记录", "台账", "eval1", at=at(when))


def test_a_carry_chain_through_an_empty_month_is_not_shared(october) -> None:
    # refined_management_staff carries a negative total into the month just after. August has neither
    # events nor entries: scored alone, September's chain skips it, so nothing reaches September, whereas a
    # call that also asks for August scores August (100 − 150 carried from July = −50) and carries that on.
    enter(october, "refined_management_staff", "2026-07", "op1", "daily", -250, "07-31")
    asked = ["2026-08", "2026-09", "2026-10"]
    alone = _alone(october, "refined_management_staff", asked)
    assert _many(october, "refined_management_staff", asked) == alone
    total = {(r["period"], u["code"]): u["total"] for r in alone for u in r["units"]}
    assert total[("2026-08", "op1")] == pytest.approx(-50)
    assert total[("2026-09", "op1")] == pytest.approx(100)
    scheme = run.load_scheme("refined_management_staff")
    periods = [parse_period(p) for p in asked]
    groups = run._shared_groups(october, scheme, periods)
    assert [[p.key for p in g] for g in groups] == [["2026-08"], ["2026-09", "2026-10"]]
    # what one naive shared call would have given September
    merged = run._score_periods(october, scheme, run._kinds(scheme, None), periods, [])
    assert next(u for u in merged[1].units if u.code == "op1").total == pytest.approx(50)


def test_a_yearly_bonus_cap_across_a_year_boundary(october) -> None:
    # comprehensive_202x: quarterly, 加分年度累计不超过6分; a new year's chain starts afresh
    enter(october, "comprehensive_202x", "2026Q3", A, "honours", 5, "09-30")
    enter(october, "comprehensive_202x", "2026Q4", A, "honours", 3, "12-31")
    enter(october, "comprehensive_202x", "2026Q4", B, "honours", 3, "12-31")
    enter(october, "comprehensive_202x", "2027Q1", A, "honours", 3, "12-31")
    asked = ["2026Q3", "2026Q4", "2027Q1"]
    alone = _alone(october, "comprehensive_202x", asked)
    assert _many(october, "comprehensive_202x", asked) == alone
    bonus = {(r["period"], u["code"]): u["bonus"] for r in alone for u in r["units"]}
    assert bonus[("2026Q4", A)] == pytest.approx(1)  # 6 − 5 already given in Q3
    assert bonus[("2027Q1", A)] == pytest.approx(3)


def test_a_scheme_without_earlier_results_is_one_group(demo_store: Store) -> None:
    scheme = run.load_scheme("standard")
    months = parse_period("2026-06").previous_months(4)
    assert run._shared_groups(demo_store, scheme, months) == [months]
