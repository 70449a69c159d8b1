"""Duplicates at filing and the repeat-case rule of the evaluation (ARCHITECTURE §6.4).

Two different questions:

* **At filing** (重复上报): is someone reporting a problem the centre already knows? The same class or a
  sibling class (same major class of the same kind) within a radius (per class, default 30 m) of an
  open case reported within a window, or of a case closed recently (the problem may have come back,
  or the reporter has not seen the fix). The operator sees the list before saving and may link the
  report (``mark_duplicate``) instead of filing a new case.
* **For evaluation** (重复案件): the same minor class at the same place (unit grid) within the period,
  counted when it occurs 2+ times on 主要路段 or in a 重点区域, 3+ on 次干道, 4+ in 背街小巷. Part
  classes and 非法小广告 are excluded. Every case of a qualifying group is a repeat case.

Both rules are dataclasses with the seed defaults; callers (a scheme, a settings dialog) pass their own.
Distances are metres on the CGCS2000 ellipsoid's mean radius (haversine), which is within 0.5% of a
Gauss-Krüger measurement at 30 m; the candidate box comes from the ``case_state`` R-tree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.timefmt import fmt, parse, to_cst
from db import case_queries
from db.store import Store

EARTH_RADIUS_M = 6371008.8
SAME_CLASS, SIBLING_CLASS = "same_class", "sibling_class"
REASON_LABELS = {SAME_CLASS: "同类案件", SIBLING_CLASS: "同大类案件"}


class DuplicateError(ValueError):
    """Bad input to a duplicate check; the message names the field and value."""


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points (EPSG:4490)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class DuplicateRule:
    """Parameters of the filing-time check; ``radius_by_class`` keys are class codes or ``kind:code``."""

    radius_m: float = 30.0
    radius_by_class: Mapping[str, float] = field(default_factory=dict)
    window_days: float = 7.0  # open cases reported within this many days before the new report
    closed_days: float = 3.0  # closed cases closed within this many days
    siblings: bool = True  # same major class of the same kind also counts

    def radius_for(self, kind: str | None, class_code: str) -> float:
        r = self.radius_by_class.get(f"{kind}:{class_code}") if kind else None
        if r is None:
            r = self.radius_by_class.get(class_code, self.radius_m)
        return float(r)


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """A case the new report may duplicate, nearest first."""

    case_no: str
    status: str
    class_code: str | None
    distance_m: float
    reported_at: str | None
    closed_at: str | None
    reason: str  # SAME_CLASS or SIBLING_CLASS
    address: str | None = None

    @property
    def label(self) -> str:
        return f"{self.case_no} {REASON_LABELS[self.reason]} 距离 {self.distance_m:.0f} 米"


def _at(value: datetime | str) -> datetime:
    return parse(value) if isinstance(value, str) else to_cst(value)


def find_duplicates(
    store: Store, *, kind: str | None, class_code: str, lon: float, lat: float,
    at: datetime | str, rule: DuplicateRule | None = None, exclude: str | None = None,
) -> list[DuplicateCandidate]:
    """Cases that a report of ``class_code`` at (lon, lat) at time ``at`` may duplicate, nearest first.

    ``exclude`` leaves out one case number (the case itself, when checking an existing case).
    """
    rule = rule or DuplicateRule()
    for name, v in (("lon", lon), ("lat", lat)):
        if not isinstance(v, int | float) or isinstance(v, bool) or math.isnan(v):
            raise DuplicateError(f"坐标无效 {name}='{v}'")
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise DuplicateError(f"坐标超出范围 lon='{lon}', lat='{lat}'")
    if not class_code:
        raise DuplicateError(f"分类编码不能为空 class_code='{class_code}'")
    radius = rule.radius_for(kind, class_code)
    if radius <= 0:
        raise DuplicateError(f"查重半径须大于 0 radius_m='{radius}'")
    t = _at(at)
    dlat = math.degrees(radius / EARTH_RADIUS_M) * 1.01
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    rows = case_queries.cases_in_box(
        store.conn, lon - dlon, lon + dlon, lat - dlat, lat + dlat,
        fmt(t - timedelta(days=rule.window_days)), fmt(t - timedelta(days=rule.closed_days)),
    )
    at_text = fmt(t)
    out = []
    for r in rows:
        if r["case_no"] == exclude or r["lon"] is None:
            continue
        if (r["reported_at"] or "") > at_text:
            continue  # reported after the new report (replaying history)
        if kind and r["kind"] and r["kind"] != kind:
            continue
        other = r["class_code"] or ""
        if other == class_code:
            reason = SAME_CLASS
        elif rule.siblings and other[:2] == class_code[:2]:
            reason = SIBLING_CLASS
        else:
            continue
        d = distance_m(lon, lat, r["lon"], r["lat"])
        if d <= radius:
            out.append(DuplicateCandidate(
                r["case_no"], r["status"], r["class_code"], d, r["reported_at"], r["closed_at"], reason, r["address"],
            ))
    out.sort(key=lambda c: (c.reason != SAME_CLASS, c.distance_m, c.case_no))
    return out


# -- the repeat-case rule --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RepeatRule:
    """重复案件 seed rule; thresholds by road class, key areas counted like main roads."""

    thresholds: Mapping[str, int] = field(
        default_factory=lambda: {"主要路段": 2, "次干道": 3, "背街小巷": 4}
    )
    key_area_threshold: int = 2
    default_road_class: str = "次干道"
    exclude_kinds: frozenset[str] = frozenset({"part"})
    exclude_class_names: tuple[str, ...] = ("非法小广告",)

    def threshold(self, road_class: str | None, key_area: bool) -> int:
        t = self.thresholds.get(road_class or self.default_road_class, self.thresholds[self.default_road_class])
        return min(t, self.key_area_threshold) if key_area else t


@dataclass(frozen=True, slots=True)
class RepeatGroup:
    """One class at one grid that reached its threshold in the period; all its cases are repeat cases."""

    grid_code: str
    kind: str
    class_code: str
    road_class: str | None
    key_area: bool
    threshold: int
    case_nos: tuple[str, ...]


def _excluded_codes(store: Store, names: tuple[str, ...]) -> set[tuple[str, str]]:
    catalog = case_queries.store_catalog(store.conn)
    if catalog is None:
        from gisdata.codes import CATALOG_LEGACY

        catalog = CATALOG_LEGACY
    classes = case_queries.catalog_classes(store.conn, catalog)
    if not classes:
        from gisdata.catalog import load_catalog

        classes = [(c.kind, c.major_code, c.class_code, c.name) for c in load_catalog(catalog).classes]
    return {(k, code) for k, _m, code, name in classes if any(n in name for n in names)}


def repeat_groups(store: Store, start: str, end: str, rule: RepeatRule | None = None) -> list[RepeatGroup]:
    """The repeat-case groups among non-void cases reported in ``[start, end)`` (ISO text bounds)."""
    rule = rule or RepeatRule()
    excluded = _excluded_codes(store, rule.exclude_class_names)
    groups: dict[tuple[str, str, str], list[tuple[str, str | None, bool]]] = {}
    for case_no, kind, class_code, grid_code, road_class, key_area, _at_text in case_queries.repeat_rows(
        store.conn, start, end
    ):
        if not grid_code or not class_code or kind in rule.exclude_kinds or (kind, class_code) in excluded:
            continue
        groups.setdefault((grid_code, kind, class_code), []).append((case_no, road_class, bool(key_area)))
    out = []
    for (grid, kind, code), members in sorted(groups.items()):
        road, key = members[0][1], members[0][2]
        threshold = rule.threshold(road, key)
        if len(members) >= threshold:
            out.append(RepeatGroup(grid, kind, code, road, key, threshold, tuple(m[0] for m in members)))
    return out


def repeat_case_numbers(store: Store, start: str, end: str, rule: RepeatRule | None = None) -> list[str]:
    """Every repeat case in the period (the count the 重复案件率 uses)."""
    return sorted(c for g in repeat_groups(store, start, end, rule) for c in g.case_nos)
