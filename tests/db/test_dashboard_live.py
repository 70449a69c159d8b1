"""The live month digest folds in only the cases changed since the last refresh; whatever was written in
between, its numbers must be exactly those of a full read of the store, and those of the plain SQL
aggregates the rest of the application uses (period rates, top values, hours, flow counts)."""

from __future__ import annotations

import random
import shutil
import sqlite3
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.timefmt import CST, fmt, parse
from bench.bench_wall import DEPARTMENTS, DISTRICTS, append_cases, build_sample_store
from db import dashboard as dash
from db.store import Store, connect

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CST)
MONTH, MONTH_END, LAST = "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00"
TODAY = "2026-11-23T00:00:00+08:00"
TODAY_END = "2026-11-24T00:00:00+08:00"
NOW_S = fmt(NOW)
LAST_END = "2026-10-23T15:30:00+08:00"  # last month up to the same point
POINTS = 40  # small, so the map's cut (with ties of reported_at) is exercised


@pytest.fixture(scope="module")
def base_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("live") / "base.gpkg", NOW, n_cases=150, seed=5)


def _times_around(rng: random.Random) -> str | None:
    """A deadline or step time: none, or on a few whole hours around now (ties with other cases)."""
    if rng.random() < 0.2:
        return None
    return fmt(NOW + timedelta(hours=rng.choice((-72, -5, -1, 0, 1, 5, 72))))


def _append_event(conn: sqlite3.Connection, case_no: str, action: str, at: str) -> int:
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM case_event").fetchone()[0]
    prev = conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute(
        "INSERT INTO case_event (seq, case_no, at, action, actor_id, role, payload, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, 'test', 'intake', '{}', ?, ?)",
        (seq, case_no, at, action, prev[0] if prev else "0" * 64, f"live{seq:060x}"),
    )
    return int(seq)


def _change_cases(conn: sqlite3.Connection, rng: random.Random, k: int) -> None:
    """Move ``k`` existing cases on, as the workflow would: an event each and a rewritten case_state row
    (status, step times, deadlines, rework, department, class, sometimes even the district)."""
    cases = [r[0] for r in conn.execute("SELECT case_no FROM case_state ORDER BY case_no")]
    statuses = (*dash.OPEN_STATUSES, "closed", "closed", "void")
    for case_no in rng.sample(cases, min(k, len(cases))):
        action = rng.choice((*dash.FLOW_ACTIONS, "comment", "check"))
        at = fmt(NOW - timedelta(days=rng.choice((0, 3, 25, 40)), hours=rng.randrange(12)))
        seq = _append_event(conn, case_no, action, at)
        district = rng.choice(DISTRICTS)[0] if rng.random() < 0.15 else None
        conn.execute(
            "UPDATE case_state SET status = ?, registered_at = coalesce(registered_at, ?), handled_at = ?, "
            "self_handled = ?, handle_deadline = ?, stage_deadline = ?, rework_count = rework_count + ?, "
            "department = ?, class_code = coalesce(?, class_code), district_code = coalesce(?, district_code), "
            "last_seq = ? WHERE case_no = ?",
            (rng.choice(statuses), at if rng.random() < 0.5 else None, _times_around(rng),
             int(rng.random() < 0.1), _times_around(rng), _times_around(rng), int(rng.random() < 0.2),
             rng.choice([None, *(d for d, _ in DEPARTMENTS)]), rng.choice((None, None, "01001", "02001")),
             district, seq, case_no),
        )


def _assert_same(a: dash.MonthDigest, b: dash.MonthDigest) -> None:
    assert a.rates == b.rates
    assert a.tops == b.tops
    assert a.by_hour == b.by_hour
    assert a.cases == b.cases
    for name in ("x", "y", "status", "overdue", "today"):
        assert np.array_equal(getattr(a.points, name), getattr(b.points, name)), name


def _check_against_sql(conn: sqlite3.Connection, live: dash.LiveDigest, districts: tuple[str, ...],
                       last_end: str = LAST_END) -> None:
    """The live digest against a full read, and both against the SQL aggregates."""
    full = dash.LiveDigest(MONTH, MONTH_END, LAST, POINTS, districts, (TODAY, TODAY_END))
    assert full.update(conn, last_end=last_end).startswith("full")
    got = live.digest(TODAY, NOW_S)
    _assert_same(got, full.digest(TODAY, NOW_S))
    assert live.last_rates(last_end, last_end) == full.last_rates(last_end, last_end)
    assert live.last.n == full.last.n  # last month's window holds what the comparison needs, no more
    if not districts:
        assert live.month_flows() == full.month_flows()
        assert live.today_flows() == full.today_flows()
    # the independent SQL of the same numbers
    assert got.rates == dash.period_rates(conn, MONTH, MONTH_END, NOW_S, districts)
    assert live.last_rates(last_end, last_end) == dash.period_rates(conn, LAST, last_end, last_end, districts)
    for column, values in got.tops.items():
        assert values == dash.top_counts(conn, column, MONTH, MONTH_END, 10_000 if column == "source" else 50,
                                         districts), column
    assert got.by_hour == dash.by_hour(conn, MONTH, MONTH_END, districts)
    month_cases = conn.execute(
        "SELECT count(*) FROM case_state WHERE reported_at >= ? AND reported_at < ?"
        + (f" AND district_code IN ({','.join('?' * len(districts))})" if districts else ""),
        (MONTH, MONTH_END, *districts),
    ).fetchone()[0]
    assert got.cases == month_cases
    if not districts:
        sql = dash.flow_counts(conn, MONTH, MONTH_END, NOW_S)
        assert live.month_flows() == dash.FlowCounts(sql.reported, sql.registered, sql.dispatched, sql.handled,
                                                     sql.closed)
        sql = dash.flow_counts(conn, TODAY, TODAY_END, NOW_S)
        assert live.today_flows() == dash.FlowCounts(sql.reported, sql.registered, sql.dispatched, sql.handled,
                                                     sql.closed)
    pts = dash.case_points(conn, MONTH, MONTH_END, TODAY, NOW_S, 10**6, districts)
    if month_cases <= POINTS:  # every case is on the map: the same points as the SQL gives
        assert sorted(zip(got.points.x, got.points.y, got.points.status, got.points.overdue, strict=True)) == \
            sorted(zip(pts.x, pts.y, pts.status, pts.overdue, strict=True))
    else:  # the newest POINTS cases (among those with a location)
        assert len(got.points.x) <= POINTS
        assert set(zip(got.points.x, got.points.y)) <= set(zip(pts.x, pts.y))


def _append(path, seed: int, n: int, spread_days: int, prefix: str) -> None:
    """Another process files ``n`` new cases over the last ``spread_days`` days, in one transaction."""
    writer = Store.open(path)
    with writer.atomic() as conn:
        append_cases(conn, random.Random(seed), n, NOW, spread_days=spread_days, prefix=prefix)
    writer.close()


batch = st.tuples(
    st.integers(0, 25),  # new cases
    st.sampled_from((0.2, 3.0, 30.0, 60.0)),  # how far back they were reported (days)
    st.integers(0, 20),  # existing cases changed
    st.sampled_from((0, 1, 30, 24 * 10)),  # hours the clock moved on
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(batch, min_size=1, max_size=6), districts=st.sampled_from(((), ("320302",))),
       seed=st.integers(0, 10**6))
def test_incremental_equals_full(base_path, tmp_path_factory, batches, districts, seed):
    path = tmp_path_factory.mktemp("example") / "live.gpkg"
    shutil.copy2(base_path, path)
    rng = random.Random(seed)
    writer = Store.open(path)
    reader = connect(path, readonly=True)
    try:
        live = dash.LiveDigest(MONTH, MONTH_END, LAST, POINTS, districts, (TODAY, TODAY_END))
        reader.execute("BEGIN")
        assert live.update(reader, last_end=LAST_END) == "full (first read)"
        reader.execute("ROLLBACK")
        last_end = LAST_END
        for i, (new, back_days, changed, later) in enumerate(batches):
            with writer.atomic() as conn:
                if new:
                    append_cases(conn, rng, new, NOW, spread_days=back_days, prefix=f"H{i}")
                _change_cases(conn, rng, changed)
            # the clock moves on: last month's window reaches further (to its end, in the last step)
            last_end = min(fmt(parse(last_end) + timedelta(hours=later)), MONTH)
            reader.execute("BEGIN")  # one read transaction, as the wall reads
            mode = live.update(reader, last_end=last_end)
            assert mode == ("unchanged" if not new and not changed else "incremental")
            _check_against_sql(reader, live, districts, last_end)
            reader.execute("ROLLBACK")
        assert live.full_reads == 1
    finally:
        reader.close()
        writer.close()


def _live(path, districts=()) -> tuple[dash.LiveDigest, sqlite3.Connection]:
    reader = connect(path, readonly=True)
    live = dash.LiveDigest(MONTH, MONTH_END, LAST, POINTS, districts, (TODAY, TODAY_END))
    live.update(reader, last_end=LAST_END)
    return live, reader


def test_rewritten_projection_is_read_in_full(base_path, tmp_path):
    """``case_state`` rewritten from the record (``record_verify.rebuild_projection``) appends no event:
    the rows' fids tell, and the digest is read again in full."""
    path = tmp_path / "s.gpkg"
    shutil.copy2(base_path, path)
    live, reader = _live(path)
    writer = Store.open(path)
    with writer.atomic() as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(case_state)") if r[1] != "fid"]
        conn.execute("CREATE TEMP TABLE keep AS SELECT * FROM case_state")
        conn.execute("DELETE FROM case_state WHERE status = 'closed'")  # a damaged projection, say
        conn.execute(f"INSERT INTO case_state ({', '.join(cols)}) SELECT {', '.join(cols)} FROM keep "
                     "WHERE status = 'closed'")
        conn.execute("UPDATE case_state SET status = 'void' WHERE fid = (SELECT max(fid) FROM case_state)")
    assert live.update(reader, last_end=LAST_END) == "full (case_state changed without events)"
    _check_against_sql(reader, live, ())
    writer.close()
    reader.close()


def test_another_store_or_an_older_copy_is_read_in_full(base_path, tmp_path):
    """A restored backup (fewer events) or another store at the same path: never folded onto the old state."""
    older = tmp_path / "older.gpkg"
    shutil.copy2(base_path, older)
    path = tmp_path / "s.gpkg"
    shutil.copy2(base_path, path)
    _append(path, 1, 30, 3, "N")
    live, reader = _live(path)
    reader.close()
    back = connect(older, readonly=True)
    assert live.update(back, last_end=LAST_END) == "full (event log went back)"
    _check_against_sql(back, live, ())
    back.close()
    # another store with MORE events than the one read: the event at the last seen seq is another event
    other = tmp_path / "other.gpkg"
    build_sample_store(other, NOW, n_cases=0)
    store = Store.open(other)
    with store.atomic() as conn:  # (the sample stores' stand-in hashes are the seq: make these differ)
        while _append_event(conn, "X1", "comment", NOW_S) <= live.seq:
            pass
        append_cases(conn, random.Random(4), 50, NOW, spread_days=10, prefix="O")
    store.close()
    conn = connect(other, readonly=True)
    assert live.update(conn, last_end=LAST_END) == "full (another store)"
    _check_against_sql(conn, live, ())
    conn.close()


def test_a_flood_of_events_is_read_in_full(base_path, tmp_path, monkeypatch):
    path = tmp_path / "s.gpkg"
    shutil.copy2(base_path, path)
    live, reader = _live(path)
    monkeypatch.setattr(dash, "FOLD_MIN_EVENTS", 10)
    _append(path, 2, 400, 5, "F")
    assert live.update(reader, last_end=LAST_END) == "full (many changes)"
    _check_against_sql(reader, live, ())
    reader.close()


def test_empty_store_then_first_cases(tmp_path):
    path = tmp_path / "empty.gpkg"
    build_sample_store(path, NOW, n_cases=0)
    store = Store.open(path)
    with store.atomic() as conn:  # the sample store always adds a few of today's cases
        conn.execute("DELETE FROM case_state")
    store.close()
    live, reader = _live(path)
    assert live.digest(TODAY, NOW_S).cases == 0
    assert live.digest(TODAY, NOW_S).by_hour == [0] * 24
    _append(path, 3, 12, 1, "E")
    assert live.update(reader, last_end=LAST_END) == "incremental"
    _check_against_sql(reader, live, ())
    reader.close()
