"""Benchmark harness: ``python bench/run.py [NAME ...] [--scale demo|city] [--list]``.

Discovers every ``bench/bench_*.py`` module exposing ``BENCHMARKS = {name: fn(scale) -> list[dict]}``,
runs the named benchmarks (all by default) and prints one JSON object per line:
``{"bench": NAME, "metric": M, "value": V, "unit": U, "scale": S}`` (values are medians of several runs;
a benchmark may add keys such as ``runs``). Benchmarks are never part of the unit tests.

Helpers for benchmark modules (``from run import cached_store, median_time, result``):
:func:`cached_store` builds a demo store of a scale once and keeps it under ``bench/.cache/`` (ignored by
git), keyed by a hash of the generator's source so a changed generator rebuilds it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
for p in (str(ROOT), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

SCALES = ("demo", "city")
_GENERATOR_SOURCES = ("gisdata/demo_city.py", "app/demo.py")
_SIMULATOR_SOURCES = ("app/simulate.py",)


def result(bench: str, metric: str, value: float, unit: str, scale: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": bench, "metric": metric, "value": value, "unit": unit, "scale": scale}
    out.update(extra)
    return out


def median_time(fn: Callable[[], Any], runs: int = 5, warmup: int = 0) -> float:
    """Median wall time of ``fn()`` in seconds over ``runs`` runs (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def generator_version(simulate: bool = False) -> str:
    """A short hash of the sources that shape a cached store (not the schema: opening migrates)."""
    h = hashlib.sha256()
    for rel in _GENERATOR_SOURCES + (_SIMULATOR_SOURCES if simulate else ()):
        p = ROOT / rel
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:10]


def cached_store(scale: str, simulate: bool = True, seed: int = 1, city: str = "xuzhou") -> Path:
    """A demo store of ``scale`` (built once, then reused). Open it read-only or copy it before writing."""
    from app.demo import build_demo
    from app.progress import Progress, print_progress

    CACHE.mkdir(parents=True, exist_ok=True)
    kind = "full" if simulate else "base"
    path = CACHE / f"{city}-{scale}-s{seed}-{kind}-{generator_version(simulate)}.gpkg"
    if path.exists():
        return path
    import fcntl

    # several benchmark processes may ask for the same store at once: one builds, the others wait
    with (CACHE / f"{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            for old in CACHE.glob(f"{city}-{scale}-s{seed}-{kind}-*.gpkg"):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(old) + suffix).unlink(missing_ok=True)
            print(f"building {path.name} …", file=sys.stderr)
            build_demo(path, city=city, seed=seed, scale=scale, progress=Progress(print_progress),
                       simulate=simulate)
    return path


def discover() -> dict[str, Callable[[str], list[dict[str, Any]]]]:
    found: dict[str, Callable[[str], list[dict[str, Any]]]] = {}
    for f in sorted(BENCH.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(f.stem, f)
        if spec is None or spec.loader is None:
            continue
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f.stem] = mod
        try:
            spec.loader.exec_module(mod)
        except Exception as exc:  # one broken module must not hide the others
            print(f"skipping {f.name}: {exc!r}", file=sys.stderr)
            continue
        for name, fn in getattr(mod, "BENCHMARKS", {}).items():
            if name in found:
                print(f"duplicate benchmark name {name!r} in {f.name}", file=sys.stderr)
            found[name] = fn
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="万米 benchmarks: one JSON line per metric")
    ap.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    ap.add_argument("--scale", choices=SCALES, default="demo")
    ap.add_argument("--list", action="store_true", help="list the benchmark names and exit")
    args = ap.parse_args(argv)
    benches = discover()
    if args.list:
        for name in benches:
            print(name)
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(benches)})", file=sys.stderr)
        return 2
    failed = 0
    for name in args.names or list(benches):
        try:
            rows = benches[name](args.scale)
        except Exception:
            failed += 1
            traceback.print_exc()
            print(json.dumps({"bench": name, "metric": "error", "value": None, "unit": "", "scale": args.scale}))
            continue
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
