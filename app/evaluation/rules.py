"""Rule kinds: how one item turns a unit's indicators (or an evaluator's entries) into points.

Each rule is a small frozen dataclass built by ``app.evaluation.scheme`` from a TOML item table and
evaluated by ``app.evaluation.scoring``. Rules carry every number they use, so no scoring weight ever
lives in code: the code only knows the *shape* of a rule ("every 1% below 95% costs 1 point"), the
scheme file knows the numbers. ``docs/schemes.md`` is the reference for the TOML form of each kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.evaluation.model import Indicator, UnitInput, unique_cases

RULE_KINDS = ("linear", "per_count", "threshold", "table", "rate", "manual")
EPS = 1e-9


class RuleInputError(ValueError):
    """A unit lacks an indicator or attribute that a rule needs (message Chinese + English)."""


@dataclass(frozen=True, slots=True)
class Term:
    """One weighted indicator in a value expression (``回退按0.5权重计入`` is ``returned`` × 0.5)."""

    indicator: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Divisor:
    """Normalise a count by a unit attribute: ``count × per / attribute`` (road count, difficulty)."""

    attribute: str
    per: float = 1.0
    default: float | None = None


@dataclass(frozen=True, slots=True)
class ValueExpr:
    """Where a rule reads its value: one indicator, or a weighted sum, optionally over a denominator.

    A scheme that defines a rate differently from the default (ARCHITECTURE §7.1) writes it here, for
    example ``terms = [{indicator = "registered"}, {indicator = "voided", weight = -1}]`` over
    ``registered``. A zero denominator gives ``None`` (not applicable), never 0.
    """

    terms: tuple[Term, ...]
    over: str | None = None
    over_attribute: str | None = None
    over_per: float = 1.0
    skip_missing: bool = False  # weighted rates: drop not-applicable terms and renormalise weights

    @property
    def indicators(self) -> tuple[str, ...]:
        names = [t.indicator for t in self.terms]
        if self.over:
            names.append(self.over)
        return tuple(names)

    def evaluate(self, unit: UnitInput) -> tuple[float | None, tuple[str, ...]]:
        """The value and the case numbers behind it."""
        cases: list[str] = []
        total = 0.0
        weight_used = 0.0
        weight_all = 0.0
        any_value = False
        for term in self.terms:
            ind = _indicator(unit, term.indicator)
            cases.extend(ind.cases)
            weight_all += abs(term.weight)
            if ind.value is None:
                if self.skip_missing:
                    continue
                return None, _uniq(cases)
            any_value = True
            weight_used += abs(term.weight)
            total += term.weight * ind.value
        if not any_value:
            return None, _uniq(cases)
        if self.skip_missing and weight_used > 0 and weight_used < weight_all:
            total = total * weight_all / weight_used
        if self.over:
            den = _indicator(unit, self.over)
            if den.value is None or abs(den.value) < EPS:
                return None, _uniq(cases)
            total /= den.value
        if self.over_attribute:
            attr = _attribute(unit, self.over_attribute, None)
            if abs(attr) < EPS:
                return None, _uniq(cases)
            total = total * self.over_per / attr
        return total, _uniq(cases)


def _uniq(cases: list[str]) -> tuple[str, ...]:
    return unique_cases(cases)


def _indicator(unit: UnitInput, name: str) -> Indicator:
    try:
        return unit.indicators[name]
    except KeyError:
        raise RuleInputError(
            f"缺少考核指标 unit='{unit.code}' indicator='{name}' (the unit has no such indicator; "
            "compute it or list it under required_indicators)"
        ) from None


def _attribute(unit: UnitInput, name: str, default: float | None) -> float:
    raw = unit.attributes.get(name, default)
    if raw is None:
        raise RuleInputError(f"缺少考核对象属性 unit='{unit.code}' attribute='{name}' (no such attribute, no default)")
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RuleInputError(f"考核对象属性不是数值 unit='{unit.code}' attribute='{name}' value={raw!r}") from None


def pct(v: float) -> str:
    """A fraction as a percentage the way a bulletin prints it (``93.5%``)."""
    return f"{v * 100:.2f}".rstrip("0").rstrip(".") + "%"


def num(v: float) -> str:
    """A number without trailing zeros (``0.5``, ``12``)."""
    return f"{v:.4f}".rstrip("0").rstrip(".") if not float(v).is_integer() else str(int(v))


def count_steps(amount: float, step: float, mode: str) -> float:
    """How many steps an amount spans: exact fraction, or whole steps rounded up or down.

    The quotient is rounded to 9 decimals first so 0.95 − 0.93 over 0.01 counts as 2 steps, not 1.999….
    """
    q = round(amount / step, 9)
    if mode == "ceil":
        return float(math.ceil(q))
    if mode == "floor":
        return float(math.floor(q))
    return q


@dataclass(frozen=True, slots=True)
class Band:
    """A count-to-score band: values at or above ``start`` (up to the next band) score ``points``."""

    start: float
    points: float


@dataclass(frozen=True, slots=True)
class Reason:
    """A deduction reason listed by the seed (``终端丢失一次扣5分``); ``points`` None means 酌情."""

    text: str
    points: float | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """The parameters of one item's rule; which fields matter depends on ``kind``."""

    kind: str
    value: ValueExpr | None = None
    # linear
    threshold: float = 0.0
    direction: str = "below"
    step: float = 0.01
    per_step: float = 1.0
    steps: str = "exact"
    zero_below: float | None = None
    zero_above: float | None = None
    # per_count
    per: float = 0.0
    allowance: float = 0.0
    allowance_rate: float = 0.0
    allowance_of: str | None = None
    allowance_round: str = "exact"
    repeat: str | None = None
    repeat_factor: float = 2.0
    divide_by: tuple[Divisor, ...] = ()
    effect: str = "deduct"
    # threshold
    op: str = ">="
    than: float = 0.0
    pass_points: float | None = None
    fail_points: float = 0.0
    # table
    bands: tuple[Band, ...] = ()
    by_attribute: str | None = None
    tables: dict[str, tuple[Band, ...]] = field(default_factory=dict)
    # rate
    invert: bool = False
    # manual
    entry: str = "deduction"
    required: bool = False
    reasons: tuple[Reason, ...] = ()

    @property
    def indicators(self) -> tuple[str, ...]:
        names = list(self.value.indicators) if self.value else []
        if self.allowance_of:
            names.append(self.allowance_of)
        if self.repeat:
            names.append(self.repeat)
        return tuple(names)

    def bands_for(self, unit: UnitInput) -> tuple[Band, ...]:
        if not self.by_attribute:
            return self.bands
        key = str(unit.attributes.get(self.by_attribute, ""))
        if key not in self.tables:
            raise RuleInputError(
                f"考核对象属性值没有对应分值表 unit='{unit.code}' attribute='{self.by_attribute}' value='{key}' "
                f"(tables exist for {sorted(self.tables)})"
            )
        return self.tables[key]


def band_points(bands: tuple[Band, ...], value: float) -> float | None:
    """Points of the band with the greatest start not above the value (None below every band)."""
    best: Band | None = None
    for b in bands:
        if value + EPS >= b.start and (best is None or b.start > best.start):
            best = b
    return None if best is None else best.points


def compare(op: str, a: float, b: float) -> bool:
    if op == ">":
        return a > b + EPS
    if op == ">=":
        return a >= b - EPS
    if op == "<":
        return a < b - EPS
    return a <= b + EPS
