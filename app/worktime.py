"""Working time (ARCHITECTURE §6.2): China's working days and a city's working hours.

Time limits in 数字城管 are written in 工作时 and 工作日 (only the working periods of working days
count) or in 小时, 自然日 and 分钟 (clock time). A deadline is ``add(start, amount, unit)`` and the
traffic light needs ``elapsed(start, now, unit)``, so both live here.

Which days are working days: the ``chinese-calendar`` package (statutory holidays and 调休 working
weekends) for the years it knows; ``resources/config/calendar.toml`` gives a fallback for other years
(weekends plus fixed-date holidays plus dated lists per year) and overrides that win everywhere.

Working time is measured as a cumulative function ``W(t)``: the working seconds from a fixed epoch to
``t``. ``elapsed(a, b) = W(b) - W(a)`` is therefore additive by construction, and ``add`` is the
inverse of ``W`` (the earliest instant reaching the target, never before the start), so the two are
exact inverses at seconds precision. A sorted array of working-day indices makes both O(log n).
"""

from __future__ import annotations

import math
import tomllib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from app.paths import CONFIG
from app.timefmt import CST, to_cst

CALENDAR_TOML = CONFIG / "calendar.toml"

WORKING_HOUR = "工作时"
WORKING_DAY = "工作日"
HOUR = "小时"
CALENDAR_DAY = "自然日"
MINUTE = "分钟"
UNITS = (WORKING_HOUR, WORKING_DAY, HOUR, CALENDAR_DAY, MINUTE)
WORKING_UNITS = frozenset({WORKING_HOUR, WORKING_DAY})
UNIT_ALIASES = {
    "working_hour": WORKING_HOUR, "working_hours": WORKING_HOUR, "工作小时": WORKING_HOUR,
    "working_day": WORKING_DAY, "working_days": WORKING_DAY,
    "hour": HOUR, "hours": HOUR, "h": HOUR,
    "calendar_day": CALENDAR_DAY, "calendar_days": CALENDAR_DAY, "day": CALENDAR_DAY, "days": CALENDAR_DAY,
    "天": CALENDAR_DAY,
    "minute": MINUTE, "minutes": MINUTE, "min": MINUTE, "分": MINUTE,
}
_NATURAL_SECONDS = {HOUR: 3600, CALENDAR_DAY: 86400, MINUTE: 60}


class CalendarError(ValueError):
    """Bad calendar input or configuration; the message names the field and the value."""


def normalize_unit(unit: str) -> str:
    """The canonical Chinese unit name for ``unit`` (Chinese or English alias)."""
    if unit in UNITS:
        return unit
    u = UNIT_ALIASES.get(str(unit).strip().lower()) or UNIT_ALIASES.get(str(unit).strip())
    if u is None:
        raise CalendarError(f"时限单位无效 unit='{unit}' (应为 {'/'.join(UNITS)})")
    return u


def _hhmm(field_name: str, text: str) -> int:
    try:
        t = time.fromisoformat(text.strip())
    except ValueError:
        raise CalendarError(f"时间格式错误 {field_name}='{text}' (应为 HH:MM)") from None
    return t.hour * 3600 + t.minute * 60 + t.second


def _date(field_name: str, text: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise CalendarError(f"日期格式错误 {field_name}='{text}' (应为 YYYY-MM-DD)") from None


def _month_day(field_name: str, text: str) -> tuple[int, int]:
    try:
        m, d = (int(x) for x in str(text).split("-"))
        date(2000, m, d)  # validates, 2000 is a leap year so 02-29 is allowed
    except ValueError:
        raise CalendarError(f"日期格式错误 {field_name}='{text}' (应为 MM-DD)") from None
    return m, d


@dataclass(frozen=True)
class CalendarConfig:
    """Working periods (seconds after midnight) and the day rules; see ``calendar.toml``."""

    periods: tuple[tuple[int, int], ...] = ((8 * 3600 + 1800, 12 * 3600), (13 * 3600 + 1800, 17 * 3600 + 1800))
    weekend: frozenset[int] = frozenset({6, 7})
    fixed_holidays: frozenset[tuple[int, int]] = frozenset()
    year_holidays: frozenset[date] = frozenset()
    year_workdays: frozenset[date] = frozenset()
    override_holidays: frozenset[date] = frozenset()
    override_workdays: frozenset[date] = frozenset()
    use_package: bool = True

    def __post_init__(self) -> None:
        last = -1
        if not self.periods:
            raise CalendarError("工作时段不能为空 hours.periods=[] (at least one period)")
        for a, b in self.periods:
            if not (0 <= a < b <= 86400) or a < last:
                raise CalendarError(
                    f"工作时段无效 hours.periods='{_fmt_s(a)}-{_fmt_s(b)}' (must be in order, not overlapping)"
                )
            last = b

    @property
    def day_seconds(self) -> int:
        return sum(b - a for a, b in self.periods)

    @classmethod
    def from_dict(cls, data: dict[str, Any], use_package: bool = True) -> CalendarConfig:
        hours = data.get("hours", {})
        periods = []
        for p in hours.get("periods", ["08:30-12:00", "13:30-17:30"]):
            if "-" not in str(p):
                raise CalendarError(f"工作时段格式错误 hours.periods='{p}' (应为 HH:MM-HH:MM)")
            a, b = str(p).split("-", 1)
            periods.append((_hhmm("hours.periods", a), _hhmm("hours.periods", b)))
        fb = data.get("fallback", {})
        weekend = set()
        for w in fb.get("weekend", [6, 7]):
            if not isinstance(w, int) or not 1 <= w <= 7:
                raise CalendarError(f"周末设置无效 fallback.weekend='{w}' (ISO weekday 1-7)")
            weekend.add(w)
        fixed = {_month_day("fallback.fixed_holidays", x) for x in fb.get("fixed_holidays", [])}
        yh: set[date] = set()
        yw: set[date] = set()
        for year, spec in data.get("years", {}).items():
            for x in spec.get("holidays", []):
                d = _date(f"years.{year}.holidays", x)
                yh.add(d)
            for x in spec.get("workdays", []):
                yw.add(_date(f"years.{year}.workdays", x))
        ov = data.get("overrides", {})
        oh = {_date("overrides.holidays", x) for x in ov.get("holidays", [])}
        ow = {_date("overrides.workdays", x) for x in ov.get("workdays", [])}
        both = oh & ow
        if both:
            raise CalendarError(f"日期同时设为假日和工作日 overrides='{min(both).isoformat()}'")
        return cls(
            periods=tuple(periods), weekend=frozenset(weekend), fixed_holidays=frozenset(fixed),
            year_holidays=frozenset(yh), year_workdays=frozenset(yw),
            override_holidays=frozenset(oh), override_workdays=frozenset(ow), use_package=use_package,
        )


def load_calendar_config(path: str | Path | None = None) -> CalendarConfig:
    """Read ``calendar.toml`` (the project's own by default)."""
    p = Path(path) if path is not None else CALENDAR_TOML
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise CalendarError(f"日历配置文件不存在 path='{p}'") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"日历配置文件格式错误 path='{p}': {exc}") from None
    return CalendarConfig.from_dict(data)


def _cst(t: datetime) -> datetime:
    """``to_cst`` with a fast path for values already at +08:00 (fixed offset) and whole seconds."""
    tz = t.tzinfo
    if not t.microsecond and (tz is CST or (type(tz) is timezone and tz == CST)):
        return t
    return to_cst(t)


def _fmt_s(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _package_day(d: date) -> bool | None:
    """chinese-calendar's verdict, or None for a year it does not know."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


def _package_fast(d: date) -> bool:
    """``chinese_calendar.is_workday`` for a year it knows, without its per-call range check."""
    from chinese_calendar.constants import holidays, workdays

    if d in workdays:
        return True
    return d.weekday() < 5 and d not in holidays


@dataclass
class WorkCalendar:
    """Working days and hours, with ``add`` and ``elapsed`` in every time-limit unit.

    ``first_year``..``last_year`` bound the precomputed day table; instants outside raise
    :class:`CalendarError`.
    """

    config: CalendarConfig = field(default_factory=CalendarConfig)
    first_year: int = 2000
    last_year: int = 2060
    _epoch: date = field(init=False, repr=False)
    _workdays: list[int] = field(init=False, repr=False)
    _is_work: bytearray = field(init=False, repr=False)
    _sources: dict[int, str] = field(init=False, repr=False)
    _before: list[int] = field(init=False, repr=False)  # day index -> working days before it

    def __post_init__(self) -> None:
        self._epoch = date(self.first_year, 1, 1)
        n = (date(self.last_year + 1, 1, 1) - self._epoch).days
        flags = bytearray(n)
        package_years: dict[int, bool] = {}
        for i in range(n):
            d = self._epoch + timedelta(days=i)
            flags[i] = 1 if self._decide(d, package_years) else 0
        self._is_work = flags
        self._workdays = [i for i in range(n) if flags[i]]
        before, k = [], 0
        for f in flags:
            before.append(k)
            k += f
        self._before = before
        self._epoch_ordinal = self._epoch.toordinal()
        self._midnights: dict[int, datetime] = {}  # working-day number -> its midnight (CST)
        self.day_seconds = self.config.day_seconds

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> WorkCalendar:
        return cls(load_calendar_config(path))

    # -- days ----------------------------------------------------------------------------------------
    def _decide(self, d: date, package_years: dict[int, bool]) -> bool:
        c = self.config
        if d in c.override_holidays:
            return False
        if d in c.override_workdays:
            return True
        if c.use_package:
            if d.year not in package_years:
                package_years[d.year] = _package_day(date(d.year, 1, 1)) is not None
            if package_years[d.year]:
                return _package_fast(d)
        if d in c.year_workdays:
            return True
        if d in c.year_holidays or (d.month, d.day) in c.fixed_holidays:
            return False
        return d.isoweekday() not in c.weekend

    def source(self, d: date) -> str:
        """Which rule decided ``d``: ``override``, ``package`` or ``fallback`` (for the docs and tests)."""
        c = self.config
        if d in c.override_holidays or d in c.override_workdays:
            return "override"
        if c.use_package and _package_day(d) is not None:
            return "package"
        return "fallback"

    def _index(self, d: date) -> int:
        i = (d - self._epoch).days
        if not 0 <= i < len(self._is_work):
            raise CalendarError(
                f"日期超出工作日历范围 date='{d.isoformat()}' (calendar covers {self.first_year}-{self.last_year})"
            )
        return i

    def is_workday(self, d: date | datetime) -> bool:
        if isinstance(d, datetime):
            d = to_cst(d).date()
        return bool(self._is_work[self._index(d)])

    def is_working_time(self, t: datetime) -> bool:
        """Inside a working period of a working day (period ends excluded)."""
        t = to_cst(t)
        if not self.is_workday(t.date()):
            return False
        s = t.hour * 3600 + t.minute * 60 + t.second
        return any(a <= s < b for a, b in self.config.periods)

    def workdays_between(self, start: date, end: date) -> list[date]:
        """Working days in ``[start, end]``."""
        i, j = self._index(start), self._index(end)
        lo, hi = bisect_left(self._workdays, i), bisect_left(self._workdays, j + 1)
        return [self._epoch + timedelta(days=k) for k in self._workdays[lo:hi]]

    # -- the cumulative working-seconds function -------------------------------------------------------
    def work_seconds(self, t: datetime) -> int:
        """``W(t)``: working seconds from the calendar's epoch to ``t``."""
        t = _cst(t)
        i = t.toordinal() - self._epoch_ordinal
        if not 0 <= i < len(self._is_work):
            self._index(t.date())  # raises CalendarError
        w = self._before[i] * self.day_seconds
        if self._is_work[i]:
            s = t.hour * 3600 + t.minute * 60 + t.second
            for a, b in self.config.periods:
                if s <= a:
                    break
                w += min(s, b) - a
        return w

    def instant_at(self, w: int) -> datetime:
        """The earliest instant ``t`` with ``W(t) == w`` (so a deadline ends a working period, not next morning)."""
        if w < 0:
            raise CalendarError(f"工作时间超出日历范围 work_seconds='{w}'")
        k, r = divmod(w, self.day_seconds)
        if r == 0 and k > 0:
            k -= 1
            r = self.day_seconds
        if k >= len(self._workdays):
            raise CalendarError(f"工作时间超出日历范围 work_seconds='{w}' (calendar ends {self.last_year})")
        midnight = self._midnights.get(k)
        if midnight is None:
            day = self._epoch + timedelta(days=self._workdays[k])
            midnight = self._midnights[k] = datetime.combine(day, time(0), CST)
        sec = self.config.periods[0][0]
        for a, b in self.config.periods:
            if r <= b - a:
                sec = a + r
                break
            r -= b - a
        return midnight + timedelta(seconds=sec)

    # -- public arithmetic ----------------------------------------------------------------------------
    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """The instant ``amount`` ``unit`` after ``start`` (the deadline of a limit starting then).

        Working units count only working periods; a start outside them begins at the next period.
        Fractions of a second are rounded up, so the result is never early. Never before ``start``.
        """
        return self.adder(amount, unit)(start)

    def adder(self, amount: float, unit: str) -> Callable[[datetime], datetime]:
        """``start -> self.add(start, amount, unit)`` with the amount and unit checked once.

        Why: a time limit is one (amount, unit) applied to many stage starts, and replay computes a
        deadline for most events; checking and converting the limit once per limit instead of once
        per event keeps the per-event cost to the working-seconds arithmetic itself.
        """
        unit = normalize_unit(unit)
        if not isinstance(amount, (int, float)) or isinstance(amount, bool) or math.isnan(amount) or amount < 0:
            raise CalendarError(f"时限数值无效 amount='{amount}' (must be a number >= 0)")
        if unit in WORKING_UNITS:
            per = 3600 if unit == WORKING_HOUR else self.day_seconds
            secs = math.ceil(amount * per - 1e-6)
            if secs <= 0:
                return _cst
            work_seconds, instant_at = self.work_seconds, self.instant_at

            def add_working(start: datetime) -> datetime:
                start = _cst(start)
                end = instant_at(work_seconds(start) + secs)
                return end if end > start else start

            return add_working
        step = timedelta(seconds=max(math.ceil(amount * _NATURAL_SECONDS[unit] - 1e-6), 0))

        def add_clock(start: datetime) -> datetime:
            return _cst(start) + step

        return add_clock

    def elapsed(self, start: datetime, end: datetime, unit: str) -> float:
        """Time from ``start`` to ``end`` in ``unit`` (negative when ``end`` is earlier); additive."""
        unit = normalize_unit(unit)
        start, end = to_cst(start), to_cst(end)
        if unit in WORKING_UNITS:
            per = 3600 if unit == WORKING_HOUR else self.day_seconds
            return (self.work_seconds(end) - self.work_seconds(start)) / per
        return (end - start).total_seconds() / _NATURAL_SECONDS[unit]

    def elapsed_seconds(self, start: datetime, end: datetime, unit: str) -> int:
        """Like :meth:`elapsed` but in whole seconds of the unit's kind (working or clock seconds)."""
        unit = normalize_unit(unit)
        if unit in WORKING_UNITS:
            return self.work_seconds(end) - self.work_seconds(start)
        return int((to_cst(end) - to_cst(start)).total_seconds())


_default: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The calendar from the project's ``calendar.toml``, built once (it precomputes 60 years of days)."""
    global _default
    if _default is None:
        _default = WorkCalendar.from_config()
    return _default
