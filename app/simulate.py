"""The simulated year (ARCHITECTURE §6.6): a city's cases, generated and fed through the real engine.

Why through the engine: evaluations, the wall and the inbox are computed from ``case_event``; if the
demo data were written around the engine, a rule the engine enforces (roles, states, deadlines, close
types) could be violated in the demo and nobody would notice. Here every action is an exchange-format
event (``app.workflow.engine.EventIn``) applied by :meth:`WorkflowEngine.apply_batch`, in time order,
with progress and cancel, so the demo also exercises the replay path at scale.

What is simulated (all seeded and deterministic for a given store, seed, scale and end):

* **Volume**: ``test`` ~2,000 cases over the last 3 months, ``demo`` 110,000 over 12 months,
  ``city`` 1,000,000 over 12 months; more in summer, fewer on weekends and around 春节.
* **Sources**: 监督员 most (about 68%), 12345 and 12319 hotlines, the public, video, leaders, media.
  Hotline and public reports are verified (核实) first, and about 7% turn out false (作废).
* **Classes** by place and season: 暴露垃圾, 非法小广告, 店外经营 … weighted by road class (背街小巷 get
  more 乱堆物堆料 and 小广告, 主要路段 more 店外经营 and 机动车乱停放); 道路积水 and 露天烧烤 in summer,
  道路积雪结冰 in winter. Part cases are real parts of the store (status 破损/丢失; a missing manhole
  cover is urgent).
* **Departments**: each has a speed (share of the time limit it usually uses; some are slow), a
  rework rate (返工 on 核查) and a bounce rate (asks for 回退 when it should not); dispatchers sometimes
  pick the wrong department, which comes back as an approved 回退 charged to them, then a redispatch.
* **Branches**: 延期 requests (mostly approved), 挂账 and 恢复, 督办 by leaders (some twice), 作废
  requests, 不予立案, duplicates linked with ``mark_duplicate``, repeat problems at the same place,
  自处理 of small problems by inspectors, and hotline satisfaction **callbacks** recorded as
  ``comment`` events with data ``{"callback": true, "satisfied": <bool>}``.

Cases whose later steps fall after ``end`` stay open, as in a real city on any given day.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.case_numbers import CaseNumberAllocator
from app.clock import ManualClock
from app.deadlines import WorkDeadlines
from app.dispatch import Dispatcher
from app.progress import Progress
from app.time_limits import TimeLimitError, load_time_limits
from app.timefmt import CST, fmt, now, to_cst
from app.workflow.engine import Actor, EventIn, WorkflowEngine
from db import case_queries
from db.store import Store

SCALES: dict[str, tuple[int, int]] = {"test": (2_000, 3), "demo": (110_000, 12), "city": (1_000_000, 12)}

SOURCE_MIX = (
    ("inspector", 0.68), ("hotline_12345", 0.12), ("hotline_12319", 0.08), ("public", 0.05),
    ("video", 0.04), ("leader", 0.015), ("media", 0.015),
)
PUBLIC_SOURCES = frozenset({"hotline_12345", "hotline_12319", "public", "media"})
PART_SHARE = 0.28

# Event classes of the CJ/T 214 catalogue: base weight, then weights by road class and season multipliers.
EVENT_WEIGHTS: dict[str, float] = {
    "0102": 12, "0104": 8, "0201": 12, "0504": 10, "0507": 8, "0505": 5, "0506": 4, "0501": 5, "0101": 2,
    "0103": 3, "0110": 2, "0112": 2, "0202": 2, "0203": 1.5, "0205": 1, "0302": 1.5, "0303": 1, "0304": 1.5,
    "0404": 1, "0406": 0.3, "0407": 0.1, "0511": 2, "0116": 1, "0510": 1, "0108": 1, "0107": 0.5, "0106": 2,
    "0105": 0.5, "0115": 0.3, "0199": 0.5, "0599": 0.5, "0503": 1, "0513": 0.5,
}
ROAD_FACTORS: dict[str, dict[str, float]] = {
    "背街小巷": {"0507": 2.0, "0201": 1.6, "0511": 2.0, "0102": 1.3, "0505": 0.5, "0504": 0.7},
    "主要路段": {"0504": 1.6, "0505": 1.8, "0104": 1.4, "0506": 1.5, "0201": 0.7, "0507": 0.5},
    "次干道": {},
}
SEASON_FACTORS: dict[str, dict[int, float]] = {
    "0406": {6: 12, 7: 20, 8: 15, 9: 4, 5: 3},  # 道路积水: the rainy season
    "0407": {12: 25, 1: 40, 2: 20},  # 道路积雪结冰: winter only
    "0102": {6: 1.5, 7: 1.6, 8: 1.5},  # 暴露垃圾 in summer heat
    "0510": {5: 2, 6: 3, 7: 3.5, 8: 3, 9: 2, 12: 0.2, 1: 0.2, 2: 0.2},  # 露天烧烤
    "0116": {6: 1.3, 7: 1.3, 8: 1.3},
    "0115": {10: 4, 11: 5, 12: 2},  # 焚烧树叶: autumn
    "0302": {3: 1.6, 4: 1.6, 5: 1.4},  # 工地扬尘: spring wind
}
ALWAYS_ZERO_OUTSIDE = frozenset({"0407"})  # no snow outside the months listed
SELF_HANDLE_CLASSES = frozenset({"0201", "0506", "0511", "0104"})
MONTH_VOLUME = {1: 0.75, 2: 0.7, 3: 0.95, 4: 1.0, 5: 1.05, 6: 1.15, 7: 1.2, 8: 1.15, 9: 1.05, 10: 0.95, 11: 0.95,
                12: 0.85}
ROAD_VOLUME = {"主要路段": 1.6, "次干道": 1.0, "背街小巷": 1.2}

# Event routing added to the responsibility table when the store has no event rows (documented in
# docs/time-and-dispatch.md): (class key, "street" | "district" | "*", department code or template).
EVENT_ROUTING: tuple[tuple[str, str, str], ...] = (
    ("event:01", "street", "JD{street}"), ("event:05", "street", "JD{street}"),
    ("event:02", "district", "CG{district}"), ("event:03", "*", "FGJ"), ("event:04", "district", "CG{district}"),
    ("event:0101", "*", "CGZF"), ("event:0102", "district", "CG{district}"), ("event:0104", "district", "CG{district}"),
    ("event:0105", "*", "SZC"), ("event:0106", "*", "YLC"), ("event:0110", "*", "SZC"),
    ("event:0116", "*", "HBJ"), ("event:0302", "*", "HBJ"), ("event:0402", "*", "GSGS"), ("event:0403", "*", "RQGS"),
    ("event:0404", "*", "SZC"), ("event:0405", "*", "RLGS"), ("event:0406", "*", "SZC"), ("event:0407", "*", "HWC"),
    ("event:0408", "*", "TXGS"), ("event:0505", "*", "JJZD"), ("event:0501", "district", "CG{district}"),
)


class SimulationError(ValueError):
    """The simulation cannot run as asked (unknown scale, no grids)."""


@dataclass
class SimSummary:
    """What :func:`simulate_year` produced."""

    seed: int
    scale: str
    start: str
    end: str
    cases: int = 0
    events: int = 0
    rejected: int = 0
    rejections: list[str] = field(default_factory=list)
    by_source: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Grid:
    code: str
    street: str
    district: str
    road_class: str
    area_class: str | None
    key_area: bool
    inspector: str | None
    minx: float
    miny: float
    maxx: float
    maxy: float


@dataclass(frozen=True, slots=True)
class _Dept:
    code: str
    speed: float  # median share of the limit used for handling
    rework: float  # probability a handled case fails 核查
    bounce: float  # probability it asks for an unwarranted 回退
    satisfaction: float  # probability a callback is satisfied when on time


@dataclass(slots=True)
class _Case:
    no: str
    source: str
    kind: str
    class_code: str
    urgency: str
    lon: float
    lat: float
    grid: _Grid
    part: tuple[Any, ...] | None = None


def _end_instant(end: date | datetime | str | None) -> datetime:
    """The cutoff: a datetime as given; a date means the end of that day, or now when it is today."""
    if end is None:
        return now()
    if isinstance(end, str):
        end = datetime.fromisoformat(end) if "T" in end else date.fromisoformat(end)
    if isinstance(end, datetime):
        return to_cst(end)
    eod = datetime.combine(end, datetime.min.time(), CST) + timedelta(days=1, seconds=-1)
    return min(eod, now()) if end == now().date() else eod


def _months_before(t: datetime, months: int) -> datetime:
    y, m = t.year, t.month - months
    while m <= 0:
        y, m = y - 1, m + 12
    day = min(t.day, 28)
    return t.replace(year=y, month=m, day=day, hour=0, minute=0, second=0)


class _World:
    """Everything the generator draws from: grids, parts, departments, actors, limits, routing."""

    def __init__(self, store: Store, seed: int, deadlines: WorkDeadlines) -> None:
        import shapely

        from db import gpkg

        self.rng = random.Random(seed)
        self.deadlines = deadlines
        self.calendar = deadlines.calendar
        conn = store.conn
        rows = case_queries.grid_sim_rows(conn)
        if not rows:
            raise SimulationError("没有单元网格，无法模拟 store has no unit grids (build the base data first)")
        self.grids: list[_Grid] = []
        self.geoms = []
        for code, street, district, road, area, key, insp, blob in rows:
            g = shapely.from_wkb(gpkg.wkb_of(blob))
            minx, miny, maxx, maxy = g.bounds
            self.grids.append(_Grid(code, street, district, road or "次干道", area, bool(key), insp,
                                    minx, miny, maxx, maxy))
            self.geoms.append(g)
        shapely.prepare(self.geoms)
        self.grid_weights = [ROAD_VOLUME.get(g.road_class, 1.0) * (2.0 if g.key_area else 1.0) for g in self.grids]
        self.by_code = {g.code: i for i, g in enumerate(self.grids)}
        self.max_part_fid = case_queries.max_part_fid(conn)
        users = case_queries.users_by_role(conn)
        self.intakes = users.get("intake") or ["intake01"]
        self.leads = users.get("shift_lead") or ["shift01"]
        self.dispatchers = users.get("dispatcher") or ["dispatch01"]
        self.leaders = users.get("leader") or ["leader01"]
        self.inspectors = users.get("inspector") or ["insp001"]
        catalog = case_queries.store_catalog(conn)
        classes = case_queries.catalog_classes(conn, catalog) if catalog else []
        self.event_names = {code: name for kind, _m, code, name in classes if kind == "event"}
        self.event_classes = [c for c in EVENT_WEIGHTS if c in self.event_names] or sorted(self.event_names)
        if not self.event_classes:
            from gisdata.catalog import load_catalog

            cat = load_catalog()
            self.event_names = {c.class_code: c.name for c in cat.of_kind("event")}
            self.event_classes = [c for c in EVENT_WEIGHTS if c in self.event_names]
        self.dispatcher_index = Dispatcher.from_store(store)
        codes = sorted(self.dispatcher_index.department_names) or ["CG000000"]
        self.dept_codes = codes
        drng = random.Random(seed * 7919 + 13)
        self.depts: dict[str, _Dept] = {}
        for code in codes:
            slow = drng.random() < 0.18
            self.depts[code] = _Dept(
                code,
                speed=drng.uniform(0.75, 1.05) if slow else drng.uniform(0.3, 0.6),
                rework=drng.choice((0.02, 0.04, 0.06, 0.15)),
                bounce=drng.choice((0.0, 0.01, 0.02, 0.08)),
                satisfaction=drng.uniform(0.82, 0.97),
            )
        self._suggest_cache: dict[tuple[Any, ...], str] = {}
        self._class_tables: dict[tuple[str, int], tuple[list[str], list[float]]] = {}
        self.grid_cum = list(itertools.accumulate(self.grid_weights))

    # -- drawing helpers -------------------------------------------------------------------------------------
    def point_in(self, gi: int) -> tuple[float, float]:
        import shapely

        g = self.grids[gi]
        geom = self.geoms[gi]
        for _ in range(12):
            x = self.rng.uniform(g.minx, g.maxx)
            y = self.rng.uniform(g.miny, g.maxy)
            if shapely.contains_xy(geom, x, y):
                return round(x, 7), round(y, 7)
        p = geom.representative_point()
        return round(p.x, 7), round(p.y, 7)

    def near(self, gi: int, lon: float, lat: float, metres: float) -> tuple[float, float]:
        """A point within about ``metres`` of (lon, lat) in the same grid (so it stays inside the city)."""
        import shapely

        d = metres / 111_195.0
        for _ in range(6):
            x, y = round(lon + self.rng.uniform(-d, d), 7), round(lat + self.rng.uniform(-d, d) * 0.8, 7)
            if shapely.contains_xy(self.geoms[gi], x, y):
                return x, y
        return lon, lat

    def event_class(self, road: str, month: int) -> str:
        key = (road, month)
        table = self._class_tables.get(key)
        if table is None:
            weights = event_class_weights(road, month, self.event_classes)
            table = (list(weights), list(itertools.accumulate(weights.values())))
            self._class_tables[key] = table
        return self.rng.choices(table[0], cum_weights=table[1])[0]

    def department_for(self, case: _Case) -> str:
        part_depts = tuple(case.part[4:7]) if case.part is not None else None
        key = (case.kind, case.class_code, case.grid.street, case.grid.district, part_depts)
        hit = self._suggest_cache.get(key)
        if hit is None:
            ranked = self.dispatcher_index.suggest(
                {"kind": case.kind, "class_code": case.class_code, "street_code": case.grid.street,
                 "district_code": case.grid.district, "grid_code": case.grid.code},
                part_departments=part_depts, limit=1,
            )
            if ranked:
                hit = ranked[0].department
            else:
                fallback = f"CG{case.grid.district}"
                hit = fallback if fallback in self.depts else self.dept_codes[0]
            self._suggest_cache[key] = hit
        return hit

    def dept(self, code: str) -> _Dept:
        d = self.depts.get(code)
        if d is None:
            d = _Dept(code, 0.5, 0.04, 0.02, 0.9)
            self.depts[code] = d
        return d


_SOURCE_NAMES = [s for s, _ in SOURCE_MIX]
_SOURCE_CUM = list(itertools.accumulate(p for _, p in SOURCE_MIX))


def event_class_weights(road_class: str, month: int, classes: list[str] | None = None) -> dict[str, float]:
    """Relative frequency of each event class at a road class in a month (the simulator's class mix)."""
    rf = ROAD_FACTORS.get(road_class, {})
    out: dict[str, float] = {}
    for c in classes if classes is not None else list(EVENT_WEIGHTS):
        w = EVENT_WEIGHTS.get(c, 0.2) * rf.get(c, 1.0)
        season = SEASON_FACTORS.get(c)
        if season is not None:
            if month in season:
                w *= season[month]
            elif c in ALWAYS_ZERO_OUTSIDE:
                w = 0.0
        out[c] = w
    return out


def _ri(rng: random.Random, a: int, b: int) -> int:
    """``rng.randint(a, b)`` without its argument checks (it is called about ten times per case)."""
    return a + int(rng.random() * (b - a + 1))


def _desk(t: datetime, rng: random.Random) -> datetime:
    """The supervision centre's desks work 07:00-22:00 every day; later actions wait for the morning."""
    if t.hour < 7:
        return t.replace(hour=7, minute=_ri(rng, 0, 40), second=0)
    if t.hour >= 22:
        return (t + timedelta(days=1)).replace(hour=7, minute=_ri(rng, 0, 40), second=0)
    return t


def _actor_of_dept(code: str) -> Actor:
    return Actor(f"dept_{code.lower()}", "department")


class _Generator:
    """Turns the world into a time-ordered stream of ``EventIn`` (lazy: a heap of pending events)."""

    def __init__(self, world: _World, store: Store, start: datetime, end: datetime, n_cases: int) -> None:
        self.w = world
        self.rng = world.rng
        self.start, self.end = start, end
        self.n_cases = n_cases
        self.conn = store.conn
        self.numbers = CaseNumberAllocator(store.conn)
        self.heap: list[tuple[str, int, EventIn]] = []
        self.counter = 0
        self.recent: deque[tuple[datetime, _Case]] = deque(maxlen=400)
        self.summary_sources: dict[str, int] = {}
        self.cases = 0

    # -- report times --------------------------------------------------------------------------------------
    def report_times(self) -> list[datetime]:
        """Sorted report instants: volume by month, weekday and (for the 春节 week) a dip."""
        rng = self.rng
        days = []
        d = self.start.date()
        while d <= self.end.date():
            w = MONTH_VOLUME[d.month] * (0.55 if d.weekday() >= 5 else 1.0)
            if not self.w.calendar.is_workday(d) and d.weekday() < 5:
                w *= 0.5  # public holidays
            days.append((d, w))
            d += timedelta(days=1)
        total = sum(w for _, w in days)
        out: list[datetime] = []
        for d, w in days:
            k = int(self.n_cases * w / total + rng.random())
            base = datetime.combine(d, datetime.min.time(), CST)
            for _ in range(k):
                # most reports in working hours, some early or in the evening
                if rng.random() < 0.85:
                    secs = _ri(rng, 8 * 3600, 18 * 3600)
                else:
                    secs = _ri(rng, 6 * 3600, 22 * 3600)
                t = base + timedelta(seconds=secs)
                if self.start <= t <= self.end:
                    out.append(t)
        out.sort()
        return out

    def push(self, t: datetime, case_no: str, action: str, actor: Actor, data: dict[str, Any]) -> datetime:
        if t.microsecond:
            t = t.replace(microsecond=0)
        if t <= self.end:
            self.counter += 1
            at = t.isoformat()  # always CST here: the same text as app.timefmt.fmt
            heapq.heappush(self.heap, (at, self.counter, EventIn(case_no, action, actor, data, at)))
        return t

    # -- the stream ----------------------------------------------------------------------------------------
    def events(self, progress: Progress | None = None) -> Iterator[EventIn]:
        for i, t0 in enumerate(self.report_times()):
            if progress is not None and i % 256 == 0:
                progress.check()
            t0s = t0.isoformat()
            while self.heap and self.heap[0][0] <= t0s:
                yield heapq.heappop(self.heap)[2]
            self.new_case(t0)
        while self.heap:
            yield heapq.heappop(self.heap)[2]

    # -- one case ------------------------------------------------------------------------------------------
    def new_case(self, t0: datetime) -> None:
        w, rng = self.w, self.rng
        source = rng.choices(_SOURCE_NAMES, cum_weights=_SOURCE_CUM)[0]  # = choices(names, weights)
        # duplicates: a public report of something already reported nearby in the last two days
        if source in PUBLIC_SOURCES and self.recent and rng.random() < 0.06:
            # the most recent event cases first: a duplicate follows its original within two days
            for t_orig, orig in reversed(self.recent):
                if (t0 - t_orig) >= timedelta(days=2):
                    break
                if orig.kind == "event" and rng.random() < 0.3:
                    self.duplicate(t0, source, orig)
                    return
        kind = "part" if (rng.random() < PART_SHARE and w.max_part_fid > 0) else "event"
        part = None
        urgency = "normal"
        if kind == "part":
            rows = case_queries.parts_by_fid(self.conn, [_ri(rng, 1, w.max_part_fid)])
            if rows and rows[0][3] in w.by_code:
                part = rows[0]
                gi = w.by_code[part[3]]
                lon, lat = round(float(part[7]), 7), round(float(part[8]), 7)
                class_code = str(part[2])
                if rng.random() < 0.12:
                    urgency = "urgent"  # 丢失 / dangerous
            else:
                kind = "event"
        if kind == "event":
            pick = self.recent[rng.randrange(len(self.recent))] if self.recent and rng.random() < 0.10 else None
            if pick is not None and pick[1].kind == "event" and (t0 - pick[0]) < timedelta(days=30):
                base = pick[1]  # the same problem again at the same place
                gi = w.by_code[base.grid.code]
                class_code = base.class_code
                lon, lat = w.near(gi, base.lon, base.lat, 8)
            else:
                gi = rng.choices(range(len(w.grids)), cum_weights=w.grid_cum)[0]
                class_code = w.event_class(w.grids[gi].road_class, t0.month)
                lon, lat = w.point_in(gi)
            if class_code in ("0401", "0402", "0403", "0405", "0406") or rng.random() < 0.02:
                urgency = "urgent"
        grid = w.grids[gi]
        case_no = self.numbers.next(t0.year, source)
        case = _Case(case_no, source, kind, class_code, urgency, lon, lat, grid, part)
        self.cases += 1
        self.summary_sources[source] = self.summary_sources.get(source, 0) + 1
        inspector = Actor(grid.inspector or rng.choice(w.inspectors), "inspector")
        report = {"source": source, "kind": kind, "class_code": class_code, "lon": lon, "lat": lat}
        if part is not None:
            report["part_code"] = str(part[1])
        if urgency != "normal":
            report["urgency"] = urgency
        if kind == "event" and class_code in w.event_names:
            report["description"] = w.event_names[class_code]
        # 自处理: small problems fixed on the spot by the inspector
        if source == "inspector" and kind == "event" and class_code in SELF_HANDLE_CLASSES and rng.random() < 0.2:
            self.push(t0, case_no, "self_handle", inspector, report)
            return
        reporter = inspector if source == "inspector" else Actor(rng.choice(w.intakes), "intake")
        self.push(t0, case_no, "report", reporter, report)
        self.recent.append((t0, case))
        self.lifecycle(case, t0, inspector)

    def duplicate(self, t0: datetime, source: str, orig: _Case) -> None:
        w, rng = self.w, self.rng
        lon, lat = w.near(w.by_code[orig.grid.code], orig.lon, orig.lat, 12)
        case_no = self.numbers.next(t0.year, source)
        self.cases += 1
        self.summary_sources[source] = self.summary_sources.get(source, 0) + 1
        intake = Actor(rng.choice(w.intakes), "intake")
        self.push(t0, case_no, "report", intake, {
            "source": source, "kind": "event", "class_code": orig.class_code, "lon": lon, "lat": lat,
            "description": "重复上报",
        })
        self.push(t0 + timedelta(minutes=_ri(rng, 3, 25)), case_no, "mark_duplicate", intake,
                  {"original": orig.no})

    def lifecycle(self, c: _Case, t0: datetime, inspector: Actor) -> None:
        w, rng = self.w, self.rng
        intake = Actor(rng.choice(w.intakes), "intake")
        lead = Actor(rng.choice(w.leads), "shift_lead")
        disp = Actor(rng.choice(w.dispatchers), "dispatcher")
        no = c.no
        t = _desk(t0 + timedelta(minutes=_ri(rng, 2, 15)), rng)
        if rng.random() < 0.02:
            self.push(t, no, "reject", intake, {"reason": "不属于受理范围"})
            return
        if c.source != "inspector":
            t = self.push(t, no, "send_verify", intake, {})
            t = _desk(t + timedelta(minutes=_ri(rng, 8, 40)), rng)
            ok = rng.random() > 0.07
            t = self.push(t, no, "verify", inspector, {"passed": ok})
            if not ok:
                return
        else:
            t = self.push(t, no, "accept", intake, {})
        t = _desk(t + timedelta(minutes=_ri(rng, 3, 50)), rng)
        t = self.push(t, no, "register", lead, {})
        if rng.random() < 0.01:
            t = self.push(t + timedelta(minutes=_ri(rng, 5, 30)), no, "request_void", intake, {"reason": "信息有误"})
            self.push(_desk(t + timedelta(minutes=_ri(rng, 5, 60)), rng), no, "decide_void", lead, {"approved": True})
            return
        right = w.department_for(c)
        t = _desk(t + timedelta(minutes=_ri(rng, 3, 45)), rng)
        # a wrong dispatch first (charged to the dispatcher), or a department that bounces it anyway
        wrong = rng.random() < 0.035
        bounces = 0
        while True:
            target = rng.choice(w.dept_codes) if wrong else right
            if wrong and target == right:
                wrong = False
            t = self.push(t, no, "dispatch", disp, {"department": target})
            d = w.dept(target)
            unwarranted = not wrong and bounces < 2 and rng.random() < d.bounce
            if not (wrong or unwarranted):
                break
            t = self.calendar_add(t, rng.uniform(0.3, 3.0))
            t = self.push(t, no, "request_return", _actor_of_dept(target), {"reason": "非本单位职责"})
            t = _desk(t + timedelta(minutes=_ri(rng, 10, 120)), rng)
            approved = wrong or rng.random() < 0.3
            t = self.push(t, no, "decide_return", disp, {"approved": approved})
            bounces += 1
            if not approved:
                break
            wrong = False
            t = _desk(t + timedelta(minutes=_ri(rng, 5, 40)), rng)
            disp = Actor(rng.choice(w.dispatchers), "dispatcher")
        self.handling(c, t, d, target, disp, intake, lead, inspector)

    def calendar_add(self, t: datetime, working_hours: float) -> datetime:
        return self.w.calendar.add(t, working_hours, "工作时")

    def within_ceiling(self, c: _Case, started: datetime, amount: float, unit: str) -> bool:
        """Whether +2 工作日 stays within the case's extension ceiling (12345: 15 工作日); dispatchers deny
        the rest, as the engine would refuse them."""
        cal = self.w.calendar
        cap = self.w.deadlines.limits.ceiling(
            "handle", c.kind, c.class_code, c.urgency, c.grid.area_class, c.source)
        if cap is None:
            return True
        extended = cal.add(cal.add(started, amount, unit), 2, "工作日")
        return extended <= cal.add(started, cap.amount, cap.unit)

    def handling(self, c: _Case, t: datetime, d: _Dept, target: str, disp: Actor, intake: Actor, lead: Actor,
                 inspector: Actor) -> None:
        w, rng = self.w, self.rng
        no = c.no
        dept_actor = _actor_of_dept(target)
        try:
            lim = w.deadlines.limit("handle", c.kind, c.class_code, c.urgency, c.grid.area_class, c.source)
        except TimeLimitError:
            lim = None
        amount, unit = (lim.amount, lim.unit) if lim is not None else (3.0, "工作日")
        started = t
        # 督办: leaders escalate some cases while they are being handled, a few twice
        share = max(0.05, rng.lognormvariate(0, 0.45) * d.speed)
        if rng.random() < 0.12:
            share *= rng.uniform(2.0, 4.0)  # the occasional badly late case
        escalate = rng.random() < (0.05 if share > 1 else 0.015)
        extension = rng.random() < 0.035
        suspend = rng.random() < 0.012
        if extension:
            t = w.calendar.add(t, amount * rng.uniform(0.2, 0.6), unit)
            t = self.push(t, no, "request_extension", dept_actor,
                          {"reason": "需协调多个部门", "amount": 2, "unit": "工作日"})
            t = _desk(t + timedelta(minutes=_ri(rng, 10, 180)), rng)
            approved = rng.random() < 0.8 and self.within_ceiling(c, started, amount, unit)
            data: dict[str, Any] = {"approved": approved}
            if approved:
                data |= {"amount": 2, "unit": "工作日"}
            t = self.push(t, no, "decide_extension", disp, data)
            if approved:
                share = max(0.2, share * 0.8)
        if escalate:
            t = self.push(_desk(t + timedelta(hours=rng.uniform(1, 30)), rng), no, "escalate",
                          Actor(rng.choice(w.leaders), "leader"), {"level": 1})
            if rng.random() < 0.25:
                t = self.push(_desk(t + timedelta(hours=rng.uniform(4, 48)), rng), no, "escalate",
                              Actor(rng.choice(w.leaders), "leader"), {"level": 2})
        if suspend:
            t = self.calendar_add(t, rng.uniform(0.5, 4))
            t = self.push(t, no, "request_suspend", dept_actor, {"reason": "需列入计划统一处置"})
            t = _desk(t + timedelta(minutes=_ri(rng, 10, 240)), rng)
            t = self.push(t, no, "decide_suspend", disp, {"approved": True})
            t = _desk(t + timedelta(days=rng.uniform(3, 40)), rng)
            t = self.push(t, no, "resume", disp, {})
            started = t
            share *= 0.5
        for attempt in range(3):
            done = w.calendar.add(started, amount * share, unit)
            t = self.push(max(done, t + timedelta(minutes=5)), no, "handle", dept_actor, {"feedback": "已处置完毕"})
            t = _desk(t + timedelta(minutes=_ri(rng, 5, 60)), rng)
            t = self.push(t, no, "send_check", intake, {})
            t = _desk(t + timedelta(minutes=_ri(rng, 10, 80)), rng)
            passed = attempt == 2 or rng.random() > d.rework
            t = self.push(t, no, "check", inspector, {"passed": passed})
            if passed:
                break
            started = t
            share = max(0.05, rng.lognormvariate(0, 0.4) * d.speed * 0.6)
        t = _desk(t + timedelta(minutes=_ri(rng, 5, 90)), rng)
        t = self.push(t, no, "close", lead, {})
        if c.source in PUBLIC_SOURCES:
            late = share > 1.0
            satisfied = rng.random() < (d.satisfaction * (0.6 if late else 1.0))
            t = _desk(t + timedelta(hours=rng.uniform(4, 48)), rng)
            self.push(t, no, "comment", intake, {"callback": True, "satisfied": satisfied,
                                                 "text": "回访满意" if satisfied else "回访不满意"})


def ensure_event_routing(store: Store) -> int:
    """Add event rows to the responsibility table (属地 streets and district bureaus, city departments)
    when it has none, so dispatch suggestions and the simulation route events sensibly. One transaction."""
    conn = store.conn
    if case_queries.has_event_responsibilities(conn):
        return 0
    depts = {code for code, _n, _k, _d in case_queries.departments(conn)}
    grids = case_queries.grid_sim_rows(conn)
    streets = sorted({(r[1], r[2]) for r in grids})
    districts = sorted({r[2] for r in grids})
    rows: list[tuple[str, str, str]] = []
    for key, level, template in EVENT_ROUTING:
        if level == "*":
            if template in depts:
                rows.append((key, "*", template))
        elif level == "district":
            rows += [(key, d, template.format(district=d)) for d in districts
                     if template.format(district=d) in depts]
        else:
            rows += [(key, s, template.format(street=s, district=d)) for s, d in streets
                     if template.format(street=s, district=d) in depts]
    with store.atomic() as c:
        return case_queries.add_responsibilities(c, rows)


def _check_scale(scale: str, cases: int | None, months: int | None) -> tuple[int, int]:
    if scale not in SCALES:
        raise SimulationError(f"未知的规模 scale='{scale}' (expected one of {', '.join(SCALES)})")
    n_cases, n_months = SCALES[scale]
    n_cases = cases if cases is not None else n_cases
    n_months = months if months is not None else n_months
    if n_cases < 0 or n_months <= 0:
        raise SimulationError(f"模拟规模无效 cases='{n_cases}', months='{n_months}'")
    return n_cases, n_months


def _prepare(store: Store, seed: int, n_cases: int, n_months: int, end: date | datetime | str | None
             ) -> tuple[_Generator, WorkDeadlines, datetime, datetime]:
    cutoff = _end_instant(end)
    start = _months_before(cutoff, n_months)
    if case_queries.count_time_limits(store.conn) == 0:
        load_time_limits(store)
    ensure_event_routing(store)
    deadlines = WorkDeadlines.from_store(store)
    world = _World(store, seed, deadlines)
    return _Generator(world, store, start, cutoff, n_cases), deadlines, start, cutoff


def simulated_events(
    store: Store, *, seed: int = 1, scale: str = "demo", end: date | datetime | str | None = None,
    cases: int | None = None, months: int | None = None, progress: Progress | None = None,
) -> Iterator[EventIn]:
    """The simulation's event stream without applying it (in time order), e.g. to write a replay file.

    Case numbers are allocated against the store's current record, so the stream applies to this
    store (or a copy with the same base data and cases). Prepares the store like :func:`simulate_year`
    (time limits, event routing).
    """
    n_cases, n_months = _check_scale(scale, cases, months)
    gen = _prepare(store, seed, n_cases, n_months, end)[0]
    return gen.events(progress)


def exchange_line(ev: EventIn) -> str:
    """One event as an exchange-format JSON line (ARCHITECTURE §6.5), as ``app.exchange`` reads it."""
    return json.dumps(
        {"case_no": ev.case_no, "at": ev.at, "action": ev.action, "actor": {"id": ev.actor.id, "role": ev.actor.role},
         "data": dict(ev.data)},
        ensure_ascii=False, separators=(",", ":"),
    )


def simulate_year(
    store: Store, *, seed: int = 1, scale: str = "demo", end: date | datetime | str | None = None,
    progress: Progress | None = None, cases: int | None = None, months: int | None = None,
) -> SimSummary:
    """Simulate ``scale``'s cases over the months before ``end`` through the workflow engine.

    ``cases`` and ``months`` override the scale's figures (benchmarks, tests). Returns a summary;
    events the engine rejects are counted (a healthy run rejects none).
    """
    n_cases, n_months = _check_scale(scale, cases, months)
    prog = progress or Progress()
    t_begin = time.perf_counter()
    gen, deadlines, start, cutoff = _prepare(store, seed, n_cases, n_months, end)
    engine = WorkflowEngine(store, clock=ManualClock(cutoff), deadlines=deadlines)
    summary = SimSummary(seed, scale, fmt(start), fmt(cutoff))
    by_action: dict[str, int] = {}

    def counted(ev: EventIn, _applied: Any) -> None:
        by_action[ev.action] = by_action.get(ev.action, 0) + 1

    prog.report(0.0, "模拟案件 simulating cases")
    result = engine.apply_batch(gen.events(prog), progress=prog, total=int(n_cases * 9.5), on_applied=counted)
    summary.cases = gen.cases
    summary.events = result.applied
    summary.rejected = len(result.rejected)
    summary.rejections = [f"{ref}: {exc}" for ref, exc in result.rejected[:20]]
    summary.by_source = dict(sorted(gen.summary_sources.items()))
    summary.by_action = dict(sorted(by_action.items()))
    summary.seconds = time.perf_counter() - t_begin
    prog.report(1.0, f"模拟完成 simulated {summary.cases:,} 件案件, {summary.events:,} 条事件")
    return summary
