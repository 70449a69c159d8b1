"""Store access for base-data import: the keys and geometries a validation compares against, and the writers.

Kept apart from the general base-data repository because an import replaces features by key (a
re-delivered grid layer overwrites the grids it names and leaves the others) and must run entirely
inside the caller's single transaction: every writer here takes the connection of ``store.atomic()``
and never commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from db import gpkg

FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "district": ("code", "name", "city"),
    "street": ("code", "name", "district_code"),
    "community": ("code", "name", "street_code", "district_code"),
    "unit_grid": ("code", "community_code", "street_code", "district_code", "area_m2", "area_class", "road_class",
                  "key_area", "inspector_id"),
    "part": ("code", "class_code", "name", "owner_dept", "custodian_dept", "maintainer_dept", "status", "grid_code",
             "since", "changed", "data_source", "note"),
    "address": ("kind", "name", "full_name", "street_name", "house_no", "grid_code", "initials"),
}

# Above this many rows a load drops the R-tree triggers and rebuilds the index once (ARCHITECTURE §3).
BULK_THRESHOLD = 5000


def _check_table(table: str) -> None:
    if table not in FEATURE_COLUMNS:
        raise ValueError(f"未知的要素表 table '{table}'")


def keys(conn: sqlite3.Connection, table: str) -> set[str]:
    """The import keys already present: ``code``, or ``kind|full name`` for addresses."""
    _check_table(table)
    if table == "address":
        return {f"{k}|{n}" for k, n in conn.execute("SELECT kind, coalesce(full_name, name) FROM address")}
    return {r[0] for r in conn.execute(f"SELECT code FROM {table}")}


def geometries(
    conn: sqlite3.Connection,
    table: str,
    codes: Iterable[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> list[tuple[str, bytes, str | None]]:
    """``(code, wkb, parent)`` of features, filtered by code and/or bounding box (R-tree).

    ``parent`` is the ``community_code`` for unit grids and ``None`` elsewhere.
    """
    _check_table(table)
    parent = "community_code" if table == "unit_grid" else "NULL"
    sql = f"SELECT t.code, t.geom, {parent} FROM {table} t"
    args: list[Any] = []
    where: list[str] = ["t.geom IS NOT NULL"]
    if bbox is not None:
        rt = gpkg.rtree_name(table)
        sql += f" JOIN {rt} r ON r.id = t.fid"
        minx, miny, maxx, maxy = bbox
        where.append("r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?")
        args += [minx, maxx, miny, maxy]
    out: list[tuple[str, bytes, str | None]] = []
    rows = conn.execute(sql + " WHERE " + " AND ".join(where), args).fetchall()
    wanted = set(codes) if codes is not None else None
    for code, blob, par in rows:
        if wanted is not None and code not in wanted:
            continue
        out.append((code, gpkg.wkb_of(blob), par))
    return out


def grids_of_communities(conn: sqlite3.Connection, communities: Iterable[str]) -> list[tuple[str, bytes, str]]:
    """``(code, wkb, community_code)`` of every grid in the given communities (for gaps inside them)."""
    out: list[tuple[str, bytes, str]] = []
    comms = sorted(set(communities))
    for start in range(0, len(comms), 500):
        chunk = comms[start : start + 500]
        rows = conn.execute(
            f"SELECT code, geom, community_code FROM unit_grid WHERE geom IS NOT NULL AND community_code IN "
            f"({', '.join('?' * len(chunk))})",
            chunk,
        )
        out.extend((code, gpkg.wkb_of(blob), comm) for code, blob, comm in rows)
    return out


def catalog_classes(conn: sqlite3.Connection, catalog: str, kind: str | None = None) -> set[str]:
    if kind is None:
        rows = conn.execute("SELECT class_code FROM catalog_class WHERE catalog=?", (catalog,))
    else:
        rows = conn.execute("SELECT class_code FROM catalog_class WHERE catalog=? AND kind=?", (catalog, kind))
    return {r[0] for r in rows}


def store_catalog(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM store_meta WHERE key='catalog'").fetchone()
    return row[0] if row else None


def department_codes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT code FROM department")}


def responsibility_keys(conn: sqlite3.Connection) -> set[str]:
    return {f"{c}|{a}|{d}" for c, a, d in conn.execute("SELECT class_code, area_code, department FROM responsibility")}


def area_codes(conn: sqlite3.Connection) -> set[str]:
    """Codes a responsibility row may name as its area: districts, streets, communities and grids."""
    out: set[str] = set()
    for table in ("district", "street", "community", "unit_grid"):
        out.update(r[0] for r in conn.execute(f"SELECT code FROM {table}"))
    return out


def replace_features(
    conn: sqlite3.Connection,
    table: str,
    rows: Sequence[tuple[Any, ...]],
    after_chunk: Any = None,
    chunk: int = 2000,
) -> int:
    """Insert ``(geom_blob, *FEATURE_COLUMNS[table])`` rows, replacing existing rows with the same key.

    Runs inside the caller's transaction. ``after_chunk(done, total)`` is called after each chunk
    (progress, cancellation, and the test hook that interrupts an import mid-way).
    """
    _check_table(table)
    cols = FEATURE_COLUMNS[table]
    if table == "address":
        conn.executemany(
            "DELETE FROM address WHERE kind=? AND coalesce(full_name, name)=?", [(r[1], r[3] or r[2]) for r in rows]
        )
    else:
        conn.executemany(f"DELETE FROM {table} WHERE code=?", [(r[1],) for r in rows])
    bulk = len(rows) >= BULK_THRESHOLD
    last_fid = conn.execute(f"SELECT coalesce(max(fid), 0) FROM {table}").fetchone()[0]
    if bulk:
        gpkg.drop_rtree_triggers(conn, table)
    sql = f"INSERT INTO {table} (geom, {', '.join(cols)}) VALUES ({', '.join('?' * (len(cols) + 1))})"
    total = len(rows)
    for start in range(0, total, chunk):
        conn.executemany(sql, rows[start : start + chunk])
        if after_chunk is not None:
            after_chunk(min(start + chunk, total), total)
    if bulk:
        _index_new_rows(conn, table, last_fid)
        gpkg.create_rtree_triggers(conn, table)
    gpkg.update_extent(conn, table)
    return total


def _index_new_rows(conn: sqlite3.Connection, table: str, last_fid: int) -> None:
    """R-tree entries for rows above ``last_fid`` only: one envelope read per row instead of a full rebuild."""
    entries = []
    for fid, blob in conn.execute(f"SELECT fid, geom FROM {table} WHERE fid > ?", (last_fid,)):
        env = gpkg.envelope(blob)
        if env is not None:
            entries.append((fid, *env))
    conn.executemany(f"INSERT OR REPLACE INTO {gpkg.rtree_name(table)} VALUES (?, ?, ?, ?, ?)", entries)


def upsert_departments(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> int:
    """``(code, name, kind, district_code, parent_code)`` rows; an existing code is replaced."""
    conn.executemany(
        "INSERT OR REPLACE INTO department (code, name, kind, district_code, parent_code) VALUES (?,?,?,?,?)", rows
    )
    return len(rows)


def add_responsibility(conn: sqlite3.Connection, rows: Sequence[tuple[str, str, str]]) -> int:
    """``(class_code, area_code, department)`` rows; rows already present are left as they are."""
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO responsibility (class_code, area_code, department) VALUES (?,?,?)", rows
    )
    return conn.total_changes - before


def district_names(conn: sqlite3.Connection) -> dict[str, str]:
    """District code → city + district name ("徐州市鼓楼区"), the prefix of an address's full name."""
    return {c: f"{city or ''}{name}" for c, name, city in conn.execute("SELECT code, name, city FROM district")}
