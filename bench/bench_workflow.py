"""Workflow benchmarks: ``replay`` (events/s through the engine's batch path) and ``case_action``
(ms per single console action on a store holding many cases).

Both run on a synthetic store built here (a square city of unit grids, the legacy catalogue, a few
departments) so they measure the engine and the record, not the demo generator. Events are generated
as exchange-format lines with realistic lifecycles (verify, returns, extensions, 挂账, rework, 督办).

Targets (ARCHITECTURE §11): replay ≥ 17,000 events/s (1M events < 60 s); case_action p95 < 20 ms at 1M cases.
Run: ``python bench/run.py replay case_action --scale city`` or ``python bench/bench_workflow.py demo``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.timefmt import CST, fmt  # noqa: E402

# scale -> (replay events, cases in the store for case_action, grid side)
SCALES = {"test": (20_000, 20_000, 20), "demo": (200_000, 100_000, 60), "300k": (300_000, 100_000, 60),
          "city": (1_000_000, 1_000_000, 170)}
IDLE_REF_US = 9.0  # python_ref_us on an idle core of the reference machine
X0, Y0, STEP = 117.0, 34.0, 0.001
DEPTS = [f"D{i:02d}" for i in range(1, 21)]


def _result(bench: str, metric: str, value: float, unit: str, scale: str, **extra: Any) -> dict[str, Any]:
    return {"bench": bench, "metric": metric, "value": value, "unit": unit, "scale": scale, **extra}


def python_ref_us() -> float:
    """Machine calibration: µs for ``sum(range(1000))`` (about 9 on an idle modern core), so numbers
    measured on a shared, loaded machine can be read against the targets."""
    import timeit

    return round(min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6, 2)


def python_ref_cpu_us() -> float:
    """The same calibration in CPU time of this thread (excludes waiting for other processes)."""
    c = time.thread_time()
    for _ in range(5000):
        sum(range(1000))
    return round((time.thread_time() - c) / 5000 * 1e6, 2)


def build_store(path: Path, side: int) -> Any:
    """A store with ``side``² unit grids in one district, the legacy catalogue and 20 departments."""
    import shapely

    from app.base_data import load_catalog_into
    from db import gpkg
    from db.store import Store

    store = Store.open(path, create=True)
    load_catalog_into(store, "cjt214-2007")
    rows = []
    for i in range(side * side):
        cx, cy = i % side, i // side
        community = f"320311{1 + cy // 10:03d}{1 + cx // 10:03d}"
        serial = (cy % 10) * 10 + cx % 10 + 1
        x, y = X0 + cx * STEP, Y0 + cy * STEP
        g = shapely.MultiPolygon([shapely.box(x, y, x + STEP, y + STEP)])
        rows.append((gpkg.encode(shapely.to_wkb(g), g.bounds), f"{community}{serial:03d}", community, community[:9],
                     "320311"))
    with store.atomic() as c:
        c.executemany("INSERT INTO unit_grid (geom, code, community_code, street_code, district_code) VALUES (?,?,?,?,?)",
                      rows)
        c.executemany("INSERT INTO department (code, name) VALUES (?, ?)", [(d, f"部门{d}") for d in DEPTS])
    return store


def _classes(store: Any) -> list[tuple[str, str]]:
    return [(k, c) for k, c in store.conn.execute("SELECT kind, class_code FROM catalog_class WHERE catalog='cjt214-2007'")]


def generate_lines(store: Any, n_events: int, side: int, seed: int = 1) -> list[str]:
    """About ``n_events`` exchange lines: case lifecycles interleaved in time order."""
    rng = random.Random(seed)
    classes = _classes(store)
    start = datetime(2026, 1, 5, 8, 0, tzinfo=CST)
    events: list[tuple[str, str, str, str, str, dict[str, Any]]] = []
    serial = 0
    t_case = start
    while len(events) < n_events:
        serial += 1
        no = f"2026J{serial:06d}"
        t_case += timedelta(seconds=rng.randint(5, 60))
        t = t_case
        kind, cls = rng.choice(classes)
        lon = X0 + rng.random() * side * STEP * 0.999
        lat = Y0 + rng.random() * side * STEP * 0.999
        seq: list[tuple[str, str, dict[str, Any]]] = [
            ("report", "inspector", {"source": "inspector", "kind": kind, "class_code": cls, "lon": round(lon, 6),
                                     "lat": round(lat, 6), "description": "巡查发现"})]
        r = rng.random()
        if r < 0.03:
            seq.append(("reject", "shift_lead", {"reason": "不属实"}))
        else:
            if rng.random() < 0.3:
                seq += [("send_verify", "intake", {}), ("verify", "inspector", {"passed": True})]
            else:
                seq.append(("accept", "intake", {}))
            seq += [("register", "shift_lead", {}), ("dispatch", "dispatcher", {"department": rng.choice(DEPTS)})]
            if rng.random() < 0.05:
                seq += [("request_return", "department", {"reason": "非本部门"}),
                        ("decide_return", "dispatcher", {"approved": True}),
                        ("dispatch", "dispatcher", {"department": rng.choice(DEPTS)})]
            if rng.random() < 0.05:
                seq += [("request_extension", "department", {}),
                        ("decide_extension", "dispatcher", {"approved": True, "amount": 2, "unit": "工作日"})]
            if rng.random() < 0.03:
                seq += [("request_suspend", "department", {}), ("decide_suspend", "dispatcher", {"approved": True}),
                        ("resume", "dispatcher", {})]
            if rng.random() < 0.05:
                seq.append(("escalate", "leader", {"level": 1}))
            seq.append(("handle", "department", {"feedback": "已处置"}))
            if rng.random() < 0.08:
                seq += [("send_check", "intake", {}), ("check", "inspector", {"passed": False}),
                        ("handle", "department", {"feedback": "返工完成"})]
            seq += [("send_check", "intake", {}), ("check", "inspector", {"passed": True}), ("close", "shift_lead", {})]
        for action, role, data in seq:
            t += timedelta(minutes=rng.randint(1, 240))
            events.append((fmt(t), no, action, f"{role}-{rng.randint(1, 30)}", role, data))
    events.sort(key=lambda e: e[0])
    return [json.dumps({"case_no": no, "at": at, "action": a, "actor": {"id": aid, "role": role}, "data": d},
                       ensure_ascii=False, separators=(",", ":"))
            for at, no, a, aid, role, d in events[:n_events]]


def replay(scale: str) -> list[dict[str, Any]]:
    """Events per second of ``replay`` into an empty store (median of runs; 1 run at city scale)."""
    from app.exchange import replay_lines
    from app.workflow import WorkflowEngine

    n_events, _, side = SCALES[scale]
    runs = 1 if scale == "city" else 3
    rates = []
    cpu_rates = []
    normalised = []  # CPU rate scaled to an idle core: rate * (ref CPU µs around the run) / IDLE_REF_US
    with tempfile.TemporaryDirectory() as tmp:
        base = build_store(Path(tmp) / "gen.gpkg", side)
        lines = generate_lines(base, n_events, side)
        base.close()
        for r in range(runs):
            store = build_store(Path(tmp) / f"r{r}.gpkg", side)
            engine = WorkflowEngine(store)
            ref_before = python_ref_cpu_us()
            # process CPU time: replay writes chunks on a background thread (app.workflow.engine._ChunkWriter)
            t, c = time.perf_counter(), time.process_time()
            rep = replay_lines(engine, lines)
            dt = time.perf_counter() - t
            cpu_rates.append(len(lines) / (time.process_time() - c))
            ref = (ref_before + python_ref_cpu_us()) / 2
            normalised.append(cpu_rates[-1] * ref / IDLE_REF_US)
            if rep.rejected:
                raise RuntimeError(f"benchmark events rejected: {rep.rejected[:3]}")
            rates.append(len(lines) / dt)
            store.close()
    return [
        _result("replay", "events_per_s", round(statistics.median(rates)), "events/s", scale, runs=runs,
                events=n_events, target=17000, python_ref_us=python_ref_us()),
        _result("replay", "seconds_per_1M", round(1_000_000 / statistics.median(rates), 1), "s", scale, runs=runs),
        _result("replay", "events_per_cpu_s", round(statistics.median(cpu_rates)), "events/s", scale, runs=runs,
                python_ref_cpu_us=python_ref_cpu_us(),
                note="per CPU-second of the process (checks + background writer); compare python_ref_cpu_us "
                     "with ~9 on an idle core"),
        _result("replay", "events_per_s_idle_core", round(statistics.median(normalised)), "events/s", scale,
                runs=runs, target=17000,
                note="events_per_cpu_s x (python_ref_cpu_us measured around each run) / 9: the idle-core estimate "
                     "of one core doing all the work (with two cores the writer overlaps the checks)"),
    ]


def _fill_cases(store: Any, n_cases: int, side: int, seed: int = 2) -> list[str]:
    """``n_cases`` reported cases written straight into the record (one ``report`` event each, a valid
    hash chain, keys and projection rows as the engine writes them), fast enough for 1M cases."""
    import hashlib

    from db import cases as db_cases
    from db.cases import CaseState

    rng = random.Random(seed)
    classes = [c for c in _classes(store) if c[0] == "event"]
    start = datetime(2024, 6, 1, 8, 0, tzinfo=CST)
    created: list[str] = []
    seq, prev = db_cases.chain_tail(store.conn)
    chunk = 50_000
    for lo in range(0, n_cases, chunk):
        states, events, keys = [], [], []
        for i in range(lo, min(n_cases, lo + chunk)):
            year, serial = (2024, i + 1) if i < 900_000 else (2025, i - 899_999)
            no = f"{year}H{serial:06d}"
            kind, cls = rng.choice(classes)
            cx, cy = rng.randrange(side), rng.randrange(side)
            lon, lat = X0 + (cx + 0.5) * STEP, Y0 + (cy + 0.5) * STEP
            community = f"320311{1 + cy // 10:03d}{1 + cx // 10:03d}"
            grid = f"{community}{(cy % 10) * 10 + cx % 10 + 1:03d}"
            at = fmt(start + timedelta(seconds=25 * i))
            deadline = fmt(start + timedelta(seconds=25 * i + 1800))
            data = {"source": "hotline_12345", "kind": kind, "class_code": cls, "lon": lon, "lat": lat}
            derived = {"_to": "reported", "_grid_code": grid, "_community_code": community,
                       "_street_code": community[:9], "_district_code": "320311", "_stage": "accept",
                       "_stage_deadline": deadline}
            data_text = db_cases.canonical_json(data)
            head = db_cases.canonical_strings((no, at, "report", "bench", "intake"))
            payload = db_cases.join_objects(db_cases.canonical_json(derived), data_text)
            seq += 1
            h = db_cases.event_hash_from_head(seq, head[1:-1], payload, prev)
            events.append((seq, no, at, "report", "bench", "intake", payload, prev, h))
            keys.append((hashlib.sha256((head + data_text).encode()).hexdigest(), seq))
            prev = h
            states.append(CaseState(no, "reported", source="hotline_12345", kind=kind, class_code=cls, grid_code=grid,
                                    community_code=community, street_code=community[:9], district_code="320311",
                                    reporter_id="bench", reported_at=at, stage="accept", stage_started_at=at,
                                    stage_deadline=deadline, last_seq=seq, updated_at=at, lon=lon, lat=lat))
            created.append(no)
        with store.atomic() as conn:
            db_cases.insert_events(conn, events)
            db_cases.insert_keys(conn, keys)
            db_cases.insert_states_bulk(conn, states)
    return created


def case_action(scale: str) -> list[dict[str, Any]]:
    """Milliseconds per single action (``WorkflowEngine.act``: read, check, append, project) at N cases."""
    from app.workflow.engine import Actor, WorkflowEngine

    _, n_cases, side = SCALES[scale]
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "a.gpkg", side)
        created = _fill_cases(store, n_cases, side)
        engine = WorkflowEngine(store)
        engine.locator.locate(X0, Y0)  # build the grid index outside the timing (done once per console)
        rng = random.Random(3)
        sample = rng.sample(created, 300)
        t0 = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
        steps = [("accept", Actor("i1", "intake"), {}), ("register", Actor("s1", "shift_lead"), {}),
                 ("dispatch", Actor("d1", "dispatcher"), {"department": "D01"}),
                 ("handle", Actor("p1", "department"), {"feedback": "ok"})]
        times: list[float] = []
        cpu: list[float] = []
        k = 0
        for action, actor, data in steps:
            for no in sample:
                k += 1
                t, c = time.perf_counter(), time.thread_time()
                engine.act(no, action, actor, data, t0 + timedelta(seconds=k))
                times.append(time.perf_counter() - t)
                cpu.append(time.thread_time() - c)
        event_classes = [c for kind, c in _classes(store) if kind == "event"]
        filing: list[float] = []
        for _ in range(100):
            k += 1
            t = time.perf_counter()
            engine.act(None, "report", Actor("i1", "intake"), {
                "source": "public", "kind": "event", "class_code": rng.choice(event_classes),
                "lon": X0 + rng.random() * side * STEP * 0.999, "lat": Y0 + rng.random() * side * STEP * 0.999},
                t0 + timedelta(seconds=k))
            filing.append(time.perf_counter() - t)
        times.sort()
        cpu.sort()
        filing.sort()
        store.close()
    return [
        _result("case_action", "p95", round(times[int(0.95 * len(times))] * 1000, 2), "ms", scale, runs=len(times),
                cases=n_cases, target=20, python_ref_us=python_ref_us()),
        _result("case_action", "median", round(statistics.median(times) * 1000, 2), "ms", scale, runs=len(times),
                cases=n_cases),
        _result("case_action", "p95_cpu", round(cpu[int(0.95 * len(cpu))] * 1000, 2), "ms", scale, runs=len(cpu),
                cases=n_cases, note="CPU time of the acting thread: excludes waits for other processes"),
        _result("case_action", "file_case_p95", round(filing[int(0.95 * len(filing))] * 1000, 2), "ms", scale,
                runs=len(filing), cases=n_cases, target=20),
    ]


BENCHMARKS = {"case_action": case_action, "replay": replay}

if __name__ == "__main__":
    sc = sys.argv[1] if len(sys.argv) > 1 else "test"
    names = sys.argv[2:] or list(BENCHMARKS)
    for name in names:
        for row in BENCHMARKS[name](sc):
            print(json.dumps(row, ensure_ascii=False), flush=True)
