"""Read-only SQL for the wall display: KPI counts, hot spots, latest cases, map points, district outlines.

Every function takes an open connection (the wall's read-only one) and time bounds as store text
(ISO 8601 with +08:00, so string comparison is time order). Queries are shaped for the indexes the
schema has: flow counts come from ``case_event(action, at)`` (the truth, and the only index on
action times), populations of a period from ``case_state(reported_at)``, open work from
``case_state(status)``. Nothing here writes, so it can run while another process writes (WAL).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
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
    where, params = _district_filter(districts)
    if districts:
        numbered = ",".join(f"?{i}" for i in range(3, 3 + len(districts)))
        row = conn.execute(
            f"""SELECT sum(reported_at >= ?1 AND reported_at < ?2), sum(registered_at >= ?1 AND registered_at < ?2),
                  sum(dispatched_at >= ?1 AND dispatched_at < ?2), sum(handled_at >= ?1 AND handled_at < ?2),
                  sum(status = 'closed' AND closed_at >= ?1 AND closed_at < ?2)
               FROM case_state WHERE district_code IN ({numbered})""",
            (start, end, *params),
        ).fetchone()
        got = {a: int(v or 0) for a, v in zip(FLOW_ACTIONS, row, strict=True)}
    else:
        # count(*) is answered from the (action, at) index alone; distinct case numbers would need a
        # table lookup per event (0.5 s at 100k cases). A redispatch or a handling after 返工 counts again.
        for action, n in conn.execute(
            f"SELECT action, count(*) FROM case_event WHERE action IN "
            f"({','.join('?' * len(FLOW_ACTIONS))}) AND at >= ? AND at < ? GROUP BY action",
            (*FLOW_ACTIONS, start, end),
        ):
            got[action] = int(n)
    # live state: open now and past the stage deadline (answered from the status/deadline indexes)
    overdue = conn.execute(
        f"SELECT count(*) FROM case_state WHERE status IN ({_OPEN_SQL}) AND stage_deadline < ? {where}",
        (now, *params),
    ).fetchone()[0]
    return FlowCounts(got["report"], got["register"], got["dispatch"], got["handle"], got["close"], int(overdue))


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
                  stage_started_at, stage_deadline
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
            stage_started_at=r[8], stage_deadline=r[9],
        ))
    return out


def _xy(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Point coordinates from GeoPackage blobs: fixed-layout Wanmi points are sliced in one go."""
    n = len(blobs)
    if n and all(len(b) == _POINT_BLOB_LEN and b[8] == 1 for b in blobs):
        buf = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(n, _POINT_BLOB_LEN)
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
    """Everything the wall needs about the cases reported in one window, from ONE indexed scan."""

    rates: PeriodRates
    tops: dict[str, list[tuple[str, int]]]  # column -> (value, count), most frequent first
    by_hour: list[int]
    points: CasePoints


_DIGEST_COLUMNS = ("class_code", "grid_code", "street_code", "source", "district_code", "department")
TOP_KEEP = 50  # values kept per column of a month digest (the wall shows the top 6-8)


def month_digest(
    conn: sqlite3.Connection, start: str, end: str, today: str, now: str, point_limit: int = 20000,
    districts: tuple[str, ...] = (),
) -> MonthDigest:
    """Rates, top values, hours and map points of the cases reported in [start, end).

    Why one scan: each separate aggregate re-reads the window's rows through the ``reported_at`` index
    (a table lookup per row); reading them once and counting in Python is several times faster for a
    month of a large city, and every panel then agrees on the same rows.
    """
    where, params = _district_filter(districts)
    rows = conn.execute(
        f"""SELECT reported_at, status, registered_at, handled_at, self_handled, handle_deadline, stage_deadline,
                  rework_count, geom, {", ".join(_DIGEST_COLUMNS)}
           FROM case_state WHERE reported_at >= ? AND reported_at < ? {where} ORDER BY reported_at DESC""",
        (start, end, *params),
    )
    open_set = set(OPEN_STATUSES)
    registered = closed = on_time = open_overdue = rework = 0
    # per-row work is kept to a few comparisons: the reported_at text and the counted columns are set
    # aside as one tuple per row and counted at the end by ``Counter`` (C), which made a refresh of a
    # demo-scale month about twice as fast as updating seven dicts per row
    tails: list[tuple[Any, ...]] = []
    keep_tail = tails.append
    n_cols = len(_DIGEST_COLUMNS)
    # rows are streamed, not fetched: only the newest ``point_limit`` are kept (for the map), so the
    # memory a refresh needs does not grow with the month (a long-running wall's RSS stays flat)
    shown: list[tuple[bytes, str, bool, bool]] = []  # geom, status (canonical), overdue, today
    canonical = {s: s for s in (*OPEN_STATUSES, "closed", "void")}
    seen = 0
    for r in rows:
        status = r[1]
        if r[2] is not None:
            registered += 1
        if status == "closed":
            closed += 1
            # ON_TIME_CLOSE of the evaluation, row by row: self-handled, no deadline, or handled by it
            if r[4] or r[5] is None or (r[3] is not None and r[3] <= r[5]):
                on_time += 1
        elif status in open_set:
            deadline = r[5] or r[6]
            if deadline is not None and deadline < now:
                open_overdue += 1
        if r[7]:
            rework += 1
        keep_tail((r[0][11:13], *r[9:9 + n_cols]))
        if seen < point_limit:
            seen += 1
            if r[8] is not None:
                shown.append((r[8], canonical.get(status, status), status in open_set and r[6] is not None
                              and r[6] < now, r[0] >= today))
    columns = list(zip(*tails)) if tails else [()] * (n_cols + 1)
    del tails
    hours = [0] * 24
    for h, n in Counter(columns[0]).items():
        if h.isdigit():
            hours[int(h) % 24] += n
    tops = {}
    for col, values in zip(_DIGEST_COLUMNS, columns[1:], strict=True):
        counts = Counter(values)
        counts.pop(None, None)
        # the wall shows at most the top 8 of a column; keep a margin, and every source (few) for the mix
        limit = None if col == "source" else TOP_KEEP
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        tops[col] = [(str(k), n) for k, n in (ranked if limit is None else ranked[:limit])]
    x, y = _xy([r[0] for r in shown])
    status_arr = np.array([r[1] for r in shown], dtype=object)
    overdue = np.fromiter((r[2] for r in shown), dtype=bool, count=len(shown))
    is_today = np.fromiter((r[3] for r in shown), dtype=bool, count=len(shown))
    del shown
    ok = ~(np.isnan(x) | np.isnan(y))
    points = CasePoints(x[ok], y[ok], status_arr[ok], overdue[ok], is_today[ok])
    return MonthDigest(PeriodRates(registered, closed, on_time, open_overdue, rework), tops, hours, points)


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
    "FlowCounts",
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
    "period_rates",
    "published_results",
    "street_names",
    "top_counts",
    "unit_rates_by_month",
]
