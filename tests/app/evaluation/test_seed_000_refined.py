"""Seed 000, XX区县数字化城市管理精细化长效管理目标绩效考核办法 (refined_management_staff)."""

from __future__ import annotations

import pytest

from app.evaluation import ManualEntry, UnitInput, load_scheme, roll_up, score

S = load_scheme("refined_management_staff")
P = UnitInput("P1", "工作人员甲", "person", {}, {})


def e(item: str, points: float) -> ManualEntry:
    return ManualEntry("P1", item, points, "记录", "", "办公室")


def test_base_100_deductions_and_bonuses_uncapped():
    """六、1 以100分为基数进行扣分和加分，上不封顶，下不保底."""
    assert score(S, "2026-10", [P], []).units[0].total == 100.0
    # 100 + 改革创新 2项 × 5 + 新闻 1篇 × 10 = 120 (上不封顶)
    u = score(S, "2026-10", [P], [e("innovation", 5), e("innovation", 5), e("news", 10)]).units[0]
    assert u.total == 120.0
    assert u.bonus == 20.0
    # 100 − 130 = −30 (下不保底)
    assert score(S, "2026-10", [P], [e("daily", -130)]).units[0].total == -30.0


@pytest.mark.parametrize(
    ("clause", "entries", "total"),
    [
        # 七(一)1 改革创新 每项加5分 → 105
        ("改革创新", [("innovation", 5)], 105.0),
        # 七(一)2 正面信息被采用 每条加2分, 领导批示表扬加倍 (4): 2 + 4 = 6 → 106
        ("正面信息", [("information", 2), ("information", 4)], 106.0),
        # 七(一)3 新闻稿件 每篇加10分 → 110
        ("新闻稿件", [("news", 10)], 110.0),
        # 七(一)4 文体活动 一等5 + 三等1 → 106
        ("文体活动", [("sports", 5), ("sports", 1)], 106.0),
    ],
)
def test_bonus_clauses(clause, entries, total):
    assert score(S, "2026-10", [P], [e(i, p) for i, p in entries]).units[0].total == total, clause


def test_negative_part_carries_to_next_month():
    """六、1 个人得分低于零分的部分结转下月."""
    sept = score(S, "2026-09", [P], [e("daily", -110)])
    assert sept.units[0].total == -10.0
    octo = score(S, "2026-10", [P], [e("daily", -5)], earlier=[sept])
    # 100 − 5 − 10 (carried) = 85
    assert octo.units[0].item("carry_over").points == -10.0
    assert octo.units[0].total == 85.0
    # a positive month carries nothing; a month two periods back carries nothing
    assert score(S, "2026-11", [P], [], earlier=[sept, octo]).units[0].total == 100.0


def test_annual_40_percent_daily_60_percent_review_in_four_quarters():
    """六、2 年度 = 平时 40% + 综合测评 60% (组长、副组长、成员、其余人员各25%)."""
    months = [score(S, f"2026-{m:02d}", [P], [e("daily", -10)] if m % 2 else []) for m in range(1, 13)]
    # months alternate 90 and 100 → mean 95 × 0.4 = 38
    review = [e("review_leader", 100), e("review_deputy", 90), e("review_members", 80), e("review_others", 70)]
    year = roll_up(S, "2026", months, review)
    # 15 + 13.5 + 12 + 10.5 = 51 → 38 + 51 = 89
    assert year.units[0].item("rollup_year").points == pytest.approx(38.0)
    assert year.units[0].total == pytest.approx(89.0)
