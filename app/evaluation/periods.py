"""Evaluation periods: month ``2026-10``, quarter ``2026Q3``, year ``2026`` and custom ``2026-10-01..2026-10-15``.

Every indicator is computed over a half-open instant range ``[start_at, end_at)`` in Beijing time, written
in the store's timestamp format, so that SQL compares text (``at >= start_at AND at < end_at``) and a case
event at midnight belongs to exactly one period. Custom ranges include their last day, because that is how
an office writes "10月1日至10月15日".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
QUARTER_RE = re.compile(r"^(\d{4})[Qq]([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")
CUSTOM_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

KIND_ZH = {"month": "月度", "quarter": "季度", "year": "年度", "custom": "自定义"}


class PeriodError(ValueError):
    """A period text that is not a month, quarter, year or custom range (message Chinese + English)."""


def _instant(d: date) -> str:
    return f"{d.isoformat()}T00:00:00+08:00"


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of days ``[start, end)``; ``key`` is the canonical text it was parsed from."""

    key: str
    kind: str  # month | quarter | year | custom
    start: date
    end: date  # exclusive

    @property
    def start_at(self) -> str:
        return _instant(self.start)

    @property
    def end_at(self) -> str:
        """The first instant after the period (exclusive bound)."""
        return _instant(self.end)

    @property
    def label(self) -> str:
        """The Chinese label an office prints on a bulletin (``2026年10月``, ``2026年第三季度``)."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return f"{self.start.year}年第{'一二三四'[q - 1]}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        last = self.end - timedelta(days=1)
        return f"{self.start.year}年{self.start.month}月{self.start.day}日至{last.year}年{last.month}月{last.day}日"

    def months(self) -> list[Period]:
        """The calendar months that make up this period (a custom range yields the months it touches)."""
        out: list[Period] = []
        d = _month_start(self.start.year, self.start.month)
        while d < self.end:
            out.append(month(d.year, d.month))
            d = _add_months(d, 1)
        return out

    def previous_months(self, n: int) -> list[Period]:
        """The ``n`` months ending with this period's last month, oldest first (for trend charts)."""
        last = self.end - timedelta(days=1)
        first = _add_months(_month_start(last.year, last.month), -(n - 1))
        return [month(d.year, d.month) for d in (_add_months(first, i) for i in range(n))]

    def contains(self, at: str) -> bool:
        return self.start_at <= at < self.end_at


def month(year: int, m: int) -> Period:
    start = _month_start(year, m)
    return Period(f"{year:04d}-{m:02d}", "month", start, _add_months(start, 1))


def quarter(year: int, q: int) -> Period:
    start = _month_start(year, 3 * (q - 1) + 1)
    return Period(f"{year:04d}Q{q}", "quarter", start, _add_months(start, 3))


def year(y: int) -> Period:
    return Period(f"{y:04d}", "year", date(y, 1, 1), date(y + 1, 1, 1))


def parse_period(text: str) -> Period:
    """Parse ``2026-10``, ``2026Q3``, ``2026`` or ``2026-10-01..2026-10-15`` (inclusive last day)."""
    raw = (text or "").strip()
    hint = "应为 2026-10、2026Q3、2026 或 2026-10-01..2026-10-15 (expected month, quarter, year or custom range)"
    try:
        if mt := MONTH_RE.match(raw):
            y, m = int(mt.group(1)), int(mt.group(2))
            if not 1 <= m <= 12:
                raise PeriodError(f"考核周期月份错误 period='{text}': month {m} is not 1-12")
            return month(y, m)
        if mt := QUARTER_RE.match(raw):
            return quarter(int(mt.group(1)), int(mt.group(2)))
        if mt := YEAR_RE.match(raw):
            return year(int(mt.group(1)))
        if mt := CUSTOM_RE.match(raw):
            a = date.fromisoformat(mt.group(1))
            b = date.fromisoformat(mt.group(2))
            if b < a:
                raise PeriodError(f"考核周期结束早于开始 period='{text}': end {b} is before start {a}")
            return Period(f"{a.isoformat()}..{b.isoformat()}", "custom", a, b + timedelta(days=1))
    except PeriodError:
        raise
    except ValueError as exc:
        raise PeriodError(f"考核周期日期无效 period='{text}': {exc}; {hint}") from None
    raise PeriodError(f"考核周期格式错误 period='{text}'; {hint}")


def shift(p: Period, n: int) -> Period:
    """The month, quarter or year ``n`` periods after ``p`` (before it when ``n`` < 0); custom ranges have no
    neighbours and raise."""
    if p.kind == "month":
        d = _add_months(p.start, n)
        return month(d.year, d.month)
    if p.kind == "quarter":
        d = _add_months(p.start, 3 * n)
        return quarter(d.year, (d.month - 1) // 3 + 1)
    if p.kind == "year":
        return year(p.start.year + n)
    raise PeriodError(f"自定义周期没有上一期 period='{p.key}' (a custom range has no previous period)")
