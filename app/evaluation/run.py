"""Run an evaluation against the store: units, indicators, manual entries, the scoring engine, roll-ups;
publish a result frozen with the hash of its inputs, and verify published results later.

Why a published result carries an *inputs hash*: a district may question its score months later
("评价数据随时接受各方质询"). The hash covers everything the result depends on — the events before the
end of the period (their count and the hash-chain value of the last one, which covers every earlier
event), the manual entries, the scheme file's bytes and, for a quarter or year, the published monthly runs it
rolled up — so ``verify`` can tell "the inputs changed"
(a late event was recorded before the period end, an entry was added) apart from "the same inputs now
give a different result" (the code or the stored result was altered).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import timefmt
from app.evaluation import batch
from app.evaluation import indicators as ind
from app.evaluation.model import EvaluationResult, Indicator, ManualEntry, UnitInput
from app.evaluation.periods import Period, parse_period, shift
from app.evaluation.scheme import Scheme, SchemeError, load_scheme
from app.evaluation.scoring import roll_up, score
from app.paths import SCHEMES
from app.progress import Progress
from db import evaluation_repo as repo
from db.store import Store, connect

KIND_LABELS = {
    "district": "区", "street": "街道", "community": "社区", "grid": "网格", "department": "部门",
    "inspector": "监督员", "intake": "受理员", "shift_lead": "值班长", "dispatcher": "派遣员",
    "person": "人员", "post": "岗位", "centre": "指挥中心", "window": "窗口", "town": "镇",
}


# The order results list unit kinds in (areas from large to small, then departments and posts); each kind is
# ranked on its own.
KIND_ORDER = ("district", "street", "town", "community", "grid", "department", "centre", "window", "inspector",
              "intake", "dispatcher", "shift_lead", "person", "post")


def kind_order(kind: str) -> tuple[int, str]:
    """Sort key of a unit kind: known kinds in :data:`KIND_ORDER`, others after them by name."""
    return (KIND_ORDER.index(kind), "") if kind in KIND_ORDER else (len(KIND_ORDER), kind)


# Scheme unit kinds that are another name for a kind the store knows (镇/乡 sit at the 街道 level).
KIND_ALIASES = {"town": "street"}


class EvaluationError(ValueError):
    """Bad evaluation input (unit kind not in the scheme, period the scheme cannot roll up to)."""


@dataclass(slots=True)
class VerifyIssue:
    """One published run that no longer matches: which, and why (Chinese + English)."""

    run_id: int
    scheme: str
    period: str
    unit_kind: str | None
    problem: str


@dataclass(slots=True)
class Evaluation:
    """A result with what the command line and reports also show beside the scores."""

    result: EvaluationResult
    period: Period
    scheme: Scheme
    uncomputed: list[str] = field(default_factory=list)  # indicators named by the scheme, not computable
    # months of a roll-up taken from their published runs, as (period, run id): the figures announced
    published_months: list[tuple[str, int]] = field(default_factory=list)


def scheme_file(scheme: Scheme, scheme_id: str) -> Path:
    """The file the scheme (revision) was read from: its bytes are part of a published result's inputs."""
    if scheme.path and Path(scheme.path).is_file():
        return Path(scheme.path)
    p = Path(scheme_id)
    if scheme_id.endswith(".toml") and p.is_file():
        return p
    return SCHEMES / f"{scheme.id}.toml"


def _kinds(scheme: Scheme, unit_kind: str | None) -> list[str]:
    if unit_kind is None:
        return list(scheme.unit_kinds)
    if unit_kind not in scheme.unit_kinds:
        raise EvaluationError(
            f"考核对象类型不在方案内 --unit='{unit_kind}' (scheme {scheme.id} scores {', '.join(scheme.unit_kinds)})"
        )
    return [unit_kind]


def _attributes(row: dict[str, Any]) -> dict[str, object]:
    """Scheme attributes of a unit row. Counts of 0 are left out (unknown, not zero: a store without roads
    must not divide by zero), so the scheme's declared default applies."""
    out: dict[str, object] = {}
    for k, v in row.items():
        if k in ("code", "name") or v is None or (k == "road_count" and not v):
            continue
        out[k] = v
    if "area_class" in row:  # schemes read "1"/"2"; the unit's most common grid class, 一类 when unknown
        out["area_class"] = area_class_key(row.get("area_class"))
    return out


def area_class_key(value: object) -> str:
    """The store's area class (``一类区域``/``二类区域``, or ``1``/``2`` from an import) as the schemes' key
    ``"1"``/``"2"``; unknown or empty is 一类 (the stricter table), as ``docs/formulas.md`` says."""
    text = str(value or "").strip()
    return "2" if ("二" in text or text.startswith("2") or text.upper() in ("II", "B")) else "1"


def _indicator_names(scheme: Scheme, kind: str) -> tuple[str, list[str], list[str], list[str]]:
    """(the store's unit kind, every indicator name the scheme reads for ``kind``, the computable ones, the
    others)."""
    names = list(scheme.required_indicators_for(kind)) + [
        n for n in scheme.declared_indicators if n not in scheme.required_indicators_for(kind)
    ]
    known = [n for n in names if ind.is_known(n)]
    unknown = [n for n in names if not ind.is_known(n)]
    store_kind = KIND_ALIASES.get(kind, kind)
    if store_kind != kind and store_kind in scheme.unit_kinds:
        store_kind = kind  # the scheme scores both (平度: 街道 and 镇 apart): towns come from manual entries
    return store_kind, names, known, unknown


# What ``_prefetch`` already fetched: the periods it planned its batch jobs for and their results.
# ``build_units`` reads a period of that list from them (a job's result can depend on the whole list, e.g.
# the last period's slice of 应处置数 is open-ended) and runs any missing job itself.
Ahead = tuple[list[Period], dict[batch.Key, Any]]


def _indicators(store: Store, kind: str, period: Period, codes: list[str], names: list[str],
                scheme: Scheme, ahead: Ahead | None = None) -> dict[str, dict[str, Indicator]]:
    if ahead is not None and period in ahead[0]:
        periods, results = ahead
        return batch.compute(store, kind, periods, codes, names, scheme.indicator_definitions, results,
                             only=periods.index(period))[0]
    return batch.compute(store, kind, [period], codes, names, scheme.indicator_definitions)[0]


def build_units(store: Store, scheme: Scheme, kind: str, period: Period,
                ahead: Ahead | None = None) -> tuple[list[UnitInput], list[str]]:
    """Units of one kind with their indicators and attributes; also the indicator names not computable.
    ``ahead``: query results already fetched for a list of periods containing ``period`` (see
    :func:`_prefetch`); without it the period's queries run here."""
    store_kind, names, known, unknown = _indicator_names(scheme, kind)
    if store_kind in ind.UNIT_KINDS:
        rows = repo.unit_rows(store.conn, store_kind)
    else:  # units known only from manual entries (service windows, staff)
        codes = repo.manual_unit_codes(store.conn, scheme.id, [p.key for p in _entry_periods(period)])
        rows = [{"code": c, "name": c} for c in codes]
    values: dict[str, dict[str, Indicator]] = {}
    if known and store_kind in ind.UNIT_KINDS:
        values = _indicators(store, store_kind, period, [str(r["code"]) for r in rows], known, scheme, ahead)
    extra = repo.unit_attributes(store.conn, kind, scheme.id)
    units: list[UnitInput] = []
    for r in rows:
        code = str(r["code"])
        got = dict(values.get(code, {}))
        for n in names:
            got.setdefault(n, Indicator(n, None, None, None, ()))
        attrs = _attributes(r)
        for name, text in extra.get(code, {}).items():
            if text is None:
                attrs.pop(name, None)
            else:
                attrs[name] = attribute_value(text)
        units.append(UnitInput(code, str(r.get("name") or code), kind, got, attrs))
    return units, unknown


_TRUE = {"true", "yes", "是", "y"}
_FALSE = {"false", "no", "否", "n"}


def attribute_value(text: str) -> object:
    """An entered attribute as the rules read it: yes/no words become booleans (``no_reward``), anything else
    stays text (``group = "1"`` compares text; a numeric rule reads ``difficulty = "1.2"`` as 1.2)."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return text.strip()


def _entry_periods(period: Period) -> list[Period]:
    return [period, *(m for m in period.months() if m.key != period.key)]


def manual_entries(store: Store, scheme_id: str, period: Period) -> list[ManualEntry]:
    rows = repo.score_entries(store.conn, scheme_id, [period.key])
    return [ManualEntry(r.unit_code, r.item, r.points, r.reason or "", r.evidence or "", r.entered_by) for r in rows]


def latest_full_month(store: Store) -> Period | None:
    """The last calendar month that ended before the latest recorded event (the month a bulletin covers);
    ``None`` for a store without events."""
    from app.evaluation.periods import parse_period as _parse

    last = repo.last_event_at(store.conn)
    if last is None:
        return None
    return _parse(last[:7]).previous_months(2)[0]


def _months_with_data(store: Store, scheme: Scheme, period: Period) -> list[Period]:
    """The months of ``period`` a roll-up reads: those that started before the latest event, and those with
    manual entries of the scheme (a window or staff scheme has no case events at all)."""
    last = repo.last_event_at(store.conn)
    entered = set(repo.entry_periods(store.conn, scheme.id))
    months = period.months()
    have = [m for m in months if (last is not None and m.start_at <= last) or m.key in entered]
    return have or months[:1]


# How far back a chain of earlier periods is computed (负分结转 carries a negative total month to month).
MAX_CHAIN = 24


def _needs_earlier(scheme: Scheme) -> bool:
    return (scheme.year_bonus_cap is not None or scheme.carry_negative
            or any(rn.consecutive > 1 for rn in scheme.rank_notes))


def _chain_start(store: Store, scheme: Scheme, first: Period) -> Period:
    """The first base period whose result the scores from ``first`` on depend on.

    ``year_bonus_cap`` reads the earlier periods of the same year; ``consecutive`` rank notes the periods
    just before; ``carry_negative`` the whole chain back to the first period with data (events or entries),
    at most :data:`MAX_CHAIN` periods."""
    start = first
    if scheme.year_bonus_cap is not None:
        while shift(start, -1).start.year == first.start.year:
            start = shift(start, -1)
    need = max((rn.consecutive for rn in scheme.rank_notes), default=1) - 1
    for _ in range(need):
        start = shift(start, -1)
    if scheme.carry_negative:
        oldest = [x for x in (repo.first_event_at(store.conn), *(
            parse_period(k).start_at for k in repo.entry_periods(store.conn, scheme.id) if _is_base(scheme, k)))
            if x]
        floor = min(oldest) if oldest else first.start_at
        back = first
        for _ in range(MAX_CHAIN):
            prev = shift(back, -1)
            if prev.end_at <= floor:
                break
            back = prev
        start = min(start, back, key=lambda q: q.start)
    return start


def _is_base(scheme: Scheme, key: str) -> bool:
    try:
        return parse_period(key).kind == scheme.period
    except ValueError:
        return False


def _plan_periods(store: Store, scheme: Scheme, periods: Sequence[Period]) -> list[tuple[Period, bool]]:
    """The base periods to score, in order, each with whether the caller asked for it.

    When the scheme needs earlier results (yearly bonus cap, negative carry-over, N periods running) the
    chain starts earlier; a period without any data (no events, no entries) is skipped: it was never
    evaluated, so it breaks a run and caps nothing."""
    if not _needs_earlier(scheme) or periods[0].kind not in ("month", "quarter", "year"):
        return [(p, True) for p in periods]
    p = _chain_start(store, scheme, periods[0])
    wanted = {q.key for q in periods}
    first, last = repo.first_event_at(store.conn), repo.last_event_at(store.conn)
    entered = set(repo.entry_periods(store.conn, scheme.id))
    plan: list[tuple[Period, bool]] = []
    while p.start <= periods[-1].start:
        has_events = first is not None and last is not None and first < p.end_at and p.start_at <= last
        if p.key in wanted or has_events or p.key in entered:
            plan.append((p, p.key in wanted))
        p = shift(p, 1)
    return plan


# Worker threads for the indicator queries of an evaluation (every month of a roll-up, every count family
# of a month): each reads through its own read-only connection, and SQLite runs a query without holding
# the GIL, so the queries use every core (2 here).
PREFETCH_WORKERS = max(1, min(4, os.cpu_count() or 1))

UnitsOfPeriod = tuple[list[UnitInput], list[str]]


def _units_of(store: Store, scheme: Scheme, kinds: Sequence[str], period: Period,
              ahead: Ahead | None = None) -> UnitsOfPeriod:
    units: list[UnitInput] = []
    unknown: list[str] = []
    for kind in kinds:
        got, missing = build_units(store, scheme, kind, period, ahead)
        units.extend(got)
        unknown.extend(n for n in missing if n not in unknown)
    return units, unknown


def _jobs(scheme: Scheme, kinds: Sequence[str],
          periods: Sequence[Period]) -> tuple[list[batch.Job], list[set[batch.Key]]]:
    """Every query the indicators of ``kinds`` over ``periods`` need, each once, and per period the ids of
    the ones it reads. Queries for several periods come first, then period by period, heaviest first, so
    that the first periods are complete early and their units are built while later ones are queried."""
    jobs: dict[batch.Key, batch.Job] = {}
    needs: list[set[batch.Key]] = [set() for _ in periods]
    for kind in kinds:
        store_kind, _names, known, _unknown = _indicator_names(scheme, kind)
        if known and store_kind in ind.UNIT_KINDS:
            plan = batch.plan(store_kind, periods, known, scheme.indicator_definitions)
            for job in plan.jobs:
                jobs.setdefault(job.id, job)
            for i, ids in enumerate(plan.needs):
                needs[i] |= ids
    first = {jid: min((i for i, ids in enumerate(needs) if jid in ids), default=0) for jid in jobs}
    shared = {jid for jid in jobs if sum(jid in ids for ids in needs) > 1}
    order = sorted(jobs.values(), key=lambda j: (j.id not in shared, first[j.id], -j.weight))
    return order, needs


def _prefetch(store: Store, scheme: Scheme, kinds: Sequence[str], periods: Sequence[Period],
              progress: Progress, workers: int) -> Generator[UnitsOfPeriod, None, None]:
    """Units with indicators of every period, in period order: the queries (``batch`` jobs) run first, in
    parallel when the store is a file and not mid-write, and each period's units are built from their
    results as soon as that period's queries are done.

    Each worker opens the store read-only once and keeps it for its share of the work; the units are built
    on one more thread with its own connection, so that this Python work overlaps the queries still running,
    and the caller scores each period as it arrives. A query only reads events before its period's end and
    never writes, so the order the queries run in does not change any of them; scoring stays sequential (a
    period may need the results of the ones before it)."""
    n = len(periods)
    jobs, needs = _jobs(scheme, kinds, periods)
    serial = (workers <= 1 or store.path is None or store.conn.in_transaction or len(jobs) + n <= 2)
    results: dict[batch.Key, Any] = {}
    if serial:
        for i, job in enumerate(jobs):
            progress.check()
            progress.report(0.9 * i / max(1, len(jobs)), "计算考核指标")
            results.update(batch.run_job(job, store))
        for i, p in enumerate(periods):
            progress.check()
            progress.report(0.9 + 0.1 * i / n, f"计算 {p.label}")
            yield _units_of(store, scheme, kinds, p, (list(periods), results))
        return
    local = threading.local()
    opened: list[Store] = []
    guard = threading.Lock()
    path = store.path
    assert path is not None

    def own_store() -> Store:
        own = getattr(local, "store", None)
        if own is None:
            own = Store(connect(path, readonly=True, check_same_thread=False), path)
            local.store = own
            with guard:
                opened.append(own)
        return own

    def run_job(job: batch.Job) -> dict[batch.Key, Any]:
        progress.check()
        return batch.run_job(job, own_store())

    def units_of(p: Period, got: dict[batch.Key, Any]) -> UnitsOfPeriod:
        progress.check()
        return _units_of(own_store(), scheme, kinds, p, (list(periods), got))

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evaluate")
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluate-units")
    try:
        waiting = [set(ids) for ids in needs]
        built: dict[int, Future[UnitsOfPeriod]] = {}

        def ready() -> None:
            for i in range(n):
                if i not in built and not waiting[i]:
                    built[i] = builder.submit(units_of, periods[i], dict(results))

        ready()
        futures = {pool.submit(run_job, job): job.id for job in jobs}
        nxt = 0
        for done, fut in enumerate(as_completed(futures), 1):
            results.update(fut.result())
            for ids in waiting:
                ids.discard(futures[fut])
            ready()
            progress.report(0.9 * done / max(1, len(futures)), "计算考核指标")
            progress.check()
            while nxt in built and built[nxt].done():
                yield built[nxt].result()
                nxt += 1
        ready()
        while nxt < n:
            progress.report(0.9 + 0.1 * nxt / n, f"计算 {periods[nxt].label}")
            yield built[nxt].result()
            nxt += 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        builder.shutdown(wait=True, cancel_futures=True)
        for s in opened:
            s.close()


# The scheme revision and unit kinds that score a base period (see ``scheme.scheme_revisions``).
Revision = Callable[[Period], tuple[Scheme, list[str]]]


def _revisions(scheme_id: str, unit_kind: str | None) -> Revision:
    def at(p: Period) -> tuple[Scheme, list[str]]:
        rev = load_scheme(scheme_id, p)
        return rev, _kinds(rev, unit_kind)
    return at


def _score_periods(store: Store, scheme: Scheme, kinds: Sequence[str], periods: Sequence[Period],
                   uncomputed: list[str], progress: Progress | None = None,
                   workers: int = 1, revision: Revision | None = None,
                   given: dict[str, EvaluationResult] | None = None) -> list[EvaluationResult]:
    """Score base periods in order; when the scheme needs them (yearly bonus cap, negative carry-over,
    N periods running) each is scored with the results of the periods before it, computed the same way.

    ``revision`` gives the rules of each period when the scheme has several revisions (a month is scored by
    the rules in force that month); without it every period is scored by ``scheme`` over ``kinds``. The
    periods under one revision are fetched as one batch. A period in ``given`` (a published month) is not
    scored: its result is taken as it is, also as an earlier period of the ones after it."""
    given = given or {}
    if not periods:
        return []
    progress = progress or Progress()
    plan: list[tuple[Period, bool]] = []
    rules: list[tuple[Scheme, list[str]]] = []
    for p, wanted in _plan_periods(store, scheme, periods):
        try:
            rules.append(revision(p) if revision is not None else (scheme, list(kinds)))
        except (SchemeError, EvaluationError):
            if wanted:
                raise
            # an earlier period of the chain from before the scheme's first revision (or before it scored
            # this kind of unit) was never scored under it: it caps and carries nothing
            continue
        plan.append((p, wanted))
    earlier: list[EvaluationResult] = []
    out: list[EvaluationResult] = []
    i = 0
    while i < len(plan):
        j = i + 1
        while j < len(plan) and rules[j][0] is rules[i][0]:
            j += 1
        rev, rev_kinds = rules[i]
        part = progress.sub(i / len(plan), j / len(plan)) if (i, j) != (0, len(plan)) else progress
        todo = [p for p, _ in plan[i:j] if p.key not in given]
        fetched = _prefetch(store, rev, rev_kinds, todo, part, workers) if todo else _nothing()
        with closing(fetched):
            for p, wanted in plan[i:j]:
                if p.key in given:
                    res = given[p.key]
                else:
                    units, unknown = next(fetched)
                    uncomputed.extend(n for n in unknown if n not in uncomputed)
                    res = score(rev, p.key, units, manual_entries(store, rev.id, p), earlier=earlier)
                earlier.append(res)
                if wanted:
                    out.append(res)
        i = j
    return out


def _nothing() -> Generator[UnitsOfPeriod, None, None]:
    yield from ()


def published_runs(store: Store, scheme_id: str, scheme: Scheme, months: Sequence[Period],
                   unit_kind: str | None) -> dict[str, repo.EvaluationRunRow]:
    """The latest published run of each month, for the same scheme and unit kind, whose rules are still the
    revision in force for that month (a revision reaching back over a month makes it be scored again)."""
    out: dict[str, repo.EvaluationRunRow] = {}
    for m in months:
        row = repo.latest_run(store.conn, scheme.id, m.key, unit_kind)
        if row is None:
            continue
        try:
            rev = load_scheme(scheme_id, m)
        except SchemeError:
            continue
        if rev.version == row.scheme_version and row.results.get("period") == m.key:
            out[m.key] = row
    return out


def published_months(store: Store, scheme_id: str, scheme: Scheme, months: Sequence[Period],
                     unit_kind: str | None) -> dict[str, tuple[EvaluationResult, repo.EvaluationRunRow]]:
    """:func:`published_runs` with each run's result read back."""
    return {k: (EvaluationResult.from_dict(row.results), row)
            for k, row in published_runs(store, scheme_id, scheme, months, unit_kind).items()}


def evaluate_full(store: Store, scheme_id: str, period: str | Period, unit_kind: str | None = None,
                  progress: Progress | None = None, workers: int | None = None,
                  recompute: bool = False) -> Evaluation:
    """Evaluate and keep the side information (period, scheme, indicators that could not be computed).

    A quarter or year is rolled up from its months, and a month that has been **published** (for the same
    scheme and unit kind, under the rules still in force for it) enters as published: the annual score is
    built from the monthly bulletins the districts were given, not from a recomputation of them (``verify``
    says when a published month's inputs have changed since). ``recompute`` scores every month afresh.

    ``workers`` threads compute the months of a roll-up (default :data:`PREFETCH_WORKERS`; 1 = in order on
    this connection, which :func:`publish` uses so that every month reads the same snapshot as the inputs
    hash)."""
    workers = PREFETCH_WORKERS if workers is None else workers
    p = parse_period(period) if isinstance(period, str) else period
    scheme = load_scheme(scheme_id, p)  # the revision in force at the period's end
    kinds = _kinds(scheme, unit_kind)
    revision = _revisions(scheme_id, unit_kind)
    progress = progress or Progress()
    uncomputed: list[str] = []
    rollup = scheme.rollup(p.kind)
    if p.kind in (scheme.period, "custom") or rollup is None:
        result = _score_periods(store, scheme, kinds, [p], uncomputed, progress, workers, revision)[0]
        progress.report(1.0, "完成")
        return Evaluation(result, p, scheme, uncomputed)
    base_kind = rollup.source_period
    if base_kind != "month":
        raise SchemeError(f"暂不支持的汇总来源周期 scheme={scheme.id} source_period='{base_kind}' (only month)")
    months = _months_with_data(store, scheme, p)
    progress.check()
    progress.report(0.0, f"计算 {months[0].label}")
    used = {} if recompute else published_months(store, scheme_id, scheme, months, unit_kind)
    monthly = _score_periods(store, scheme, kinds, months, uncomputed, progress.sub(0.0, 0.95), workers, revision,
                             given={k: res for k, (res, _row) in used.items()})
    result = roll_up(scheme, p.key, monthly, manual_entries(store, scheme.id, p))
    progress.report(1.0, "完成")
    return Evaluation(result, p, scheme, uncomputed, [(k, row.id) for k, (_res, row) in sorted(used.items())])


def evaluate(store: Store, scheme_id: str, period: str | Period, unit_kind: str | None = None) -> EvaluationResult:
    """Score every unit of the scheme's kinds (or of ``unit_kind``) for ``period``.

    A period of the scheme's base kind (usually a month) or a custom range is scored directly; a quarter or
    year the scheme rolls up to is scored month by month and rolled up as the scheme says; a longer period
    the scheme has no roll-up for is scored directly over the whole range.
    """
    return evaluate_full(store, scheme_id, period, unit_kind).result


def _shared_groups(store: Store, scheme: Scheme, periods: Sequence[Period]) -> list[list[Period]]:
    """Base periods (ascending, distinct) split into groups that can be scored in one ``_score_periods``
    call each with exactly the results of scoring every period on its own.

    Scoring alone, a period reads the results of its own chain of earlier periods (``_plan_periods``); in a
    shared call it reads every planned period before it. A scheme that reads no earlier results ignores
    them, so all periods form one group. Otherwise a period joins the current group only when the shared
    plan up to it is exactly its own chain (the same periods, none more: a chain starts afresh each year
    for a yearly bonus cap, and a wanted period without data is not in anybody else's chain)."""
    if not _needs_earlier(scheme):
        return [list(periods)] if periods else []
    groups: list[list[Period]] = []
    for p in periods:
        own = [q.key for q, _ in _plan_periods(store, scheme, [p])]
        if groups and [q.key for q, _ in _plan_periods(store, scheme, [*groups[-1], p])] == own:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def evaluate_many(store: Store, scheme_id: str, periods: Sequence[str | Period], unit_kind: str | None = None,
                  progress: Progress | None = None, workers: int | None = None) -> list[Evaluation]:
    """``[evaluate_full(store, scheme_id, p, unit_kind) for p in periods]``, with the same results, but the
    periods of the scheme's base kind (months) are scored together: their queries run as one batch on the
    worker threads, the multi-period counts (超期未结, 应处置) read the store once for all of them, and a
    chain of earlier periods (yearly bonus cap, carry-over) is computed once instead of once per period.
    A bulletin's six-month trend is the user: it re-evaluated each month on its own.

    Other periods (quarters, years, custom ranges) are evaluated one by one."""
    workers = PREFETCH_WORKERS if workers is None else workers
    ps = [parse_period(p) if isinstance(p, str) else p for p in periods]
    revision = _revisions(scheme_id, unit_kind)
    progress = progress or Progress()
    # periods of their revision's base kind, grouped by revision (its chain rules differ)
    by_rule: dict[int, tuple[Scheme, list[str], dict[str, Period]]] = {}
    for p in ps:
        rev, kinds = revision(p)
        if p.kind == rev.period:
            by_rule.setdefault(id(rev), (rev, kinds, {}))[2][p.key] = p
    groups = [(rev, kinds, g) for rev, kinds, base in by_rule.values()
              for g in _shared_groups(store, rev, sorted(base.values(), key=lambda q: q.start))]
    done: dict[str, Evaluation] = {}
    steps = len(groups) + sum(1 for p in ps if p.key not in {q.key for _, _, g in groups for q in g})
    step = 0
    for rev, kinds, group in groups:
        uncomputed: list[str] = []
        results = _score_periods(store, rev, kinds, group, uncomputed,
                                 progress.sub(step / steps, (step + 1) / steps), workers, revision)
        step += 1
        for p, res in zip(group, results):
            done[p.key] = Evaluation(res, p, rev, list(uncomputed))
    out: list[Evaluation] = []
    for p in ps:
        if p.key not in done or done[p.key].period.kind != p.kind:
            progress.check()
            done[p.key] = evaluate_full(store, scheme_id, p, unit_kind,
                                        progress.sub(step / steps, (step + 1) / steps), workers)
            step += 1
        out.append(done[p.key])
    progress.report(1.0, "完成")
    return out


# -- publishing -------------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def inputs_hash(store: Store, scheme: Scheme, scheme_id: str, period: Period, unit_kind: str | None) -> str:
    """SHA-256 of what a result depends on (see the module docstring)."""
    n, last, chain = repo.event_horizon(store.conn, period.end_at)
    keys = [p.key for p in _entry_periods(period)]
    entries = [
        [r.period, r.unit_code, r.item, r.points, r.reason, r.evidence, r.entered_by, r.entered_at]
        for r in repo.score_entries(store.conn, scheme.id, keys)
    ]
    attrs = [list(r[1:6]) for r in repo.unit_attribute_rows(store.conn, unit_kind, scheme.id)]
    doc: dict[str, Any] = {
        "events": [n, last, chain], "entries": entries, "attributes": attrs, "scheme": scheme.id,
        "version": scheme.version,
        "scheme_sha256": _sha256_file(scheme_file(scheme, scheme_id)), "period": period.key, "unit_kind": unit_kind,
    }
    if scheme.rollup(period.kind) is not None and period.kind not in (scheme.period, "custom"):
        # a roll-up reads its published months as they were published: which runs is an input too
        runs = published_runs(store, scheme_id, scheme, _months_with_data(store, scheme, period), unit_kind)
        if runs:
            doc["published_months"] = [[k, row.id, row.inputs_hash] for k, row in sorted(runs.items())]
    return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def canonical(result: EvaluationResult) -> dict[str, Any]:
    """The result as stored: plain JSON data (tuples become lists), so a re-run compares equal."""
    data: dict[str, Any] = json.loads(result.to_json())
    return data


def publish(store: Store, scheme_id: str, period: str | Period, unit_kind: str | None = None,
            by: str | None = None, at: str | None = None) -> int:
    """Evaluate and freeze the result in ``evaluation_run`` (one transaction); returns the run id."""
    ev = evaluate_full(store, scheme_id, period, unit_kind, workers=1)
    h = inputs_hash(store, ev.scheme, scheme_id, ev.period, unit_kind)
    with store.atomic() as conn:
        return repo.insert_run(
            conn, scheme=ev.scheme.id, scheme_version=ev.scheme.version, period=ev.period.key, unit_kind=unit_kind,
            inputs_hash=h, results=canonical(ev.result), published_by=by, published_at=at or timefmt.fmt(timefmt.now()),
        )


def published(store: Store, scheme_id: str, period: str, unit_kind: str | None = None) -> repo.EvaluationRunRow | None:
    return repo.latest_run(store.conn, scheme_id, parse_period(period).key, unit_kind)


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return path or "/"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}/{k}"
            d = _first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}[len]"
        for i, (x, y) in enumerate(zip(a, b)):
            d = _first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b else (path or "/")


def verify_run(store: Store, run: repo.EvaluationRunRow) -> str | None:
    """``None`` if the run is reproduced exactly, else what differs (Chinese + English)."""
    try:
        period = parse_period(run.period)
        scheme = load_scheme(run.scheme, period)  # the revision in force for the run's period
    except SchemeError as exc:
        return f"方案无法加载 scheme='{run.scheme}': {exc}"
    if scheme.version != run.scheme_version:
        return f"方案版本已变 scheme version {run.scheme_version} → {scheme.version}"
    h = inputs_hash(store, scheme, run.scheme, period, run.unit_kind)
    if h != run.inputs_hash:
        return ("输入数据已变化 inputs changed since publication (events before the period end, manual entries, "
                "unit attributes, the scheme file, or a month a roll-up read was published again)")
    fresh = canonical(evaluate(store, run.scheme, period, run.unit_kind))
    if fresh != run.results:
        where = _first_difference(run.results, fresh)
        return f"重算结果与发布结果不一致 result differs from the published one at {where}"
    return None


def verify_published(store: Store, runs: Iterable[repo.EvaluationRunRow] | None = None) -> list[VerifyIssue]:
    """Re-check every published evaluation (used by ``python main.py verify``); empty list = all good."""
    issues: list[VerifyIssue] = []
    for run in runs if runs is not None else repo.runs(store.conn):
        problem = verify_run(store, run)
        if problem:
            issues.append(VerifyIssue(run.id, run.scheme, run.period, run.unit_kind, problem))
    return issues


# -- manual entries -----------------------------------------------------------------------------------------
def enter_score(store: Store, scheme_id: str, period: str, unit_code: str, item: str, points: float,
                reason: str, evidence: str, by: str, at: str | None = None) -> int:
    """Record a manual item (台账, 现场考评 …) after checking it against the scheme; one transaction."""
    p = parse_period(period)
    scheme = load_scheme(scheme_id, p)  # the items of the rules in force for that period
    manual = {it.id: it for it in scheme.manual_items}
    if item not in manual:
        known = ", ".join(f"{i}({it.name})" for i, it in manual.items()) or "(无人工项 none)"
        raise EvaluationError(f"不是该方案的人工考评项 --item='{item}' (scheme {scheme.id} manual items: {known})")
    it = manual[item]
    expected = scheme.period
    for r in scheme.rollups:
        if any(x.id == item for x in r.items):
            expected = r.period
    if p.kind != expected:
        raise EvaluationError(
            f"考核周期类型不符 --period='{period}' (item {item} is entered per {expected}, got a {p.kind})")
    if not reason.strip():
        raise EvaluationError(f"必须填写理由 --reason='{reason}' (a manual score needs a reason)")
    if not by.strip():
        raise EvaluationError(f"必须填写录入人 --by='{by}' (who entered the score)")
    limit = it.basis or it.full  # an item entered on its own scale (管理评价 0–100 × 0.1) has a basis
    if limit and abs(points) > limit + 1e-9 and not it.uncapped:
        raise EvaluationError(
            f"分值超出该项满分 --points={points:g} (item {item} {it.name} is entered on 0–{limit:g})")
    kinds = [KIND_ALIASES.get(k, k) for k in scheme.unit_kinds]
    if all(k in ind.UNIT_KINDS for k in kinds):
        codes = {str(r["code"]) for k in kinds for r in repo.unit_rows(store.conn, k)}
        if unit_code not in codes:
            raise EvaluationError(f"考核对象不存在 --unit='{unit_code}' (no {'/'.join(kinds)} with this code)")
    with store.atomic() as conn:
        return repo.insert_score_entry(
            conn, scheme=scheme.id, period=p.key, unit_code=unit_code, item=item, points=points, reason=reason,
            evidence=evidence, entered_by=by, entered_at=at or timefmt.fmt(timefmt.now()),
        )


# -- unit attributes ----------------------------------------------------------------------------------------
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def set_unit_attribute(store: Store, unit_kind: str, unit_code: str, name: str, value: str | None, by: str,
                       scheme_id: str | None = None, at: str | None = None) -> int:
    """Set (or with ``value=None`` clear) an attribute of a unit for every scheme or for one; one transaction.

    Schemes read ``group`` (排名分组), ``difficulty`` (难度系数), ``no_reward``/``no_fine`` (不参加奖惩),
    ``road_count``, ``area_class``; an entered value wins over the one derived from base data."""
    if not ATTRIBUTE_NAME.match(name):
        raise EvaluationError(f"属性名错误 --name='{name}' (letters, digits and _, e.g. group, difficulty, no_reward)")
    if not by.strip():
        raise EvaluationError(f"必须填写录入人 --by='{by}' (who set the attribute)")
    scheme_key: str | None = None
    if scheme_id:
        scheme = load_scheme(scheme_id)
        scheme_key = scheme.id
        store_kind = KIND_ALIASES.get(unit_kind, unit_kind)
        if unit_kind not in scheme.unit_kinds and store_kind not in scheme.unit_kinds:
            raise EvaluationError(
                f"考核对象类型不在方案内 --kind='{unit_kind}' (scheme {scheme.id} scores {', '.join(scheme.unit_kinds)})")
    store_kind = KIND_ALIASES.get(unit_kind, unit_kind)
    if store_kind in ind.UNIT_KINDS:
        codes = {str(r["code"]) for r in repo.unit_rows(store.conn, store_kind)}
        if unit_code not in codes:
            raise EvaluationError(f"考核对象不存在 --unit='{unit_code}' (no {unit_kind} with this code)")
    elif not scheme_id:
        raise EvaluationError(
            f"考核对象类型错误 --kind='{unit_kind}' (one of {', '.join(ind.UNIT_KINDS)}, or a scheme's own kind with --scheme)")
    with store.atomic() as conn:
        return repo.insert_unit_attribute(
            conn, unit_kind=unit_kind, unit_code=unit_code, name=name, value=value, scheme=scheme_key,
            entered_by=by, entered_at=at or timefmt.fmt(timefmt.now()),
        )
