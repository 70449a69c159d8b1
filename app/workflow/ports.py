"""The services the workflow engine needs, as Protocols, so tests, replay and the simulator inject their own.

The engine never reads the wall clock, the calendar or the map directly: a ``Clock`` says what time it
is, ``Deadlines`` turns a stage start into a deadline (working time, per class and urgency; implemented
in ``app.deadlines``), and a ``Locator`` turns lon/lat into grid/community/street/district codes
(``app.workflow.locator`` implements it over ``unit_grid``). This keeps the engine deterministic: the
same events with the same base data give the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable

from app.clock import Clock, FixedClock, ManualClock, SystemClock

__all__ = [
    "Clock",
    "Deadlines",
    "FixedClock",
    "Location",
    "Locator",
    "ManualClock",
    "NaturalDeadlines",
    "SystemClock",
]


@runtime_checkable
class Deadlines(Protocol):
    def deadline(self, stage: str, start: datetime, case: Any) -> datetime | None:
        """When ``stage`` (accept/verify/register/dispatch/handle/check/close) started at ``start`` is due.

        ``case`` is the case snapshot (``db.cases.CaseState``: class_code, kind, urgency, grid_code...)
        as it will be after the action. ``None`` means the stage has no time limit.
        """
        ...

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """``start`` plus ``amount`` ``unit`` (工作时/工作日/小时/自然日/分钟): used for extensions."""
        ...


@dataclass(frozen=True, slots=True)
class Location:
    grid_code: str
    community_code: str
    street_code: str
    district_code: str


@runtime_checkable
class Locator(Protocol):
    def locate(self, lon: float, lat: float) -> Location | None:
        """The unit grid containing the point, or ``None`` when it is outside the city's grids."""
        ...

    def grid(self, grid_code: str) -> Location | None:
        """The location of a grid by its code, or ``None`` when the store has no such grid."""
        ...


_UNIT_SECONDS = {"小时": 3600, "自然日": 86400, "分钟": 60, "工作时": 3600, "工作日": 86400}


class NaturalDeadlines:
    """A calendar-free stand-in: fixed clock-time limits per stage (tests, and stores without config).

    Working units are treated as clock time (工作日 = 24 h). The real rules live in ``app.deadlines``.
    """

    DEFAULT_HOURS: ClassVar[dict[str, float]] = {
        "accept": 0.5, "verify": 0.5, "register": 1, "dispatch": 1, "handle": 48, "check": 2, "close": 1,
    }

    def __init__(self, hours: dict[str, float] | None = None, urgent_factor: float = 0.5) -> None:
        self.hours = dict(self.DEFAULT_HOURS if hours is None else hours)
        self.urgent_factor = urgent_factor

    def deadline(self, stage: str, start: datetime, case: Any) -> datetime | None:
        h = self.hours.get(stage)
        if h is None:
            return None
        if getattr(case, "urgency", "normal") == "urgent":
            h *= self.urgent_factor
        return start + timedelta(hours=h)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        try:
            return start + timedelta(seconds=amount * _UNIT_SECONDS[unit])
        except KeyError:
            raise ValueError(f"时限单位错误 unit='{unit}' (工作时/工作日/小时/自然日/分钟)") from None


def default_deadlines(store: Any) -> Deadlines:
    """The real ``app.deadlines`` service over the store when it is available, else :class:`NaturalDeadlines`."""
    try:
        from app import deadlines as real  # the time-limit engineer's module
    except ImportError:
        return NaturalDeadlines()
    factory = getattr(real, "for_store", None) or getattr(real, "StoreDeadlines", None)
    if factory is None:
        return NaturalDeadlines()
    return factory(store)  # type: ignore[no-any-return]
