"""Wall display soak benchmark (``wall_soak``) and the small sample store the wall tests use.

``wall_soak`` runs the real wall window offscreen through thousands of page switches and data
refreshes while ANOTHER PROCESS keeps appending cases to the store in transactions, then removes the
store file and puts it back mid-run. It reports the median refresh time, the RSS growth from the
first to the last part of the run and the errors seen (a refresh that fails while the store is
present, or any exception from the wall).

Refreshes run as the wall runs them: on the worker (``WallWindow.refresh_now``), the soak waiting for
each result on the GUI thread. Memory "at start" is taken after a warm-up of 100 switches (20 rounds
of the five pages), when every page has been shown and rendered and every chart drawn at least once:
fonts, glyph caches, page images and the matplotlib figures are allocated on first use, and that is
not growth. From there on the wall should be in a steady state, even while the store keeps growing.

The sample store is deliberately tiny and self-made (three square districts, a few hundred cases with
``case_event`` and ``case_state`` rows) so the wall can be tested without the demo city or the
workflow engine; :func:`append_cases` is also the writer process's work.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.timefmt import CST, fmt  # noqa: E402

DISTRICTS = (("320302", "鼓楼区"), ("320303", "云龙区"), ("320311", "泉山区"))
CLASSES = (
    ("event", "01", "市容环境", "01001", "暴露垃圾"), ("event", "01", "市容环境", "01002", "积存垃圾渣土"),
    ("event", "01", "市容环境", "01003", "道路不洁"), ("event", "02", "宣传广告", "02001", "非法小广告"),
    ("event", "03", "施工管理", "03001", "施工扰民"), ("event", "04", "街面秩序", "04001", "无照经营游商"),
    ("event", "04", "街面秩序", "04002", "店外经营"), ("part", "01", "公用设施", "01001", "上水井盖"),
    ("part", "01", "公用设施", "01002", "污水井盖"), ("part", "02", "道路交通", "02001", "路灯"),
)
DEPARTMENTS = (("D01", "市政处"), ("D02", "环卫处"), ("D03", "城管执法局"), ("D04", "园林局"), ("D05", "供电公司"))
SOURCES = ("inspector",) * 6 + ("hotline_12319", "hotline_12345", "public", "video", "leader", "media")
STATUSES = ("reported", "registered", "dispatched", "dispatched", "handled", "checking", "closed", "closed",
            "closed", "closed", "closed", "void", "suspended")
X0, Y0, CELL = 117.10, 34.20, 0.06  # three 0.06° squares side by side, each 2×2 streets, 4×4 grids


def _square(x0: float, y0: float, size: float) -> tuple[bytes, tuple[float, float, float, float]]:
    from shapely.geometry import MultiPolygon, box

    geom = MultiPolygon([box(x0, y0, x0 + size, y0 + size)])
    return geom.wkb, geom.bounds


def build_sample_store(path: str | Path, now: datetime, n_cases: int = 600, seed: int = 1) -> Path:
    """A small GeoPackage store with districts, streets, grids, catalogue, departments and cases.

    Cases spread over the 13 months before ``now`` (denser in the current month and today), so every
    wall page has something to show and the 12-month trends are filled.
    """
    from db import gpkg
    from db.store import Store

    p = Path(path)
    store = Store.open(p, create=True)
    with store.atomic() as conn:
        for i, (code, name) in enumerate(DISTRICTS):
            x0 = X0 + i * CELL
            wkb, b = _square(x0, Y0, CELL)
            conn.execute("INSERT INTO district (geom, code, name, city) VALUES (?,?,?,?)",
                         (gpkg.encode(wkb, b), code, name, "徐州市"))
            for s in range(4):
                sx, sy = x0 + (s % 2) * CELL / 2, Y0 + (s // 2) * CELL / 2
                scode = f"{code}{s + 1:03d}"
                wkb, b = _square(sx, sy, CELL / 2)
                conn.execute("INSERT INTO street (geom, code, name, district_code) VALUES (?,?,?,?)",
                             (gpkg.encode(wkb, b), scode, f"{name[:2]}{'东西南北'[s]}街道", code))
                for g in range(4):
                    gx, gy = sx + (g % 2) * CELL / 4, sy + (g // 2) * CELL / 4
                    wkb, b = _square(gx, gy, CELL / 4)
                    conn.execute(
                        "INSERT INTO unit_grid (geom, code, community_code, street_code, district_code, area_m2) "
                        "VALUES (?,?,?,?,?,?)",
                        (gpkg.encode(wkb, b), f"{scode}001{g + 1:03d}", f"{scode}001", scode, code, 10000.0),
                    )
        conn.executemany(
            "INSERT INTO catalog_class (catalog, kind, major_code, major_name, class_code, name) VALUES ('sample',?,?,?,?,?)",
            CLASSES,
        )
        conn.executemany("INSERT INTO department (code, name, kind) VALUES (?,?,'专业部门')", DEPARTMENTS)
    rng = random.Random(seed)
    with store.atomic() as conn:
        append_cases(conn, rng, n_cases, now, spread_days=395, prefix="S")
        append_cases(conn, rng, max(n_cases // 10, 5), now, spread_days=0.5, prefix="T")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return p


@dataclass
class Vocabulary:
    """Where cases can happen and what they can be: the store's own grids, classes and departments."""

    grids: list[tuple[str, str, str, str, float, float, float, float]]  # code, community, street, district, box
    district_names: dict[str, str]
    classes: list[tuple[str, str]]  # kind, class_code
    departments: list[str]


def vocabulary(conn: Any) -> Vocabulary:
    """Read grids (with their boxes), district names, event/part classes and departments from the store."""
    from db import gpkg

    grids = []
    for code, comm, street, dist, blob in conn.execute(
        "SELECT code, community_code, street_code, district_code, geom FROM unit_grid WHERE geom IS NOT NULL"
    ):
        env = gpkg.envelope(blob)
        if env is not None:
            grids.append((code, comm, street, dist, env[0], env[2], env[1] - env[0], env[3] - env[2]))
    names = {c: n for c, n in conn.execute("SELECT code, name FROM district")}
    classes = [(k, c) for k, c in conn.execute(
        "SELECT kind, class_code FROM catalog_class GROUP BY kind, class_code ORDER BY kind DESC, class_code LIMIT 40")]
    depts = [c for (c,) in conn.execute("SELECT code FROM department ORDER BY code")]
    return Vocabulary(grids, names, classes or [(k, c) for k, _, _, c, _ in CLASSES],
                      depts or [d for d, _ in DEPARTMENTS])


def append_cases(conn: Any, rng: random.Random, n: int, now: datetime, spread_days: float = 0.02,
                 prefix: str = "W", vocab: Vocabulary | None = None) -> int:
    """Insert ``n`` cases (a report event, step events and the ``case_state`` row) inside the caller's transaction.

    Places, classes and departments come from ``vocab`` (read from the store when not given).
    """
    from db import gpkg

    vocab = vocab or vocabulary(conn)
    seq0 = conn.execute("SELECT coalesce(max(seq), 0) FROM case_event").fetchone()[0]
    last_hash = conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last_hash[0] if last_hash else "0" * 64
    base = conn.execute("SELECT count(*) FROM case_state").fetchone()[0]
    events: list[tuple[Any, ...]] = []
    states: list[tuple[Any, ...]] = []
    seq = seq0
    for k in range(n):
        # spread evenly over the window, at office-hour peaks (today's cases keep their clock time)
        back = timedelta(days=spread_days * rng.random())
        at = now - back
        at = at.replace(hour=rng.choice((8, 9, 9, 10, 10, 11, 14, 15, 15, 16, 17, 20, 22)) if back.days else at.hour,
                        minute=rng.randrange(60), second=0, microsecond=0)
        at = min(at, now)
        # some grids are hot spots: a skewed pick makes the 高发 panels and the heat layer meaningful
        gi = min(int(rng.paretovariate(1.2)) - 1, len(vocab.grids) - 1) if rng.random() < 0.5 \
            else rng.randrange(len(vocab.grids))
        gcode, comm, scode, dcode, gx, gy, gw, gh = vocab.grids[(gi * 7919) % len(vocab.grids)]
        x, y = gx + rng.random() * gw, gy + rng.random() * gh
        if back > timedelta(days=20):
            status = "closed" if rng.random() < 0.9 else rng.choice(STATUSES)
        elif back > timedelta(hours=6):
            status = rng.choice(STATUSES)
        else:
            status = rng.choice(("reported", "registered", "dispatched"))
        kind, class_code = vocab.classes[min(int(rng.expovariate(0.35)), len(vocab.classes) - 1)]
        dept = vocab.departments[rng.randrange(len(vocab.departments))]
        case_no = f"{prefix}{at.strftime('%Y%m%d')}{base + k:07d}"
        t_reg = at + timedelta(minutes=20)
        t_dis = at + timedelta(minutes=45)
        t_han = at + timedelta(hours=rng.choice((3, 10, 20, 30, 40, 80)))
        # most stages have two days; some recent ones are short (urgent classes), so all lights occur
        deadline = at + timedelta(hours=48 if back > timedelta(hours=12) else rng.choice((1, 3, 5, 48)))
        steps = ["report"]
        if status not in ("reported", "void"):
            steps.append("register")
        if status in ("dispatched", "handled", "checking", "closed", "suspended"):
            steps.append("dispatch")
        if status in ("handled", "checking", "closed"):
            steps.append("handle")
        if status == "closed":
            steps.append("close")
        when = {"report": at, "register": t_reg, "dispatch": t_dis, "handle": t_han, "close": t_han + timedelta(hours=2)}
        for action in steps:
            seq += 1
            h = f"{seq:064x}"
            events.append((seq, case_no, fmt(min(when[action], now)), action, "sample", "intake", "{}", prev, h))
            prev = h

        def stamp(step: str, steps: list[str] = steps, when: dict[str, datetime] = when) -> str | None:
            return fmt(min(when[step], now)) if step in steps else None

        started = when[steps[-1]]
        states.append((
            gpkg.encode_point(x, y), case_no, status, rng.choice(SOURCES), kind, class_code,
            gcode, comm, scode, dcode, f"{vocab.district_names.get(dcode, '')}样例路{rng.randrange(1, 200)}号",
            dept if "dispatch" in steps else None,
            stamp("report"), stamp("register"), stamp("dispatch"), stamp("handle"), stamp("close"),
            fmt(min(started, now)), fmt(deadline), fmt(deadline),
            1 if rng.random() < 0.08 else 0, seq, fmt(now),
        ))
    conn.executemany(
        "INSERT INTO case_event (seq, case_no, at, action, actor_id, role, payload, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        events,
    )
    conn.executemany(
        "INSERT INTO case_state (geom, case_no, status, source, kind, class_code, grid_code, community_code, "
        "street_code, district_code, address, department, reported_at, registered_at, dispatched_at, handled_at, "
        "closed_at, stage_started_at, stage_deadline, handle_deadline, rework_count, last_seq, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        states,
    )
    return n


# -- the writer process ------------------------------------------------------------------------------------
def writer_main(path: str, mode: str, seed: int) -> int:
    """Keep writing cases to ``path`` until killed: through the simulator (engine) or as plain rows.

    ``engine``: rounds of ``app.simulate.simulate_year`` (a few dozen cases over the last month, applied
    by the workflow engine, one transaction per chunk), the same path as the demo's simulated year.
    ``rows``: 20 cases per transaction every 50 ms with :func:`append_cases` (no engine needed).
    """
    from app.timefmt import now
    from db.store import Store

    store = Store.open(path)
    rng = random.Random(seed)
    rounds = 0
    vocab = vocabulary(store.conn)
    while True:
        if mode == "engine":
            from app.simulate import simulate_year

            simulate_year(store, seed=seed + rounds, scale="test", cases=30, months=1, end=now())
        else:
            with store.atomic() as conn:
                append_cases(conn, rng, 20, now(), spread_days=0.01, prefix=f"R{seed % 100:02d}", vocab=vocab)
            time.sleep(0.05)  # a benchmark's writer, not a test: pace it like a busy centre
        rounds += 1
        print(f"round {rounds}", file=sys.stderr, flush=True)


def _start_writer(path: Path, mode: str, seed: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "writer", str(path), mode, str(seed)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


# -- the soak -------------------------------------------------------------------------------------------------
PREFILL = {"test": 5_000, "demo": 100_000, "city": 1_000_000}


def _prepare_store(scale: str, folder: Path) -> Path:
    """A copy of the cached demo base city (no cases) with a year of synthetic cases appended fast."""
    dst = folder / "wall-soak.gpkg"
    try:
        from run import cached_store  # bench/run.py, when run through the harness

        base = cached_store("demo" if scale == "test" else scale, simulate=False)
        shutil.copy2(base, dst)
    except Exception as exc:  # no demo city available: the small self-made store still exercises everything
        print(f"wall_soak: demo base unavailable ({exc}); using the sample store", file=sys.stderr)
        build_sample_store(dst, datetime.now(CST), n_cases=0)
    from db.store import Store

    store = Store.open(dst)
    rng = random.Random(42)
    vocab = vocabulary(store.conn)
    n = PREFILL.get(scale, 100_000)
    now = datetime.now(CST).replace(microsecond=0)
    with store.atomic() as conn:
        for i in range(0, n, 20_000):
            append_cases(conn, rng, min(20_000, n - i), now, spread_days=395, prefix=f"P{i // 20_000:02d}", vocab=vocab)
        append_cases(conn, rng, max(n // 300, 20), now, spread_days=0.5, prefix="PT", vocab=vocab)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return dst


def soak(scale: str = "demo", switches: int = 2000, removed_switches: int = 100, mode: str = "auto",
         size: tuple[int, int] = (1920, 1080)) -> dict[str, Any]:
    """Run the wall offscreen: ``switches`` page switches, each with a data refresh, while a writer process
    writes; then the store file is removed for ``removed_switches`` switches and restored."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    from PySide6.QtWidgets import QApplication

    from app.wall_data import RefreshResult, WallDataService, load_config
    from widgets.fonts import install_fonts
    from widgets.wall.window import WallWindow

    if mode == "auto":
        try:
            import app.simulate

            mode = "engine"
        except ImportError:
            mode = "rows"
    folder = Path(tempfile.mkdtemp(prefix="wall-soak-"))
    path = _prepare_store(scale, folder)
    app = QApplication.instance() or QApplication([])
    install_fonts(app)  # type: ignore[arg-type]
    # timers off (the soak drives switches and refreshes itself); evaluations once, not every 10 min
    config = load_config(transition_ms=0, refresh=3600, interval=3600, scores_every=86400)
    service = WallDataService(path, config, background_scores=True)
    win = WallWindow(service, config)
    win.resize(*size)
    win.show()
    rows_start = _count(path)
    writer = _start_writer(path, mode, seed=7)
    refresh_ms: list[float] = []
    refresh_cpu_ms: list[float] = []
    folded_ms: list[float] = []  # refreshes that folded changes into the kept digest (no full read)
    full_reads: list[str] = []  # why the digest was read in full
    traced = os.environ.get("WALL_SOAK_TRACEMALLOC", "") not in ("", "0")
    snapshots: list[Any] = []
    type_counts: list[dict[str, int]] = []
    switch_ms: list[float] = []
    errors: list[str] = []
    rss: list[int] = []
    warmup = min(100, switches // 10)
    warmup_done_at = -1
    n_pages = len(win.pages)

    from PySide6.QtCore import QEventLoop, QTimer

    # one guard timer for every wait: a ``QTimer.singleShot`` per refresh would keep a timer and its event
    # loop alive for two minutes each, hundreds at a time, and show up as the soak's own growth
    loop = QEventLoop()
    guard = QTimer()
    guard.setSingleShot(True)
    guard.setInterval(120_000)
    guard.timeout.connect(loop.quit)
    win.refreshed.connect(loop.quit)

    def refresh() -> RefreshResult | None:
        """One refresh on the wall's worker; the GUI thread waits in an event loop, as it would idle."""
        started = win.refresh_now()
        if not started:
            errors.append("a refresh was still running when the next was due")
        if win.refreshing:
            guard.start()
            loop.exec()
            guard.stop()
        return win.last_refresh if not win.refreshing else None

    def step(expect_ok: bool | None) -> bool:
        try:
            result = refresh()
        except Exception as exc:  # the wall promises never to raise; count it if it does
            errors.append(f"refresh raised {exc!r}")
            return False
        if result is None:
            errors.append("a refresh did not finish within 120 s")
            return False
        if expect_ok is True and not result.ok:
            errors.append(f"refresh failed while the store was present: {result.error}")
        if expect_ok is False and (result.ok or not win.stale_marker.isVisible()):
            errors.append("store missing but the wall did not show the stale marker")
        if result.ok:
            refresh_ms.append(result.ms)
            refresh_cpu_ms.append(result.cpu_ms)
            if result.digest_update == "incremental":
                folded_ms.append(result.ms)
            elif result.digest_update.startswith("full"):
                full_reads.append(result.digest_update)
        t1 = time.perf_counter()
        try:
            win.show_page((win.pages.index(win.current_page()) + 1) % n_pages, animate=False)
            win.current_page().render_charts()
            win.current_page().repaint()
            app.processEvents()  # type: ignore[attr-defined]
        except Exception as exc:
            errors.append(f"page switch raised {exc!r}")
        switch_ms.append((time.perf_counter() - t1) * 1000)
        return result.ok

    t_start = time.perf_counter()
    cpu_start = time.process_time()
    blocks: list[int] = []
    load_during: list[float] = []
    month_cases: list[int] = []  # cases of the month on the wall at the start point and at the end
    if traced:
        import tracemalloc

        tracemalloc.start(8)
    try:
        for i in range(switches):
            if writer.poll() is not None:
                errors.append(f"writer process exited with {writer.returncode}")
                writer = _start_writer(path, mode, seed=100 + i)
            step(True)
            # the start point: after the warm-up switches AND the first background evaluation (its
            # connection and results are first-use allocations too), so growth is of the steady state
            if not rss and i >= warmup and (not service.scores_running or i >= switches // 2):
                rss.append(_rss_kb())
                blocks.append(sys.getallocatedblocks())
                type_counts.append(_type_counts())
                if traced:
                    snapshots.append(_trace_snapshot())
                warmup_done_at = i
                month_cases.append(service.snapshot.map.cases if service.snapshot else 0)
                load_during.append(os.getloadavg()[0])
            if i % 100 == 0:
                load_during.append(os.getloadavg()[0])
            if i % 100 == 0:
                print(f"wall_soak: {i}/{switches} switches, refresh median "
                      f"{statistics.median(refresh_ms or [0]):.0f} ms, rss {_rss_kb() / 1024:.0f} MB, "
                      f"errors {len(errors)}", file=sys.stderr, flush=True)
        rss.append(_rss_kb())
        blocks.append(sys.getallocatedblocks())
        type_counts.append(_type_counts())
        if traced:
            snapshots.append(_trace_snapshot())
        month_cases.append(service.snapshot.map.cases if service.snapshot else 0)
        rows_before = _count(path)
        # phase 2: the store file disappears (writer stopped first, as an operator replacing the file would)
        _stop(writer)
        away = folder / "moved-away.gpkg"
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(path) + suffix)
            if src.exists():
                os.replace(src, Path(str(away) + suffix))
        for _ in range(removed_switches):
            step(False)
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(away) + suffix)
            if src.exists():
                os.replace(src, Path(str(path) + suffix))
        writer = _start_writer(path, mode, seed=999)
        recovered = step(True)
        if not recovered or win.stale_marker.isVisible():
            errors.append("the wall did not recover after the store was restored")
        for _ in range(removed_switches):
            step(True)
        rss.append(_rss_kb())
    finally:
        _stop(writer)
        win.stop()
        win.close()
    rows_after = _count(path)
    elapsed = time.perf_counter() - t_start
    cpu_s = time.process_time() - cpu_start
    shutil.rmtree(folder, ignore_errors=True)
    growth = (rss[1] - rss[0]) / rss[0] * 100
    return {
        "refresh_ms": statistics.median(refresh_ms),
        "refresh_p95_ms": sorted(refresh_ms)[int(len(refresh_ms) * 0.95)],
        "refresh_cpu_ms": statistics.median(refresh_cpu_ms),
        "load_average": os.getloadavg()[0],
        "switch_ms": statistics.median(switch_ms),
        "memory_growth_pct": growth,
        "memory_growth_after_restore_pct": (rss[2] - rss[0]) / rss[0] * 100,
        "rss_start_mb": rss[0] / 1024,
        "rss_end_mb": rss[1] / 1024,
        "rss_after_restore_mb": rss[2] / 1024,
        "python_blocks_growth": blocks[1] - blocks[0],  # live Python allocations: a leak shows here first
        "object_growth_top": _growth_top(type_counts[0], type_counts[1]),
        "tracemalloc_top": _trace_top(snapshots) if len(snapshots) == 2 else [],
        "refresh_folded_ms": statistics.median(folded_ms) if folded_ms else None,
        "refreshes_folded": len(folded_ms),
        "month_cases_start_end": month_cases,
        "full_reads": full_reads[:10],
        "full_read_count": len(full_reads),
        "load_average_during": (min(load_during), statistics.median(load_during), max(load_during))
        if load_during else None,
        "refresh_skipped": win.refresh_skipped,
        "warmup_switches": warmup_done_at,
        "errors": len(errors),
        "error_samples": errors[:5],
        "switches": win.switch_count,
        "refreshes": service.refresh_count,
        "writer_mode": mode,
        "cases_at_start": rows_start[0],
        "cases_written_during_soak": rows_before[0] - rows_start[0],
        "cases_at_end": rows_after[0],
        "seconds": elapsed,
        "process_cpu_s": cpu_s,
        "load_average_1_5_15": os.getloadavg(),
    }


def _type_counts() -> dict[str, int]:
    """Live objects per type (after a collection): what grows shows by name, unlike RSS."""
    import gc
    from collections import Counter

    gc.collect()
    return dict(Counter(type(o).__name__ for o in gc.get_objects()))


def _growth_top(before: dict[str, int], after: dict[str, int], n: int = 8) -> list[tuple[str, int]]:
    grown = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    return sorted(((k, v) for k, v in grown.items() if v > 0), key=lambda kv: -kv[1])[:n]


def _trace_snapshot() -> Any:
    import gc
    import tracemalloc

    gc.collect()
    return tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")))


def _trace_top(snapshots: list[Any], n: int = 10) -> list[str]:
    """Where the Python allocations that grew were made (``WALL_SOAK_TRACEMALLOC=1``; slows the soak)."""
    stats = snapshots[1].compare_to(snapshots[0], "traceback")
    out = []
    for st in stats[:n]:
        frames = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in st.traceback][:4]
        out.append(f"{st.size_diff / 1024:+.0f} KiB {st.count_diff:+d} blocks at {' < '.join(frames)}")
    return out


def _count(path: Path) -> tuple[int, int]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (conn.execute("SELECT count(*) FROM case_state").fetchone()[0],
                conn.execute("SELECT count(*) FROM case_event").fetchone()[0])
    finally:
        conn.close()


def bench_wall_soak(scale: str) -> list[dict[str, Any]]:
    """``wall_soak``: medians and growth as harness rows (targets: refresh < 200 ms, growth < 5 %, 0 errors)."""
    switches = int(os.environ.get("WALL_SOAK_SWITCHES", "2000"))
    # "rows" writes plain rows stamped today, so all of them land in the month the wall shows (a stress run)
    r = soak(scale, switches=switches, mode=os.environ.get("WALL_SOAK_WRITER", "auto"))
    extra = {k: r[k] for k in ("switches", "refreshes", "writer_mode", "rss_start_mb", "rss_end_mb",
                               "rss_after_restore_mb", "python_blocks_growth", "object_growth_top", "tracemalloc_top",
                               "refresh_folded_ms", "refreshes_folded", "month_cases_start_end", "full_read_count", "full_reads",
                               "load_average_during", "refresh_skipped", "warmup_switches",
                               "cases_at_start",
                               "cases_written_during_soak", "cases_at_end", "seconds", "process_cpu_s",
                               "load_average_1_5_15", "error_samples")}
    extra = {k: round(v, 1) if isinstance(v, float) else v for k, v in extra.items()}
    return [
        {"bench": "wall_soak", "metric": "refresh_ms", "value": round(r["refresh_ms"], 1), "unit": "ms",
         "scale": scale, "p95": round(r["refresh_p95_ms"], 1), "cpu_ms": round(r["refresh_cpu_ms"], 1),
         "load_average": round(r["load_average"], 1), **extra},
        {"bench": "wall_soak", "metric": "switch_ms", "value": round(r["switch_ms"], 1), "unit": "ms", "scale": scale},
        {"bench": "wall_soak", "metric": "memory_growth_pct", "value": round(r["memory_growth_pct"], 2), "unit": "%",
         "scale": scale, "after_restore": round(r["memory_growth_after_restore_pct"], 2)},
        {"bench": "wall_soak", "metric": "errors", "value": r["errors"], "unit": "count", "scale": scale},
    ]


BENCHMARKS = {"wall_soak": bench_wall_soak}


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "writer":
        sys.exit(writer_main(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    scale_arg = sys.argv[1] if len(sys.argv) > 1 else "demo"
    for row in bench_wall_soak(scale_arg):
        print(json.dumps(row, ensure_ascii=False), flush=True)
