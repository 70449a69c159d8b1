"""The wall's service keeps the month digest between refreshes: refreshes while the centre writes show
exactly what a freshly started wall would show, and it reads in full when it must."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from app.clock import ManualClock
from app.timefmt import CST
from app.wall_data import WallConfig, WallDataService, WallSnapshot
from bench.bench_wall import append_cases, build_sample_store
from db.store import Store

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("wall-live") / "sample.gpkg", NOW, n_cases=300, seed=11)


def _service(path, clock, **cfg) -> WallDataService:
    return WallDataService(path, WallConfig(map_points=cfg.pop("map_points", 150), **cfg), clock, evaluator=None)


def _same(a: WallSnapshot, b: WallSnapshot) -> None:
    assert a.window == b.window
    assert a.kpi == b.kpi
    assert a.hot == b.hot
    assert a.latest == b.latest
    assert a.map.cases == b.map.cases
    for name in ("x", "y", "status", "overdue", "today"):
        assert np.array_equal(getattr(a.map.points, name), getattr(b.map.points, name)), name
    assert np.array_equal(a.map.groups, b.map.groups)
    assert np.array_equal(a.map.heat, b.map.heat)


def test_refreshes_while_writing_equal_a_fresh_wall(store_copy):
    clock = ManualClock(NOW)
    svc = _service(store_copy, clock)
    assert svc.refresh().digest_update == "full (first read)"
    rng = random.Random(5)
    writer = Store.open(store_copy)
    try:
        for round_ in range(6):
            with writer.atomic() as conn:
                append_cases(conn, rng, 40, clock.now(), spread_days=rng.choice((0.3, 5, 40)), prefix=f"L{round_}")
            clock.advance(minutes=1)
            result = svc.refresh()
            assert result.ok, result.error
            assert result.digest_update == "incremental"
            fresh = _service(store_copy, clock)
            assert fresh.refresh().ok
            _same(svc.snapshot, fresh.snapshot)
        assert svc.refresh().digest_update == "unchanged"
        assert svc.full_reads == 1
        # the map shows at most map_points cases, the legend the month's count
        assert svc.snapshot.map.cases > len(svc.snapshot.map.points.x) == 150
        assert svc.snapshot.map.cases == svc.snapshot.kpi.month.reported
    finally:
        writer.close()


def test_full_read_on_a_new_day_a_new_month_and_as_a_safety_net(store_copy):
    clock = ManualClock(NOW)
    svc = _service(store_copy, clock)
    assert svc.refresh().digest_update.startswith("full")
    assert svc.refresh().digest_update == "unchanged"
    clock.set(NOW.replace(hour=23, minute=59) + timedelta(minutes=2))  # past midnight: "today" moves
    assert svc.refresh().digest_update.startswith("full")
    clock.set(datetime(2026, 12, 1, 0, 5, tzinfo=CST))  # a new month: another window
    result = svc.refresh()
    assert result.digest_update.startswith("full")
    assert result.snapshot.window.month == "2026-12"
    assert svc.refresh().digest_update == "unchanged"
    svc.full_read_s = 0.0  # the periodic safety net
    assert svc.refresh().digest_update.startswith("full")
    assert svc.full_reads == 4


def test_a_failed_refresh_or_a_restored_store_is_read_in_full(store_copy, tmp_path):
    clock = ManualClock(NOW)
    svc = _service(store_copy, clock)
    assert svc.refresh().ok
    away = tmp_path / "away.gpkg"
    store_copy.rename(away)
    assert not svc.refresh().ok
    away.rename(store_copy)
    result = svc.refresh()
    assert result.ok
    assert result.digest_update.startswith("full")
    # a store replaced by an older copy with fewer cases: the new file is read in full, never folded
    writer = Store.open(store_copy)
    with writer.atomic() as conn:
        append_cases(conn, random.Random(8), 25, NOW, spread_days=2, prefix="R")
    writer.close()
    assert svc.refresh().digest_update == "incremental"
    newer = svc.snapshot
    older = tmp_path / "older.gpkg"
    build_sample_store(older, NOW, n_cases=300, seed=11)  # the store as it was before the 25 cases
    for suffix in ("-wal", "-shm"):  # (an operator replaces the store with its WAL, or SQLite would apply it)
        store_copy.with_name(store_copy.name + suffix).unlink(missing_ok=True)
    older.replace(store_copy)
    result = svc.refresh()
    assert result.ok
    assert result.digest_update.startswith("full")
    assert svc.snapshot.kpi.month.reported < newer.kpi.month.reported
    fresh = _service(store_copy, clock)
    assert fresh.refresh().ok
    _same(svc.snapshot, fresh.snapshot)
