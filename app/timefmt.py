"""Timestamps in the store: ISO 8601 with the +08:00 offset at seconds precision, so text order is time order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def to_cst(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CST)
    return dt.astimezone(CST).replace(microsecond=0)


def fmt(dt: datetime) -> str:
    """``2026-10-05T09:30:00+08:00``."""
    return to_cst(dt).isoformat(timespec="seconds")


def parse(value: str) -> datetime:
    """Parse ISO 8601 (any offset, or naive = Beijing time) into an aware CST datetime."""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise ValueError(f"时间格式错误 at='{value}' is not ISO 8601 (e.g. 2026-10-05T09:30:00+08:00)") from None
    return to_cst(dt)


def now() -> datetime:
    return datetime.now(CST).replace(microsecond=0)
