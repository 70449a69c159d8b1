"""Evaluations against the store: units, indicators into the engine, manual entries, roll-ups, publishing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.evaluation import run as ev
from app.evaluation.periods import parse_period
from db.store import Store
from tests.app.evaluation.history import History, at
from tests.app.evaluation.test_indicators import A, B


def test_standard_district_evaluation_carries_indicators_items_and_cases(october):
    res = ev.evaluate(october, "standard", "2026-10", "district")
    data = json.loads(res.to_json())
    assert data["scheme"] == "standard"
    assert data["period"] == "2026-10"
    units = {u["code"]: u for u in data["units"]}
    assert set(units) == {A, B, "320311"}
    a = units[A]
    # the engine got exactly the indicator values worked out by hand in test_indicators
    assert a["indicators"]["closure_rate"] == pytest.approx(2 / 3)
    assert a["indicators"]["on_time_closure_rate"] == pytest.approx(1 / 3)
    assert a["indicators"]["rework_rate"] == pytest.approx(1 / 3)
    assert units["320311"]["indicators"]["closure_rate"] is None  # no cases: not applicable
    for u in data["units"]:
        assert {"code", "name", "indicators", "items", "total", "rank", "grade"} <= set(u)
        for it in u["items"]:
            assert {"id", "points", "full", "rule", "cases"} <= set(it)
    # a deduction on the rework item names its case
    lost = [it for it in a["items"] if it["points"] < it["full"] and "C2" in it["cases"]]
    assert lost, a["items"]
    assert sorted(u["rank"] for u in data["units"]) == [1, 2, 3]


def test_re_running_gives_the_identical_result(october):
    one = ev.evaluate(october, "standard", "2026-10", "department").to_json()
    two = ev.evaluate(october, "standard", "2026-10", "department").to_json()
    assert one == two


def test_unit_kind_outside_the_scheme_is_refused(october):
    with pytest.raises(ev.EvaluationError, match="--unit='department'"):
        ev.evaluate(october, "xuzhou_quanshan", "2026-10", "department")


def test_manual_items_missing_then_entered(october):
    res = ev.evaluate(october, "xuzhou_quanshan", "2026-10")
    missing = set(res.missing_manual)
    assert ("320302001", "special_cases") in missing
    ev.enter_score(october, "xuzhou_quanshan", "2026-10", "320302001", "special_cases", 8, "专项整治完成较好",
                   "专项任务表2026-10", "eval1", at=at("11-03"))
    res2 = ev.evaluate(october, "xuzhou_quanshan", "2026-10")
    assert ("320302001", "special_cases") not in set(res2.missing_manual)
    item = res2.unit("320302001").item("special_cases")
    assert item.points == pytest.approx(8)
    row = october.conn.execute("SELECT reason, evidence, entered_by FROM score_entry").fetchone()
    assert row == ("专项整治完成较好", "专项任务表2026-10", "eval1")


@pytest.mark.parametrize(("field", "kwargs"), [
    ("--item='nope'", {"item": "nope"}),
    ("--unit='999'", {"unit": "999"}),
    ("--points=50", {"points": 50.0}),
    ("--reason=''", {"reason": ""}),
    ("--period='2026'", {"period": "2026"}),
])
def test_bad_manual_entries_name_the_field(october, field, kwargs):
    args = {"period": "2026-10", "unit": "320302001", "item": "special_cases", "points": 5.0, "reason": "好",
            "evidence": "", "by": "eval1", **kwargs}
    with pytest.raises(ev.EvaluationError) as exc:
        ev.enter_score(october, "xuzhou_quanshan", args["period"], args["unit"], args["item"], args["points"],
                       args["reason"], args["evidence"], args["by"])
    assert field in str(exc.value)
    assert october.count("score_entry") == 0  # nothing written


def test_annual_roll_up_uses_monthly_results_and_annual_entries(october):
    ev.enter_score(october, "xuzhou_quanshan", "2026", "320302001", "management", 90, "管理规范", "年度考评表",
                   "eval1", at=at("12-20"))
    res = ev.evaluate(october, "xuzhou_quanshan", "2026")
    u = res.unit("320302001")
    assert u.item("management").points == pytest.approx(9.0)  # 90 on a 100 basis × 0.1
    months = [ev.evaluate(october, "xuzhou_quanshan", f"2026-{m:02d}").unit("320302001").total for m in range(1, 12)]
    # the data ends in November, so 11 months exist; 泉山: 月度累计 / 12 × 0.9
    assert u.items[0].points == pytest.approx(round(sum(months) / 12 * 0.9, 4), abs=1e-3)


def test_publish_then_verify_detects_changes(october):
    run_id = ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-05"))
    assert ev.verify_published(october) == []
    stored = ev.published(october, "standard", "2026-10", "district")
    assert stored is not None
    assert stored.id == run_id
    assert stored.results == ev.canonical(ev.evaluate(october, "standard", "2026-10", "district"))
    # an event after the period end changes nothing
    h = History(october)
    h.prev = october.conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()[0]
    h.case("N1", A, reported=at("11-20"))
    assert ev.verify_published(october) == []
    # tampering with the stored result is detected
    bad = dict(stored.results)
    bad["units"] = [dict(u) for u in bad["units"]]
    bad["units"][0]["total"] = 100.0
    october.conn.execute("UPDATE evaluation_run SET results = ? WHERE id = ?", (json.dumps(bad), run_id))
    issues = ev.verify_published(october)
    assert len(issues) == 1
    assert "result differs" in issues[0].problem
    assert issues[0].run_id == run_id


def test_verify_detects_a_late_event_inside_the_period(october):
    ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-05"))
    h = History(october)
    h.prev = october.conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()[0]
    h.case("L1", B, reported=at("10-20"))  # recorded late, dated inside October
    issues = ev.verify_published(october)
    assert len(issues) == 1
    assert "inputs changed" in issues[0].problem


def test_verify_detects_a_new_manual_entry(october):
    ev.publish(october, "xuzhou_quanshan", "2026-10", None, by="eval1", at=at("11-05"))
    ev.enter_score(october, "xuzhou_quanshan", "2026-10", "320302001", "special_cases", 3, "补录", "", "eval1",
                   at=at("11-06"))
    assert "inputs changed" in ev.verify_published(october)[0].problem


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 28), st.sampled_from(["C", "L", "O"]), st.sampled_from([A, B])),
                min_size=1, max_size=8))
def test_published_results_always_reproduce(histories):
    """Whatever the month holds, publishing then verifying on unchanged data finds nothing."""
    store = Store.memory()
    try:
        h = History(store).base()
        for i, (day, fate, district) in enumerate(histories):
            c = h.case(f"H{i}", district, reported=at(f"10-{day:02d}"))
            c.accept(at(f"10-{day:02d}", "09:10")).register(at(f"10-{day:02d}", "09:20"))
            c.dispatch(at(f"10-{day:02d}", "09:30"), "D1", deadline=at(f"10-{day:02d}", "17:00"))
            if fate == "C":
                c.handle(at(f"10-{day:02d}", "12:00")).send_check(at(f"10-{day:02d}", "12:10"))
                c.check(at(f"10-{day:02d}", "12:20")).close(at(f"10-{day:02d}", "12:30"))
            elif fate == "L":
                c.handle(at("10-29", "12:00")).send_check(at("10-29", "12:10"))
                c.check(at("10-29", "12:20")).close(at("10-29", "12:30"))
        ev.publish(store, "standard", "2026-10", "district", by="t", at=at("11-01"))
        assert ev.verify_published(store) == []
        res = ev.evaluate(store, "standard", "2026-10", "district")
        for u in res.units:
            for it in u.items:
                assert it.points <= it.full + 1e-9
    finally:
        store.close()


def test_period_label_and_custom_range(october):
    res = ev.evaluate(october, "standard", parse_period("2026-10-01..2026-10-05"), "district")
    assert res.period == "2026-10-01..2026-10-05"


def test_window_units_come_from_manual_entries(october):
    """Service windows are not in the case record: the evaluators' entries name them."""
    assert ev.evaluate(october, "yihuang_windows", "2026-10").units == []
    ev.enter_score(october, "yihuang_windows", "2026-10", "W01", "handling", -2, "超时办结1件", "办件登记表", "eval1",
                   at=at("10-31"))
    res = ev.evaluate(october, "yihuang_windows", "2026-10")
    assert [u.code for u in res.units] == ["W01"]
    assert res.unit("W01").item("handling").points == pytest.approx(38)  # 40 − 2, deductions-only item


def test_standard_scheme_on_the_simulated_demo_city(demo_store):
    """The engine-recorded simulated season: every district is scored and the city indicators are real."""
    from app.evaluation import indicators as ind

    last = demo_store.conn.execute("SELECT max(at) FROM case_event").fetchone()[0]
    month = parse_period(last[:7])
    prev = month.previous_months(2)[0]  # a whole month of data
    res = ev.evaluate(demo_store, "standard", prev, "district")
    assert res.units
    assert all(u.rank is not None for u in res.units)
    city = ind.compute(demo_store, "centre", prev, ["centre"],
                       ["reported", "closed", "closure_rate", "callbacks", "satisfaction_rate"])["centre"]
    assert city["reported"].value > 0
    assert city["closed"].value > 0
    assert 0 < city["closure_rate"].value <= 1
    assert city["callbacks"].value > 0  # the simulator's {"callback": true, "satisfied": …} comments
    assert 0 < city["satisfaction_rate"].value <= 1
