"""Seed 001 schemes, clause by clause: comprehensive_202x, jinan_2022, guilin_2023, pingdu_2020,
district_performance_2022.

Each test crafts a period where one clause bites and states the expected points worked out by hand.
Clause ids (S001-…) are those of ``docs/seed-notes-001-004.md``. Deduction and bonus amounts are read
from the scheme's own reason list by their wording, so a wrong number in a scheme file fails here.
"""

from __future__ import annotations

import pytest

from app.evaluation import Indicator, ManualEntry, UnitInput, load_scheme, roll_up, score


def reason_points(scheme, item_id: str, needle: str) -> float:
    """The points the scheme gives for the one reason of ``item_id`` whose text contains ``needle``."""
    found = [r for r in scheme.item(item_id).rule.reasons if needle in r.text]
    assert len(found) == 1, (item_id, needle, [r.text for r in scheme.item(item_id).rule.reasons])
    assert found[0].points is not None
    return found[0].points


def hits(scheme, code: str, item_id: str, needle: str, times: int = 1) -> list[ManualEntry]:
    """``times`` entries of the reason ``needle`` (what the entry form writes for each occurrence)."""
    pts = reason_points(scheme, item_id, needle)
    return [ManualEntry(code, item_id, pts, needle) for _ in range(times)]


def entry(code: str, item_id: str, points: float) -> ManualEntry:
    return ManualEntry(code, item_id, points, "录入")


def district(code: str, group: str | None = None) -> UnitInput:
    attrs = {"group": group} if group is not None else {}
    return UnitInput(code, f"区{code}", "district", {}, attrs)


def full_quarter(code: str, dept: float = 300, public: float = 200, months=(500, 500, 500)) -> list[ManualEntry]:
    """202* 方案 entries for one district: 部门, 社会评价 and three monthly 第三方 results."""
    out = [entry(code, "departments", dept), entry(code, "public_assessment", public)]
    out += [entry(code, "third_party", m) for m in months]
    return out


# ------------------------------------------------------------------------------ 202* 方案 (comprehensive_202x)


@pytest.fixture(scope="module")
def c202x():
    return load_scheme("comprehensive_202x")


def test_c202x_4_full_marks_are_1000_a_quarter(c202x):
    # S001-C202X-4: 300 + 200 + 500 = 1000
    u = score(c202x, "2026Q1", [district("A", "1")], full_quarter("A")).units[0]
    assert u.total == 1000


def test_c202x_4_1_departments_score_is_entered_out_of_300(c202x):
    # S001-C202X-4.1: 部门 reports 276/300; the rest full: 276 + 200 + 500 = 976
    u = score(c202x, "2026Q1", [district("A", "1")], full_quarter("A", dept=276)).units[0]
    assert u.item("departments").points == 276
    assert u.item("departments").full == 300
    assert u.total == 976


def test_c202x_4_1_missing_department_score_is_listed(c202x):
    # S001-C202X-4.1: a quarter without the 部门 result is incomplete, not silently 0 without notice
    manual = [e for e in full_quarter("A") if e.item != "departments"]
    res = score(c202x, "2026Q1", [district("A", "1")], manual)
    assert ("A", "departments") in res.missing_manual
    assert res.units[0].total == 700  # 0 + 200 + 500


def test_c202x_4_2_public_assessment_out_of_200(c202x):
    # S001-C202X-4.2: 社会评价 185/200 → 300 + 185 + 500 = 985
    u = score(c202x, "2026Q1", [district("A", "1")], full_quarter("A", public=185)).units[0]
    assert u.item("public_assessment").points == 185
    assert u.total == 985


def test_c202x_4_3_third_party_quarter_is_the_mean_of_three_monthly_results(c202x):
    # S001-C202X-4.3: months 450, 470, 490 (each out of 500) → (450 + 470 + 490) / 3 = 470
    u = score(c202x, "2026Q1", [district("A", "1")], full_quarter("A", months=(450, 470, 490))).units[0]
    assert u.item("third_party").points == 470
    assert u.item("third_party").full == 500
    assert u.total == 970  # 300 + 200 + 470


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("国家相关部委", 3),  # 每项加3分
        ("省委、省政府", 2),  # 每项加2分
        ("省级业务主管部门", 1),  # 每项加1分
    ],
)
def test_c202x_4_4_bonus_per_honour(c202x, needle, expected):
    # S001-C202X-4.4: one honour of each level; total = 1000 + bonus
    manual = full_quarter("A") + hits(c202x, "A", "honours", needle)
    u = score(c202x, "2026Q1", [district("A", "1")], manual).units[0]
    assert u.bonus == expected
    assert u.total == 1000 + expected


def test_c202x_4_4_bonus_is_capped_at_6(c202x):
    # S001-C202X-4.4: three national honours = 3 × 3 = 9 → capped at 6; 1000 + 6 = 1006
    manual = full_quarter("A") + hits(c202x, "A", "honours", "国家相关部委", times=3)
    u = score(c202x, "2026Q1", [district("A", "1")], manual).units[0]
    assert u.bonus == 6
    assert u.total == 1006


def test_c202x_4_4_bonus_sums_levels_below_the_cap(c202x):
    # S001-C202X-4.4: 3 (国家部委) + 2 (省委省政府) = 5 ≤ 6
    manual = (full_quarter("A") + hits(c202x, "A", "honours", "国家相关部委")
              + hits(c202x, "A", "honours", "省委、省政府"))
    u = score(c202x, "2026Q1", [district("A", "1")], manual).units[0]
    assert u.bonus == 5


def test_c202x_4_5_quarter_score_is_the_sum_of_the_three_parts_and_bonus(c202x):
    # S001-C202X-4.5: 280 + 190 + (450 + 470 + 490)/3 + 1 = 280 + 190 + 470 + 1 = 941
    manual = full_quarter("A", dept=280, public=190, months=(450, 470, 490))
    manual += hits(c202x, "A", "honours", "省级业务主管部门")
    u = score(c202x, "2026Q1", [district("A", "1")], manual).units[0]
    assert u.total == 941


def _five(prefix: str, group: str) -> tuple[list[UnitInput], list[ManualEntry]]:
    """Five districts of one group with 部门 scores 300, 290, 280, 270, 260 (totals 1000 … 960)."""
    units, manual = [], []
    for i in range(5):
        code = f"{prefix}{i + 1}"
        units.append(district(code, group))
        manual += full_quarter(code, dept=300 - 10 * i)
    return units, manual


def _money(u) -> list[str]:
    return [n for n in u.notes if "万元" in n]


def test_c202x_5_3a_group_one_rewards_and_fines_by_rank(c202x):
    # S001-C202X-5.3a: totals 1000, 990, 980, 970, 960 → ranks 1..5;
    # 1st +100万, 2nd +80万, 3rd +50万 and (as 倒数第三) −50万, 4th (倒数第二) −80万, 5th (倒数第一) −100万
    units, manual = _five("G1", "1")
    res = score(c202x, "2026Q2", units, manual)
    by = {u.code: u for u in res.units}
    assert [by[f"G1{i}"].rank for i in range(1, 6)] == [1, 2, 3, 4, 5]
    assert _money(by["G11"]) == ["第一组季度第一名：奖励100万元"]
    assert _money(by["G12"]) == ["第一组季度第二名：奖励80万元"]
    assert sorted(_money(by["G13"])) == ["第一组季度倒数第三名：处罚金50万元", "第一组季度第三名：奖励50万元"]
    assert len(_money(by["G14"])) == 1
    assert "处罚金80万元" in _money(by["G14"])[0]
    assert len(_money(by["G15"])) == 1
    assert "处罚金100万元" in _money(by["G15"])[0]


def test_c202x_5_3b_group_two_has_two_rewards_and_two_fines_and_its_own_ranking(c202x):
    # S001-C202X-5.3b: both groups scored together; each ranks 1..5 on its own.
    # group 2: 1st +100万, 2nd +80万, 3rd nothing, 4th −80万, 5th −100万
    u1, m1 = _five("G1", "1")
    u2, m2 = _five("G2", "2")
    res = score(c202x, "2026Q2", u1 + u2, m1 + m2)
    by = {u.code: u for u in res.units}
    assert by["G21"].rank == 1
    assert by["G11"].rank == 1
    assert _money(by["G21"]) == ["第二组季度第一名：奖励100万元"]
    assert len(_money(by["G22"])) == 1
    assert "奖励80万元" in _money(by["G22"])[0]
    assert _money(by["G23"]) == []
    assert len(_money(by["G24"])) == 1
    assert "处罚金80万元" in _money(by["G24"])[0]
    assert len(_money(by["G25"])) == 1
    assert "处罚金100万元" in _money(by["G25"])[0]
    # no group-1 note leaks into group 2 and vice versa
    assert all("第一组" not in n for code in ("G21", "G22", "G23", "G24", "G25") for n in by[code].notes)
    assert all("第二组" not in n for code in ("G11", "G12", "G13", "G14", "G15") for n in by[code].notes)


def test_c202x_5_2_last_place_makes_a_statement(c202x):
    # S001-C202X-5.2: 排名末位的县区主要负责人作表态发言
    units, manual = _five("G1", "1")
    last = next(u for u in score(c202x, "2026Q2", units, manual).units if u.code == "G15")
    assert any("表态发言" in n for n in last.notes)


def test_c202x_5_3b_southern_mountain_area_ranks_but_takes_no_money(c202x):
    # S001-C202X-5.3b: 市南部山区 (no_reward, no_fine) ranks last (5th) in group 2 → it keeps rank 5 and
    # the last-place statement, but the fines go to the next: G24 倒数第一 −100万, G23 倒数第二 −80万
    units, manual = _five("G2", "2")
    units[4].attributes.update({"no_reward": True, "no_fine": True})
    by = {u.code: u for u in score(c202x, "2026Q2", units, manual).units}
    assert by["G25"].rank == 5
    assert _money(by["G25"]) == []
    assert any("表态发言" in n for n in by["G25"].notes)
    assert _money(by["G24"]) == ["第二组季度倒数第一名：处罚金100万元"]
    assert _money(by["G23"]) == ["第二组季度倒数第二名：处罚金80万元"]
    assert _money(by["G21"]) == ["第二组季度第一名：奖励100万元"]


def test_c202x_5_3c_criticised_district_loses_the_reward_and_the_next_moves_up(c202x):
    # S001-C202X-5.3c: the group-1 leader was 通报批评 (no_reward): no reward for it, G12 gets 100万,
    # G13 80万, G14 50万 (and G14 is still 倒数第二 −80万 as it ranks 4th of 5; G13 still 倒数第三 −50万)
    units, manual = _five("G1", "1")
    units[0].attributes["no_reward"] = True
    by = {u.code: u for u in score(c202x, "2026Q2", units, manual).units}
    assert by["G11"].rank == 1
    assert _money(by["G11"]) == []
    assert _money(by["G12"]) == ["第一组季度第一名：奖励100万元"]
    assert sorted(_money(by["G13"])) == ["第一组季度倒数第三名：处罚金50万元", "第一组季度第二名：奖励80万元"]
    assert sorted(_money(by["G14"])) == ["第一组季度倒数第二名：处罚金80万元", "第一组季度第三名：奖励50万元"]


def test_c202x_4_4_bonus_capped_at_6_per_year_across_quarters(c202x):
    # S001-C202X-4.4 年度累计加分不超过6分: Q1 national honour +3 +2 (省) = 5; Q2 another national +3
    # → only 6 − 5 = 1 left → Q2 total 1000 + 1 = 1001; Q3 +1 (省级业务) → 0 left → 1000
    u = [district("A", "1")]
    q1 = score(c202x, "2026Q1", u, full_quarter("A") + hits(c202x, "A", "honours", "国家相关部委")
               + hits(c202x, "A", "honours", "省委、省政府"))
    assert q1.units[0].bonus == 5
    q2 = score(c202x, "2026Q2", u, full_quarter("A") + hits(c202x, "A", "honours", "国家相关部委"), earlier=[q1])
    assert q2.units[0].bonus == 1
    assert q2.units[0].total == 1001
    q3 = score(c202x, "2026Q3", u, full_quarter("A") + hits(c202x, "A", "honours", "省级业务主管部门"),
               earlier=[q1, q2])
    assert q3.units[0].total == 1000
    # a new year starts again: 2027Q1 +3 with 2026's results given → 3
    n1 = score(c202x, "2027Q1", u, full_quarter("A") + hits(c202x, "A", "honours", "国家相关部委"),
               earlier=[q1, q2, q3])
    assert n1.units[0].bonus == 3


def test_c202x_5_1_a_bonus_can_change_the_ranking(c202x):
    # S001-C202X-4.5 + 5.1: A = 990 + 6 (capped bonus) = 996 beats B = 995
    units = [district("A", "1"), district("B", "1")]
    manual = full_quarter("A", dept=290) + hits(c202x, "A", "honours", "国家相关部委", times=2)
    manual += full_quarter("B", dept=295)
    res = score(c202x, "2026Q3", units, manual)
    assert res.unit("A").total == 996
    assert res.unit("A").rank == 1
    assert res.unit("B").total == 995
    assert res.unit("B").rank == 2


# ------------------------------------------------------------------------------------- 济南 2022 (jinan_2022)


@pytest.fixture(scope="module")
def jinan():
    return load_scheme("jinan_2022")


def _jinan_full(code: str, dept: float = 500, months=(300, 300, 300)) -> list[ManualEntry]:
    out = [entry(code, "departments", dept), entry(code, "public_assessment", 200)]
    return out + [entry(code, "third_party", m) for m in months]


def test_jinan_4_total_is_1000_with_departments_500(jinan):
    # S001-JN2022-4 / 4.1: 500 + 200 (assumed) + 300 (assumed) = 1000
    assert jinan.item("departments").full == 500
    u = score(jinan, "2026Q1", [district("A")], _jinan_full("A")).units[0]
    assert u.total == 1000


def test_jinan_4_1_departments_quarterly_score(jinan):
    # S001-JN2022-4.1: 部门 462/500 → 462 + 200 + 300 = 962
    u = score(jinan, "2026Q1", [district("A")], _jinan_full("A", dept=462)).units[0]
    assert u.item("departments").points == 462
    assert u.total == 962


def test_jinan_assumed_third_party_is_the_mean_of_three_months_out_of_300(jinan):
    # assumption (seed cut off): months 270, 280, 290 → 280; 500 + 200 + 280 = 980
    u = score(jinan, "2026Q1", [district("A")], _jinan_full("A", months=(270, 280, 290))).units[0]
    assert u.item("third_party").points == 280
    assert u.total == 980


def test_jinan_assumed_bonus_cap_6_and_no_money(jinan):
    # assumption: bonus 3 + 3 + 2 = 8 → 6; ranking only, no 万元 note for anyone
    manual = _jinan_full("A") + [ManualEntry("A", "honours", p) for p in (3, 3, 2)] + _jinan_full("B", dept=400)
    res = score(jinan, "2026Q1", [district("A"), district("B")], manual)
    assert res.unit("A").total == 1006
    assert res.unit("A").rank == 1
    assert res.unit("B").rank == 2
    assert not any("万元" in n for u in res.units for n in u.notes)


# ------------------------------------------------------------------------------------- 桂林 2023 (guilin_2023)


def test_guilin_units_in_three_groups_ranked_within_their_group():
    # S001-GL2023-2: 县区, 市直, 中(区)直 are ranked separately; one entered 百分制 score each
    s = load_scheme("guilin_2023")
    units = [
        UnitInput("X1", "象山区", "district"),
        UnitInput("X2", "秀峰区", "district"),
        UnitInput("D1", "市公安局", "department", {}, {"group": "市直"}),
        UnitInput("D2", "桂林供电局", "department", {}, {"group": "中区直"}),
    ]
    manual = [entry("X1", "score", 92), entry("X2", "score", 88), entry("D1", "score", 80), entry("D2", "score", 70)]
    res = score(s, "2026", units, manual)
    assert res.unit("X1").total == 92
    assert res.unit("X1").rank == 1
    assert res.unit("X2").rank == 2
    assert res.unit("D1").rank == 1
    assert res.unit("D2").rank == 1


# ------------------------------------------------------------------------------------- 平度 2020 (pingdu_2020)


@pytest.fixture(scope="module")
def pingdu():
    return load_scheme("pingdu_2020")


def test_pingdu_2_groups_one_two_four_have_17_items(pingdu):
    # S001-PD2020-2: 17 content items for 街道 and 部门; 17 × 90 = 1530
    assert len(pingdu.items_for("street")) == 17
    assert len(pingdu.items_for("department")) == 17
    u = UnitInput("S1", "东阁街道办事处", "street")
    manual = [entry("S1", it.id, 90) for it in pingdu.items_for("street")]
    assert score(pingdu, "2026-03", [u], manual).units[0].total == 1530


def test_pingdu_2b_group_three_towns_have_11_items(pingdu):
    # S001-PD2020-2b: 11 items incl. 镇容镇貌管理 (not in the 17); 11 × 80 = 880
    items = pingdu.items_for("town")
    assert len(items) == 11
    assert any(it.name == "镇容镇貌管理" for it in items)
    assert not any(it.name == "镇容镇貌管理" for it in pingdu.items_for("street"))
    u = UnitInput("T1", "白沙河街道办事处", "town")
    manual = [entry("T1", it.id, 80) for it in items]
    assert score(pingdu, "2026-03", [u], manual).units[0].total == 880


def test_pingdu_1_departments_of_groups_two_and_four_rank_separately(pingdu):
    # S001-PD2020-1: 第二组 and 第四组 are both departments but separate ranking groups
    units = [
        UnitInput("B1", "城乡建设局", "department", {}, {"group": "2"}),
        UnitInput("B2", "公安局", "department", {}, {"group": "2"}),
        UnitInput("F1", "供电公司", "department", {}, {"group": "4"}),
    ]
    manual = [entry(c, it.id, pts) for c, pts in (("B1", 90), ("B2", 95), ("F1", 50))
              for it in pingdu.items_for("department")]
    res = score(pingdu, "2026-03", units, manual)
    assert res.unit("B2").rank == 1
    assert res.unit("B1").rank == 2
    assert res.unit("F1").rank == 1


# ------------------------------------------------------------------- 2022 区 实绩考评 (district_performance_2022)


@pytest.fixture(scope="module")
def sj():
    return load_scheme("district_performance_2022")


def street(code: str = "J1", closure=1.0, on_time=1.0, extension=0.0, rework=0.0) -> UnitInput:
    vals = {"closure_rate": closure, "on_time_handling_rate": on_time, "extension_rate": extension,
            "rework_rate": rework}
    inds = {k: Indicator(k, v, cases=(f"{k}-case",) if v not in (None, 0.0, 1.0) else ()) for k, v in vals.items()}
    return UnitInput(code, f"街镇{code}", "street", inds, {})


def sj_full(code: str = "J1", daily=100, road=100, other=100) -> list[ManualEntry]:
    return [entry(code, "daily_check", daily), entry(code, "road_office", road), entry(code, "other_contents", other)]


def test_sj_full_month_is_100(sj):
    # 日常管理 50 (30 + 5 + 15) + 马路办公 10 + 其余 40 = 100
    u = score(sj, "2026-05", [street()], sj_full()).units[0]
    assert u.total == 100


def test_sj_3_1_1_daily_check_is_30_percent(sj):
    # S001-SJ2022-3.1.1: 附件2 score 80/100 → 80 × 30% = 24; total 100 − 6 = 94
    u = score(sj, "2026-05", [street()], sj_full(daily=80)).units[0]
    assert u.item("daily_check").points == 24
    assert u.total == 94


def test_sj_3_1_2_city_covert_check_deductions_copied_and_floored(sj):
    # S001-SJ2022-3.1.2: 市级暗查扣2分 → 5 − 2 = 3; then 扣4 + 扣3 = 7 > 5 → 0
    u = score(sj, "2026-05", [street()], [*sj_full(), entry("J1", "covert_check", -2)]).units[0]
    assert u.item("covert_check").points == 3
    u = score(sj, "2026-05", [street()],
              [*sj_full(), entry("J1", "covert_check", -4), entry("J1", "covert_check", -3)]).units[0]
    assert u.item("covert_check").points == 0
    assert u.total == 95  # 100 − 5


def test_sj_3_1_3_digital_operation_15_points_from_four_rates(sj):
    # S001-SJ2022-3.1.3 (equal quarters assumed): 结案率 90% → 0.9 × 3.75 = 3.375;
    # 按期处置率 80% → 3.0; 延期率 10% → 0.9 × 3.75 = 3.375; 返工率 20% → 0.8 × 3.75 = 3.0; sum 12.75
    u = score(sj, "2026-05", [street(closure=0.9, on_time=0.8, extension=0.1, rework=0.2)], sj_full()).units[0]
    assert u.item("digital_closure").points == 3.375
    assert u.item("digital_on_time").points == 3.0
    assert u.item("digital_extension").points == 3.375
    assert u.item("digital_check").points == 3.0
    assert u.total == pytest.approx(100 - 15 + 12.75)
    assert u.item("digital_extension").cases == ("extension_rate-case",)


def test_sj_3_1_3_no_dispatched_case_is_not_applicable_full_marks(sj):
    # a street with no dispatched case: rates not applicable → no deduction (15 of 15)
    u = score(sj, "2026-05", [street(closure=None, on_time=None, extension=None, rework=None)], sj_full()).units[0]
    assert u.total == 100
    assert "不适用" in u.item("digital_closure").rule


def test_sj_3_2_road_office_10_percent(sj):
    # S001-SJ2022-3.2: 整改 score 70/100 → 7 of 10; total 97
    u = score(sj, "2026-05", [street()], sj_full(road=70)).units[0]
    assert u.item("road_office").points == 7
    assert u.total == 97


def test_sj_3_3_remaining_contents_40_points(sj):
    # S001-SJ2022-3.3 (assumed 40): 50/100 → 20 of 40; total 80
    u = score(sj, "2026-05", [street()], sj_full(other=50)).units[0]
    assert u.item("other_contents").points == 20
    assert u.total == 80


@pytest.mark.parametrize(
    ("needle", "bonus"),
    [("前3名", 3), ("第4-6名", 1), ("第7名以后", 0)],
)
def test_sj_2_3_municipal_task_bonus_by_place(sj, needle, bonus):
    # S001-SJ2022-2.3: 主城区 1–3 → +3, 4–6 → +1, ≥7 → 0
    manual = sj_full() + hits(sj, "J1", "municipal_task", needle)
    u = score(sj, "2026-05", [street()], manual).units[0]
    assert u.bonus == bonus
    assert u.total == 100 + bonus


def test_sj_2_3_municipal_task_bonus_at_most_3_a_month(sj):
    # assumption: two top-3 places in one month → 3 + 3 = 6 → 3
    manual = sj_full() + hits(sj, "J1", "municipal_task", "前3名") * 2
    assert score(sj, "2026-05", [street()], manual).units[0].bonus == 3


def test_sj_2_1_monthly_ranking_and_quarter_is_the_mean_of_months(sj):
    # S001-SJ2022-2.1: 月排名 — J2 (daily 50 → 15, total 85) ranks below J1 (100);
    # 季考核 — J1 months 100, 94 (daily 80), 88 (daily 60) → (100 + 94 + 88) / 3 = 94
    months = []
    for m, daily in (("2026-04", 100), ("2026-05", 80), ("2026-06", 60)):
        months.append(score(sj, m, [street("J1"), street("J2")], sj_full("J1", daily=daily) + sj_full("J2", daily=50)))
    assert months[0].unit("J1").rank == 1
    assert months[0].unit("J2").rank == 2
    q = roll_up(sj, "2026Q2", months, [])
    assert q.unit("J1").total == 94
    assert q.unit("J2").total == 85
    assert q.unit("J1").rank == 1


# --------------------------------------------------------------- 2022 XX市 综合行政执法 (huzhou_enforcement_2022)


@pytest.fixture(scope="module")
def hz():
    return load_scheme("huzhou_enforcement_2022")


def test_hz_6_2_six_parts_share_100_by_deduction(hz):
    # S001-HZ2022-6.2: 队伍建设 −3, 城市治理 −5 → 100 − 8 = 92
    manual = [entry("D1", "team", -3), entry("D1", "governance", -5)]
    u = score(hz, "2026", [district("D1")], manual).units[0]
    assert u.total == 92
    # 扣完为止: −60 −70 → 0, not −30
    u = score(hz, "2026", [district("D1")], [entry("D1", "reform", -60), entry("D1", "lawful", -70)]).units[0]
    assert u.total == 0


def test_hz_6_2_special_work_bonus_8_plus_2(hz):
    # S001-HZ2022-6.2/6.3: 争先创优 (highest honour only) 9 entered → 8; 领导赋分 2 → 100 + 10 = 110
    manual = [entry("D1", "excellence", 9), entry("D1", "leader_points", 2)]
    u = score(hz, "2026", [district("D1")], manual).units[0]
    assert u.item("excellence").points == 8
    assert u.bonus == 10
    assert u.total == 110


# ------------------------------------------------------------------ 2024 区 现场考评 (district_onsite_2024)


@pytest.fixture(scope="module")
def xq():
    return load_scheme("district_onsite_2024")


def onsite_unit(reworked: float = 0) -> UnitInput:
    cases = tuple(f"C{i}" for i in range(int(reworked)))
    return UnitInput("S1", "街道S1", "street", {"reworked": Indicator("reworked", reworked, cases=cases)}, {})


def test_xq_b_onsite_is_daily_20_plus_monthly_10(xq):
    # S001-XQ2024-b: no fault 20 + 10 = 30; 日常 −3, 月督查 −4 → 23
    assert score(xq, "2026-04", [onsite_unit()], []).units[0].total == 30
    manual = [entry("S1", "daily", -3), entry("S1", "monthly_inspection", -4)]
    assert score(xq, "2026-04", [onsite_unit()], manual).units[0].total == 23


def test_xq_c_unrectified_minus_2_each_and_double_after_three_bulletins(xq):
    # S001-XQ2024-c: two problems not rectified 2 × −2 = −4, one after 3 bulletins −4 → 30 − 8 = 22
    manual = hits(xq, "S1", "rectification", "整改不达标", 2) + hits(xq, "S1", "rectification", "连续3次")
    assert score(xq, "2026-04", [onsite_unit()], manual).units[0].total == 22


def test_xq_c_deductions_stop_at_zero(xq):
    # 日常 −20, 月督查 −10, then one more −2 → 0, not −2
    manual = [entry("S1", "daily", -20), entry("S1", "monthly_inspection", -10)]
    manual += hits(xq, "S1", "rectification", "整改不达标")
    assert score(xq, "2026-04", [onsite_unit()], manual).units[0].total == 0


def test_xq_a_failed_checks_are_recorded_not_deducted(xq):
    # S001-XQ2024-a: 3 failed 核查 → 返工数 3 shown with the unit, points unchanged (30)
    u = score(xq, "2026-04", [onsite_unit(reworked=3)], []).units[0]
    assert u.indicators["reworked"] == 3
    assert u.item("failed_checks").value == 3
    assert u.item("failed_checks").points == 0
    assert u.total == 30


SCHEMES_OF_SEED_001 = [
    "comprehensive_202x",
    "jinan_2022",
    "guilin_2023",
    "pingdu_2020",
    "district_performance_2022",
    "huzhou_enforcement_2022",
    "district_onsite_2024",
]


@pytest.mark.parametrize("scheme_id", SCHEMES_OF_SEED_001)
def test_every_item_cites_seed_001_and_silences_are_stated(scheme_id):
    # every item (base and roll-up) cites seed 001 and its clause; each scheme states its assumptions
    s = load_scheme(scheme_id)
    assert s.seed == "001"
    assert s.assumptions
    items = list(s.items) + [it for r in s.rollups for it in r.items]
    for it in items:
        assert it.source.startswith("001 "), (it.id, it.source)
        assert len(it.source) > 8, it.id
