"""The scoring engine: items → categories → totals, bonuses, caps, ranks, grades; and roll-ups.

``score`` scores a base period (usually a month) from indicators and manual entries; ``roll_up`` makes a
quarter or year from base results exactly as the scheme's ``[[rollup]]`` says (泉山 divides the year's
sum by 12, 宁波 takes the mean of the months, both add annual manual items). Every item result carries
the rule in Chinese words with the numbers applied, so a bulletin can print why a point was lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import chain

from app.evaluation.model import (
    EvaluationResult,
    ItemResult,
    ManualEntry,
    UnitInput,
    UnitResult,
    unique_cases,
)
from app.evaluation.periods import parse_period
from app.evaluation.rules import EPS, RuleInputError, _attribute, band_points, compare, count_steps, num, pct
from app.evaluation.scheme import Item, RankNote, Rollup, Scheme, SchemeError

_OP_ZH = {">": "高于", ">=": "达到", "<": "低于", "<=": "不高于"}


def _r(x: float) -> float:
    """Round points to 4 decimals so sums print and compare the same on every run."""
    v = round(x + 0.0, 4)
    return 0.0 if v == 0 else v


def _fmt(v: float, like: float) -> str:
    """A value as a percentage when the rule's numbers are fractions, else as a plain number."""
    return pct(v) if abs(like) <= 1.0 else num(v)


def _clamp_item(item: Item, pts: float) -> float:
    if item.uncapped:
        return pts
    if item.deduct_from == "category":
        return min(pts, 0.0)
    return max(0.0, min(item.full, pts))


def _entries_sum(entries: list[ManualEntry]) -> float:
    return sum(e.points for e in entries)


def score_item(item: Item, unit: UnitInput, entries: list[ManualEntry]) -> ItemResult:
    """Score one item for one unit (public so the entry form can preview an item)."""
    rule = item.rule
    full = item.full
    cases: tuple[str, ...] = ()
    value: float | None = None
    missing = False
    if rule.kind == "manual":
        missing = rule.required and not entries
        if rule.entry == "score" and rule.bands:
            entered = _entries_sum(entries)
            bp = band_points(rule.bands, entered) if entries else None
            raw = (bp or 0.0) * full / item.basis
            words = (f"录入{num(entered)}，按分值表得{num(bp or 0.0)}/{num(item.basis)}" if entries
                     else "人工评分未录入")
        elif rule.entry == "score":
            raw = _entries_sum(entries) * full / item.basis if entries else 0.0
            words = f"人工评分 {num(_entries_sum(entries))}/{num(item.basis)}" if entries else "人工评分未录入"
        else:
            raw = full + _entries_sum(entries)
            words = "人工扣分 " + ("；".join(f"{e.reason or '扣分'} {num(e.points)}" for e in entries) or "无")
            if missing:
                words = "人工考评未录入"
        pts = _clamp_item(item, raw)
        return ItemResult(item.id, item.name, item.category, _r(pts), full, item.rule_text or words, None, (),
                          bool(entries), missing, item.bonus)

    assert rule.value is not None
    value, cases = rule.value.evaluate(unit)
    base = 0.0 if item.deduct_from == "category" else full
    if value is None:
        if rule.kind == "per_count" and rule.effect == "award":
            pts = 0.0
        else:
            pts = base if item.na == "full" else 0.0
        words = f"不适用（无应考核数），{'不扣分' if item.na == 'full' else '不得分'}"
    elif rule.kind == "linear":
        gap = rule.threshold - value if rule.direction == "below" else value - rule.threshold
        steps = count_steps(max(gap, 0.0), rule.step, rule.steps)
        deduction = steps * rule.per_step
        pts = base - deduction
        f = lambda x: _fmt(x, rule.threshold)  # noqa: E731
        word_dir = "低于" if rule.direction == "below" else "高于"
        word_move = "下降" if rule.direction == "below" else "上升"
        words = f"{f(value)}，{word_dir}{f(rule.threshold)}按每{word_move}{f(rule.step)}扣{num(rule.per_step)}分"
        if rule.zero_below is not None:
            words += f"，低于{f(rule.zero_below)}不得分"
            if value < rule.zero_below - EPS:
                pts = 0.0
        if rule.zero_above is not None:
            words += f"，高于{f(rule.zero_above)}不得分"
            if value > rule.zero_above + EPS:
                pts = 0.0
        words += f"：扣{num(_r(base - pts))}分"
    elif rule.kind == "per_count":
        count = value
        parts = [f"计数{num(_r(value))}"]
        if rule.repeat:
            rep = unit.indicators.get(rule.repeat)
            if rep is None:
                raise RuleInputError(f"缺少考核指标 unit='{unit.code}' indicator='{rule.repeat}'")
            rep_v = rep.value if rep.value is not None else 0.0
            cases = unique_cases(cases + rep.cases)
            count += (rule.repeat_factor - 1.0) * rep_v
            parts.append(f"再次{num(rep_v)}件按{num(rule.repeat_factor)}倍计")
        for d in rule.divide_by:
            attr = _attribute(unit, d.attribute, d.default)
            if abs(attr) < EPS:
                raise RuleInputError(f"考核对象属性为零 unit='{unit.code}' attribute='{d.attribute}'")
            count = count * d.per / attr
            parts.append(f"÷{d.attribute}({num(attr)})" + (f"×{num(d.per)}" if d.per != 1 else ""))
        allowance = rule.allowance
        if rule.allowance_of:
            of = unit.indicators.get(rule.allowance_of)
            if of is None:
                raise RuleInputError(f"缺少考核指标 unit='{unit.code}' indicator='{rule.allowance_of}'")
            extra = rule.allowance_rate * (of.value or 0.0)
            if rule.allowance_round == "floor":
                extra = float(int(extra + EPS))
            elif rule.allowance_round == "ceil":
                extra = float(-int(-extra + EPS))
            allowance += extra
        if allowance:
            parts.append(f"允许{num(_r(allowance))}")
        excess = max(0.0, count - allowance)
        amount = excess * rule.per
        if rule.effect == "award":
            pts = amount
            words = "，".join(parts) + f"，每件加{num(rule.per)}分：加{num(_r(amount))}分"
        else:
            pts = base - amount
            words = "，".join(parts) + f"，每件扣{num(rule.per)}分：扣{num(_r(amount))}分"
    elif rule.kind == "threshold":
        passed = compare(rule.op, value, rule.than)
        pass_pts = full if rule.pass_points is None else rule.pass_points
        pts = pass_pts if passed else rule.fail_points
        f = lambda x: _fmt(x, rule.than)  # noqa: E731
        words = f"{f(value)}，{_OP_ZH[rule.op]}{f(rule.than)}得{num(pass_pts)}分，否则得{num(rule.fail_points)}分"
    elif rule.kind == "table":
        bp = band_points(rule.bands_for(unit), value)
        pts = 0.0 if bp is None else bp * full / item.basis
        words = f"{num(_r(value))}，按分值表得{num(bp if bp is not None else 0.0)}/{num(item.basis)}"
    else:  # rate
        v = 1.0 - value if rule.invert else value
        pts = v * full
        words = f"{'(1−' + pct(value) + ')' if rule.invert else pct(value)}×{num(full)}分"
    adjusted = bool(entries) and item.adjust
    if adjusted:
        pts += _entries_sum(entries)
        words += "；人工 " + "；".join(f"{e.reason or '调整'} {num(e.points)}" for e in entries)
    pts = _clamp_item(item, pts)
    pts = _r(pts)
    words += f"，得{num(pts)}分"
    lost = (pts < full - EPS) if not (item.bonus or rule.effect == "award") else pts > EPS
    return ItemResult(item.id, item.name, item.category, pts, full, item.rule_text or words, value,
                      cases if lost else (), adjusted, False, item.bonus)


def _assemble(scheme: Scheme, items: list[Item], results: list[ItemResult], cap: float | None,
              floor: float | None, bonus_cap: float | None) -> tuple[float, float, list[str]]:
    """Categories, bonus and total for one unit: (total, bonus, notes)."""
    notes: list[str] = []
    by_cat: dict[str, float] = defaultdict(float)
    base = 0.0
    bonus = 0.0
    for it, res in zip(items, results, strict=True):
        if it.bonus:
            bonus += res.points
        elif it.category:
            by_cat[it.category] += res.points
        else:
            base += res.points
    for cat_id, s in by_cat.items():
        cat = scheme.category(cat_id)
        assert cat is not None
        if cat.uncapped:
            base += s
            continue
        clamped = max(cat.floor, min(cat.cap, s))
        if abs(clamped - s) > EPS:
            notes.append(f"{cat.name}合计{num(_r(s))}分，按{num(cat.floor)}–{num(cat.cap)}分计{num(_r(clamped))}分")
        base += clamped
    if bonus_cap is not None and bonus > bonus_cap + EPS:
        notes.append(f"加分合计{num(_r(bonus))}分，封顶{num(bonus_cap)}分")
        bonus = bonus_cap
    total = base + bonus
    if cap is not None and total > cap + EPS:
        notes.append(f"总分{num(_r(total))}分，封顶{num(cap)}分")
        total = cap
    if floor is not None and total < floor - EPS:
        notes.append(f"总分{num(_r(total))}分，保底{num(floor)}分")
        total = floor
    return _r(total), _r(bonus), notes


def _group_entries(manual: Iterable[ManualEntry], allowed: set[str], ignored: set[str],
                   scheme: Scheme) -> dict[tuple[str, str], list[ManualEntry]]:
    out: dict[tuple[str, str], list[ManualEntry]] = defaultdict(list)
    for e in manual:
        if e.item in ignored:
            continue
        if e.item not in allowed:
            raise SchemeError(
                f"人工考评项不属于本方案或不接受人工录入 scheme={scheme.id} unit='{e.unit_code}' item='{e.item}' "
                f"(manual items: {sorted(allowed)})"
            )
        out[(e.unit_code, e.item)].append(e)
    return out


def _buckets(scheme: Scheme, units: Iterable[UnitResult]) -> dict[tuple[str, str], list[UnitResult]]:
    """Units ranked together: same unit kind and, if the scheme groups, same group attribute."""
    buckets: dict[tuple[str, str], list[UnitResult]] = defaultdict(list)
    for u in units:
        group = str(u.attributes.get(scheme.rank_group, "")) if scheme.rank_group else ""
        buckets[(u.kind, group)].append(u)
    return buckets


def _note_places(scheme: Scheme, rn: RankNote, members: list[UnitResult]) -> dict[str, int]:
    """Place of each eligible unit for one rank note, from the top or from the bottom (ties share)."""
    sign = -1.0 if scheme.rank_order == "desc" else 1.0
    eligible = [u for u in members if not (rn.skip_attribute and u.attributes.get(rn.skip_attribute))]
    out: dict[str, int] = {}
    for u in eligible:
        better = sum(1 for o in eligible if sign * (u.total - o.total) > EPS)
        worse = sum(1 for o in eligible if sign * (o.total - u.total) > EPS)
        out[u.code] = worse + 1 if rn.from_bottom else better + 1
    return out


def _rank(scheme: Scheme, units: list[UnitResult], history: list[list[UnitResult]] | None = None) -> None:
    """Competition ranking (1, 2, 2, 4) within each unit kind (and group); rank notes by place.

    A rank note with ``skip_attribute`` counts places only among units without that attribute, so the
    next unit moves up into a place an excluded unit would have taken (后位名次递补). A note with
    ``consecutive = n`` needs the same place in the n − 1 periods just before (``history``, most recent
    first: 连续两个季度倒数第一).
    """
    sign = -1.0 if scheme.rank_order == "desc" else 1.0
    past = [_buckets(scheme, h) for h in (history or [])]
    for key, members in _buckets(scheme, units).items():
        ordered = sorted(members, key=lambda u: (sign * u.total, u.code))
        for u in ordered:
            u.rank = 1 + sum(1 for o in ordered if sign * (u.total - o.total) > EPS)
        group = key[1]
        for rn in scheme.rank_notes:
            if rn.group and rn.group != group:
                continue
            now = _note_places(scheme, rn, ordered)
            before = [_note_places(scheme, rn, b.get(key, [])) for b in past[: rn.consecutive - 1]]
            if len(before) < rn.consecutive - 1:
                continue
            for u in ordered:
                if now.get(u.code) == rn.place and all(b.get(u.code) == rn.place for b in before):
                    u.notes.append(rn.note)


def _grade(scheme: Scheme, units: list[UnitResult], lost: dict[str, float] | None) -> None:
    if not scheme.grades:
        return
    for u in units:
        for g in scheme.grades:
            if u.total >= g.min - EPS:
                u.grade, u.grade_color = g.label, g.color
                if g.note:
                    u.notes.append(g.note)
                break
    if scheme.demotion and lost:
        worst = max(lost.values())
        if worst <= EPS:
            return
        cap_grade = next(g for g in scheme.grades if g.label == scheme.demotion.max_grade)
        for u in units:
            current = next((g for g in scheme.grades if g.label == u.grade), None)
            if lost.get(u.code, 0.0) >= worst - EPS and current is not None and current.min > cap_grade.min:
                u.notes.append(f"{'、'.join(scheme.demotion.items)}失分最多({num(_r(worst))}分)，等级降为{cap_grade.label}")
                u.grade, u.grade_color = cap_grade.label, cap_grade.color


def _period_kind(scheme: Scheme, period: str) -> str:
    kind = parse_period(period).kind
    return scheme.period if kind == "custom" else kind


def _unit_kind(kinds: Iterable[str]) -> str:
    return ",".join(sorted(set(kinds)))


def _bonus_used(scheme: Scheme, period: str, earlier: Iterable[EvaluationResult]) -> dict[str, float]:
    """Bonus each unit already received in earlier base periods of the same year (年度累计加分)."""
    p = parse_period(period)
    used: dict[str, float] = defaultdict(float)
    for res in earlier:
        q = parse_period(res.period)
        if res.scheme_id != scheme.id or q.start.year != p.start.year or q.start >= p.start:
            continue
        for u in res.units:
            used[u.code] += u.bonus
    return used


def _chain(scheme: Scheme, period: str, earlier: Iterable[EvaluationResult]) -> list[list[UnitResult]]:
    """Units of the periods just before ``period``, contiguous, most recent first."""
    by_end = {}
    for res in earlier:
        q = parse_period(res.period)
        if res.scheme_id == scheme.id:
            by_end[(q.kind, q.end)] = (q, res)
    p = parse_period(period)
    out: list[list[UnitResult]] = []
    start = p.start
    while (p.kind, start) in by_end and len(out) < 24:
        q, res = by_end[(p.kind, start)]
        out.append(res.units)
        start = q.start
    return out


def _carried(scheme: Scheme, period: str, earlier: Iterable[EvaluationResult]) -> dict[str, float]:
    """Negative totals of the period just before ``period`` (个人得分低于零分的部分结转下月)."""
    p = parse_period(period)
    out: dict[str, float] = {}
    for res in earlier:
        q = parse_period(res.period)
        if res.scheme_id == scheme.id and q.kind == p.kind and q.end == p.start:
            for u in res.units:
                if u.total < 0:
                    out[u.code] = u.total
    return out


def score(scheme: Scheme, period: str, units: list[UnitInput], manual: list[ManualEntry],
          earlier: Iterable[EvaluationResult] = ()) -> EvaluationResult:
    """Score every unit for one base period; rank within each unit kind (and group); grade.

    ``earlier`` are results of this scheme for earlier periods; they matter only when the scheme caps
    bonuses per year (``year_bonus_cap``: 加分年度累计不超过6分, so a bonus is not collected twice across
    quarters) or carries negative totals into the next period (``carry_negative``: 低于零分的部分结转下月).
    """
    parse_period(period)
    earlier = list(earlier)
    used = _bonus_used(scheme, period, earlier) if scheme.year_bonus_cap is not None else {}
    carry = _carried(scheme, period, earlier) if scheme.carry_negative else {}
    history = _chain(scheme, period, earlier) if any(rn.consecutive > 1 for rn in scheme.rank_notes) else []
    allowed = {it.id for it in scheme.items if it.is_manual or it.adjust}
    ignored = {it.id for r in scheme.rollups for it in r.items}
    entries = _group_entries(manual, allowed, ignored, scheme)
    out: list[UnitResult] = []
    missing: list[tuple[str, str]] = []
    lost: dict[str, float] = {}
    codes = [u.code for u in units]
    if len(set(codes)) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise SchemeError(f"考核对象重复 scheme={scheme.id} unit='{dup[0]}' (each unit once per evaluation)")
    for unit in units:
        if unit.kind not in scheme.unit_kinds:
            raise SchemeError(
                f"考核对象类型不适用 scheme={scheme.id} unit='{unit.code}' kind='{unit.kind}' "
                f"(scheme scores {list(scheme.unit_kinds)})"
            )
        items = scheme.items_for(unit.kind)
        results = [score_item(it, unit, entries.get((unit.code, it.id), [])) for it in items]
        missing.extend((unit.code, r.id) for r in results if r.missing)
        bonus_cap = scheme.bonus_cap
        year_note = ""
        if scheme.year_bonus_cap is not None:
            left = max(0.0, scheme.year_bonus_cap - used.get(unit.code, 0.0))
            if bonus_cap is None or left < bonus_cap:
                bonus_cap = left
                year_note = f"年度累计加分上限{num(scheme.year_bonus_cap)}分，此前已加{num(_r(used.get(unit.code, 0.0)))}分"
        total, bonus, notes = _assemble(scheme, items, results, scheme.total_cap, scheme.total_floor, bonus_cap)
        if year_note and any("加分合计" in n for n in notes):
            notes.append(year_note)
        carried = carry.get(unit.code, 0.0)
        if carried < -EPS:
            results = [*results, ItemResult(
                "carry_over", "上期负分结转", "", _r(carried), 0.0,
                f"上期得分{num(_r(carried))}分，低于零分的部分结转本期", None, (), False, False, False)]
            total = _r(total + carried)
        ind_values = {name: unit.indicators[name].value for name in scheme.required_indicators_for(unit.kind)}
        out.append(UnitResult(unit.code, unit.name, results, total, bonus=bonus, notes=notes, kind=unit.kind,
                              indicators=ind_values, attributes=dict(unit.attributes)))
        if scheme.demotion:
            lost[unit.code] = sum(r.full - r.points for r in results if r.id in scheme.demotion.items)
    _rank(scheme, out, history)
    if _period_kind(scheme, period) in scheme.grade_periods:
        _grade(scheme, out, lost)
    return EvaluationResult(scheme.id, scheme.version, period, _unit_kind(u.kind for u in units), out, missing)


def _rolled(rollup: Rollup, totals: list[float]) -> float:
    s = sum(totals)
    if rollup.method == "sum":
        return s
    if rollup.method == "divide":
        return s / rollup.divisor
    return s / len(totals)


def _base_full(scheme: Scheme, kind: str) -> float:
    if scheme.total_cap is not None:
        return scheme.total_cap
    items = scheme.items_for(kind)
    cats = {it.category for it in items if it.category and not it.bonus}
    s = sum(c.cap for c in scheme.categories if c.id in cats)
    return s + sum(it.full for it in items if not it.category and not it.bonus)


def roll_up(scheme: Scheme, period: str, monthly: list[EvaluationResult],
            manual: list[ManualEntry]) -> EvaluationResult:
    """Roll base-period results into a quarter or year as the scheme's ``[[rollup]]`` says.

    ``monthly`` are results of ``scheme`` for base periods inside ``period`` (missing months are
    allowed: ``mean`` averages the months present, ``divide`` still divides by its divisor, as 泉山's
    formula is written). ``manual`` holds entries for the roll-up's own items (管理评价, 附加分).
    """
    target = parse_period(period)
    rollup = scheme.rollup(target.kind)
    if rollup is None:
        raise SchemeError(
            f"方案未规定该周期的汇总办法 scheme={scheme.id} period='{period}' (no [[rollup]] with period = "
            f"'{target.kind}'; defined: {[r.period for r in scheme.rollups]})"
        )
    seen: set[str] = set()
    for res in monthly:
        if res.scheme_id != scheme.id:
            raise SchemeError(f"汇总的结果不属于本方案 scheme={scheme.id} result scheme={res.scheme_id}")
        p = parse_period(res.period)
        if p.kind != rollup.source_period or not (target.start <= p.start and p.end <= target.end):
            raise SchemeError(
                f"汇总的结果周期不符 scheme={scheme.id} period='{period}' result period='{res.period}' "
                f"(expected {rollup.source_period} periods inside {period})"
            )
        if res.period in seen:
            raise SchemeError(f"汇总的结果周期重复 period='{res.period}' (each base period once)")
        seen.add(res.period)
    allowed = {it.id for it in rollup.items}
    ignored = {it.id for it in scheme.items} | {it.id for r in scheme.rollups if r is not rollup for it in r.items}
    entries = _group_entries(manual, allowed, ignored, scheme)

    per_unit: dict[str, list[UnitResult]] = defaultdict(list)
    order: list[str] = []
    for res in sorted(monthly, key=lambda r: r.period):
        for u in res.units:
            if u.code not in per_unit:
                order.append(u.code)
            per_unit[u.code].append(u)
    out: list[UnitResult] = []
    missing: list[tuple[str, str]] = []
    lost: dict[str, float] = {}
    for code in order:
        history = per_unit[code]
        last = history[-1]
        totals = [u.total for u in history]
        agg = _rolled(rollup, totals) * rollup.weight
        how = {"mean": f"{len(totals)}期平均", "sum": f"{len(totals)}期累计",
               "divide": f"{len(totals)}期累计÷{num(rollup.divisor)}"}[rollup.method]
        words = f"{how}" + (f"×{num(rollup.weight)}" if rollup.weight != 1 else "") + f" = {num(_r(agg))}分"
        base_full = _base_full(scheme, last.kind) * rollup.weight
        if rollup.method == "sum":
            base_full *= len(totals)
        if rollup.cap is not None:
            base_full = min(base_full, rollup.cap)
        cases = tuple(dict.fromkeys(chain.from_iterable(it.cases for u in history for it in u.items)))
        first = ItemResult(f"rollup_{rollup.period}", rollup.name, "", _r(agg), _r(base_full), words, None, cases)
        stub = UnitInput(code, last.name, last.kind)
        items = [it for it in rollup.items if it.applies_to(last.kind)]
        results = [score_item(it, stub, entries.get((code, it.id), [])) for it in items]
        missing.extend((code, r.id) for r in results if r.missing)
        notes: list[str] = []
        if rollup.cap is not None and first.points > rollup.cap + EPS:
            notes.append(f"{rollup.name}{num(first.points)}分，封顶{num(rollup.cap)}分")
            first.points = rollup.cap
            first.rule += f"，封顶{num(rollup.cap)}分"
        rest, bonus, more = _assemble(scheme, items, results, None, None, rollup.bonus_cap)
        notes.extend(more)
        total = rest + first.points
        if scheme.total_floor is not None and total < scheme.total_floor - EPS:
            notes.append(f"总分{num(_r(total))}分，保底{num(scheme.total_floor)}分")
            total = scheme.total_floor
        total = _r(total)
        out.append(UnitResult(code, last.name, [first, *results], total, bonus=bonus, notes=notes, kind=last.kind,
                              attributes=dict(last.attributes)))
        if scheme.demotion:
            lost[code] = sum(it.full - it.points for u in history for it in u.items if it.id in scheme.demotion.items)
    _rank(scheme, out)
    if target.kind in scheme.grade_periods:
        _grade(scheme, out, lost)
    kinds = [u.kind for u in out]
    version = scheme.version
    return EvaluationResult(scheme.id, version, period, _unit_kind(kinds), out, missing)
