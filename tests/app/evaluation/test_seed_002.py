"""Seed 002, 城市长效数字化工作意见 (钟楼区, changzhou_zhonglou): 七、考评办法 and 八、奖惩措施."""

from __future__ import annotations

import pytest

from app.evaluation import ManualEntry, UnitInput, load_scheme, roll_up, score

S = load_scheme("changzhou_zhonglou")


def unit(code: str, kind: str = "street") -> UnitInput:
    return UnitInput(code, f"{code}街道", kind, {}, {})


def marks(code: str, city_site: float, city_fix: float, dist_site: float, dist_fix: float) -> list[ManualEntry]:
    return [ManualEntry(code, "city_site", city_site, "市现场考评", "", "市考评组"),
            ManualEntry(code, "city_rectification", city_fix, "市整改考评", "", "市考评组"),
            ManualEntry(code, "district_site", dist_site, "区现场考评", "", "区考评科"),
            ManualEntry(code, "district_rectification", dist_fix, "区整改考评", "", "区考评科")]


def test_street_month_city_70_district_30_each_half_site_half_rectification():
    """七、1(1): 市考评70 (现场、整改各50%) + 区考评30 (各50%)."""
    u = score(S, "2026-10", [unit("A")], marks("A", 90, 80, 100, 60)).units[0]
    # 90 × 0.35 = 31.5; 80 × 0.35 = 28; 100 × 0.15 = 15; 60 × 0.15 = 9 → 83.5
    assert u.item("city_site").points == pytest.approx(31.5)
    assert u.item("city_rectification").points == pytest.approx(28.0)
    assert u.item("district_site").points == pytest.approx(15.0)
    assert u.item("district_rectification").points == pytest.approx(9.0)
    assert u.total == pytest.approx(83.5)


def test_department_month_same_split():
    """七、1(2): 区各职能部门 likewise 市70 + 区30."""
    u = score(S, "2026-10", [unit("D", "department")], marks("D", 100, 100, 50, 50)).units[0]
    # 35 + 35 + 7.5 + 7.5 = 85
    assert u.total == pytest.approx(85.0)


def test_missing_marks_are_listed():
    res = score(S, "2026-10", [unit("A")], marks("A", 90, 80, 100, 60)[:2])
    assert res.missing_manual == [("A", "district_site"), ("A", "district_rectification")]


def test_no_monthly_grade_grades_on_annual_mean():
    """七、2: 按照年度平均得分评定; months carry no grade."""
    res = score(S, "2026-10", [unit("A")], marks("A", 100, 100, 100, 100))
    assert res.units[0].grade == ""


def year_of(per_unit: dict[str, tuple[float, float, float, float]], months: int = 12):
    results = []
    for mth in range(1, months + 1):
        entries = [e for code, m in per_unit.items() for e in marks(code, *m)]
        results.append(score(S, f"2026-{mth:02d}", [unit(c) for c in per_unit], entries))
    return roll_up(S, "2026", results, [])


@pytest.mark.parametrize(
    ("scores", "total", "grade"),
    [
        # all 100 → 100 → 优秀
        ((100, 100, 100, 100), 100.0, "优秀"),
        # 95 everywhere → 95 (含95) → 优秀
        ((95, 95, 95, 95), 95.0, "优秀"),
        # 94 → 合格 (80–95, 不含95)
        ((94, 94, 94, 94), 94.0, "合格"),
        # 80 → 合格 (含80)
        ((80, 80, 80, 80), 80.0, "合格"),
        # 79 → 不合格
        ((79, 79, 79, 79), 79.0, "不合格"),
    ],
)
def test_grade_bands_on_annual_mean(scores, total, grade):
    """七、2 评定标准: ≥95 优秀, 80–95 合格, <80 不合格. Unit B loses most in the 市考评 (50/50), so the
    八 demotion (tested below) never touches A here."""
    year = year_of({"A": scores, "B": (50, 50, 100, 100)})
    u = year.unit("A")
    assert u.total == pytest.approx(total)
    assert u.grade == grade
    colours = {"优秀": "#2e7d32", "合格": "#1565c0", "不合格": "#c62828"}
    assert u.grade_color == colours[grade]


def test_mixed_months_average():
    months = []
    for mth, s in ((1, 100), (2, 90)):
        months.append(score(S, f"2026-{mth:02d}", [unit("A")], marks("A", s, s, s, s)))
    # (100 + 90)/2 = 95; the only unit is also the one that lost most on 市考评 → 合格, not 优秀
    year = roll_up(S, "2026", months, [])
    assert year.units[0].total == pytest.approx(95.0)
    assert year.units[0].grade == "合格"


def test_biggest_city_loser_cannot_be_excellent():
    """八: 在市考核中因工作落实不到位失分最多…的单位，年度不能评为优秀单位."""
    # A: city 96/96, district 100/100 → 96 × 0.7 + 30 = 97.2 → 优秀 by score, but it lost most in the city
    #    evaluation (4 × 0.35 × 2 = 2.8 a month) → demoted to 合格
    # B: city 98/98, district 90/90 → 98 × 0.7 + 27 = 95.6 → 优秀 (city loss 1.4 a month)
    year = year_of({"A": (96, 96, 100, 100), "B": (98, 98, 90, 90)})
    a, b = year.unit("A"), year.unit("B")
    assert a.total == pytest.approx(97.2)
    assert a.grade == "合格"
    assert any("失分最多" in n for n in a.notes)
    assert b.total == pytest.approx(95.6)
    assert b.grade == "优秀"
    assert a.rank == 1
    assert b.rank == 2


def test_deposit_notes_by_grade():
    """八: 优秀 返还并奖励两倍, 合格 返还并奖励等额, 不合格 不予返还."""
    year = year_of({"A": (100, 100, 100, 100), "B": (90, 90, 90, 90), "C": (70, 70, 70, 70)})
    assert any("两倍" in n for n in year.unit("A").notes)
    assert any("等额" in n for n in year.unit("B").notes)
    assert any("不予返还" in n for n in year.unit("C").notes)
