"""Read-only SQL for the wall display: KPI counts, hot spots, latest cases, map points, district outlines.

Every function takes an open connection (the wall's read-only one) and time bounds as store text
(ISO 8601 with +08:00, so string comparison is time order). Queries are shaped for the indexes the
schema has: flow counts come from ``case_event(action, at)`` (the truth, and the only index on
action times), populations of a period from ``case_state(reported_at)``, open work from
``case_state(status)``. Nothing here writes, so it can run while another process writes (WAL).

The month the wall shows is kept between refreshes by :class:`LiveDigest`, which re-reads only the cases
with events after the last refresh (see docs/wall.md, "The live month digest"); :func:`month_digest` is
the same computation from a full read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from db import gpkg
from db.evaluation_repo import ON_TIME_CLOSE

OPEN_STATUSES = (
    "reported", "verifying", "accepted", "registered", "dispatched", "handled", "checking", "closing",
    "return_requested", "suspended",
)
FLOW_ACTIONS = ("report", "register", "dispatch", "handle", "close")
_OPEN_SQL = ",".join(f"'{s}'" for s in OPEN_STATUSES)
_POINT_BLOB_LEN = 29


@dataclass(frozen=True)
class FlowCounts:
    """Cases that went through each step inside a time window (distinct case numbers)."""

    reported: int = 0
    registered: int = 0
    dispatched: int = 0
    handled: int = 0
    closed: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class PeriodRates:
    """Rates over the cases reported in a window (see docs/wall.md for the formulas)."""

    registered: int = 0
    closed: int = 0
    closed_on_time: int = 0
    open_overdue: int = 0
    rework: int = 0

    @property
    def overdue(self) -> int:
        """超期 of the period: still open past the deadline, or closed after it."""
        return self.open_overdue + (self.closed - self.closed_on_time)

    @property
    def closure_rate(self) -> float | None:
        """结案率 = 结案数 / 立案数."""
        return self.closed / self.registered if self.registered else None

    @property
    def on_time_closure_rate(self) -> float | None:
        """按期结案率 = 按期结案数 / (结案数 + 未结超期数): open overdue cases count against it."""
        den = self.closed + self.open_overdue
        return self.closed_on_time / den if den else None

    @property
    def rework_rate(self) -> float | None:
        """返工率 = 返工案件数 / 结案数."""
        return self.rework / self.closed if self.closed else None


@dataclass(frozen=True)
class CaseRow:
    case_no: str
    reported_at: str
    status: str
    class_name: str
    place: str
    source: str
    stage_started_at: str | None
    stage_deadline: str | None
    suspended_at: str | None = None  # the stage clock stopped here (挂账)


@dataclass
class CasePoints:
    x: np.ndarray
    y: np.ndarray
    status: np.ndarray  # object array of status strings
    overdue: np.ndarray  # bool
    today: np.ndarray  # bool: reported today


@dataclass(frozen=True)
class Outline:
    code: str
    name: str
    rings: list[np.ndarray] = field(default_factory=list)  # (n, 2) lon/lat exterior rings
    label_xy: tuple[float, float] = (0.0, 0.0)


def flow_counts(
    conn: sqlite3.Connection, start: str, end: str, now: str, districts: tuple[str, ...] = ()
) -> FlowCounts:
    """上报/立案/派遣/处置/结案 in [start, end); 超期 = cases open at ``now`` past their stage deadline.

    Without a district filter the counts come from the event log (actions per kind, indexed by action
    and time); with one, from the step timestamps on ``case_state`` of those districts.
    """
    got = dict.fromkeys(FLOW_ACTIONS, 0)
    if districts:
        numbered = ",".join(f"?{i}" for i in range(3, 3 + len(districts)))
        row = conn.execute(
            f"""SELECT sum(reported_at >= ?1 AND reported_at < ?2), sum(registered_at >= ?1 AND registered_at < ?2),
                  sum(dispatched_at >= ?1 AND dispatched_at < ?2), sum(handled_at >= ?1 AND handled_at < ?2),
                  sum(status = 'closed' AND closed_at >= ?1 AND closed_at < ?2)
               FROM case_state WHERE district_code IN ({numbered})""",
            (start, end, *districts),
        ).fetchone()
        got = {a: int(v or 0) for a, v in zip(FLOW_ACTIONS, row, strict=True)}
    else:
        got.update(_event_counts(conn, start, end))
    return FlowCounts(got["report"], got["register"], got["dispatch"], got["handle"], got["close"],
                      open_overdue(conn, now, districts))


def open_overdue(conn: sqlite3.Connection, now: str, districts: tuple[str, ...] = ()) -> int:
    """Cases open at ``now`` past their stage deadline (live state, answered from the status/deadline index)."""
    where, params = _district_filter(districts)
    return int(conn.execute(
        f"SELECT count(*) FROM case_state WHERE status IN ({_OPEN_SQL}) AND stage_deadline < ? {where}",
        (now, *params),
    ).fetchone()[0])


def period_rates(
    conn: sqlite3.Connection, start: str, end: str, now: str, districts: tuple[str, ...] = ()
) -> PeriodRates:
    """Rates over the cases reported in [start, end), judged at ``now``; "on time" is the evaluation's
    definition (:data:`db.evaluation_repo.ON_TIME_CLOSE`), so the wall and the bulletin never disagree."""
    where, params = _district_filter(districts)
    row = conn.execute(
        f"""SELECT
              count(registered_at),
              sum(status = 'closed'),
              sum(status = 'closed' AND {ON_TIME_CLOSE}),
              sum(status IN ({_OPEN_SQL}) AND coalesce(handle_deadline, stage_deadline) < ?),
              sum(rework_count > 0)
            FROM case_state s WHERE reported_at >= ? AND reported_at < ? {where}""",
        (now, start, end, *params),
    ).fetchone()
    return PeriodRates(*(int(v or 0) for v in row))


def _names(conn: sqlite3.Connection, table: str, code_col: str = "code") -> dict[str, str]:
    try:
        return {str(c): str(n) for c, n in conn.execute(f"SELECT {code_col}, name FROM {table}")}
    except sqlite3.OperationalError:
        return {}


def class_names(conn: sqlite3.Connection) -> dict[str, str]:
    return {str(c): str(n) for c, n in conn.execute("SELECT class_code, min(name) FROM catalog_class GROUP BY class_code")}


def district_names(conn: sqlite3.Connection) -> dict[str, str]:
    return _names(conn, "district")


def street_names(conn: sqlite3.Connection) -> dict[str, str]:
    return _names(conn, "street")


def department_names(conn: sqlite3.Connection) -> dict[str, str]:
    return _names(conn, "department")


def top_counts(
    conn: sqlite3.Connection, column: str, start: str, end: str, limit: int = 8, districts: tuple[str, ...] = ()
) -> list[tuple[str, int]]:
    """The most frequent values of ``column`` (class_code, grid_code, street_code, source) among cases reported in the window."""
    if column not in {"class_code", "grid_code", "street_code", "source", "district_code", "department"}:
        raise ValueError(f"不支持的统计列 column='{column}'")
    where, params = _district_filter(districts)
    rows = conn.execute(
        f"SELECT {column}, count(*) AS n FROM case_state WHERE reported_at >= ? AND reported_at < ? "
        f"AND {column} IS NOT NULL {where} GROUP BY {column} ORDER BY n DESC, {column} LIMIT ?",
        (start, end, *params, limit),
    ).fetchall()
    return [(str(v), int(n)) for v, n in rows]


def _district_filter(districts: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if not districts:
        return "", ()
    return f"AND district_code IN ({','.join('?' * len(districts))})", districts


def by_hour(conn: sqlite3.Connection, start: str, end: str, districts: tuple[str, ...] = ()) -> list[int]:
    """Cases reported in the window by hour of day (local time, taken from the stored text)."""
    where, params = _district_filter(districts)
    counts = [0] * 24
    for h, n in conn.execute(
        f"SELECT substr(reported_at, 12, 2), count(*) FROM case_state WHERE reported_at >= ? AND reported_at < ? "
        f"{where} GROUP BY 1",
        (start, end, *params),
    ):
        if h is not None and str(h).isdigit() and 0 <= int(h) < 24:
            counts[int(h)] = int(n)
    return counts


def latest_cases(conn: sqlite3.Connection, limit: int = 40, districts: tuple[str, ...] = ()) -> list[CaseRow]:
    """The newest reported cases with what the scrolling list shows."""
    where, params = _district_filter(districts)
    rows = conn.execute(
        f"""SELECT case_no, reported_at, status, class_code, address, street_code, district_code, source,
                  stage_started_at, stage_deadline, suspended_at
           FROM case_state WHERE reported_at IS NOT NULL {where} ORDER BY reported_at DESC LIMIT ?""",
        (*params, limit),
    ).fetchall()
    classes = class_names(conn)
    streets = street_names(conn)
    dists = district_names(conn)
    out = []
    for r in rows:
        place = r[4] or streets.get(r[5] or "", "") or dists.get(r[6] or "", "")
        out.append(CaseRow(
            case_no=str(r[0]), reported_at=str(r[1]), status=str(r[2]),
            class_name=classes.get(r[3] or "", r[3] or "未分类"), place=str(place or ""), source=str(r[7] or ""),
            stage_started_at=r[8], stage_deadline=r[9], suspended_at=r[10],
        ))
    return out


def case_points(
    conn: sqlite3.Connection, start: str, end: str, today: str, now: str, limit: int = 20000,
    districts: tuple[str, ...] = (),
) -> CasePoints:
    """Cases reported in the window (newest first, at most ``limit``) as coordinate arrays for the map."""
    where, params = _district_filter(districts)
    rows = conn.execute(
        f"SELECT geom, status, reported_at, stage_deadline FROM case_state "
        f"WHERE reported_at >= ? AND reported_at < ? AND geom IS NOT NULL {where} ORDER BY reported_at DESC LIMIT ?",
        (start, end, *params, limit),
    ).fetchall()
    x, y = _xy([r[0] for r in rows])
    status = np.array([r[1] for r in rows], dtype=object)
    open_set = set(OPEN_STATUSES)
    overdue = np.fromiter(
        (r[1] in open_set and r[3] is not None and r[3] < now for r in rows), dtype=bool, count=len(rows)
    )
    is_today = np.fromiter((r[2] >= today for r in rows), dtype=bool, count=len(rows))
    ok = ~(np.isnan(x) | np.isnan(y))
    return CasePoints(x[ok], y[ok], status[ok], overdue[ok], is_today[ok])


@dataclass
class MonthDigest:
    """Everything the wall needs about the cases reported in one window."""

    rates: PeriodRates
    tops: dict[str, list[tuple[str, int]]]  # column -> (value, count), most frequent first
    by_hour: list[int]
    points: CasePoints
    cases: int = 0  # cases reported in the window (the map shows at most ``point_limit`` of them)
    # every case of the window, not only the mapped points: status -> cases not overdue now, the open
    # cases past their stage deadline now, and the cases reported since ``today`` (the map legend's counts)
    status_counts: dict[str, int] = field(default_factory=dict)
    overdue_now: int = 0
    today_cases: int = 0


_DIGEST_COLUMNS = ("class_code", "grid_code", "street_code", "source", "district_code", "department")
TOP_KEEP = 50  # values kept per column of a month digest (the wall shows the top 6-8)

# -- the per-case columns of a window -------------------------------------------------------------------
# One record per case reported in the window: what the digest counts, coded compactly (about 80 bytes a
# case, so a city month of 80,000 cases is 6 MB). Times are seconds of the stored local time: the store
# text is ISO 8601 with +08:00 everywhere, so comparing the first 19 characters as a time orders exactly
# as the text does (what the SQL of this module compares).
_CASE_DTYPE = np.dtype([
    ("fid", "<i8"),
    ("rep", "<M8[s]"),  # reported_at
    ("sdl", "<M8[s]"),  # stage_deadline (the map's "overdue now")
    ("odl", "<M8[s]"),  # coalesce(handle_deadline, stage_deadline) (the rates' "open and overdue")
    ("x", "<f8"), ("y", "<f8"),  # NaN without a location
    ("status", "<i4"),  # code in the status vocabulary
    ("registered", "?"), ("on_time", "?"), ("rework", "?"),  # on_time: ON_TIME_CLOSE if it were closed
    ("codes", "<i4", (len(_DIGEST_COLUMNS),)),  # codes in the value vocabulary, -1 = NULL
])
_CASE_SELECT = (
    "SELECT fid, reported_at, status, registered_at, handled_at, self_handled, handle_deadline, stage_deadline, "
    f"rework_count, geom, {', '.join(_DIGEST_COLUMNS)} FROM case_state"
)
_DISTRICT_INDEX = 10 + _DIGEST_COLUMNS.index("district_code")  # of the district in a _CASE_SELECT row
_FETCH_ROWS = 4096  # rows converted at a time: a full rebuild never holds a month of Python tuples
_NAT = np.datetime64("NaT", "s")


def _time(value: Any) -> np.datetime64:
    """One stored time as local seconds; NaT for NULL or text that is not a time."""
    if not isinstance(value, str):
        return _NAT
    try:
        return np.datetime64(value[:19], "s")
    except ValueError:
        return _NAT


def _times(values: Sequence[Any]) -> np.ndarray:
    """Stored times as local seconds (NaT for NULL), parsed by numpy in one go when all are well formed."""
    try:
        return np.array([v[:19] if v is not None else "NaT" for v in values], dtype="datetime64[s]")
    except (TypeError, ValueError):
        return np.array([_time(v) for v in values], dtype="datetime64[s]")


class _Vocabulary:
    """Values to small integer codes (None is -1); bounded by the distinct values in the store."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.values: list[Any] = []
        self._objects: np.ndarray | None = None
        self._rank: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Forget every value (a full read starts afresh, so values no longer in the store are dropped)."""
        self.index = {None: -1}
        self.values = []
        self._objects = None
        self._rank = None

    def codes(self, values: Sequence[Any]) -> np.ndarray:
        index = self.index
        for v in values:
            if v not in index:
                index[v] = len(self.values)
                self.values.append(v)
                self._objects = None
        return np.fromiter((index[v] for v in values), dtype=np.int32, count=len(values))

    def code(self, value: Any) -> int:
        return self.index.get(value, -2)  # -2: never stored, matches nothing

    def text_rank(self) -> np.ndarray:
        """Each code's position in the values sorted as text (ties of a count rank by value)."""
        if self._rank is None or len(self._rank) != len(self.values):
            texts = np.array([str(v) for v in self.values] or [""], dtype=str)[:len(self.values)]
            rank = np.empty(len(self.values), dtype=np.int64)
            rank[np.argsort(texts, kind="stable")] = np.arange(len(self.values))
            self._rank = rank
        return self._rank

    def objects(self) -> np.ndarray:
        """The values as an object array, code -1 giving None: indexing it with codes shares the value
        objects (no string per case)."""
        if self._objects is None or len(self._objects) != len(self.values) + 1:
            objs = np.empty(len(self.values) + 1, dtype=object)
            objs[:-1] = self.values
            objs[-1] = None
            self._objects = objs
        return self._objects


def _xy(blobs: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """Point coordinates from GeoPackage blobs: fixed-layout Wanmi points are sliced in one go."""
    n = len(blobs)
    if n and all(b is not None and len(b) == _POINT_BLOB_LEN and b[8] == 1 for b in blobs):
        buf = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(n, _POINT_BLOB_LEN)  # type: ignore[arg-type]
        xy = buf[:, 13:29].copy().view("<f8").reshape(n, 2)
        return xy[:, 0].copy(), xy[:, 1].copy()
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    for i, b in enumerate(blobs):
        env = gpkg.envelope(b)
        if env is not None:
            x[i] = (env[0] + env[1]) / 2
            y[i] = (env[2] + env[3]) / 2
    return x, y


def _case_records(rows: Sequence[tuple[Any, ...]], statuses: _Vocabulary, values: _Vocabulary) -> np.ndarray:
    """``_CASE_SELECT`` rows as ``_CASE_DTYPE`` records (column by column: numpy does the per-row work)."""
    out = np.empty(len(rows), _CASE_DTYPE)
    if not rows:
        return out
    cols = list(zip(*rows, strict=True))
    out["fid"] = cols[0]
    out["rep"] = _times(cols[1])
    out["status"] = statuses.codes(cols[2])
    out["registered"] = np.fromiter((v is not None for v in cols[3]), dtype=bool, count=len(rows))
    handled = _times(cols[4])
    handle_deadline = _times(cols[6])
    stage_deadline = _times(cols[7])
    # ON_TIME_CLOSE: self-handled, no handling deadline, or handled at or before it (NaT compares False)
    self_handled = np.fromiter((v == 1 for v in cols[5]), dtype=bool, count=len(rows))
    out["on_time"] = self_handled | np.isnat(handle_deadline) | (handled <= handle_deadline)
    out["odl"] = np.where(np.isnat(handle_deadline), stage_deadline, handle_deadline)
    out["sdl"] = stage_deadline
    out["rework"] = np.fromiter((isinstance(v, int | float) and v > 0 for v in cols[8]), dtype=bool,
                                count=len(rows))
    out["x"], out["y"] = _xy(cols[9])
    for j, col in enumerate(cols[10:]):
        out["codes"][:, j] = values.codes(col)
    return out


class CaseWindow:
    """The per-case records of the cases reported in [start, end) (of the districts, if any), sorted by fid.

    Why records rather than running totals: a case changes many times after its report (registered,
    dispatched, handled, closed, reworked), and to take its old contribution out of a total one must know
    it. Keeping one compact record per case makes a change a record overwrite, and every total a numpy
    reduction over the window (a few milliseconds for a city month), so totals are always what a full
    recompute would give.
    """

    def __init__(self, start: str, end: str, districts: tuple[str, ...] = (),
                 statuses: _Vocabulary | None = None, values: _Vocabulary | None = None) -> None:
        self.start, self.end, self.districts = start, end, districts
        self._district_set = frozenset(districts)
        self.statuses = statuses if statuses is not None else _Vocabulary()
        self.values = values if values is not None else _Vocabulary()
        self._buf = np.empty(0, _CASE_DTYPE)
        self.n = 0
        self.version = 0  # changes with every change of the records (cached orders check it)
        self._order: tuple[int, int, np.ndarray] | None = None  # (version, limit, newest-first indexes)

    @property
    def records(self) -> np.ndarray:
        return self._buf[:self.n]

    def holds(self, reported_at: Any, district: Any) -> bool:
        """Whether a case with these values belongs here (the text comparison the SQL makes)."""
        return (isinstance(reported_at, str) and self.start <= reported_at < self.end
                and (not self._district_set or district in self._district_set))

    # -- loading -----------------------------------------------------------------------------------------
    def load(self, conn: sqlite3.Connection, check: Callable[[], None] = lambda: None) -> None:
        """Read every case of the window (through the ``reported_at`` index), in chunks."""
        where, params = _district_filter(self.districts)
        cur = conn.execute(f"{_CASE_SELECT} WHERE reported_at >= ? AND reported_at < ? {where}",
                           (self.start, self.end, *params))
        self._buf, self.n = np.empty(0, _CASE_DTYPE), 0  # free the old records before reading the new
        parts = []
        while chunk := cur.fetchmany(_FETCH_ROWS):
            parts.append(_case_records(chunk, self.statuses, self.values))
            check()
        recs = np.concatenate(parts) if parts else np.empty(0, _CASE_DTYPE)
        del parts
        recs = recs[np.argsort(recs["fid"], kind="stable")]
        self._buf, self.n = recs, len(recs)
        self.version += 1

    def extend(self, conn: sqlite3.Connection, end: str) -> None:
        """Move the window's end forward to ``end``, reading the cases reported in between.

        Last month's window ends at the same point as month-to-date, which moves with the clock: reading
        only the slice it moved over keeps the window at the cases the comparison needs (early in a month
        a few thousand, not all of last month).
        """
        if end <= self.end:
            return
        where, params = _district_filter(self.districts)
        rows = conn.execute(f"{_CASE_SELECT} WHERE reported_at >= ? AND reported_at < ? {where}",
                            (self.end, end, *params)).fetchall()
        self.end = end
        self.apply(_case_records(rows, self.statuses, self.values), np.ones(len(rows), dtype=bool))

    def apply(self, recs: np.ndarray, member: np.ndarray) -> None:
        """Fold in re-read cases: ``member`` says which of ``recs`` belong to the window now.

        A member already held is overwritten, a new member is inserted, a held case that no longer
        belongs (its district changed) is removed.
        """
        if not len(recs):
            return
        held = self.records
        pos = np.searchsorted(held["fid"], recs["fid"])
        found = pos < self.n
        found[found] = held["fid"][pos[found]] == recs["fid"][found]
        update = found & member
        held[pos[update]] = recs[update]
        gone = found & ~member
        new = recs[~found & member]
        if gone.any() or (len(new) and self.n and new["fid"].min() <= held["fid"][-1]):
            # rare (a case left the window, or a row got a lower fid than the newest): rebuild the order
            keep = np.ones(self.n, dtype=bool)
            keep[pos[gone]] = False
            merged = np.concatenate([held[keep], new])
            merged = merged[np.argsort(merged["fid"], kind="stable")]
            self._buf, self.n = merged, len(merged)
        elif len(new):
            new = new[np.argsort(new["fid"], kind="stable")]
            need = self.n + len(new)
            if need > len(self._buf):
                # grow by half: a month grows case by case, and rare large reallocations keep the heap tidy
                grown = np.empty(max(need, len(self._buf) * 3 // 2, 1024), _CASE_DTYPE)
                grown[:self.n] = held
                self._buf = grown
            self._buf[self.n:need] = new
            self.n = need
        self.version += 1

    # -- what the wall shows -------------------------------------------------------------------------------
    def rates(self, now: str, before: str | None = None) -> PeriodRates:
        """:class:`PeriodRates` of the cases held (reported before ``before``, if given), judged at ``now``."""
        r = self.records
        if before is not None:
            r = r[r["rep"] < _time(before)]
        status = r["status"]
        closed = status == self.statuses.code("closed")
        open_now = np.isin(status, [self.statuses.code(s) for s in OPEN_STATUSES])
        return PeriodRates(
            registered=int(np.count_nonzero(r["registered"])),
            closed=int(np.count_nonzero(closed)),
            closed_on_time=int(np.count_nonzero(closed & r["on_time"])),
            open_overdue=int(np.count_nonzero(open_now & (r["odl"] < _time(now)))),
            rework=int(np.count_nonzero(r["rework"])),
        )

    def tops(self) -> dict[str, list[tuple[str, int]]]:
        """Per column the most frequent values, most first (ties by value); every source, 50 of the others."""
        r = self.records
        values = self.values.values
        by_text = self.values.text_rank()
        tops = {}
        shifted = r["codes"] + 1  # NULL (-1) counts in bin 0, which is dropped
        for j, col in enumerate(_DIGEST_COLUMNS):
            counts = np.bincount(shifted[:, j], minlength=len(values) + 1)[1:]
            held = np.flatnonzero(counts)
            # sorted in C: by count descending, then by the value's text (a city has tens of thousands of
            # grids; a Python sort key per value was most of a refresh)
            ranked = held[np.lexsort((by_text[held], -counts[held]))]
            if col != "source":
                ranked = ranked[:TOP_KEEP]
            tops[col] = [(str(values[i]), int(counts[i])) for i in ranked]
        return tops

    def by_hour(self) -> list[int]:
        rep = self.records["rep"]
        rep = rep[~np.isnat(rep)]
        hours = (rep - rep.astype("datetime64[D]")).astype("timedelta64[h]").astype(np.int64)
        return [int(v) for v in np.bincount(hours, minlength=24)[:24]]

    def newest(self, limit: int) -> np.ndarray:
        """Indexes of the newest ``limit`` cases, newest first (ties: the later row first)."""
        if self._order is not None and self._order[:2] == (self.version, limit):
            return self._order[2]
        r = self.records
        rep = r["rep"].view(np.int64)  # NaT is the smallest int64: never among the newest
        if self.n > limit > 0:
            kth = np.partition(rep, self.n - limit)[self.n - limit]
            cand = np.flatnonzero(rep >= kth)  # all ties of the cut, so the choice does not depend on order
        else:
            cand = np.arange(self.n if limit > 0 else 0)
        order = cand[np.lexsort((r["fid"][cand], rep[cand]))[::-1]][:limit]
        self._order = (self.version, limit, order)
        return order

    def points(self, today: str, now: str, limit: int) -> CasePoints:
        """The newest ``limit`` cases that have a location, as the map's arrays."""
        r = self.records
        idx = self.newest(limit)
        x, y = r["x"][idx], r["y"][idx]  # field by field: gathering whole records is several times slower
        ok = ~(np.isnan(x) | np.isnan(y))
        idx = idx[ok]
        status = r["status"][idx]
        open_now = np.isin(status, [self.statuses.code(s) for s in OPEN_STATUSES])
        return CasePoints(
            x=x[ok], y=y[ok],
            status=self.statuses.objects()[status],
            overdue=open_now & (r["sdl"][idx] < _time(now)),
            today=r["rep"][idx] >= _time(today),
        )

    def status_counts(self, today: str, now: str) -> tuple[dict[str, int], int, int]:
        """Over every case held (the map draws at most its point limit): cases per status that are not
        overdue now, the open cases past their stage deadline now (the map's 超期, which outranks the
        status), and the cases reported since ``today``."""
        r = self.records
        status = r["status"]
        over = np.isin(status, [self.statuses.code(s) for s in OPEN_STATUSES]) & (r["sdl"] < _time(now))
        codes, counts = np.unique(status[~over], return_counts=True)
        names = self.statuses.objects()
        by_status = {str(names[c]): int(n) for c, n in zip(codes.tolist(), counts.tolist(), strict=True)}
        return by_status, int(np.count_nonzero(over)), int(np.count_nonzero(r["rep"] >= _time(today)))

    def digest(self, today: str, now: str, point_limit: int) -> MonthDigest:
        by_status, overdue, today_n = self.status_counts(today, now)
        return MonthDigest(self.rates(now), self.tops(), self.by_hour(), self.points(today, now, point_limit), self.n,
                           by_status, overdue, today_n)


def month_digest(
    conn: sqlite3.Connection, start: str, end: str, today: str, now: str, point_limit: int = 20000,
    districts: tuple[str, ...] = (),
) -> MonthDigest:
    """Rates, top values, hours and map points of the cases reported in [start, end), computed in full.

    One scan of the window's rows (each separate aggregate would re-read them through the
    ``reported_at`` index, a table lookup per row), so every panel agrees on the same rows.
    :class:`LiveDigest` keeps the same records between refreshes and re-reads only changed cases.
    """
    window = CaseWindow(start, end, districts)
    window.load(conn)
    return window.digest(today, now, point_limit)


# -- the digest kept between refreshes ---------------------------------------------------------------------
FOLD_MIN_EVENTS = 20_000  # a fold of up to this many new events is always cheaper than a full read


class LiveDigest:
    """The wall's month digest, kept between refreshes and brought up to date from the event log.

    Why: a refresh that reads every case of the month costs time in proportion to the month (a city month
    is 80,000 cases), although between two refreshes a minute apart only a few dozen cases change. Every
    change of a case appends a ``case_event`` row (append-only, ``seq`` increasing) in the same
    transaction as its ``case_state`` row, so the cases changed since the last refresh are those of the
    events after the highest ``seq`` seen; only their ``case_state`` rows are read again and folded into
    the per-case records (:class:`CaseWindow`) of this month and of last month up to the same point (for
    the month-on-month rates; that window's end moves forward with the clock). The flow counts (events per action) of the month and of today grow only by new events,
    counted in SQL over the new events alone.

    A full read happens on the first update and whenever the folded state could be wrong: the highest
    ``seq`` went backwards or the event at the last seen ``seq`` is not the same event (another store, a
    restored backup), ``case_state`` gained or lost rows without events (a projection rebuild: its
    highest ``fid`` is not what the folded rows explain), or so many events arrived that reading the
    window is cheaper. The caller makes a new one for a new window (month or day rollover: ``key``
    differs) and periodically as a safety net.
    """

    def __init__(self, month_start: str, month_end: str, last_start: str, point_limit: int = 20000,
                 districts: tuple[str, ...] = (), today: tuple[str, str] | None = None) -> None:
        """``today`` = (start, end) of the day whose flows :meth:`today_flows` counts."""
        self.key = (month_start, month_end, last_start, point_limit, districts, today)
        self.point_limit = point_limit
        self.districts = districts
        self._statuses, self._values = _Vocabulary(), _Vocabulary()
        self.month = CaseWindow(month_start, month_end, districts, self._statuses, self._values)
        self.last = CaseWindow(last_start, last_start, districts, self._statuses, self._values)  # see update()
        # flow windows (without a district filter: the event log has no district) -> events per action
        self._flow_windows = {"month": (month_start, month_end)}
        if today is not None:
            self._flow_windows["today"] = today
        self.flows: dict[str, dict[str, int]] = {k: dict.fromkeys(FLOW_ACTIONS, 0) for k in self._flow_windows}
        self.seq = -1  # highest case_event.seq folded in (-1: nothing read yet)
        self._seq_hash: str | None = None
        self._max_fid = 0
        self.full_reads = 0
        self.folded_cases = 0
        self.last_update = ""  # "full (reason)" / "incremental" / "unchanged"

    def update(self, conn: sqlite3.Connection, check: Callable[[], None] = lambda: None,
               last_end: str | None = None) -> str:
        """Bring the state to what ``conn`` sees (call inside one read transaction); returns what it did.

        ``last_end``: how far last month's window reaches (the same point as month-to-date; all of last
        month if not given). It only moves forward; :meth:`last_rates` cuts at its own ``end``.
        If this raises (cancelled, interrupted, a store problem) the state is half updated: drop it.
        """
        last_end = min(last_end or self.month.start, self.month.start)
        top = int(conn.execute("SELECT coalesce(max(seq), 0) FROM case_event").fetchone()[0])
        max_fid = int(conn.execute("SELECT coalesce(max(fid), 0) FROM case_state").fetchone()[0])
        reason = ""
        if self.seq < 0:
            reason = "first read"
        elif top < self.seq:
            reason = "event log went back"
        elif self._hash_at(conn, self.seq) != self._seq_hash:
            reason = "another store"
        elif top - self.seq > max(FOLD_MIN_EVENTS, self.month.n + self.last.n):
            reason = "many changes"
        elif top == self.seq:
            if max_fid == self._max_fid:
                self.last.extend(conn, last_end)
                self.last_update = "unchanged"
                return self.last_update
            reason = "case_state changed without events"
        if not reason:
            rows = conn.execute(
                f"{_CASE_SELECT} WHERE case_no IN (SELECT case_no FROM case_event WHERE seq > ? AND seq <= ?)",
                (self.seq, top),
            ).fetchall()
            check()
            if max(self._max_fid, max((r[0] for r in rows), default=0)) != max_fid:
                reason = "case_state changed without events"
            else:
                self._fold(conn, rows, top)
                self.last.extend(conn, last_end)
                self.folded_cases += len(rows)
                self._mark(conn, top, max_fid)
                self.last_update = "incremental"
                return self.last_update
        self.last.end = last_end
        self._read_all(conn, check)
        self._mark(conn, top, max_fid)
        self.full_reads += 1
        self.last_update = f"full ({reason})"
        return self.last_update

    def _hash_at(self, conn: sqlite3.Connection, seq: int) -> str | None:
        row = conn.execute("SELECT hash FROM case_event WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])

    def _mark(self, conn: sqlite3.Connection, top: int, max_fid: int) -> None:
        self.seq, self._seq_hash, self._max_fid = top, self._hash_at(conn, top), max_fid

    def _read_all(self, conn: sqlite3.Connection, check: Callable[[], None]) -> None:
        self._statuses.reset()
        self._values.reset()
        self.month.load(conn, check)
        self.last.load(conn, check)
        for name, (start, end) in self._flow_windows.items():
            self.flows[name] = dict.fromkeys(FLOW_ACTIONS, 0)
            if not self.districts:
                self.flows[name].update(_event_counts(conn, start, end))

    def _fold(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]], top: int) -> None:
        recs = _case_records(rows, self._statuses, self._values)
        for window in (self.month, self.last):
            member = np.fromiter((window.holds(r[1], r[_DISTRICT_INDEX]) for r in rows), dtype=bool, count=len(rows))
            window.apply(recs, member)
        if not self.districts:
            # events are never changed or deleted: the window's counts only grow by the new ones. The unary
            # plus keeps SQLite on the seq (rowid) range instead of the month's (action, at) index range.
            for name, (start, end) in self._flow_windows.items():
                for action, n in _event_counts(conn, start, end, (self.seq, top)).items():
                    self.flows[name][action] += n

    # -- what the wall shows -------------------------------------------------------------------------------
    def digest(self, today: str, now: str) -> MonthDigest:
        """This month's digest at ``now`` (the same numbers as :func:`month_digest` on the store)."""
        return self.month.digest(today, now, self.point_limit)

    def last_rates(self, end: str, now: str) -> PeriodRates:
        """Last month's rates over the cases reported before ``end``, judged at ``now``
        (:func:`period_rates` of [last month's start, end))."""
        return self.last.rates(now, before=end)

    def month_flows(self) -> FlowCounts:
        """上报/立案/派遣/处置/结案 events this month (without a district filter; ``overdue`` is left 0)."""
        return self._flow_counts("month")

    def today_flows(self) -> FlowCounts:
        """The same for ``today`` (given to the constructor)."""
        return self._flow_counts("today")

    def _flow_counts(self, name: str) -> FlowCounts:
        if self.districts:
            raise ValueError("按区县筛选时事件流量由 flow_counts 计算 flows of a district filter come from flow_counts")
        f = self.flows[name]
        return FlowCounts(f["report"], f["register"], f["dispatch"], f["handle"], f["close"])


def _event_counts(conn: sqlite3.Connection, start: str, end: str,
                  seq_range: tuple[int, int] | None = None) -> dict[str, int]:
    """Flow events per action with ``at`` in [start, end), optionally only those with seq in (lo, hi].

    count(*) is answered from the (action, at) index alone; distinct case numbers would need a table lookup
    per event (0.5 s at 100k cases). A redispatch or a handling after 返工 counts again.
    """
    placeholders = ",".join("?" * len(FLOW_ACTIONS))
    if seq_range is None:
        sql = f"SELECT action, count(*) FROM case_event WHERE action IN ({placeholders}) AND at >= ? AND at < ? "
        params: tuple[Any, ...] = (*FLOW_ACTIONS, start, end)
    else:
        sql = (f"SELECT action, count(*) FROM case_event WHERE seq > ? AND seq <= ? "
               f"AND +action IN ({placeholders}) AND +at >= ? AND +at < ? ")
        params = (*seq_range, *FLOW_ACTIONS, start, end)
    return {str(a): int(n) for a, n in conn.execute(sql + "GROUP BY action", params)}


def _rings_of_wkb(wkb: bytes, tolerance: float) -> tuple[list[np.ndarray], tuple[float, float]]:
    import shapely

    geom = shapely.from_wkb(wkb)
    if geom.is_empty:
        return [], (0.0, 0.0)
    simple = shapely.simplify(geom, tolerance, preserve_topology=True)
    polys = list(getattr(simple, "geoms", [simple]))
    rings = [np.asarray(p.exterior.coords)[:, :2].copy() for p in polys if not p.is_empty]
    # label at the largest part's inner point so names sit inside their district
    big = max(polys, key=lambda p: p.area)
    pt = big.representative_point() if not big.is_empty else geom.representative_point()
    return rings, (float(pt.x), float(pt.y))


def district_outlines(conn: sqlite3.Connection, tolerance: float = 0.0004) -> list[Outline]:
    """District boundaries, simplified (about 40 m) for a wall-size map, with a label point each."""
    out = []
    for code, name, blob in conn.execute("SELECT code, name, geom FROM district WHERE geom IS NOT NULL ORDER BY code"):
        rings, label = _rings_of_wkb(gpkg.wkb_of(blob), tolerance)
        out.append(Outline(str(code), str(name), rings, label))
    return out


def extent(conn: sqlite3.Connection) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the districts, else of the cases."""
    for table in ("district", "case_state"):
        row = conn.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {gpkg.rtree_name(table)}"
        ).fetchone()
        if row is not None and row[0] is not None:
            return float(row[0]), float(row[1]), float(row[2]), float(row[3])
    return None


def unit_rates_by_month(
    conn: sqlite3.Connection, unit_column: str, start: str, end: str, now: str
) -> dict[tuple[str, str], PeriodRates]:
    """Per (unit, month) rates for months in [start, end): the wall's fallback score when no scheme runs."""
    if unit_column not in {"district_code", "department"}:
        raise ValueError(f"不支持的单位列 unit column='{unit_column}'")
    rows = conn.execute(
        f"""SELECT {unit_column}, substr(reported_at, 1, 7),
              count(registered_at),
              sum(status = 'closed'),
              sum(status = 'closed' AND {ON_TIME_CLOSE}),
              sum(status IN ({_OPEN_SQL}) AND coalesce(handle_deadline, stage_deadline) < ?),
              sum(rework_count > 0)
            FROM case_state s WHERE reported_at >= ? AND reported_at < ? AND {unit_column} IS NOT NULL
            GROUP BY 1, 2""",
        (now, start, end),
    ).fetchall()
    return {(str(r[0]), str(r[1])): PeriodRates(*(int(v or 0) for v in r[2:])) for r in rows}


def published_results(conn: sqlite3.Connection, scheme: str, period: str, unit_kind: str) -> str | None:
    """The results JSON of the latest published evaluation, if any."""
    row = conn.execute(
        "SELECT results FROM evaluation_run WHERE scheme = ? AND period = ? AND (unit_kind = ? OR unit_kind IS NULL) "
        "ORDER BY id DESC LIMIT 1",
        (scheme, period, unit_kind),
    ).fetchone()
    return None if row is None else str(row[0])


__all__ = [
    "OPEN_STATUSES",
    "CasePoints",
    "CaseRow",
    "CaseWindow",
    "FlowCounts",
    "LiveDigest",
    "MonthDigest",
    "Outline",
    "PeriodRates",
    "by_hour",
    "case_points",
    "class_names",
    "department_names",
    "district_names",
    "district_outlines",
    "extent",
    "flow_counts",
    "latest_cases",
    "month_digest",
    "open_overdue",
    "period_rates",
    "published_results",
    "street_names",
    "top_counts",
    "unit_rates_by_month",
]
