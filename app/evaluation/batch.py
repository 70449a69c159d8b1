"""Indicators of one unit kind for many periods at once: the engine behind every evaluation.

It gives exactly what :func:`app.evaluation.indicators.compute` gives period by period (that function
stays the plain reference, and ``tests/app/evaluation/test_batch.py`` compares the two on random
histories), but a year costs far less than twelve months:

* **Work is a list of jobs.** Each job is one query (a count, or a family of counts read in one scan) and
  only reads the store, so :mod:`app.evaluation.run` spreads the jobs of every month over worker threads,
  each with its own read-only connection; SQLite runs a query without holding the GIL.
* **Counts that read "open at an instant" are asked once for all periods** (超期未结, 应处置): the
  ``*_by_periods`` queries of :mod:`db.evaluation_repo` read the cases closed after the first period's start
  once instead of once per month.
* **Case lists stay text until someone reads them.** A query returns each unit's ``group_concat``; the
  count is the number of commas plus one. Only the lists a result shows are split and sorted: 结案率 needs
  the number of closed cases, and its shortfall (the cases due but not closed) skips the closed part of
  the denominator unread and tests the few overdue cases against the closed numbers without sorting them.
  Splitting and sorting every list was about a sixth of a city-scale month.
* **DISTINCT is done in Python when that is exact** (``repo.distinct_events_text``): SQLite's keeps a
  B-tree per unit, about half the cost of 收到案卷数.

Counts without a batch query (回访, 重复案件, 长效治理 …) run their ordinary count function as a job of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, filterfalse, pairwise
from typing import Any

from app.evaluation import indicators as ind
from app.evaluation.model import Indicator, unique_cases
from app.evaluation.periods import Period
from db import evaluation_repo as repo
from db.store import Store


# -- case lists read on demand -----------------------------------------------------------------------------
class Cases:
    """One unit's case numbers for one count: the query's ``group_concat`` text (split and sorted on first
    read, exactly as ``db.evaluation_repo`` splits it), or a list the reference count function made."""

    __slots__ = ("_items", "_text", "n")

    def __init__(self, text: str = "", items: list[str] | None = None) -> None:
        self._text = text
        self._items = items
        # a text of n numbers has n - 1 commas; "" is no numbers (what ``repo._split`` makes of it)
        self.n = len(items) if items is not None else (text.count(",") + 1 if text else 0)

    def items(self) -> list[str]:
        if self._items is None:
            self._items = sorted(self._text.split(",")) if self._text else []
        return self._items

    def unsorted(self) -> list[str]:
        """The same numbers in any order (cheaper when a caller filters before it sorts)."""
        if self._items is not None:
            return self._items
        return self._text.split(",") if self._text else []

    def sorted_after(self, keep: Callable[[Iterable[str]], Iterable[str]]) -> list[str]:
        """``list(keep(self.items()))`` for an order-keeping filter: filtered first, sorted after, so a
        filter that drops most of 80k numbers never pays for sorting them."""
        if self._items is not None:
            return list(keep(self._items))
        return sorted(keep(self.unsorted()))

    def as_set(self) -> Collection[str]:
        """The numbers for membership tests."""
        return set(self.unsorted())

    def leaves(self) -> list[Cases]:
        return [self]


class DistinctCases(Cases):
    """A ``DISTINCT`` count whose text still repeats numbers (``repo.distinct_events_text``): the numbers
    are the text's numbers each once, so their number is the count. They are kept in the text's order
    (``dict.fromkeys``), which follows the index the query read (events by time: nearly the order of case
    numbers), so that sorting them later is cheap; a set would scramble them."""

    __slots__ = ("_seen",)

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._seen = dict.fromkeys(text.split(",")) if text else {}
        self.n = len(self._seen)

    def items(self) -> list[str]:
        if self._items is None:
            self._items = sorted(self._seen)
        return self._items

    def unsorted(self) -> list[str]:
        return self._items if self._items is not None else list(self._seen)

    def as_set(self) -> Collection[str]:
        return self._seen.keys()


EMPTY = Cases()


class Joined:
    """A union count (``due_to_close`` = ``closed`` + ``overdue_open``): its parts' lists one after another."""

    __slots__ = ("n", "parts")

    def __init__(self, parts: list[Cases]) -> None:
        self.parts = parts
        self.n = sum(p.n for p in parts)

    def items(self) -> list[str]:
        return list(chain.from_iterable(p.items() for p in self.parts))

    def leaves(self) -> list[Cases]:
        return self.parts


class Shortfall:
    """The cases behind a rate where higher is better: the denominator's cases missing from the numerator,
    first occurrence kept (``dict.fromkeys(filterfalse(set(num).__contains__, den))`` of the reference).

    A part of the denominator that *is* the numerator (结案数 inside 应结案数) loses every case to it, so it
    is skipped unread; the other parts are filtered before they are sorted."""

    __slots__ = ("_items", "den", "num")

    def __init__(self, den: CaseSeq, num: CaseSeq) -> None:
        self.den = den
        self.num = num
        self._items: list[str] | None = None

    @property
    def n(self) -> int:
        return len(self.items())

    def items(self) -> list[str]:
        if self._items is None:
            self._items = self._shortfall()
        return self._items

    def _shortfall(self) -> list[str]:
        parts = [p for p in self.den.leaves() if p is not self.num and p.n]
        if not parts:
            return []
        hit = self.num.as_set() if isinstance(self.num, Cases) else set(self.num.items())
        out: list[str] = []
        for p in parts:
            out.extend(p.sorted_after(lambda xs: filterfalse(hit.__contains__, xs)))
        return list(unique_cases(out))

    def leaves(self) -> list[Cases]:
        return [Cases(items=self.items())]


CaseSeq = Cases | Joined | Shortfall


@dataclass(slots=True)
class Value:
    """An indicator before its cases are read."""

    value: float | None
    numerator: float | None
    denominator: float | None
    cases: CaseSeq


# -- jobs ------------------------------------------------------------------------------------------------
Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Job:
    """One read-only query: ``run(store)`` returns the results of every key in ``keys``."""

    id: Key
    keys: tuple[Key, ...]
    run: Callable[[Store], dict[Key, Any]]
    weight: float = 1.0  # rough relative cost, so the heaviest jobs start first


Reader = Callable[[Mapping[Key, Any]], Mapping[str, CaseSeq]]


def _texts(texts: Mapping[str, str]) -> dict[str, CaseSeq]:
    return {u: Cases(t) for u, t in texts.items()}


def _distinct(got: tuple[Mapping[str, str], bool]) -> dict[str, CaseSeq]:
    texts, repeats = got
    return {u: DistinctCases(t) for u, t in texts.items()} if repeats else _texts(texts)


def _lists(lists: Mapping[str, list[str]]) -> dict[str, CaseSeq]:
    return {u: Cases(items=v) for u, v in lists.items()}


def _one(key: Key, fn: Callable[[Store], Any], weight: float = 1.0) -> Job:
    return Job(key, (key,), lambda st: {key: fn(st)}, weight)


def _ascending(periods: Sequence[Period]) -> bool:
    return all(a.end_at <= b.start_at for a, b in pairwise(periods))


def _family(name: str) -> tuple[str, str, int | None] | None:
    """(query, filter SQL, result index) of a count read by one of the period queries below."""
    base, flt_name = ind.split_name(name)
    family = _FAMILIES.get(base)
    if family is None or ind.DEFINITIONS[base].count is not family[0]:
        return None
    return family[1], (ind.FILTERS[flt_name] if flt_name else ""), family[2]


def _source(kind: str, name: str, i: int, periods: Sequence[Period], options: Mapping[str, Mapping[str, Any]],
            wanted: Mapping[tuple[str, str], frozenset[int]]) -> tuple[list[Job], Reader]:
    """Where count ``name`` of period ``i`` comes from: the jobs computing it and how to read their results.
    A count function this module does not know runs as its own job. ``wanted`` says which counts of each
    family query some name reads (the others are left out of the query)."""
    base, flt_name = ind.split_name(name)
    flt = ind.FILTERS[flt_name] if flt_name else ""
    fn = ind.DEFINITIONS[base].count
    p = periods[i]
    s, e = p.start_at, p.end_at
    if isinstance(fn, ind.EventCount):
        key: Key = ("events", kind, fn, flt, s, e)
        ev = fn
        if ev.distinct:
            return [_one(key, lambda st: repo.distinct_events_text(
                st.conn, kind, ev.action, s, e, where=ev.where, charge_dispatcher=ev.charge_dispatcher,
                flt=flt, by_reporter=ev.by_reporter))], lambda got: _distinct(got[key])
        return [_one(key, lambda st: repo.events_text(
            st.conn, kind, ev.action, s, e, where=ev.where, charge_dispatcher=ev.charge_dispatcher, flt=flt,
            by_reporter=ev.by_reporter))], lambda got: _texts(got[key])
    family = _family(name)
    if family is not None:
        group, _flt, index = family
        query = _PERIOD_QUERIES[group]
        if index is None:
            fkey: Key = (group, kind, flt, s, e)
            job = _one(fkey, lambda st: query(st.conn, kind, s, e, flt), _WEIGHTS.get(group, 1.0))
            if group in _DISTINCT:
                return [job], lambda got: _distinct(got[fkey])
            return [job], lambda got: _texts(got[fkey])
        which = wanted[(group, flt)]
        fkey = (group, kind, flt, which, s, e)
        job = _one(fkey, lambda st: query(st.conn, kind, s, e, flt, which=which), _WEIGHTS.get(group, 1.0))
        return [job], lambda got: _texts(got[fkey][index])
    if fn is ind._overdue_open:
        ends = tuple(q.end_at for q in (periods if _ascending(periods) else [p]))
        okeys: tuple[Key, ...] = tuple(("overdue_open", kind, flt, x) for x in ends)
        okey: Key = ("overdue_open", kind, flt, e)
        job = Job(("overdue_open", kind, flt, ends), okeys,
                  lambda st: dict(zip(okeys, repo.overdue_open_by_periods(st.conn, kind, ends, flt))), 1.5)
        return [job], lambda got: _texts(got[okey])
    if fn is ind._due_to_handle:
        return _due_to_handle(kind, flt, periods, i)
    assert fn is not None
    opts = json.dumps(options, sort_keys=True, ensure_ascii=False, default=str)
    ckey: Key = ("count", kind, name, s, e, opts)
    count = fn

    def run(st: Store) -> Any:
        return count(ind.Ctx(st, kind, p, flt, options, {}))

    return [_one(ckey, run)], lambda got: _lists(got[ckey])


def _due_to_handle(kind: str, flt: str, periods: Sequence[Period], i: int) -> tuple[list[Job], Reader]:
    """应处置数 of period ``i``: the cases closed in it (one job per period) and the ones carried into it
    from earlier periods (one job for all periods); see ``repo.due_to_handle_by_periods``."""
    group = list(periods) if _ascending(periods) else [periods[i]]
    j = group.index(periods[i])
    spans = tuple((q.start_at, q.end_at) for q in group)
    # a part's meaning depends on the whole list of periods (the last slice is open-ended), so keys name it
    closed_key: Key = ("due_to_handle", kind, flt, spans, j)
    carried_keys: tuple[Key, ...] = tuple(("due_to_handle_carried", kind, flt, spans, x)
                                          for x in range(len(spans)))
    closed = _one(closed_key, lambda st: repo.due_to_handle_closed_in(st.conn, kind, spans, j, flt), 1.5)
    carried = Job(("due_to_handle_carried", kind, flt, spans), carried_keys,
                  lambda st: dict(zip(carried_keys, repo.due_to_handle_carried(st.conn, kind, spans, flt))), 2.0)
    carried_key = carried_keys[j]
    return [closed, carried], lambda got: _texts(repo.join_texts(got[closed_key], got[carried_key]))


def _dispatched(where: str) -> Callable[..., repo.Texts]:
    def query(conn: Any, kind: str, s: str, e: str, flt: str) -> repo.Texts:
        return repo.dispatched_text(conn, kind, s, e, where=where, flt=flt)
    return query


def _received(conn: Any, kind: str, s: str, e: str, flt: str) -> tuple[repo.Texts, bool]:
    return repo.distinct_dispatched_text(conn, kind, s, e, flt=flt)


def _handled_on_time(conn: Any, kind: str, s: str, e: str, flt: str) -> tuple[repo.Texts, bool]:
    return repo.handled_on_time_text(conn, kind, s, e, flt)


def _reports(conn: Any, kind: str, s: str, e: str, flt: str, which: Collection[int]) -> Any:
    return repo.reports_text(conn, kind, s, e, flt=flt, which=which)


# Counts read by one period query each: base name -> (the count function it replaces, query, result index).
_FAMILIES: dict[str, tuple[Any, str, int | None]] = {
    "reported": (ind._reported, "reports", 0),
    "valid_reports": (ind._valid_reports, "reports", 1),
    "public_reports": (ind._public_reports, "reports", 2),
    "registered": (ind._registered, "registered", None),
    "closed": (ind._closed, "closed", 0),
    "closed_on_time": (ind._closed_on_time, "closed", 1),
    "dispatched": (ind._dispatched, "dispatched", None),
    "dispatched_on_time": (ind._dispatched_on_time, "dispatched_on_time", None),
    "received": (ind._received, "received", None),
    "handled_on_time": (ind._handled_on_time, "handled_on_time", None),
}
_PERIOD_QUERIES: dict[str, Callable[..., Any]] = {
    "reports": _reports,
    "registered": repo.registered_text,
    "closed": repo.closed_pair_text,
    "dispatched": _dispatched(""),
    "dispatched_on_time": _dispatched(repo.ON_TIME_COND),
    "received": _received,
    "handled_on_time": _handled_on_time,
}
_DISTINCT = {"received", "handled_on_time"}  # queries giving (texts, repeats)
_WEIGHTS = {"handled_on_time": 3.0, "closed": 1.5, "received": 1.5}


@dataclass(slots=True)
class Plan:
    """The jobs of one unit kind over some periods, and where each count of each period is read from."""

    kind: str
    periods: list[Period]
    names: list[str]  # the wanted names with their dependencies, in dependency order
    keep: list[str]  # the wanted names
    jobs: list[Job]
    sources: dict[tuple[str, int], Reader]
    needs: list[set[Key]]  # per period, the ids of the jobs its counts are read from


def plan(kind: str, periods: Sequence[Period], names: Iterable[str] | None = None,
         options: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    repo.unit_expr(kind)  # validates the kind with a clear message
    keep = list(names) if names is not None else list(ind.DEFINITIONS)
    closure = ind._closure(keep)
    opts = options or {}
    jobs: dict[Key, Job] = {}
    sources: dict[tuple[str, int], Reader] = {}
    wanted: dict[tuple[str, str], set[int]] = {}
    for n in closure:
        family = _family(n)
        if family is not None and family[2] is not None:
            wanted.setdefault(family[:2], set()).add(family[2])
    frozen = {k: frozenset(v) for k, v in wanted.items()}
    needs: list[set[Key]] = [set() for _ in periods]
    for n in closure:
        if ind.DEFINITIONS[ind.split_name(n)[0]].count is None:
            continue
        for i in range(len(periods)):
            needed, reader = _source(kind, n, i, periods, opts, frozen)
            for job in needed:
                jobs.setdefault(job.id, job)
                needs[i].add(job.id)
            sources[(n, i)] = reader
    return Plan(kind, list(periods), closure, keep, list(jobs.values()), sources, needs)


def run_job(job: Job, store: Store) -> dict[Key, Any]:
    repo.tune_for_scans(store.conn)
    return job.run(store)


# -- indicators from results -----------------------------------------------------------------------------
def _counts(p: Plan, i: int, results: Mapping[Key, Any]) -> dict[str, dict[str, CaseSeq]]:
    """Case lists of every count of period ``i`` (union counts joined), as ``compute_counts`` has them."""
    counts: dict[str, dict[str, CaseSeq]] = {}
    for n in p.names:
        base, flt = ind.split_name(n)
        d = ind.DEFINITIONS[base]
        if d.count is not None:
            counts[n] = dict(p.sources[(n, i)](results))
        elif d.union:
            merged: dict[str, list[Cases]] = {}
            for part in d.union:
                for unit, cases in counts[ind._with_filter(part, flt)].items():
                    merged.setdefault(unit, []).extend(cases.leaves())
            counts[n] = {u: Joined(v) for u, v in merged.items()}
    return counts


def _values(p: Plan, counts: dict[str, dict[str, CaseSeq]], unit: str, period: Period) -> dict[str, Value]:
    """``indicators.indicators_for`` with the case lists left unread."""
    out: dict[str, Value] = {}
    for n in p.names:
        base, flt = ind.split_name(n)
        d = ind.DEFINITIONS[base]
        if d.numerator is not None:
            num, den = out[ind._with_filter(d.numerator, flt)], out[ind._with_filter(str(d.denominator), flt)]
            cases: CaseSeq = Shortfall(den.cases, num.cases) if d.good else num.cases
            if not den.value:
                out[n] = Value(None, num.value, den.value, cases)
            else:
                share = float(num.value or 0) / float(den.value)
                out[n] = Value(1.0 - share if d.complement else share, num.value, den.value, cases)
        elif d.per_day:
            src = out[ind._with_filter(d.per_day, flt)]
            days = float((period.end - period.start).days)
            out[n] = Value(float(src.value or 0) / days, src.value, days, src.cases)
        elif d.share_of:
            src = out[ind._with_filter(d.share_of, flt)]
            total = float(sum(c.n for c in counts[ind._with_filter(d.share_of, flt)].values()))
            out[n] = Value(float(src.value or 0) / total if total else None, src.value, total, src.cases)
        else:
            c = counts.get(n, {}).get(unit, EMPTY)
            out[n] = Value(float(c.n), float(c.n), None, c)
    return out


def indicators(p: Plan, i: int, units: Iterable[str], results: Mapping[Key, Any]) -> dict[str, dict[str, Indicator]]:
    """Period ``i`` of the plan: unit → wanted name → :class:`Indicator`, as ``indicators.compute`` gives."""
    period = p.periods[i]
    counts = _counts(p, i, results)
    keep = set(p.keep)
    out: dict[str, dict[str, Indicator]] = {}
    for u in units:
        vals = _values(p, counts, u, period)
        out[u] = {n: Indicator(n, v.value, v.numerator, v.denominator, tuple(v.cases.items()))
                  for n, v in vals.items() if n in keep}
    return out


def compute(store: Store, kind: str, periods: Sequence[Period], units: Iterable[str],
            names: Iterable[str] | None = None, options: Mapping[str, Mapping[str, Any]] | None = None,
            results: Mapping[Key, Any] | None = None,
            only: int | None = None) -> list[dict[str, dict[str, Indicator]]]:
    """``[indicators.compute(store, kind, p, units, names, options) for p in periods]`` (with ``only``, just
    that period's entry), reading the results already in ``results`` (the jobs of the same periods run
    ahead, possibly on other threads) and running the missing jobs here."""
    p = plan(kind, periods, names, options)
    wanted = list(range(len(p.periods))) if only is None else [only]
    needed: set[Key] = set()
    for i in wanted:
        needed |= p.needs[i]
    have: dict[Key, Any] = dict(results or {})
    for job in p.jobs:
        if job.id in needed and not all(k in have for k in job.keys):
            have.update(run_job(job, store))
    unit_list = list(units)
    return [indicators(p, i, unit_list, have) for i in wanted]
