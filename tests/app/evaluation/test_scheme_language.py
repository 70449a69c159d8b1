"""The scheme language: loading, validation errors, and each rule kind on tiny inline schemes.

Every expected number is worked out by hand in a comment next to it.
"""

from __future__ import annotations

import tomllib

import pytest

from app.evaluation import (
    Indicator,
    ManualEntry,
    SchemeError,
    UnitInput,
    list_schemes,
    load_scheme,
    parse_scheme,
    roll_up,
    score,
)
from app.evaluation.rules import RuleInputError
from app.paths import SCHEMES

HEAD = """
[scheme]
id = "t"
name = "测试方案"
version = "1"
seed = "test"
source = "test"
unit_kinds = ["district", "department"]
"""


def scheme_of(body: str, head: str = HEAD):
    return parse_scheme(tomllib.loads(head + body), "t.toml")


def unit(code="U1", kind="district", attributes=None, **values):
    inds = {k: (v if isinstance(v, Indicator) else Indicator(k, v)) for k, v in values.items()}
    return UnitInput(code, f"单位{code}", kind, inds, dict(attributes or {}))


def one(scheme, u, manual=(), period="2026-10"):
    return score(scheme, period, [u], list(manual)).units[0]


# ------------------------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("scheme_id", list_schemes())
def test_every_shipped_scheme_loads_and_validates(scheme_id):
    s = load_scheme(scheme_id)
    assert s.id == scheme_id
    assert s.items
    for it in s.items:
        assert it.source.strip(), it.id
    for r in s.rollups:
        for it in r.items:
            assert it.source.strip(), it.id


def test_shipped_schemes_include_the_ones_of_seeds_000_002_003_and_standard():
    ids = set(list_schemes())
    assert {"standard", "xuzhou_quanshan", "ningbo_center", "ningbo_district_bureau", "yangzhou_district",
            "yangzhou_departments", "hangzhou_xihu", "city_departments_template", "changzhou_zhonglou",
            "zhengzhou"} <= ids


@pytest.mark.parametrize("scheme_id", list_schemes())
def test_every_shipped_scheme_scores_a_month_without_data(scheme_id):
    """No case data (every indicator not applicable) and no entry: each computed item follows its ``na``
    policy, manual score items are 0 and reported missing when required, and the total respects the caps."""
    s = load_scheme(scheme_id)
    for kind in s.unit_kinds:
        names = s.required_indicators_for(kind)
        u = unit("P", kind, {"grid_count": 1, "area_class": "1", "road_count": 100, "difficulty": 1},
                 **{n: Indicator(n, None) for n in names})
        res = score(s, "2026-10", [u], [])
        r = res.units[0]
        for it in s.items_for(kind):
            got = r.item(it.id)
            if it.is_manual:
                expected = 0.0 if it.rule.entry == "score" else it.full
                assert got.missing == it.rule.required, it.id
                assert ((r.code, it.id) in res.missing_manual) == it.rule.required, it.id
            elif it.rule.kind == "per_count" and it.rule.effect == "award":
                expected = 0.0
            else:
                expected = (it.full if it.na == "full" else 0.0) if it.deduct_from == "item" else 0.0
            assert got.points == expected, (scheme_id, it.id)
        if s.total_cap is not None:
            assert r.total <= s.total_cap + 1e-9


def test_load_by_path_and_unknown_id(tmp_path):
    s = load_scheme(SCHEMES / "standard.toml")
    assert s.id == "standard"
    with pytest.raises(SchemeError, match="no_such_scheme"):
        load_scheme("no_such_scheme")
    bad = tmp_path / "broken.toml"
    bad.write_text("[scheme\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"broken\.toml"):
        load_scheme(bad)


# ------------------------------------------------------------------------------------------- validation

RATE_ITEM = """
[[item]]
id = "a"
name = "甲"
full = 10
kind = "rate"
indicator = "closure_rate"
source = "s"
"""


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (RATE_ITEM.replace('source = "s"', 'source = "s"\nweigth = 3'), "weigth"),
        (RATE_ITEM.replace('source = "s"\n', ""), "field='source'"),
        (RATE_ITEM.replace('kind = "rate"', 'kind = "magic"'), "magic"),
        (RATE_ITEM.replace("full = 10", 'full = "ten"'), "field='full'"),
        (RATE_ITEM.replace('name = "甲"', 'name = "甲"\ncategory = "nowhere"'), "nowhere"),
        (RATE_ITEM.replace('indicator = "closure_rate"', ""), "field='indicator'"),
        (RATE_ITEM + RATE_ITEM, "duplicate item id"),
        (RATE_ITEM.replace("full = 10", "full = 0"), "deduct_from"),
        (RATE_ITEM.replace('name = "甲"', 'name = "甲"\nunit_kinds = ["planet"]'), "planet"),
        ("", "at least one"),
        (RATE_ITEM + '[[grade]]\nmin = 90\n', "field='label'"),
        (RATE_ITEM + '[rollup]\nperiod = "year"\n', "[[rollup]]"),
        (RATE_ITEM + '[[rollup]]\nperiod = "year"\nmethod = "divide"\n', "divisor"),
        (RATE_ITEM.replace('kind = "rate"', 'kind = "linear"'), "required number missing"),
        (RATE_ITEM.replace('kind = "rate"', 'kind = "per_count"') + "per = -1\n", "field='per'"),
        (RATE_ITEM.replace('kind = "rate"', 'kind = "per_count"') + "per = 1\nallowance_rate = 0.01\n",
         "allowance_of"),
    ],
)
def test_validation_errors_name_file_item_and_field(body, needle):
    with pytest.raises(SchemeError) as exc:
        scheme_of(body)
    msg = str(exc.value)
    assert "file=t.toml" in msg
    assert needle in msg


def test_carry_negative_needs_an_uncapped_scheme():
    with pytest.raises(SchemeError, match="carry_negative"):
        scheme_of(RATE_ITEM, HEAD + "carry_negative = true\n")


def test_id_must_match_file_name():
    with pytest.raises(SchemeError, match="file stem='other'"):
        parse_scheme(tomllib.loads(HEAD + RATE_ITEM), "other.toml")


def test_required_indicators_union_of_rules_and_declared():
    s = scheme_of(RATE_ITEM, HEAD + 'required_indicators = ["reported"]\n')
    assert s.required_indicators == ("reported", "closure_rate")


# ------------------------------------------------------------------------------------------- rule kinds

LINEAR = """
[[item]]
id = "c"
name = "结案率"
full = 7
kind = "linear"
indicator = "closure_rate"
threshold = 0.95
step = 0.01
per_step = 1
zero_below = 0.60
source = "s"
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.97, 7.0),   # above the threshold: no deduction
        (0.93, 5.0),   # (95 − 93)/1 = 2 steps × 1 = 2 → 7 − 2 = 5 (no float 1.999… step)
        (0.935, 5.5),  # 1.5 steps (exact) → 5.5
        (0.85, 0.0),   # 10 steps → −3 → floor at zero within the item
        (0.60, 0.0),   # 35 steps already exhaust the item; zero_below is strict (60% itself not zeroed)
        (None, 7.0),   # not applicable: no deduction (na = "full")
    ],
)
def test_linear_below(value, expected):
    assert one(scheme_of(LINEAR), unit(closure_rate=value)).items[0].points == expected


def test_linear_zero_below_is_strict_and_steps_ceil():
    body = LINEAR.replace("threshold = 0.95", "threshold = 0.80").replace("step = 0.01", "step = 0.05")
    s = scheme_of(body)
    # 60%: (80 − 60)/5 = 4 steps → 7 − 4 = 3; not below 60% so not zeroed
    assert one(s, unit(closure_rate=0.60)).items[0].points == 3.0
    # 59.9%: below 60% → 0
    assert one(s, unit(closure_rate=0.599)).items[0].points == 0.0
    s_ceil = scheme_of(body.replace("per_step = 1", 'per_step = 1\nsteps = "ceil"'))
    # 77%: 3/5 = 0.6 step → ceil 1 → 7 − 1 = 6
    assert one(s_ceil, unit(closure_rate=0.77)).items[0].points == 6.0


def test_linear_above():
    body = LINEAR.replace('direction', 'x').replace("threshold = 0.95", 'threshold = 0.02\ndirection = "above"')
    body = body.replace("zero_below = 0.60\n", "").replace("full = 7", "full = 4")
    # 返工率 4.5%: (4.5 − 2)/1 = 2.5 steps → 4 − 2.5 = 1.5
    assert one(scheme_of(body), unit(closure_rate=0.045)).items[0].points == 1.5


PER_COUNT = """
[[item]]
id = "x"
name = "延期"
full = 5
kind = "per_count"
indicator = "extended"
per = 0.1
allowance_rate = 0.01
allowance_of = "received"
allowance_round = "floor"
source = "s"
"""


def test_per_count_with_allowance_over_received():
    s = scheme_of(PER_COUNT)
    # received 250 → allowance floor(2.5) = 2; extended 7 → 5 over × 0.1 = 0.5 → 4.5
    r = one(s, unit(extended=Indicator("extended", 7, cases=("C1", "C2")), received=250))
    assert r.items[0].points == 4.5
    assert r.items[0].cases == ("C1", "C2")
    # extended 2 ≤ allowance: full marks and no cases shown
    r = one(s, unit(extended=Indicator("extended", 2, cases=("C1",)), received=250))
    assert r.items[0].points == 5.0
    assert r.items[0].cases == ()


def test_per_count_doubles_repeats_and_divides_by_attributes():
    body = """
[[item]]
id = "e"
name = "督办"
full = 20
kind = "per_count"
indicator = "escalated"
repeat = "escalated_repeat"
per = 1
divide_by = [{ attribute = "difficulty", default = 1.0 }]
source = "s"
"""
    s = scheme_of(body)
    # 5 督办 of which 2 repeats: 3 × 1 + 2 × 2 = 7 → 20 − 7 = 13
    assert one(s, unit(escalated=5, escalated_repeat=2)).items[0].points == 13.0
    # difficulty 1.4: 7 / 1.4 = 5 → 15
    assert one(s, unit(attributes={"difficulty": 1.4}, escalated=5, escalated_repeat=2)).items[0].points == 15.0


def test_per_count_award_is_capped_at_full():
    body = PER_COUNT.replace('per = 0.1', 'per = 1\neffect = "award"').replace(
        "allowance_rate = 0.01\nallowance_of = \"received\"\nallowance_round = \"floor\"\n", "")
    s = scheme_of(body)
    assert one(s, unit(extended=3)).items[0].points == 3.0   # 3 × 1
    assert one(s, unit(extended=9)).items[0].points == 5.0   # 9 capped at full 5


def test_weighted_terms_and_custom_ratio():
    body = """
[[item]]
id = "t"
name = "及时解决"
full = 70
kind = "rate"
invert = true
terms = [{ indicator = "due_to_handle" }, { indicator = "handled_on_time", weight = -1 }, { indicator = "returned", weight = 0.5 }]
over = "due_to_handle"
source = "s"
"""
    s = scheme_of(body)
    # (100 − 90 + 0.5 × 4)/100 = 0.12 → (1 − 0.12) × 70 = 61.6
    assert one(s, unit(due_to_handle=100, handled_on_time=90, returned=4)).items[0].points == 61.6
    # zero denominator → not applicable → full marks, never a division error
    assert one(s, unit(due_to_handle=0, handled_on_time=0, returned=0)).items[0].points == 70.0


def test_threshold_pass_fail():
    body = """
[[item]]
id = "s"
name = "满意率"
full = 2
kind = "threshold"
indicator = "satisfaction_rate"
op = ">"
than = 0.90
na = "zero"
source = "s"
"""
    s = scheme_of(body)
    assert one(s, unit(satisfaction_rate=0.95)).items[0].points == 2.0
    assert one(s, unit(satisfaction_rate=0.90)).items[0].points == 0.0   # "高于" strict
    assert one(s, unit(satisfaction_rate=None)).items[0].points == 0.0   # na = zero
    s2 = scheme_of(body.replace('op = ">"', 'op = ">="'))
    assert one(s2, unit(satisfaction_rate=0.90)).items[0].points == 2.0


def test_table_bands_and_by_attribute():
    body = """
[[item]]
id = "n"
name = "立案数分值"
full = 10
basis = 100
kind = "table"
indicator = "registered"
by_attribute = "area_class"
source = "s"
[item.tables]
"1" = [{ from = 0, points = 100 }, { from = 1, points = 90 }, { from = 3, points = 75 }]
"2" = [{ from = 0, points = 100 }, { from = 1, points = 90 }, { from = 4, points = 75 }]
"""
    s = scheme_of(body)
    # class 1, 3 cases → 75/100 × 10 = 7.5; class 2, 3 cases → 90 → 9
    assert one(s, unit(attributes={"area_class": "1"}, registered=3)).items[0].points == 7.5
    assert one(s, unit(attributes={"area_class": 2}, registered=3)).items[0].points == 9.0
    with pytest.raises(RuleInputError, match="area_class"):
        one(s, unit(attributes={"area_class": "3"}, registered=3))


def test_rate_times_weight():
    s = scheme_of(RATE_ITEM)
    assert one(s, unit(closure_rate=0.875)).items[0].points == 8.75  # 0.875 × 10


MANUAL = """
[[item]]
id = "m"
name = "台账"
full = 5
kind = "manual"
source = "s"
reasons = [{ text = "缺失", points = -2 }, { text = "酌情" }]

[[item]]
id = "site"
name = "现场考评"
full = 35
basis = 100
kind = "manual"
entry = "score"
source = "s"
"""


def test_manual_deduction_and_score_items_and_missing_list():
    s = scheme_of(MANUAL)
    entries = [ManualEntry("U1", "m", -2, "缺失", "照片1", "考评员甲"), ManualEntry("U1", "m", -4, "又缺", "", "甲")]
    res = score(s, "2026-10", [unit()], entries)
    u = res.units[0]
    assert u.item("m").points == 0.0        # 5 − 2 − 4 = −1 → stops at 0 (扣完为止)
    assert u.item("m").manual
    assert u.item("site").points == 0.0     # score item not entered → 0 and listed missing
    assert u.item("site").missing
    assert res.missing_manual == [("U1", "site")]
    res = score(s, "2026-10", [unit()], [ManualEntry("U1", "site", 90)])
    assert res.units[0].item("site").points == 31.5  # 90/100 × 35
    assert res.missing_manual == []
    assert res.units[0].item("m").points == 5.0      # no deduction entered: full


def test_manual_entry_for_unknown_or_computed_item_is_rejected():
    s = scheme_of(RATE_ITEM)
    with pytest.raises(SchemeError, match="item='a'"):
        score(s, "2026-10", [unit(closure_rate=1.0)], [ManualEntry("U1", "a", -1)])
    with pytest.raises(SchemeError, match="item='zz'"):
        score(s, "2026-10", [unit(closure_rate=1.0)], [ManualEntry("U1", "zz", -1)])


def test_adjust_adds_manual_points_to_a_computed_item_then_clamps():
    s = scheme_of(LINEAR.replace('source = "s"', 'source = "s"\nadjust = true'))
    # 93% → 5; 抽查 −1 → 4
    r = one(s, unit(closure_rate=0.93), [ManualEntry("U1", "c", -1, "抽查不符")])
    assert r.items[0].points == 4.0
    assert r.items[0].manual
    # 93% → 5; −9 → −4 → 0 (扣完为止)
    assert one(s, unit(closure_rate=0.93), [ManualEntry("U1", "c", -9)]).items[0].points == 0.0


def test_unit_lacking_an_indicator_is_a_clear_error():
    with pytest.raises(RuleInputError, match="indicator='closure_rate'"):
        one(scheme_of(RATE_ITEM), unit())


def test_duplicate_unit_is_an_error():
    with pytest.raises(SchemeError, match="unit='U1'"):
        score(scheme_of(RATE_ITEM), "2026-10", [unit(closure_rate=1.0), unit(closure_rate=0.5)], [])


def test_unit_kind_not_scored_by_the_scheme_is_an_error():
    with pytest.raises(SchemeError, match="kind='planet'"):
        one(scheme_of(RATE_ITEM), unit(kind="planet", closure_rate=1.0))


# ------------------------------------------------------------------------------------------- totals

CATS = """
[[category]]
id = "d"
name = "数字城管"
cap = 10

[[item]]
id = "r"
name = "比率"
category = "d"
full = 10
kind = "rate"
indicator = "closure_rate"
source = "s"

[[item]]
id = "s"
name = "缓办"
category = "d"
full = 0
deduct_from = "category"
kind = "per_count"
indicator = "suspended"
per = 0.2
source = "s"

[[item]]
id = "b"
name = "加分"
full = 5
bonus = true
kind = "manual"
entry = "score"
required = false
source = "s"
"""


def test_category_deductions_stop_at_category_floor_and_bonus_cap_and_total_cap():
    s = scheme_of(CATS, HEAD + "total_cap = 12\nbonus_cap = 3\n")
    # 0.5 × 10 = 5; 缓办 10 × 0.2 = −2 → category 3
    r = one(s, unit(closure_rate=0.5, suspended=10))
    assert r.item("s").points == -2.0
    assert r.total == 3.0
    # 0.5 × 10 = 5; 缓办 40 × 0.2 = −8 → −3 → category floor 0; bonus 4 capped at 3 → total 3
    r = one(s, unit(closure_rate=0.5, suspended=40), [ManualEntry("U1", "b", 4)])
    assert r.total == 3.0
    assert r.bonus == 3.0
    assert any("封顶3分" in n for n in r.notes)
    # 10 + bonus 3 = 13 → total cap 12
    r = one(s, unit(closure_rate=1.0, suspended=0), [ManualEntry("U1", "b", 5)])
    assert r.total == 12.0


def test_uncapped_scheme_total_can_go_negative():
    body = """
[[item]]
id = "x"
name = "扣分"
full = 10
uncapped = true
kind = "per_count"
indicator = "suspended"
per = 1
source = "s"
"""
    s = scheme_of(body, HEAD + "uncapped = true\n")
    assert one(s, unit(suspended=13)).total == -3.0  # 10 − 13, 上不封顶、下不保底


# ------------------------------------------------------------------------------------------- rank, grade

RANKED = RATE_ITEM + """
[ranking]
group_attribute = "group"
[[ranking.note]]
place = 1
note = "第一名奖励"
[[ranking.note]]
place = 1
from = "bottom"
note = "末位表态发言"

[[grade]]
min = 9
label = "优秀"
color = "#2e7d32"
[[grade]]
min = 0
label = "一般"
"""


def test_ranking_ties_groups_and_notes_and_grades():
    s = scheme_of(RANKED)
    units = [unit("A", closure_rate=0.9), unit("B", closure_rate=0.95), unit("C", closure_rate=0.9),
             unit("D", closure_rate=0.5)]
    res = score(s, "2026-10", units, [])
    ranks = {u.code: u.rank for u in res.units}
    assert ranks == {"A": 2, "B": 1, "C": 2, "D": 4}   # competition ranking: 1, 2, 2, 4
    assert "第一名奖励" in res.unit("B").notes
    assert "末位表态发言" in res.unit("D").notes
    assert res.unit("B").grade == "优秀"
    assert res.unit("B").grade_color == "#2e7d32"
    assert res.unit("D").grade == "一般"
    grouped = [unit("A", attributes={"group": "1"}, closure_rate=0.9),
               unit("B", attributes={"group": "2"}, closure_rate=0.5)]
    res = score(s, "2026-10", grouped, [])
    assert [u.rank for u in res.units] == [1, 1]       # each first in its own group
    mixed = [unit("A", closure_rate=0.5), unit("B", kind="department", closure_rate=0.9)]
    assert [u.rank for u in score(s, "2026-10", mixed, []).units] == [1, 1]  # kinds ranked apart


# ------------------------------------------------------------------------------------------- roll-ups

ROLL = MANUAL + """
[[rollup]]
period = "year"
method = "divide"
divisor = 12
weight = 0.9
name = "月度累计/12×0.9"

[[rollup.item]]
id = "mgmt"
name = "管理评价"
full = 10
basis = 100
kind = "manual"
entry = "score"
source = "s"

[[rollup.item]]
id = "meeting"
name = "现场会"
full = 5
bonus = true
kind = "manual"
entry = "score"
required = false
source = "s"

[[rollup]]
period = "quarter"
method = "mean"
name = "季度平均"
"""


def test_roll_up_divide_weight_and_annual_items():
    s = scheme_of(ROLL)
    months = [score(s, f"2026-{m:02d}", [unit()], [ManualEntry("U1", "site", 80)]) for m in (1, 2, 3)]
    # each month: 台账 5 + 现场 80% × 35 = 28 → 33
    assert months[0].units[0].total == 33.0
    year = roll_up(s, "2026", months, [ManualEntry("U1", "mgmt", 70), ManualEntry("U1", "meeting", 5)])
    u = year.units[0]
    # (33 × 3)/12 × 0.9 = 7.425; 管理评价 70 × 0.1 = 7; 现场会 +5 → 19.425
    assert u.item("rollup_year").points == 7.425
    assert u.item("mgmt").points == 7.0
    assert u.bonus == 5.0
    assert u.total == 19.425
    q = roll_up(s, "2026Q1", months, [])
    assert q.units[0].total == 33.0                      # mean of three months
    with pytest.raises(SchemeError, match="2026Q2"):
        roll_up(s, "2026Q2", months, [])                 # months outside the quarter
    with pytest.raises(SchemeError, match="重复"):
        roll_up(s, "2026", [months[0], months[0]], [])
    with pytest.raises(SchemeError, match="item='zz'"):
        roll_up(s, "2026", months, [ManualEntry("U1", "zz", 3)])
    # one list of all entries may be passed to both: each function takes its own items
    both = [ManualEntry("U1", "site", 80), ManualEntry("U1", "mgmt", 70)]
    assert score(s, "2026-04", [unit()], both).units[0].total == 33.0
    assert roll_up(s, "2026", months, both).units[0].total == 14.425  # 7.425 + 7


def test_roll_up_missing_rollup_for_period_is_an_error():
    s = scheme_of(MANUAL)
    res = score(s, "2026-10", [unit()], [])
    with pytest.raises(SchemeError, match="rollup"):
        roll_up(s, "2026", [res], [])


def test_to_json_is_deterministic_and_has_the_cli_keys():
    import json

    s = scheme_of(RANKED)
    res = score(s, "2026-10", [unit("A", closure_rate=0.9)], [])
    data = json.loads(res.to_json())
    assert data["scheme"] == "t"
    assert data["period"] == "2026-10"
    u = data["units"][0]
    assert {"code", "name", "indicators", "items", "total", "rank", "grade"} <= set(u)
    assert {"id", "points", "full", "rule", "cases"} <= set(u["items"][0])
    assert u["indicators"] == {"closure_rate": 0.9}
    assert res.to_json() == score(s, "2026-10", [unit("A", closure_rate=0.9)], []).to_json()


# ------------------------------------------------------------------------------------------- money by rank

MONEY = RATE_ITEM + """
[ranking]
group_attribute = "group"
[[ranking.note]]
place = 1
note = "奖励100万元"
skip_attribute = "no_money"
[[ranking.note]]
place = 1
from = "bottom"
note = "处罚100万元"
skip_attribute = "no_money"
"""


def test_rank_notes_skip_units_without_money_and_next_moves_up():
    s = scheme_of(MONEY)
    units = [unit("A", attributes={"no_money": True}, closure_rate=1.0), unit("B", closure_rate=0.9),
             unit("C", closure_rate=0.8), unit("D", attributes={"no_money": True}, closure_rate=0.1)]
    res = score(s, "2026-10", units, [])
    assert res.unit("A").rank == 1                    # A ranks first …
    assert res.unit("A").notes == []                  # … but takes no money
    assert res.unit("B").notes == ["奖励100万元"]      # B moves up into the reward (递补)
    assert res.unit("C").notes == ["处罚100万元"]      # D is last but takes no fine: C is 倒数第一 of the others
    assert res.unit("D").notes == []


def test_units_tied_last_are_all_bottom_first():
    s = scheme_of(MONEY)
    res = score(s, "2026-10", [unit("A", closure_rate=1.0), unit("B", closure_rate=0.5),
                               unit("C", closure_rate=0.5)], [])
    assert res.unit("B").notes == res.unit("C").notes == ["处罚100万元"]


def test_year_bonus_cap_across_periods():
    s = scheme_of(CATS, HEAD + "year_bonus_cap = 6\n")
    u = unit(closure_rate=1.0, suspended=0)
    q1 = score(s, "2026-03", [u], [ManualEntry("U1", "b", 4)])
    assert q1.units[0].bonus == 4.0
    # 4 already given this year: only 2 more of the 5 entered
    q2 = score(s, "2026-06", [u], [ManualEntry("U1", "b", 5)], earlier=[q1])
    assert q2.units[0].bonus == 2.0
    assert any("年度累计加分上限6分" in n for n in q2.units[0].notes)
    # a new year starts from zero
    assert score(s, "2027-03", [u], [ManualEntry("U1", "b", 5)], earlier=[q1, q2]).units[0].bonus == 5.0


def test_manual_score_through_a_table_on_an_entered_rank():
    """An evaluator enters a rank (排位); the table turns it into points (前3名加3分, 4–6名加1分, 7名以后0)."""
    body = """
[[item]]
id = "task"
name = "单项任务排位加分"
full = 3
bonus = true
kind = "manual"
entry = "score"
required = false
bands = [{ from = 1, points = 3 }, { from = 4, points = 1 }, { from = 7, points = 0 }]
source = "s"
"""
    s = scheme_of(RATE_ITEM + body)
    def bonus_for(rank: float) -> float:
        res = score(s, "2026-10", [unit(closure_rate=1.0)], [ManualEntry("U1", "task", rank, "排位")])
        return res.units[0].item("task").points

    assert bonus_for(2) == 3.0
    assert bonus_for(6) == 1.0
    assert bonus_for(7) == 0.0
    assert score(s, "2026-10", [unit(closure_rate=1.0)], []).units[0].item("task").points == 0.0
    with pytest.raises(SchemeError, match="bands"):
        scheme_of(RATE_ITEM + body.replace('entry = "score"\n', ""))


def test_consecutive_place_note_needs_the_periods_just_before():
    body = RATE_ITEM + """
[[ranking.note]]
place = 1
from = "bottom"
note = "末位表态发言"
[[ranking.note]]
place = 1
from = "bottom"
consecutive = 2
note = "连续两期末位：媒体公开说明"
"""
    s = scheme_of(body)

    def month(period, a, b, earlier=()):
        return score(s, period, [unit("A", closure_rate=a), unit("B", closure_rate=b)], [], earlier=earlier)

    m1 = month("2026-01", 0.9, 0.5)                     # B last
    m2 = month("2026-02", 0.9, 0.6, earlier=[m1])       # B last again → flagged
    assert "连续两期末位：媒体公开说明" in m2.unit("B").notes
    assert "连续两期末位：媒体公开说明" not in m1.unit("B").notes
    m3 = month("2026-03", 0.5, 0.9, earlier=[m1, m2])   # A last for the first time: not flagged
    assert m3.unit("A").notes == ["末位表态发言"]
    m4 = month("2026-04", 0.9, 0.5, earlier=[m1])       # the month before (March) missing: no chain
    assert m4.unit("B").notes == ["末位表态发言"]
