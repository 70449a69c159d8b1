"""The case record in the store: the append-only ``case_event`` log with its hash chain, the
``case_state`` projection, idempotency keys, photos, and the queries the console and the engine need.

Why a hash chain: ARCHITECTURE §3 makes ``case_event`` the truth every score is computed from, so any
edit or deletion of history must be detectable. Each event's ``hash`` is the SHA-256 of the canonical
JSON array ``[seq, case_no, at, action, actor_id, role, payload]`` followed by the previous event's hash
(64 zeros before the first). ``payload`` is stored as compact JSON text (the engine writes its derived
``_`` keys, sorted, then the given data, sorted) and hashed exactly as stored, so any change to its
bytes breaks the chain.

This module knows SQL and nothing of the workflow rules (those are ``app.workflow``).
"""

from __future__ import annotations

import hashlib
import json
import operator
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from itertools import chain
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_str  # the C encoder when available
from typing import Any

from db import gpkg

GENESIS_HASH = "0" * 64

# The case_state columns the projection owns, in table order (fid and geom are handled separately).
STATE_COLUMNS: tuple[str, ...] = (
    "case_no", "status", "source", "kind", "class_code", "part_code", "urgency",
    "grid_code", "community_code", "street_code", "district_code",
    "address", "description", "reporter_id", "department",
    "reported_at", "registered_at", "dispatched_at", "handled_at", "closed_at",
    "stage", "stage_started_at", "stage_deadline", "handle_deadline",
    "suspended_at", "suspended_hours", "extension_hours",
    "escalation_level", "escalation_count",
    "duplicate_of", "self_handled", "rework_count",
    "dispatch_count", "return_count",
    "extension_count", "close_type", "pending_request",
    "last_seq", "updated_at",
)


@dataclass(slots=True)
class CaseState:
    """One row of ``case_state`` plus the point (lon, lat): the snapshot the engine works on."""

    case_no: str
    status: str
    source: str | None = None
    kind: str | None = None
    class_code: str | None = None
    part_code: str | None = None
    urgency: str = "normal"
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    district_code: str | None = None
    address: str | None = None
    description: str | None = None
    reporter_id: str | None = None
    department: str | None = None
    reported_at: str | None = None
    registered_at: str | None = None
    dispatched_at: str | None = None
    handled_at: str | None = None
    closed_at: str | None = None
    stage: str | None = None
    stage_started_at: str | None = None
    stage_deadline: str | None = None
    handle_deadline: str | None = None
    suspended_at: str | None = None
    suspended_hours: float = 0.0
    extension_hours: float = 0.0
    escalation_level: int = 0
    escalation_count: int = 0
    duplicate_of: str | None = None
    self_handled: int = 0
    rework_count: int = 0
    dispatch_count: int = 0
    return_count: int = 0
    extension_count: int = 0
    close_type: str | None = None
    pending_request: str | None = None
    last_seq: int = 0
    updated_at: str | None = None
    lon: float | None = field(default=None)
    lat: float | None = field(default=None)

    def copy(self) -> CaseState:
        return CaseState(*_all_values(self))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


assert tuple(f.name for f in fields(CaseState))[: len(STATE_COLUMNS)] == STATE_COLUMNS
_state_values = operator.attrgetter(*STATE_COLUMNS)
_all_values = operator.attrgetter(*(f.name for f in fields(CaseState)))

_SELECT_STATE = f"SELECT {', '.join(STATE_COLUMNS)}, ST_MinX(geom), ST_MinY(geom) FROM case_state"
_INSERT_STATE = (
    f"INSERT INTO case_state ({', '.join(STATE_COLUMNS)}, geom) VALUES ({', '.join('?' * len(STATE_COLUMNS))}, ?)"
)
_UPDATE_STATE = (
    "UPDATE case_state SET " + ", ".join(f"{c}=?" for c in STATE_COLUMNS[1:]) + " WHERE case_no=?"
)


def _row_to_state(row: Sequence[Any]) -> CaseState:
    s = CaseState(*row[: len(STATE_COLUMNS)])
    s.lon, s.lat = row[len(STATE_COLUMNS)], row[len(STATE_COLUMNS) + 1]
    return s


# -- canonical JSON and the chain -------------------------------------------------------------------------
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# The C encoder ``_ENCODER.encode`` builds on every call, made once (same function, same arguments, so
# the text is identical; only the circular-reference check is left out: our values come from JSON).
_C_ENCODE = (
    _c_make_encoder(None, _ENCODER.default, _encode_str, None, ":", ",", True, False, True)
    if _c_make_encoder is not None else None
)


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: one text per value, so hashes are reproducible."""
    if _C_ENCODE is not None and type(obj) is dict:
        return "".join(_C_ENCODE(obj, 0))
    return _ENCODER.encode(obj)


def canonical_strings(values: Sequence[str]) -> str:
    """``canonical_json`` of a list of texts, without the general encoder (hot path of replay)."""
    return "[" + ",".join(map(_encode_str, values)) + "]"


def join_objects(first: str, second: str) -> str:
    """Two JSON object texts with disjoint keys as one object text (no re-encoding; bulk path)."""
    if second == "{}":
        return first
    if first == "{}":
        return second
    return first[:-1] + "," + second[1:]


def event_hash(seq: int, case_no: str, at: str, action: str, actor_id: str, role: str, payload: str,
               prev_hash: str) -> str:
    """SHA-256 hex of ``canonical_json([seq, case_no, at, action, actor_id, role]) + payload`` chained.

    ``payload`` is the stored canonical JSON text, spliced in as the array's last element.
    """
    head = canonical_json([seq, case_no, at, action, actor_id, role])
    text = head[:-1] + "," + payload + "]" + prev_hash
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash_from_head(seq: int, head_inner: str, payload: str, prev_hash: str) -> str:
    """:func:`event_hash` given ``head_inner`` = ``canonical_json([case_no, at, action, actor_id, role])[1:-1]``."""
    text = f"[{seq},{head_inner},{payload}]{prev_hash}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    case_no: str
    at: str
    action: str
    actor_id: str
    role: str
    payload: str
    prev_hash: str
    hash: str

    def data(self) -> dict[str, Any]:
        return json.loads(self.payload)  # type: ignore[no-any-return]


_event_values = operator.attrgetter("seq", "case_no", "at", "action", "actor_id", "role", "payload", "prev_hash",
                                    "hash")


def chain_tail(conn: sqlite3.Connection) -> tuple[int, str]:
    """(last seq, last hash), or (0, genesis) for an empty record."""
    row = conn.execute("SELECT seq, hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def max_seq(conn: sqlite3.Connection) -> int:
    return chain_tail(conn)[0]


# SQLite's default bound-parameter limit since 3.32 (a build may allow more; we never need more).
_MAX_PARAMS = 32766
_chain = chain.from_iterable


def insert_rows(conn: sqlite3.Connection, head: str, width: int, rows: Sequence[Sequence[Any]],
                tail: str = "") -> None:
    """``head VALUES (?,…),(?,…)… tail`` with as many rows per statement as the parameter limit allows.

    Why not ``executemany``: one statement applies thousands of rows inside a single sqlite3 call, which
    releases the GIL for all of it, whereas ``executemany`` takes the GIL back after every row. That
    lets the engine's background writer (``apply_batch``) run SQLite's index work on the second core
    while the checks go on, instead of waiting up to a GIL switch interval per row; single-threaded it
    costs the same. ``width`` is the number of values per row.
    """
    if not rows:
        return
    limit = _MAX_PARAMS
    getlimit = getattr(conn, "getlimit", None)
    if getlimit is not None:
        limit = min(limit, int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)))
    per = max(1, limit // width)
    one = "(" + ",".join("?" * width) + ")"
    full = None
    for i in range(0, len(rows), per):
        part = rows[i : i + per]
        if len(part) == per:
            if full is None:
                full = f"{head} VALUES {','.join([one] * per)}{tail}"
            sql = full
        else:
            sql = f"{head} VALUES {','.join([one] * len(part))}{tail}"
        conn.execute(sql, list(_chain(part)))


_INSERT_EVENT = "INSERT INTO case_event (seq, case_no, at, action, actor_id, role, payload, prev_hash, hash)"


def insert_events(conn: sqlite3.Connection, rows: Iterable[EventRow | tuple[Any, ...]]) -> None:
    """Append events; rows are :class:`EventRow` or plain tuples in column order (bulk path)."""
    insert_rows(conn, _INSERT_EVENT, 9, [r if isinstance(r, tuple) else _event_values(r) for r in rows])


def iter_events(conn: sqlite3.Connection, since_seq: int = 0, from_at: str | None = None,
                case_no: str | None = None, batch: int = 10000) -> Iterator[EventRow]:
    """Events in seq order after ``since_seq`` (and at or after ``from_at``), read in pages."""
    last = since_seq
    while True:
        sql = "SELECT seq, case_no, at, action, actor_id, role, payload, prev_hash, hash FROM case_event WHERE seq > ?"
        params: list[Any] = [last]
        if from_at is not None:
            sql += " AND at >= ?"
            params.append(from_at)
        if case_no is not None:
            sql += " AND case_no = ?"
            params.append(case_no)
        sql += " ORDER BY seq LIMIT ?"
        params.append(batch)
        rows = conn.execute(sql, params).fetchall()
        if not rows:
            return
        for r in rows:
            yield EventRow(*r)
        last = rows[-1][0]


def events_of(conn: sqlite3.Connection, case_no: str) -> list[EventRow]:
    return list(iter_events(conn, case_no=case_no))


# -- case_state ---------------------------------------------------------------------------------------
def get_case(conn: sqlite3.Connection, case_no: str) -> CaseState | None:
    row = conn.execute(_SELECT_STATE + " WHERE case_no=?", (case_no,)).fetchone()
    return _row_to_state(row) if row else None


def case_exists(conn: sqlite3.Connection, case_no: str) -> bool:
    return conn.execute("SELECT 1 FROM case_state WHERE case_no=?", (case_no,)).fetchone() is not None


def iter_states(conn: sqlite3.Connection) -> Iterator[CaseState]:
    for row in conn.execute(_SELECT_STATE + " ORDER BY case_no"):
        yield _row_to_state(row)


def state_row(s: CaseState) -> tuple[Any, ...]:
    """The projected columns' values followed by lon, lat: a snapshot safe to hand to another thread."""
    return (*_state_values(s), s.lon, s.lat)


def _point(lon: float | None, lat: float | None) -> bytes | None:
    return gpkg.encode_point(lon, lat) if lon is not None and lat is not None else None


def insert_states(conn: sqlite3.Connection, states: Iterable[CaseState]) -> None:
    conn.executemany(_INSERT_STATE, ((*_state_values(s), _point(s.lon, s.lat)) for s in states))


def insert_states_bulk(conn: sqlite3.Connection, states: Sequence[CaseState]) -> None:
    """Like :func:`insert_states` for many rows (see :func:`insert_state_rows`)."""
    insert_state_rows(conn, [state_row(s) for s in states])


def insert_state_rows(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], direct: bool = False) -> None:
    """Insert :func:`state_row` tuples; for many rows (or ``direct``) with explicit fids and R-tree rows
    written directly.

    The per-row R-tree trigger calls four Python ``ST_*`` functions per point; for a point the
    envelope is the point itself, so we write it here and skip the trigger (recreated before commit).
    A background writer passes ``direct`` so no row calls back into Python (see :func:`insert_rows`).
    """
    n = len(STATE_COLUMNS)
    if not rows:
        return
    if len(rows) < 64 and not direct:
        conn.executemany(_INSERT_STATE, ((*r[:n], _point(r[n], r[n + 1])) for r in rows))
        return
    base = int(conn.execute("SELECT coalesce(max(fid), 0) FROM case_state").fetchone()[0])
    seq_row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='case_state'").fetchone()
    if seq_row is not None:
        base = max(base, int(seq_row[0]))
    rtree = gpkg.rtree_name("case_state")
    conn.execute(f"DROP TRIGGER IF EXISTS {rtree}_insert")
    try:
        insert_rows(conn, f"INSERT INTO case_state (fid, {', '.join(STATE_COLUMNS)}, geom)", n + 2,
                    [(base + i, *r[:n], _point(r[n], r[n + 1])) for i, r in enumerate(rows, start=1)])
        insert_rows(conn, f"INSERT INTO {rtree} (id, minx, maxx, miny, maxy)", 5,
                    [(base + i, r[n], r[n], r[n + 1], r[n + 1]) for i, r in enumerate(rows, start=1)
                     if r[n] is not None and r[n + 1] is not None])
    finally:
        gpkg.create_rtree_triggers(conn, "case_state")


def update_states(conn: sqlite3.Connection, states: Iterable[CaseState]) -> None:
    """Rewrite every projected column except the point (a case never moves after its report)."""
    update_state_rows(conn, [state_row(s) for s in states])


def update_state_rows(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    n = len(STATE_COLUMNS)
    conn.executemany(_UPDATE_STATE, ((*r[1:n], r[0]) for r in rows))


def update_state_changes(conn: sqlite3.Connection,
                         changes: Iterable[tuple[str, tuple[int, ...], tuple[Any, ...]]]) -> None:
    """Update only the columns that changed: ``(case_no, column indexes into STATE_COLUMNS, values)``.

    SQLite rewrites an index only when one of its columns is SET, and ``case_state`` carries many
    indexes (inbox, evaluation), so naming just the changed columns makes bulk updates much cheaper.
    """
    groups: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    for case_no, idx, values in changes:
        groups.setdefault(idx, []).append((*values, case_no))
    for idx, params in groups.items():
        # one UPDATE ... FROM (VALUES ...) per few thousand rows (see insert_rows); SQLite scans the values
        # and finds each case by the case_no index, exactly as one UPDATE per row would
        sets = ", ".join(f"{STATE_COLUMNS[i]}=v.column{k}" for k, i in enumerate(idx, start=1))
        insert_rows(conn, f"UPDATE case_state SET {sets} FROM (", len(idx) + 1, params,
                    f") AS v WHERE case_state.case_no=v.column{len(idx) + 1}")


def count_states(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM case_state").fetchone()[0])


def max_serial(conn: sqlite3.Connection, prefix: str, serial_digits: int) -> int:
    """The largest numeric serial of case numbers ``prefix`` + ``serial_digits`` digits (0 if none)."""
    row = conn.execute(
        "SELECT max(case_no) FROM case_state WHERE case_no >= ? AND case_no < ? AND length(case_no) = ?",
        (prefix + "0" * serial_digits, prefix + ":", len(prefix) + serial_digits),
    ).fetchone()
    if not row or row[0] is None:
        return 0
    try:
        return int(str(row[0])[len(prefix):])
    except ValueError:
        return 0


# -- idempotency keys ------------------------------------------------------------------------------------
def known_keys(conn: sqlite3.Connection, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        q = f"SELECT key FROM case_event_key WHERE key IN ({','.join('?' * len(part))})"
        found.update(r[0] for r in conn.execute(q, part))
    return found


def key_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM case_event_key").fetchone()[0])


def insert_keys(conn: sqlite3.Connection, pairs: Iterable[tuple[str, int]]) -> None:
    insert_rows(conn, "INSERT OR IGNORE INTO case_event_key (key, seq)", 2, list(pairs))


# -- photos -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PhotoRow:
    case_no: str
    stage: str
    sha256: str
    mime: str | None
    data: bytes | None
    path: str | None
    added_at: str


def insert_photos(conn: sqlite3.Connection, photos: Iterable[PhotoRow]) -> None:
    insert_rows(conn, "INSERT OR IGNORE INTO case_photo (case_no, stage, sha256, mime, data, path, added_at)", 7,
                [(p.case_no, p.stage, p.sha256, p.mime, p.data, p.path, p.added_at) for p in photos])


def photos_of(conn: sqlite3.Connection, case_no: str) -> list[PhotoRow]:
    rows = conn.execute(
        "SELECT case_no, stage, sha256, mime, data, path, added_at FROM case_photo WHERE case_no=? ORDER BY id",
        (case_no,),
    ).fetchall()
    return [PhotoRow(*r) for r in rows]


# -- reference data the engine checks against ----------------------------------------------------------
def store_catalog(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM store_meta WHERE key='catalog'").fetchone()
    return str(row[0]) if row else None


def class_kinds(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """class_code -> kinds (part/event) in the store's catalogue (all catalogues if none is recorded)."""
    cat = store_catalog(conn)
    if cat is None:
        rows = conn.execute("SELECT class_code, kind FROM catalog_class")
    else:
        rows = conn.execute("SELECT class_code, kind FROM catalog_class WHERE catalog=?", (cat,))
    out: dict[str, set[str]] = {}
    for code, kind in rows:
        out.setdefault(code, set()).add(kind)
    return out


def class_kind_of(conn: sqlite3.Connection, class_code: str) -> set[str]:
    cat = store_catalog(conn)
    if cat is None:
        rows = conn.execute("SELECT kind FROM catalog_class WHERE class_code=?", (class_code,))
    else:
        rows = conn.execute("SELECT kind FROM catalog_class WHERE catalog=? AND class_code=?", (cat, class_code))
    return {r[0] for r in rows}


def department_codes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT code FROM department")}


def department_known(conn: sqlite3.Connection, code: str) -> bool | None:
    """True/False, or None when the store has no departments at all (nothing to check against)."""
    if conn.execute("SELECT 1 FROM department WHERE code=?", (code,)).fetchone():
        return True
    return None if conn.execute("SELECT 1 FROM department LIMIT 1").fetchone() is None else False


def grid_rows(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str, str, bytes | None]]:
    """(code, community_code, street_code, district_code, geom blob) of every unit grid."""
    yield from conn.execute("SELECT code, community_code, street_code, district_code, geom FROM unit_grid")


def grid_row(conn: sqlite3.Connection, code: str) -> tuple[str, str, str, str] | None:
    row = conn.execute(
        "SELECT code, community_code, street_code, district_code FROM unit_grid WHERE code=?", (code,)
    ).fetchone()
    return tuple(row) if row else None  # type: ignore[return-value]


# -- inbox -------------------------------------------------------------------------------------------------
def _queue_where(statuses: Sequence[str], pending: str | None, scope: dict[str, Sequence[str]] | None
                 ) -> tuple[str, list[Any]]:
    where = [f"status IN ({','.join('?' * len(statuses))})"]
    params: list[Any] = list(statuses)
    if pending is not None:
        where.append("pending_request = ?")
        params.append(pending)
    for col, values in (scope or {}).items():
        if col not in ("district_code", "street_code", "department", "grid_code"):
            raise ValueError(f"范围字段错误 scope field '{col}'")
        if values:
            where.append(f"{col} IN ({','.join('?' * len(values))})")
            params.extend(values)
    return " AND ".join(where), params


def queue_count(conn: sqlite3.Connection, statuses: Sequence[str], pending: str | None = None,
                scope: dict[str, Sequence[str]] | None = None) -> int:
    where, params = _queue_where(statuses, pending, scope)
    return int(conn.execute(f"SELECT count(*) FROM case_state WHERE {where}", params).fetchone()[0])


def queue_cases(conn: sqlite3.Connection, statuses: Sequence[str], pending: str | None = None,
                scope: dict[str, Sequence[str]] | None = None, limit: int = 200, offset: int = 0) -> list[str]:
    """Case numbers in the queue, most urgent (earliest stage deadline) first."""
    where, params = _queue_where(statuses, pending, scope)
    rows = conn.execute(
        f"SELECT case_no FROM case_state WHERE {where} ORDER BY stage_deadline IS NULL, stage_deadline, case_no "
        "LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [r[0] for r in rows]
