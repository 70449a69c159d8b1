"""OGC GeoPackage 1.3 plumbing: the binary geometry header, the required metadata tables, feature and
attribute table registration, R-tree spatial indexes and the ``ST_*`` SQL functions their triggers call.

Kept free of shapely on the hot path: the header carries the envelope, so ``ST_MinX`` and friends read
four doubles instead of parsing WKB. Points without an envelope are parsed directly from their WKB.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable

SRS_ID = 4490
APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300  # GeoPackage 1.3.0

CGCS2000_WKT = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",'
    'SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],'
    'PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]]'
)

_HDR = struct.Struct("<2sBBi")
_ENV = struct.Struct("<4d")
_POINT = struct.Struct("<BId d")


def encode(wkb: bytes, bounds: tuple[float, float, float, float] | None, srs_id: int = SRS_ID) -> bytes:
    """GeoPackage binary: magic, version 0, flags (little endian, xy envelope), srs id, envelope, WKB.

    ``bounds`` is (minx, miny, maxx, maxy); ``None`` marks an empty geometry.
    """
    if bounds is None:
        return _HDR.pack(b"GP", 0, 0b00010001, srs_id) + wkb
    minx, miny, maxx, maxy = bounds
    return _HDR.pack(b"GP", 0, 0b00000011, srs_id) + _ENV.pack(minx, maxx, miny, maxy) + wkb


def encode_point(x: float, y: float, srs_id: int = SRS_ID) -> bytes:
    """A point in GeoPackage binary without building a shapely object (bulk loads)."""
    return _HDR.pack(b"GP", 0, 0b00000001, srs_id) + struct.pack("<BIdd", 1, 1, x, y)


def header_size(blob: bytes) -> int:
    flags = blob[3]
    env = (flags >> 1) & 0b111
    return 8 + {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env, 0)


def wkb_of(blob: bytes) -> bytes:
    """The WKB part of a GeoPackage geometry blob."""
    return bytes(blob[header_size(blob) :])


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or from a point's WKB; ``None`` if empty or absent."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b00010000:
        return None
    env = (flags >> 1) & 0b111
    if env:
        minx, maxx, miny, maxy = _ENV.unpack_from(blob, 8)
        return minx, maxx, miny, maxy
    off = header_size(blob)
    order = blob[off]
    fmt = "<" if order == 1 else ">"
    gtype = struct.unpack_from(fmt + "I", blob, off + 1)[0]
    if gtype % 1000 == 1:
        x, y = struct.unpack_from(fmt + "dd", blob, off + 5)
        if x != x:  # NaN point is empty
            return None
        return x, x, y, y
    from shapely import from_wkb  # rare path: blobs written by other tools without an envelope

    geom = from_wkb(bytes(blob[off:]))
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _st(index: int):  # type: ignore[no-untyped-def]
    def fn(blob: bytes | None) -> float | None:
        env = envelope(blob)
        return None if env is None else env[index]

    return fn


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if envelope(blob) is None else 0


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions GeoPackage R-tree triggers and spatial queries need."""
    det = {"deterministic": True}
    conn.create_function("ST_MinX", 1, _st(0), **det)
    conn.create_function("ST_MaxX", 1, _st(1), **det)
    conn.create_function("ST_MinY", 1, _st(2), **det)
    conn.create_function("ST_MaxY", 1, _st(3), **det)
    conn.create_function("ST_IsEmpty", 1, _is_empty, **det)
    conn.create_function("GPKG_IsAssignable", 2, lambda a, b: 1 if a == b or b == "GEOMETRY" else 0, **det)


BASE_DDL = f"""
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'),
  ('China Geodetic Coordinate System 2000', {SRS_ID}, 'EPSG', {SRS_ID}, '{CGCS2000_WKT}', 'CGCS2000 longitude/latitude');
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
"""


def exec_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements without ``executescript``, which would COMMIT an open transaction."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                conn.execute(buf)
            buf = ""
    if buf.strip():
        conn.execute(buf)


def init_geopackage(conn: sqlite3.Connection) -> None:
    """Make an empty SQLite file a GeoPackage (idempotent)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    exec_script(conn, BASE_DDL)


def add_feature_table(
    conn: sqlite3.Connection,
    table: str,
    geometry_type: str,
    columns: Iterable[str],
    description: str = "",
    geom_column: str = "geom",
) -> None:
    """Create and register a feature table with an R-tree index and its maintenance triggers."""
    cols = ",\n  ".join(columns)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
        f"{geom_column} {geometry_type}, {cols})"
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, SRS_ID),
    )
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (table, geom_column, geometry_type, SRS_ID),
    )
    add_rtree(conn, table, geom_column)


def add_attribute_table(conn: sqlite3.Connection, table: str, ddl_body: str, description: str = "") -> None:
    """Create a non-spatial table and register it as ``attributes`` so GIS tools list it."""
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl_body})")
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        (table, table, description),
    )


def rtree_name(table: str, column: str = "geom") -> str:
    return f"rtree_{table}_{column}"


def add_rtree(conn: sqlite3.Connection, t: str, c: str = "geom") -> None:
    """The gpkg_rtree_index extension: virtual table plus the triggers of GeoPackage 1.3 (annex F.3)."""
    r = rtree_name(t, c)
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {r} USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (t, c),
    )
    create_rtree_triggers(conn, t, c)


def create_rtree_triggers(conn: sqlite3.Connection, t: str, c: str = "geom") -> None:
    r = rtree_name(t, c)
    env = f"ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    exec_script(conn,
        f"""
CREATE TRIGGER IF NOT EXISTS {r}_insert AFTER INSERT ON {t}
WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {env}); END;
CREATE TRIGGER IF NOT EXISTS {r}_update1 AFTER UPDATE OF {c} ON {t}
WHEN OLD.fid = NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {env}); END;
CREATE TRIGGER IF NOT EXISTS {r}_update2 AFTER UPDATE OF {c} ON {t}
WHEN OLD.fid = NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
CREATE TRIGGER IF NOT EXISTS {r}_update3 AFTER UPDATE ON {t}
WHEN OLD.fid != NEW.fid AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES (NEW.fid, {env}); END;
CREATE TRIGGER IF NOT EXISTS {r}_update4 AFTER UPDATE ON {t}
WHEN OLD.fid != NEW.fid AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
CREATE TRIGGER IF NOT EXISTS {r}_delete AFTER DELETE ON {t}
WHEN old.{c} NOT NULL
BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
"""
    )


def drop_rtree_triggers(conn: sqlite3.Connection, t: str, c: str = "geom") -> None:
    """For bulk loads: drop the per-row triggers, load, then :func:`rebuild_rtree`."""
    r = rtree_name(t, c)
    for suffix in ("insert", "update1", "update2", "update3", "update4", "delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {r}_{suffix}")


def rebuild_rtree(conn: sqlite3.Connection, t: str, c: str = "geom") -> None:
    r = rtree_name(t, c)
    conn.execute(f"DELETE FROM {r}")
    conn.execute(
        f"INSERT INTO {r} SELECT fid, ST_MinX({c}), ST_MaxX({c}), ST_MinY({c}), ST_MaxY({c}) "
        f"FROM {t} WHERE {c} IS NOT NULL AND NOT ST_IsEmpty({c})"
    )
    create_rtree_triggers(conn, t, c)


def update_extent(conn: sqlite3.Connection, t: str) -> None:
    """Refresh ``gpkg_contents`` bounds and last_change from the R-tree (cheap)."""
    r = rtree_name(t)
    row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {r}").fetchone()
    conn.execute(
        "UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, "
        "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
        (*row, t),
    )
