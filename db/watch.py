"""Cheap change detection for several seats on one store: which cases changed after a given seq."""

from __future__ import annotations

import sqlite3


def max_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM case_event").fetchone()[0])


def cases_since(conn: sqlite3.Connection, seq: int, limit: int = 5000) -> tuple[int, list[str]]:
    """(newest seq, distinct case numbers with events after ``seq``), capped at ``limit`` events."""
    rows = conn.execute(
        "SELECT seq, case_no FROM case_event WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
    ).fetchall()
    if not rows:
        return seq, []
    return int(rows[-1][0]), sorted({r[1] for r in rows})
