"""Foundation benchmarks: building the demo and city stores, opening a store, grid lookup, reverse geocoding.

Targets (ARCHITECTURE §11 and issue 2): demo build < 60 s; grid lookup ≥ 50,000 lookups/s.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from run import cached_store, median_time, result


def _build(scale: str, simulate: bool) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one build; the figures include ``cpu_s`` (this process's CPU time), which is
    what the build costs on an idle machine when the wall time is inflated by other work."""
    from app.demo import build_demo

    d = Path(tempfile.mkdtemp(prefix="wanmi-bench-"))
    try:
        t = time.perf_counter()
        c = time.process_time()
        s = build_demo(d / "b.gpkg", seed=1, scale=scale, simulate=simulate)
        cpu = time.process_time() - c
        return time.perf_counter() - t, s.figures | {"simulated": s.simulated, "seconds": s.seconds, "cpu_s": cpu}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def demo_build(scale: str) -> list[dict[str, Any]]:
    """Seconds to build the demo-scale store: base data (median of 3) and with the simulated year (1 run)."""
    base = [_build("demo", simulate=False) for _ in range(3)]
    figs = base[0][1]
    out = [
        result("demo_build", "base_data", round(statistics.median(b[0] for b in base), 2), "s", "demo", runs=3,
               grids=figs["grids"], parts=figs["parts"]),
        result("demo_build", "base_data_cpu", round(statistics.median(b[1]["cpu_s"] for b in base), 2), "s",
               "demo", runs=3),
    ]
    full, ffigs = _build("demo", simulate=True)
    if ffigs["simulated"]:
        out.append(result("demo_build", "with_simulated_year", round(full, 2), "s", "demo", runs=1))
        out.append(result("demo_build", "with_simulated_year_cpu", round(ffigs["cpu_s"], 2), "s", "demo", runs=1))
    return out


def city_build(scale: str) -> list[dict[str, Any]]:
    """Seconds to build the city-scale store (30,000 grids, 2,000,000 parts), base data only, one run."""
    secs, figs = _build("city", simulate=False)
    return [result("city_build", "base_data", round(secs, 2), "s", "city", runs=1, grids=figs["grids"],
                   parts=figs["parts"]),
            result("city_build", "base_data_cpu", round(figs["cpu_s"], 2), "s", "city", runs=1)]


def store_open(scale: str) -> list[dict[str, Any]]:
    """Milliseconds to open a store (pragmas, migration check) and read its metadata."""
    from db.store import Store

    path = cached_store(scale, simulate=False)

    def once() -> None:
        s = Store.open(path)
        s.meta("city")
        s.close()

    def once_ro() -> None:
        s = Store.open(path, readonly=True)
        s.meta("city")
        s.close()

    return [
        result("store_open", "open", round(median_time(once, 20, warmup=2) * 1000, 2), "ms", scale, runs=20),
        result("store_open", "open_readonly", round(median_time(once_ro, 20, warmup=2) * 1000, 2), "ms", scale,
               runs=20),
    ]


def _geocoder(scale: str) -> tuple[Any, Any, float]:
    from app.geocoding import Geocoder
    from db.store import Store

    store = Store.open(cached_store(scale, simulate=False), readonly=True)
    t = time.perf_counter()
    geo = Geocoder(store.conn)
    return store, geo, time.perf_counter() - t


def _points_in_city(store: Any, n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = store.conn.execute(
        "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='unit_grid'"
    ).fetchone()
    rng = np.random.default_rng(seed)
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


def grid_lookup(scale: str) -> list[dict[str, Any]]:
    """Point → unit grid: bulk (vectorised) and one-at-a-time lookups per second."""
    store, geo, build_s = _geocoder(scale)
    try:
        xs, ys = _points_in_city(store, 600_000)
        inside = geo.grids_at(xs, ys) != None  # noqa: E711
        hit = float(np.mean(inside))
        xs, ys = xs[inside][:200_000], ys[inside][:200_000]  # only points that find a grid
        bulk = median_time(lambda: geo.grids_at(xs, ys), 5, warmup=1)
        sx, sy = xs[:3000].tolist(), ys[:3000].tolist()

        def singles() -> None:
            for x, y in zip(sx, sy):
                geo.grid_at(x, y)

        single = median_time(singles, 5, warmup=1)
        return [
            result("grid_lookup", "bulk", round(len(xs) / bulk), "lookups/s", scale, runs=5, bbox_inside_share=round(hit, 3)),
            result("grid_lookup", "single", round(len(sx) / single), "lookups/s", scale, runs=5),
            result("grid_lookup", "index_build", round(build_s * 1000, 1), "ms", scale, runs=1),
        ]
    finally:
        store.close()


def reverse_geocode(scale: str) -> list[dict[str, Any]]:
    """Milliseconds per reverse geocode (grid, divisions, nearest address with direction and distance)."""
    store, geo, _ = _geocoder(scale)
    try:
        xs, ys = _points_in_city(store, 20_000, seed=9)
        inside = geo.grids_at(xs, ys) != None  # noqa: E711
        pts = list(zip(xs[inside][:1000].tolist(), ys[inside][:1000].tolist()))
        for x, y in pts[:50]:
            geo.reverse(x, y)
        times = []
        for x, y in pts:
            t = time.perf_counter()
            geo.reverse(x, y)
            times.append(time.perf_counter() - t)
        times.sort()
        return [
            result("reverse_geocode", "median", round(statistics.median(times) * 1000, 3), "ms", scale, runs=len(times)),
            result("reverse_geocode", "p95", round(times[int(0.95 * len(times))] * 1000, 3), "ms", scale,
                   runs=len(times)),
        ]
    finally:
        store.close()


BENCHMARKS = {
    "demo_build": demo_build,
    "city_build": city_build,
    "store_open": store_open,
    "grid_lookup": grid_lookup,
    "reverse_geocode": reverse_geocode,
}
