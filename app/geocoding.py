"""Geocoding service over a store: address search, reverse geocoding, point → grid and nearest part.

Reading 10,000+ grids and 30,000 addresses and building the trees takes a fraction of a second, so a
:class:`Geocoder` is built once per store and cached; the cache key includes the highest ``fid`` and
row count of the base tables, so an import or a rebuilt demo is noticed on the next call. The nearest
part index (up to 2,000,000 points) is built lazily, the first time it is asked for.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from db import base_repo
from db.store import Store, connect
from gisdata.crs import Projector
from gisdata.geocode import NEAR_KINDS, AddressBook, AddressHit, OutsideCity, Place, ReverseGeocoder
from gisdata.spatial_index import NearestIndex

__all__ = ["Geocoder", "OutsideCity", "Place", "get_geocoder", "invalidate"]


@dataclass(frozen=True)
class NearestPart:
    code: str
    class_code: str
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True)
class AddressResult:
    name: str
    kind: str
    full_name: str | None
    grid_code: str | None
    lon: float
    lat: float
    match: str
    score: float


class Geocoder:
    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        # with a path, the lazy part index reads through its own connection, so the geocoder can
        # outlive (and be shared across) the connections of the stores that asked for it
        self._conn = conn if path is None else None
        self._path = path
        ga = base_repo.grid_arrays(conn)
        if len(ga.code) == 0:
            raise OutsideCity("数据库中没有单元网格 the store has no unit grids (run `python main.py init-demo`)")
        names = base_repo.division_names(conn)
        addrs = base_repo.address_arrays(conn)
        self.addresses = addrs
        near = [i for i, k in enumerate(addrs.kind) if k in NEAR_KINDS]
        lon0 = float(np.mean([g.centroid.x for g in ga.geom[: min(len(ga.geom), 200)]]))
        self.projector = Projector.for_lon(lon0)
        self.reverse_geocoder = ReverseGeocoder(
            ga.geom, list(ga.code), names, [addrs.name[i] for i in near], addrs.x[near], addrs.y[near],
            self.projector,
        )
        self._book: AddressBook | None = None  # built on the first search (reverse geocoding needs none)
        self._parts: tuple[base_repo.PartArrays, NearestIndex] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    # -- points ----------------------------------------------------------------------------------------
    def reverse(self, lon: float, lat: float) -> Place:
        return self.reverse_geocoder.reverse(lon, lat)

    def grid_at(self, lon: float, lat: float) -> str | None:
        return self.reverse_geocoder.grids.code_at(lon, lat)

    def grids_at(self, lons: Any, lats: Any) -> np.ndarray:
        return self.reverse_geocoder.grid_codes(lons, lats)

    def nearest_part(self, lon: float, lat: float, max_distance_m: float | None = 200.0,
                     class_code: str | None = None) -> NearestPart | None:
        """The nearest part (of a class) within ``max_distance_m``; None if there is none.

        With a distance limit this reads only the parts in the surrounding box through the store's R-tree
        (milliseconds, even with 2,000,000 parts); without one it uses an in-memory index of all parts.
        """
        x, y = self.projector.forward_xy([lon], [lat])
        if max_distance_m is not None:
            pad_lat = max_distance_m / 110_000.0
            pad_lon = pad_lat / max(0.1, float(np.cos(np.radians(lat))))
            arrays = base_repo.part_points_in_bbox(
                self._read_conn(), lon - pad_lon, lat - pad_lat, lon + pad_lon, lat + pad_lat, class_code
            )
            if len(arrays.code) == 0:
                return None
            px, py = self.projector.forward_xy(arrays.x, arrays.y)
            d = np.hypot(px - x[0], py - y[0])
            i = int(np.argmin(d))
            if d[i] > max_distance_m:
                return None
            return NearestPart(str(arrays.code[i]), str(arrays.class_code[i]), float(arrays.x[i]),
                               float(arrays.y[i]), float(d[i]))
        all_parts, index = self._part_index()
        if class_code is None:
            idx, dist = index.nearest(x, y)
            if idx[0] < 0:
                return None
            j, dj = int(idx[0]), float(dist[0])
        else:
            cand = np.flatnonzero(all_parts.class_code == class_code)
            if len(cand) == 0:
                return None
            dd = np.hypot(index.xs[cand] - x[0], index.ys[cand] - y[0])
            j = int(cand[int(np.argmin(dd))])
            dj = float(dd.min())
        return NearestPart(str(all_parts.code[j]), str(all_parts.class_code[j]), float(all_parts.x[j]),
                           float(all_parts.y[j]), dj)

    def _read_conn(self) -> sqlite3.Connection:
        """The caller's connection for an in-memory store, else one read-only connection per thread."""
        if self._conn is not None:
            return self._conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            assert self._path is not None
            conn = connect(self._path, readonly=True)
            self._local.conn = conn
        return conn

    def _part_index(self) -> tuple[base_repo.PartArrays, NearestIndex]:
        with self._lock:
            if self._parts is None:
                if self._conn is not None:
                    arrays = base_repo.part_arrays(self._conn)
                else:
                    assert self._path is not None
                    conn = connect(self._path, readonly=True, check_same_thread=False)
                    try:
                        arrays = base_repo.part_arrays(conn)
                    finally:
                        conn.close()
                px, py = self.projector.forward_xy(arrays.x, arrays.y)
                self._parts = (arrays, NearestIndex(px, py))
            return self._parts

    # -- search ----------------------------------------------------------------------------------------
    @property
    def book(self) -> AddressBook:
        with self._lock:
            if self._book is None:
                a = self.addresses
                self._book = AddressBook(a.name, a.kind, a.full_name, a.initials)
            return self._book

    def search(self, query: str, limit: int = 20, kinds: list[str] | None = None) -> list[AddressResult]:
        hits: list[AddressHit] = self.book.search(query, limit, kinds)
        out = []
        a = self.addresses
        for h in hits:
            i = h.index
            out.append(AddressResult(a.name[i], a.kind[i], a.full_name[i], a.grid_code[i], float(a.x[i]),
                                     float(a.y[i]), h.match, h.score))
        return out


_CACHE: dict[str, tuple[tuple[Any, ...], Geocoder]] = {}
_CACHE_LOCK = threading.Lock()


def _version(conn: sqlite3.Connection) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT (SELECT max(fid) FROM unit_grid), (SELECT count(*) FROM unit_grid), "
        "(SELECT max(fid) FROM address), (SELECT max(fid) FROM part)"
    ).fetchone()
    return tuple(row)


def get_geocoder(store: Store) -> Geocoder:
    """The cached geocoder of this store (rebuilt when its base data changed)."""
    key = str(store.path.resolve()) if store.path is not None else f"memory:{id(store)}"
    version = _version(store.conn)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == version and (store.path is not None or hit[1]._conn is store.conn):
            return hit[1]
    geo = Geocoder(store.conn, store.path.resolve() if store.path is not None else None)
    with _CACHE_LOCK:
        _CACHE[key] = (version, geo)
    return geo


def invalidate(store: Store | None = None) -> None:
    with _CACHE_LOCK:
        if store is None:
            _CACHE.clear()
        else:
            _CACHE.pop(str(store.path.resolve()) if store.path is not None else f"memory:{id(store)}", None)
