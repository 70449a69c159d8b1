"""Deadlines and traffic lights: the working calendar and the time limits joined for the workflow engine.

The engine records, when a stage starts, its deadline on ``case_state``; it moves the deadline when an
extension (延期) is approved and when a suspended (挂账) case resumes; the inbox and the wall colour
cases by the share of the limit used. All of that is arithmetic on :class:`WorkCalendar` and
:class:`TimeLimits`, kept here so the engine (``app.workflow``) only asks questions.

Suspension and extension are measured in "unit seconds": working seconds for 工作时/工作日 and clock
seconds for 小时/自然日/分钟, so a suspension over a weekend costs a working-day limit nothing and a
clock-hour limit the whole weekend. ``*_hours`` values exchanged with the engine are those seconds / 3600.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.time_limits import TIME_LIMITS_TOML, TimeLimit, TimeLimitError, TimeLimits
from app.timefmt import parse, to_cst
from app.worktime import WORKING_UNITS, WorkCalendar, default_calendar, normalize_unit
from db import case_queries
from db.store import Store

GREEN, YELLOW, RED, SEVERE = "green", "yellow", "red", "severe"
LIGHTS = (GREEN, YELLOW, RED, SEVERE)
LIGHT_LABELS = {GREEN: "绿灯", YELLOW: "黄灯", RED: "红灯", SEVERE: "严重超期"}


@dataclass(frozen=True, slots=True)
class LightThresholds:
    """Shares of the limit where the light turns yellow, red and severely late (defaults 0.8, 1.0, 3.0)."""

    yellow: float = 0.8
    red: float = 1.0
    severe: float = 3.0

    def __post_init__(self) -> None:
        if not 0 < self.yellow <= self.red <= self.severe:
            raise TimeLimitError(
                f"红绿灯阈值无效 light='{self.yellow}/{self.red}/{self.severe}' (need 0 < yellow <= red <= severe)"
            )

    def light(self, fraction: float) -> str:
        if fraction >= self.severe:
            return SEVERE
        if fraction >= self.red:
            return RED
        if fraction >= self.yellow:
            return YELLOW
        return GREEN

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> LightThresholds:
        p = Path(path) if path is not None else TIME_LIMITS_TOML
        with p.open("rb") as f:
            data = tomllib.load(f).get("light", {})
        try:
            return cls(float(data.get("yellow", 0.8)), float(data.get("red", 1.0)), float(data.get("severe", 3.0)))
        except (TypeError, ValueError):
            raise TimeLimitError(f"红绿灯阈值无效 light='{data}'") from None


_MISSING = object()


def _at(value: datetime | str) -> datetime:
    return parse(value) if isinstance(value, str) else to_cst(value)


class WorkDeadlines:
    """Implements the engine's ``Deadlines`` port (``app.workflow.ports``) on a calendar and time limits."""

    def __init__(
        self, calendar: WorkCalendar | None = None, limits: TimeLimits | None = None,
        thresholds: LightThresholds | None = None, store: Store | None = None,
    ) -> None:
        self.calendar = calendar if calendar is not None else default_calendar()
        self.limits = limits if limits is not None else TimeLimits.from_config()
        self.thresholds = thresholds if thresholds is not None else LightThresholds.from_config()
        self._store = store
        self._area_classes: dict[str, str | None] = {}
        # (stage, kind, class, urgency, area, source) -> limit or None; the limits never change after construction
        self._limit_cache: dict[tuple[Any, ...], object] = {}
        # the same key -> the calendar's adder for that limit (None = no limit), so a deadline costs one
        # dict lookup and the working-seconds arithmetic (replay asks for one on most events)
        self._adders: dict[tuple[Any, ...], object] = {}
        self._adders_calendar: WorkCalendar | None = None

    @classmethod
    def from_store(cls, store: Store, calendar: WorkCalendar | None = None) -> WorkDeadlines:
        """Limits from the store's ``time_limit`` table (or the config when it is empty)."""
        obj = cls(calendar, TimeLimits.from_store(store), store=store)
        obj._area_classes = case_queries.grid_area_classes(store.conn)
        return obj

    # -- limits and deadlines ---------------------------------------------------------------------------
    def limit(
        self, stage: str, kind: str | None = None, class_code: str | None = None,
        urgency: str | None = None, area_class: str | None = None, source: str | None = None,
    ) -> TimeLimit:
        """The time limit that applies to this stage of a case (most specific match)."""
        return self.limits.lookup(stage, kind, class_code, urgency, area_class, source)

    def deadline(
        self, stage: str, start: datetime | str, case: Any = None, *, kind: str | None = None,
        class_code: str | None = None, urgency: str | None = None, area_class: str | None = None,
        source: str | None = None,
    ) -> datetime | None:
        """When the stage starting at ``start`` is due (never before ``start``); ``None`` if it has no limit.

        ``case`` is any object with ``kind``, ``class_code``, ``urgency``, ``source`` and ``grid_code`` (or
        ``area_class``) attributes, such as the engine's case snapshot; keywords override it.
        """
        if case is not None:
            kind = kind or getattr(case, "kind", None)
            class_code = class_code or getattr(case, "class_code", None)
            urgency = urgency or getattr(case, "urgency", None)
            source = source or getattr(case, "source", None)
            area_class = area_class or getattr(case, "area_class", None) or self.area_class_of(
                getattr(case, "grid_code", None)
            )
        ck = (stage, kind, class_code, urgency, area_class, source)
        if self._adders_calendar is not self.calendar:  # adders are bound to one calendar
            self._adders.clear()
            self._adders_calendar = self.calendar
        add = self._adders.get(ck, _MISSING)
        if add is _MISSING:
            lim = self._limit_cache.get(ck, _MISSING)
            if lim is _MISSING:
                try:
                    lim = self.limit(stage, kind, class_code, urgency, area_class, source)
                except TimeLimitError:
                    lim = None
                self._limit_cache[ck] = lim
            assert lim is None or isinstance(lim, TimeLimit)
            add = self._adders[ck] = None if lim is None else self.calendar.adder(lim.amount, lim.unit)
        if add is None:
            return None
        return add(start if type(start) is datetime else _at(start))  # type: ignore[operator]

    def extension_ceiling(self, case: Any) -> tuple[datetime, TimeLimit] | None:
        """The latest handle deadline approved extensions may give the case, with the ceiling row; ``None``
        when no ceiling applies (or the case is not being handled).

        The ceiling counts from the start of the current handling stage (``stage_started_at``: the
        dispatch, or the rework after a failed check) and, like the deadline itself, moves by the time
        spent suspended (``suspended_hours``, measured in the handle limit's kind of time). Suspensions
        before a rework are counted too, which errs on the generous side.
        """
        start = getattr(case, "stage_started_at", None)
        if getattr(case, "stage", None) != "handle" or not start:
            return None
        kind, code = getattr(case, "kind", None), getattr(case, "class_code", None)
        urgency, source = getattr(case, "urgency", None), getattr(case, "source", None)
        area = getattr(case, "area_class", None) or self.area_class_of(getattr(case, "grid_code", None))
        cap = self.limits.ceiling("handle", kind, code, urgency, area, source)
        if cap is None:
            return None
        at = self.calendar.add(_at(start), cap.amount, cap.unit)
        suspended = float(getattr(case, "suspended_hours", 0.0) or 0.0)
        if suspended > 0:
            try:
                unit = self.limit("handle", kind, code, urgency, area, source).unit
            except TimeLimitError:
                unit = cap.unit
            at = self.shift(at, suspended, unit)
        return at, cap

    def area_class_of(self, grid_code: str | None) -> str | None:
        """The area class (一类/二类区域) of a grid; ``None`` without a store or grid."""
        if not grid_code or self._store is None:
            return None
        if grid_code not in self._area_classes:
            self._area_classes[grid_code] = case_queries.grid_area_class(self._store.conn, grid_code)
        return self._area_classes[grid_code]

    def add(self, start: datetime | str, amount: float, unit: str) -> datetime:
        return self.calendar.add(_at(start), amount, unit)

    def extend(
        self, deadline: datetime | str, amount: float | None = None, unit: str | None = None,
        until: datetime | str | None = None,
    ) -> datetime:
        """The deadline after an approved extension: ``until`` itself, or ``amount`` ``unit`` later."""
        current = _at(deadline)
        if until is not None:
            new = _at(until)
            if new <= current:
                raise TimeLimitError(
                    f"延期后的期限须晚于原期限 until='{new.isoformat()}' (current deadline {current.isoformat()})"
                )
            return new
        if amount is None or unit is None:
            raise TimeLimitError(f"延期须给出 until 或 amount+unit (amount='{amount}', unit='{unit}')")
        if not amount > 0:
            raise TimeLimitError(f"延期时长须大于 0 amount='{amount}'")
        return self.calendar.add(current, amount, unit)

    def resume(
        self, deadline: datetime | str, suspended_at: datetime | str, resumed_at: datetime | str, unit: str
    ) -> datetime:
        """The deadline after a 挂账 from ``suspended_at`` to ``resumed_at``: moved by the stopped time."""
        unit = normalize_unit(unit)
        stopped = self.calendar.elapsed_seconds(_at(suspended_at), _at(resumed_at), unit)
        return self.shift(deadline, stopped / 3600, unit)

    def shift(self, deadline: datetime | str, hours: float, unit: str) -> datetime:
        """``deadline`` moved later by ``hours`` of the unit's kind (working hours for 工作时/工作日)."""
        unit = normalize_unit(unit)
        d = _at(deadline)
        if hours <= 0:
            return d
        if unit in WORKING_UNITS:
            return self.calendar.add(d, hours, "工作时")
        return self.calendar.add(d, hours, "小时")

    def unit_hours(self, start: datetime | str, end: datetime | str, unit: str) -> float:
        """Hours of the unit's kind between two instants (working hours for 工作时/工作日, else clock hours)."""
        return self.calendar.elapsed_seconds(_at(start), _at(end), normalize_unit(unit)) / 3600

    def elapsed(self, start: datetime | str, end: datetime | str, unit: str) -> float:
        return self.calendar.elapsed(_at(start), _at(end), unit)

    # -- traffic light ----------------------------------------------------------------------------------
    def fraction(
        self, start: datetime | str, deadline: datetime | str, now: datetime | str, unit: str,
        suspended_hours: float = 0.0, suspended_at: datetime | str | None = None,
    ) -> float:
        """Share of the allowed time used at ``now``; suspended time counts for neither side.

        ``suspended_hours`` is the time already spent in finished 挂账 (which has already moved the
        deadline); while ``suspended_at`` is set the clock stands still at that instant.
        """
        unit = normalize_unit(unit)
        s, d = _at(start), _at(deadline)
        n = _at(suspended_at) if suspended_at is not None else _at(now)
        susp = suspended_hours * 3600
        allowed = self.calendar.elapsed_seconds(s, d, unit) - susp
        used = self.calendar.elapsed_seconds(s, n, unit) - susp
        if allowed <= 0:
            return 0.0 if used <= 0 else float(self.thresholds.severe)
        return max(0.0, used / allowed)

    def light(
        self, start: datetime | str, deadline: datetime | str, now: datetime | str, unit: str,
        suspended_hours: float = 0.0, suspended_at: datetime | str | None = None,
    ) -> str:
        """``green`` / ``yellow`` / ``red`` / ``severe`` (see :data:`LIGHT_LABELS`)."""
        return self.thresholds.light(self.fraction(start, deadline, now, unit, suspended_hours, suspended_at))

    def remaining(
        self, deadline: datetime | str, now: datetime | str, unit: str, suspended_at: datetime | str | None = None
    ) -> float:
        """Time left in ``unit`` (negative when overdue); frozen while suspended."""
        n = _at(suspended_at) if suspended_at is not None else _at(now)
        return self.calendar.elapsed(n, _at(deadline), unit)

    def overdue(self, deadline: datetime | str, at: datetime | str) -> bool:
        """Whether an action at ``at`` is late (for 超时结案 and 按期 counts)."""
        return _at(at) > _at(deadline)


def label(light: str) -> str:
    return LIGHT_LABELS[light]


def for_store(store: Store) -> WorkDeadlines:
    """The engine's default ``Deadlines`` for a store (``app.workflow.ports.default_deadlines`` calls it)."""
    return WorkDeadlines.from_store(store)
