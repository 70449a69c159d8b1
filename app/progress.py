"""Progress reporting and cancellation for long work run as a pure function (Orange3/QGIS style).

Long operations take a ``Progress``; ``widgets/workers.py`` adapts it to Qt signals, the command line
prints it, tests pass a stub or a :class:`Progress` that cancels at some point.
"""

from __future__ import annotations

from collections.abc import Callable


class Cancelled(Exception):
    """Raised by :meth:`Progress.check` when the user cancelled; the caller's transaction rolls back."""


class Progress:
    def __init__(self, callback: Callable[[float, str], None] | None = None) -> None:
        self._callback = callback
        self._cancelled = False
        self.fraction = 0.0
        self.message = ""

    def report(self, fraction: float, message: str = "") -> None:
        self.fraction = max(0.0, min(1.0, fraction))
        if message:
            self.message = message
        if self._callback is not None:
            self._callback(self.fraction, self.message)

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def check(self) -> None:
        if self._cancelled:
            raise Cancelled("已取消 cancelled")

    def sub(self, start: float, end: float) -> Progress:
        """A child progress mapping 0..1 onto start..end of this one (shares cancellation)."""
        parent = self

        class _Sub(Progress):
            @property
            def cancelled(self) -> bool:
                return parent.cancelled

            def check(self) -> None:
                parent.check()

        return _Sub(lambda f, m: parent.report(start + (end - start) * f, m))


def print_progress(fraction: float, message: str) -> None:
    """A command-line progress line on stderr."""
    import sys

    print(f"\r[{fraction * 100:5.1f}%] {message:<60}", end="" if fraction < 1 else "\n", file=sys.stderr, flush=True)
