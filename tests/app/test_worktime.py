"""The working calendar: holidays and 调休 days 2025-2027, lunch breaks, and the arithmetic invariants."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.timefmt import CST, parse
from app.worktime import (
    CalendarConfig,
    CalendarError,
    WorkCalendar,
    default_calendar,
    load_calendar_config,
    normalize_unit,
)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return default_calendar()


# (date, working day?, which rule decides, why)
DAYS = [
    # 2025 (chinese-calendar)
    ("2025-01-01", False, "package", "元旦"),
    ("2025-01-26", True, "package", "Sunday 调休 for 春节"),
    ("2025-01-27", True, "package", "Monday before 春节"),
    ("2025-01-28", False, "package", "春节 first day (除夕)"),
    ("2025-02-03", False, "package", "春节 Monday"),
    ("2025-02-04", False, "package", "春节 last day"),
    ("2025-02-05", True, "package", "first working day after 春节"),
    ("2025-02-08", True, "package", "Saturday 调休 for 春节"),
    ("2025-02-09", False, "package", "ordinary Sunday"),
    ("2025-04-04", False, "package", "清明"),
    ("2025-04-27", True, "package", "Sunday 调休 for 劳动节"),
    ("2025-05-05", False, "package", "劳动节 Monday"),
    ("2025-06-02", False, "package", "端午 Monday"),
    ("2025-09-28", True, "package", "Sunday 调休 for 国庆中秋"),
    ("2025-10-01", False, "package", "国庆"),
    ("2025-10-06", False, "package", "中秋 Monday"),
    ("2025-10-08", False, "package", "国庆中秋 last day"),
    ("2025-10-09", True, "package", "after 国庆中秋"),
    ("2025-10-11", True, "package", "Saturday 调休 for 国庆中秋"),
    ("2025-10-12", False, "package", "ordinary Sunday"),
    # 2026 (chinese-calendar 1.11)
    ("2026-01-02", False, "package", "元旦 bridge Friday"),
    ("2026-01-04", True, "package", "Sunday 调休 for 元旦"),
    ("2026-02-14", True, "package", "Saturday 调休 for 春节"),
    ("2026-02-16", False, "package", "春节 (除夕)"),
    ("2026-02-23", False, "package", "春节 last day"),
    ("2026-02-24", True, "package", "after 春节"),
    ("2026-02-28", True, "package", "Saturday 调休 for 春节"),
    ("2026-04-06", False, "package", "清明 Monday"),
    ("2026-05-05", False, "package", "劳动节 last day"),
    ("2026-05-09", True, "package", "Saturday 调休 for 劳动节"),
    ("2026-06-19", False, "package", "端午"),
    ("2026-09-20", True, "package", "Sunday 调休 for 国庆"),
    ("2026-09-25", False, "package", "中秋"),
    ("2026-10-07", False, "package", "国庆 last day"),
    ("2026-10-08", True, "package", "after 国庆"),
    ("2026-10-10", True, "package", "Saturday 调休 for 国庆"),
    ("2026-11-23", True, "package", "ordinary Monday"),
    # 2027 (fallback from calendar.toml)
    ("2027-01-01", False, "fallback", "元旦 fixed date"),
    ("2027-01-04", True, "fallback", "ordinary Monday"),
    ("2027-02-05", False, "fallback", "春节 estimate: 除夕"),
    ("2027-02-08", False, "fallback", "春节 estimate: 初三 Monday"),
    ("2027-02-09", True, "fallback", "after 春节 (no 调休 in fallback)"),
    ("2027-02-06", False, "fallback", "Saturday"),
    ("2027-04-05", False, "fallback", "清明 estimate"),
    ("2027-05-03", True, "fallback", "劳动节 is 2 fixed days only"),
    ("2027-05-01", False, "fallback", "劳动节 fixed (Saturday anyway)"),
    ("2027-06-09", False, "fallback", "端午 estimate"),
    ("2027-09-15", False, "fallback", "中秋 estimate"),
    ("2027-10-01", False, "fallback", "国庆 fixed"),
    ("2027-10-04", True, "fallback", "after the fixed 国庆 days"),
    ("2027-10-09", False, "fallback", "Saturday"),
]


@pytest.mark.parametrize(("day", "working", "source", "why"), DAYS, ids=[d[0] for d in DAYS])
def test_working_days(cal: WorkCalendar, day: str, working: bool, source: str, why: str) -> None:
    d = date.fromisoformat(day)
    assert cal.is_workday(d) is working, why
    assert cal.source(d) == source


# (start, amount, unit, expected deadline)
ADDS = [
    ("2025-01-27T09:00:00", 3, "工作时", "2025-01-27T12:00:00", "up to lunch, the earliest instant"),
    ("2025-01-27T11:00:00", 2, "工作时", "2025-01-27T14:30:00", "across the lunch break"),
    ("2025-01-27T12:30:00", 1, "工作时", "2025-01-27T14:30:00", "start inside lunch begins at 13:30"),
    ("2025-01-27T16:00:00", 2, "工作时", "2025-02-05T09:00:00", "across 春节 2025"),
    ("2025-01-24T16:00:00", 1, "工作日", "2025-01-26T16:00:00", "the Sunday 调休 counts"),
    ("2025-01-24T16:00:00", 4, "工作时", "2025-01-26T11:00:00", "Friday to the 调休 Sunday"),
    ("2025-02-07T17:00:00", 1, "工作时", "2025-02-08T09:00:00", "Saturday 2025-02-08 is a working day"),
    ("2025-09-30T10:00:00", 1, "工作日", "2025-10-09T10:00:00", "across 国庆中秋 2025"),
    ("2025-10-10T17:00:00", 1, "工作时", "2025-10-11T09:00:00", "Saturday 2025-10-11 is a working day"),
    ("2025-01-27T20:00:00", 4, "工作时", "2025-02-05T14:00:00", "evening start, next working morning"),
    ("2025-01-27T20:00:00", 1, "工作日", "2025-02-05T17:30:00", "a whole working day"),
    ("2026-02-13T17:00:00", 1, "工作时", "2026-02-14T09:00:00", "Saturday 调休 2026-02-14"),
    ("2026-09-30T10:00:00", 2, "工作日", "2026-10-09T10:00:00", "across 国庆 2026"),
    ("2026-12-31T17:00:00", 1, "工作时", "2027-01-04T09:00:00", "into the fallback year"),
    ("2027-02-04T10:00:00", 1, "工作日", "2027-02-09T10:00:00", "fallback 春节 2027"),
    ("2025-01-27T16:00:00", 4, "小时", "2025-01-27T20:00:00", "clock hours ignore the calendar"),
    ("2025-01-27T16:00:00", 2, "自然日", "2025-01-29T16:00:00", "calendar days ignore holidays"),
    ("2025-01-27T23:50:00", 30, "分钟", "2025-01-28T00:20:00", "clock minutes"),
    ("2025-01-27T09:00:00", 0, "工作时", "2025-01-27T09:00:00", "zero"),
]


@pytest.mark.parametrize(("start", "amount", "unit", "expected", "why"), ADDS, ids=[a[4] for a in ADDS])
def test_add(cal: WorkCalendar, start: str, amount: float, unit: str, expected: str, why: str) -> None:
    assert cal.add(parse(start), amount, unit) == parse(expected), why


ELAPSED = [
    ("2025-01-27T11:00:00", "2025-01-27T14:00:00", "工作时", 1.5, "lunch does not count"),
    ("2025-01-27T12:10:00", "2025-01-27T13:20:00", "工作时", 0.0, "inside lunch"),
    ("2025-01-27T17:00:00", "2025-02-05T09:00:00", "工作时", 1.0, "春节 does not count"),
    ("2025-01-25T09:00:00", "2025-01-26T09:00:00", "工作时", 0.5, "Saturday off, 调休 Sunday counts"),
    ("2025-01-27T08:30:00", "2025-01-27T17:30:00", "工作日", 1.0, "one full working day"),
    ("2025-01-27T08:30:00", "2025-01-27T17:30:00", "小时", 9.0, "clock hours"),
    ("2025-10-01T00:00:00", "2025-10-09T00:00:00", "工作日", 0.0, "国庆中秋 2025 has no working time"),
    ("2025-01-27T14:00:00", "2025-01-27T11:00:00", "工作时", -1.5, "reversed is negative"),
]


@pytest.mark.parametrize(("a", "b", "unit", "expected", "why"), ELAPSED, ids=[e[4] for e in ELAPSED])
def test_elapsed(cal: WorkCalendar, a: str, b: str, unit: str, expected: float, why: str) -> None:
    assert cal.elapsed(parse(a), parse(b), unit) == pytest.approx(expected), why


def test_working_time_and_lunch(cal: WorkCalendar) -> None:
    assert cal.is_working_time(parse("2025-01-27T08:30:00"))
    assert not cal.is_working_time(parse("2025-01-27T12:00:00"))
    assert not cal.is_working_time(parse("2025-01-27T13:00:00"))
    assert cal.is_working_time(parse("2025-01-27T13:30:00"))
    assert not cal.is_working_time(parse("2025-01-28T10:00:00"))  # 春节


def test_configurable_hours_and_overrides(tmp_path) -> None:
    p = tmp_path / "calendar.toml"
    p.write_text(
        '[hours]\nperiods = ["09:00-12:00", "14:00-18:00"]\n'
        '[overrides]\nholidays = ["2025-01-27"]\nworkdays = ["2025-01-25"]\n',
        encoding="utf-8",
    )
    c = WorkCalendar(load_calendar_config(p), first_year=2024, last_year=2026)
    assert c.day_seconds == 7 * 3600
    assert not c.is_workday(date(2025, 1, 27))
    assert c.source(date(2025, 1, 27)) == "override"
    assert c.is_workday(date(2025, 1, 25))
    assert c.add(parse("2025-01-24T11:00:00"), 2, "工作时") == parse("2025-01-24T15:00:00")
    assert c.add(parse("2025-01-24T17:00:00"), 2, "工作时") == parse("2025-01-25T10:00:00")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[hours]\nperiods = ["13:00-12:00"]\n', "hours.periods"),
        ('[hours]\nperiods = ["8点-12:00"]\n', "hours.periods"),
        ("[fallback]\nweekend = [8]\n", "fallback.weekend"),
        ('[fallback]\nfixed_holidays = ["13-01"]\n', "fallback.fixed_holidays"),
        ('[overrides]\nholidays = ["2025-02-30"]\n', "overrides.holidays"),
    ],
)
def test_bad_config_names_field(tmp_path, text: str, field: str) -> None:
    p = tmp_path / "calendar.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=field.replace(".", r"\.")):
        load_calendar_config(p)


def test_bad_input(cal: WorkCalendar) -> None:
    with pytest.raises(CalendarError, match="unit='周'"):
        cal.add(parse("2025-01-27T09:00:00"), 1, "周")
    with pytest.raises(CalendarError, match="amount='-1'"):
        cal.add(parse("2025-01-27T09:00:00"), -1, "工作时")
    with pytest.raises(CalendarError, match="date='1999-12-31'"):
        cal.work_seconds(datetime(1999, 12, 31, 10, tzinfo=CST))
    assert normalize_unit("working_day") == "工作日"


def test_package_off_uses_fallback() -> None:
    c = WorkCalendar(CalendarConfig(use_package=False), first_year=2025, last_year=2025)
    assert c.is_workday(date(2025, 1, 28))  # a Tuesday: 春节 unknown without the package
    assert not c.is_workday(date(2025, 1, 26))  # Sunday, no 调休 in the plain fallback


# -- invariants --------------------------------------------------------------------------------------
BASE = datetime(2024, 12, 20, tzinfo=CST)
instants = st.integers(min_value=0, max_value=3 * 366 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
units = st.sampled_from(["工作时", "工作日", "小时", "自然日", "分钟"])


@settings(max_examples=150, deadline=None)
@given(a=instants, b=instants, c=instants, unit=units)
def test_elapsed_is_additive(cal: WorkCalendar, a: datetime, b: datetime, c: datetime, unit: str) -> None:
    assert cal.elapsed(a, b, unit) + cal.elapsed(b, c, unit) == pytest.approx(cal.elapsed(a, c, unit), abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(start=instants, minutes=st.integers(min_value=0, max_value=20 * 450), unit=units)
def test_add_never_precedes_start_and_inverts_elapsed(cal: WorkCalendar, start: datetime, minutes: int, unit: str) -> None:
    per_unit = {"工作时": 60, "工作日": 450, "小时": 60, "自然日": 1440, "分钟": 1}[unit]
    amount = minutes / per_unit
    end = cal.add(start, amount, unit)
    assert end >= start
    assert cal.elapsed(start, end, unit) * per_unit == pytest.approx(minutes, abs=1 / 60)
    # the earliest such instant: one second earlier is not enough
    if minutes > 0:
        assert cal.elapsed(start, end - timedelta(seconds=1), unit) * per_unit < minutes


@settings(max_examples=100, deadline=None)
@given(a=instants, b=instants)
def test_working_time_never_exceeds_clock_time(cal: WorkCalendar, a: datetime, b: datetime) -> None:
    lo, hi = min(a, b), max(a, b)
    assert 0 <= cal.elapsed(lo, hi, "工作时") <= cal.elapsed(lo, hi, "小时") + 1e-9
