"""Seed 000, 宁波市数字化城市管理工作考核办法 with 附件3 区数字化城市管理工作考核细则 (ningbo_district_bureau)
and the 指挥中心 (ningbo_center): one crafted month per clause, arithmetic by hand in comments.
"""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, ManualEntry, UnitInput, load_scheme, roll_up, score

D = load_scheme("ningbo_district_bureau")
C = load_scheme("ningbo_center")
CODE = "330203"

PERFECT = {
    "inspector_online_rate": 1.0, "registration_rate": 1.0, "on_time_closure_rate": 1.0, "closure_rate": 1.0,
    "rework_rate": 0.0, "info_collected": 100.0, "escalated_overdue": 0.0, "false_reports": 0.0,
    "survey_superior_rate": 1.0, "survey_peer_rate": 1.0, "survey_street_rate": 1.0,
}


def bureau(kind: str = "district", **over: float | None) -> UnitInput:
    values = PERFECT | over
    return UnitInput(CODE, "海曙区城管局", kind, {k: Indicator(k, v) for k, v in values.items()}, {"grid_count": 100})


def m(item: str, points: float, reason: str = "") -> ManualEntry:
    return ManualEntry(CODE, item, points, reason, "检查记录", "市考核组")


def test_baseline_is_100_and_structure_is_20_30_45_5_with_20_items():
    assert score(D, "2026-10", [bureau()], []).units[0].total == 100.0
    caps = {c.id: c.cap for c in D.categories}
    assert caps == {"organization": 20, "internal": 30, "effect": 45, "social": 5}
    for c in D.categories:
        assert sum(it.full for it in D.items if it.category == c.id) == c.cap, c.id
    assert len(D.items) == 20                      # 四个大项二十个小项
    assert not any(it.bonus for it in D.items)     # 只扣不奖


@pytest.mark.parametrize(
    ("clause", "over", "manual", "item", "points", "total"),
    [
        # 组织机构(4): 机构不全 −1 → 3, total 99
        ("组织机构 机构不全", {}, [m("org_structure", -1)], "org_structure", 3, 99),
        # 组织机构: 96310未合署办公 −2 and 无分管领导 −1 → 1, total 97
        ("组织机构 合署办公", {}, [m("org_structure", -2), m("org_structure", -1)], "org_structure", 1, 97),
        # 经费保障(2): 落实不力 酌情 −0.5 → 1.5
        ("经费保障 酌情", {}, [m("funding", -0.5)], "funding", 1.5, 99.5),
        # 预案措施(2): 无应急预案 −1 → 1
        ("预案措施 无预案", {}, [m("contingency", -1)], "contingency", 1, 99),
        # 预案措施: 重大活动保障不力 本项不得分 (−2) → 0
        ("预案措施 本项不得分", {}, [m("contingency", -2)], "contingency", 0, 98),
        # 人员配置(4): 信息采集员未达15:1 −2 → 2
        ("人员配置 采集员", {}, [m("staffing", -2)], "staffing", 2, 98),
        # 信息和重大事项上报(8): 重大事件未及时上报 2次 × 3 = 6 → 2
        ("重大事项上报", {}, [m("reporting", -3), m("reporting", -3)], "reporting", 2, 94),
        # 信息上报: 3 × −3 = −9 → stops at 0 within the item (扣完为止) → total 92, not 91
        ("上报 扣完为止", {}, [m("reporting", -3)] * 3, "reporting", 0, 92),
        # 日常管理(14) 4: 上线率 50% → (60 − 50)/5 = 2 steps × 1 → 12
        ("日常管理 上线率", {"inspector_online_rate": 0.50}, [], "daily", 12, 98),
        # 日常管理 4: 上线率 39% → 40%以下不得分 → 0
        ("日常管理 40%以下", {"inspector_online_rate": 0.39}, [], "daily", 0, 86),
        # 日常管理 3: 着装不整 2 起 × 1 = 2 → 12
        ("日常管理 着装", {}, [m("daily", -1), m("daily", -1)], "daily", 12, 98),
        # 台账制度齐全(4): 2 项台帐不齐 × 1 → 2
        ("台账 不齐全", {}, [m("ledger", -1), m("ledger", -1)], "ledger", 2, 98),
        # 设备管理(8): 服务器宕机 3次 × 1 → 5
        ("设备 宕机", {}, [m("equipment", -1)] * 3, "equipment", 5, 97),
        # 设备管理: 私接外网造成系统瘫痪 本项不得分 → 0
        ("设备 本项不得分", {}, [m("equipment", -8)], "equipment", 0, 92),
        # 工作时间(4): 无24小时值班 −2 → 2
        ("工作时间 值班", {}, [m("work_hours", -2)], "work_hours", 2, 98),
        # 立案率(7): 62% → (70 − 62)/5 = 1.6 steps → 7 − 1.6 = 5.4
        ("立案率 每下降5%", {"registration_rate": 0.62}, [], "registration_rate", 5.4, 98.4),
        # 立案率: 39% → 低于40%不得分 → 0
        ("立案率 低于40%", {"registration_rate": 0.39}, [], "registration_rate", 0, 93),
        # 立案率: 抽查未按规定处置 −1 (adjust) → 6
        ("立案率 抽查", {}, [m("registration_rate", -1)], "registration_rate", 6, 99),
        # 按期结案率(7): 70% → (80 − 70)/5 = 2 → 5
        ("按期结案率 每下降5%", {"on_time_closure_rate": 0.70}, [], "on_time_closure_rate", 5, 98),
        # 按期结案率: 59% → 低于60%不得分 → 0
        ("按期结案率 低于60%", {"on_time_closure_rate": 0.59}, [], "on_time_closure_rate", 0, 93),
        # 结案率(7): 92% → (95 − 92)/1 = 3 → 4
        ("结案率 每下降1%", {"closure_rate": 0.92}, [], "closure_rate", 4, 97),
        # 结案率: 随机抽查 2 件不符 × 1 再扣 → 5
        ("结案率 抽查再扣", {}, [m("closure_rate", -1), m("closure_rate", -1)], "closure_rate", 5, 98),
        # 结案率: 80% → 15 steps → 扣完为止 0
        ("结案率 扣完为止", {"closure_rate": 0.80}, [], "closure_rate", 0, 93),
        # 案件返工率(4): 3.5% → (3.5 − 2)/1 = 1.5 → 2.5
        ("返工率 每上升1%", {"rework_rate": 0.035}, [], "rework_rate", 2.5, 98.5),
        # 信息采集量(7): 日均 80 / 100 grids = 80% → (90 − 80)/5 = 2 → 5
        ("信息采集量 每下降5%", {"info_collected": 80.0}, [], "info_collection", 5, 98),
        # 信息采集量: 65% → 低于70%不得分 → 0
        ("信息采集量 低于70%", {"info_collected": 65.0}, [], "info_collection", 0, 93),
        # 督办件处理(5): 3 件未及时办结 × 1 → 2
        ("督办件 每件1分", {"escalated_overdue": 3.0}, [], "escalation", 2, 97),
        # 虚假信息(4): 1 件 × 2 → 2
        ("虚假信息 每件2分", {"false_reports": 1.0}, [], "false_info", 2, 98),
        # 虚假信息: 3 件 × 2 = 6 → 扣完为止 0
        ("虚假信息 扣完为止", {"false_reports": 3.0}, [], "false_info", 0, 96),
        # 指定案件办理(4): 未在规定时间内办结 1件 −1 → 3
        ("指定案件", {}, [m("designated", -1)], "designated", 3, 99),
        # 征求上级机关部门意见(2): 85% < 90% → 0
        ("上级机关 低于90%", {"survey_superior_rate": 0.85}, [], "survey_superior", 0, 98),
        # 征求横向协同单位意见(1): 80% < 85% → 0
        ("横向协同 低于85%", {"survey_peer_rate": 0.80}, [], "survey_peer", 0, 99),
        # 征求街道、社区意见(2): 79% < 80% → 0
        ("街道社区 低于80%", {"survey_street_rate": 0.79}, [], "survey_street", 0, 98),
        # 街道社区: 81% > 80% → 2 (passes)
        ("街道社区 高于80%", {"survey_street_rate": 0.81}, [], "survey_street", 2, 100),
        # no survey this month (not applicable): no deduction (assumption)
        ("上级机关 无调查", {"survey_superior_rate": None}, [], "survey_superior", 2, 100),
    ],
)
def test_clause(clause, over, manual, item, points, total):
    u = score(D, "2026-10", [bureau(**over)], manual).units[0]
    assert u.item(item).points == pytest.approx(points), clause
    assert u.total == pytest.approx(total), clause


def test_annual_is_mean_of_months_plus_extra():
    """四(二) 年终考核总分为十二次月度考核平均分加附加得分."""
    months = [score(D, f"2026-{i:02d}", [bureau(closure_rate=0.95 - 0.01 * (i % 3))], []) for i in range(1, 13)]
    # months score 100, 99, 98 in turn (closure 95%, 94%, 93% → −0, −1, −2); mean = 99
    year = roll_up(D, "2026", months, [m("annual_extra", 2, "附加分")])
    # 99 + 2 = 101
    assert year.units[0].item("rollup_year").points == pytest.approx(99.0)
    assert year.units[0].total == pytest.approx(101.0)


def test_centre_is_monthly_100_of_three_categories_and_twelve_items():
    """四(一) 内部管理、工作成效、社会评价三个大项十二个小项, 标准分100."""
    assert len(C.items) == 12
    assert {c.name for c in C.categories} == {"内部管理", "工作成效", "社会评价"}
    assert sum(c.cap for c in C.categories) == 100
    centre = bureau(kind="centre")
    assert score(C, "2026-10", [centre], []).units[0].total == 100.0
    # 扣完为止 per item: 6 false reports × 2 = 12 > 5 → item 0, total 95
    u = score(C, "2026-10", [bureau(kind="centre", false_reports=6.0)], []).units[0]
    assert u.item("false_info").points == 0.0
    assert u.total == 95.0


def test_centre_annual_mean_plus_extra():
    months = [score(C, f"2026-{i:02d}", [bureau(kind="centre", escalated_overdue=float(i % 2))], [])
              for i in range(1, 13)]
    # months alternate 99 and 100 → mean 99.5; + 附加 1 → 100.5
    year = roll_up(C, "2026", months, [m("annual_extra", 1)])
    assert year.units[0].total == pytest.approx(100.5)
