"""The case record's storage: hash chain, append-only triggers, projection rows, keys, queues."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db import cases as db_cases
from db.cases import GENESIS_HASH, CaseState, EventRow


def _append(conn, case_no, action, payload="{}", at="2026-03-02T09:00:00+08:00"):
    seq, prev = db_cases.chain_tail(conn)
    seq += 1
    h = db_cases.event_hash(seq, case_no, at, action, "u1", "intake", payload, prev)
    db_cases.insert_events(conn, [EventRow(seq, case_no, at, action, "u1", "intake", payload, prev, h)])
    return seq, h


def test_chain_tail_and_hash_depend_on_every_field(mem_store):
    assert db_cases.chain_tail(mem_store.conn) == (0, GENESIS_HASH)
    with mem_store.atomic() as c:
        _append(c, "2026J000001", "report", '{"a":1}')
        seq, h = _append(c, "2026J000001", "comment", '{"text":"中文"}')
    assert db_cases.chain_tail(mem_store.conn) == (seq, h)
    base = ("2026J000001", "2026-03-02T09:00:00+08:00", "comment", "u1", "intake", '{"text":"中文"}')
    ref = db_cases.event_hash(2, *base, "x" * 64)
    for i in range(len(base)):
        changed = list(base)
        changed[i] = changed[i] + " "
        assert db_cases.event_hash(2, *changed, "x" * 64) != ref
    assert db_cases.event_hash(3, *base, "x" * 64) != ref
    assert db_cases.event_hash(2, *base, "y" * 64) != ref


@settings(max_examples=50)
@given(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.booleans(),
                                                       st.none()), max_size=5))
def test_canonical_json_is_order_independent(d):
    reordered = dict(reversed(list(d.items())))
    assert db_cases.canonical_json(d) == db_cases.canonical_json(reordered)


def test_case_event_refuses_update_and_delete(mem_store):
    with mem_store.atomic() as c:
        _append(c, "2026J000001", "report")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), mem_store.atomic() as c:
        c.execute("UPDATE case_event SET action='close'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"), mem_store.atomic() as c:
        c.execute("DELETE FROM case_event")
    assert mem_store.count("case_event") == 1


def test_state_round_trip_and_update(mem_store):
    s = CaseState("2026J000001", "reported", source="inspector", class_code="0101", lon=117.5, lat=34.25,
                  suspended_hours=1.5, last_seq=1, updated_at="2026-03-02T09:00:00+08:00")
    with mem_store.atomic() as c:
        db_cases.insert_states(c, [s])
    got = db_cases.get_case(mem_store.conn, "2026J000001")
    assert got == s
    assert mem_store.conn.execute("SELECT count(*) FROM rtree_case_state_geom").fetchone()[0] == 1
    s2 = s.copy()
    s2.status, s2.department, s2.last_seq = "dispatched", "D01", 5
    with mem_store.atomic() as c:
        db_cases.update_states(c, [s2])
    assert db_cases.get_case(mem_store.conn, "2026J000001") == s2
    assert db_cases.get_case(mem_store.conn, "nope") is None


def test_max_serial_and_keys(mem_store):
    states = [CaseState(no, "reported", last_seq=1, lon=1.0, lat=1.0)
              for no in ("2026J000007", "2026J000012", "2026H000099", "2025J000500", "X-1")]
    with mem_store.atomic() as c:
        db_cases.insert_states(c, states)
        db_cases.insert_keys(c, [("k1", 1), ("k2", 2), ("k1", 3)])
    assert db_cases.max_serial(mem_store.conn, "2026J", 6) == 12
    assert db_cases.max_serial(mem_store.conn, "2026H", 6) == 99
    assert db_cases.max_serial(mem_store.conn, "2027J", 6) == 0
    assert db_cases.known_keys(mem_store.conn, ["k1", "k3"]) == {"k1"}
    assert db_cases.key_count(mem_store.conn) == 2


def test_queue_counts_and_scope(mem_store):
    rows = [
        CaseState("A1", "dispatched", department="D01", district_code="320311", stage_deadline="2026-03-03", lon=1.0, lat=1.0),
        CaseState("A2", "dispatched", department="D02", district_code="320311", stage_deadline="2026-03-01", lon=1.0, lat=1.0),
        CaseState("A3", "dispatched", department="D01", pending_request="extension", lon=1.0, lat=1.0),
        CaseState("A4", "registered", district_code="320312", lon=1.0, lat=1.0),
    ]
    with mem_store.atomic() as c:
        db_cases.insert_states(c, rows)
    conn = mem_store.conn
    assert db_cases.queue_count(conn, ["dispatched"]) == 3
    assert db_cases.queue_count(conn, ["dispatched"], pending="extension") == 1
    assert db_cases.queue_count(conn, ["dispatched"], scope={"department": ["D01"]}) == 2
    assert db_cases.queue_cases(conn, ["dispatched"]) == ["A2", "A1", "A3"]
    assert db_cases.queue_count(conn, ["registered", "dispatched"], scope={"district_code": ["320312"]}) == 1
    with pytest.raises(ValueError, match="scope"):
        db_cases.queue_count(conn, ["dispatched"], scope={"status; drop": ["x"]})


@settings(max_examples=100)
@given(st.lists(st.text(), min_size=1, max_size=6))
def test_canonical_strings_equals_canonical_json(values):
    assert db_cases.canonical_strings(values) == db_cases.canonical_json(values)


def test_bulk_state_insert_writes_rtree_rows_and_keeps_the_trigger(mem_store):
    states = [CaseState(f"2026J{i:06d}", "reported", lon=117.0 + i * 1e-4, lat=34.0, last_seq=i) for i in range(1, 101)]
    with mem_store.atomic() as c:
        db_cases.insert_states(c, [CaseState("X-0", "reported", lon=116.0, lat=33.0, last_seq=0)])
        db_cases.insert_states_bulk(c, states)
    conn = mem_store.conn
    assert conn.execute("SELECT count(*) FROM rtree_case_state_geom").fetchone()[0] == 101
    fid, minx = conn.execute(
        "SELECT s.fid, r.minx FROM case_state s JOIN rtree_case_state_geom r ON r.id = s.fid WHERE case_no='2026J000050'"
    ).fetchone()
    assert minx == pytest.approx(117.005, abs=1e-4)
    assert db_cases.get_case(conn, "2026J000050") == states[49]
    with mem_store.atomic() as c:  # the per-row trigger is back for ordinary inserts
        db_cases.insert_states(c, [CaseState("X-1", "reported", lon=118.0, lat=35.0, last_seq=0)])
    assert conn.execute("SELECT count(*) FROM rtree_case_state_geom").fetchone()[0] == 102
    assert fid > 1


def test_update_only_changed_columns(mem_store):
    s = CaseState("A1", "reported", district_code="320311", last_seq=1, lon=1.0, lat=1.0)
    t = CaseState("A2", "reported", last_seq=2, lon=1.0, lat=1.0)
    with mem_store.atomic() as c:
        db_cases.insert_states(c, [s, t])
    cols = db_cases.STATE_COLUMNS
    status, dept, seq = cols.index("status"), cols.index("department"), cols.index("last_seq")
    with mem_store.atomic() as c:
        db_cases.update_state_changes(c, [("A1", (status, dept, seq), ("dispatched", "D01", 5)),
                                          ("A2", (status, dept, seq), ("registered", None, 3)),
                                          ("A1", (seq,), (6,))])
    a1, a2 = db_cases.get_case(mem_store.conn, "A1"), db_cases.get_case(mem_store.conn, "A2")
    assert (a1.status, a1.department, a1.last_seq, a1.district_code) == ("dispatched", "D01", 6, "320311")
    assert (a2.status, a2.department, a2.last_seq) == ("registered", None, 3)


def test_multi_row_statements_split_at_the_parameter_limit(mem_store):
    """insert_rows packs rows into as few statements as the bound-parameter limit allows; with a tiny limit
    the rows span several full statements and a partial one, and every write path still lands every row."""
    import sqlite3

    conn = mem_store.conn
    # 45 variables: 5 events (9 values each), 22 keys, 1 new state (41 values), 15 two-column updates per statement
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 45)
    try:
        states = [CaseState(f"2026J{i:06d}", "reported", lon=117.0 + i * 1e-4, lat=34.0, last_seq=i)
                  for i in range(1, 8)]
        cols = db_cases.STATE_COLUMNS
        status, seq = cols.index("status"), cols.index("last_seq")
        with mem_store.atomic() as c:
            db_cases.insert_keys(c, [(f"k{i}", i) for i in range(1, 24)] + [("k1", 99)])
            db_cases.insert_state_rows(c, [db_cases.state_row(s) for s in states], direct=True)
            db_cases.update_state_changes(c, [(s.case_no, (status, seq), ("accepted", s.last_seq + 10)) for s in states]
                                          * 3)
        assert conn.execute("SELECT count(*), max(seq) FROM case_event_key").fetchone() == (23, 23)
        rows = conn.execute("SELECT case_no, status, last_seq FROM case_state ORDER BY fid").fetchall()
        assert rows == [(s.case_no, "accepted", s.last_seq + 10) for s in states]
        assert conn.execute("SELECT count(*) FROM rtree_case_state_geom").fetchone()[0] == 7
        head = db_cases.canonical_strings(("2026J000001", "2026-03-02T10:00:00+08:00", "report", "u1", "intake"))
        prev, events = db_cases.GENESIS_HASH, []
        for n in range(1, 8):
            h = db_cases.event_hash_from_head(n, head[1:-1], "{}", prev)
            events.append((n, "2026J000001", "2026-03-02T10:00:00+08:00", "report", "u1", "intake", "{}", prev, h))
            prev = h
        with mem_store.atomic() as c:
            db_cases.insert_events(c, events)
        assert db_cases.chain_tail(conn) == (7, prev)
        assert [db_cases._event_values(e) for e in db_cases.iter_events(conn)] == events
    finally:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
