"""SQL for time limits, dispatch suggestions and duplicate checks, so the services in ``app/`` stay SQL-free.

Functions take a ``sqlite3.Connection`` (readers) or run inside the caller's ``store.atomic()`` block
(writers) and return plain tuples/dicts; ``app`` turns them into its own dataclasses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

# -- catalogue and time limits -----------------------------------------------------------------------


def store_catalog(conn: sqlite3.Connection) -> str | None:
    """The catalogue id the store records (``store_meta.catalog``), or None."""
    row = conn.execute("SELECT value FROM store_meta WHERE key='catalog'").fetchone()
    return row[0] if row else None


def catalog_classes(conn: sqlite3.Connection, catalog: str) -> list[tuple[str, str, str, str]]:
    """``(kind, major_code, class_code, name)`` of every class of ``catalog`` in the store."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT kind, major_code, class_code, name FROM catalog_class WHERE catalog=? ORDER BY kind, class_code",
            (catalog,),
        )
    ]


def time_limit_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str, str, str, int, float, str]]:
    """``(stage, class_code, urgency, area_class, source, ceiling, amount, unit)`` of every configured row."""
    return [
        (r[0], r[1], r[2], r[3], r[4], int(r[5]), float(r[6]), r[7])
        for r in conn.execute(
            "SELECT stage, class_code, urgency, area_class, source, ceiling, amount, unit FROM time_limit ORDER BY id"
        )
    ]


def replace_time_limits(conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> int:
    """Replace the whole ``time_limit`` table with rows in :func:`time_limit_rows` order; call inside
    ``store.atomic()``."""
    conn.execute("DELETE FROM time_limit")
    cur = conn.executemany(
        "INSERT INTO time_limit (stage, class_code, urgency, area_class, source, ceiling, amount, unit) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [tuple(r) for r in rows],
    )
    return cur.rowcount


def grid_area_classes(conn: sqlite3.Connection) -> dict[str, str | None]:
    """``grid_code -> area_class`` of every unit grid (one read, cached by the deadline service)."""
    return {r[0]: r[1] for r in conn.execute("SELECT code, area_class FROM unit_grid")}


def grid_area_class(conn: sqlite3.Connection, grid_code: str) -> str | None:
    row = conn.execute("SELECT area_class FROM unit_grid WHERE code=?", (grid_code,)).fetchone()
    return row[0] if row else None


# -- dispatch --------------------------------------------------------------------------------------------


def all_responsibilities(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """``(class_code, area_code, department)`` of the whole responsibility table, in id order."""
    return [(r[0], r[1], r[2]) for r in conn.execute("SELECT class_code, area_code, department FROM responsibility ORDER BY id")]


def all_area_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Names of every district, street and community by code."""
    out: dict[str, str] = {}
    for table in ("district", "street", "community"):
        out.update((r[0], r[1]) for r in conn.execute(f"SELECT code, name FROM {table}"))
    return out


def responsibility_matches(
    conn: sqlite3.Connection, class_keys: Sequence[str], area_codes: Sequence[str]
) -> list[tuple[str, str, str, str | None]]:
    """``(class_code, area_code, department, department name)`` rows matching any class key and area."""
    if not class_keys or not area_codes:
        return []
    sql = (
        "SELECT r.class_code, r.area_code, r.department, d.name FROM responsibility r "
        "LEFT JOIN department d ON d.code = r.department "
        f"WHERE r.class_code IN ({','.join('?' * len(class_keys))}) "
        f"AND r.area_code IN ({','.join('?' * len(area_codes))}) ORDER BY r.id"
    )
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(sql, [*class_keys, *area_codes])]


def part_departments(conn: sqlite3.Connection, part_code: str) -> tuple[str | None, str | None, str | None] | None:
    """``(owner_dept, custodian_dept, maintainer_dept)`` of a part, or None when the store has no such part."""
    row = conn.execute(
        "SELECT owner_dept, custodian_dept, maintainer_dept FROM part WHERE code=?", (part_code,)
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def departments(conn: sqlite3.Connection) -> list[tuple[str, str, str | None, str | None]]:
    """``(code, name, kind, district_code)`` of every department."""
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute("SELECT code, name, kind, district_code FROM department")]


def area_names(conn: sqlite3.Connection, codes: Sequence[str]) -> dict[str, str]:
    """Names of districts, streets and communities by code (grids are named by their code)."""
    out: dict[str, str] = {}
    if not codes:
        return out
    marks = ",".join("?" * len(codes))
    for table in ("district", "street", "community"):
        for code, name in conn.execute(f"SELECT code, name FROM {table} WHERE code IN ({marks})", list(codes)):
            out[code] = name
    return out


def approved_returns(conn: sqlite3.Connection, start: str | None = None, end: str | None = None,
                     case_no: str | None = None) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """Every approved 回退 with the dispatch it undid.

    ``(case_no, returned_at, dispatcher_id, department, dispatched_at)``: the dispatch is the case's
    latest ``dispatch`` event before the approval, so the return is charged to whoever made it.
    """
    sql = (
        "SELECT r.case_no, r.at, d.actor_id, json_extract(d.payload, '$.department'), d.at "
        "FROM case_event r LEFT JOIN case_event d ON d.seq = ("
        "  SELECT max(x.seq) FROM case_event x WHERE x.case_no = r.case_no AND x.action = 'dispatch' AND x.seq < r.seq) "
        "WHERE r.action = 'decide_return' AND json_extract(r.payload, '$.approved') IN (1, 'true') "
    )
    params: list[Any] = []
    if start is not None:
        sql += "AND r.at >= ? "
        params.append(start)
    if end is not None:
        sql += "AND r.at < ? "
        params.append(end)
    if case_no is not None:
        sql += "AND r.case_no = ? "
        params.append(case_no)
    sql += "ORDER BY r.seq"
    return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(sql, params)]


def bounced_cases(conn: sqlite3.Connection, more_than: int, open_only: bool = True) -> list[tuple[str, str, int, int]]:
    """``(case_no, status, return_count, dispatch_count)`` of cases returned more than ``more_than`` times."""
    sql = "SELECT case_no, status, return_count, dispatch_count FROM case_state WHERE return_count > ?"
    if open_only:
        sql += " AND status NOT IN ('closed', 'void')"
    sql += " ORDER BY return_count DESC, case_no"
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in conn.execute(sql, (more_than,))]


def redispatched_cases(conn: sqlite3.Connection, start: str | None = None, end: str | None = None
                       ) -> list[tuple[str, int]]:
    """``(case_no, dispatch_count)`` of cases dispatched more than once (多次派遣), by report time."""
    sql = "SELECT case_no, dispatch_count FROM case_state WHERE dispatch_count > 1"
    params: list[Any] = []
    if start is not None:
        sql += " AND reported_at >= ?"
        params.append(start)
    if end is not None:
        sql += " AND reported_at < ?"
        params.append(end)
    return [(r[0], int(r[1])) for r in conn.execute(sql + " ORDER BY case_no", params)]


# -- duplicates and repeats ----------------------------------------------------------------------------

NEAR_COLUMNS = ("case_no", "status", "kind", "class_code", "lon", "lat", "reported_at", "closed_at",
                "grid_code", "address", "duplicate_of")


def cases_in_box(
    conn: sqlite3.Connection, minx: float, maxx: float, miny: float, maxy: float,
    reported_since: str, closed_since: str,
) -> list[dict[str, Any]]:
    """Open cases reported since ``reported_since`` and closed ones closed since ``closed_since`` in a box.

    Uses the case_state R-tree; void cases (including duplicates already linked) are left out.
    """
    sql = (
        "SELECT s.case_no, s.status, s.kind, s.class_code, ST_MinX(s.geom), ST_MinY(s.geom), s.reported_at, "
        "s.closed_at, s.grid_code, s.address, s.duplicate_of "
        "FROM rtree_case_state_geom r JOIN case_state s ON s.fid = r.id "
        "WHERE r.minx <= :maxx AND r.maxx >= :minx AND r.miny <= :maxy AND r.maxy >= :miny "
        "AND s.status != 'void' AND ((s.status != 'closed' AND s.reported_at >= :rs) "
        "OR (s.status = 'closed' AND s.closed_at >= :cs))"
    )
    params = {"minx": minx, "maxx": maxx, "miny": miny, "maxy": maxy, "rs": reported_since, "cs": closed_since}
    return [dict(zip(NEAR_COLUMNS, r)) for r in conn.execute(sql, params)]


def repeat_rows(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[Any, ...]]:
    """``(case_no, kind, class_code, grid_code, road_class, key_area, reported_at)`` of the cases reported in
    ``[start, end)`` that were not void at ``end`` (registered or still in intake: a repeat is a repeat
    report; one voided after the period, e.g. marked a duplicate, was still a report of it)."""
    sql = (
        "SELECT s.case_no, s.kind, s.class_code, s.grid_code, g.road_class, COALESCE(g.key_area, 0), s.reported_at "
        "FROM case_state s LEFT JOIN unit_grid g ON g.code = s.grid_code "
        "WHERE s.reported_at >= ? AND s.reported_at < ? AND NOT (s.status = 'void' AND "
        "(s.closed_at IS NULL OR s.closed_at < ?)) ORDER BY s.reported_at, s.case_no"
    )
    return [tuple(r) for r in conn.execute(sql, (start, end, end))]


# -- the simulated year ----------------------------------------------------------------------------------


def grid_sim_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """``(code, street_code, district_code, road_class, area_class, key_area, inspector_id, geom)`` of every grid."""
    return [tuple(r) for r in conn.execute(
        "SELECT code, street_code, district_code, road_class, area_class, COALESCE(key_area, 0), inspector_id, geom "
        "FROM unit_grid WHERE geom IS NOT NULL ORDER BY code"
    )]


def max_part_fid(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(max(fid), 0) FROM part").fetchone()[0])


def parts_by_fid(conn: sqlite3.Connection, fids: Sequence[int]) -> list[tuple[Any, ...]]:
    """``(fid, code, class_code, grid_code, owner_dept, custodian_dept, maintainer_dept, lon, lat)`` for the fids."""
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(fids), 900):
        part = list(fids[i : i + 900])
        out.extend(tuple(r) for r in conn.execute(
            "SELECT fid, code, class_code, grid_code, owner_dept, custodian_dept, maintainer_dept, "
            f"ST_MinX(geom), ST_MinY(geom) FROM part WHERE fid IN ({','.join('?' * len(part))}) AND geom IS NOT NULL",
            part,
        ))
    return out


def users_by_role(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Active user ids per role, sorted (the simulator's actors)."""
    out: dict[str, list[str]] = {}
    for uid, role in conn.execute("SELECT id, role FROM app_user WHERE active = 1 ORDER BY id"):
        out.setdefault(role, []).append(uid)
    return out


def has_event_responsibilities(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT 1 FROM responsibility WHERE class_code = 'event' OR class_code LIKE 'event:%' LIMIT 1"
    ).fetchone() is not None


def add_responsibilities(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str]]) -> int:
    """Insert ``(class_code, area_code, department)`` rows, ignoring ones already present; inside ``atomic()``."""
    cur = conn.executemany(
        "INSERT OR IGNORE INTO responsibility (class_code, area_code, department) VALUES (?,?,?)", list(rows)
    )
    return cur.rowcount


def count_time_limits(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM time_limit").fetchone()[0])
