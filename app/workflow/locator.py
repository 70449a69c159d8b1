"""Point-in-grid lookup over the store's ``unit_grid``, built once and kept in memory.

The engine derives grid, community, street and district from a report's lon/lat (ARCHITECTURE §6.5: the
exchange format carries only the point). Replay locates every report, so the lookup must be cheap: the
grids' bounding boxes are bucketed on a regular lattice (unit grids are all about the same size), and a
point is tested only against the grids of its bucket. Each candidate's bounding box is checked first in
plain Python; a grid that *is* its bounding box (most unit grids are axis-aligned rectangles) is decided by
that test alone, and only other shapes go to the prepared polygon (``shapely`` ``intersects_xy``, no Point
objects). Why: each ufunc call costs far more than four comparisons and releases the GIL, which hands it
to replay's background writer thread. Grids load lazily on the first lookup; call
:meth:`StoreLocator.reload` after base data changes.
"""

from __future__ import annotations

import math
from typing import Any

from app.workflow.ports import Location
from db import cases as db_cases
from db import gpkg
from db.store import Store


class StoreLocator:
    """``Locator`` over ``unit_grid``: the first grid (lowest fid) that contains or touches the point."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._loaded = False
        self._geoms: list[Any] = []
        self._locs: list[Location] = []
        self._by_code: dict[str, Location] = {}
        self._buckets: dict[tuple[int, int], list[int]] = {}
        # per grid: (minx, miny, maxx, maxy, is_rectangle)
        self._boxes: list[tuple[float, float, float, float, bool]] = []
        self._cell = 1.0
        self._x0 = self._y0 = 0.0
        self._intersects_xy: Any = None

    def reload(self) -> None:
        import shapely

        geoms: list[Any] = []
        locs: list[Location] = []
        by_code: dict[str, Location] = {}
        for code, community, street, district, blob in db_cases.grid_rows(self.store.conn):
            loc = Location(code, community, street, district)
            by_code[code] = loc
            if blob is None:
                continue
            geoms.append(shapely.from_wkb(gpkg.wkb_of(blob)))
            locs.append(loc)
        buckets: dict[tuple[int, int], list[int]] = {}
        boxes: list[tuple[float, float, float, float, bool]] = []
        if geoms:
            shapely.prepare(geoms)
            bounds = shapely.bounds(geoms)
            # topological equality with the envelope is exact: such a grid contains or touches a point
            # exactly when its box does
            rect = shapely.equals(geoms, shapely.envelope(geoms)).tolist()
            boxes = [(float(b[0]), float(b[1]), float(b[2]), float(b[3]), bool(r))
                     for b, r in zip(bounds.tolist(), rect, strict=True)]
            widths = sorted(float(max(b[2] - b[0], b[3] - b[1])) for b in bounds)
            self._cell = max(widths[len(widths) // 2], 1e-6)
            self._x0, self._y0 = float(bounds[:, 0].min()), float(bounds[:, 1].min())
            c, x0, y0 = self._cell, self._x0, self._y0
            for i, (minx, miny, maxx, maxy) in enumerate(bounds.tolist()):
                for ix in range(math.floor((minx - x0) / c), math.floor((maxx - x0) / c) + 1):
                    for iy in range(math.floor((miny - y0) / c), math.floor((maxy - y0) / c) + 1):
                        buckets.setdefault((ix, iy), []).append(i)
        self._geoms, self._locs, self._by_code, self._buckets = geoms, locs, by_code, buckets
        self._boxes = boxes
        self._intersects_xy = shapely.lib.intersects_xy
        self._loaded = True

    def locate(self, lon: float, lat: float) -> Location | None:
        if not self._loaded:
            self.reload()
        c = self._cell
        cands = self._buckets.get((math.floor((lon - self._x0) / c), math.floor((lat - self._y0) / c)))
        if not cands:
            return None
        # the ufunc itself: ``shapely.intersects_xy`` adds a Python wrapper and a prepare() check per
        # call, and the polygons were prepared in reload()
        intersects_xy = self._intersects_xy
        boxes = self._boxes
        for i in cands:
            minx, miny, maxx, maxy, rect = boxes[i]
            if minx <= lon <= maxx and miny <= lat <= maxy and (rect or intersects_xy(self._geoms[i], lon, lat)):
                return self._locs[i]
        return None

    def grid(self, grid_code: str) -> Location | None:
        if not self._loaded:
            self.reload()
        return self._by_code.get(grid_code)
