"""The `standard` scheme: STANDARDS.md "Evaluation" composites (area, department, posts), A–E grades."""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, UnitInput, load_scheme, score

S = load_scheme("standard")


def unit(kind: str, attributes: dict[str, object] | None = None, code: str = "U", **values: float | None):
    return UnitInput(code, code, kind, {k: Indicator(k, v) for k, v in values.items()}, attributes or {})


def total(u: UnitInput) -> float:
    return score(S, "2026-10", [u], []).units[0].total


AREA = {"public_report_rate": 0.0, "closure_rate": 1.0, "on_time_closure_rate": 1.0, "registered": 0.0,
        "rework_rate": 0.0}


def test_area_composite():
    """区域评价: 监督举报率 10, 结案率 20, 按期结案率 30, 立案数分值 10 (+ assumed 返工率 30)."""
    attrs = {"area_class": "1", "grid_count": 1}
    assert total(unit("grid", attrs, **AREA)) == 100.0
    # 监督举报率 20% → (1 − 0.2) × 10 = 8; 结案率 90% × 20 = 18; 按期 80% × 30 = 24; 立案 3 (class 1: 3–4 → 75)
    # → 7.5; 返工 0 → 30 → 8 + 18 + 24 + 7.5 + 30 = 87.5
    u = unit("grid", attrs, public_report_rate=0.2, closure_rate=0.9, on_time_closure_rate=0.8, registered=3.0,
             rework_rate=0.0)
    assert total(u) == pytest.approx(87.5)


@pytest.mark.parametrize(
    ("area_class", "registered", "points"),
    [
        ("1", 0, 100), ("1", 2, 90), ("1", 4, 75), ("1", 6, 60), ("1", 8, 40), ("1", 9, 0),
        ("2", 0, 100), ("2", 3, 90), ("2", 5, 75), ("2", 7, 60), ("2", 9, 40), ("2", 10, 0),
    ],
)
def test_area_registered_table_by_class(area_class, registered, points):
    """立案数分值: class 1: 0→100, 1–2→90, 3–4→75, 5–6→60, 7–8→40, ≥9→0; class 2: 0, 1–3, 4–5, 6–7, 8–9, ≥10."""
    u = unit("grid", {"area_class": area_class, "grid_count": 1}, **(AREA | {"registered": float(registered)}))
    item = score(S, "2026-10", [u], []).units[0].item("area_registered")
    assert item.points == pytest.approx(points / 10)  # × 10%


def test_area_registered_is_per_grid_for_larger_units():
    # a street of 10 grids with 25 cases: 2.5 per grid → class 1 band [1,3) → 90 → 9
    u = unit("street", {"area_class": "1", "grid_count": 10}, **(AREA | {"registered": 25.0}))
    assert score(S, "2026-10", [u], []).units[0].item("area_registered").points == 9.0


@pytest.mark.parametrize(("received", "points"), [(50, 100), (51, 90), (100, 90), (101, 75), (200, 75), (201, 60),
                                                   (500, 60), (501, 40), (1000, 40), (1001, 0)])
def test_department_registered_table(received, points):
    u = unit("department", received=float(received), closure_rate=1.0, on_time_handling_rate=1.0, rework_rate=0.0)
    # 立案数分值 × 10% + 30 + 30 + 30
    assert total(u) == pytest.approx(points * 0.1 + 90)


def test_department_composite():
    """部门: 立案数分值×10% + 结案率分值×30% + 按期处置率分值×30% + 返工率分值×30%, 返工率分值 = (1 − 返工率)×100."""
    u = unit("department", received=120.0, closure_rate=0.9, on_time_handling_rate=0.7, rework_rate=0.05)
    # 75 × 0.1 = 7.5; 90 × 0.3 = 27; 70 × 0.3 = 21; 95 × 0.3 = 28.5 → 84
    assert total(u) == pytest.approx(84.0)


def test_departments_ranked_within_groups():
    """宜根据部门工作职责分组设定: ranking within the department group."""
    def d(code: str, group: str, rate: float) -> UnitInput:
        return unit("department", {"group": group}, code, received=10.0, closure_rate=rate,
                    on_time_handling_rate=1.0, rework_rate=0.0)
    res = score(S, "2026-10", [d("A", "市政", 0.9), d("B", "市政", 0.8), d("C", "园林", 0.5)], [])
    assert {u.code: u.rank for u in res.units} == {"A": 1, "B": 2, "C": 1}


def test_inspector_post():
    """监督员 = 有效上报率×40% + (1 − 漏报率)×20% + 按时核实率×20% + 按时核查率×20%."""
    u = unit("inspector", valid_report_rate=0.9, missed_report_rate=0.1, verify_on_time_rate=1.0,
             check_on_time_rate=0.5)
    # 36 + 18 + 20 + 10 = 84
    assert total(u) == pytest.approx(84.0)


def test_intake_post():
    """受理员 = 受理数分值×25% + 核实按时派发率×40% + 核查按时派发率×35%; 受理数 1201–2000 → 90."""
    u = unit("intake", accepted=1500.0, verify_dispatch_on_time_rate=1.0, check_dispatch_on_time_rate=0.8)
    # 90 × 0.25 = 22.5; 40; 0.8 × 35 = 28 → 90.5
    assert total(u) == pytest.approx(90.5)


@pytest.mark.parametrize(("count", "points"), [(100, 0), (101, 40), (300, 40), (301, 60), (500, 60), (501, 75),
                                               (1200, 75), (1201, 90), (2000, 90), (2001, 100)])
def test_count_to_score_table(count, points):
    """>2000 → 100; 1201–2000 → 90; 501–1200 → 75; 301–500 → 60; 101–300 → 40; ≤100 → 0 (派遣数, ×20%)."""
    u = unit("dispatcher", dispatched=float(count), dispatch_on_time_rate=1.0, reworked_after_dispatch=0.0)
    assert total(u) == pytest.approx(points * 0.2 + 80)


def test_shift_lead_post_accuracy_from_voided():
    """值班长 = 按时立案率×25% + 准确立案率×40% (准确立案数 = 立案数 − 作废数) + 按时结案率×35%."""
    u = unit("shift_lead", register_on_time_rate=0.8, registered=200.0, voided=10.0, close_on_time_rate=1.0)
    # 20 + (190/200 = 0.95) × 40 = 38 + 35 → 93
    assert total(u) == pytest.approx(93.0)


def test_dispatcher_post_accuracy_from_rework():
    """派遣员 = 派遣数分值×20% + 按时派遣率×40% + 准确派遣率×40% (准确派遣数 = 派遣数 − 返工数)."""
    u = unit("dispatcher", dispatched=400.0, dispatch_on_time_rate=0.9, reworked_after_dispatch=40.0)
    # 60 × 0.2 = 12; 36; (360/400 = 0.9) × 40 = 36 → 84
    assert total(u) == pytest.approx(84.0)


@pytest.mark.parametrize(("rate", "grade", "colour"), [(1.0, "A", "#2e7d32"), (0.8, "B", "#1565c0"),
                                                       (0.6, "C", "#f9a825"), (0.4, "D", "#c62828"),
                                                       (0.2, "E", "#000000")])
def test_grades_a_to_e(rate, grade, colour):
    """A [90,100] green, B [75,90) blue, C [60,75) yellow, D [40,60) red, E [0,40) black."""
    u = unit("inspector", valid_report_rate=rate, missed_report_rate=1 - rate, verify_on_time_rate=rate,
             check_on_time_rate=rate)
    res = score(S, "2026-10", [u], []).units[0]
    assert res.total == pytest.approx(rate * 100)
    assert (res.grade, res.grade_color) == (grade, colour)
