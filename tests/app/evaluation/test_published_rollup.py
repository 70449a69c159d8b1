"""A quarter or year rolls up the monthly results the districts were given: a published month enters the
roll-up as published, an unpublished one is scored; ``--recompute`` scores them all; the roll-up's inputs
hash names the runs it read, so re-publishing a month makes the published year report changed inputs."""

from __future__ import annotations

import json

import pytest

import main
from app.evaluation import run as ev
from app.evaluation.model import EvaluationResult
from app.evaluation.periods import parse_period
from db.store import Store
from tests.app.evaluation.history import History, at
from tests.app.evaluation.test_indicators import A, B


def _late_october_case(store: Store) -> None:
    """A case recorded after October was published but dated inside it: October scored again differs."""
    h = History(store)
    h.prev = store.conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()[0]
    (h.case("L1", A, reported=at("10-20")).accept(at("10-20", "09:10")).register(at("10-20", "09:20"))
     .dispatch(at("10-20", "09:30"), "D1", deadline=at("10-22")))  # 超期未结 at the end of October


def _rollup_points(res: EvaluationResult, unit: str) -> float:
    return res.unit(unit).items[0].points


def test_a_year_reads_its_published_months(october):
    run_id = ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-05"))
    published_oct = ev.evaluate(october, "standard", "2026-10", "district")
    _late_october_case(october)
    fresh_oct = ev.evaluate(october, "standard", "2026-10", "district")
    assert fresh_oct.unit(A).total < published_oct.unit(A).total  # the late case costs 鼓楼区 points

    year = ev.evaluate_full(october, "standard", "2026", "district")
    assert year.published_months == [("2026-10", run_id)]
    again = ev.evaluate_full(october, "standard", "2026", "district", recompute=True)
    assert again.published_months == []
    # every other month is scored the same either way: the difference is October's, as published vs now
    months = ev._months_with_data(october, year.scheme, parse_period("2026"))
    others = [ev.evaluate(october, "standard", m.key, "district").unit(A).total for m in months if m.key != "2026-10"]
    n = len(months)
    assert _rollup_points(year.result, A) == pytest.approx(
        round((sum(others) + published_oct.unit(A).total) / n, 4), abs=1e-3)
    assert _rollup_points(again.result, A) == pytest.approx(
        round((sum(others) + fresh_oct.unit(A).total) / n, 4), abs=1e-3)
    assert _rollup_points(year.result, B) == pytest.approx(_rollup_points(again.result, B))


def test_only_the_same_unit_kind_and_rules_are_reused(october):
    ev.publish(october, "standard", "2026-10", "department", by="eval1", at=at("11-05"))
    assert ev.evaluate_full(october, "standard", "2026", "district").published_months == []
    run_id = ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-05"))
    assert ev.evaluate_full(october, "standard", "2026", "district").published_months == [("2026-10", run_id)]
    # a run published under other rules (another version of the scheme) is scored again
    october.conn.execute("UPDATE evaluation_run SET scheme_version = 'old' WHERE id = ?", (run_id,))
    assert ev.evaluate_full(october, "standard", "2026", "district").published_months == []


def test_a_published_year_names_the_months_it_read(october):
    ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-05"))
    ev.publish(october, "standard", "2026", "district", by="eval1", at=at("12-31"))
    assert ev.verify_published(october) == []
    # October published again (a correction): the year read the old run, so its inputs have changed
    ev.publish(october, "standard", "2026-10", "district", by="eval1", at=at("11-06"))
    issues = ev.verify_published(october)
    assert [i.period for i in issues] == ["2026"]
    assert "inputs changed" in issues[0].problem


def test_published_result_reads_back_exactly(october):
    for scheme in ("standard", "xuzhou_quanshan", "ningbo_center", "zhengzhou"):
        res = ev.evaluate(october, scheme, "2026-10")
        data = ev.canonical(res)
        back = EvaluationResult.from_dict(data)
        assert back == res
        assert ev.canonical(back) == data


def test_command_line_says_which_months_were_published(october_path, capsys):
    base = ["--store", str(october_path), "--scheme", "standard", "--unit", "district"]
    assert main.main(["evaluate", *base, "--period", "2026-10", "--publish", "--by", "eval1"]) == 0
    capsys.readouterr()
    assert main.main(["evaluate", *base, "--period", "2026"]) == 0
    assert "2026-10 (#1)" in capsys.readouterr().out
    assert main.main(["evaluate", *base, "--period", "2026", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["published_months"] == [{"period": "2026-10", "run": 1}]
    assert main.main(["evaluate", *base, "--period", "2026", "--json", "--recompute"]) == 0
    assert "published_months" not in json.loads(capsys.readouterr().out)
    assert main.main(["evaluate", *base, "--period", "2026", "--publish", "--recompute"]) == 2
    assert "--recompute" in capsys.readouterr().err
