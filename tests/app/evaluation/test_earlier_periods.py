"""Results that depend on earlier periods, through ``app.evaluation.run.evaluate`` (what the command line
calls): per-year bonus caps, negative carry-over, and roll-ups of manual-only schemes."""

from __future__ import annotations

import pytest

from app.evaluation import run as ev
from tests.app.evaluation.history import at
from tests.app.evaluation.test_indicators import A, B


def enter(store, scheme, period, unit, item, points, when="10-31"):
    ev.enter_score(store, scheme, period, unit, item, points, "考评记录", "台账", "eval1", at=at(when))


def test_negative_total_is_carried_into_the_next_month(october):
    # refined_management_staff: 100 ± entries, 上不封顶下不保底, 低于零分的部分结转下月
    enter(october, "refined_management_staff", "2026-08", "insp1", "daily", -130)  # August: 100 − 130 = −30
    aug = ev.evaluate(october, "refined_management_staff", "2026-08").unit("insp1")
    assert aug.total == pytest.approx(-30)
    sep = ev.evaluate(october, "refined_management_staff", "2026-09").unit("insp1")
    assert sep.item("carry_over").points == pytest.approx(-30)
    assert sep.total == pytest.approx(70)  # 100 − 30 carried
    oct_ = ev.evaluate(october, "refined_management_staff", "2026-10").unit("insp1")
    assert oct_.total == pytest.approx(100)  # September was positive: nothing carried
    assert all(it.id != "carry_over" for it in oct_.items)
    assert ev.evaluate(october, "refined_management_staff", "2026-09").unit("insp2").total == pytest.approx(100)


def test_a_carry_chain_runs_over_several_months(october):
    enter(october, "refined_management_staff", "2026-07", "op1", "daily", -250)  # July −150
    enter(october, "refined_management_staff", "2026-08", "op1", "daily", -20)  # August 80 − 150 = −70
    res = ev.evaluate(october, "refined_management_staff", "2026-09").unit("op1")
    assert res.total == pytest.approx(30)  # 100 − 70


def test_yearly_bonus_cap_counts_the_earlier_quarters(october):
    # comprehensive_202x: 加分 3/2/1 per honour, 年度累计加分不超过6分 (quarterly base period)
    enter(october, "comprehensive_202x", "2026Q1", A, "honours", 5)
    enter(october, "comprehensive_202x", "2026Q3", A, "honours", 3)
    enter(october, "comprehensive_202x", "2026Q3", B, "honours", 3)
    q3 = ev.evaluate(october, "comprehensive_202x", "2026Q3")
    assert q3.unit(A).bonus == pytest.approx(1)  # 6 − 5 already given in Q1
    assert q3.unit(B).bonus == pytest.approx(3)
    assert any("年度累计加分上限6分" in n for n in q3.unit(A).notes)
    # a new year starts afresh
    enter(october, "comprehensive_202x", "2027Q1", A, "honours", 3)
    assert ev.evaluate(october, "comprehensive_202x", "2027Q1").unit(A).bonus == pytest.approx(3)


def test_manual_only_year_reads_every_month_with_entries(october):
    # the case record ends in November; windows were scored in March and December
    enter(october, "yihuang_windows", "2026-03", "W01", "handling", -2, when="03-31")
    enter(october, "yihuang_windows", "2026-12", "W01", "handling", -10, when="12-31")
    year = ev.evaluate(october, "yihuang_windows", "2026")
    assert year.unit("W01").item("rollup_year").points == pytest.approx((98 + 90) / 2)


def test_manual_only_year_on_a_store_without_events(mem_store):
    enter(mem_store, "yihuang_windows", "2026-05", "W02", "civility", -5, when="05-31")
    enter(mem_store, "yihuang_windows", "2026-06", "W02", "civility", -1, when="06-30")
    year = ev.evaluate(mem_store, "yihuang_windows", "2026")
    assert year.unit("W02").item("rollup_year").points == pytest.approx((95 + 99) / 2)


def test_last_two_quarters_running_gets_the_consecutive_note(october):
    # 202* 方案 五(二): 连续2个季度考评排名末位的县区 … 在市级媒体公开说明原因 (all three districts rank together)
    for q in ("2026Q2", "2026Q3"):
        for unit, pts in ((A, 280), (B, 250), ("320311", 200)):
            enter(october, "comprehensive_202x", q, unit, "departments", pts)
    q3 = ev.evaluate(october, "comprehensive_202x", "2026Q3")
    assert any("连续2个季度考评排名末位" in n for n in q3.unit("320311").notes)
    assert all("连续2个季度考评排名末位：" not in n for n in q3.unit(B).notes)
    q2 = ev.evaluate(october, "comprehensive_202x", "2026Q2")  # Q1 has no data: not a quarter ranked last
    assert all("连续2个季度考评排名末位：" not in n for n in q2.unit("320311").notes)
