"""Attribute-table SQL for the console's tables: filtered, sorted id lists and rows by id.

Only whitelisted tables and columns reach SQL text; filter values are always bound parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "case_state": ("case_no", "status", "source", "kind", "class_code", "district_code", "street_code", "grid_code",
                   "department", "address", "reported_at", "stage_deadline", "closed_at", "close_type",
                   "escalation_level", "rework_count", "dispatch_count"),
    "unit_grid": ("code", "district_code", "street_code", "community_code", "area_m2", "area_class", "road_class",
                  "key_area", "inspector_id"),
    "part": ("code", "class_code", "name", "owner_dept", "custodian_dept", "maintainer_dept", "status", "grid_code",
             "since", "changed", "data_source"),
}


def _check(table: str, column: str | None = None) -> None:
    if table not in TABLE_COLUMNS:
        raise ValueError(f"未知的表 table '{table}'")
    if column is not None and column not in TABLE_COLUMNS[table]:
        raise ValueError(f"未知的字段 column '{column}' of '{table}'")


def _where(table: str, filters: Sequence[tuple[str, str]]) -> tuple[str, list[object]]:
    parts: list[str] = []
    params: list[object] = []
    for column, text in filters:
        if not text:
            continue
        _check(table, column)
        parts.append(f"{column} LIKE ?")
        params.append(f"%{text}%")
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def filtered_fids(conn: sqlite3.Connection, table: str, filters: Sequence[tuple[str, str]] = (),
                  sort: str | None = None, descending: bool = False) -> list[int]:
    _check(table, sort)
    where, params = _where(table, filters)
    order = f" ORDER BY {sort} {'DESC' if descending else 'ASC'}, fid" if sort else " ORDER BY fid"
    return [r[0] for r in conn.execute(f"SELECT fid FROM {table}{where}{order}", params)]


def rows_by_fid(conn: sqlite3.Connection, table: str, fids: Sequence[int]) -> list[tuple[object, ...]]:
    """Rows (fid first, then the table's columns) in the order of ``fids``."""
    _check(table)
    if not fids:
        return []
    cols = ", ".join(TABLE_COLUMNS[table])
    found: dict[int, tuple[object, ...]] = {}
    for i in range(0, len(fids), 900):
        chunk = list(fids[i : i + 900])
        for r in conn.execute(f"SELECT fid, {cols} FROM {table} WHERE fid IN ({','.join('?' * len(chunk))})", chunk):
            found[r[0]] = tuple(r)
    return [found[f] for f in fids if f in found]
