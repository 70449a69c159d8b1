"""Seed 000, 数字化城管考核评分标准(市职能部门单位)【模板】附件2: its rate definitions and exclusions."""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, UnitInput, load_scheme, score

S = load_scheme("city_departments_template")


def dept(**over: float | None) -> UnitInput:
    values = {"escalated": 0.0, "repeat_cases": 0.0, "due_to_handle": 50.0, "reworked": 0.0, "due_to_close": 40.0,
              "extended": 0.0, "satisfied": 10.0, "callbacks": 10.0} | over
    return UnitInput("D", "市园林局", "department", {k: Indicator(k, v) for k, v in values.items()}, {})


def one(u: UnitInput):
    return score(S, "2026-10", [u], []).units[0]


def test_baseline_100():
    assert one(dept()).total == 100.0


def test_escalated_cases_deduct():
    """1、督办案件 (assumed 2 points each): 3 × 2 = 6 → 14 → 94."""
    u = one(dept(escalated=3.0))
    assert u.item("escalation").points == 14.0
    assert u.total == 94.0


def test_repeat_rate_is_over_due_to_handle():
    """2、重复案件率 = 重复案件数/应处置数: 5/50 = 10% → (1 − 0.1) × 20 = 18."""
    u = one(dept(repeat_cases=5.0))
    assert u.item("repeat").value == pytest.approx(0.1)
    assert u.item("repeat").points == pytest.approx(18.0)


def test_rework_rate_is_over_due_to_close():
    """3、返工案件率 = 返工案件数/应结案数: 4/40 = 10% (not over 应处置数 50) → 18."""
    u = one(dept(reworked=4.0))
    assert u.item("rework").value == pytest.approx(0.1)
    assert u.item("rework").points == pytest.approx(18.0)


def test_extension_rate_is_over_due_to_handle():
    """4、延期案件率 = 延期数/应处置数: 10/50 = 20% → 16."""
    assert one(dept(extended=10.0)).item("extension").points == pytest.approx(16.0)


def test_satisfaction_rate_over_valid_callbacks():
    """5、满意率 = 满意案件数/本年度有效回访数: 9/12 = 75% → 15."""
    u = one(dept(satisfied=9.0, callbacks=12.0))
    assert u.item("satisfaction").points == pytest.approx(15.0)
    # no valid callback: not applicable, no deduction
    assert one(dept(satisfied=0.0, callbacks=0.0)).item("satisfaction").points == 20.0


def test_exclusions_are_declared_for_the_indicators():
    """部件类、非法小广告类不纳入重复案件; 工程性延期 (道路破损 … 重大危险源) 不计入延期; 2/3/4 次 by road class."""
    rep = S.indicator_definitions["repeat_cases"]
    assert rep["exclude_kinds"] == ["part"]
    assert "非法小广告" in rep["exclude_class_names"]
    assert rep["min_occurrences"] == {"main_road": 2, "key_area": 2, "secondary_road": 3, "back_street": 4}
    ext = S.indicator_definitions["extended"]["exclude_class_names"]
    assert {"道路破损", "违章挖掘", "违法用地", "交通信号灯", "树池", "重大危险源"} <= set(ext)
    assert S.indicator_definitions["callbacks"]["period"] == "year_to_date"
