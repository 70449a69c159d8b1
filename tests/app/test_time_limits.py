"""Time limits: loading the TOML into the store, most-specific match, deadlines and traffic lights."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.base_data import load_catalog_into
from app.deadlines import GREEN, RED, SEVERE, YELLOW, LightThresholds, WorkDeadlines, for_store
from app.time_limits import TimeLimit, TimeLimitError, TimeLimits, load_time_limits, resolve_entries
from app.timefmt import CST, parse
from app.worktime import default_calendar


@pytest.fixture
def limits_store(mem_store):
    load_catalog_into(mem_store, "cjt214-2007")
    report = load_time_limits(mem_store)
    assert report.rows
    return mem_store


@pytest.fixture(scope="module")
def limits() -> TimeLimits:
    return TimeLimits.from_config()


# (stage, kind, class_code, urgency, area_class, expected label, why)
LOOKUPS = [
    ("verify", None, None, None, None, "30 分钟", "核实 30 min (STANDARDS)"),
    ("verify", "event", "0102", "urgent", None, "15 分钟", "urgent 核实"),
    ("check", "event", "0102", None, None, "60 分钟", "核查 60 min"),
    ("handle", "event", "0101", None, None, "15 工作日", "私搭乱建"),
    ("handle", "event", "0102", None, None, "4 工作时", "暴露垃圾"),
    ("handle", "event", "0102", None, "二类区域", "1 工作日", "暴露垃圾 in 二类区域"),
    ("handle", "event", "0103", None, None, "4 工作日", "积存垃圾渣土"),
    ("handle", "event", "0104", None, None, "2 工作时", "道路不洁"),
    ("handle", "event", "0104", "normal", "二类区域", "5 工作时", "道路不洁 in 二类区域"),
    ("handle", "event", "0105", None, None, "15 工作日", "水域不洁"),
    ("handle", "event", "0106", None, None, "5 工作日", "绿地脏乱 (绿地养护)"),
    ("handle", "part", "0101", "urgent", None, "4 小时", "井盖丢失 (urgent manhole cover)"),
    ("handle", "part", "0102", None, None, "1 工作日", "manhole cover, not urgent"),
    ("handle", "event", "0401", None, None, "8 小时", "突发事件 major rule"),
    ("handle", "event", "0406", None, None, "4 小时", "道路积水: class beats major"),
    ("handle", "event", "0599", None, None, "3 工作日", "event default"),
    ("handle", "part", "0601", None, None, "5 工作日", "part default"),
    ("handle", "event", "0599", "urgent", None, "4 工作时", "urgent default"),
    ("handle", "part", "0601", "urgent", None, "4 工作时", "urgent part: the urgent limit, not the part default"),
    ("handle", None, None, None, None, "3 工作日", "any"),
]


@pytest.mark.parametrize(("stage", "kind", "code", "urgency", "area", "expected", "why"), LOOKUPS,
                         ids=[x[6] for x in LOOKUPS])
def test_lookup_most_specific(limits_store, stage, kind, code, urgency, area, expected, why) -> None:
    tl = TimeLimits.from_store(limits_store)
    assert tl.lookup(stage, kind, code, urgency, area).label == expected, why


def test_store_table_equals_config(limits_store, limits: TimeLimits) -> None:
    from_store = sorted(r.row() for r in TimeLimits.from_store(limits_store).all())
    assert from_store == sorted(r.row() for r in limits.all())


def test_empty_table_falls_back_to_config(mem_store, limits: TimeLimits) -> None:
    tl = TimeLimits.from_store(mem_store)
    assert tl.lookup("handle", "event", "0102").label == "4 工作时"


def test_reload_replaces(limits_store, tmp_path) -> None:
    p = tmp_path / "tl.toml"
    p.write_text('[[limit]]\nstage = "核实"\namount = 20\nunit = "分钟"\n', encoding="utf-8")
    report = load_time_limits(limits_store, p)
    assert [r.row() for r in report.rows] == [("verify", "*", "*", "*", "*", 0, 20.0, "分钟")]
    tl = TimeLimits.from_store(limits_store)
    assert tl.stages() == ["verify"]
    with pytest.raises(TimeLimitError, match="stage='handle'"):
        tl.lookup("handle", "event", "0102")


def test_2026_catalogue_resolves_names(mem_store) -> None:
    load_catalog_into(mem_store, "gbt47678-2026")
    report = load_time_limits(mem_store)
    tl = TimeLimits.from_store(mem_store)
    assert tl.lookup("handle", "event", "06010").label == "4 工作时"  # 暴露垃圾 in GB/T 47678.5
    assert tl.lookup("handle", "part", "01001", "urgent").label == "4 小时"  # 供水井盖
    assert any("cjt214-2007" in s for s in report.skipped)  # the legacy-only major rule was skipped


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"stage": "审批", "amount": 1, "unit": "工作日"}, "stage='审批'"),
        ({"stage": "handle", "amount": 0, "unit": "工作日"}, "amount='0'"),
        ({"stage": "handle", "amount": 1, "unit": "周"}, "unit='周'"),
        ({"stage": "handle", "amount": 1, "unit": "工作日", "urgency": "very"}, "urgency='very'"),
        ({"stage": "handle", "amount": 1, "unit": "工作日", "area_class": "三类"}, "area_class='三类'"),
        ({"stage": "handle", "amount": 1, "unit": "工作日", "class_code": "0102"}, "kind"),
        ({"stage": "handle", "amount": 1, "unit": "工作日", "kind": "event", "class_code": "1x"}, "class_code='1x'"),
    ],
)
def test_bad_entries_name_the_field(entry, field) -> None:
    with pytest.raises(TimeLimitError, match=field):
        resolve_entries([entry], [], None)


def test_time_limit_row_validates() -> None:
    with pytest.raises(TimeLimitError, match="unit="):
        TimeLimit("handle", 1, "week")


# -- deadlines and lights ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dl(limits: TimeLimits) -> WorkDeadlines:
    return WorkDeadlines(default_calendar(), limits)


def test_deadline_from_case_snapshot(dl: WorkDeadlines) -> None:
    case = SimpleNamespace(kind="event", class_code="0102", urgency="normal", grid_code=None)
    # 暴露垃圾 4 工作时 from Friday 16:00 before 春节 2025: 1.5 h Friday + 2.5 h on the 调休 Sunday
    assert dl.deadline("handle", parse("2025-01-24T16:00:00"), case) == parse("2025-01-26T11:00:00")
    assert dl.deadline("handle", parse("2025-01-24T16:00:00"), case, area_class="二类区域") == parse(
        "2025-01-26T16:00:00"
    )


def test_unknown_stage_has_no_deadline() -> None:
    d = WorkDeadlines(default_calendar(), TimeLimits([TimeLimit("verify", 30, "分钟")]))
    assert d.deadline("handle", parse("2025-01-24T16:00:00"), None) is None


def test_area_class_from_store_grid(limits_store) -> None:
    limits_store.conn.execute(
        "INSERT INTO unit_grid (code, community_code, street_code, district_code, area_class) "
        "VALUES ('320311001002007', '320311001002', '320311001', '320311', '二类区域')"
    )
    d = for_store(limits_store)
    case = SimpleNamespace(kind="event", class_code="0104", urgency="normal", grid_code="320311001002007")
    assert d.deadline("handle", parse("2025-01-27T08:30:00"), case) == parse("2025-01-27T15:00:00")  # 5 工作时: 3.5 + 1.5


def test_extension_moves_deadline(dl: WorkDeadlines) -> None:
    d0 = parse("2025-01-27T12:00:00")
    assert dl.extend(d0, 2, "工作时") == parse("2025-01-27T15:30:00")
    assert dl.extend(d0, until="2025-02-06T12:00:00") == parse("2025-02-06T12:00:00")
    with pytest.raises(TimeLimitError, match="until="):
        dl.extend(d0, until="2025-01-27T11:00:00")
    with pytest.raises(TimeLimitError, match="amount="):
        dl.extend(d0)


def test_suspension_stops_the_clock(dl: WorkDeadlines) -> None:
    start, deadline = parse("2025-01-27T09:00:00"), parse("2025-01-27T11:00:00")  # a 2 工作时 limit
    # suspended 10:00 Monday, resumed 10:00 on 2025-02-05 (after 春节): 1 working day of suspension
    new = dl.resume(deadline, "2025-01-27T10:00:00", "2025-02-05T10:00:00", "工作时")
    assert new == parse("2025-02-05T11:00:00")
    susp = dl.unit_hours("2025-01-27T10:00:00", "2025-02-05T10:00:00", "工作时")
    assert susp == pytest.approx(7.5)
    # while suspended the light does not move, however late it gets
    frozen = [dl.fraction(start, deadline, now, "工作时", suspended_at="2025-01-27T10:00:00")
              for now in ("2025-01-27T10:30:00", "2025-03-01T10:00:00")]
    assert frozen == [0.5, 0.5]
    # after resume, the suspended time counts for neither the used nor the allowed time
    assert dl.fraction(start, new, "2025-02-05T10:30:00", "工作时", suspended_hours=susp) == pytest.approx(0.75)


# a 3 工作时 limit from Monday 2025-01-27 08:30 is due 11:30; 80% is 2.4 h (10:54); 3x is 9 工作时,
# which runs over 春节 2025 to 2025-02-05 10:00
LIGHTS = [
    ("2025-01-27T10:00:00", GREEN), ("2025-01-27T10:53:00", GREEN), ("2025-01-27T10:54:00", YELLOW),
    ("2025-01-27T11:29:00", YELLOW), ("2025-01-27T11:30:00", RED), ("2025-01-27T17:30:00", RED),
    ("2025-02-05T09:59:00", RED), ("2025-02-05T10:00:00", SEVERE),
]


@pytest.mark.parametrize(("now", "expected"), LIGHTS)
def test_traffic_light(dl: WorkDeadlines, now: str, expected: str) -> None:
    # a 3 工作时 limit from Monday 08:30 is due 11:30; yellow from 80% (11:54 would be 2.4 h? no: 08:30+2.4 h = 10:54)
    start = parse("2025-01-27T08:30:00")
    deadline = dl.add(start, 3, "工作时")  # 11:30
    assert deadline == parse("2025-01-27T11:30:00")
    assert dl.light(start, deadline, now, "工作时") == expected


def test_thresholds_configurable() -> None:
    t = LightThresholds(0.5, 1.0, 2.0)
    assert [t.light(x) for x in (0.4, 0.5, 1.0, 2.0)] == [GREEN, YELLOW, RED, SEVERE]
    with pytest.raises(TimeLimitError, match="light="):
        LightThresholds(0.9, 0.8, 3)


def test_remaining(dl: WorkDeadlines) -> None:
    assert dl.remaining("2025-01-27T14:30:00", "2025-01-27T11:00:00", "工作时") == pytest.approx(2.0)
    assert dl.remaining("2025-01-27T11:00:00", "2025-01-27T14:30:00", "工作时") == pytest.approx(-2.0)


BASE = datetime(2025, 1, 1, tzinfo=CST)
instants = st.integers(min_value=0, max_value=600 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))


@settings(max_examples=100, deadline=None)
@given(
    start=instants,
    stage=st.sampled_from(["verify", "register", "dispatch", "handle", "check", "close"]),
    code=st.sampled_from(["0101", "0102", "0104", "0406", "0599"]),
    urgency=st.sampled_from(["normal", "urgent"]),
)
def test_deadline_never_precedes_start(dl: WorkDeadlines, start, stage, code, urgency) -> None:
    case = SimpleNamespace(kind="event", class_code=code, urgency=urgency, grid_code=None)
    d = dl.deadline(stage, start, case)
    assert d is not None
    assert d > start


@settings(max_examples=100, deadline=None)
@given(start=instants, a=st.integers(0, 3000), b=st.integers(1, 3000), unit=st.sampled_from(["工作时", "小时"]))
def test_suspended_clock_does_not_move(dl: WorkDeadlines, start, a, b, unit) -> None:
    deadline = dl.add(start, 4, unit)
    suspended_at = start + timedelta(minutes=a)
    f1 = dl.fraction(start, deadline, suspended_at, unit, suspended_at=suspended_at)
    f2 = dl.fraction(start, deadline, suspended_at + timedelta(minutes=b), unit, suspended_at=suspended_at)
    assert f1 == f2


def test_deadline_follows_a_replaced_calendar(limits: TimeLimits) -> None:
    """Deadlines cache one adder per limit; the adders belong to the calendar they were made from."""
    from app.worktime import CalendarConfig, WorkCalendar

    d = WorkDeadlines(default_calendar(), limits)
    case = SimpleNamespace(kind="event", class_code="0102", urgency="normal", grid_code=None)
    start = parse("2025-01-24T16:00:00")
    assert d.deadline("handle", start, case) == parse("2025-01-26T11:00:00")  # 4 工作时 over 春节 调休
    d.calendar = WorkCalendar(CalendarConfig(use_package=False), first_year=2024, last_year=2026)
    assert d.deadline("handle", start, case) == d.calendar.add(start, 4, "工作时") != parse("2025-01-26T11:00:00")
