"""Time limits per case source (12345 hotline orders: 7 working days, at most 15 with extensions)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app import timefmt
from app.base_data import load_catalog_into
from app.clock import ManualClock
from app.time_limits import TimeLimit, TimeLimitError, TimeLimits, load_time_limits, resolve_entries
from app.workflow import WorkflowEngine
from app.workflow.errors import DataError
from db.schema import MIGRATIONS
from db.store import Store
from tests.app.workflow_helpers import DEPT, DISPATCHER, drive_to, make_store

PLAIN_EVENT = "0107"  # 废弃车辆: no class row, so the event default (3 工作日) applies
GARBAGE = "0102"  # 暴露垃圾: class row 4 工作时
ILLEGAL_BUILDING = "0101"  # 私搭乱建: class row 15 工作日
H = "hotline_12345"


@pytest.fixture(scope="module")
def limits() -> TimeLimits:
    return TimeLimits.from_config()


# -- config ---------------------------------------------------------------------------------------------
def test_source_parsed_and_chinese_label_accepted() -> None:
    rows = resolve_entries(
        [{"stage": "handle", "source": "12345热线", "amount": 7, "unit": "工作日"},
         {"stage": "handle", "source": "inspector", "amount": 2, "unit": "工作日"}], [], None,
    ).rows
    assert [(r.source, r.ceiling) for r in rows] == [(H, False), ("inspector", False)]


def test_unknown_source_names_entry_and_value() -> None:
    with pytest.raises(TimeLimitError, match=r"limit #2: 案件来源无效 source='hotline_110'.*hotline_12345"):
        resolve_entries(
            [{"stage": "handle", "amount": 1, "unit": "工作日"},
             {"stage": "handle", "source": "hotline_110", "amount": 7, "unit": "工作日"}], [], None,
        )


def test_ceiling_only_for_handling() -> None:
    with pytest.raises(TimeLimitError, match=r"ceiling #1.*stage='dispatch'"):
        resolve_entries([{"stage": "dispatch", "source": H, "amount": 1, "unit": "工作日"}], [], None, ceiling=True)


def test_seed_rows(limits: TimeLimits) -> None:
    seeded = {(r.class_code, r.source, r.label) for r in limits.all() if r.stage == "handle" and r.source != "*"}
    assert seeded == {("*", H, "7 工作日"), ("part", H, "7 工作日")}
    assert [(r.stage, r.source, r.label) for r in limits.ceilings()] == [("handle", H, "15 工作日")]


# -- specificity ------------------------------------------------------------------------------------------
# (kind, class, urgency, source, expected, why)
SPECIFIC = [
    ("event", PLAIN_EVENT, None, H, "7 工作日", "12345 beats the stage default"),
    ("event", PLAIN_EVENT, None, "inspector", "3 工作日", "other sources keep the default"),
    ("event", PLAIN_EVENT, None, None, "3 工作日", "no source given"),
    ("part", "0601", None, H, "7 工作日", "12345 part row beats the part default"),
    ("part", "0601", None, "public", "5 工作日", "part default"),
    ("event", GARBAGE, None, H, "4 工作时", "a class row beats a source default"),
    ("event", ILLEGAL_BUILDING, None, H, "15 工作日", "class row, also for 12345"),
    ("event", PLAIN_EVENT, "urgent", H, "4 工作时", "urgency beats a source default"),
    ("part", "0101", "urgent", H, "4 小时", "井盖丢失 stays urgent whoever reports it"),
    ("part", "0601", "urgent", H, "4 工作时", "an urgent 12345 part gets the urgent limit"),
]


@pytest.mark.parametrize(("kind", "code", "urgency", "source", "expected", "why"), SPECIFIC,
                         ids=[x[5] for x in SPECIFIC])
def test_specificity(limits: TimeLimits, kind, code, urgency, source, expected, why) -> None:
    assert limits.lookup("handle", kind, code, urgency, None, source).label == expected, why


def test_class_and_source_row_beats_class_row() -> None:
    tl = TimeLimits([
        TimeLimit("handle", 3, "工作日"),
        TimeLimit("handle", 7, "工作日", source=H),
        TimeLimit("handle", 4, "工作时", "event:0102"),
        TimeLimit("handle", 1, "工作日", "event:0102", source=H),
        TimeLimit("handle", 6, "工作时", "event:0102", area_class="二类区域"),
    ])
    assert tl.lookup("handle", "event", "0102", source=H).label == "1 工作日"
    assert tl.lookup("handle", "event", "0102", source="inspector").label == "4 工作时"
    # source ranks above area class
    assert tl.lookup("handle", "event", "0102", area_class="二类区域", source=H).label == "1 工作日"
    assert tl.lookup("handle", "event", "0102", area_class="二类区域").label == "6 工作时"
    # the cache is per source: asking for one source first does not answer for another
    assert tl.lookup("handle", "event", "0199", source=H).label == "7 工作日"
    assert tl.lookup("handle", "event", "0199", source="video").label == "3 工作日"
    assert tl.lookup("handle", "event", "0199").label == "3 工作日"


def test_store_round_trip(mem_store) -> None:
    load_catalog_into(mem_store, "cjt214-2007")
    load_time_limits(mem_store)
    tl = TimeLimits.from_store(mem_store)
    assert tl.lookup("handle", "event", PLAIN_EVENT, source=H).label == "7 工作日"
    assert tl.ceiling("handle", "event", PLAIN_EVENT, source=H).label == "15 工作日"  # type: ignore[union-attr]
    assert tl.ceiling("handle", "event", PLAIN_EVENT, source="inspector") is None


# -- engine -----------------------------------------------------------------------------------------------
@pytest.fixture
def env():
    store = make_store()
    load_time_limits(store)
    clock = ManualClock("2026-09-29T09:55:00+08:00")  # Tuesday before 国庆 (10-01..07 off, 10-10 调休 worked)
    engine = WorkflowEngine(store, clock=clock)
    yield engine, clock
    store.close()


def _handle_deadline(engine, no):
    case = engine.case(no)
    return timefmt.parse(case.dispatched_at), timefmt.parse(case.handle_deadline)


def test_12345_handling_deadline_is_7_working_days_across_a_holiday(env) -> None:
    engine, clock = env
    no = drive_to(engine, clock, "dispatched", source=H, class_code=PLAIN_EVENT)
    dispatched, deadline = _handle_deadline(engine, no)
    assert dispatched.date().isoformat() == "2026-09-29"
    # 09-30, 10-08, 10-09, 10-10 (调休), 10-12, 10-13, 10-14: the same time of day on the 7th working day
    assert deadline.date().isoformat() == "2026-10-14"
    assert deadline.time() == dispatched.time()
    assert engine.deadlines.elapsed(dispatched, deadline, "工作日") == pytest.approx(7)


def test_inspector_case_of_the_same_class_keeps_its_limit(env) -> None:
    engine, clock = env
    no = drive_to(engine, clock, "dispatched", source="inspector", class_code=PLAIN_EVENT)
    dispatched, deadline = _handle_deadline(engine, no)
    assert deadline.date().isoformat() == "2026-10-09"  # 3 工作日: 09-30, 10-08, 10-09
    for source in (H, "inspector"):  # a class with its own row: 4 工作时 for both
        no = drive_to(engine, clock, "dispatched", source=source, class_code=GARBAGE)
        dispatched, deadline = _handle_deadline(engine, no)
        assert engine.deadlines.elapsed(dispatched, deadline, "工作时") == pytest.approx(4), source


def _extend(engine, no, amount):
    engine.act(no, "request_extension", DEPT, {})
    return engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "amount": amount, "unit": "工作日"})


def test_12345_extensions_stop_at_15_working_days(env) -> None:
    engine, clock = env
    no = drive_to(engine, clock, "dispatched", source=H, class_code=PLAIN_EVENT)
    dispatched, _ = _handle_deadline(engine, no)
    _extend(engine, no, 5)
    _extend(engine, no, 3)  # 7 + 5 + 3 = 15: allowed
    assert engine.deadlines.elapsed(dispatched, _handle_deadline(engine, no)[1], "工作日") == pytest.approx(15)
    engine.act(no, "request_extension", DEPT, {})
    with pytest.raises(DataError, match="超过上限 15 工作日"):
        engine.act(no, "decide_extension", DISPATCHER, {"approved": True, "amount": 1, "unit": "工作时"})
    engine.act(no, "decide_extension", DISPATCHER, {"approved": False})  # a denial is always fine
    assert engine.case(no).extension_count == 2


def test_ceiling_moves_with_suspension(env) -> None:
    engine, clock = env
    no = drive_to(engine, clock, "dispatched", source=H, class_code=PLAIN_EVENT)
    engine.act(no, "request_suspend", DEPT, {})
    engine.act(no, "decide_suspend", DISPATCHER, {"approved": True})
    clock.set("2026-10-09T09:55:00+08:00")
    engine.act(no, "resume", DISPATCHER)
    _extend(engine, no, 8)  # 7 + 8 = 15 working days of handling; the suspended days do not count
    with pytest.raises(DataError, match="超过上限"):
        _extend(engine, no, 1)


def test_other_sources_have_no_ceiling(env) -> None:
    engine, clock = env
    no = drive_to(engine, clock, "dispatched", source="inspector", class_code=PLAIN_EVENT)
    _extend(engine, no, 20)
    assert engine.case(no).extension_count == 1


def test_snapshot_without_source_uses_defaults(limits: TimeLimits) -> None:
    from app.deadlines import WorkDeadlines

    d = WorkDeadlines(limits=limits)
    case = SimpleNamespace(kind="event", class_code=PLAIN_EVENT, urgency="normal", grid_code=None)
    start = timefmt.parse("2026-09-29T10:00:00")
    assert d.deadline("handle", start, case) == timefmt.parse("2026-10-09T10:00:00")
    assert d.deadline("handle", start, case, source=H) == timefmt.parse("2026-10-14T10:00:00")
    assert d.extension_ceiling(case) is None  # not in the handle stage


# -- migration --------------------------------------------------------------------------------------------
def test_migration_keeps_existing_rows(tmp_path) -> None:
    names = [m.name for m in MIGRATIONS]
    path = tmp_path / "old.gpkg"
    store = Store.open(path, create=True, migrate=False)
    store.migrate(MIGRATIONS[: names.index("0009_time_limit_source")], backup=False)
    with store.atomic() as c:
        c.executemany(
            "INSERT INTO time_limit (stage, class_code, urgency, area_class, amount, unit) VALUES (?,?,?,?,?,?)",
            [("handle", "*", "*", "*", 3.0, "工作日"), ("handle", "event:0102", "*", "二类区域", 1.0, "工作日")],
        )
    store.close()
    store = Store.open(path)
    c = store.conn
    # the rebuild leaves the connection usable for what app.demo does next (an ALTER TABLE RENAME did not)
    c.execute("PRAGMA journal_mode = MEMORY")
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert store.applied_migrations() == names
    assert [tuple(r) for r in c.execute(
        "SELECT id, stage, class_code, urgency, area_class, source, ceiling, amount, unit FROM time_limit ORDER BY id"
    )] == [(1, "handle", "*", "*", "*", "*", 0, 3.0, "工作日"), (2, "handle", "event:0102", "*", "二类区域", "*", 0, 1.0, "工作日")]
    assert c.execute(
        "SELECT data_type, identifier FROM gpkg_contents WHERE table_name='time_limit'"
    ).fetchone() == ("attributes", "time_limit")
    assert c.execute("PRAGMA foreign_key_check").fetchall() == []
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert c.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'time_limit_%'").fetchone()[0] == 0
    with store.atomic() as w:  # the same key for another source (or as a ceiling) is a new row
        w.execute("INSERT INTO time_limit (stage, source, amount, unit) VALUES ('handle', 'hotline_12345', 7, '工作日')")
        w.execute("INSERT INTO time_limit (stage, source, ceiling, amount, unit) "
                  "VALUES ('handle', 'hotline_12345', 1, 15, '工作日')")
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError), store.atomic() as w:
        w.execute("INSERT INTO time_limit (stage, source, amount, unit) VALUES ('handle', 'hotline_12345', 8, '工作日')")
    tl = TimeLimits.from_store(store)
    assert tl.lookup("handle", "event", "0199", source=H).label == "7 工作日"
    assert tl.ceiling("handle", "event", "0199", source=H).label == "15 工作日"  # type: ignore[union-attr]
    store.close()
