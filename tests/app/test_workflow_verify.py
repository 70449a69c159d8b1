"""``verify``: an intact record passes; any edit made behind the triggers' back is caught with its seq."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from app.commands import verify as verify_cmd
from app.record_verify import verify_record
from db import gpkg
from tests.app.workflow_helpers import drive_to, make_engine, make_store


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "s.gpkg"
    store = make_store(path)
    engine, clock = make_engine(store)
    for state in ("closed", "suspended", "dispatched"):
        drive_to(engine, clock, state)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


def _raw(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER case_event_no_update")
    conn.execute("DROP TRIGGER case_event_no_delete")
    return conn


def _verify(path, capsys):
    code = verify_cmd.run(SimpleNamespace(store=str(path), quiet=True))
    return code, capsys.readouterr().out


def test_intact_record_passes(store_path, capsys):
    code, out = _verify(store_path, capsys)
    assert code == 0
    assert "案件记录完好" in out


def test_edited_payload_is_caught_with_its_seq(store_path, capsys):
    conn = _raw(store_path)
    seq = conn.execute("SELECT min(seq) FROM case_event WHERE action='dispatch'").fetchone()[0]
    conn.execute("UPDATE case_event SET payload = replace(payload, 'D01', 'D02') WHERE seq = ?", (seq,))
    conn.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert f"第一个错误序号 {seq} " in out


def test_edited_actor_is_caught(store_path, capsys):
    conn = _raw(store_path)
    conn.execute("UPDATE case_event SET actor_id = 'someone-else' WHERE seq = 9")
    conn.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert "first bad seq: 9)" in out


def test_deleted_event_is_caught(store_path, capsys):
    conn = _raw(store_path)
    conn.execute("DELETE FROM case_event WHERE seq = 7")
    conn.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert "first bad seq: 7" in out


def test_deleted_last_event_is_caught_by_the_projection(store_path, capsys):
    conn = _raw(store_path)
    last = conn.execute("SELECT max(seq) FROM case_event").fetchone()[0]
    conn.execute("DELETE FROM case_event WHERE seq = ?", (last,))
    conn.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert "case_state differs" in out


def test_edited_projection_is_caught(store_path):
    conn = sqlite3.connect(store_path, isolation_level=None)
    gpkg.register_functions(conn)
    no, seq = conn.execute("SELECT case_no, last_seq FROM case_state WHERE status='closed'").fetchone()
    conn.execute("UPDATE case_state SET close_type='超时结案' WHERE case_no=?", (no,))
    conn.close()
    from db.store import Store

    with Store.open(store_path, readonly=True) as s:
        report = verify_record(s)
    assert not report.ok
    assert report.first_bad_seq == seq
    assert "close_type" in report.problems[0]


def test_rebuild_repairs_a_damaged_projection_but_not_a_damaged_chain(store_path, capsys):
    conn = sqlite3.connect(store_path, isolation_level=None)
    gpkg.register_functions(conn)
    conn.execute("UPDATE case_state SET status='closed', department='D99'")
    conn.execute("DELETE FROM case_state WHERE fid = (SELECT min(fid) FROM case_state)")
    conn.close()
    assert _verify(store_path, capsys)[0] == 1
    code = verify_cmd.run(SimpleNamespace(store=str(store_path), quiet=True, rebuild=True))
    assert code == 0
    assert "已由事件重建 3 个案件" in capsys.readouterr().out
    assert _verify(store_path, capsys)[0] == 0
    raw = _raw(store_path)
    raw.execute("UPDATE case_event SET at = '2020-01-01T00:00:00+08:00' WHERE seq = 2")
    raw.close()
    code = verify_cmd.run(SimpleNamespace(store=str(store_path), quiet=True, rebuild=True))
    assert code == 1
    assert "不能重建" in capsys.readouterr().out
