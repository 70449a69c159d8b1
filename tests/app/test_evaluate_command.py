"""``main.py evaluate`` / ``score`` / ``report`` end to end on a crafted October in a GeoPackage file."""

from __future__ import annotations

import json

import pytest

import main
from db.store import Store
from tests.app.evaluation.test_indicators import A


@pytest.fixture
def store_path(october_path):
    return october_path


def run(capsys, *argv):
    code = main.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_evaluate_json_has_the_documented_keys(store_path, capsys):
    code, out, _ = run(capsys, "evaluate", "--store", str(store_path), "--scheme", "standard", "--period", "2026-10",
                       "--unit", "district", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["scheme"] == "standard"
    assert data["period"] == "2026-10"
    a = next(u for u in data["units"] if u["code"] == A)
    assert a["name"] == "鼓楼区"
    assert a["indicators"]["closure_rate"] == pytest.approx(2 / 3)
    assert {"total", "rank", "grade", "items"} <= set(a)
    assert all({"id", "points", "full", "rule", "cases"} <= set(it) for it in a["items"])


def test_evaluate_table_lists_ranking_deductions_and_missing_items(store_path, capsys):
    code, out, _ = run(capsys, "evaluate", "--store", str(store_path), "--scheme", "xuzhou_quanshan", "--period",
                       "2026-10")
    assert code == 0
    assert "2026年10月" in out
    assert "排名" in out
    assert "丰财街道" in out
    assert "扣分明细" in out
    assert "尚缺人工考评项" in out
    assert "special_cases" in out


def test_score_then_evaluate_no_longer_misses_the_item(store_path, capsys):
    code, out, _ = run(capsys, "score", "--store", str(store_path), "--scheme", "xuzhou_quanshan", "--period",
                       "2026-10", "--unit", "320302001", "--item", "special_cases", "--points", "8", "--reason",
                       "专项任务完成", "--evidence", "任务单", "--by", "eval1")
    assert code == 0
    assert "score_entry" in out
    code, out, _ = run(capsys, "evaluate", "--store", str(store_path), "--scheme", "xuzhou_quanshan", "--period",
                       "2026-10", "--json")
    data = json.loads(out)
    assert ["320302001", "special_cases"] not in data["missing_manual"]
    assert ["320303001", "special_cases"] in data["missing_manual"]


def test_publish_records_a_run(store_path, capsys):
    code, out, _ = run(capsys, "evaluate", "--store", str(store_path), "--scheme", "standard", "--period", "2026-10",
                       "--unit", "district", "--publish", "--by", "eval1")
    assert code == 0
    assert "evaluation_run #1" in out
    store = Store.open(store_path)
    try:
        from app.evaluation.run import verify_published

        assert store.count("evaluation_run") == 1
        assert verify_published(store) == []
    finally:
        store.close()


@pytest.mark.parametrize(("argv", "needle"), [
    (["evaluate", "--period", "2026-13"], "period='2026-13'"),
    (["evaluate", "--period", "2026-10", "--scheme", "nosuch"], "scheme='nosuch'"),
    (["evaluate", "--period", "2026-10", "--scheme", "xuzhou_quanshan", "--unit", "department"], "--unit='department'"),
    (["score", "--scheme", "xuzhou_quanshan", "--period", "2026-10", "--unit", "320302001", "--item", "nope",
      "--points", "1", "--reason", "r", "--by", "e"], "--item='nope'"),
    (["score", "--scheme", "xuzhou_quanshan", "--period", "2026-10", "--unit", "320302001", "--item",
      "special_cases", "--points", "abc", "--reason", "r", "--by", "e"], "--points='abc'"),
    (["report", "--period", "2026-10", "--out", "x.docx"], "--out='x.docx'"),
])
def test_usage_errors_exit_2_and_name_the_value(store_path, capsys, argv, needle):
    code, _, err = run(capsys, argv[0], "--store", str(store_path), *argv[1:])
    assert code == 2
    assert needle in err


def test_missing_store_is_a_data_error(tmp_path, capsys):
    code, _, err = run(capsys, "evaluate", "--store", str(tmp_path / "none.gpkg"), "--period", "2026-10")
    assert code == 1
    assert "none.gpkg" in err
