"""Replay of a fixed generated event file must reproduce the record byte for byte.

The golden values were computed with the engine before the replay speed-ups (2026-11-23); any
change in how rows, payloads, hashes or ``case_state`` columns are produced changes them.
"""

from __future__ import annotations

import hashlib

import pytest

from app.exchange import replay_lines
from app.workflow import WorkflowEngine
from bench.bench_workflow import build_store, generate_lines

GOLDEN_TAIL = (4000, "81e85b42607555b8c398f96cb01b50121fa4982bd7daeafa1f43600cd65a385a")
GOLDEN_STATE = "365b2b67e8ba83a10782ab8c281eb2d2948b2d028fad38348f115e189a331517"
GOLDEN_KEYS = "2ae35e6fbe8dabd1da0e2fef0073b3f17fd1b9b58a7419cde48520825c9cd24b"
GOLDEN_RTREE = "5bc0d95a94c3b6af5f87eab6f398da9de57cdb5667ca00a8ab3e65f946425375"


def _digest(conn, sql: str) -> str:
    h = hashlib.sha256()
    for row in conn.execute(sql):
        h.update(repr(tuple(bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in row)).encode())
    return h.hexdigest()


def record_digests(store) -> tuple[tuple[int, str], str, str, str]:
    conn = store.conn
    tail = conn.execute("SELECT seq, hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()
    return (
        (int(tail[0]), str(tail[1])),
        _digest(conn, "SELECT * FROM case_state ORDER BY fid"),
        _digest(conn, "SELECT key, seq FROM case_event_key ORDER BY seq, key"),
        _digest(conn, "SELECT * FROM rtree_case_state_geom ORDER BY id"),
    )


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    store = build_store(tmp_path_factory.mktemp("gold") / "gen.gpkg", 8)
    out = generate_lines(store, 4000, 8, seed=11)
    store.close()
    return out


@pytest.mark.parametrize("chunk_size", [20000, 700])
def test_replay_reproduces_golden_record(lines, tmp_path, chunk_size):
    store = build_store(tmp_path / "r.gpkg", 8)
    rep = replay_lines(WorkflowEngine(store), lines, chunk_size=chunk_size)
    assert rep.rejected == []
    assert rep.applied == len(lines) == 4000
    tail, state, keys, rtree = record_digests(store)
    assert tail == GOLDEN_TAIL
    assert state == GOLDEN_STATE
    assert keys == GOLDEN_KEYS
    assert rtree == GOLDEN_RTREE
    store.close()


# Regenerated when 12345 hotline orders got their own handling limit (7 工作日) and extension ceiling
# (15 工作日), and again (2026-12-05) when urgent parts got the urgent handling limit (4 工作时) instead of
# the part default (5 工作日): the simulated cases now carry those deadlines, so the record differs by design.
GOLDEN_SIM = (
    (12350, "d09f3a05dbae238dc0c5dc827ecbb18fb2955ae1eca69ed40fb794f827400bcb"),
    "c08e6a3692ef8a66e870e1704557582e0604e4992582bb68eca4413e4b752b7a",
    "90e8dab6d2183f9be14fcbb28c724970716c4f6279a23a8a3afd58ab8b6a2b85",
    "62640dd81296d1680a83a77030d5e80bfd88c846b871e5fc51c56d0555d73b1e",
)


def test_simulated_year_reproduces_golden_record(tmp_path):
    from app.demo import build_demo
    from app.simulate import simulate_year
    from db.store import Store

    path = tmp_path / "b.gpkg"
    build_demo(path, city="xuzhou", seed=3, scale="test", simulate=False)
    store = Store.open(path)
    summary = simulate_year(store, seed=5, scale="test", cases=1500, months=3, end="2026-11-23")
    assert summary.rejected == 0
    assert record_digests(store) == GOLDEN_SIM
    store.close()
