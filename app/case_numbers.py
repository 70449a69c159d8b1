"""Case numbers operators can read aloud on the phone: year + source letter + 6-digit serial.

``2026J000123`` is the 123rd case reported by an inspector (监督员) in 2026. One letter per source, chosen
to be easy to say and hard to confuse (no I or O, which look like 1 and 0):

=============== ====== =============
source          letter  reading
=============== ====== =============
inspector        J      监 (jiān) 督员
hotline_12319    R      热 (rè) 线 12319
hotline_12345    H      hotline 12345
public           G      公 (gōng) 众
video            S      视 (shì) 频
leader           L      领 (lǐng) 导
media            M      媒 (méi) 体
=============== ====== =============

Serials run per year and letter, so numbers stay short (11 characters). Uniqueness in the store is
guaranteed by ``case_state.case_no UNIQUE`` and by allocating above the largest serial already stored.
Numbers from other platforms (replay) are accepted as given if they are well formed (:func:`check_case_no`).
"""

from __future__ import annotations

import re
import sqlite3

from db import cases as db_cases

SOURCE_LETTERS: dict[str, str] = {
    "inspector": "J",
    "hotline_12319": "R",
    "hotline_12345": "H",
    "public": "G",
    "video": "S",
    "leader": "L",
    "media": "M",
}
LETTER_SOURCES: dict[str, str] = {v: k for k, v in SOURCE_LETTERS.items()}
SERIAL_DIGITS = 6
_OURS = re.compile(r"^(\d{4})([A-Z])(\d{6})$")
_ANY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-.]{0,39}$")


def format_case_no(year: int, source: str, serial: int) -> str:
    if source not in SOURCE_LETTERS:
        raise ValueError(f"案件来源错误 source='{source}' (one of {', '.join(SOURCE_LETTERS)})")
    if not 1 <= serial < 10**SERIAL_DIGITS:
        raise ValueError(f"案件序号超出范围 serial={serial} (1..{10**SERIAL_DIGITS - 1})")
    return f"{year:04d}{SOURCE_LETTERS[source]}{serial:0{SERIAL_DIGITS}d}"


def parse_case_no(case_no: str) -> tuple[int, str, int] | None:
    """(year, source, serial) for a Wanmi-made number, ``None`` for a foreign but valid one."""
    m = _OURS.match(case_no)
    if not m or m.group(2) not in LETTER_SOURCES:
        return None
    return int(m.group(1)), LETTER_SOURCES[m.group(2)], int(m.group(3))


def check_case_no(case_no: object) -> str:
    """A case number from outside: 1–40 letters, digits, ``_-.``, no spaces. Returns it or raises."""
    if not isinstance(case_no, str) or not _ANY.match(case_no):
        raise ValueError(f"案件编号格式错误 case_no={case_no!r} (1-40 letters/digits, e.g. 2026J000123)")
    return case_no


def spoken(case_no: str) -> str:
    """How an operator reads it: ``2026J000123`` → ``2026 J 000 123``."""
    m = _OURS.match(case_no)
    if not m:
        return case_no
    return f"{m.group(1)} {m.group(2)} {m.group(3)[:3]} {m.group(3)[3:]}"


class CaseNumberAllocator:
    """Hands out the next free serial per (year, letter), reading the store's maximum once per prefix.

    Kept in memory so a batch (the simulator, replay) can number thousands of reports without a query
    each; numbers it hands out are remembered, so two allocations never collide even before writing.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._next: dict[str, int] = {}

    def next(self, year: int, source: str) -> str:
        letter = SOURCE_LETTERS.get(source)
        if letter is None:
            raise ValueError(f"案件来源错误 source='{source}' (one of {', '.join(SOURCE_LETTERS)})")
        prefix = f"{year:04d}{letter}"
        n = self._next.get(prefix)
        if n is None:
            n = db_cases.max_serial(self._conn, prefix, SERIAL_DIGITS) + 1
        self._next[prefix] = n + 1
        return format_case_no(year, source, n)

    def seen(self, case_no: str) -> None:
        """Note a number assigned elsewhere (replay) so later allocations skip past it."""
        parsed = parse_case_no(case_no)
        if parsed is None:
            return
        year, source, serial = parsed
        prefix = f"{year:04d}{SOURCE_LETTERS[source]}"
        if prefix in self._next and self._next[prefix] <= serial:
            self._next[prefix] = serial + 1

    def reset(self) -> None:
        """Forget cached serials (after a rolled-back batch)."""
        self._next.clear()
