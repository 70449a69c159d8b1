"""``simulate_year``: seconds to simulate a scale's year of cases through the workflow engine.

The base city (no cases) of the scale is built once per invocation in a temporary folder; each run
copies it and simulates the year (110,000 cases at ``demo``, 1,000,000 at ``city``). Also reported: cases and
events per second. Target (issue 3): well under 2 minutes at demo scale.

Run: ``python bench/run.py simulate_year [--scale demo]`` or ``python bench/bench_simulate.py demo [runs]``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
for p in (str(BENCH.parent), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)


def simulate_year_bench(scale: str, runs: int = 1) -> list[dict[str, Any]]:
    from run import result

    from app.demo import build_demo
    from app.simulate import simulate_year
    from db.store import Store

    times, summary = [], None
    with tempfile.TemporaryDirectory() as tmp:
        # the base city is built here, not shared through bench/.cache, so a concurrent rebuild of the
        # shared cache can never hand this benchmark a half-written file
        base = Path(tmp) / "base.gpkg"
        build_demo(base, city="xuzhou", seed=1, scale=scale, simulate=False)
        for i in range(runs):
            path = Path(tmp) / f"sim{i}.gpkg"
            shutil.copy2(base, path)
            store = Store.open(path)
            t = time.perf_counter()
            summary = simulate_year(store, seed=1, scale=scale, end="2026-11-23")
            times.append(time.perf_counter() - t)
            store.close()
            path.unlink()
    assert summary is not None
    med = statistics.median(times)
    extra = {"runs": runs, "cases": summary.cases, "events": summary.events, "rejected": summary.rejected}
    return [
        result("simulate_year", "seconds", round(med, 2), "s", scale, **extra),
        result("simulate_year", "events_per_s", round(summary.events / med), "events/s", scale, runs=runs),
    ]


BENCHMARKS = {"simulate_year": simulate_year_bench}

if __name__ == "__main__":
    sc = sys.argv[1] if len(sys.argv) > 1 else "demo"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for row in simulate_year_bench(sc, n):
        print(json.dumps(row, ensure_ascii=False))
