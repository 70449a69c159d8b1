"""Read-side queries the map needs: whole layers as compact columns, and attribute rows for identify.

Point layers come back as numpy arrays (2M parts in about a second): the GeoPackage blobs Wanmi
writes for points have a fixed 29-byte layout, so coordinates are sliced out of one joined buffer
instead of being parsed row by row. Blobs of another layout (written by other tools) fall back to the
header envelope.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from db import gpkg

_POINT_BLOB_LEN = 29  # 8-byte header without envelope + 21-byte WKB point


@dataclass
class PointColumns:
    fid: np.ndarray  # int64
    x: np.ndarray  # float64 lon
    y: np.ndarray  # float64 lat
    attrs: dict[str, np.ndarray]  # object arrays of the requested attribute columns


@dataclass
class PolygonRows:
    fid: list[int]
    wkb: list[bytes]
    attrs: dict[str, list[object]]


_CHUNK = 200_000


def _point_xy(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    n = len(blobs)
    if n and all(len(b) == _POINT_BLOB_LEN for b in blobs[:1000]) and sum(map(len, blobs)) == n * _POINT_BLOB_LEN:
        buf = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(n, _POINT_BLOB_LEN)
        little = buf[:, 8] == 1
        if little.all():
            xy = buf[:, 13:29].copy().view("<f8").reshape(n, 2)
            return xy[:, 0].copy(), xy[:, 1].copy()
    x = np.empty(n)
    y = np.empty(n)
    for i, b in enumerate(blobs):
        env = gpkg.envelope(b)
        if env is None:
            x[i] = y[i] = np.nan
        else:
            x[i] = (env[0] + env[1]) / 2
            y[i] = (env[2] + env[3]) / 2
    return x, y


def read_points(conn: sqlite3.Connection, table: str, columns: list[str], where: str = "", params: tuple = ()) -> PointColumns:
    """All points of a layer with the given attribute columns."""
    cols = ", ".join(columns)
    sql = f"SELECT fid, geom{', ' + cols if cols else ''} FROM {table} WHERE geom IS NOT NULL {where}"
    cur = conn.execute(sql, params)
    fids, xs, ys = [], [], []
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    while True:  # in chunks: 2M rows as Python tuples at once would double the console's peak memory
        rows = cur.fetchmany(_CHUNK)
        if not rows:
            break
        fids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        x, y = _point_xy([r[1] for r in rows])
        xs.append(x)
        ys.append(y)
        for i, c in enumerate(columns):
            parts[c].append(np.array([r[2 + i] for r in rows], dtype=object))
        del rows
    if not fids:
        empty = np.array([], dtype=object)
        return PointColumns(np.array([], dtype=np.int64), np.array([]), np.array([]), {c: empty for c in columns})
    attrs = {c: np.concatenate(v) for c, v in parts.items()}
    return PointColumns(np.concatenate(fids), np.concatenate(xs), np.concatenate(ys), attrs)


def read_polygons(conn: sqlite3.Connection, table: str, columns: list[str]) -> PolygonRows:
    """All features of a polygon or line layer as WKB with attribute columns."""
    cols = ", ".join(columns)
    rows = conn.execute(f"SELECT fid, geom{', ' + cols if cols else ''} FROM {table} WHERE geom IS NOT NULL").fetchall()
    return PolygonRows(
        [r[0] for r in rows],
        [gpkg.wkb_of(r[1]) for r in rows],
        {c: [r[2 + i] for r in rows] for i, c in enumerate(columns)},
    )


def layer_extent(conn: sqlite3.Connection, table: str) -> tuple[float, float, float, float] | None:
    row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {gpkg.rtree_name(table)}").fetchone()
    return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])


def feature_attributes(conn: sqlite3.Connection, table: str, fid: int) -> dict[str, object]:
    """One feature's attribute columns (no geometry), for the identify panel."""
    cur = conn.execute(f"SELECT * FROM {table} WHERE fid=?", (fid,))
    row = cur.fetchone()
    if row is None:
        return {}
    names = [d[0] for d in cur.description]
    return {k: v for k, v in zip(names, row) if k != "geom"}


def fids_in_bbox(conn: sqlite3.Connection, table: str, bbox: tuple[float, float, float, float]) -> list[int]:
    minx, miny, maxx, maxy = bbox
    return [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM {gpkg.rtree_name(table)} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
            (minx, maxx, miny, maxy),
        )
    ]


def layer_version(conn: sqlite3.Connection, table: str) -> str:
    """A cheap change marker for cached layer images (count and max fid, plus last case seq for cases)."""
    if table == "case_state":
        row = conn.execute("SELECT 'seq', coalesce(max(seq), 0) FROM case_event").fetchone()
    else:
        row = conn.execute(f"SELECT count(*), coalesce(max(fid), 0) FROM {table}").fetchone()
    return f"{row[0]}:{row[1]}"


def queue_overdue(conn: sqlite3.Connection, statuses: Sequence[str], pending: str | None,
                  scope: dict[str, Sequence[str]] | None, now: str) -> int:
    """How many cases of an inbox queue are past their stage deadline (uses the (status, deadline) index);
    a suspended case's clock stopped when it was suspended."""
    from db.cases import _queue_where

    where, params = _queue_where(statuses, pending, scope)
    # running clocks: a range on the (status, stage_deadline) index
    sql = f"SELECT count(*) FROM case_state WHERE {where} AND stage_deadline < ? AND suspended_at IS NULL"
    n = int(conn.execute(sql, [*params, now]).fetchone()[0])
    if "suspended" in statuses:  # stopped clocks: late if the deadline had passed when it was suspended
        where, params = _queue_where(["suspended"], pending, scope)
        sql = f"SELECT count(*) FROM case_state WHERE {where} AND stage_deadline < suspended_at"
        n += int(conn.execute(sql, params).fetchone()[0])
    return n


def reference_names(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """Names to show instead of codes in identify results: departments, classes (event/part), divisions."""
    out: dict[str, dict[str, str]] = {"department": {}, "event": {}, "part": {}, "division": {}}
    out["department"] = dict(conn.execute("SELECT code, name FROM department").fetchall())
    for kind, code, name in conn.execute(
            "SELECT kind, class_code, name FROM catalog_class "
            "WHERE catalog = (SELECT value FROM store_meta WHERE key='catalog')"):
        out.setdefault(kind, {})[code] = name
    for table in ("district", "street", "community"):
        out["division"].update(dict(conn.execute(f"SELECT code, name FROM {table}").fetchall()))
    out["user"] = dict(conn.execute("SELECT id, name FROM app_user").fetchall())
    return out
