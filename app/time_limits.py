"""Time limits (时限) per stage, class, urgency, source and area class, with most-specific-match lookup.

Cities write limits per stage (核实, 立案, 派遣, 处置, 核查, 结案) and, for 处置, per class and urgency
and sometimes per area class (ARCHITECTURE §6.2, STANDARDS "Time limits"). They live in
``resources/config/time_limits.toml`` written with class *names*, because class codes differ between
catalogues; :func:`load_time_limits` resolves the names against the store's catalogue and writes the
``time_limit`` table in one transaction. :class:`TimeLimits` reads that table once and answers lookups
from memory, since the engine asks for a limit at every stage start.

``time_limit.class_code`` holds a *class key*: ``*`` (any), ``part`` / ``event`` (any class of a
kind), ``event:04`` (a major class) or ``event:0102`` (one class). The kind is part of the key because
the legacy catalogue reuses codes across kinds (``0101`` is 上水井盖 and 私搭乱建).

A row may be limited to one case source (``source``: ``hotline_12345``...; ``*`` = any) and may be an
*extension ceiling* (``ceiling = 1``, ``[[ceiling]]`` in the TOML): not the time allowed, but the most
handling time that approved extensions (延期) may bring the stage to ("12345 orders: 7 working days, at
most 15 for complex ones"). Ceilings are looked up with the same most-specific match, separately.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.paths import CONFIG
from app.workflow.transitions import SOURCE_LABELS
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
# case sources of the workflow (inspector, hotline_12319, hotline_12345, ...) and their Chinese labels
SOURCES: dict[str, str] = {name: name for name in SOURCE_LABELS} | {zh: name for name, zh in SOURCE_LABELS.items()}


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


def normalize_source(source: str | None) -> str:
    if source is None or source == "" or source == ANY:
        return ANY
    s = SOURCES.get(str(source).strip())
    if s is None:
        raise TimeLimitError(
            f"案件来源无效 source='{source}' (应为 {', '.join(f'{k} {v}' for k, v in SOURCE_LABELS.items())})"
        )
    return s


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
    """One limit row: ``amount`` ``unit`` for ``stage``, applying to the class key, urgency, area and source.

    ``ceiling`` rows are extension ceilings (the most total time extensions may allow), not limits.
    """

    stage: str
    amount: float
    unit: str
    class_code: str = ANY
    urgency: str = ANY
    area_class: str = ANY
    source: str = ANY
    ceiling: bool = False

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
    def specificity(self) -> tuple[int, int, int, int]:
        """class > major > kind > any, then urgency, then source, then area class."""
        return (_specificity(self.class_code), self.urgency != ANY, self.source != ANY, self.area_class != ANY)

    def row(self) -> tuple[str, str, str, str, str, int, float, str]:
        """The ``time_limit`` row: stage, class key, urgency, area class, source, ceiling, amount, unit."""
        return (self.stage, self.class_code, self.urgency, self.area_class, self.source, int(self.ceiling),
                float(self.amount), self.unit)


@dataclass
class LoadReport:
    """What :func:`load_time_limits` did: rows written and config entries skipped (with why)."""

    rows: list[TimeLimit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# -- config ------------------------------------------------------------------------------------------
def _read_toml(path: str | Path | None) -> dict[str, Any]:
    p = Path(path) if path is not None else TIME_LIMITS_TOML
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise TimeLimitError(f"时限配置文件不存在 path='{p}'") from None
    except tomllib.TOMLDecodeError as exc:
        raise TimeLimitError(f"时限配置文件格式错误 path='{p}': {exc}") from None
    return data


def _tables(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    entries = data.get(name, [])
    if not isinstance(entries, list):
        raise TimeLimitError(f"时限配置格式错误 {name}='{entries}' (use [[{name}]] tables)")
    return entries


def read_config(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The ``[[limit]]`` entries of the config."""
    return _tables(_read_toml(path), "limit")


def read_ceilings(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The ``[[ceiling]]`` entries (extension ceilings) of the config."""
    return _tables(_read_toml(path), "ceiling")


def resolve_config(
    path: str | Path | None, classes: list[tuple[str, str, str, str]], catalog: str | None
) -> LoadReport:
    """Limits and extension ceilings of a config file, resolved against a catalogue."""
    data = _read_toml(path)
    report = resolve_entries(_tables(data, "limit"), classes, catalog)
    ceilings = resolve_entries(_tables(data, "ceiling"), classes, catalog, ceiling=True)
    report.rows += ceilings.rows
    report.skipped += ceilings.skipped
    return report


def resolve_entries(
    entries: Iterable[dict[str, Any]], classes: list[tuple[str, str, str, str]], catalog: str | None,
    ceiling: bool = False,
) -> LoadReport:
    """Turn config entries into rows, expanding class names and globs against ``classes``.

    ``classes`` is ``(kind, major_code, class_code, name)`` of the store's catalogue; ``ceiling`` marks
    ``[[ceiling]]`` entries (extension ceilings, handling stage only).
    """
    report = LoadReport()
    rows: dict[tuple[str, str, str, str, str], TimeLimit] = {}
    table = "ceiling" if ceiling else "limit"
    for n, e in enumerate(entries, start=1):
        where = f"{table} #{n}"
        try:
            stage = normalize_stage(e.get("stage", ""))
            unit = normalize_unit(str(e.get("unit", "")))
            amount = e.get("amount")
            if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
                raise TimeLimitError(f"时限数值无效 {where}.amount='{amount}' (must be > 0)")
            urgency = normalize_urgency(e.get("urgency"))
            area = normalize_area_class(e.get("area_class"))
            try:
                source = normalize_source(e.get("source"))
            except TimeLimitError as exc:
                raise TimeLimitError(f"{where}: {exc}") from None
            if ceiling and stage != "handle":
                raise TimeLimitError(
                    f"延期上限只适用于处置阶段 {where}.stage='{e.get('stage')}' (extension ceilings apply to handle only)"
                )
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
            lim = TimeLimit(stage, float(amount), unit, key, urgency, area, source, ceiling)
            rows[(stage, key, urgency, area, source)] = lim  # a later entry for the same key wins
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
    report = resolve_config(path, classes, catalog)
    with store.atomic() as conn:
        case_queries.replace_time_limits(conn, [r.row() for r in report.rows])
    return report


# -- lookup ------------------------------------------------------------------------------------------
class TimeLimits:
    """All limits in memory, answering "how long for this stage of this case" by most specific match."""

    def __init__(self, limits: Iterable[TimeLimit]) -> None:
        self._by_stage: dict[str, list[TimeLimit]] = {}
        self._ceilings: dict[str, list[TimeLimit]] = {}
        for lim in limits:
            (self._ceilings if lim.ceiling else self._by_stage).setdefault(lim.stage, []).append(lim)
        for rows in (*self._by_stage.values(), *self._ceilings.values()):
            rows.sort(key=lambda r: r.specificity, reverse=True)
        self._cache: dict[tuple[str, str | None, str | None, str, str, str], TimeLimit] = {}
        self._ceiling_cache: dict[tuple[str, str | None, str | None, str, str, str], TimeLimit | None] = {}

    @classmethod
    def from_store(cls, store: Store) -> TimeLimits:
        """The store's table; when it is empty, the project config resolved against the store's catalogue."""
        rows = case_queries.time_limit_rows(store.conn)
        if rows:
            return cls(
                TimeLimit(stage, amount, unit, ck, urg, area, src, bool(ceil))
                for stage, ck, urg, area, src, ceil, amount, unit in rows
            )
        classes, catalog = _store_classes(store)
        return cls(resolve_config(None, classes, catalog).rows)

    @classmethod
    def from_config(cls, path: str | Path | None = None, catalog: str | None = None) -> TimeLimits:
        """From a TOML file alone, with names resolved against a gisdata catalogue (tests, tools)."""
        from gisdata.catalog import load_catalog
        from gisdata.codes import CATALOG_LEGACY

        cat = load_catalog(catalog or CATALOG_LEGACY)
        classes = [(c.kind, c.major_code, c.class_code, c.name) for c in cat.classes]
        return cls(resolve_config(path, classes, cat.id).rows)

    def stages(self) -> list[str]:
        return sorted(self._by_stage)

    def all(self) -> list[TimeLimit]:
        """Every limit (extension ceilings are in :meth:`ceilings`)."""
        return [r for rows in self._by_stage.values() for r in rows]

    def ceilings(self) -> list[TimeLimit]:
        return [r for rows in self._ceilings.values() for r in rows]

    def lookup(
        self, stage: str, kind: str | None = None, class_code: str | None = None,
        urgency: str | None = None, area_class: str | None = None, source: str | None = None,
    ) -> TimeLimit:
        """The most specific limit for the stage: class > major > kind > any, then urgency, then source,
        then area class."""
        stage = normalize_stage(stage)
        urg = normalize_urgency(urgency)
        area = normalize_area_class(area_class)
        src = normalize_source(source)
        ck = (stage, kind, class_code, urg, area, src)
        hit = self._cache.get(ck)
        if hit is not None:
            return hit
        hit = self._match(self._by_stage, stage, kind, class_code, urg, area, src)
        if hit is None:
            raise TimeLimitError(
                f"未配置时限 stage='{stage}' (kind={kind}, class_code={class_code}, source={src}); "
                "请在 time_limits.toml 中配置"
            )
        self._cache[ck] = hit
        return hit

    def ceiling(
        self, stage: str, kind: str | None = None, class_code: str | None = None,
        urgency: str | None = None, area_class: str | None = None, source: str | None = None,
    ) -> TimeLimit | None:
        """The extension ceiling for the stage (same matching as :meth:`lookup`), ``None`` when there is none."""
        stage = normalize_stage(stage)
        urg = normalize_urgency(urgency)
        area = normalize_area_class(area_class)
        src = normalize_source(source)
        ck = (stage, kind, class_code, urg, area, src)
        if ck not in self._ceiling_cache:
            self._ceiling_cache[ck] = self._match(self._ceilings, stage, kind, class_code, urg, area, src)
        return self._ceiling_cache[ck]

    @staticmethod
    def _match(
        by_stage: dict[str, list[TimeLimit]], stage: str, kind: str | None, class_code: str | None,
        urg: str, area: str, src: str,
    ) -> TimeLimit | None:
        keys = {ANY}
        if kind:
            keys.add(kind)
            if class_code:
                keys.add(f"{kind}:{class_code}")
                keys.add(f"{kind}:{class_code[:2]}")
        for lim in by_stage.get(stage, []):
            if (lim.class_code in keys and lim.urgency in (ANY, urg) and lim.area_class in (ANY, area)
                    and lim.source in (ANY, src)):
                return lim
        return None
