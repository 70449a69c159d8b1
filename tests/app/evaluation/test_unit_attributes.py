"""Unit attributes evaluators set (group, difficulty, no_reward): stored with who set them, read by the
scoring, part of a published result's inputs, and settable from the command line."""

from __future__ import annotations

import pytest

import main
from app.evaluation import run
from db import evaluation_repo as repo


def _month(store) -> str:
    return repo.last_event_at(store.conn)[:7]


def _districts(store) -> list[str]:
    return [r["code"] for r in repo.unit_rows(store.conn, "district")]


def test_groups_rank_within_each_group(demo_store):
    month = _month(demo_store)
    codes = _districts(demo_store)
    assert len(codes) >= 2
    plain = run.evaluate(demo_store, "standard", month, "district")
    worst = max(plain.units, key=lambda u: (u.rank or 0))
    assert worst.rank == len(codes), "the test month must rank the districts apart"
    worst = worst.code
    run.set_unit_attribute(demo_store, "district", worst, "group", "B", by="eval01")
    grouped = run.evaluate(demo_store, "standard", month, "district")
    by_code = {u.code: u for u in grouped.units}
    assert by_code[worst].rank == 1  # alone in its group
    assert by_code[worst].attributes["group"] == "B"
    others = [by_code[c].rank for c in codes if c != worst]
    assert min(others) == 1


def test_attribute_values_and_later_rows_win(demo_store):
    code = _districts(demo_store)[0]
    run.set_unit_attribute(demo_store, "district", code, "no_reward", "true", by="eval01")
    run.set_unit_attribute(demo_store, "district", code, "difficulty", "1.2", by="eval01")
    run.set_unit_attribute(demo_store, "district", code, "difficulty", "1.5", by="eval02", scheme_id="zhengzhou")
    units, _ = run.build_units(demo_store, run.load_scheme("standard"), "district", run.parse_period(_month(demo_store)))
    attrs = next(u.attributes for u in units if u.code == code)
    assert attrs["no_reward"] is True
    assert attrs["difficulty"] == "1.2"  # the zhengzhou-only row does not apply to standard
    z = repo.unit_attributes(demo_store.conn, "district", "zhengzhou")
    assert z[code]["difficulty"] == "1.5"
    run.set_unit_attribute(demo_store, "district", code, "no_reward", None, by="eval01")
    units, _ = run.build_units(demo_store, run.load_scheme("standard"), "district", run.parse_period(_month(demo_store)))
    assert "no_reward" not in next(u.attributes for u in units if u.code == code)
    rows = repo.unit_attribute_rows(demo_store.conn, "district")
    assert [r[6] for r in rows] == ["eval01", "eval01", "eval02", "eval01"]  # every change kept, with who


@pytest.mark.parametrize(("kind", "code", "name", "by", "needle"), [
    ("district", "999999", "group", "eval01", "--unit='999999'"),
    ("district", None, "bad-name", "eval01", "--name='bad-name'"),
    ("district", None, "group", " ", "--by"),
    ("galaxy", "1", "group", "eval01", "--kind='galaxy'"),
])
def test_bad_input_names_the_field(demo_store, kind, code, name, by, needle):
    code = code or _districts(demo_store)[0]
    with pytest.raises(run.EvaluationError) as err:
        run.set_unit_attribute(demo_store, kind, code, name, "1", by=by)
    assert needle in str(err.value)
    assert repo.unit_attribute_rows(demo_store.conn) == []


def test_published_result_notices_an_attribute_change(demo_store):
    month = _month(demo_store)
    run.publish(demo_store, "standard", month, "district", by="eval01")
    assert run.verify_published(demo_store) == []
    run.set_unit_attribute(demo_store, "district", _districts(demo_store)[0], "group", "B", by="eval01")
    issues = run.verify_published(demo_store)
    assert len(issues) == 1
    assert "输入数据已变化" in issues[0].problem


def test_cli_sets_lists_and_refuses(demo_store, capsys):
    code = _districts(demo_store)[0]
    path = str(demo_store.path)
    rc = main.main(["unit-attr", "--store", path, "--kind", "district", "--unit", code,
                    "--set", "group=1", "--set", "no_reward=true", "--by", "eval01"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "group=1" in out
    assert "no_reward=true" in out
    rc = main.main(["unit-attr", "--store", path, "--list", "--kind", "district"])
    listed = capsys.readouterr().out
    assert rc == 0
    assert f"{code}\tgroup=1" in listed
    rc = main.main(["unit-attr", "--store", path, "--kind", "district", "--unit", code, "--set", "group", "--by", "x"])
    assert rc == 2
    assert "--set='group'" in capsys.readouterr().err
    before = len(repo.unit_attribute_rows(demo_store.conn))
    rc = main.main(["unit-attr", "--store", path, "--kind", "district", "--unit", code,
                    "--set", "group=2", "--set", "bad-name=1", "--by", "eval01"])
    assert rc == 2
    assert len(repo.unit_attribute_rows(demo_store.conn)) == before  # all of one command, or none
