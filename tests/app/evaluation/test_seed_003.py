"""Seed 003, 郑州市数字化城市管理监督评价办法(试行) (zhengzhou): 区域/部门/岗位评价.

The seed states principles without numbers (its 细则 is not attached): the tests check each principle
with the scheme's assumed numbers, worked out by hand.
"""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, UnitInput, load_scheme, roll_up, score

S = load_scheme("zhengzhou")

AREA = {
    "on_time_closure_rate@key_area": 1.0, "on_time_closure_rate@general_area": 1.0,
    "overdue_open@key_area": 0.0, "overdue_open@general_area": 0.0, "long_term_cases": 0.0,
    "long_term_cases_prev": 0.0, "public_closure_rate": 1.0, "satisfaction_rate": 1.0, "escalated": 0.0,
    "escalated_repeat": 0.0,
}


def area(kind: str = "district", attributes: dict[str, object] | None = None, code: str = "410102",
         **over: float | None) -> UnitInput:
    values = AREA | over
    attrs = {"road_count": 100, "difficulty": 1.0} if attributes is None else attributes
    return UnitInput(code, "中原区", kind, {k: Indicator(k, v) for k, v in values.items()}, attrs)


def one(u: UnitInput):
    return score(S, "2026-10", [u], []).units[0]


def test_full_marks_deduction_system():
    """5.1 满分百分扣分制: a clean month is 100 for every unit kind."""
    assert one(area()).total == 100.0
    assert one(area("street")).total == 100.0
    assert one(area("window")).total == 100.0
    assert S.total_cap == 100


def test_escalation_counts_and_repeat_doubles():
    """5.2.4 督办案件按照案件数量扣分，再次督办加倍扣分."""
    # 4 督办, none repeated: 4 × 1 = 4 → 16 → 96
    assert one(area(escalated=4.0)).total == 96.0
    # 4 督办 of which 2 再次督办: 2 × 1 + 2 × 2 = 6 → 14 → 94
    u = one(area(escalated=4.0, escalated_repeat=2.0))
    assert u.item("escalation").points == 14.0
    assert u.total == 94.0


def test_key_area_weighs_more_in_rates():
    """5.2.5 重点管理区域和一般管理区域实行不同的权重计分 (0.6 / 0.4)."""
    # key 80%, general 100%: (0.6 × 0.8 + 0.4 × 1.0) × 25 = 0.88 × 25 = 22 → 97
    assert one(area(**{"on_time_closure_rate@key_area": 0.8})).item("routine_rate").points == pytest.approx(22.0)
    # key 100%, general 80%: (0.6 + 0.32) × 25 = 23 → the same shortfall costs less in a general area
    assert one(area(**{"on_time_closure_rate@general_area": 0.8})).item("routine_rate").points == pytest.approx(23.0)
    # no due case in the key area: the general area alone counts (weights renormalised): 0.9 × 25 = 22.5
    u = one(area(**{"on_time_closure_rate@key_area": None, "on_time_closure_rate@general_area": 0.9}))
    assert u.item("routine_rate").points == pytest.approx(22.5)


def test_key_area_weighs_more_in_counts():
    """5.2.5 for counts: an overdue case in a key area counts 1.5, in a general area 1."""
    # key 4 → 1.5 × 4 = 6 × 0.5 = 3 → 22
    assert one(area(**{"overdue_open@key_area": 4.0})).item("routine_overdue").points == pytest.approx(22.0)
    # general 4 → 4 × 0.5 = 2 → 23
    assert one(area(**{"overdue_open@general_area": 4.0})).item("routine_overdue").points == pytest.approx(23.0)


def test_road_count_and_difficulty_coefficient():
    """5.2.6 依据路段数量以及区域管理难度系数进行差异化考核."""
    over = {"overdue_open@general_area": 8.0}
    # 100 roads, difficulty 1: 8 × 0.5 = 4 → 21
    assert one(area(**over)).item("routine_overdue").points == pytest.approx(21.0)
    # 200 roads: 8 × 100/200 = 4 → × 0.5 = 2 → 23 (more roads, the same count weighs less)
    u = one(area(attributes={"road_count": 200, "difficulty": 1.0}, **over))
    assert u.item("routine_overdue").points == pytest.approx(23.0)
    # 100 roads, difficulty 1.25: 8/1.25 = 6.4 × 0.5 = 3.2 → 21.8
    u = one(area(attributes={"road_count": 100, "difficulty": 1.25}, **over))
    assert u.item("routine_overdue").points == pytest.approx(21.8)
    # attributes absent: defaults 100 roads, difficulty 1 → as the first case
    assert one(area(attributes={}, **over)).item("routine_overdue").points == pytest.approx(21.0)


def test_long_term_cases_count():
    """5.2.2 以案件数量…为主 (with 5.2.6 road count): 20 cases on 200 roads → 20 × 100/200 = 10 × 0.1 = 1."""
    u = one(area(attributes={"road_count": 200, "difficulty": 1.0}, long_term_cases=20.0))
    assert u.item("long_term_count").points == pytest.approx(4.0)
    assert u.item("long_term").points == 10.0     # nothing last month: the trend is not applicable
    assert u.total == pytest.approx(99.0)
    # 80 cases on 100 roads: 8 → 5 − 8 → stops at 0
    assert one(area(long_term_cases=80.0)).item("long_term_count").points == 0.0


def test_long_term_cases_month_on_month():
    """5.2.2 …环比比率为主."""
    # 12 vs 10 last month: +20% → 2 steps of 10% × 2 = 4 → 6; the count rule also bites: 12 × 0.1 = 1.2 → 3.8
    # total 100 − 4 − 1.2 = 94.8
    u = one(area(long_term_cases=12.0, long_term_cases_prev=10.0))
    assert u.item("long_term").points == pytest.approx(6.0)
    assert u.item("long_term_count").points == pytest.approx(3.8)
    assert u.total == pytest.approx(94.8)
    # falling (8 vs 10): no trend deduction
    assert one(area(long_term_cases=8.0, long_term_cases_prev=10.0)).item("long_term").points == 10.0


def test_public_reports_handling_and_satisfaction():
    """5.2.3 公众上报案件的评价以案件处置率以及公众满意度为主."""
    # 处置率 90% × 10 = 9; 满意率 80% × 5 = 4 → 13 → 98
    u = one(area(public_closure_rate=0.9, satisfaction_rate=0.8))
    assert u.item("public_closure").points == pytest.approx(9.0)
    assert u.item("public_satisfaction").points == pytest.approx(4.0)
    assert u.total == pytest.approx(98.0)


def test_department_evaluation():
    """3.2 部门评价: 常规 (按期处置率 35 + 返工率 15), then the shared items."""
    values = {k: v for k, v in AREA.items() if "@" not in k} | {"on_time_handling_rate": 0.8, "rework_rate": 0.1}
    u = one(UnitInput("D", "市政局", "department", {k: Indicator(k, v) for k, v in values.items()}, {}))
    # 0.8 × 35 = 28; (1 − 0.1) × 15 = 13.5 → 41.5 + 15 + 15 + 20 = 91.5
    assert u.total == pytest.approx(91.5)


@pytest.mark.parametrize("kind", ["inspector", "intake", "dispatcher"])
def test_post_evaluation_completion_timeliness_accuracy(kind):
    """4.2 岗位整体的工作完成度、按时程度以及工作准确度 (40/30/30)."""
    values = {"post_completion_rate": 0.9, "post_on_time_rate": 0.8, "post_accuracy_rate": 1.0}
    u = one(UnitInput("P", "岗位集体", kind, {k: Indicator(k, v) for k, v in values.items()}, {}))
    # 0.9 × 40 + 0.8 × 30 + 1.0 × 30 = 36 + 24 + 30 = 90
    assert u.total == pytest.approx(90.0)


def test_area_and_department_ranked_separately():
    dept_values = {k: v for k, v in AREA.items() if "@" not in k} | {"on_time_handling_rate": 1.0, "rework_rate": 0.0}
    units = [area(code="A", escalated=3.0), area(code="B"),
             UnitInput("D", "市政局", "department", {k: Indicator(k, v) for k, v in dept_values.items()}, {})]
    res = score(S, "2026-10", units, [])
    assert {u.code: u.rank for u in res.units} == {"A": 2, "B": 1, "D": 1}


def test_year_is_mean_of_months():
    months = [score(S, f"2026-{i:02d}", [area(escalated=float(i % 2) * 4)], []) for i in range(1, 13)]
    # alternating 96 and 100 → 98
    assert roll_up(S, "2026", months, []).units[0].total == pytest.approx(98.0)
