"""The injected clock: services ask a ``Clock`` for "now" so tests, replay and the simulator run at any time.

Nothing in ``app/`` should call ``datetime.now()`` for business decisions (deadlines, traffic lights,
event timestamps); it takes a clock instead. ``SystemClock`` is the real one; ``FixedClock`` never moves
(tests of a single instant); ``ManualClock`` moves only when told (tests and the simulated year, which
advances it event by event).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from app.timefmt import CST, parse, to_cst


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, an aware datetime in Beijing time at seconds precision."""
        ...


class SystemClock:
    """The wall clock of this machine, in Beijing time."""

    def now(self) -> datetime:
        return datetime.now(CST).replace(microsecond=0)


def _instant(at: datetime | str) -> datetime:
    return parse(at) if isinstance(at, str) else to_cst(at)


class FixedClock:
    """Always the same instant: for tests that look at one moment."""

    def __init__(self, at: datetime | str) -> None:
        self._at = _instant(at)

    def now(self) -> datetime:
        return self._at


class ManualClock:
    """A clock that moves only when told, never backwards (time order is what the record relies on)."""

    def __init__(self, at: datetime | str) -> None:
        self._at = _instant(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime | str) -> None:
        new = _instant(at)
        if new < self._at:
            raise ValueError(f"时钟不能倒退 clock cannot go back: at='{new.isoformat()}' < '{self._at.isoformat()}'")
        self._at = new

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError(f"时钟不能倒退 clock cannot go back: delta='{step}'")
        self._at = self._at + step
        return self._at
