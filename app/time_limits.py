"""Time limits (时限) per stage, class, urgency and area class, with most-specific-match lookup.

Cities write limits per stage (核实, 立案, 派遣, 处置, 核查, 结案) and, for 处置, per class and urgency
and sometimes per area class (ARCHITECTURE §6.2, STANDARDS "Time limits"). They live in
``resources/config/time_limits.toml`` written with class *names*, because class codes differ between
catalogues; :func:`load_time_limits` resolves the names against the store's catalogue and writes the
``time_limit`` table in one transaction. :class:`TimeLimits` reads that table once and answers lookups
from memory, since the engine asks for a limit at every stage start.

``time_limit.class_code`` holds a *class key*: ``*`` (any), ``part`` / ``event`` (any class of a
kind), ``event:04`` (a major class) or ``event:0102`` (one class). The kind is part of the key because
the legacy catalogue reuses codes across kinds (``0101`` is 上水井盖 and 私搭乱建).
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.paths import CONFIG
from app.worktime import UNITS, CalendarError, normalize_unit
from db import case_queries
from db.store import Store

TIME_LIMITS_TOML = CONFIG / "time_limits.toml"

STAGES: dict[str, str] = {
    "verify": "核实", "accept": "受理", "register": "立案", "dispatch": "派遣",
    "handle": "处置", "check": "核查", "close": "结案",
}
STAGE_ALIASES = {zh: en for en, zh in STAGES.items()} | {"处理": "handle", "核查结案": "check"}
URGENCIES = {"normal": "normal", "一般": "normal", "普通": "normal", "urgent": "urgent", "紧急": "urgent",
             "特急": "urgent"}
AREA_CLASSES = {"一类区域": "一类区域", "一类": "一类区域", "1": "一类区域",
                "二类区域": "二类区域", "二类": "二类区域", "2": "二类区域"}
KINDS = ("part", "event")
ANY = "*"


class TimeLimitError(ValueError):
    """A bad time-limit row or lookup; the message is Chinese + English and names the field and value."""


def normalize_stage(stage: str) -> str:
    s = str(stage).strip()
    if s in STAGES:
        return s
    if s in STAGE_ALIASES:
        return STAGE_ALIASES[s]
    raise TimeLimitError(f"阶段无效 stage='{stage}' (应为 {', '.join(f'{k} {v}' for k, v in STAGES.items())})")


def normalize_urgency(urgency: str | None) -> str:
    if urgency is None or urgency == "" or urgency == ANY:
        return ANY
    u = URGENCIES.get(str(urgency).strip().lower()) or URGENCIES.get(str(urgency).strip())
    if u is None:
        raise TimeLimitError(f"紧急程度无效 urgency='{urgency}' (应为 normal 一般 / urgent 紧急)")
    return u


def normalize_area_class(area_class: str | None) -> str:
    if area_class is None or area_class == "" or area_class == ANY:
        return ANY
    a = AREA_CLASSES.get(str(area_class).strip())
    if a is None:
        raise TimeLimitError(f"区域类别无效 area_class='{area_class}' (应为 一类区域 / 二类区域)")
    return a


def class_key(kind: str | None, class_code: str | None) -> str:
    """The ``time_limit.class_code`` key for a kind and a class (or major) code."""
    if not kind:
        return ANY
    if kind not in KINDS:
        raise TimeLimitError(f"类型无效 kind='{kind}' (应为 part 部件 / event 事件)")
    return f"{kind}:{class_code}" if class_code else kind


def _specificity(key: str) -> int:
    if key == ANY:
        return 0
    if ":" not in key:
        return 1
    return 2 if len(key.split(":", 1)[1]) == 2 else 3


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """One limit row: ``amount`` ``unit`` for ``stage``, applying to the class key, urgency and area."""

    stage: str
    amount: float
    unit: str
    class_code: str = ANY
    urgency: str = ANY
    area_class: str = ANY

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise TimeLimitError(f"时限单位无效 unit='{self.unit}' (应为 {'/'.join(UNITS)})")
        if not isinstance(self.amount, int | float) or isinstance(self.amount, bool) or not self.amount > 0:
            raise TimeLimitError(f"时限数值无效 amount='{self.amount}' (must be > 0)")

    @property
    def label(self) -> str:
        """``4 工作时`` as shown to operators."""
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit}"

    @property
    def specificity(self) -> tuple[int, int, int]:
        return (_specificity(self.class_code), self.urgency != ANY, self.area_class != ANY)

    def row(self) -> tuple[str, str, str, str, float, str]:
        return (self.stage, self.class_code, self.urgency, self.area_class, float(self.amount), self.unit)


@dataclass
class LoadReport:
    """What :func:`load_time_limits` did: rows written and config entries skipped (with why)."""

    rows: list[TimeLimit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# -- config ------------------------------------------------------------------------------------------
def read_config(path: str | Path | None = None) -> list[dict[str, Any]]:
    p = Path(path) if path is not None else TIME_LIMITS_TOML
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise TimeLimitError(f"时限配置文件不存在 path='{p}'") from None
    except tomllib.TOMLDecodeError as exc:
        raise TimeLimitError(f"时限配置文件格式错误 path='{p}': {exc}") from None
    entries = data.get("limit", [])
    if not isinstance(entries, list):
        raise TimeLimitError(f"时限配置格式错误 limit='{entries}' (use [[limit]] tables)")
    return entries


def resolve_entries(
    entries: Iterable[dict[str, Any]], classes: list[tuple[str, str, str, str]], catalog: str | None
) -> LoadReport:
    """Turn config entries into rows, expanding class names and globs against ``classes``.

    ``classes`` is ``(kind, major_code, class_code, name)`` of the store's catalogue.
    """
    report = LoadReport()
    rows: dict[tuple[str, str, str, str], TimeLimit] = {}
    for n, e in enumerate(entries, start=1):
        where = f"limit #{n}"
        try:
            stage = normalize_stage(e.get("stage", ""))
            unit = normalize_unit(str(e.get("unit", "")))
            amount = e.get("amount")
            if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
                raise TimeLimitError(f"时限数值无效 {where}.amount='{amount}' (must be > 0)")
            urgency = normalize_urgency(e.get("urgency"))
            area = normalize_area_class(e.get("area_class"))
            kind = e.get("kind")
            if kind is not None and kind not in KINDS:
                raise TimeLimitError(f"类型无效 {where}.kind='{kind}' (应为 part / event)")
        except CalendarError as exc:
            raise TimeLimitError(f"{where}: {exc}") from None
        if e.get("catalog") and catalog and e["catalog"] != catalog:
            report.skipped.append(f"{where}: catalog {e['catalog']} ≠ store catalogue {catalog}")
            continue
        keys: list[str]
        if "class" in e:
            pattern = str(e["class"])
            matched = [
                (k, code) for k, _major, code, name in classes
                if (kind is None or k == kind) and fnmatch.fnmatchcase(name, pattern)
            ]
            if not matched:
                report.skipped.append(f"{where}: 分类目录中没有 class '{pattern}' (not in catalogue {catalog})")
                continue
            keys = [class_key(k, code) for k, code in matched]
        elif "class_code" in e:
            if kind is None:
                raise TimeLimitError(f"指定分类编码时须指定类型 {where}.kind (class_code='{e['class_code']}')")
            code = str(e["class_code"])
            if not code.isdigit() or len(code) not in (2, 4, 5):
                raise TimeLimitError(f"分类编码无效 {where}.class_code='{code}' (2-digit major or 4/5-digit class)")
            keys = [class_key(kind, code)]
        else:
            keys = [class_key(kind, None)]
        for key in keys:
            lim = TimeLimit(stage, float(amount), unit, key, urgency, area)
            rows[(stage, key, urgency, area)] = lim  # a later entry for the same key wins
    report.rows = list(rows.values())
    return report


def _store_classes(store: Store) -> tuple[list[tuple[str, str, str, str]], str | None]:
    catalog = case_queries.store_catalog(store.conn)
    classes = case_queries.catalog_classes(store.conn, catalog) if catalog else []
    if not classes:
        from gisdata.catalog import load_catalog
        from gisdata.codes import CATALOG_LEGACY

        cat = load_catalog(catalog or CATALOG_LEGACY)
        catalog = cat.id
        classes = [(c.kind, c.major_code, c.class_code, c.name) for c in cat.classes]
    return classes, catalog


def load_time_limits(store: Store, path: str | Path | None = None) -> LoadReport:
    """Replace the store's ``time_limit`` table with the config (one transaction)."""
    classes, catalog = _store_classes(store)
    report = resolve_entries(read_config(path), classes, catalog)
    with store.atomic() as conn:
        case_queries.replace_time_limits(conn, [r.row() for r in report.rows])
    return report


# -- lookup ------------------------------------------------------------------------------------------
class TimeLimits:
    """All limits in memory, answering "how long for this stage of this case" by most specific match."""

    def __init__(self, limits: Iterable[TimeLimit]) -> None:
        self._by_stage: dict[str, list[TimeLimit]] = {}
        for lim in limits:
            self._by_stage.setdefault(lim.stage, []).append(lim)
        for rows in self._by_stage.values():
            rows.sort(key=lambda r: r.specificity, reverse=True)
        self._cache: dict[tuple[str, str | None, str | None, str, str], TimeLimit] = {}

    @classmethod
    def from_store(cls, store: Store) -> TimeLimits:
        """The store's table; when it is empty, the project config resolved against the store's catalogue."""
        rows = case_queries.time_limit_rows(store.conn)
        if rows:
            return cls(TimeLimit(stage, amount, unit, ck, urg, area) for stage, ck, urg, area, amount, unit in rows)
        classes, catalog = _store_classes(store)
        return cls(resolve_entries(read_config(), classes, catalog).rows)

    @classmethod
    def from_config(cls, path: str | Path | None = None, catalog: str | None = None) -> TimeLimits:
        """From a TOML file alone, with names resolved against a gisdata catalogue (tests, tools)."""
        from gisdata.catalog import load_catalog
        from gisdata.codes import CATALOG_LEGACY

        cat = load_catalog(catalog or CATALOG_LEGACY)
        classes = [(c.kind, c.major_code, c.class_code, c.name) for c in cat.classes]
        return cls(resolve_entries(read_config(path), classes, cat.id).rows)

    def stages(self) -> list[str]:
        return sorted(self._by_stage)

    def all(self) -> list[TimeLimit]:
        return [r for rows in self._by_stage.values() for r in rows]

    def lookup(
        self, stage: str, kind: str | None = None, class_code: str | None = None,
        urgency: str | None = None, area_class: str | None = None,
    ) -> TimeLimit:
        """The most specific limit for the stage: class > major > kind > any, then urgency, then area."""
        stage = normalize_stage(stage)
        urg = normalize_urgency(urgency)
        area = normalize_area_class(area_class)
        ck = (stage, kind, class_code, urg, area)
        hit = self._cache.get(ck)
        if hit is not None:
            return hit
        keys = {ANY}
        if kind:
            keys.add(kind)
            if class_code:
                keys.add(f"{kind}:{class_code}")
                keys.add(f"{kind}:{class_code[:2]}")
        for lim in self._by_stage.get(stage, []):
            if (lim.class_code in keys and lim.urgency in (ANY, urg) and lim.area_class in (ANY, area)):
                self._cache[ck] = lim
                return lim
        raise TimeLimitError(f"未配置时限 stage='{stage}' (kind={kind}, class_code={class_code}); 请在 time_limits.toml 中配置")
