"""Dispatch suggestions (ARCHITECTURE §6.3): who should handle a case, with the reasons, and who got it wrong.

A dispatcher (派遣员) picks the department; a wrong pick comes back as an approved 回退 and counts
against the dispatcher (推诿 and 准确派遣率 in the evaluation), so the suggestion explains itself:
"部件权属: 市政处" when the case is about a part whose owner is known, "属地: 彭城街道" when the
responsibility table assigns the class in that street. Ranking, highest first:

1. the part's departments: 主管部门 (owner) 100, 权属单位 (custodian) 95, 养护单位 (maintainer) 90;
2. the responsibility table, by the most specific area: grid 80, community 70, street 60, district 50,
   city-wide (``*``) 40; plus 5 for an exact class match, 2 for a major-class match;
3. a department that already had this case returned drops by 50 ("曾回退").

The responsibility table's ``class_code`` may be a kind-qualified class code (``event:0102``) or major
code (``event:05``), ``part``/``event`` (every class of a kind), ``*``, or a plain class or major code
(``0102``, ``01``). Plain codes mean **part** classes (``Dispatcher.plain_kind``), because the table's
classic content is 部件权属 and the legacy catalogue reuses codes across kinds (``0102`` is 污水井盖
and 暴露垃圾); event rows must say ``event:``. ``area_code`` is a district/street/community/grid
code or ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from db import case_queries
from db.store import Store

PART_ROLES = (("owner", "部件主管", 100.0), ("custodian", "部件权属", 95.0), ("maintainer", "部件养护", 90.0))
AREA_SCORES = {15: 80.0, 12: 70.0, 9: 60.0, 6: 50.0, 0: 40.0}
RETURN_PENALTY = 50.0
BOUNCE_LIMIT = 2  # a case returned more than this many times is flagged for the shift lead


@dataclass(frozen=True, slots=True)
class Candidate:
    """A suggested department, its score and the reasons an operator reads."""

    department: str
    name: str
    score: float
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class ReturnCharge:
    """An approved 回退, charged to the dispatcher who made the undone dispatch."""

    case_no: str
    returned_at: str
    dispatcher_id: str | None
    department: str | None
    dispatched_at: str | None


def _get(case: Any, name: str) -> Any:
    if isinstance(case, Mapping):
        return case.get(name)
    return getattr(case, name, None)


@dataclass
class Dispatcher:
    """The responsibility table, departments and area names in memory, for fast repeated suggestions."""

    responsibilities: list[tuple[str, str, str]]
    department_names: dict[str, str]
    area_names: dict[str, str]
    store: Store | None = None
    plain_kind: str | None = "part"
    _by_name: dict[str, str] = field(init=False, repr=False)
    _index: dict[tuple[str, str], list[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {name: code for code, name in self.department_names.items()}
        self._index = {}
        for class_code, area_code, dept in self.responsibilities:
            self._index.setdefault((class_code, area_code), []).append(dept)

    @classmethod
    def from_store(cls, store: Store) -> Dispatcher:
        conn = store.conn
        return cls(
            case_queries.all_responsibilities(conn),
            {code: name for code, name, _k, _d in case_queries.departments(conn)},
            case_queries.all_area_names(conn),
            store,
        )

    def name_of(self, dept: str) -> str:
        return self.department_names.get(dept, dept)

    def _dept_code(self, value: str | None) -> str | None:
        """A part's department field may hold a code or a name; map names to codes when known."""
        if not value:
            return None
        if value in self.department_names:
            return value
        return self._by_name.get(value, value)

    def _area_label(self, area_code: str) -> str:
        if area_code == "*":
            return "职责: 全市"
        if len(area_code) >= 14:
            return f"属地: 网格 {area_code}"
        return f"属地: {self.area_names.get(area_code, area_code)}"

    def suggest(
        self, case: Any, returned: set[str] | None = None, part_departments: tuple[str | None, ...] | None = None,
        limit: int = 5,
    ) -> list[Candidate]:
        """Ranked candidates for ``case`` (a ``CaseState``, a dict or any object with the fields).

        ``returned`` are departments that already returned this case; ``part_departments`` are the
        part's (owner, custodian, maintainer) when the caller already has them, else they are read
        from the store.
        """
        scores: dict[str, float] = {}
        reasons: dict[str, list[str]] = {}

        def credit(dept: str, score: float, reason: str) -> None:
            if dept in scores:
                scores[dept] = max(scores[dept], score) + 1.0
            else:
                scores[dept] = score
            if reason not in reasons.setdefault(dept, []):
                reasons[dept].append(reason)

        part_code = _get(case, "part_code")
        if part_code and part_departments is None and self.store is not None:
            part_departments = case_queries.part_departments(self.store.conn, str(part_code))
        if part_departments:
            for (_role, label, score), value in zip(PART_ROLES, part_departments):
                dept = self._dept_code(value)
                if dept:
                    credit(dept, score, f"{label}: {self.name_of(dept)}")

        kind = _get(case, "kind")
        class_code = _get(case, "class_code")
        class_keys: list[tuple[str, float]] = [("*", 0.0)]
        if kind:
            class_keys.append((str(kind), 0.0))
        if class_code:
            code = str(class_code)
            if self.plain_kind is None or kind == self.plain_kind or not kind:
                class_keys += [(code, 5.0), (code[:2], 2.0)]
            if kind:
                class_keys += [(f"{kind}:{code}", 5.0), (f"{kind}:{code[:2]}", 2.0)]
        areas = ["*"] + [str(a) for a in (
            _get(case, "district_code"), _get(case, "street_code"), _get(case, "community_code"), _get(case, "grid_code")
        ) if a]
        for key, bonus in class_keys:
            for area in areas:
                for dept in self._index.get((key, area), ()):
                    level = 0 if area == "*" else (15 if len(area) >= 14 else len(area))
                    credit(dept, AREA_SCORES.get(level, 40.0) + bonus, self._area_label(area))

        for dept in returned or ():
            if dept in scores:
                scores[dept] -= RETURN_PENALTY
                reasons[dept].append("曾回退: 已退回本案")
        ranked = sorted(scores, key=lambda d: (-scores[d], d))
        return [Candidate(d, self.name_of(d), scores[d], tuple(reasons[d])) for d in ranked[:limit]]


def returned_departments(store: Store, case_no: str) -> set[str]:
    """Departments whose dispatch of this case was undone by an approved 回退."""
    return {r[3] for r in case_queries.approved_returns(store.conn, case_no=case_no) if r[3]}


def suggest_department(case: Any, store: Store, limit: int = 5, dispatcher: Dispatcher | None = None) -> list[Candidate]:
    """Ranked departments for a case, best first, each with its reasons (see the module doc)."""
    d = dispatcher if dispatcher is not None else Dispatcher.from_store(store)
    case_no = _get(case, "case_no")
    returned = returned_departments(store, str(case_no)) if case_no else set()
    return d.suggest(case, returned=returned, limit=limit)


def return_charges(store: Store, start: str | None = None, end: str | None = None) -> dict[str, list[ReturnCharge]]:
    """Approved returns in ``[start, end)`` grouped by the dispatcher charged with them (``?`` if unknown)."""
    out: dict[str, list[ReturnCharge]] = {}
    for row in case_queries.approved_returns(store.conn, start, end):
        rc = ReturnCharge(*row)
        out.setdefault(rc.dispatcher_id or "?", []).append(rc)
    return out


def bounced_cases(store: Store, more_than: int = BOUNCE_LIMIT, open_only: bool = True) -> list[tuple[str, str, int, int]]:
    """Cases returned more than ``more_than`` times, flagged for the shift lead: (case_no, status, returns, dispatches)."""
    if more_than < 0:
        raise ValueError(f"回退次数阈值无效 more_than='{more_than}' (must be >= 0)")
    return case_queries.bounced_cases(store.conn, more_than, open_only)


def redispatch_count(store: Store, start: str | None = None, end: str | None = None) -> int:
    """多次派遣: cases (reported in the period) dispatched more than once."""
    return len(case_queries.redispatched_cases(store.conn, start, end))
