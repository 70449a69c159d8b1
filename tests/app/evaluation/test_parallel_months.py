"""A roll-up computes its months on worker threads with their own read-only connections; the result must be
exactly the one computed month by month on the caller's connection. A store opened read-only before
migration 0007 (no ``payload_department`` column) must give the same counts through the payload."""

from __future__ import annotations

import shutil
import sqlite3

from app.evaluation import run
from app.evaluation.periods import parse_period
from db import evaluation_repo as repo
from db.store import Store


def _year(store: Store) -> str:
    last = repo.last_event_at(store.conn)
    assert last is not None
    return last[:4]


def test_parallel_year_equals_serial(demo_store: Store) -> None:
    year = _year(demo_store)
    for kind in ("district", "department"):
        serial = run.evaluate_full(demo_store, "standard", year, kind, workers=1).result
        parallel = run.evaluate_full(demo_store, "standard", year, kind, workers=2).result
        assert run.canonical(parallel) == run.canonical(serial)
        assert any(u.total for u in serial.units), "the demo year must have scored cases"


def test_parallel_path_really_uses_other_connections(demo_store: Store, monkeypatch) -> None:
    seen: set[int] = set()
    original = run._units_of

    def spy(store, scheme, kinds, period, ahead=None):
        seen.add(id(store.conn))
        return original(store, scheme, kinds, period, ahead)

    monkeypatch.setattr(run, "_units_of", spy)
    run.evaluate_full(demo_store, "standard", _year(demo_store), "district", workers=2)
    assert id(demo_store.conn) not in seen
    assert seen


def test_store_without_generated_column_gives_same_counts(demo_store: Store, tmp_path) -> None:
    year = _year(demo_store)
    period = parse_period(f"{year}-{repo.last_event_at(demo_store.conn)[5:7]}")
    want = {
        "received": repo.dispatched_by_unit(demo_store.conn, "department", period.start_at, period.end_at, distinct=True),
        "due": repo.due_to_handle_by_unit(demo_store.conn, "department", period.start_at, period.end_at),
        "redispatched": repo.redispatched_by_unit(demo_store.conn, "department", "0000", period.end_at),
    }
    assert want["received"]
    assert want["due"]
    demo_store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    old = tmp_path / "old.gpkg"
    shutil.copy2(demo_store.path, old)
    raw = sqlite3.connect(old)
    # an older store: the column did not exist (drop what depends on it, then the column)
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%payload_department%'").fetchall():
        raw.execute(f"DROP INDEX {name}")
    raw.execute("ALTER TABLE case_event DROP COLUMN payload_department")
    raw.commit()
    raw.close()
    ro = Store.open(old, readonly=True)
    try:
        assert not repo._has_payload_department(ro.conn)
        got = {
            "received": repo.dispatched_by_unit(ro.conn, "department", period.start_at, period.end_at, distinct=True),
            "due": repo.due_to_handle_by_unit(ro.conn, "department", period.start_at, period.end_at),
            "redispatched": repo.redispatched_by_unit(ro.conn, "department", "0000", period.end_at),
        }
    finally:
        ro.close()
    assert got == want
