"""Scheme files: load a TOML scoring method from ``resources/schemes`` and validate every field.

A scheme reproduces one real city's scoring method (考核办法) as data, so that the people judged by
it can read the file against the seed document clause by clause. Validation is strict (unknown keys
are errors) because a typo in a weight silently costs a district money; every error names the file,
the item and the field. The language is documented in ``docs/schemes.md``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from app.evaluation.periods import Period
from app.evaluation.rules import RULE_KINDS, Band, Divisor, Reason, Rule, Term, ValueExpr
from app.paths import SCHEMES

PERIOD_KINDS = ("month", "quarter", "year")
ROLLUP_METHODS = ("mean", "sum", "divide")


class SchemeError(ValueError):
    """A scheme file that does not load or validate (message Chinese + English, names file/item/field)."""


@dataclass(frozen=True, slots=True)
class Category:
    """A group of items with a cap (大项, e.g. 日常管理 20分); the sum of its items is clamped to it."""

    id: str
    name: str
    cap: float
    floor: float = 0.0
    uncapped: bool = False
    source: str = ""
    unit_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    """One scored item (考核项目) with its full marks, rule, and the seed clause it reproduces."""

    id: str
    name: str
    category: str
    full: float
    rule: Rule
    source: str
    assumption: str = ""
    unit_kinds: tuple[str, ...] = ()
    bonus: bool = False
    deduct_from: str = "item"
    uncapped: bool = False
    basis: float = 0.0
    adjust: bool = False
    na: str = "full"
    rule_text: str = ""

    @property
    def is_manual(self) -> bool:
        return self.rule.kind == "manual"

    def applies_to(self, kind: str) -> bool:
        return not self.unit_kinds or kind in self.unit_kinds


@dataclass(frozen=True, slots=True)
class Rollup:
    """How base-period results roll into a longer period (泉山: 月度累计/12 × 0.9 + 管理评价 × 0.1 + 5)."""

    period: str
    source_period: str
    method: str
    divisor: float
    weight: float
    name: str
    cap: float | None
    bonus_cap: float | None
    items: tuple[Item, ...]
    source: str = ""
    assumption: str = ""


@dataclass(frozen=True, slots=True)
class Grade:
    """A grade band: a total at or above ``min`` earns ``label`` (shown in ``color``)."""

    min: float
    label: str
    color: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class RankNote:
    """A note by rank (reward or fine by place), counted from the top or from the bottom."""

    place: int
    from_bottom: bool
    note: str
    group: str = ""  # only in this ranking group (``[ranking] group_attribute`` value); "" = every group
    skip_attribute: str | None = None  # units with this attribute truthy take no place (递补 by the next)
    consecutive: int = 1  # the same place in this many periods running (连续两个季度倒数第一)


@dataclass(frozen=True, slots=True)
class Demotion:
    """钟楼: the unit losing the most points on ``items`` cannot earn a grade above ``max_grade``."""

    items: tuple[str, ...]
    max_grade: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class Scheme:
    """A validated scheme; see ``docs/schemes.md`` for the TOML form of every field."""

    id: str
    name: str
    version: str
    seed: str
    source: str
    unit_kinds: tuple[str, ...]
    period: str
    categories: tuple[Category, ...]
    items: tuple[Item, ...]
    total_cap: float | None = None
    total_floor: float | None = 0.0
    bonus_cap: float | None = None
    year_bonus_cap: float | None = None
    carry_negative: bool = False
    assumptions: tuple[str, ...] = ()
    declared_indicators: tuple[str, ...] = ()
    rollups: tuple[Rollup, ...] = ()
    grades: tuple[Grade, ...] = ()
    grade_periods: tuple[str, ...] = PERIOD_KINDS
    rank_order: str = "desc"
    rank_group: str | None = None
    rank_notes: tuple[RankNote, ...] = ()
    demotion: Demotion | None = None
    indicator_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: str = ""
    valid_from: str | None = None  # first month ("YYYY-MM") this revision of the rules applies to

    def category(self, cat_id: str) -> Category | None:
        for c in self.categories:
            if c.id == cat_id:
                return c
        return None

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        for r in self.rollups:
            for it in r.items:
                if it.id == item_id:
                    return it
        raise KeyError(f"考核项不存在 item='{item_id}' (scheme {self.id} has no such item)")

    def rollup(self, period_kind: str) -> Rollup | None:
        for r in self.rollups:
            if r.period == period_kind:
                return r
        return None

    def items_for(self, kind: str) -> list[Item]:
        return [it for it in self.items if it.applies_to(kind)]

    @property
    def required_indicators(self) -> tuple[str, ...]:
        """Every indicator the rules read plus those the scheme declares, in first-use order."""
        names: list[str] = list(self.declared_indicators)
        for it in self.items:
            names.extend(it.rule.indicators)
        return tuple(dict.fromkeys(names))

    def required_indicators_for(self, kind: str) -> tuple[str, ...]:
        names: list[str] = []
        for it in self.items_for(kind):
            names.extend(it.rule.indicators)
        return tuple(dict.fromkeys(names))

    @property
    def manual_items(self) -> list[Item]:
        """Items evaluators fill in (base period and roll-ups), for the entry form."""
        out = [it for it in self.items if it.is_manual or it.adjust]
        for r in self.rollups:
            out.extend(r.items)
        return out


# ---------------------------------------------------------------------------------------------- loading


class _Ctx:
    """Names the file and item in every error message."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, fld: str, msg: str) -> SchemeError:
        return SchemeError(f"考核方案错误 file={self.file} {where} field='{fld}': {msg}")


_SCHEME_KEYS = {
    "id", "name", "version", "seed", "source", "unit_kinds", "period", "total_cap", "total_floor",
    "uncapped", "bonus_cap", "year_bonus_cap", "carry_negative", "assumptions", "required_indicators", "grade_periods",
    "valid_from",
}
_CATEGORY_KEYS = {"id", "name", "cap", "floor", "uncapped", "source", "unit_kinds"}
_VALUE_KEYS = {"indicator", "terms", "over", "over_attribute", "over_per", "skip_missing"}
_ITEM_COMMON = {
    "id", "name", "category", "full", "kind", "source", "assumption", "unit_kinds", "bonus", "deduct_from",
    "uncapped", "basis", "adjust", "na", "rule_text",
}
_KIND_KEYS: dict[str, set[str]] = {
    "linear": _VALUE_KEYS | {"threshold", "direction", "step", "per_step", "steps", "zero_below", "zero_above"},
    "per_count": _VALUE_KEYS | {
        "per", "allowance", "allowance_rate", "allowance_of", "allowance_round", "repeat", "repeat_factor",
        "divide_by", "effect",
    },
    "threshold": _VALUE_KEYS | {"op", "than", "pass_points", "fail_points"},
    "table": _VALUE_KEYS | {"bands", "by_attribute", "tables"},
    "rate": _VALUE_KEYS | {"invert"},
    "manual": {"entry", "required", "reasons", "bands"},
}
_ROLLUP_KEYS = {
    "period", "from", "method", "divisor", "weight", "name", "cap", "bonus_cap", "item", "source", "assumption",
}
_TOP_KEYS = {"scheme", "category", "item", "rollup", "grade", "ranking", "demotion", "indicator_definitions"}


def _num(ctx: _Ctx, where: str, table: dict[str, Any], key: str, default: float | None = None,
         *, required: bool = False) -> float | None:
    if key not in table:
        if required:
            raise ctx.fail(where, key, "缺少必填数值 (required number missing)")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ctx.fail(where, key, f"应为数值 (expected a number), got {v!r}")
    return float(v)


def _req_num(ctx: _Ctx, where: str, table: dict[str, Any], key: str, default: float | None = None) -> float:
    v = _num(ctx, where, table, key, default, required=default is None)
    assert v is not None
    return v


def _str(ctx: _Ctx, where: str, table: dict[str, Any], key: str, default: str | None = None,
         choices: tuple[str, ...] | None = None) -> str:
    if key not in table:
        if default is None:
            raise ctx.fail(where, key, "缺少必填文字 (required text missing)")
        return default
    v = table[key]
    if not isinstance(v, str):
        raise ctx.fail(where, key, f"应为文字 (expected a string), got {v!r}")
    if choices is not None and v not in choices:
        raise ctx.fail(where, key, f"取值无效 '{v}' (expected one of {list(choices)})")
    return v


def _bool(ctx: _Ctx, where: str, table: dict[str, Any], key: str, default: bool = False) -> bool:
    v = table.get(key, default)
    if not isinstance(v, bool):
        raise ctx.fail(where, key, f"应为 true/false (expected a boolean), got {v!r}")
    return v


def _strs(ctx: _Ctx, where: str, table: dict[str, Any], key: str) -> tuple[str, ...]:
    v = table.get(key, [])
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise ctx.fail(where, key, f"应为文字列表 (expected a list of strings), got {v!r}")
    return tuple(v)


def _list(ctx: _Ctx, data: dict[str, Any], key: str) -> list[Any]:
    v = data.get(key, [])
    if not isinstance(v, list):
        raise ctx.fail(f"[[{key}]]", key, f"应写成数组表 [[{key}]] (expected an array of tables)")
    return v


def _check_keys(ctx: _Ctx, where: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ctx.fail(where, unknown[0], f"未知字段 (unknown key; allowed: {sorted(allowed)})")


def _value(ctx: _Ctx, where: str, t: dict[str, Any]) -> ValueExpr:
    if "indicator" in t and "terms" in t:
        raise ctx.fail(where, "terms", "indicator 与 terms 只能写一个 (give either indicator or terms)")
    if "indicator" in t:
        terms: tuple[Term, ...] = (Term(_str(ctx, where, t, "indicator")),)
    elif "terms" in t:
        raw = t["terms"]
        if not isinstance(raw, list) or not raw:
            raise ctx.fail(where, "terms", "应为非空列表 (expected a non-empty list of {indicator, weight})")
        out = []
        for i, term in enumerate(raw):
            tw = f"{where} terms[{i}]"
            if not isinstance(term, dict):
                raise ctx.fail(tw, "terms", "应为表 (expected {indicator = ..., weight = ...})")
            _check_keys(ctx, tw, term, {"indicator", "weight"})
            out.append(Term(_str(ctx, tw, term, "indicator"), _req_num(ctx, tw, term, "weight", 1.0)))
        terms = tuple(out)
    else:
        raise ctx.fail(where, "indicator", "计算项须指明 indicator 或 terms (a computed item needs indicator or terms)")
    over = t.get("over")
    if over is not None and not isinstance(over, str):
        raise ctx.fail(where, "over", f"应为指标名 (expected an indicator name), got {over!r}")
    over_attr = t.get("over_attribute")
    if over_attr is not None and not isinstance(over_attr, str):
        raise ctx.fail(where, "over_attribute", f"应为属性名 (expected an attribute name), got {over_attr!r}")
    return ValueExpr(
        terms=terms, over=over, over_attribute=over_attr, over_per=_req_num(ctx, where, t, "over_per", 1.0),
        skip_missing=_bool(ctx, where, t, "skip_missing"),
    )


def _bands(ctx: _Ctx, where: str, raw: Any, fld: str) -> tuple[Band, ...]:
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(where, fld, "应为非空列表 (expected a non-empty list of {from, points})")
    out = []
    for i, b in enumerate(raw):
        bw = f"{where} {fld}[{i}]"
        if not isinstance(b, dict):
            raise ctx.fail(bw, fld, "应为表 (expected {from = ..., points = ...})")
        _check_keys(ctx, bw, b, {"from", "points"})
        out.append(Band(_req_num(ctx, bw, b, "from"), _req_num(ctx, bw, b, "points")))
    starts = [b.start for b in out]
    if len(set(starts)) != len(starts):
        raise ctx.fail(where, fld, f"分段起点重复 (duplicate band starts {starts})")
    return tuple(sorted(out, key=lambda b: b.start))


def _rule(ctx: _Ctx, where: str, t: dict[str, Any], kind: str) -> Rule:
    if kind == "manual":
        reasons = []
        for i, r in enumerate(t.get("reasons", [])):
            rw = f"{where} reasons[{i}]"
            if not isinstance(r, dict):
                raise ctx.fail(rw, "reasons", "应为表 (expected {text = ..., points = ...})")
            _check_keys(ctx, rw, r, {"text", "points"})
            reasons.append(Reason(_str(ctx, rw, r, "text"), _num(ctx, rw, r, "points")))
        entry = _str(ctx, where, t, "entry", "deduction", ("deduction", "score"))
        bands: tuple[Band, ...] = ()
        if "bands" in t:
            if entry != "score":
                raise ctx.fail(where, "bands", "人工项分值表须配合 entry = 'score' (bands need entry = 'score')")
            bands = _bands(ctx, where, t["bands"], "bands")
        return Rule(
            kind="manual", entry=entry, required=_bool(ctx, where, t, "required", entry == "score"),
            reasons=tuple(reasons), bands=bands,
        )
    value = _value(ctx, where, t)
    if kind == "linear":
        direction = _str(ctx, where, t, "direction", "below", ("below", "above"))
        step = _req_num(ctx, where, t, "step")
        if step <= 0:
            raise ctx.fail(where, "step", f"步长须为正 (step must be > 0), got {step}")
        return Rule(
            kind=kind, value=value, threshold=_req_num(ctx, where, t, "threshold"), direction=direction,
            step=step, per_step=_req_num(ctx, where, t, "per_step"),
            steps=_str(ctx, where, t, "steps", "exact", ("exact", "ceil", "floor")),
            zero_below=_num(ctx, where, t, "zero_below"), zero_above=_num(ctx, where, t, "zero_above"),
        )
    if kind == "per_count":
        divs = []
        raw_divs = t.get("divide_by", [])
        if not isinstance(raw_divs, list):
            raise ctx.fail(where, "divide_by", "应为列表 (expected a list of {attribute, per, default})")
        for i, d in enumerate(raw_divs):
            dw = f"{where} divide_by[{i}]"
            if not isinstance(d, dict):
                raise ctx.fail(dw, "divide_by", "应为表 (expected {attribute = ..., per = ...})")
            _check_keys(ctx, dw, d, {"attribute", "per", "default"})
            divs.append(Divisor(_str(ctx, dw, d, "attribute"), _req_num(ctx, dw, d, "per", 1.0),
                                _num(ctx, dw, d, "default")))
        per = _req_num(ctx, where, t, "per")
        if per < 0:
            raise ctx.fail(where, "per", f"每件分值须为非负 (per must be >= 0; use effect = 'award' for bonuses), got {per}")
        allowance_of = t.get("allowance_of")
        if allowance_of is not None and not isinstance(allowance_of, str):
            raise ctx.fail(where, "allowance_of", f"应为指标名 (expected an indicator name), got {allowance_of!r}")
        repeat = t.get("repeat")
        if repeat is not None and not isinstance(repeat, str):
            raise ctx.fail(where, "repeat", f"应为指标名 (expected an indicator name), got {repeat!r}")
        if ("allowance_rate" in t) != (allowance_of is not None):
            raise ctx.fail(where, "allowance_of", "allowance_rate 与 allowance_of 须同时给出 (give both or neither)")
        return Rule(
            kind=kind, value=value, per=per, allowance=_req_num(ctx, where, t, "allowance", 0.0),
            allowance_rate=_req_num(ctx, where, t, "allowance_rate", 0.0), allowance_of=allowance_of,
            allowance_round=_str(ctx, where, t, "allowance_round", "exact", ("exact", "floor", "ceil")),
            repeat=repeat, repeat_factor=_req_num(ctx, where, t, "repeat_factor", 2.0), divide_by=tuple(divs),
            effect=_str(ctx, where, t, "effect", "deduct", ("deduct", "award")),
        )
    if kind == "threshold":
        return Rule(
            kind=kind, value=value, op=_str(ctx, where, t, "op", ">=", (">", ">=", "<", "<=")),
            than=_req_num(ctx, where, t, "than"), pass_points=_num(ctx, where, t, "pass_points"),
            fail_points=_req_num(ctx, where, t, "fail_points", 0.0),
        )
    if kind == "table":
        by_attr = t.get("by_attribute")
        if by_attr is not None:
            if not isinstance(by_attr, str):
                raise ctx.fail(where, "by_attribute", f"应为属性名 (expected an attribute name), got {by_attr!r}")
            raw_tables = t.get("tables")
            if not isinstance(raw_tables, dict) or not raw_tables:
                raise ctx.fail(where, "tables", "按属性分表时须给出 tables (by_attribute needs tables = {value = [...]})")
            if "bands" in t:
                raise ctx.fail(where, "bands", "bands 与 by_attribute/tables 只能二选一 (give one of them)")
            tables = {str(k): _bands(ctx, where, v, f"tables.{k}") for k, v in raw_tables.items()}
            return Rule(kind=kind, value=value, by_attribute=by_attr, tables=tables)
        if "tables" in t:
            raise ctx.fail(where, "tables", "tables 须配合 by_attribute (tables needs by_attribute)")
        return Rule(kind=kind, value=value, bands=_bands(ctx, where, t.get("bands"), "bands"))
    # rate
    return Rule(kind=kind, value=value, invert=_bool(ctx, where, t, "invert"))


def _item(ctx: _Ctx, t: Any, idx: int, categories: dict[str, Category], unit_kinds: tuple[str, ...],
          prefix: str = "item") -> Item:
    where = f"{prefix}[{idx}]"
    if not isinstance(t, dict):
        raise ctx.fail(where, prefix, "应为表 (expected a [[item]] table)")
    item_id = _str(ctx, where, t, "id")
    where = f"{prefix}='{item_id}'"
    kind = _str(ctx, where, t, "kind", None, RULE_KINDS)
    _check_keys(ctx, where, t, _ITEM_COMMON | _KIND_KEYS[kind])
    cat_id = _str(ctx, where, t, "category", "")
    if cat_id and cat_id not in categories:
        raise ctx.fail(where, "category", f"未定义的大项 '{cat_id}' (no [[category]] with this id)")
    source = _str(ctx, where, t, "source")
    if not source.strip():
        raise ctx.fail(where, "source", "每个考核项须注明出处 (every item cites its seed file and clause)")
    full = _req_num(ctx, where, t, "full")
    deduct_from = _str(ctx, where, t, "deduct_from", "item", ("item", "category"))
    bonus = _bool(ctx, where, t, "bonus")
    if full < 0:
        raise ctx.fail(where, "full", f"满分须为非负 (full must be >= 0), got {full}")
    if deduct_from == "category":
        if full != 0:
            raise ctx.fail(where, "full", "从大项扣分的项目满分须为 0 (deduct_from = 'category' needs full = 0)")
        if not cat_id:
            raise ctx.fail(where, "category", "从大项扣分须指定大项 (deduct_from = 'category' needs a category)")
        if bonus:
            raise ctx.fail(where, "bonus", "加分项不能从大项扣分 (a bonus item cannot deduct from a category)")
    elif full == 0:
        raise ctx.fail(where, "full", "满分为 0 的项目须写 deduct_from = 'category' (full = 0 only for category deductions)")
    kinds = _strs(ctx, where, t, "unit_kinds")
    if not kinds and cat_id:
        kinds = categories[cat_id].unit_kinds
    for k in kinds:
        if k not in unit_kinds:
            raise ctx.fail(where, "unit_kinds", f"'{k}' 不在方案的 unit_kinds {list(unit_kinds)} 中")
    rule = _rule(ctx, where, t, kind)
    basis = _req_num(ctx, where, t, "basis", full) if full else 0.0
    if full and basis <= 0:
        raise ctx.fail(where, "basis", f"基准分须为正 (basis must be > 0), got {basis}")
    if deduct_from == "category" and (rule.zero_below is not None or rule.zero_above is not None):
        raise ctx.fail(where, "zero_below", "从大项扣分的项目不能写“不得分”界限 (no zero_below/zero_above with "
                       "deduct_from = 'category'; make it an item with its own full marks)")
    if rule.kind == "per_count" and rule.effect == "award" and deduct_from == "category":
        raise ctx.fail(where, "effect", "加分规则不能从大项扣分 (award cannot deduct from a category)")
    if rule.kind == "threshold" and rule.pass_points is not None and rule.pass_points > full and not _bool(
            ctx, where, t, "uncapped"):
        raise ctx.fail(where, "pass_points", f"得分超过满分 {full} (pass_points above full)")
    return Item(
        id=item_id, name=_str(ctx, where, t, "name"), category=cat_id, full=full, rule=rule, source=source,
        assumption=_str(ctx, where, t, "assumption", ""), unit_kinds=kinds, bonus=bonus,
        deduct_from=deduct_from, uncapped=_bool(ctx, where, t, "uncapped"), basis=basis,
        adjust=_bool(ctx, where, t, "adjust"), na=_str(ctx, where, t, "na", "full", ("full", "zero")),
        rule_text=_str(ctx, where, t, "rule_text", ""),
    )


def parse_scheme(data: dict[str, Any], file: str = "<memory>") -> Scheme:
    """Validate a parsed TOML document and build the scheme (tests feed small documents directly)."""
    ctx = _Ctx(file)
    _check_keys(ctx, "(top)", data, _TOP_KEYS)
    head = data.get("scheme")
    if not isinstance(head, dict):
        raise ctx.fail("[scheme]", "scheme", "缺少 [scheme] 表 (the file needs a [scheme] table)")
    where = "[scheme]"
    _check_keys(ctx, where, head, _SCHEME_KEYS)
    scheme_id = _str(ctx, where, head, "id")
    valid_from = _str(ctx, where, head, "valid_from", "") or None
    if valid_from is not None and not _MONTH_KEY.fullmatch(valid_from):
        raise ctx.fail(where, "valid_from", f"应为施行起始月份 YYYY-MM valid_from='{valid_from}'")
    stem = Path(file).stem
    # a revision file is <id>@<valid_from>.toml; the oldest revision may have no valid_from (the file a
    # city used before its first change, moved byte for byte so published results keep their inputs hash)
    revision_name = stem.startswith(f"{scheme_id}@") and (valid_from is None or stem == f"{scheme_id}@{valid_from}")
    if file.endswith(".toml") and stem != scheme_id and not revision_name:
        raise ctx.fail(where, "id", f"方案编号须与文件名一致 id='{scheme_id}' file stem='{stem}'"
                                    + (f" (a revision file is named {scheme_id}@{valid_from}.toml)" if valid_from else ""))
    unit_kinds = _strs(ctx, where, head, "unit_kinds")
    if not unit_kinds:
        raise ctx.fail(where, "unit_kinds", "须列出考核对象类型 (list the unit kinds scored)")
    period = _str(ctx, where, head, "period", "month", PERIOD_KINDS)
    uncapped = _bool(ctx, where, head, "uncapped")
    total_floor = None if uncapped else _num(ctx, where, head, "total_floor", 0.0)
    total_cap = None if uncapped else _num(ctx, where, head, "total_cap")
    if uncapped and ("total_floor" in head or "total_cap" in head):
        raise ctx.fail(where, "uncapped", "上不封顶、下不保底 时不能再写 total_cap/total_floor")
    carry_negative = _bool(ctx, where, head, "carry_negative")
    if carry_negative and not uncapped:
        raise ctx.fail(where, "carry_negative", "负分结转只适用于上不封顶、下不保底的方案 (needs uncapped = true)")

    categories: dict[str, Category] = {}
    for i, c in enumerate(_list(ctx, data, "category")):
        cw = f"category[{i}]"
        if not isinstance(c, dict):
            raise ctx.fail(cw, "category", "应为表 (expected a [[category]] table)")
        _check_keys(ctx, cw, c, _CATEGORY_KEYS)
        cid = _str(ctx, cw, c, "id")
        cw = f"category='{cid}'"
        if cid in categories:
            raise ctx.fail(cw, "id", "大项编号重复 (duplicate category id)")
        ckinds = _strs(ctx, cw, c, "unit_kinds")
        for k in ckinds:
            if k not in unit_kinds:
                raise ctx.fail(cw, "unit_kinds", f"'{k}' 不在方案的 unit_kinds {list(unit_kinds)} 中")
        categories[cid] = Category(
            id=cid, name=_str(ctx, cw, c, "name"), cap=_req_num(ctx, cw, c, "cap"),
            floor=_req_num(ctx, cw, c, "floor", 0.0), uncapped=_bool(ctx, cw, c, "uncapped"),
            source=_str(ctx, cw, c, "source", ""), unit_kinds=ckinds,
        )

    raw_items = _list(ctx, data, "item")
    if not raw_items:
        raise ctx.fail("[[item]]", "item", "方案至少需要一个考核项 (a scheme needs at least one [[item]])")
    items = [_item(ctx, t, i, categories, unit_kinds) for i, t in enumerate(raw_items)]
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise ctx.fail(f"item='{it.id}'", "id", "考核项编号重复 (duplicate item id)")
        seen.add(it.id)
    for cat in categories.values():
        members = [it for it in items if it.category == cat.id and not it.bonus]
        if not members:
            raise ctx.fail(f"category='{cat.id}'", "id", "大项下没有考核项 (category has no items)")
        if cat.cap <= 0:
            raise ctx.fail(f"category='{cat.id}'", "cap", f"大项上限须为正 (cap must be > 0), got {cat.cap}")
    for kind in unit_kinds:
        if not any(it.applies_to(kind) for it in items):
            raise ctx.fail(where, "unit_kinds", f"考核对象类型 '{kind}' 没有适用的考核项 (no item applies)")

    rollups = []
    for i, r in enumerate(_list(ctx, data, "rollup")):
        rw = f"rollup[{i}]"
        if not isinstance(r, dict):
            raise ctx.fail(rw, "rollup", "应为表 (expected a [[rollup]] table)")
        _check_keys(ctx, rw, r, _ROLLUP_KEYS)
        rp = _str(ctx, rw, r, "period", None, PERIOD_KINDS)
        rw = f"rollup='{rp}'"
        method = _str(ctx, rw, r, "method", "mean", ROLLUP_METHODS)
        divisor = _req_num(ctx, rw, r, "divisor", 0.0)
        if method == "divide" and divisor <= 0:
            raise ctx.fail(rw, "divisor", "method = 'divide' 须给出正的 divisor (e.g. 12)")
        r_items = tuple(
            _item(ctx, t, j, categories, unit_kinds, prefix=f"rollup.{rp}.item") for j, t in enumerate(_list(ctx, r, "item"))
        )
        for it in r_items:
            if it.id in seen:
                raise ctx.fail(f"rollup.{rp}.item='{it.id}'", "id", "考核项编号重复 (duplicate item id)")
            seen.add(it.id)
            if it.rule.kind != "manual":
                raise ctx.fail(f"rollup.{rp}.item='{it.id}'", "kind", "汇总期的考核项只能是人工项 (manual only)")
        rollups.append(Rollup(
            period=rp, source_period=_str(ctx, rw, r, "from", period, PERIOD_KINDS), method=method,
            divisor=divisor, weight=_req_num(ctx, rw, r, "weight", 1.0), name=_str(ctx, rw, r, "name", "月度考核"),
            cap=_num(ctx, rw, r, "cap"), bonus_cap=_num(ctx, rw, r, "bonus_cap"), items=r_items,
            source=_str(ctx, rw, r, "source", ""), assumption=_str(ctx, rw, r, "assumption", ""),
        ))

    grades = []
    for i, g in enumerate(_list(ctx, data, "grade")):
        gw = f"grade[{i}]"
        if not isinstance(g, dict):
            raise ctx.fail(gw, "grade", "应为表 (expected a [[grade]] table)")
        _check_keys(ctx, gw, g, {"min", "label", "color", "note"})
        grades.append(Grade(_req_num(ctx, gw, g, "min"), _str(ctx, gw, g, "label"), _str(ctx, gw, g, "color", ""),
                            _str(ctx, gw, g, "note", "")))
    grades.sort(key=lambda g: -g.min)

    ranking = data.get("ranking", {})
    if not isinstance(ranking, dict):
        raise ctx.fail("[ranking]", "ranking", "应为表 (expected a [ranking] table)")
    _check_keys(ctx, "[ranking]", ranking, {"order", "group_attribute", "note"})
    notes = []
    for i, n in enumerate(_list(ctx, ranking, "note")):
        nw = f"ranking.note[{i}]"
        if not isinstance(n, dict):
            raise ctx.fail(nw, "note", "应为表 (expected {place = 1, from = 'top', note = ...})")
        _check_keys(ctx, nw, n, {"place", "from", "note", "group", "skip_attribute", "consecutive"})
        place = _req_num(ctx, nw, n, "place")
        if place < 1 or not float(place).is_integer():
            raise ctx.fail(nw, "place", f"名次须为正整数 (place must be 1, 2, ...), got {place}")
        consecutive = _req_num(ctx, nw, n, "consecutive", 1.0)
        if consecutive < 1 or not float(consecutive).is_integer():
            raise ctx.fail(nw, "consecutive", f"连续期数须为正整数 (consecutive must be 1, 2, ...), got {consecutive}")
        skip = n.get("skip_attribute")
        if skip is not None and not isinstance(skip, str):
            raise ctx.fail(nw, "skip_attribute", f"应为属性名 (expected an attribute name), got {skip!r}")
        notes.append(RankNote(int(place), _str(ctx, nw, n, "from", "top", ("top", "bottom")) == "bottom",
                              _str(ctx, nw, n, "note"), _str(ctx, nw, n, "group", ""), skip,
                              int(consecutive)))
    group = ranking.get("group_attribute")
    if group is not None and not isinstance(group, str):
        raise ctx.fail("[ranking]", "group_attribute", f"应为属性名, got {group!r}")

    demotion = None
    if "demotion" in data:
        d = data["demotion"]
        if not isinstance(d, dict):
            raise ctx.fail("[demotion]", "demotion", "应为表 (expected a [demotion] table)")
        _check_keys(ctx, "[demotion]", d, {"items", "max_grade", "source"})
        d_items = _strs(ctx, "[demotion]", d, "items")
        for it_id in d_items:
            if it_id not in seen:
                raise ctx.fail("[demotion]", "items", f"未定义的考核项 '{it_id}'")
        max_grade = _str(ctx, "[demotion]", d, "max_grade")
        if max_grade not in {g.label for g in grades}:
            raise ctx.fail("[demotion]", "max_grade", f"'{max_grade}' 不是已定义的等级 (not a [[grade]] label)")
        demotion = Demotion(d_items, max_grade, _str(ctx, "[demotion]", d, "source", ""))

    defs = data.get("indicator_definitions", {})
    if not isinstance(defs, dict) or not all(isinstance(v, dict) for v in defs.values()):
        raise ctx.fail("[indicator_definitions]", "indicator_definitions", "应为 {指标名 = {…}} 表")
    grade_periods = _strs(ctx, where, head, "grade_periods") or PERIOD_KINDS
    for gp in grade_periods:
        if gp not in PERIOD_KINDS:
            raise ctx.fail(where, "grade_periods", f"'{gp}' 不是考核周期 (expected {list(PERIOD_KINDS)})")

    return Scheme(
        id=scheme_id, name=_str(ctx, where, head, "name"), version=_str(ctx, where, head, "version"),
        seed=_str(ctx, where, head, "seed"), source=_str(ctx, where, head, "source"), unit_kinds=unit_kinds,
        period=period, categories=tuple(categories.values()), items=tuple(items), total_cap=total_cap,
        total_floor=total_floor, bonus_cap=_num(ctx, where, head, "bonus_cap"),
        year_bonus_cap=_num(ctx, where, head, "year_bonus_cap"), carry_negative=carry_negative,
        assumptions=_strs(ctx, where, head, "assumptions"),
        declared_indicators=_strs(ctx, where, head, "required_indicators"), rollups=tuple(rollups),
        grades=tuple(grades), grade_periods=grade_periods,
        rank_order=_str(ctx, "[ranking]", ranking, "order", "desc", ("desc", "asc")), rank_group=group,
        rank_notes=tuple(notes), demotion=demotion, indicator_definitions=dict(defs), path=file,
        valid_from=valid_from,
    )


def load_scheme(id_or_path: str | Path, period: Period | None = None) -> Scheme:
    """Load a scheme by id (``xuzhou_quanshan``, looked up in ``resources/schemes``) or by file path.

    With ``period``, a scheme id gives the revision of its rules in force in the period's last month (see
    :func:`scheme_revisions`); a scheme given by file path has no other revisions."""
    text = str(id_or_path)
    by_path = text.endswith(".toml") or "/" in text or "\\" in text
    path = Path(text) if by_path else SCHEMES / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(list_schemes()) or "(none)"
        raise SchemeError(f"考核方案不存在 scheme='{text}' (no file {path}; known: {known})")
    if period is not None and not by_path:
        return in_force(scheme_revisions(text), period)
    return _load_file(path)


def _load_file(path: Path) -> Scheme:
    raw = path.read_bytes()
    key = (str(path.resolve()), hashlib.sha256(raw).hexdigest())
    hit = _LOADED.get(key)
    if hit is not None:
        return hit
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemeError(f"考核方案文件格式错误 file={path.name}: {exc}") from None
    scheme = parse_scheme(data, path.name)
    _LOADED[key] = replace(scheme, path=str(path))
    return _LOADED[key]


# Parsed schemes by (file, SHA-256 of its bytes): an evaluation of a year loads its scheme once per month and
# a changed file is parsed again. Schemes are frozen; nothing mutates them after parsing.
_LOADED: dict[tuple[str, str], Scheme] = {}

# Earlier revisions of a shipped scheme: ``revisions/<id>@<YYYY-MM>.toml``, each with the same ``id`` and
# ``valid_from = "YYYY-MM"``; the file ``<id>.toml`` is the revision in force now.
REVISIONS = SCHEMES / "revisions"
_MONTH_KEY = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def scheme_revisions(scheme_id: str) -> list[Scheme]:
    """Every revision of a shipped scheme, oldest first.

    Why: cities rewrite their 考核办法 (a new version "自2027年1月1日起施行"); a month of 2026 must still be
    scored, published and verified by the rules of 2026. The current file may leave ``valid_from`` out only
    when it has no earlier revision; each earlier revision starts before the next one."""
    current = _load_file(SCHEMES / f"{scheme_id}.toml")
    older = [_load_file(f) for f in sorted(REVISIONS.glob(f"{scheme_id}@*.toml"))] if REVISIONS.is_dir() else []
    revs = [*sorted(older, key=lambda r: r.valid_from or ""), current]
    for r in older:
        if r.id != scheme_id:
            raise SchemeError(f"方案修订版编号不符 file={Path(r.path).name} id='{r.id}' (expected '{scheme_id}')")
    for a, b in pairwise(revs):
        if b.valid_from is None or (a.valid_from is not None and a.valid_from >= b.valid_from):
            raise SchemeError(
                f"方案修订版施行月份须递增 scheme={scheme_id}: {Path(a.path).name} valid_from={a.valid_from} → "
                f"{Path(b.path).name} valid_from={b.valid_from}"
            )
    return revs


def in_force(revisions: list[Scheme], period: Period) -> Scheme:
    """The revision whose rules apply to ``period``: the latest one started by the period's last month (a
    quarter or year is rolled up by the rules in force when it ends; each of its months is scored by its own
    month's revision)."""
    last = (period.end - timedelta(days=1)).strftime("%Y-%m")
    applicable = [r for r in revisions if r.valid_from is None or r.valid_from <= last]
    if not applicable:
        first = revisions[0]
        raise SchemeError(f"考核方案在该期间尚未施行 scheme={first.id} period='{period.key}' "
                          f"(earliest revision valid_from={first.valid_from})")
    return applicable[-1]


def list_schemes() -> list[str]:
    """Ids of the scheme files shipped in ``resources/schemes`` (sorted)."""
    return sorted(p.stem for p in SCHEMES.glob("*.toml"))
