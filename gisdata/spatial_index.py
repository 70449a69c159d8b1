"""In-memory spatial indexes: point → unit grid, nearest part, nearest address.

Built once from arrays (a shapely ``STRtree`` over polygons, a ``STRtree`` over points) and then queried
in bulk: a vectorised point-in-polygon over many points costs a few microseconds each, so filing cases,
assigning parts to grids and reverse geocoding never go to SQL for geometry. Coordinates are whatever
the caller built the index in (store lon/lat for services, Gauss-Krüger metres in the demo builder);
nearest-distance queries in metres use :class:`NearestIndex` built on metric coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely import STRtree


class GridIndex:
    """Which polygon (unit grid) contains each point. ``-1`` where none does.

    On a shared edge a point lies in two grids; the lowest index wins, so the answer is deterministic.
    """

    def __init__(self, geoms: Sequence[Any] | np.ndarray, codes: Sequence[str] | np.ndarray | None = None) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self.codes = None if codes is None else np.asarray(codes, dtype=object)
        if self.codes is not None and len(self.codes) != len(self.geoms):
            raise ValueError(f"编码与几何数量不一致 codes={len(self.codes)} geoms={len(self.geoms)}")
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def locate(self, xs: Any, ys: Any) -> np.ndarray:
        """Indices of the containing polygon for each (x, y), vectorised; -1 for points outside all."""
        xs = np.atleast_1d(np.asarray(xs, dtype=float))
        ys = np.atleast_1d(np.asarray(ys, dtype=float))
        out = np.full(len(xs), -1, dtype=np.int64)
        if len(xs) == 0 or len(self.geoms) == 0:
            return out
        pts = shapely.points(xs, ys)
        pi, gi = self.tree.query(pts, predicate="intersects")
        if len(pi):
            # keep the lowest grid index per point: sort by (point, grid) then take the first of each point
            order = np.lexsort((gi, pi))
            pi, gi = pi[order], gi[order]
            first = np.ones(len(pi), dtype=bool)
            first[1:] = pi[1:] != pi[:-1]
            out[pi[first]] = gi[first]
        return out

    def locate_one(self, x: float, y: float) -> int:
        """One point without the array round trip (interactive clicks, filing one case)."""
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        return int(hits.min()) if len(hits) else -1

    def codes_at(self, xs: Any, ys: Any) -> np.ndarray:
        """Grid codes (object array, ``None`` outside) for each point."""
        if self.codes is None:
            raise ValueError("索引没有编码 index built without codes")
        idx = self.locate(xs, ys)
        out = np.empty(len(idx), dtype=object)
        inside = idx >= 0
        out[inside] = self.codes[idx[inside]]
        return out

    def code_at(self, x: float, y: float) -> str | None:
        if self.codes is None:
            raise ValueError("索引没有编码 index built without codes")
        i = self.locate_one(x, y)
        return None if i < 0 else str(self.codes[i])


class NearestIndex:
    """Nearest point (part, address) to a query point, in the coordinates the index was built in."""

    def __init__(self, xs: Any, ys: Any) -> None:
        self.xs = np.asarray(xs, dtype=float)
        self.ys = np.asarray(ys, dtype=float)
        self.points = shapely.points(self.xs, self.ys)
        self.tree = STRtree(self.points)

    def __len__(self) -> int:
        return len(self.xs)

    def nearest(self, xs: Any, ys: Any, max_distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(indices, distances) of the nearest indexed point for each query; -1/inf beyond ``max_distance``."""
        xs = np.atleast_1d(np.asarray(xs, dtype=float))
        ys = np.atleast_1d(np.asarray(ys, dtype=float))
        idx = np.full(len(xs), -1, dtype=np.int64)
        dist = np.full(len(xs), np.inf)
        if len(xs) == 0 or len(self.xs) == 0:
            return idx, dist
        q = shapely.points(xs, ys)
        (qi, ti), d = self.tree.query_nearest(q, max_distance=max_distance, return_distance=True, all_matches=False)
        idx[qi] = ti
        dist[qi] = d
        return idx, dist

    def within(self, x: float, y: float, radius: float) -> np.ndarray:
        """Indices of indexed points within ``radius`` of (x, y), nearest first."""
        hits = self.tree.query(shapely.Point(x, y), predicate="dwithin", distance=radius)
        if len(hits) == 0:
            return np.asarray(hits, dtype=np.int64)
        d = np.hypot(self.xs[hits] - x, self.ys[hits] - y)
        return np.asarray(hits)[np.argsort(d, kind="stable")]
