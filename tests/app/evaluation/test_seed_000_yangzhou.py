"""Seed 000, 扬州市数字化城市管理综合考核办法实施细则: 区 105 and 市职能部门 105 (one month per clause)."""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, ManualEntry, UnitInput, load_scheme, roll_up, score

DIST = load_scheme("yangzhou_district")
DEPT = load_scheme("yangzhou_departments")


def unit(kind: str, **values: float | None) -> UnitInput:
    return UnitInput("U", "单位", kind, {k: Indicator(k, v) for k, v in values.items()}, {})


def district(**over: float | None) -> UnitInput:
    return unit("district", **({"on_time_closure_rate": 1.0, "rework_rate": 0.0,
                                "hotline_on_time_closure_rate": 1.0} | over))


def department(**over: float | None) -> UnitInput:
    return unit("department", **({"on_time_handling_rate": 1.0, "rework_rate": 0.0,
                                  "hotline_on_time_closure_rate": 1.0} | over))


def full_manual(*items: str) -> list[ManualEntry]:
    fulls = {"special": 10.0, "basic_work": 10.0}
    return [ManualEntry("U", i, fulls[i]) for i in items]


def test_district_weights_70_5_5_10_10_plus_5():
    fulls = {it.id: it.full for it in DIST.items}
    assert fulls == {"routine": 70, "rework": 5, "hotline": 5, "special": 10, "basic_work": 10, "major_events": 5}
    assert DIST.item("major_events").bonus
    assert DIST.total_cap == 105


def test_departments_weights_80_5_5_10_plus_5():
    fulls = {it.id: it.full for it in DEPT.items}
    assert fulls == {"routine": 80, "rework": 5, "hotline": 5, "special": 10, "major_events": 5}
    assert DEPT.total_cap == 105


@pytest.mark.parametrize(
    ("clause", "over", "manual", "item", "points", "total"),
    [
        # 常规案件 70: 按期结案率 90% × 70 = 63 → 100 − 7 = 93
        ("常规案件", {"on_time_closure_rate": 0.9}, [], "routine", 63, 93),
        # 返工案件 5: (1 − 4%) × 5 = 4.8 → 99.8
        ("返工案件", {"rework_rate": 0.04}, [], "rework", 4.8, 99.8),
        # 12319案件 5: 80% × 5 = 4 → 99
        ("12319案件", {"hotline_on_time_closure_rate": 0.8}, [], "hotline", 4, 99),
        # 专项考核 10: entered 7 → 97
        ("专项考核", {}, [("special", 7.0)], "special", 7, 97),
        # 城市管理基础工作 10: entered 6 → 96
        ("基础工作", {}, [("basic_work", 6.0)], "basic_work", 6, 96),
        # 重大活动保障 加分项 5: +5 → 105
        ("重大活动保障", {}, [("major_events", 5.0)], "major_events", 5, 105),
        # 加分项 entered 8 → capped at 5 → 105
        ("重大活动保障 上限", {}, [("major_events", 8.0)], "major_events", 5, 105),
    ],
)
def test_district_clause(clause, over, manual, item, points, total):
    given = {i for i, _ in manual}
    entries = full_manual(*({"special", "basic_work"} - given)) + [ManualEntry("U", i, p) for i, p in manual]
    u = score(DIST, "2026-10", [district(**over)], entries).units[0]
    assert u.item(item).points == pytest.approx(points), clause
    assert u.total == pytest.approx(total), clause


def test_department_routine_80_and_bonus():
    entries = full_manual("special")
    # 按期处置率 75% × 80 = 60 → 60 + 5 + 5 + 10 = 80
    u = score(DEPT, "2026-10", [department(on_time_handling_rate=0.75)], entries).units[0]
    assert u.item("routine").points == 60
    assert u.total == 80
    # perfect + 重大活动 5 → 105
    u = score(DEPT, "2026-10", [department()], [*entries, ManualEntry("U", "major_events", 5)]).units[0]
    assert u.total == 105


def test_district_year_is_mean():
    entries = full_manual("special", "basic_work")
    months = [score(DIST, f"2026-{i:02d}", [district(on_time_closure_rate=r)], entries)
              for i, r in ((1, 1.0), (2, 0.9))]
    # (100 + 93)/2 = 96.5
    assert roll_up(DIST, "2026", months, []).units[0].total == pytest.approx(96.5)
