"""Every scheme in ``resources/schemes`` evaluates on a real (simulated) demo store, through the library and
through the command line: unit attributes from the store map onto what the schemes read."""

from __future__ import annotations

import json

import pytest

import main
from app.evaluation import run as ev
from app.evaluation.scheme import list_schemes, load_scheme
from db.store import Store

SCHEMES = list_schemes()
STORE_KINDS = set(ev.ind.UNIT_KINDS) | set(ev.KIND_ALIASES)


@pytest.fixture(scope="module")
def demo(demo_store_path):
    store = Store.open(demo_store_path, readonly=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def month(demo):
    m = ev.latest_full_month(demo)
    assert m is not None
    return m


def test_the_scheme_list_is_complete():
    assert len(SCHEMES) >= 20
    assert "standard" in SCHEMES
    assert "zhengzhou" in SCHEMES


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_every_scheme_evaluates_the_latest_full_month(demo, month, scheme_id):
    scheme = load_scheme(scheme_id)
    res = ev.evaluate(demo, scheme_id, month)
    assert res.period == month.key
    kinds = {u.kind for u in res.units}
    for kind in scheme.unit_kinds:
        if kind in ev.ind.UNIT_KINDS and kind not in ("post",):
            # every kind the store knows has units (the demo city has districts, streets, departments, staff)
            assert kind in kinds, f"{scheme_id}: no {kind} units"
    for u in res.units:
        assert isinstance(u.total, float | int)
        assert u.rank is not None


def test_area_units_get_an_area_class_the_tables_know(demo, month):
    res = ev.evaluate(demo, "standard", month, "community")
    assert res.units
    assert {u.attributes["area_class"] for u in res.units} <= {"1", "2"}
    streets = ev.evaluate(demo, "standard", month, "street").units
    assert all(u.attributes["area_class"] in ("1", "2") for u in streets)


@pytest.mark.parametrize(("text", "key"), [("一类区域", "1"), ("二类区域", "2"), ("2", "2"), ("1", "1"), ("", "1"),
                                       (None, "1")])
def test_area_class_key(text, key):
    assert ev.area_class_key(text) == key


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_command_line_prints_a_table_and_valid_json(demo_store_path, month, scheme_id, capsys):
    argv = ["evaluate", "--store", str(demo_store_path), "--scheme", scheme_id, "--period", month.key]
    assert main.main(argv) == 0
    out = capsys.readouterr().out
    assert month.label in out
    assert "排名" in out
    assert main.main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scheme"] == scheme_id
    assert data["period"] == month.key
    for u in data["units"]:
        assert {"code", "name", "indicators", "items", "total", "rank", "grade"} <= set(u)
