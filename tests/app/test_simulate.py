"""The simulated year: deterministic, run through the engine without rejections, with realistic mixes."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from app.simulate import SimulationError, event_class_weights, simulate_year
from app.timefmt import parse
from db.store import Store

END = "2026-11-23"


@pytest.fixture(scope="module")
def base_path(tmp_path_factory):
    """A test-scale city without cases (the simulation is what these tests run)."""
    from app.demo import build_demo

    path = tmp_path_factory.mktemp("simbase") / "base.gpkg"
    build_demo(path, city="xuzhou", seed=3, scale="test", simulate=False)
    s = Store.open(path)
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return path


def _copy(base_path, tmp_path, name: str) -> Store:
    dst = tmp_path / name
    shutil.copy2(base_path, dst)
    return Store.open(dst)


def _fingerprint(store: Store) -> tuple:
    c = store.conn
    tail = c.execute("SELECT seq, hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()
    states = c.execute("SELECT count(*), group_concat(status || department, ',') FROM "
                       "(SELECT status, COALESCE(department, '') AS department FROM case_state ORDER BY case_no)").fetchone()
    return tail, states


def test_deterministic_and_seed_sensitive(base_path, tmp_path) -> None:
    runs = []
    for name, seed in (("a.gpkg", 11), ("b.gpkg", 11), ("c.gpkg", 12)):
        store = _copy(base_path, tmp_path, name)
        summary = simulate_year(store, seed=seed, scale="test", end=END, cases=250, months=1)
        assert summary.rejected == 0, summary.rejections
        runs.append((_fingerprint(store), summary.events))
        store.close()
    assert runs[0] == runs[1]
    assert runs[0][0][0] != runs[2][0][0]


def test_progress_and_cancel(base_path, tmp_path) -> None:
    from app.progress import Cancelled, Progress

    store = _copy(base_path, tmp_path, "cancel.gpkg")
    seen: list[float] = []
    prog = Progress(lambda f, m: seen.append(f))
    summary = simulate_year(store, seed=1, scale="test", end=END, cases=100, months=1, progress=prog)
    assert summary.events > 0
    assert seen[-1] == 1.0
    cancelling = Progress()
    cancelling.cancel()
    with pytest.raises(Cancelled):
        simulate_year(store, seed=2, scale="test", end=END, cases=3000, months=1, progress=cancelling)
    assert store.conn.execute("SELECT count(*) FROM case_event").fetchone()[0] == summary.events
    store.close()


def test_stream_is_time_ordered_exchange_format(base_path, tmp_path) -> None:
    from app.exchange import parse_event
    from app.simulate import exchange_line, simulated_events

    store = _copy(base_path, tmp_path, "stream.gpkg")
    events = list(simulated_events(store, seed=4, scale="test", end=END, cases=150, months=1))
    ats = [e.at for e in events]
    assert ats == sorted(ats)
    assert ats[-1] <= "2026-11-23T23:59:59+08:00"
    for e in events:
        back = parse_event(exchange_line(e))
        assert (back.case_no, back.at, back.action, back.actor, dict(back.data)) == (
            e.case_no, e.at, e.action, e.actor, dict(e.data))
    # each case starts with its report (or self_handle) and nothing of it precedes that
    first: dict[str, str] = {}
    for e in events:
        first.setdefault(str(e.case_no), e.action)
    assert set(first.values()) <= {"report", "self_handle"}
    store.close()


def test_bad_scale() -> None:
    with pytest.raises(SimulationError, match="scale='huge'"):
        simulate_year(None, scale="huge")  # type: ignore[arg-type]


# -- the session demo store (test scale, built by tests/conftest.py through app.demo) -------------------------
@pytest.fixture(scope="module")
def demo(demo_store_path):
    store = Store.open(demo_store_path, readonly=True)
    yield store.conn
    store.close()


def test_counts_and_period(demo) -> None:
    n = demo.execute("SELECT count(*) FROM case_state").fetchone()[0]
    assert 1800 <= n <= 2300
    first, last = demo.execute("SELECT min(reported_at), max(reported_at) FROM case_state").fetchone()
    assert (parse(last) - parse(first)).days >= 80  # about three months
    assert (parse(last) - parse(first)).days <= 93


def test_source_mix(demo) -> None:
    by = dict(demo.execute("SELECT source, count(*) FROM case_state GROUP BY source").fetchall())
    total = sum(by.values())
    assert set(by) == {"inspector", "hotline_12319", "hotline_12345", "public", "video", "leader", "media"}
    assert 0.6 < by["inspector"] / total < 0.76  # 监督员 most
    assert by["hotline_12345"] > by["public"] > by["leader"]


def test_branches_all_present(demo) -> None:
    actions = Counter(dict(demo.execute("SELECT action, count(*) FROM case_event GROUP BY action").fetchall()))
    for action in ("send_verify", "verify", "accept", "register", "reject", "dispatch", "request_return",
                   "decide_return", "request_extension", "decide_extension", "request_suspend", "decide_suspend",
                   "resume", "handle", "send_check", "check", "close", "request_void", "decide_void", "escalate",
                   "mark_duplicate", "self_handle", "comment"):
        assert actions[action] > 0, action
    row = demo.execute(
        "SELECT sum(rework_count > 0), sum(return_count > 0), sum(dispatch_count > 1), sum(escalation_count > 1), "
        "sum(self_handled), sum(duplicate_of IS NOT NULL), sum(close_type = '超时结案'), sum(close_type = '正常结案') "
        "FROM case_state"
    ).fetchone()
    assert all(v > 0 for v in row), row
    closed = demo.execute("SELECT count(*) FROM case_state WHERE status = 'closed'").fetchone()[0]
    assert row[6] < 0.4 * closed  # most cases are closed on time


def test_callbacks_recorded_as_comments(demo) -> None:
    rows = demo.execute(
        "SELECT json_extract(e.payload, '$.satisfied'), s.source FROM case_event e JOIN case_state s USING (case_no) "
        "WHERE e.action = 'comment' AND json_extract(e.payload, '$.callback') = 1"
    ).fetchall()
    assert rows
    satisfied = sum(1 for r in rows if r[0] == 1)
    assert 0.6 < satisfied / len(rows) < 0.99
    assert {r[1] for r in rows} <= {"hotline_12345", "hotline_12319", "public", "media"}


def test_department_quality_differs(demo) -> None:
    rows = demo.execute(
        "SELECT department, count(*), avg(close_type = '超时结案') FROM case_state WHERE status = 'closed' "
        "AND department IS NOT NULL GROUP BY department HAVING count(*) >= 20"
    ).fetchall()
    late = [r[2] for r in rows]
    assert len(late) >= 3
    assert max(late) - min(late) > 0.15  # some departments are much slower than others


def test_class_mix_by_season_and_place() -> None:
    july, january = event_class_weights("次干道", 7), event_class_weights("次干道", 1)
    assert july["0406"] > 5 * january["0406"]  # 道路积水 in the rainy season
    assert january["0407"] > 0
    assert july["0407"] == 0
    back, main = event_class_weights("背街小巷", 4), event_class_weights("主要路段", 4)
    assert back["0507"] > 2 * main["0507"]  # 乱堆物堆料 in back streets
    assert main["0505"] > 2 * back["0505"]  # 机动车乱停放 on main roads


def test_repeat_cases_arise(demo_store) -> None:
    from app.duplicates import repeat_case_numbers

    first, last = demo_store.conn.execute("SELECT min(reported_at), max(reported_at) FROM case_state").fetchone()
    assert len(repeat_case_numbers(demo_store, first, last)) > 0
