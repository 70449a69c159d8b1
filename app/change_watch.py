"""Seeing other seats' writes: poll the event log's high-water mark and report the cases that moved.

Two consoles on one store each keep a read connection; every poll is a primary-key lookup, so polling
once a second costs nothing and changes show up within the two-second promise.
"""

from __future__ import annotations

from pathlib import Path

from app.changes import Changes
from db import watch
from db.store import StoreError, connect


class ChangeWatcher:
    def __init__(self, store_path: str | Path) -> None:
        self._conn = connect(store_path, readonly=True, check_same_thread=False)
        self.seq = watch.max_seq(self._conn)

    def poll(self) -> Changes | None:
        """New changes since the last poll (from any process), or None."""
        try:
            new_seq, cases = watch.cases_since(self._conn, self.seq)
        except Exception as exc:  # a locked or vanished store must not break the seat
            raise StoreError(str(exc)) from exc
        if new_seq == self.seq:
            return None
        self.seq = new_seq
        return Changes(cases=frozenset(cases), layers=frozenset({"case_state"}), scores=True)

    def close(self) -> None:
        self._conn.close()
