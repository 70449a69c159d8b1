"""Seed 004 schemes (行政服务中心 windows and staff), clause by clause: shangjie_windows, yihuang_windows,
yihuang_advanced_individual, staff_120.

Every clause is an evaluator's entry; the deduction or bonus of each entry is read from the scheme's
reason list by its wording (as the entry form does), so a wrong number in a scheme fails here. Expected
points are worked out by hand in the comments. Clause ids (S004-…) are those of docs/seed-notes-001-004.md.
"""

from __future__ import annotations

import pytest

from app.evaluation import ManualEntry, UnitInput, load_scheme, roll_up, score


def reason_points(scheme, item_id: str, needle: str) -> float:
    found = [r for r in scheme.item(item_id).rule.reasons if needle in r.text]
    assert len(found) == 1, (item_id, needle, [r.text for r in scheme.item(item_id).rule.reasons])
    assert found[0].points is not None
    return found[0].points


def hits(scheme, code: str, item_id: str, needle: str, times: int = 1) -> list[ManualEntry]:
    pts = reason_points(scheme, item_id, needle)
    return [ManualEntry(code, item_id, pts, needle) for _ in range(times)]


def window(code: str = "W1") -> UnitInput:
    return UnitInput(code, f"窗口{code}", "window")


def person(code: str = "P1") -> UnitInput:
    return UnitInput(code, f"人员{code}", "person")


# ------------------------------------------------------------------------------ 上街 优质服务窗口 (shangjie_windows)


@pytest.fixture(scope="module")
def sj():
    return load_scheme("shangjie_windows")


SHANGJIE = [
    # (clause, item, reason wording, times, item points expected)
    ("A1", "leadership", "落实不到位", 1, 10),  # 15 − 5
    ("A1", "leadership", "制度未落实", 1, 0),  # 15 − 15
    ("A2", "leadership", "首席代表", 2, 5),  # 15 − 2 × 5
    ("A3", "leadership", "上政文111号", 1, 10),  # 15 − 5
    ("A4", "leadership", "不报中心备案", 1, 10),  # 15 − 5
    ("A4", "leadership", "漏报、误报", 2, 9),  # 15 − 2 × 3
    ("A5", "leadership", "擅自调整人员", 3, 6),  # 15 − 3 × 3
    ("A6", "leadership", "不支持中心", 1, 10),  # 15 − 5
    ("A7", "leadership", "全部进驻", 1, 10),  # 15 − 5
    ("B1", "discipline", "每超半天", 3, 27),  # 30 − 3 × 1
    ("B2", "discipline", "无故迟到", 4, 26),  # 30 − 4 × 1
    ("B2", "discipline", "旷工半天", 2, 20),  # 30 − 2 × 5
    ("B2", "discipline", "空岗", 3, 24),  # 30 − 3 × 2
    ("B3", "discipline", "集体活动迟到", 2, 28),  # 30 − 2 × 1
    ("B3", "discipline", "集体活动无故缺席", 2, 26),  # 30 − 2 × 2
    ("B4", "discipline", "工作任务不按要求", 1, 25),  # 30 − 5
    ("B5", "discipline", "非工作人员", 2, 26),  # 30 − 2 × 2
    ("B6", "discipline", "拷贝", 1, 28),  # 30 − 2
    ("B7", "discipline", "串岗聊天", 1, 25),  # 30 − 5
    ("B8", "discipline", "吃、拿、卡、要", 1, 10),  # 30 − 20
    ("B8", "discipline", "吃、拿、卡、要", 2, 0),  # 30 − 40 → 扣完为止 0
    ("C1", "conduct", "不佩证", 3, 7),  # 10 − 3 × 1
    ("C2", "conduct", "态度蛮横", 2, 6),  # 10 − 2 × 2
    ("C3", "conduct", "坐、站", 1, 9),  # 10 − 1
    ("C4", "conduct", "禁语", 1, 8),  # 10 − 2
    ("D1", "handling", "未收件", 1, 10),  # 15 − 5
    ("D2", "handling", "一次性告知", 2, 5),  # 15 − 2 × 5
    ("D3", "handling", "否定报备", 1, 10),  # 15 − 5
    ("D4", "handling", "首问负责", 3, 0),  # 15 − 3 × 5
]


@pytest.mark.parametrize(("clause", "item", "needle", "times", "expected"), SHANGJIE,
                         ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in SHANGJIE])
def test_shangjie_clause(sj, clause, item, needle, times, expected):
    # S004-SJ-<clause>: the clause alone bites; the other three 大项 stay full, total out of 70
    u = score(sj, "2026-03", [window()], hits(sj, "W1", item, needle, times)).units[0]
    assert u.item(item).points == expected
    assert u.total == 70 - (u.item(item).full - expected)


def test_shangjie_totals_70_and_categories_floor_separately(sj):
    # S004-SJ: no fault → 15 + 30 + 10 + 15 = 70.
    # 态度蛮横 ×6 = −12 on 行为规范 (10) → 0, not −2; plus 首席代表 −5 → 70 − 10 − 5 = 55
    assert score(sj, "2026-03", [window()], []).units[0].total == 70
    manual = hits(sj, "W1", "conduct", "态度蛮横", 6) + hits(sj, "W1", "leadership", "首席代表")
    u = score(sj, "2026-03", [window()], manual).units[0]
    assert u.item("conduct").points == 0
    assert u.total == 55


def test_shangjie_2_at_most_five_candidates_a_month(sj):
    # S004-SJ-2: seven windows with 0..6 无故迟到 faults at −1 → totals 70, 69, 68, 67, 66, 65, 64;
    # the first five are candidates
    units = [window(f"W{i}") for i in range(7)]
    manual = [e for i in range(7) for e in hits(sj, f"W{i}", "discipline", "无故迟到", i)]
    res = score(sj, "2026-03", units, manual)
    cand = sorted(u.code for u in res.units if any("优质服务窗口" in n for n in u.notes))
    assert cand == ["W0", "W1", "W2", "W3", "W4"]
    assert res.unit("W6").total == 64  # 70 − 6 × 1


# ------------------------------------------------------------------------------- 宜黄 单位窗口考评 (yihuang_windows)


@pytest.fixture(scope="module")
def yh():
    return load_scheme("yihuang_windows")


YIHUANG = [
    ("A1", "unit_focus", "无分管领导", 1, 13),  # 15 − 2
    ("A2", "unit_focus", "工作条件", 1, 13),  # 15 − 2
    ("A3", "unit_focus", "困难得不到", 1, 13),  # 15 − 2
    ("A4", "unit_focus", "中心之外", 1, 13),  # 15 − 2
    ("A5", "unit_focus", "随意变换人员", 1, 12),  # 15 − 3
    ("B1", "handling", "执法资格", 1, 38),  # 40 − 2
    ("B2", "handling", "首席代表", 1, 38),  # 40 − 2
    ("B3", "handling", "大厅公示", 1, 38),  # 40 − 2
    ("B4", "handling", "擅自提高或降低", 2, 30),  # 40 − 2 × 5
    ("B5", "handling", "超越职权", 1, 35),  # 40 − 5
    ("B6", "handling", "首问责任制", 3, 34),  # 40 − 3 × 2
    ("B7", "handling", "一次性告知", 2, 36),  # 40 − 2 × 2
    ("B8", "handling", "承诺时限", 2, 34),  # 40 − 2 × 3
    ("B9", "handling", "差错", 3, 25),  # 40 − 3 × 5
    ("C1", "civility", "迟到或早退", 3, 43.5),  # 45 − 3 × 0.5
    ("C1", "civility", "旷工", 2, 35),  # 45 − 2 × 5
    ("C2", "civility", "串岗", 2, 41),  # 45 − 2 × 2
    ("C3", "civility", "未佩证", 1, 43),  # 45 − 2
    ("C4", "civility", "争吵", 1, 39),  # 45 − 6
    ("C5", "civility", "未登入", 3, 39),  # 45 − 3 × 2
    ("C6", "civility", "档案", 2, 41),  # 45 − 2 × 2
    ("C7", "civility", "办事拖拉", 1, 43),  # 45 − 2
    ("C8", "civility", "计算机管理制度", 1, 40),  # 45 − 5
    ("C9", "civility", "违纪违规", 1, 35),  # 45 − 10
]


@pytest.mark.parametrize(("clause", "item", "needle", "times", "expected"), YIHUANG,
                         ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in YIHUANG])
def test_yihuang_clause(yh, clause, item, needle, times, expected):
    # S004-YH2-<clause>: monthly score = 100 − this clause's deduction
    u = score(yh, "2026-03", [window()], hits(yh, "W1", item, needle, times)).units[0]
    assert u.item(item).points == expected
    assert u.total == 100 - (u.item(item).full - expected)


def test_yihuang_e_deductions_stop_at_each_items_marks(yh):
    # S004-YH2-E 直到扣完为止: 旷工 10 days = −50 on 文明服务 (45) → 0; 单位重视 all five = −11 → 4;
    # total 4 + 40 + 0 = 44
    manual = hits(yh, "W1", "civility", "旷工", 10)
    for needle in ("无分管领导", "工作条件", "困难得不到", "中心之外", "随意变换人员"):
        manual += hits(yh, "W1", "unit_focus", needle)
    u = score(yh, "2026-03", [window()], manual).units[0]
    assert u.item("civility").points == 0
    assert u.item("unit_focus").points == 4
    assert u.total == 44


def _months(yh, totals_faults: list[int], code: str = "W1"):
    """Monthly results where month i has ``faults[i]`` 办事差错 (−5 each)."""
    out = []
    for i, n in enumerate(totals_faults, start=1):
        out.append(score(yh, f"2026-{i:02d}", [window(code)], hits(yh, code, "handling", "差错", n)))
    return out


def test_yihuang_e_annual_is_the_monthly_mean(yh):
    # S004-YH2-E: months 100, 90, 80 (0, 2, 4 差错 × −5) → mean 90; no 奖扣分 → 90
    year = roll_up(yh, "2026", _months(yh, [0, 2, 4]), [])
    assert year.units[0].total == 90


def test_yihuang_d1_media_bonus_capped_at_10(yh):
    # S004-YH2-D1: 3 city-level adoptions = 3 × 4 = 12 → 10; 1 county = 2 → 12 → still 10; 90 + 10 = 100
    manual = hits(yh, "W1", "media_adoption", "市级以上", 3) + hits(yh, "W1", "media_adoption", "县级")
    year = roll_up(yh, "2026", _months(yh, [0, 2, 4]), manual).units[0]
    assert year.item("media_adoption").points == 10
    assert year.total == 100


def test_yihuang_d1_county_media_adoption(yh):
    # S004-YH2-D1: 2 county adoptions = 2 × 2 = 4; 90 + 4 = 94
    manual = hits(yh, "W1", "media_adoption", "县级", 2)
    assert roll_up(yh, "2026", _months(yh, [0, 2, 4]), manual).units[0].total == 94


def test_yihuang_d2_honours_and_total_may_exceed_100(yh):
    # S004-YH2-D2 + 五、2 加分可以突破100分: mean 100, county honour +5, city honour +10 → 115
    manual = hits(yh, "W1", "honours", "县级荣誉") + hits(yh, "W1", "honours", "市级(含市级)以上")
    year = roll_up(yh, "2026", _months(yh, [0, 0]), manual).units[0]
    assert year.total == 115


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("被县级新闻媒体批评", 80),  # 90 − 10
        ("被市级以上新闻媒体批评", 70),  # 90 − 20
        ("吃、拿、卡、要", 80),  # 90 − 10
    ],
)
def test_yihuang_d3_d4_criticism_and_corruption_deducted_from_the_annual(yh, needle, expected):
    # S004-YH2-D3/D4: deducted from the annual score (mean 90), outside the three capped items
    year = roll_up(yh, "2026", _months(yh, [0, 2, 4]), hits(yh, "W1", "penalties", needle)).units[0]
    assert year.total == expected


def test_yihuang_d_penalty_is_not_floored_by_the_bonuses_being_zero(yh):
    # one month: 办件规范 40 − 14 × 5 = −30 → 0, 文明服务 45 − 9 × 5 = 0 → total 15 (单位重视 only);
    # two city-level criticisms 2 × −20 = −40 → 15 − 40 = −25 (奖扣分 not floored)
    months = [score(yh, "2026-01", [window()],
                    hits(yh, "W1", "handling", "差错", 14) + hits(yh, "W1", "civility", "旷工", 9))]
    assert months[0].units[0].total == 15
    year = roll_up(yh, "2026", months, hits(yh, "W1", "penalties", "被市级以上新闻媒体批评", 2)).units[0]
    assert year.total == -25


def test_yihuang_e_top_five_monthly_red_flag(yh):
    # S004-YH1-5 / YH2: seven windows 100, 95, …, 70 → the first five get 流动红旗
    units = [window(f"W{i}") for i in range(7)]
    manual = [e for i in range(7) for e in hits(yh, f"W{i}", "handling", "差错", i)]
    res = score(yh, "2026-03", units, manual)
    flagged = sorted(u.code for u in res.units if any("流动红旗" in n for n in u.notes))
    assert flagged == ["W0", "W1", "W2", "W3", "W4"]


# -------------------------------------------------------------- 宜黄 先进个人 (yihuang_advanced_individual)


@pytest.fixture(scope="module")
def yp():
    return load_scheme("yihuang_advanced_individual")


YIHUANG_PERSON = [
    # (clause, item, reason wording, times, category, category points expected)
    ("德(1)", "de_study", "无故缺席", 1, "de", 15),  # 10 − 5 + 10
    ("德(2)", "de_attitude", "投诉经查实", 3, "de", 10),  # 10 + (10 − 15 → 0)
    ("能(3)", "neng_errors", "差错", 1, "neng", 15),  # 20 − 5
    ("能(3)", "neng_errors", "差错", 5, "neng", 0),  # 20 − 25 → 0 (大项扣完为止)
    ("勤(1)", "qin", "玩电脑游戏", 2, "qin", 26),  # 30 − 2 × 2
    ("勤(2)", "qin", "旷工", 1, "qin", 25),  # 30 − 5
    ("勤(2)", "qin", "缺勤", 3, "qin", 27),  # 30 − 3 × 1
    ("勤(3)", "qin", "迟到、早退", 3, "qin", 28.5),  # 30 − 3 × 0.5
    ("勤(4)", "qin", "未佩证", 1, "qin", 29.5),  # 30 − 0.5
    ("绩(1)", "ji_duty", "不满意", 1, "ji", 25),  # 30 − 5
    ("绩(2)", "ji_tasks", "按时、按质", 2, "ji", 20),  # 30 − 2 × 5
    ("绩(3)", "ji_handling", "群众反映强烈", 1, "ji", 25),  # 30 − 5
]


@pytest.mark.parametrize(("clause", "item", "needle", "times", "cat", "expected"), YIHUANG_PERSON,
                         ids=[f"{c[0]}-{c[3]}" for c in YIHUANG_PERSON])
def test_yihuang_person_clause(yp, clause, item, needle, times, cat, expected):
    # S004-YHP-<clause>: the category alone loses points; total = 100 − loss
    u = score(yp, "2026-03", [person()], hits(yp, "P1", item, needle, times)).units[0]
    cap = yp.category(cat).cap
    cat_points = sum(i.points for i in u.items if i.category == cat)
    assert max(0.0, cat_points) == expected
    assert u.total == 100 - (cap - expected)


def test_yihuang_person_bonuses(yp):
    # S004-YHP-其他: 投稿 3 city = 12 → 10 (cap); 合理化建议 2 × 5 = 10; 表扬 3 × 2 = 6 → 100 + 26 = 126
    manual = (hits(yp, "P1", "media_articles", "市级以上", 3) + hits(yp, "P1", "suggestions", "合理化建议", 2)
              + hits(yp, "P1", "praise", "表扬", 3))
    u = score(yp, "2026-03", [person()], manual).units[0]
    assert u.item("media_articles").points == 10
    assert u.bonus == 26
    assert u.total == 126


def test_yihuang_person_county_article(yp):
    # S004-YHP-其他(2): one county article = +2 → 102
    u = score(yp, "2026-03", [person()], hits(yp, "P1", "media_articles", "县级")).units[0]
    assert u.total == 102


def test_yihuang_person_4_quarter_and_year_are_monthly_means(yp):
    # S004-YHP-4: months 100, 95 (1 不满意), 90 (2 不满意) → quarter (100 + 95 + 90) / 3 = 95
    months = [score(yp, f"2026-0{m}", [person()], hits(yp, "P1", "ji_duty", "不满意", n))
              for m, n in ((1, 0), (2, 1), (3, 2))]
    assert [r.units[0].total for r in months] == [100, 95, 90]
    assert roll_up(yp, "2026Q1", months, []).units[0].total == 95
    assert roll_up(yp, "2026", months, []).units[0].total == 95


# ---------------------------------------------------------------------------- XX市 120分 (staff_120)


@pytest.fixture(scope="module")
def st():
    return load_scheme("staff_120")


def test_staff_10_monthly_base_100_items(st):
    # S004-XX120-10: 30 + 20 + 30 + 20 = 100 base
    assert [st.item(i).full for i in ("discipline", "network", "lawful", "rules")] == [30, 20, 30, 20]
    assert score(st, "2026-03", [person()], []).units[0].total == 100


def test_staff_14_total_is_100_minus_deductions_plus_extra(st):
    # S004-XX120-14: 100 − 5 (纪律) − 3 (网络) − 4 (规章) + 4 (附加) = 92
    manual = [ManualEntry("P1", "discipline", -5), ManualEntry("P1", "network", -3),
              ManualEntry("P1", "rules", -4), ManualEntry("P1", "extra", 4)]
    u = score(st, "2026-03", [person()], manual).units[0]
    assert u.total == 92


def test_staff_10_item_deductions_stop_at_zero(st):
    # 计算机网络 20: −25 → 0; total 100 − 20 = 80
    u = score(st, "2026-03", [person()], [ManualEntry("P1", "network", -25)]).units[0]
    assert u.item("network").points == 0
    assert u.total == 80


def test_staff_10_extra_points_at_most_20_total_120(st):
    # S004-XX120-10: 附加分 15 + 10 = 25 → 20; total 100 + 20 = 120
    manual = [ManualEntry("P1", "extra", 15), ManualEntry("P1", "extra", 10)]
    u = score(st, "2026-03", [person()], manual).units[0]
    assert u.bonus == 20
    assert u.total == 120


def _staff_year(st, monthly_deductions: list[float], annual: list[ManualEntry]):
    months = [score(st, f"2026-{i:02d}", [person()], [ManualEntry("P1", "discipline", d)] if d else [])
              for i, d in enumerate(monthly_deductions, start=1)]
    return roll_up(st, "2026", months, annual).units[0], roll_up(st, "2026", months, annual)


def test_staff_13_annual_seven_parts(st):
    # S004-XX120-13: months 100 and 90 → mean 95 × 0.6 = 57; 个人总结 6 − 1 = 5; 公众评价 10 − 12 → 0;
    # 首席代表评价 8 − 0 = 8; 绩效评价 8 − 2 = 6; 廉洁自律 8; 附加 5 → 57 + 5 + 0 + 8 + 6 + 8 + 5 = 89
    annual = [ManualEntry("P1", "summary", -1), ManualEntry("P1", "public", -12),
              ManualEntry("P1", "leader_review", 0, "评价无扣分"), ManualEntry("P1", "performance", -2),
              ManualEntry("P1", "annual_extra", 5)]
    u, res = _staff_year(st, [0, -10], annual)
    assert u.item("rollup_year").points == 57
    assert u.item("public").points == 0
    assert u.total == 89
    assert res.missing_manual == []


def test_staff_13_monthly_part_capped_at_60_and_reviews_required(st):
    # months 120 and 120 (附加 20 each) → 120 × 0.6 = 72 → 60; no annual entry:
    # 60 + 6 + 10 + 8 + 8 + 8 = 100, and 个人总结 / 首席代表评价 / 绩效评价 are listed as missing
    months = [score(st, f"2026-0{m}", [person()], [ManualEntry("P1", "extra", 20)]) for m in (1, 2)]
    res = roll_up(st, "2026", months, [])
    u = res.units[0]
    assert u.item("rollup_year").points == 60
    assert u.total == 100
    assert sorted(i for _, i in res.missing_manual) == ["leader_review", "performance", "summary"]


def test_staff_13_annual_extra_capped_at_20(st):
    # annual 附加分 30 → 20; base months 100 → 60 + 40 + 20 = 120
    annual = [ManualEntry("P1", "annual_extra", 30)] + [ManualEntry("P1", i, 0) for i in
                                                          ("summary", "leader_review", "performance")]
    u, _ = _staff_year(st, [0], annual)
    assert u.total == 120


# ------------------------------------------------------------- 宜黄 窗口服务考评办法 (yihuang_window_service)


@pytest.fixture(scope="module")
def yws():
    return load_scheme("yihuang_window_service")


YIHUANG_V1 = [
    ("一1", "unit_focus", "无分管领导", 1, 13),  # 15 − 2
    ("一2", "unit_focus", "工作条件", 1, 13),  # 15 − 2
    ("一3", "unit_focus", "得不到及时解决", 1, 13),  # 15 − 2
    ("一4", "unit_focus", "中心之外", 1, 13),  # 15 − 2
    ("一5", "unit_focus", "随意变换人员", 1, 12),  # 15 − 3
    ("二1", "service", "执法资格", 1, 38),  # 40 − 2
    ("二2", "service", "首席代表", 1, 38),  # 40 − 2
    ("二3", "service", "大厅公示", 1, 38),  # 40 − 2
    ("二4", "service", "擅自提高或降低", 1, 35),  # 40 − 5
    ("二5", "service", "超越职权", 2, 30),  # 40 − 2 × 5
    ("二6", "service", "首问责任制", 1, 38),  # 40 − 2
    ("二7", "service", "一次性告知", 1, 38),  # 40 − 2
    ("二8", "service", "承诺时限", 1, 37),  # 40 − 3
    ("二9", "service", "每月5日之前", 1, 37),  # 40 − 3 (only in this version)
    ("二10", "service", "差错", 8, 0),  # 40 − 8 × 5 = 0
    ("三1", "civility", "迟到或早退", 1, 44.5),  # 45 − 0.5
    ("三1", "civility", "旷工", 1, 40),  # 45 − 5
    ("三2", "civility", "串岗", 1, 43),  # 45 − 2
    ("三3", "civility", "未佩证", 2, 41),  # 45 − 2 × 2
    ("三4", "civility", "有效投诉", 1, 39),  # 45 − 6
    ("三5", "civility", "未登入", 1, 43),  # 45 − 2
    ("三6", "civility", "档案", 1, 43),  # 45 − 2
    ("三7", "civility", "不服从中心协调", 1, 43),  # 45 − 2
    ("三8", "civility", "计算机管理制度", 1, 40),  # 45 − 5
    ("三9", "civility", "违纪违规", 5, 0),  # 45 − 5 × 10 → 0
]


@pytest.mark.parametrize(("clause", "item", "needle", "times", "expected"), YIHUANG_V1,
                         ids=[f"{c[0]}-{c[3]}" for c in YIHUANG_V1])
def test_yihuang_v1_clause(yws, clause, item, needle, times, expected):
    # S004-YH1-<clause>: monthly score = 100 − this clause's deduction (扣完大项分数为止)
    u = score(yws, "2026-03", [window()], hits(yws, "W1", item, needle, times)).units[0]
    assert u.item(item).points == expected
    assert u.total == 100 - (u.item(item).full - expected)


def test_yihuang_v1_other_bonuses_and_deductions_in_the_annual(yws):
    # S004-YH1-4/5: months 100 and 90 (2 差错) → mean 95; 改进办事程序 2 × 2 = +4; 县级荣誉 +5;
    # 县级批评 −10; 吃拿卡要 −10 → 95 + 4 + 5 − 10 − 10 = 84
    months = [score(yws, f"2026-0{m}", [window()], hits(yws, "W1", "service", "差错", n))
              for m, n in ((1, 0), (2, 2))]
    manual = (hits(yws, "W1", "process_improvement", "缩短审批时限", 2) + hits(yws, "W1", "honours", "县级荣誉")
              + hits(yws, "W1", "penalties", "县级新闻媒体批评") + hits(yws, "W1", "penalties", "吃、拿、卡、要"))
    assert roll_up(yws, "2026", months, manual).units[0].total == 84


SCHEMES_OF_SEED_004 = [
    "shangjie_windows",
    "yihuang_windows",
    "yihuang_window_service",
    "yihuang_advanced_individual",
    "staff_120",
]


@pytest.mark.parametrize("scheme_id", SCHEMES_OF_SEED_004)
def test_every_item_cites_seed_004_and_silences_are_stated(scheme_id):
    # every item (base and roll-up) cites seed 004 and its clause; each scheme states its assumptions
    s = load_scheme(scheme_id)
    assert s.seed == "004"
    assert s.assumptions
    items = list(s.items) + [it for r in s.rollups for it in r.items]
    for it in items:
        assert it.source.startswith("004 "), (it.id, it.source)
        assert len(it.source) > 8, it.id
