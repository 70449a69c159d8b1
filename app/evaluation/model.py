"""The data that flows into and out of the scoring engine.

These dataclasses are the contract between the indicators engineer (who fills ``UnitInput``), the
evaluators (``ManualEntry``, stored in ``score_entry``), the scoring engine (``app.evaluation.scoring``)
and the views, reports and publishing code (``EvaluationResult.to_json``). They hold plain values only,
so a published result can be frozen as JSON and compared byte for byte when it is re-run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from operator import lt
from typing import Any


def unique_cases(cases: Sequence[str]) -> tuple[str, ...]:
    """``tuple(dict.fromkeys(cases))``: each case number once, first occurrence kept. A strictly ascending
    list (what a sorted count gives, the usual case) already is that, which one C-level pass over
    neighbours tells without hashing every number (a city-scale year has millions of them)."""
    if all(map(lt, cases, islice(cases, 1, None))):
        return tuple(cases)
    return tuple(dict.fromkeys(cases))


@dataclass(frozen=True, slots=True)
class Indicator:
    """One measured quantity for one unit and period.

    ``value`` is ``None`` when the indicator is not applicable (a rate with a zero denominator): a rule
    must then decide what to do, never silently read it as 0 or 100%. Rates are fractions 0..1.
    ``cases`` are the case numbers behind the value, shown when someone questions a deduction.
    """

    name: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    cases: tuple[str, ...] = ()


@dataclass(slots=True)
class UnitInput:
    """Everything the engine needs to score one unit: its indicators and its static attributes.

    ``kind`` is the unit kind (``district``, ``street``, ``department``, ``inspector``…): a scheme item
    may apply to some kinds only. ``attributes`` carry what is not measured from cases, such as
    ``area_class``, ``road_count``, ``difficulty``, ``grid_count`` or the department ``group``.
    """

    code: str
    name: str
    kind: str
    indicators: dict[str, Indicator] = field(default_factory=dict)
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ManualEntry:
    """A score or deduction an evaluator entered for a non-computed item (row of ``score_entry``).

    ``points`` is signed: for a deduction-mode item a deduction is negative (``-2`` for "扣2分"); for a
    score-mode item it is the score itself on the item's ``basis``. Reason, evidence and author are kept
    because a district may question every point.
    """

    unit_code: str
    item: str
    points: float
    reason: str = ""
    evidence: str = ""
    entered_by: str = ""


@dataclass(slots=True)
class ItemResult:
    """One item of one unit: the points given, against the full marks, and why."""

    id: str
    name: str
    category: str
    points: float
    full: float
    rule: str  # the rule in words, Chinese, with the numbers that were applied
    value: float | None = None
    cases: tuple[str, ...] = ()
    manual: bool = False
    missing: bool = False
    bonus: bool = False


@dataclass(slots=True)
class UnitResult:
    """One unit's score: items, total, rank and grade, plus notes (caps applied, awards by rank…)."""

    code: str
    name: str
    items: list[ItemResult]
    total: float
    rank: int | None = None
    grade: str = ""
    grade_color: str = ""
    bonus: float = 0.0
    notes: list[str] = field(default_factory=list)
    kind: str = ""
    indicators: dict[str, float | None] = field(default_factory=dict)
    attributes: dict[str, object] = field(default_factory=dict)

    def item(self, item_id: str) -> ItemResult:
        """The item with this id (tests and reports look items up by id)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"考核项不存在 item='{item_id}' (no such item in unit {self.code})")


@dataclass(slots=True)
class EvaluationResult:
    """A whole evaluation: one scheme, one period, every unit scored and ranked."""

    scheme_id: str
    scheme_version: str
    period: str
    unit_kind: str
    units: list[UnitResult]
    missing_manual: list[tuple[str, str]] = field(default_factory=list)

    def unit(self, code: str) -> UnitResult:
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(f"考核对象不存在 unit='{code}' (no such unit in this evaluation)")

    def to_dict(self) -> dict[str, Any]:
        """Plain data with the keys the command line prints (``scheme``, ``period``, ``units``)."""
        return {
            "scheme": self.scheme_id,
            "scheme_version": self.scheme_version,
            "period": self.period,
            "unit_kind": self.unit_kind,
            "units": [asdict(u) for u in self.units],
            "missing_manual": [list(m) for m in self.missing_manual],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """The result :meth:`to_dict` (or a published run's stored JSON) describes: a published month read
        back for a roll-up gives exactly what scoring it again would, down to :meth:`to_json`."""
        units = []
        for u in data["units"]:
            items = [ItemResult(**{**it, "cases": tuple(it.get("cases", ()))}) for it in u["items"]]
            units.append(UnitResult(**{**u, "items": items, "notes": list(u.get("notes", ())),
                                       "indicators": dict(u.get("indicators", {})),
                                       "attributes": dict(u.get("attributes", {}))}))
        return cls(data["scheme"], data.get("scheme_version", ""), data["period"], data.get("unit_kind", ""),
                   units, [(str(a), str(b)) for a, b in data.get("missing_manual", ())])

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys) so that a re-run can be compared with a published run."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
