"""The wall's data service: one immutable snapshot of everything the wall pages show.

Why a snapshot: the wall runs unattended for days. Pages render whatever snapshot they are given, and
:meth:`WallDataService.refresh` either replaces it with a complete new one or keeps the last good one
and marks it stale ("数据更新于 HH:MM"). It opens the store read-only, reopens it when the file was
replaced, and turns every failure (missing, locked, being migrated, damaged, a bug in a query) into
state the UI can show; it never raises to the UI.

Periods: ``this-month`` follows the clock; ``YYYY-MM`` pins a month (a past month is shown as of its
last second); ``latest`` anchors "now" at the newest case in the store (demo stores whose simulated
year ended earlier). KPI changes compare month-to-date with the same span of the previous month.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from app.charts import GRADE_COLORS, Bar
from app.clock import Clock, SystemClock
from app.deadlines import LightThresholds
from app.paths import CONFIG, SCHEMES
from app.progress import Cancelled, Progress
from app.timefmt import CST, fmt, parse
from db import dashboard as dash
from db.store import StoreError, connect

log = logging.getLogger(__name__)

PAGES = ("map", "kpi", "scores", "hot", "cases")
READ_BUSY_MS = 300  # a locked store must not freeze the wall for the default 5 s
READ_CACHE_KB = 2048  # the wall reads a month at a time: a bounded page cache keeps its memory flat
REQUIRED_MIGRATION = "0002_cases"
FULL_READ_S = 1800.0  # the live month digest is read in full at least this often (a safety net)

STATUS_LABELS: dict[str, str] = {
    "reported": "已上报", "verifying": "核实中", "accepted": "待立案", "registered": "待派遣",
    "dispatched": "处置中", "handled": "已反馈", "checking": "核查中", "closing": "待结案", "closed": "已结案",
    "void": "已作废", "return_requested": "回退待审", "suspended": "挂账",
}
# Map marker groups: status -> (group, label). Overdue open cases form their own group on top.
STATUS_GROUPS: dict[str, str] = {
    "reported": "intake", "verifying": "intake", "accepted": "intake", "registered": "intake",
    "dispatched": "handling", "return_requested": "handling", "suspended": "handling",
    "handled": "checking", "checking": "checking", "closing": "checking",
    "closed": "closed", "void": "closed",
}
_STATUS_GROUP: defaultdict[Any, str] = defaultdict(lambda: "intake", STATUS_GROUPS)
GROUP_LABELS: dict[str, str] = {
    "intake": "待立案派遣", "handling": "处置中", "checking": "待核查结案", "closed": "已结案", "overdue": "超期",
}
SOURCE_LABELS: dict[str, str] = {
    "inspector": "监督员", "hotline_12319": "热线", "hotline_12345": "热线", "hotline": "热线",
    "public": "公众", "video": "视频", "leader": "领导交办", "media": "媒体",
}


# -- configuration -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WallConfig:
    """What ``wall.toml`` (and the command line over it) sets."""

    title: str = "万米数字城管监督指挥中心"
    pages: tuple[str, ...] = PAGES
    interval_s: float = 30.0  # seconds a page stays before the next
    refresh_s: float = 60.0  # seconds between data refreshes
    retry_s: float = 10.0  # seconds between retries while stale
    scores_every_s: float = 600.0  # evaluations are heavier: refreshed less often
    period: str = "this-month"
    scheme: str = ""
    districts: tuple[str, ...] = ()
    burn_in_minutes: float = 3.0
    burn_in_px: int = 4  # design pixels
    transition_ms: int = 700
    latest_count: int = 40
    map_points: int = 20000
    # a video wall of (columns, rows) panels shown as one screen: the pages keep text off the seams between
    # panel rows; ``None`` = one screen, or the seams of the screens the window spans
    panels: tuple[int, int] | None = None


def parse_panels(value: Any) -> tuple[int, int]:
    """``"3x2"`` (columns x rows of a video wall's panels) -> ``(3, 2)``; each between 1 and 8."""
    m = re.fullmatch(r"\s*(\d)\s*[x×*]\s*(\d)\s*", str(value))
    if m is None or not (1 <= int(m[1]) <= 8 and 1 <= int(m[2]) <= 8):
        raise ValueError(value)
    return int(m[1]), int(m[2])


def load_config(path: str | Path | None = None, **overrides: Any) -> WallConfig:
    """Read ``wall.toml`` (default: resources/config/wall.toml) and apply non-None overrides.

    Bad values raise ``ValueError`` naming the key and value (the command line turns it into exit 2).
    """
    p = Path(path) if path is not None else CONFIG / "wall.toml"
    raw: dict[str, Any] = {}
    if p.exists():
        with p.open("rb") as f:
            raw = tomllib.load(f).get("wall", {})
    elif path is not None:
        raise ValueError(f"大屏配置文件不存在 config='{p}' does not exist")
    keys: dict[str, Any] = {
        "title": str, "pages": tuple, "interval": float, "refresh": float, "retry": float, "scores_every": float,
        "period": str, "scheme": str, "districts": tuple, "burn_in_minutes": float, "burn_in_px": int,
        "transition_ms": int, "latest_count": int, "map_points": int, "panels": parse_panels,
    }
    values: dict[str, Any] = {}
    for key, value in {**raw, **{k: v for k, v in overrides.items() if v is not None}}.items():
        if key not in keys:
            raise ValueError(f"未知的大屏配置项 wall config key='{key}'")
        kind = keys[key]
        try:
            if kind is tuple:
                items = value.split(",") if isinstance(value, str) else list(value)
                value = tuple(str(v).strip() for v in items if str(v).strip())
            else:
                value = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"大屏配置值错误 wall config {key}='{value}'") from None
        field_name = {"interval": "interval_s", "refresh": "refresh_s", "retry": "retry_s",
                      "scores_every": "scores_every_s"}.get(key, key)
        values[field_name] = value
    cfg = WallConfig(**values)
    bad = [pg for pg in cfg.pages if pg not in PAGES]
    if bad or not cfg.pages:
        raise ValueError(f"大屏页面错误 pages='{','.join(cfg.pages)}' (choose from {','.join(PAGES)})")
    if cfg.interval_s <= 0 or cfg.refresh_s <= 0 or cfg.retry_s <= 0:
        raise ValueError(f"大屏时间间隔必须为正数 interval={cfg.interval_s} refresh={cfg.refresh_s} retry={cfg.retry_s}")
    resolve_window(cfg.period, datetime(2026, 1, 1, tzinfo=CST))  # validates the period's form
    return cfg


# -- time windows -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Store-text bounds of "today", the month, and the same span of the previous month."""

    now: str
    today_start: str
    today_end: str
    month_start: str
    month_end: str
    last_start: str
    last_end: str  # last month up to the same point as month-to-date
    month: str  # "YYYY-MM"
    months12: tuple[str, ...]  # the 12 months ending with ``month``


def _month_start(d: datetime) -> datetime:
    return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _add_months(d: datetime, n: int) -> datetime:
    y, m = divmod(d.month - 1 + n, 12)
    return d.replace(year=d.year + y, month=m + 1, day=1)


def resolve_window(period: str, now: datetime) -> Window:
    """The window for ``this-month`` / ``latest`` (at ``now``) or ``YYYY-MM`` (a past month as of its end)."""
    now = now.astimezone(CST).replace(microsecond=0)
    if period not in ("this-month", "latest"):
        try:
            pinned = datetime.strptime(period, "%Y-%m").replace(tzinfo=CST)
        except ValueError:
            raise ValueError(f"统计周期格式错误 period='{period}' (this-month, latest or YYYY-MM)") from None
        end = _add_months(pinned, 1)
        if not (pinned <= now < end):
            now = end - timedelta(seconds=1)
    ms = _month_start(now)
    me = _add_months(ms, 1)
    today = now.replace(hour=0, minute=0, second=0)
    ls = _add_months(ms, -1)
    last_end = min(ls + (now - ms), ms)
    months = tuple(_add_months(ms, -i).strftime("%Y-%m") for i in range(11, -1, -1))
    return Window(
        now=fmt(now), today_start=fmt(today), today_end=fmt(today + timedelta(days=1)),
        month_start=fmt(ms), month_end=fmt(me), last_start=fmt(ls), last_end=fmt(last_end),
        month=ms.strftime("%Y-%m"), months12=months,
    )


# -- the snapshot -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kpi:
    today: dash.FlowCounts
    month: dash.FlowCounts
    last_month: dash.FlowCounts  # same span of the previous month
    rates: dash.PeriodRates
    last_rates: dash.PeriodRates


@dataclass(frozen=True)
class ScoreBoard:
    """Ranked bars and 12-month trend lines for one kind of unit (districts or departments)."""

    title: str
    unit_kind: str  # district / department
    bars: tuple[Bar, ...]
    periods: tuple[str, ...]
    trend: Mapping[str, Sequence[float | None]]
    value_format: str = "{:.1f}"
    source: str = "scheme"  # scheme / published / proxy
    note: str = ""


@dataclass(frozen=True)
class HotSpots:
    classes: tuple[Bar, ...]
    grids: tuple[Bar, ...]
    streets: tuple[Bar, ...]
    by_hour: tuple[int, ...]
    sources: tuple[Bar, ...]


@dataclass(frozen=True)
class LatestCase:
    case_no: str
    time: str  # "MM-DD HH:MM"
    class_name: str
    place: str
    status: str
    status_label: str
    light: str  # green / yellow / red / severe (app.deadlines lights) or done (closed)


@dataclass(frozen=True)
class MapData:
    outlines: tuple[dash.Outline, ...]
    bounds: tuple[float, float, float, float] | None  # minx, miny, maxx, maxy
    points: dash.CasePoints
    groups: np.ndarray  # object array of marker group per point (GROUP_LABELS keys)
    heat: np.ndarray  # float32 (rows, cols) in 0..1, row 0 = north
    version: int  # changes whenever outlines/bounds change (lets the map cache its base layer)
    cases: int = 0  # cases reported this month (``points`` holds at most ``map_points`` of them)
    # the legend's counts over every case of the month (GROUP_LABELS keys), and today's new cases; ``None``
    # = count the points (a snapshot made without a digest)
    group_counts: Mapping[str, int] | None = None
    today_cases: int | None = None


@dataclass(frozen=True)
class WallSnapshot:
    taken_at: datetime
    window: Window
    kpi: Kpi
    district_scores: ScoreBoard
    department_scores: ScoreBoard
    hot: HotSpots
    latest: tuple[LatestCase, ...]
    map: MapData


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh hands to the UI: plain data, safe to pass from a worker thread to the GUI thread.

    ``snapshot`` is the new snapshot when ``ok``, else the last good one (or ``None`` before the first);
    ``stale_label`` is the marker text to show when not ``ok``.
    """

    ok: bool
    ms: float  # wall-clock time of the refresh
    error: str = ""
    cpu_ms: float = 0.0  # CPU time of the refreshing thread (what the refresh costs on an idle machine)
    snapshot: WallSnapshot | None = None
    stale_label: str = ""
    cancelled: bool = False
    digest_update: str = ""  # what the refresh did to the live month digest (full read, incremental, unchanged)


# -- helpers ------------------------------------------------------------------------------------------
def heat_grid(x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float] | None,
              cols: int = 192, sigma: float = 2.2) -> np.ndarray:
    """A smoothed density raster (row 0 = north) normalised to 0..1 with a square-root stretch.

    The blur is a separable Gaussian in numpy, so no SciPy is needed; 192 columns is plenty once the
    wall scales it up smoothly.
    """
    if bounds is None or len(x) == 0:
        return np.zeros((1, 1), dtype=np.float32)
    minx, miny, maxx, maxy = bounds
    w = max(maxx - minx, 1e-9)
    h = max(maxy - miny, 1e-9)
    rows = max(8, round(cols * h / w))
    hist, _, _ = np.histogram2d(y, x, bins=(rows, cols), range=((miny, maxy), (minx, maxx)))
    radius = max(1, int(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    hist = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, hist)
    hist = np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, hist)
    top = float(np.percentile(hist[hist > 0], 99.5)) if np.any(hist > 0) else 0.0
    if top <= 0:
        return np.zeros((rows, cols), dtype=np.float32)
    out = np.sqrt(np.clip(hist / top, 0, 1))
    return np.ascontiguousarray(out[::-1], dtype=np.float32)


def traffic_light(status: str, started: str | None, deadline: str | None, now: datetime,
                  thresholds: LightThresholds | None = None) -> str:
    """The light of a case's current stage: ``app.deadlines`` thresholds on the share of the stage time used.

    green / yellow / red / severe as :meth:`app.deadlines.LightThresholds.light` (defaults: yellow from
    80 %, red from 100 %, severe from 300 %); ``done`` when closed or void. The share is taken in
    calendar time between the stored stage start and deadline (the engine set the deadline on the
    working calendar), as the console map does for thousands of points.
    """
    if status in ("closed", "void"):
        return "done"
    if not deadline:
        return "green"
    try:
        end = parse(deadline)
        begin = parse(started) if started else end - timedelta(hours=1)
    except ValueError:
        return "green"
    th = thresholds if thresholds is not None else LightThresholds()
    total = (end - begin).total_seconds()
    if total <= 0:  # a stage without time: late as soon as it is due
        return th.light(th.red) if now >= end else th.light(0.0)
    return th.light((now - begin).total_seconds() / total)


def light_thresholds() -> LightThresholds:
    """The configured thresholds (``time_limits.toml`` ``[light]``); the defaults if the file is unusable."""
    try:
        return LightThresholds.from_config()
    except (OSError, ValueError) as exc:  # TimeLimitError is a ValueError; a wall must not stop for it
        log.warning("wall: light thresholds not readable, using the defaults: %s", exc)
        return LightThresholds()


def _rate_color(rate: float) -> str:
    """Traffic colours for the fallback rate bars (not a grade: no scheme has been run)."""
    if rate >= 0.9:
        return GRADE_COLORS["A"]
    if rate >= 0.8:
        return GRADE_COLORS["C"]
    if rate >= 0.6:
        return GRADE_COLORS["D"]
    return GRADE_COLORS["E"]


def default_scheme() -> str:
    """``standard`` (scores districts and departments) if shipped, else the first scheme file, else ""."""
    files = sorted(SCHEMES.glob("*.toml")) if SCHEMES.exists() else []
    names = [f.stem for f in files]
    return "standard" if "standard" in names else (names[0] if names else "")


def readable_color(color: str | None, grade: str) -> str | None:
    """A scheme's grade colour, unless it is too dark to see on the dark wall (e.g. black for E)."""
    if not color:
        return GRADE_COLORS.get(grade)
    try:
        r, g, b = (int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    except ValueError:
        return GRADE_COLORS.get(grade)
    if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.18:
        return GRADE_COLORS.get(grade, "#7d8aa3")
    return color


Evaluator = Callable[[Any, str, str, str], Any]


def _load_evaluator() -> Evaluator | None:
    try:
        from app.evaluation.run import evaluate  # built by the evaluation work; optional here
    except ImportError:
        return None
    return evaluate  # type: ignore[no-any-return]


def _units_of(result: Any) -> list[Any]:
    units = getattr(result, "units", result)
    if isinstance(units, Mapping):
        return list(units.values())
    return list(units or [])


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


# -- the service ---------------------------------------------------------------------------------------
class WallDataService:
    """Refreshes a :class:`WallSnapshot` from the store; keeps the last good one when it cannot."""

    def __init__(
        self,
        path: str | Path,
        config: WallConfig | None = None,
        clock: Clock | None = None,
        evaluator: Evaluator | bool | None = True,
        background_scores: bool = False,
        full_read_s: float = FULL_READ_S,
    ) -> None:
        """``evaluator=True`` loads ``app.evaluation.run.evaluate`` if present; ``None``/``False`` uses the fallback.

        ``background_scores`` runs evaluations on a worker thread with its own read-only connection, so a
        year of monthly evaluations (seconds at city scale) never blocks a refresh; until the first result
        the boards say "正在计算考评得分…". The wall uses it; tests compute synchronously.

        ``full_read_s``: seconds after which the month digest is read in full again although the event
        log explains every change (a safety net; see :meth:`_live_digest`).
        """
        self.path = Path(path)
        self.config = config or WallConfig()
        self.clock: Clock = clock or SystemClock()
        self._evaluator: Evaluator | None = _load_evaluator() if evaluator is True else (evaluator or None)
        self.snapshot: WallSnapshot | None = None
        self.stale = True
        self.last_ok: datetime | None = None
        self.error = "尚未加载数据"
        self.refresh_count = 0
        self.error_count = 0
        self._conn: sqlite3.Connection | None = None
        self._file_key: tuple[int, int] | None = None
        self._static: tuple[tuple[dash.Outline, ...], tuple[float, float, float, float] | None] | None = None
        self._static_version = 0
        self._names: dict[str, dict[str, str]] = {}
        self._scores: tuple[float, ScoreBoard, ScoreBoard] | None = None
        self._trend_cache: dict[tuple[str, str, str], dict[str, float]] = {}
        self.background_scores = background_scores
        self.thresholds = light_thresholds()
        # one refresh at a time, from whichever thread runs it; cancel() may come from any thread
        self._refresh_lock = threading.Lock()
        self._progress: Progress | None = None
        self._close_pending = False
        self._score_lock = threading.Lock()
        self._score_thread: threading.Thread | None = None
        self._bg_scores: tuple[float, ScoreBoard, ScoreBoard] | None = None
        self.score_runs = 0
        # the month digest kept between refreshes (see _live_digest)
        self.full_read_s = full_read_s
        self._live: dash.LiveDigest | None = None
        self._live_since = 0.0
        self.digest_update = ""  # what the last refresh did to it: "full (why)", "incremental", "unchanged"
        self.full_reads = 0

    # -- state for the UI ---------------------------------------------------------------------------
    @property
    def stale_label(self) -> str:
        """"数据更新于 HH:MM" (the time of the last good data) or a waiting text before the first."""
        if self.last_ok is None:
            return "数据未加载，正在重试…"
        return f"数据更新于 {self.last_ok.strftime('%H:%M')}"

    @property
    def scores_running(self) -> bool:
        """Whether a background evaluation is running (the soak's warm-up waits for the first one)."""
        return self._score_thread is not None and self._score_thread.is_alive()

    def cancel(self) -> None:
        """Stop a refresh in progress (callable from any thread): the caller's ``Progress`` is cancelled,
        checked between queries, and the query running now is interrupted."""
        progress = self._progress
        if progress is not None:
            progress.cancel()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):  # closed meanwhile: nothing to interrupt
                conn.interrupt()

    def close(self, timeout_s: float = 5.0) -> None:
        """Cancel a running refresh and close the connection once it has stopped (a later refresh reopens).

        If the refresh does not stop within ``timeout_s`` it closes the connection itself when it ends.
        """
        self.cancel()
        if self._refresh_lock.acquire(timeout=timeout_s):
            try:
                self._drop_connection()
            finally:
                self._refresh_lock.release()
        else:
            self._close_pending = True

    # -- connection ------------------------------------------------------------------------------------
    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
        self._conn = None
        self._file_key = None
        self._static = None
        self._names = {}
        self._live = None

    def _connection(self) -> sqlite3.Connection:
        """The read-only connection, reopened when the file was replaced (inode changed) or removed."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._drop_connection()
            raise StoreError(f"数据库文件不存在 store '{self.path}' does not exist") from None
        key = (st.st_dev, st.st_ino)
        if self._conn is None or key != self._file_key:
            self._drop_connection()
            # not tied to a thread: the wall refreshes on a pool thread (one refresh at a time, under a lock)
            conn = connect(self.path, readonly=True, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_MS}")
            conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KB}")
            self._conn, self._file_key = conn, key
        return self._conn

    # -- refresh -----------------------------------------------------------------------------------------
    def refresh(self, progress: Progress | None = None) -> RefreshResult:
        """Take a new snapshot; on any failure keep the last one, mark it stale and report why.

        Never raises. Runs on any thread (the wall runs it on a worker; refreshes are serialised);
        the result carries everything the UI shows. ``progress`` (or :meth:`cancel`) stops it early:
        the result is then ``cancelled`` and the last good snapshot stays, not marked stale by it.
        """
        with self._refresh_lock:
            t0 = time.perf_counter()
            c0 = time.thread_time()
            self._progress = progress = progress if progress is not None else Progress()
            try:
                return self._refresh(progress, t0, c0)
            finally:
                self._progress = None
                if self._close_pending:
                    self._close_pending = False
                    self._drop_connection()

    def _result(self, ok: bool, t0: float, c0: float, cancelled: bool = False) -> RefreshResult:
        return RefreshResult(ok, (time.perf_counter() - t0) * 1000, self.error, (time.thread_time() - c0) * 1000,
                             self.snapshot, "" if ok else self.stale_label, cancelled,
                             self.digest_update if ok else "")

    def _refresh(self, progress: Progress, t0: float, c0: float) -> RefreshResult:
        self.refresh_count += 1
        try:
            progress.check()
            conn = self._connection()
            conn.execute("BEGIN")  # one read transaction: a consistent view while others write
            try:
                snap = self._build(conn, progress)
            finally:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
        except Cancelled:
            self._live = None  # it may be half updated
            return self._result(False, t0, c0, cancelled=True)
        except Exception as exc:  # the wall must never fall over: every failure becomes stale state
            self._live = None
            if progress.cancelled:  # the query interrupted by cancel(): not a data problem
                return self._result(False, t0, c0, cancelled=True)
            self.error_count += 1
            self.stale = True
            self.error = self._describe(exc)
            if not isinstance(exc, StoreError | sqlite3.OperationalError):
                log.warning("wall refresh failed: %s", exc, exc_info=isinstance(exc, sqlite3.Error) is False)
            # a damaged or replaced file: start from a fresh connection next time
            if not (isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)):
                self._drop_connection()
            return self._result(False, t0, c0)
        self.snapshot = snap
        self.stale = False
        self.error = ""
        self.last_ok = self.clock.now()
        return self._result(True, t0, c0)

    @staticmethod
    def _describe(exc: Exception) -> str:
        text = str(exc)
        if isinstance(exc, StoreError):
            return text
        if "locked" in text or "busy" in text:
            return f"数据库被占用 store is locked ({text})"
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
            return f"数据库文件损坏 store is damaged ({text})"
        if isinstance(exc, sqlite3.OperationalError) and ("no such" in text or "schema" in text):
            return f"数据库结构不符或正在迁移 store schema not ready ({text})"
        return f"刷新失败 refresh failed ({type(exc).__name__}: {text})"

    def _anchor(self, conn: sqlite3.Connection) -> datetime:
        now = self.clock.now()
        if self.config.period == "latest":
            row = conn.execute("SELECT max(reported_at) FROM case_state").fetchone()
            if row and row[0]:
                now = parse(str(row[0]))
        return now

    def _build(self, conn: sqlite3.Connection, progress: Progress | None = None) -> WallSnapshot:
        check = progress.check if progress is not None else (lambda: None)
        done = {r[0] for r in conn.execute("SELECT name FROM _migration")}
        if REQUIRED_MIGRATION not in done:
            raise StoreError(f"数据库尚未就绪 store has no case tables yet (migration {REQUIRED_MIGRATION})")
        cfg = self.config
        now = self._anchor(conn)
        w = resolve_window(cfg.period, now)
        d = cfg.districts
        if not self._names:
            self._names = {
                "class": dash.class_names(conn), "district": dash.district_names(conn),
                "street": dash.street_names(conn), "department": dash.department_names(conn),
            }
        check()
        live = self._live_digest(conn, w, check)
        digest = live.digest(w.today_start, w.now)
        rates = digest.rates
        last_rates = live.last_rates(w.last_end, w.last_end)
        check()
        # today's 超期 is live (open cases past their deadline now); the month's counts the month's
        # cases that are overdue or were closed late, so the comparison with last month is like for like.
        # The month's and today's flows come from the live digest (only new events are counted); with a
        # district filter they come from case_state's step times, in SQL.
        if d:
            month_flows = dash.flow_counts(conn, w.month_start, w.month_end, w.now, d)
            today = dash.flow_counts(conn, w.today_start, w.today_end, w.now, d)
        else:
            month_flows = live.month_flows()
            today = replace(live.today_flows(), overdue=dash.open_overdue(conn, w.now))
        kpi = Kpi(
            today=today,
            month=replace(month_flows, overdue=rates.overdue),
            last_month=replace(dash.flow_counts(conn, w.last_start, w.last_end, w.last_end, d),
                               overdue=last_rates.overdue),
            rates=rates,
            last_rates=last_rates,
        )
        check()
        hot = self._hot(digest)
        now_dt = parse(w.now)
        latest = tuple(
            LatestCase(
                case_no=r.case_no, time=r.reported_at[5:16].replace("T", " "), class_name=r.class_name,
                place=r.place, status=r.status, status_label=STATUS_LABELS.get(r.status, r.status),
                # a suspended case's clock stopped at its suspension (挂账), as in the console
                light=traffic_light(r.status, r.stage_started_at, r.stage_deadline,
                                    parse(r.suspended_at) if r.suspended_at else now_dt, self.thresholds),
            )
            for r in dash.latest_cases(conn, cfg.latest_count, d)
        )
        check()
        if "scores" in cfg.pages:
            district_scores, department_scores = self._score_boards(conn, w, check)
        else:  # nobody looks at them: do not pay for evaluations
            district_scores = ScoreBoard("区域考评得分", "district", (), w.months12, {})
            department_scores = replace(district_scores, title="部门考评得分", unit_kind="department")
        check()
        return WallSnapshot(
            taken_at=self.clock.now(), window=w, kpi=kpi, district_scores=district_scores,
            department_scores=department_scores, hot=hot, latest=latest, map=self._map(conn, digest),
        )

    def _live_digest(self, conn: sqlite3.Connection, w: Window, check: Callable[[], None]) -> dash.LiveDigest:
        """The month digest kept between refreshes, brought up to date with only the changed cases.

        A new one (a full read) for a new month or day, for another store (``_drop_connection`` drops it),
        after a failed refresh (it may be half updated), and every ``full_read_s`` as a safety net
        against changes no event records; :meth:`db.dashboard.LiveDigest.update` reads in full by itself
        when the event log does not explain the store.
        """
        today = (w.today_start, w.today_end)
        key = (w.month_start, w.month_end, w.last_start, self.config.map_points, self.config.districts, today)
        live = self._live
        now_s = time.monotonic()
        if live is None or live.key != key or now_s - self._live_since > self.full_read_s:
            self._live = live = None  # free the old records before reading the new ones
            live = dash.LiveDigest(w.month_start, w.month_end, w.last_start, self.config.map_points,
                                   self.config.districts, today)
            self._live_since = now_s
        self._live = live
        self.digest_update = live.update(conn, check, last_end=w.last_end)
        if self.digest_update.startswith("full"):
            self.full_reads += 1
        return live

    def _hot(self, digest: dash.MonthDigest) -> HotSpots:
        names = self._names

        def bars(column: str, table: str, limit: int) -> tuple[Bar, ...]:
            return tuple(Bar(names[table].get(code, code), n) for code, n in digest.tops[column][:limit])

        def grid_label(code: str) -> str:
            # "鼓楼东街道 001-003": the street's name, then community and grid serials of the 15-digit code
            street = names["street"].get(code[:9], code[:9])
            return f"{street} {code[9:12]}-{code[12:]}" if len(code) == 15 else code

        sources: dict[str, int] = {}
        for code, n in digest.tops["source"]:
            label = SOURCE_LABELS.get(code, code)
            sources[label] = sources.get(label, 0) + n
        return HotSpots(
            classes=bars("class_code", "class", 8),
            grids=tuple(Bar(grid_label(code), n) for code, n in digest.tops["grid_code"][:6]),
            streets=bars("street_code", "street", 6),
            by_hour=tuple(digest.by_hour),
            sources=tuple(Bar(k, v) for k, v in sorted(sources.items(), key=lambda kv: -kv[1])),
        )

    def _map(self, conn: sqlite3.Connection, digest: dash.MonthDigest) -> MapData:
        pts = digest.points
        if self._static is None:
            outlines = tuple(
                o for o in dash.district_outlines(conn) if not self.config.districts or o.code in self.config.districts
            )
            bounds = dash.extent(conn)
            if outlines and self.config.districts:
                xs = np.concatenate([r[:, 0] for o in outlines for r in o.rings])
                ys = np.concatenate([r[:, 1] for o in outlines for r in o.rings])
                bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
            self._static = (outlines, bounds)
            self._static_version += 1
        outlines, bounds = self._static
        groups = np.empty(len(pts.status), dtype=object)
        groups[:] = list(map(_STATUS_GROUP.__getitem__, pts.status))  # C-level lookups: 20,000 points a refresh
        if len(groups):
            groups[pts.overdue] = "overdue"
        counts = dict.fromkeys(GROUP_LABELS, 0)
        for status, n in digest.status_counts.items():
            counts[_STATUS_GROUP[status]] += n
        counts["overdue"] += digest.overdue_now
        return MapData(outlines, bounds, pts, groups, heat_grid(pts.x, pts.y, bounds), self._static_version,
                       digest.cases, counts, digest.today_cases)

    # -- scores ---------------------------------------------------------------------------------------------
    def _score_boards(self, conn: sqlite3.Connection, w: Window,
                      check: Callable[[], None] = lambda: None) -> tuple[ScoreBoard, ScoreBoard]:
        """Scheme scores when an evaluation can run, else on-time-closure rates (the fallback says so).

        Cached for ``scores_every_s`` (evaluations are heavier than the counters) and per month for trends;
        with ``background_scores`` computed on a worker thread and picked up by a later refresh.
        """
        now_s = time.monotonic()

        def fresh(entry: tuple[float, ScoreBoard, ScoreBoard] | None) -> bool:
            return entry is not None and now_s - entry[0] < self.config.scores_every_s \
                and entry[1].periods[-1:] == (w.month,)

        scheme = self.config.scheme or default_scheme()
        if not self.background_scores or self._evaluator is None or not scheme:
            if not fresh(self._scores):
                boards = self._compute_boards(conn, scheme, w, dict(self._names), check)
                self._scores = (now_s, *boards)
            assert self._scores is not None
            return self._scores[1], self._scores[2]
        with self._score_lock:
            done = self._bg_scores
        running = self._score_thread is not None and self._score_thread.is_alive()
        if not fresh(done) and not running:
            self._score_thread = threading.Thread(
                target=self._background, args=(scheme, w, dict(self._names)), name="wall-scores", daemon=True
            )
            self._score_thread.start()
        if done is not None and done[1].periods[-1:] == (w.month,):
            return done[1], done[2]
        waiting = ScoreBoard("区域考评得分", "district", (), w.months12, {}, note="正在计算考评得分…")
        return waiting, replace(waiting, title="部门考评得分", unit_kind="department")

    def _background(self, scheme: str, w: Window, names: dict[str, dict[str, str]]) -> None:
        """Worker thread: its own read-only connection (SQLite connections never cross threads)."""
        try:
            conn = connect(self.path, readonly=True)
        except Exception as exc:
            log.info("wall: scores not computed, store unavailable: %s", exc)
            return
        try:
            conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_MS}")
            conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KB}")
            conn.execute("BEGIN")
            boards = self._compute_boards(conn, scheme, w, names)
            with self._score_lock:
                self._bg_scores = (time.monotonic(), *boards)
        except Exception as exc:  # a failed evaluation keeps the previous boards
            log.warning("wall: background scores failed: %s", exc)
        finally:
            conn.close()

    def _compute_boards(self, conn: sqlite3.Connection, scheme: str, w: Window, names: dict[str, dict[str, str]],
                        check: Callable[[], None] = lambda: None) -> tuple[ScoreBoard, ScoreBoard]:
        self.score_runs += 1
        boards = []
        # a scheme that scores streets rather than districts (e.g. 钟楼) fills the area board with streets
        plan: tuple[tuple[tuple[tuple[str, str], ...], str, str], ...] = (
            ((("district", "区域"), ("street", "街道")), "district", "区域"),
            ((("department", "部门"),), "department", "部门"),
        )
        for kinds, board_kind, label in plan:
            check()
            board = None
            if self._evaluator is not None and scheme:
                for kind, kind_label in kinds:
                    try:
                        board = self._scheme_board(conn, scheme, kind, kind_label, w)
                        break
                    except Exception as exc:  # a scheme problem must not blank the wall: fall back
                        log.info("wall: evaluation %s/%s not available: %s", scheme, kind, exc)
            if board is None:
                board = self._proxy_board(conn, board_kind, label, w, names)
            boards.append(board)
        return boards[0], boards[1]

    def _scheme_board(self, conn: sqlite3.Connection, scheme: str, kind: str, label: str, w: Window) -> ScoreBoard:
        from db.store import Store

        assert self._evaluator is not None
        store = Store(conn, self.path)

        def totals(period: str) -> tuple[dict[str, float], list[Any]]:
            result = self._evaluator(store, scheme, period, kind)  # type: ignore[misc]
            units = _units_of(result)
            return {str(_get(u, "name", "unit_name", "code", default="?")): float(_get(u, "total", default=0.0))
                    for u in units}, units

        _, units = totals(w.month)
        if kind == "district" and self.config.districts:
            units = [u for u in units if str(_get(u, "code", default="")) in self.config.districts]
        bars = []
        for u in units:
            grade = str(_get(u, "grade", default="") or "")
            color = readable_color(_get(u, "grade_color", default=None), grade)
            bars.append(Bar(str(_get(u, "name", "unit_name", "code", default="?")),
                            float(_get(u, "total", default=0.0)), color, grade))
        trend = self._trend(lambda p: totals(p)[0], ("scheme", scheme, kind), w)
        return ScoreBoard(
            title=f"{label}考评得分", unit_kind=kind, bars=tuple(bars), periods=w.months12, trend=trend,
            source="scheme", note=f"考评方案 {scheme}",
        )

    def _trend(self, month_totals: Callable[[str], dict[str, float]], key: tuple[str, str, str],
               w: Window) -> dict[str, list[float | None]]:
        """Totals per unit for the 12 months; past months are computed once and cached."""
        per_month: dict[str, dict[str, float]] = {}
        for m in w.months12:
            cache_key = (":".join(key), m, w.month)
            if m < w.month and cache_key in self._trend_cache:
                per_month[m] = self._trend_cache[cache_key]
                continue
            per_month[m] = month_totals(m)
            if m < w.month:
                self._trend_cache[cache_key] = per_month[m]
        # keep only what the current 12 months need
        keep = set(w.months12)
        for k in [k for k in self._trend_cache if k[1] not in keep]:
            del self._trend_cache[k]
        units = sorted({u for t in per_month.values() for u in t})
        return {u: [per_month[m].get(u) for m in w.months12] for u in units}

    def _proxy_board(self, conn: sqlite3.Connection, kind: str, label: str, w: Window,
                     all_names: dict[str, dict[str, str]]) -> ScoreBoard:
        column = "district_code" if kind == "district" else "department"
        names = all_names.get("district" if kind == "district" else "department", {})
        start = resolve_window(w.months12[0], parse(w.month_start)).month_start
        rates = dash.unit_rates_by_month(conn, column, start, w.month_end, w.now)
        if self.config.districts and kind == "district":
            rates = {k: v for k, v in rates.items() if k[0] in self.config.districts}
        current = {u: r for (u, m), r in rates.items() if m == w.month}
        bars = []
        for unit, r in current.items():
            rate = r.on_time_closure_rate
            if rate is None:
                continue
            bars.append(Bar(names.get(unit, unit), rate * 100, _rate_color(rate)))
        bars.sort(key=lambda b: -b.value)
        if kind == "department":
            bars = bars[:12]
        shown = {b.label for b in bars}
        trend: dict[str, list[float | None]] = {}
        for (unit, m), r in rates.items():
            name = names.get(unit, unit)
            if name not in shown or r.on_time_closure_rate is None:
                continue
            trend.setdefault(name, [None] * 12)[w.months12.index(m)] = r.on_time_closure_rate * 100
        top = [b.label for b in bars[:6]]
        return ScoreBoard(
            title=f"{label}按期结案率", unit_kind=kind, bars=tuple(bars), periods=w.months12,
            trend={u: trend[u] for u in top if u in trend}, source="proxy",
            note="未配置考评方案，按期结案率代替得分",
        )


def empty_snapshot(now: datetime | None = None, period: str = "this-month") -> WallSnapshot:
    """A snapshot with no data, so pages can render before the first successful refresh."""
    at = now or datetime.now(CST).replace(microsecond=0)
    w = resolve_window(period, at)
    flows = dash.FlowCounts()
    board = ScoreBoard("区域考评得分", "district", (), w.months12, {})
    empty_pts = dash.CasePoints(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=bool),
                                np.zeros(0, dtype=bool))
    return WallSnapshot(
        taken_at=at, window=w, kpi=Kpi(flows, flows, flows, dash.PeriodRates(), dash.PeriodRates()),
        district_scores=board, department_scores=replace(board, title="部门考评得分", unit_kind="department"),
        hot=HotSpots((), (), (), (0,) * 24, ()), latest=(),
        map=MapData((), None, empty_pts, np.zeros(0, dtype=object), np.zeros((1, 1), dtype=np.float32), 0),
    )


__all__ = [
    "GROUP_LABELS", "PAGES", "STATUS_LABELS", "HotSpots", "Kpi", "LatestCase", "MapData", "RefreshResult",
    "ScoreBoard", "WallConfig", "WallDataService", "WallSnapshot", "Window", "empty_snapshot", "heat_grid",
    "light_thresholds", "load_config", "resolve_window", "traffic_light",
]
