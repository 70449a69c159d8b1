"""Seed 000, 2009年西湖区数字化城市管理工作考核评分细则 (hangzhou_xihu): one crafted month per clause."""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, ManualEntry, UnitInput, load_scheme, score

S = load_scheme("hangzhou_xihu")


def dept(**over: float | None) -> UnitInput:
    values = {"due_to_handle": 100.0, "handled_on_time": 100.0, "returned": 0.0, "extended": 0.0,
              "received": 100.0, "suspended": 0.0, "hotline_on_time_closure_rate": 1.0} | over
    return UnitInput("D1", "区市政园林局", "department", {k: Indicator(k, v) for k, v in values.items()}, {})


def one(u: UnitInput, manual: list[ManualEntry] | None = None):
    return score(S, "2026-10", [u], manual or []).units[0]


def test_structure_70_20_10():
    assert {c.id: c.cap for c in S.categories} == {"digital": 70, "longterm": 20, "hotline": 10}
    assert one(dept()).total == 100.0


def test_return_counts_with_weight_half():
    """回退每次按0.5的权重计入不及时解决数."""
    # 不及时 = 100 − 100 + 0.5 × 4 = 2 → 2/100 → (1 − 0.02) × 70 = 68.6 → 98.6
    u = one(dept(returned=4.0))
    assert u.item("timely").points == pytest.approx(68.6)
    assert u.total == pytest.approx(98.6)


def test_late_handling_counts_fully():
    # 不及时 = 100 − 90 = 10 → (1 − 0.1) × 70 = 63 → 93
    assert one(dept(handled_on_time=90.0)).total == pytest.approx(93.0)


def test_extension_over_one_percent_of_received_costs_01_each():
    """每月延期案卷不得超过当月收到案卷的1%，超过1%的每延期一件扣0.1分."""
    # received 300 → 1% = 3 allowed; extended 8 → 5 over × 0.1 = 0.5 → 99.5
    u = one(dept(received=300.0, extended=8.0))
    assert u.item("extension").points == pytest.approx(-0.5)
    assert u.total == pytest.approx(99.5)
    # extended 3 = allowance → no deduction
    assert one(dept(received=300.0, extended=3.0)).total == 100.0
    # received 250 → 1% = 2.5 → whole cases: 2 allowed (assumption); extended 3 → 1 over → 99.9
    assert one(dept(received=250.0, extended=3.0)).total == pytest.approx(99.9)


def test_suspension_costs_02_each():
    """每缓办一个案卷扣0.2分."""
    # 6 × 0.2 = 1.2 → 98.8
    u = one(dept(suspended=6.0))
    assert u.item("suspension").points == pytest.approx(-1.2)
    assert u.total == pytest.approx(98.8)


def test_extension_and_suspension_stop_at_zero_of_the_70():
    # handled 10 of 100 → (1 − 0.9) × 70 = 7; 缓办 50 × 0.2 = 10 → 7 − 10 = −3 → 数字城管 0 → total 30
    assert one(dept(handled_on_time=10.0, suspended=50.0)).total == pytest.approx(30.0)


def test_community_station_not_recorded_costs_2_per_community():
    """社区联系站…未按要求记报的，每个社区扣2分."""
    # 3 communities × 2 = 6 → 四化长效 14 → 94
    manual = [ManualEntry("D1", "longterm", -2, f"社区{i}未记报", "", "区平台") for i in range(3)]
    u = one(dept(), manual)
    assert u.item("longterm").points == 14.0
    assert u.total == 94.0


def test_hotline_10():
    # 热线 按期结案率 70% × 10 = 7 → 97
    assert one(dept(hotline_on_time_closure_rate=0.7)).total == pytest.approx(97.0)


def test_dispatcher_share_10_percent_rule():
    """市平台每位派遣员当月的派遣及督查量必须达到当月总量的10%，每少一个百分点扣1分."""
    def disp(share: float) -> UnitInput:
        return UnitInput("P1", "派遣员甲", "dispatcher", {"dispatch_share": Indicator("dispatch_share", share)}, {})

    # 7% → 3 points short → 10 − 3 = 7
    assert score(S, "2026-10", [disp(0.07)], []).units[0].total == pytest.approx(7.0)
    # 12% ≥ 10% → 10
    assert score(S, "2026-10", [disp(0.12)], []).units[0].total == pytest.approx(10.0)
    # dispatchers are not scored on department items
    assert [it.id for it in score(S, "2026-10", [disp(0.1)], []).units[0].items] == ["dispatch_share"]


def test_dispatcher_faults_are_charged_to_the_dispatcher_unit():
    """2、因市级平台派遣员造成的派遣超时，或因错派造成的回退，分别考核派遣员的在职单位(部门): declared for the
    indicators code (the department's returned / handled_on_time leave these cases out)."""
    assert S.indicator_definitions["returned"]["exclude_charged_to_dispatcher"] is True
    assert S.indicator_definitions["handled_on_time"]["exclude_dispatch_delay"] is True
