"""Revisions of a scheme by period (USERS.md: "scoring rules ... change over time: rule versions by period
are needed"): a month is scored, published and verified by the rules in force that month, a roll-up by
the rules in force when it ends, and a bad revision set is refused with the field and value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.evaluation import run
from app.evaluation import scheme as sch
from app.evaluation.periods import parse_period, shift
from app.evaluation.scheme import SchemeError, load_scheme
from app.paths import SCHEMES
from db import evaluation_repo as repo
from db.store import Store
from tests.app.evaluation.test_indicators import A

ORIGINAL = (SCHEMES / "standard.toml").read_text(encoding="utf-8")


def _revision(valid_from: str | None, version: str, cap: int = 100) -> str:
    text = ORIGINAL.replace('version = "2026.1"', f'version = "{version}"', 1)
    text = text.replace("total_cap = 100", f"total_cap = {cap}", 1)
    assert text != ORIGINAL or (version == "2026.1" and cap == 100)
    if valid_from:
        text = text.replace('period = "month"', f'period = "month"\nvalid_from = "{valid_from}"', 1)
    return text


@pytest.fixture
def schemes(tmp_path: Path, monkeypatch) -> Path:
    """A scheme folder of our own with the shipped ``standard.toml`` as the only revision."""
    folder = tmp_path / "schemes"
    (folder / "revisions").mkdir(parents=True)
    (folder / "standard.toml").write_text(ORIGINAL, encoding="utf-8")
    monkeypatch.setattr(sch, "SCHEMES", folder)
    monkeypatch.setattr(sch, "REVISIONS", folder / "revisions")
    return folder


def _install_new_rules(folder: Path, from_month: str) -> None:
    """What a city does when its method changes: the old file, byte for byte, becomes the oldest revision
    (it needs no ``valid_from``), and the new one is current."""
    (folder / "revisions" / "standard@2026.1.toml").write_bytes((folder / "standard.toml").read_bytes())
    (folder / "standard.toml").write_text(_revision(from_month, "2027.1", cap=50), encoding="utf-8")


def _last_month(store: Store):
    last = repo.last_event_at(store.conn)
    assert last is not None
    return parse_period(last[:7])


def test_each_month_is_scored_by_the_rules_in_force(demo_store: Store, schemes: Path) -> None:
    new_month = _last_month(demo_store)
    old_month = shift(new_month, -1)
    before = run.evaluate(demo_store, "standard", old_month, "district")
    assert max(u.total for u in before.units) > 50, "the demo month must score above the new cap"
    _install_new_rules(schemes, new_month.key)
    assert load_scheme("standard", old_month).version == "2026.1"
    assert load_scheme("standard", new_month).version == "2027.1"
    assert load_scheme("standard").version == "2027.1"  # without a period: the current file
    again = run.evaluate(demo_store, "standard", old_month, "district")
    assert run.canonical(again) == run.canonical(before)  # the old month keeps its old rules
    now = run.evaluate(demo_store, "standard", new_month, "district")
    assert now.scheme_version == "2027.1"
    assert max(u.total for u in now.units) <= 50
    # several months at once (the bulletin's trend) give the same as each alone, across the change
    many = run.evaluate_many(demo_store, "standard", [old_month, new_month], "district")
    assert [run.canonical(e.result) for e in many] == [run.canonical(before), run.canonical(now)]


def test_a_year_rolls_up_months_of_both_revisions(demo_store: Store, schemes: Path) -> None:
    new_month = _last_month(demo_store)
    _install_new_rules(schemes, new_month.key)
    year = parse_period(new_month.key[:4])
    res = run.evaluate_full(demo_store, "standard", year, "district")
    assert res.scheme.version == "2027.1"  # the roll-up follows the rules in force when the year ends
    months = run._months_with_data(demo_store, res.scheme, year)
    monthly = {m.key: run.evaluate(demo_store, "standard", m, "district") for m in months}
    assert {r.scheme_version for r in monthly.values()} == {"2026.1", "2027.1"}
    unit = res.result.units[0]
    totals = [next(u.total for u in r.units if u.code == unit.code) for r in monthly.values()]
    assert unit.item("rollup_year").points == pytest.approx(round(sum(totals) / len(totals), 2), abs=0.01)


def test_a_published_month_stays_verifiable_after_the_rules_change(demo_store: Store, schemes: Path) -> None:
    month = shift(_last_month(demo_store), -1)
    run.publish(demo_store, "standard", month, "district", by="lead1", at="2026-11-01T09:00:00")
    assert run.verify_published(demo_store) == []
    # a new revision from the next month on leaves the published month's rules alone
    _install_new_rules(schemes, shift(month, 1).key)
    assert run.verify_published(demo_store) == []
    # a new revision that reaches back over the published month is caught as a changed version
    (schemes / "standard.toml").write_text(_revision(month.key, "2027.1", cap=50), encoding="utf-8")
    issues = run.verify_published(demo_store)
    assert len(issues) == 1
    assert "方案版本已变" in issues[0].problem


def test_bad_revision_sets_are_refused_with_the_field_named(schemes: Path) -> None:
    (schemes / "standard.toml").write_text(_revision("2026-01", "2027.1"), encoding="utf-8")
    (schemes / "revisions" / "standard@2026-03.toml").write_text(_revision("2026-03", "2026.1"), encoding="utf-8")
    with pytest.raises(SchemeError, match="施行月份须递增"):
        load_scheme("standard", parse_period("2026-05"))
    (schemes / "revisions" / "standard@2026-03.toml").unlink()
    with pytest.raises(SchemeError, match=r"尚未施行.*2025-12"):
        load_scheme("standard", parse_period("2025-12"))
    (schemes / "standard.toml").write_text(_revision("2026-13", "2027.1"), encoding="utf-8")
    with pytest.raises(SchemeError, match="valid_from='2026-13'"):
        load_scheme("standard", parse_period("2026-05"))
    (schemes / "standard.toml").write_text(ORIGINAL, encoding="utf-8")
    (schemes / "revisions" / "standard@2025-01.toml").write_text(_revision("2025-02", "2025.1"), encoding="utf-8")
    with pytest.raises(SchemeError, match="file stem='standard@2025-01'"):
        load_scheme("standard", parse_period("2026-05"))


def test_a_chain_reaching_back_before_the_first_revision_skips_those_periods(october, schemes: Path) -> None:
    # comprehensive_202x caps bonuses per year, so 2026Q3 reads 2026Q1 and Q2; here the method only starts
    # in July: the earlier quarters were never scored under it and cap nothing
    text = (SCHEMES / "comprehensive_202x.toml").read_text(encoding="utf-8")
    text = text.replace('period = "quarter"', 'period = "quarter"\nvalid_from = "2026-07"', 1)
    assert 'valid_from = "2026-07"' in text
    (schemes / "comprehensive_202x.toml").write_text(text, encoding="utf-8")
    run.enter_score(october, "comprehensive_202x", "2026Q3", A, "honours", 5, "考评记录", "台账", "eval1",
                    at="2026-09-30T10:00:00+08:00")
    q3 = run.evaluate(october, "comprehensive_202x", "2026Q3")
    assert q3.unit(A).bonus == pytest.approx(5)
    with pytest.raises(SchemeError, match="尚未施行"):
        run.evaluate(october, "comprehensive_202x", "2026Q2")
