"""Seed 000, 泉山区数字化城管考核评分标准 (xuzhou_quanshan): one crafted month per clause.

The baseline month scores 100; each case changes one input so that exactly one clause bites, and the
expected item points and total are worked out by hand in the comment.
"""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, ManualEntry, UnitInput, load_scheme, roll_up, score

S = load_scheme("xuzhou_quanshan")
CODE = "320311001"


def street(**over: float | None) -> UnitInput:
    values = {"closure_rate": 1.0, "redispatched": 0.0, "due_to_close": 20.0} | over
    return UnitInput(CODE, "泉山某办事处", "street", {k: Indicator(k, v) for k, v in values.items()}, {})


def entries(*extra: tuple[str, float]) -> list[ManualEntry]:
    base = {"special_cases": 10.0, "workload": 10.0, "ledger_innovation": 1.0, "ledger_publicity": 1.0,
            "cooperation": 5.0}
    score_items = {k for k, _ in extra} & set(base)
    out = [ManualEntry(CODE, k, v, "基线", "", "考评员") for k, v in base.items() if k not in score_items]
    out += [ManualEntry(CODE, k, v, "条款", "记录", "考评员") for k, v in extra]
    return out


def month(u: UnitInput, manual: list[ManualEntry], period: str = "2026-10"):
    return score(S, period, [u], manual)


def test_baseline_month_is_100():
    res = month(street(), entries())
    assert res.units[0].total == 100.0
    assert res.missing_manual == []


@pytest.mark.parametrize(
    ("clause", "over", "extra", "item", "points", "total"),
    [
        # 一、全部案件结案率 (assumed 40 of the 70): 90% × 40 = 36 → total 100 − 4 = 96
        ("一 结案率", {"closure_rate": 0.9}, [], "closure_rate", 36.0, 96.0),
        # 一、案件多次派遣率: 2 of 20 due → (1 − 0.1) × 10 = 9 → 99
        ("一 多次派遣率", {"redispatched": 2.0}, [], "redispatch", 9.0, 99.0),
        # 一、专项案件办理情况 entered 6 of 10 → 96
        ("一 专项案件", {}, [("special_cases", 6.0)], "special_cases", 6.0, 96.0),
        # 一、工作量 entered 7.5 of 10 → 97.5
        ("一 工作量", {}, [("workload", 7.5)], "workload", 7.5, 97.5),
        # 二、1 终端丢失一次扣5分: 5 − 5 = 0 → 95
        ("二1 终端丢失", {}, [("terminal", -5.0)], "terminal", 0.0, 95.0),
        # 二、1 办事处出现一次扣3分: 5 − 3 = 2 → 97
        ("二1 办事处终端问题", {}, [("terminal", -3.0)], "terminal", 2.0, 97.0),
        # 二、1 保留终端的社区两次 × 2 = 4: 5 − 4 = 1 → 96
        ("二1 社区终端问题", {}, [("terminal", -2.0), ("terminal", -2.0)], "terminal", 1.0, 96.0),
        # 二、1 丢失 −5 and 办事处 −3 = −8 → stops at 0 within the item (扣完为止) → 95, not 92
        ("二1 扣完为止", {}, [("terminal", -5.0), ("terminal", -3.0)], "terminal", 0.0, 95.0),
        # 二、2 数字化人员不专职扣3分: 3 − 3 = 0 → 97
        ("二2 人员不专职", {}, [("staffing", -3.0)], "staffing", 0.0, 97.0),
        # 二、2 协管员不配备扣2分: 3 − 2 = 1 → 98
        ("二2 协管员不配备", {}, [("staffing", -2.0)], "staffing", 1.0, 98.0),
        # 二、3 基础台账 总体缺失扣2分: 5 − 2 = 3 → 98
        ("二3 台账总体缺失", {}, [("ledger_basic", -2.0)], "ledger_basic", 3.0, 98.0),
        # 二、3 缺10件以内扣0.1–1分 (entered 0.6): 5 − 0.6 = 4.4 → 99.4
        ("二3 缺10件以内", {}, [("ledger_basic", -0.6)], "ledger_basic", 4.4, 99.4),
        # 二、3 创新台账 1分 not earned (0) → 99
        ("二3 创新台账", {}, [("ledger_innovation", 0.0)], "ledger_innovation", 0.0, 99.0),
        # 二、3 宣传资料: 展板 0.5 only (no 光盘) → 0.5 → 99.5
        ("二3 宣传资料", {}, [("ledger_publicity", 0.5)], "ledger_publicity", 0.5, 99.5),
        # 二、4 信息每采用一条加1分: 3 adopted → 3 of 5 → 98
        ("二4 信息采用", {}, [("cooperation", 1.0), ("cooperation", 1.0), ("cooperation", 1.0)],
         "cooperation", 3.0, 98.0),
        # 二、4 7 adopted → capped at the item's 5 → 100
        ("二4 上限5分", {}, [("cooperation", 7.0)], "cooperation", 5.0, 100.0),
        # 三、每人每次扣1分: 3 person-times → 10 − 3 = 7 → 97
        ("三 脱岗离岗", {}, [("phone_location", -1.0)] * 3, "phone_location", 7.0, 97.0),
        # 三、集体手机停机每次扣10分 → 0 → 90
        ("三 集体停机", {}, [("phone_location", -10.0)], "phone_location", 0.0, 90.0),
        # 三、集体停机 −10 and one 脱岗 −1 = −11 → stops at 0 → 90 (not 89)
        ("三 扣完为止", {}, [("phone_location", -10.0), ("phone_location", -1.0)], "phone_location", 0.0, 90.0),
    ],
)
def test_clause(clause, over, extra, item, points, total):
    res = month(street(**over), entries(*extra))
    u = res.units[0]
    assert u.item(item).points == pytest.approx(points), clause
    assert u.total == pytest.approx(total), clause


def test_daily_management_category_is_20():
    """二、(20分): the four parts sum to 5 + 3 + 7 + 5 = 20; all lost gives 80."""
    cat = S.category("daily")
    assert cat is not None
    assert cat.cap == 20
    assert sum(it.full for it in S.items if it.category == "daily") == 20
    lost = entries(("terminal", -5.0), ("staffing", -3.0), ("ledger_basic", -5.0), ("ledger_innovation", 0.0),
                   ("ledger_publicity", 0.0), ("cooperation", 0.0))
    assert month(street(), lost).units[0].total == 80.0


def test_closure_block_is_70_and_phone_is_10():
    assert S.category("closure").cap == 70  # type: ignore[union-attr]
    assert sum(it.full for it in S.items if it.category == "closure") == 70
    assert S.category("phone").cap == 10  # type: ignore[union-attr]
    assert S.total_cap == 100


def test_annual_formula_monthly_sum_over_12_times_09_plus_management_times_01():
    """四、年度考核得分 = (月度考核累计得分/12) × 0.9 + 管理评价得分 × 0.1."""
    months = [month(street(closure_rate=0.9), entries(), f"2026-{m:02d}") for m in range(1, 13)]
    assert months[0].units[0].total == 96.0
    year = roll_up(S, "2026", months, [ManualEntry(CODE, "management", 80, "管理评价", "", "考评员")])
    u = year.units[0]
    # (96 × 12)/12 × 0.9 = 86.4; 80 × 0.1 = 8 → 94.4
    assert u.item("rollup_year").points == pytest.approx(86.4)
    assert u.item("management").points == pytest.approx(8.0)
    assert u.total == pytest.approx(94.4)


def test_annual_divides_by_12_even_with_missing_months():
    """月度考核累计得分/12: ten scored months of 100 give 1000/12 × 0.9 = 75."""
    months = [month(street(), entries(), f"2026-{m:02d}") for m in range(1, 11)]
    year = roll_up(S, "2026", months, [ManualEntry(CODE, "management", 100)])
    # 1000/12 × 0.9 = 75; + 100 × 0.1 = 10 → 85
    assert year.units[0].total == pytest.approx(85.0)


def test_site_meeting_adds_5_at_year_end():
    """五、专项加分: a 现场会 held in the street adds 5 to the annual total."""
    months = [month(street(), entries(), f"2026-{m:02d}") for m in range(1, 13)]
    manual = [ManualEntry(CODE, "management", 100), ManualEntry(CODE, "site_meeting", 5, "现场会", "通知", "甲")]
    year = roll_up(S, "2026", months, manual)
    # 100 × 0.9 + 100 × 0.1 + 5 = 105 (the bonus sits above the 100)
    assert year.units[0].total == pytest.approx(105.0)
    assert year.units[0].bonus == 5.0


def test_management_assessment_missing_is_reported():
    months = [month(street(), entries(), "2026-01")]
    year = roll_up(S, "2026", months, [])
    assert (CODE, "management") in year.missing_manual
