"""Repositories for the base data: divisions, unit grids, roads, parts, addresses, departments, users.

Readers return frozen dataclasses (geometries as shapely objects in EPSG:4490) so that services never
see SQL rows and a PostGIS store can later implement the same functions. Bulk writers take dataclasses
or plain dicts; they must run inside the caller's ``with store.atomic():`` block (one transaction per
write) and, for large batches, drop the R-tree triggers, ``executemany`` and rebuild the index once,
which is several times faster than per-row trigger maintenance.

Array readers (``grid_arrays``, ``part_arrays``) exist for the in-memory spatial index: they decode
thousands of geometries with vectorised shapely/numpy instead of building one dataclass per row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from db import gpkg

BULK_THRESHOLD = 500  # above this many rows, drop the R-tree triggers and rebuild the index once


class BaseDataError(ValueError):
    """Bad base-data input; the message is Chinese + English and names the field and value."""


# -- dataclasses -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    city: str | None = None
    geom: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class Street:
    code: str
    name: str
    district_code: str
    geom: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class Community:
    code: str
    name: str
    street_code: str
    district_code: str
    geom: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class UnitGrid:
    code: str
    community_code: str
    street_code: str
    district_code: str
    area_m2: float | None = None
    area_class: str = "一类区域"
    road_class: str = "次干道"
    key_area: int = 0
    inspector_id: str | None = None
    geom: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class Road:
    name: str
    road_class: str | None = None
    district_code: str | None = None
    geom: BaseGeometry | None = None
    fid: int | None = None


@dataclass(frozen=True, slots=True)
class Part:
    code: str
    class_code: str
    name: str | None = None
    owner_dept: str | None = None
    custodian_dept: str | None = None
    maintainer_dept: str | None = None
    status: str = "完好"
    grid_code: str | None = None
    since: str | None = None
    changed: str | None = None
    data_source: str = "实测"
    note: str | None = None
    geom: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class Address:
    kind: str
    name: str
    full_name: str | None = None
    street_name: str | None = None
    house_no: str | None = None
    grid_code: str | None = None
    initials: str | None = None
    geom: BaseGeometry | None = None
    fid: int | None = None


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    kind: str | None = None
    district_code: str | None = None
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class Responsibility:
    class_code: str
    area_code: str
    department: str


@dataclass(frozen=True, slots=True)
class AppUser:
    id: str
    name: str
    role: str
    districts: str = ""
    departments: str = ""
    password_hash: str | None = None
    active: int = 1

    @property
    def district_list(self) -> list[str]:
        return [d for d in self.districts.split(",") if d]

    @property
    def department_list(self) -> list[str]:
        return [d for d in self.departments.split(",") if d]


T = TypeVar("T")

_FEATURE_TABLES: dict[type, str] = {
    District: "district", Street: "street", Community: "community", UnitGrid: "unit_grid",
    Road: "road", Part: "part", Address: "address",
}


# -- geometry helpers --------------------------------------------------------------------------------
def encode_geometries(geoms: Sequence[BaseGeometry | None], multi: bool = False) -> list[bytes | None]:
    """GeoPackage blobs for many shapely geometries at once (vectorised WKB and bounds).

    ``multi`` promotes Polygon/LineString to Multi* so a table declared MULTIPOLYGON holds only that.
    """
    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) == 0:
        return []
    missing = np.array([g is None for g in arr])
    if multi:
        t = shapely.get_type_id(arr)
        for k in np.flatnonzero(t == 3):
            arr[k] = shapely.MultiPolygon([arr[k]])
        for k in np.flatnonzero(t == 1):
            arr[k] = shapely.MultiLineString([arr[k]])
    wkbs = shapely.to_wkb(arr, byte_order=1)
    bounds = shapely.bounds(arr)
    out: list[bytes | None] = []
    for i in range(len(arr)):
        if missing[i]:
            out.append(None)
        elif np.isnan(bounds[i, 0]):
            out.append(gpkg.encode(wkbs[i], None))
        else:
            b = bounds[i]
            out.append(gpkg.encode(wkbs[i], (float(b[0]), float(b[1]), float(b[2]), float(b[3]))))
    return out


def decode_geometries(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries (object array) from GeoPackage blobs, vectorised."""
    wkbs = [None if b is None else gpkg.wkb_of(b) for b in blobs]
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def decode_points(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Point x/y arrays from GeoPackage point blobs without shapely (the ``encode_point`` layout).

    Falls back to shapely for blobs of another layout (points written by GDAL with an envelope).
    """
    n = len(blobs)
    if n == 0:
        return np.empty(0), np.empty(0)
    if all(len(b) == 29 and b[3] == 1 and b[8] == 1 for b in blobs):
        raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(n, 29)
        xy = raw[:, 13:29].copy().view("<f8").reshape(n, 2)
        return xy[:, 0].copy(), xy[:, 1].copy()
    geoms = decode_geometries(blobs)
    cent = shapely.centroid(geoms)
    return shapely.get_x(cent), shapely.get_y(cent)


# -- writing -----------------------------------------------------------------------------------------
def _require_transaction(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        raise BaseDataError("写入必须在事务中 writes must run inside `with store.atomic():`")


def _as_dict(row: Any, cls: type) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return dict(row)
    if isinstance(row, cls):
        return {f.name: getattr(row, f.name) for f in fields(cls)}
    raise BaseDataError(f"无效的记录类型 row type '{type(row).__name__}' (expected {cls.__name__} or dict)")


def _write_features(
    conn: sqlite3.Connection, cls: type, rows: Iterable[Any], required: Sequence[str], multi: bool
) -> int:
    _require_transaction(conn)
    table = _FEATURE_TABLES[cls]
    cols = [f.name for f in fields(cls) if f.name not in ("geom", "fid")]
    dicts = [_as_dict(r, cls) for r in rows]
    if not dicts:
        return 0
    defaults = {f.name: f.default for f in fields(cls)}
    for i, d in enumerate(dicts):
        for name in required:
            if not d.get(name):
                raise BaseDataError(f"{table} 第 {i + 1} 行缺少字段 field '{name}' is empty (value {d.get(name)!r})")
    geoms = encode_geometries([d.get("geom") for d in dicts], multi=multi)
    values = [
        (g, *[d.get(c, defaults[c]) for c in cols]) for g, d in zip(geoms, dicts)
    ]
    sql = f"INSERT INTO {table} (geom, {', '.join(cols)}) VALUES ({', '.join('?' * (len(cols) + 1))})"
    _executemany_spatial(conn, table, sql, values)
    return len(values)


def _executemany_spatial(conn: sqlite3.Connection, table: str, sql: str, values: Sequence[Sequence[Any]]) -> None:
    try:
        if len(values) > BULK_THRESHOLD:
            gpkg.drop_rtree_triggers(conn, table)
            conn.executemany(sql, values)
            gpkg.rebuild_rtree(conn, table)
        else:
            conn.executemany(sql, values)
        gpkg.update_extent(conn, table)
    except sqlite3.IntegrityError as exc:
        raise BaseDataError(f"{table} 写入失败, 编码重复或缺失 write failed (duplicate or missing code): {exc}") from exc


def write_districts(conn: sqlite3.Connection, rows: Iterable[District | Mapping[str, Any]]) -> int:
    return _write_features(conn, District, rows, ("code", "name"), multi=True)


def write_streets(conn: sqlite3.Connection, rows: Iterable[Street | Mapping[str, Any]]) -> int:
    return _write_features(conn, Street, rows, ("code", "name", "district_code"), multi=True)


def write_communities(conn: sqlite3.Connection, rows: Iterable[Community | Mapping[str, Any]]) -> int:
    return _write_features(conn, Community, rows, ("code", "name", "street_code", "district_code"), multi=True)


def write_grids(conn: sqlite3.Connection, rows: Iterable[UnitGrid | Mapping[str, Any]]) -> int:
    return _write_features(
        conn, UnitGrid, rows, ("code", "community_code", "street_code", "district_code"), multi=True
    )


def write_roads(conn: sqlite3.Connection, rows: Iterable[Road | Mapping[str, Any]]) -> int:
    return _write_features(conn, Road, rows, ("name",), multi=True)


def write_parts(conn: sqlite3.Connection, rows: Iterable[Part | Mapping[str, Any]]) -> int:
    """Parts of any geometry type (points usually; lines and polygons allowed)."""
    return _write_features(conn, Part, rows, ("code", "class_code"), multi=False)


PART_POINT_COLUMNS: tuple[str, ...] = (
    "code", "class_code", "name", "owner_dept", "custodian_dept", "maintainer_dept", "status", "grid_code",
    "since", "changed",
)


def write_part_points(
    conn: sqlite3.Connection, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray,
    records: Sequence[Sequence[Any]], index: bool = True,
) -> int:
    """The fast path for millions of point parts: coordinates plus tuples in ``PART_POINT_COLUMNS`` order.

    Skips shapely and dataclasses entirely (2,000,000 parts at city scale), and fills the R-tree straight
    from the coordinates instead of through the per-row triggers. With ``index=False`` the caller has
    dropped the triggers (``gpkg.drop_rtree_triggers``) for several chunks and recreates them
    (``gpkg.create_rtree_triggers``) and the extent (``gpkg.update_extent``) afterwards.
    """
    _require_transaction(conn)
    n = len(records)
    if not (len(xs) == len(ys) == n):
        raise BaseDataError(f"坐标与记录数量不一致 lengths differ: xs={len(xs)} ys={len(ys)} records={n}")
    if n == 0:
        return 0
    fx = [float(x) for x in xs]
    fy = [float(y) for y in ys]
    enc = gpkg.encode_point
    values = [(enc(x, y), *r) for x, y, r in zip(fx, fy, records)]
    cols = ", ".join(PART_POINT_COLUMNS)
    sql = f"INSERT INTO part (geom, {cols}) VALUES ({', '.join('?' * (len(PART_POINT_COLUMNS) + 1))})"
    if index:
        gpkg.drop_rtree_triggers(conn, "part")
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='part'").fetchone()
    top = conn.execute("SELECT max(fid) FROM part").fetchone()[0]
    first = max(seq[0] if seq else 0, top or 0) + 1
    try:
        conn.executemany(sql, values)
    except sqlite3.IntegrityError as exc:
        raise BaseDataError(f"part 写入失败, 编码重复 write failed (duplicate code): {exc}") from exc
    last = conn.execute("SELECT max(fid) FROM part").fetchone()[0]
    rtree = gpkg.rtree_name("part")
    if last == first + n - 1:
        conn.executemany(f"INSERT INTO {rtree} VALUES (?, ?, ?, ?, ?)",
                         zip(range(first, last + 1), fx, fx, fy, fy))
    else:  # fids were not consecutive (should not happen in one transaction): index the slow way
        conn.execute(
            f"INSERT OR REPLACE INTO {rtree} SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) "
            "FROM part WHERE fid >= ?", (first,)
        )
    if index:
        gpkg.create_rtree_triggers(conn, "part")
        gpkg.update_extent(conn, "part")
    return n


def write_addresses(conn: sqlite3.Connection, rows: Iterable[Address | Mapping[str, Any]]) -> int:
    return _write_features(conn, Address, rows, ("kind", "name"), multi=False)


def _write_attrs(conn: sqlite3.Connection, table: str, cls: type, rows: Iterable[Any], required: Sequence[str],
                 verb: str = "INSERT OR REPLACE") -> int:
    _require_transaction(conn)
    cols = [f.name for f in fields(cls)]
    defaults = {f.name: f.default for f in fields(cls)}
    values = []
    for i, r in enumerate(rows):
        d = _as_dict(r, cls)
        for name in required:
            if not d.get(name):
                raise BaseDataError(f"{table} 第 {i + 1} 行缺少字段 field '{name}' is empty (value {d.get(name)!r})")
        values.append(tuple(d.get(c, defaults[c]) for c in cols))
    conn.executemany(
        f"{verb} INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
    )
    return len(values)


def write_departments(conn: sqlite3.Connection, rows: Iterable[Department | Mapping[str, Any]]) -> int:
    return _write_attrs(conn, "department", Department, rows, ("code", "name"))


def write_responsibilities(conn: sqlite3.Connection, rows: Iterable[Responsibility | Mapping[str, Any]]) -> int:
    return _write_attrs(conn, "responsibility", Responsibility, rows, ("class_code", "area_code", "department"),
                        verb="INSERT OR IGNORE")


def write_users(conn: sqlite3.Connection, rows: Iterable[AppUser | Mapping[str, Any]]) -> int:
    return _write_attrs(conn, "app_user", AppUser, rows, ("id", "name", "role"))


def write_meta(conn: sqlite3.Connection, values: Mapping[str, str]) -> None:
    _require_transaction(conn)
    conn.executemany("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", list(values.items()))


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM store_meta").fetchall())


def set_password_hash(conn: sqlite3.Connection, user_id: str, password_hash: str) -> None:
    _require_transaction(conn)
    conn.execute("UPDATE app_user SET password_hash=? WHERE id=?", (password_hash, user_id))


def clear_base_data(conn: sqlite3.Connection) -> None:
    """Empty every base-data table (a rebuild of the demo city in the same store)."""
    _require_transaction(conn)
    for table in ("district", "street", "community", "unit_grid", "road", "part", "address"):
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"DELETE FROM {gpkg.rtree_name(table)}")
    for table in ("department", "responsibility", "app_user"):
        conn.execute(f"DELETE FROM {table}")


# -- reading -----------------------------------------------------------------------------------------
def _read(conn: sqlite3.Connection, cls: type[T], table: str, where: str = "", params: Sequence[Any] = (),
          order: str = "code", with_fid: bool = False) -> list[T]:
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    spatial = "geom" in names
    cols = [n for n in names if n not in ("geom", "fid")]
    sel = list(cols)
    if spatial:
        sel.append("geom")
    if with_fid:
        sel.append("fid")
    sql = f"SELECT {', '.join(sel)} FROM {table}"
    if where:
        sql += f" WHERE {where}"
    if order:
        sql += f" ORDER BY {order}"
    rows = conn.execute(sql, tuple(params)).fetchall()
    geoms = decode_geometries([r[len(cols)] for r in rows]) if spatial else None
    out = []
    for i, r in enumerate(rows):
        kw = dict(zip(cols, r[: len(cols)]))
        if spatial:
            kw["geom"] = geoms[i]  # type: ignore[index]
        if with_fid:
            kw["fid"] = r[-1]
        out.append(cls(**kw))
    return out


def districts(conn: sqlite3.Connection) -> list[District]:
    return _read(conn, District, "district")


def streets(conn: sqlite3.Connection, district_code: str | None = None) -> list[Street]:
    if district_code:
        return _read(conn, Street, "street", "district_code=?", (district_code,))
    return _read(conn, Street, "street")


def communities(conn: sqlite3.Connection, street_code: str | None = None) -> list[Community]:
    if street_code:
        return _read(conn, Community, "community", "street_code=?", (street_code,))
    return _read(conn, Community, "community")


def grids(conn: sqlite3.Connection, community_code: str | None = None, district_code: str | None = None) -> list[UnitGrid]:
    if community_code:
        return _read(conn, UnitGrid, "unit_grid", "community_code=?", (community_code,))
    if district_code:
        return _read(conn, UnitGrid, "unit_grid", "district_code=?", (district_code,))
    return _read(conn, UnitGrid, "unit_grid")


def grid(conn: sqlite3.Connection, code: str) -> UnitGrid | None:
    found = _read(conn, UnitGrid, "unit_grid", "code=?", (code,))
    return found[0] if found else None


def roads(conn: sqlite3.Connection, district_code: str | None = None) -> list[Road]:
    if district_code:
        return _read(conn, Road, "road", "district_code=?", (district_code,), order="fid", with_fid=True)
    return _read(conn, Road, "road", order="fid", with_fid=True)


def parts(conn: sqlite3.Connection, grid_code: str | None = None, class_code: str | None = None,
          limit: int | None = None) -> list[Part]:
    clauses, params = [], []
    if grid_code:
        clauses.append("grid_code=?")
        params.append(grid_code)
    if class_code:
        clauses.append("class_code=?")
        params.append(class_code)
    order = "code" + (f" LIMIT {int(limit)}" if limit else "")
    return _read(conn, Part, "part", " AND ".join(clauses), params, order=order)


def part(conn: sqlite3.Connection, code: str) -> Part | None:
    found = _read(conn, Part, "part", "code=?", (code,))
    return found[0] if found else None


def parts_in_bbox(conn: sqlite3.Connection, minx: float, miny: float, maxx: float, maxy: float,
                  limit: int = 10_000) -> list[Part]:
    """Parts whose envelope meets the box, through the GeoPackage R-tree."""
    r = gpkg.rtree_name("part")
    return _read(
        conn, Part, "part",
        f"fid IN (SELECT id FROM {r} WHERE maxx>=? AND minx<=? AND maxy>=? AND miny<=?)",
        (minx, maxx, miny, maxy), order=f"code LIMIT {int(limit)}",
    )


def addresses(conn: sqlite3.Connection, kind: str | None = None) -> list[Address]:
    if kind:
        return _read(conn, Address, "address", "kind=?", (kind,), order="fid", with_fid=True)
    return _read(conn, Address, "address", order="fid", with_fid=True)


def departments(conn: sqlite3.Connection) -> list[Department]:
    return _read(conn, Department, "department")


def responsibilities(conn: sqlite3.Connection, class_code: str | None = None) -> list[Responsibility]:
    if class_code:
        return _read(conn, Responsibility, "responsibility", "class_code=?", (class_code,), order="area_code")
    return _read(conn, Responsibility, "responsibility", order="class_code, area_code")


def users(conn: sqlite3.Connection, role: str | None = None) -> list[AppUser]:
    if role:
        return _read(conn, AppUser, "app_user", "role=?", (role,), order="id")
    return _read(conn, AppUser, "app_user", order="id")


def user(conn: sqlite3.Connection, user_id: str) -> AppUser | None:
    found = _read(conn, AppUser, "app_user", "id=?", (user_id,), order="id")
    return found[0] if found else None


# -- arrays for spatial indexes ----------------------------------------------------------------------
@dataclass(frozen=True)
class GridArrays:
    """Unit grids as parallel arrays: codes and hierarchy codes (str objects) and shapely polygons."""

    code: np.ndarray
    community_code: np.ndarray
    street_code: np.ndarray
    district_code: np.ndarray
    geom: np.ndarray


def grid_arrays(conn: sqlite3.Connection) -> GridArrays:
    rows = conn.execute(
        "SELECT code, community_code, street_code, district_code, geom FROM unit_grid ORDER BY code"
    ).fetchall()
    cols = list(zip(*rows)) if rows else [(), (), (), (), ()]
    return GridArrays(
        np.asarray(cols[0], dtype=object), np.asarray(cols[1], dtype=object),
        np.asarray(cols[2], dtype=object), np.asarray(cols[3], dtype=object),
        decode_geometries(cols[4]),
    )


@dataclass(frozen=True)
class PartArrays:
    code: np.ndarray
    class_code: np.ndarray
    x: np.ndarray
    y: np.ndarray


def part_arrays(conn: sqlite3.Connection) -> PartArrays:
    """Point parts as arrays (non-point parts by their centroid)."""
    rows = conn.execute("SELECT code, class_code, geom FROM part WHERE geom IS NOT NULL ORDER BY fid").fetchall()
    if not rows:
        return PartArrays(np.empty(0, dtype=object), np.empty(0, dtype=object), np.empty(0), np.empty(0))
    codes, classes, blobs = zip(*rows)
    xs, ys = decode_points(blobs)
    return PartArrays(np.asarray(codes, dtype=object), np.asarray(classes, dtype=object), xs, ys)


def part_points_in_bbox(conn: sqlite3.Connection, minx: float, miny: float, maxx: float, maxy: float,
                        class_code: str | None = None) -> PartArrays:
    """Parts whose envelope meets the box (through the R-tree), as arrays: the nearest-part query near a click."""
    r = gpkg.rtree_name("part")
    sql = (f"SELECT p.code, p.class_code, p.geom FROM {r} AS t JOIN part AS p ON p.fid = t.id "
           "WHERE t.maxx >= ? AND t.minx <= ? AND t.maxy >= ? AND t.miny <= ?")
    params: list[Any] = [minx, maxx, miny, maxy]
    if class_code:
        sql += " AND p.class_code = ?"
        params.append(class_code)
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        return PartArrays(np.empty(0, dtype=object), np.empty(0, dtype=object), np.empty(0), np.empty(0))
    codes, classes, blobs = zip(*rows)
    xs, ys = decode_points(blobs)
    return PartArrays(np.asarray(codes, dtype=object), np.asarray(classes, dtype=object), xs, ys)


@dataclass(frozen=True)
class AddressArrays:
    """Addresses as parallel lists and coordinate arrays (search and reverse geocoding need no objects)."""

    fid: list[int]
    kind: list[str]
    name: list[str]
    full_name: list[str | None]
    initials: list[str | None]
    grid_code: list[str | None]
    x: np.ndarray
    y: np.ndarray


def address_arrays(conn: sqlite3.Connection) -> AddressArrays:
    rows = conn.execute(
        "SELECT fid, kind, name, full_name, initials, grid_code, geom FROM address "
        "WHERE geom IS NOT NULL ORDER BY fid"
    ).fetchall()
    if not rows:
        return AddressArrays([], [], [], [], [], [], np.empty(0), np.empty(0))
    fid, kind, name, full, ini, grid, blobs = (list(c) for c in zip(*rows))
    xs, ys = decode_points(blobs)
    return AddressArrays(fid, kind, name, full, ini, grid, xs, ys)


def division_names(conn: sqlite3.Connection) -> dict[str, str]:
    """code → name for districts, streets and communities (labels without geometry)."""
    out: dict[str, str] = {}
    for table in ("district", "street", "community"):
        out.update(dict(conn.execute(f"SELECT code, name FROM {table}").fetchall()))
    return out


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as a dict (for JSON; geometries left as shapely objects)."""
    return asdict(obj)
