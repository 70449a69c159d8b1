"""The wall's data service: correct numbers from a small store, and no exception ever reaches the UI."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pytest

from app.clock import FixedClock
from app.timefmt import CST
from app.wall_data import (
    STATUS_GROUPS,
    WallConfig,
    WallDataService,
    empty_snapshot,
    heat_grid,
    load_config,
    resolve_window,
    traffic_light,
)
from bench.bench_wall import build_sample_store
from db.dashboard import OPEN_STATUSES

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("wall") / "sample.gpkg", NOW, n_cases=400, seed=3)


def _service(path, **cfg) -> WallDataService:
    return WallDataService(path, WallConfig(**cfg), FixedClock(NOW), evaluator=None)


def test_snapshot_counts_match_the_store(sample_path):
    svc = _service(sample_path)
    result = svc.refresh()
    assert result.ok, result.error
    snap = svc.snapshot
    assert snap is not None
    assert not svc.stale
    conn = sqlite3.connect(sample_path)
    month = conn.execute(
        "SELECT count(*) FROM case_state WHERE reported_at >= '2026-11-01T00:00:00+08:00' "
        "AND reported_at < '2026-12-01T00:00:00+08:00'"
    ).fetchone()[0]
    today = conn.execute(
        "SELECT count(*) FROM case_state WHERE reported_at >= '2026-11-23T00:00:00+08:00'"
    ).fetchone()[0]
    closed_month = conn.execute(
        "SELECT count(DISTINCT case_no) FROM case_event WHERE action='close' AND at >= '2026-11-01T00:00:00+08:00'"
    ).fetchone()[0]
    conn.close()
    assert snap.kpi.month.reported == month > 0
    assert snap.kpi.today.reported == today > 0
    assert snap.kpi.month.closed == closed_month
    assert len(snap.map.points.x) == month
    assert int(snap.map.points.today.sum()) == today
    assert sum(b.value for b in snap.hot.sources) == month
    assert sum(snap.hot.by_hour) == month
    assert snap.hot.classes[0].value >= snap.hot.classes[-1].value
    assert [o.name for o in snap.map.outlines] == ["鼓楼区", "云龙区", "泉山区"]
    assert len(snap.latest) == 40
    assert snap.latest[0].time.startswith("11-23")
    assert snap.map.heat.max() == pytest.approx(1.0)


def test_fallback_scores_without_a_scheme_use_on_time_closure(sample_path):
    svc = _service(sample_path)
    assert svc.refresh().ok
    board = svc.snapshot.district_scores
    assert board.source == "proxy"
    assert {b.label for b in board.bars} == {"鼓楼区", "云龙区", "泉山区"}
    assert all(0 <= b.value <= 100 for b in board.bars)
    assert len(board.periods) == 12
    assert board.periods[-1] == "2026-11"
    assert all(len(v) == 12 for v in board.trend.values())


def test_scheme_scores_through_an_injected_evaluator(sample_path):
    calls = []

    class Unit:
        def __init__(self, code, name, total, grade, color):
            self.code, self.name, self.total, self.grade, self.grade_color = code, name, total, grade, color

    class Result:
        def __init__(self, units):
            self.units = units

    def evaluate(store, scheme, period, kind):
        calls.append((scheme, period, kind))
        return Result([Unit("a", "甲", 91.0, "A", "#2e7d32"), Unit("b", "乙", 42.0, "E", "#000000")])

    svc = WallDataService(sample_path, WallConfig(scheme="demo"), FixedClock(NOW), evaluator=evaluate)
    assert svc.refresh().ok
    board = svc.snapshot.district_scores
    assert board.source == "scheme"
    assert [(b.label, b.value, b.note) for b in board.bars] == [("甲", 91.0, "A"), ("乙", 42.0, "E")]
    assert board.bars[1].color != "#000000"  # black would vanish on the dark wall
    assert board.trend["甲"] == [91.0] * 12
    n = len(calls)
    assert svc.refresh().ok  # scores are cached between refreshes
    assert len(calls) == n


def test_missing_store_is_stale_then_recovers(store_copy):
    svc = _service(store_copy)
    assert svc.refresh().ok
    good = svc.snapshot
    moved = store_copy.with_suffix(".away")
    os.rename(store_copy, moved)
    result = svc.refresh()
    assert not result.ok
    assert "不存在" in result.error
    assert svc.stale
    assert svc.snapshot is good  # the last good data stays on screen
    assert svc.stale_label == "数据更新于 15:30"
    os.rename(moved, store_copy)
    assert svc.refresh().ok
    assert not svc.stale


def test_damaged_or_unready_store_never_raises(tmp_path):
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"this is not a database" * 100)
    svc = _service(bad)
    result = svc.refresh()
    assert not result.ok
    assert svc.snapshot is None
    assert svc.stale_label == "数据未加载，正在重试…"
    empty = tmp_path / "empty.gpkg"
    sqlite3.connect(empty).execute("CREATE TABLE _migration (name TEXT)").connection.close()
    svc2 = _service(empty)
    result2 = svc2.refresh()
    assert not result2.ok
    assert "尚未就绪" in result2.error


def test_replaced_file_is_reopened(store_copy, sample_path):
    svc = _service(store_copy)
    assert svc.refresh().ok
    before = svc.snapshot.kpi.month.reported
    # another store replaces the file (new inode): the service must read the new one
    other = store_copy.with_suffix(".new")
    build_sample_store(other, NOW, n_cases=100, seed=9)
    os.replace(other, store_copy)
    assert svc.refresh().ok
    assert svc.snapshot.kpi.month.reported != before


def test_district_filter_limits_every_panel(sample_path):
    svc = _service(sample_path, districts=("320302",))
    assert svc.refresh().ok
    snap = svc.snapshot
    assert [o.code for o in snap.map.outlines] == ["320302"]
    assert {b.label for b in snap.district_scores.bars} == {"鼓楼区"}
    assert all(r.place.startswith("鼓楼区") for r in snap.latest)
    full = _service(sample_path)
    assert full.refresh().ok
    assert 0 < snap.kpi.month.reported < full.snapshot.kpi.month.reported


def test_windows_and_periods():
    w = resolve_window("this-month", NOW)
    assert (w.month_start, w.month_end) == ("2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00")
    assert w.today_start == "2026-11-23T00:00:00+08:00"
    assert (w.last_start, w.last_end) == ("2026-10-01T00:00:00+08:00", "2026-10-23T15:30:00+08:00")
    assert w.months12[0] == "2025-12"
    past = resolve_window("2026-02", NOW)
    assert past.now == "2026-02-28T23:59:59+08:00"
    assert past.last_end == "2026-01-28T23:59:59+08:00"
    assert resolve_window("2026-01", datetime(2026, 3, 31, tzinfo=CST)).months12[-1] == "2026-01"
    with pytest.raises(ValueError, match="period='2026/10'"):
        resolve_window("2026/10", NOW)


def test_config_file_and_overrides(tmp_path):
    cfg = load_config()  # the shipped resources/config/wall.toml
    assert cfg.pages == ("map", "kpi", "scores", "hot", "cases")
    p = tmp_path / "wall.toml"
    p.write_text('[wall]\ntitle = "测试大屏"\npages = ["kpi", "cases"]\ninterval = 12\ndistricts = ["320302"]\n',
                 encoding="utf-8")
    cfg = load_config(p, interval=5)
    assert (cfg.title, cfg.pages, cfg.interval_s, cfg.districts) == ("测试大屏", ("kpi", "cases"), 5.0, ("320302",))
    assert load_config(p, pages="map,hot").pages == ("map", "hot")
    with pytest.raises(ValueError, match="pages='map,tv'"):
        load_config(p, pages="map,tv")
    with pytest.raises(ValueError, match="key='colour'"):
        load_config(p, colour="red")
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path / "none.toml")


def test_traffic_light_thresholds():
    start, end = "2026-11-23T10:00:00+08:00", "2026-11-23T20:00:00+08:00"
    assert traffic_light("dispatched", start, end, NOW) == "green"  # 55 % of the time used
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 23, 18, 30, tzinfo=CST)) == "yellow"
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 23, 20, 0, tzinfo=CST)) == "red"
    assert traffic_light("closed", start, end, datetime(2026, 11, 24, tzinfo=CST)) == "done"
    assert traffic_light("registered", None, None, NOW) == "green"
    # severely late from three times the stage time (app.deadlines.LightThresholds): 30 h after 10:00
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 24, 15, 59, tzinfo=CST)) == "red"
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 24, 16, 0, tzinfo=CST)) == "severe"


def test_traffic_light_follows_the_configured_thresholds():
    from app.deadlines import LightThresholds

    start, end = "2026-11-23T10:00:00+08:00", "2026-11-23T20:00:00+08:00"
    strict = LightThresholds(yellow=0.5, red=1.0, severe=2.0)
    assert traffic_light("dispatched", start, end, NOW, strict) == "yellow"  # 55 % >= 50 %
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 24, 5, 59, tzinfo=CST), strict) == "red"
    assert traffic_light("dispatched", start, end, datetime(2026, 11, 24, 6, 0, tzinfo=CST), strict) == "severe"
    # the service reads the configured thresholds once (resources/config/time_limits.toml [light])
    assert WallDataService("/nonexistent.gpkg").thresholds == LightThresholds.from_config()


def test_heat_grid_is_normalised_and_north_up():
    x = np.array([0.1, 0.1, 0.1, 0.9])
    y = np.array([0.9, 0.9, 0.9, 0.1])
    heat = heat_grid(x, y, (0.0, 0.0, 1.0, 1.0), cols=50)
    assert heat.shape == (50, 50)
    assert heat.max() == pytest.approx(1.0)
    r, c = np.unravel_index(np.argmax(heat), heat.shape)
    assert r < 10  # the dense north-west corner is at the top
    assert c < 10
    assert heat_grid(np.zeros(0), np.zeros(0), None).shape == (1, 1)


def test_empty_snapshot_renders_nothing_but_is_complete():
    snap = empty_snapshot(NOW)
    assert snap.kpi.today.reported == 0
    assert snap.hot.by_hour == (0,) * 24
    assert len(snap.district_scores.periods) == 12


def test_background_scores_never_block_a_refresh(sample_path):
    class Result:
        units = ({"code": "320302", "name": "鼓楼区", "total": 88.0, "grade": "B", "grade_color": "#1565c0"},)

    svc = WallDataService(sample_path, WallConfig(scheme="demo"), FixedClock(NOW),
                          evaluator=lambda store, scheme, period, kind: Result(), background_scores=True)
    assert svc.refresh().ok
    first = svc.snapshot.district_scores
    assert first.bars == ()
    assert first.note == "正在计算考评得分…"
    svc._score_thread.join(timeout=30)
    assert svc.refresh().ok
    board = svc.snapshot.district_scores
    assert [(b.label, b.value, b.note) for b in board.bars] == [("鼓楼区", 88.0, "B")]
    assert board.source == "scheme"


def test_cancelled_refresh_keeps_the_last_snapshot_and_is_not_an_error(sample_path):
    from app.progress import Progress

    svc = _service(sample_path)
    assert svc.refresh().ok
    good = svc.snapshot
    progress = Progress()
    progress.cancel()
    result = svc.refresh(progress)
    assert (result.ok, result.cancelled) == (False, True)
    assert result.snapshot is good
    assert svc.snapshot is good
    assert not svc.stale
    assert svc.error_count == 0


def test_cancel_interrupts_a_running_query(sample_path, monkeypatch):
    """cancel() from another place while a query runs: SQLite stops it, the refresh ends as cancelled."""
    import app.wall_data as wall_data

    svc = _service(sample_path)
    real = wall_data.dash.LiveDigest.update
    interrupted = []

    def update_cancelled_midway(self, conn, *args, **kwargs):
        # a function inside the query calls cancel(), as the GUI thread would while the worker waits
        conn.create_function("cancel_now", 0, lambda: svc.cancel() or 1)
        try:
            conn.execute("SELECT count(cancel_now()) FROM case_event, case_event").fetchone()
        except sqlite3.OperationalError as exc:
            interrupted.append(str(exc))
            raise
        return real(self, conn, *args, **kwargs)

    monkeypatch.setattr(wall_data.dash.LiveDigest, "update", update_cancelled_midway)
    result = svc.refresh()
    assert (result.ok, result.cancelled) == (False, True)
    assert interrupted == ["interrupted"]
    assert svc.error_count == 0
    monkeypatch.setattr(wall_data.dash.LiveDigest, "update", real)
    assert svc.refresh().ok  # the connection still works after an interrupt


def test_locked_store_is_stale_and_recovers(store_copy):
    # a rollback-journal store (as while an old store is migrated or copied in) can lock readers out
    conn = sqlite3.connect(store_copy)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    conn.close()
    svc = _service(store_copy)
    assert svc.refresh().ok
    locker = sqlite3.connect(store_copy, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("INSERT INTO store_meta (key, value) VALUES ('wall_lock_test', '1')")
    try:
        result = svc.refresh()
        assert not result.ok
        assert "locked" in result.error or "占用" in result.error
        assert result.ms < 3000  # the short busy timeout: a locked store does not freeze the wall
        assert svc.stale
    finally:
        locker.execute("COMMIT")
        locker.close()
    assert svc.refresh().ok
    assert not svc.stale


def test_demo_city_through_the_engine_and_the_standard_scheme(demo_store_path):
    """The real pieces together: the simulator's case record, the evaluation engine, the wall's queries."""
    svc = WallDataService(demo_store_path, WallConfig(period="latest", scheme="standard"), evaluator=True)
    result = svc.refresh()
    assert result.ok, result.error
    snap = svc.snapshot
    w = snap.window
    conn = sqlite3.connect(f"file:{demo_store_path}?mode=ro", uri=True)
    reports = conn.execute(
        "SELECT count(*) FROM case_event WHERE action='report' AND at >= ? AND at < ?", (w.month_start, w.month_end)
    ).fetchone()[0]
    districts = conn.execute("SELECT count(*) FROM district").fetchone()[0]
    conn.close()
    assert snap.kpi.month.reported == reports > 0
    assert len(snap.map.outlines) == districts
    assert snap.latest
    assert snap.latest[0].status_label
    assert snap.district_scores.source == "scheme"
    assert snap.district_scores.bars
    assert all(b.note for b in snap.district_scores.bars)  # every unit has a grade
    assert snap.department_scores.bars


def test_map_legend_counts_every_case_of_the_month_not_only_the_markers(sample_path):
    """With fewer markers than cases (the point cap), the legend still counts the whole month."""
    svc = _service(sample_path, map_points=25)
    assert svc.refresh().ok
    m = svc.snapshot.map
    assert len(m.points.x) == 25 < m.cases
    conn = sqlite3.connect(sample_path)
    start, end, now = "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", "2026-11-23T15:30:00+08:00"
    open_sql = ",".join(f"'{s}'" for s in OPEN_STATUSES)
    overdue = conn.execute(
        f"SELECT count(*) FROM case_state WHERE reported_at >= ? AND reported_at < ? AND status IN ({open_sql}) "
        "AND stage_deadline < ?", (start, end, now)).fetchone()[0]
    by_status = conn.execute(
        f"SELECT status, count(*) FROM case_state WHERE reported_at >= ? AND reported_at < ? "
        f"AND NOT (status IN ({open_sql}) AND coalesce(stage_deadline < ?, 0)) GROUP BY status",
        (start, end, now)).fetchall()
    today = conn.execute("SELECT count(*) FROM case_state WHERE reported_at >= '2026-11-23T00:00:00+08:00' "
                         "AND reported_at < ?", (end,)).fetchone()[0]
    conn.close()
    expected = dict.fromkeys(m.group_counts, 0)
    for status, n in by_status:
        expected[STATUS_GROUPS.get(status, "intake")] += n
    expected["overdue"] += overdue
    assert m.group_counts == expected
    assert sum(m.group_counts.values()) == m.cases
    assert m.today_cases == today


def test_a_suspended_case_in_the_latest_list_keeps_its_frozen_light(store_copy):
    # the newest case: a stage of 10 hours that ended an hour ago (red now), suspended after its first hour
    from db.store import Store

    store = Store.open(store_copy)  # the GeoPackage triggers need its SQL functions
    case_no = store.conn.execute("SELECT case_no FROM case_state ORDER BY reported_at DESC LIMIT 1").fetchone()[0]
    fmt = "%Y-%m-%dT%H:%M:%S+08:00"
    started, deadline, suspended = (NOW - timedelta(hours=10), NOW - timedelta(hours=1), NOW - timedelta(hours=9))
    with store.atomic() as conn:
        conn.execute("UPDATE case_state SET status = 'suspended', stage_started_at = ?, stage_deadline = ?, "
                     "suspended_at = ? WHERE case_no = ?",
                     (started.strftime(fmt), deadline.strftime(fmt), suspended.strftime(fmt), case_no))
    store.close()
    svc = _service(store_copy)
    assert svc.refresh().ok
    row = next(r for r in svc.snapshot.latest if r.case_no == case_no)
    assert row.light == "green"  # 10 % of the stage used when its clock stopped
    assert traffic_light("suspended", started.strftime(fmt), deadline.strftime(fmt), NOW) == "red"
