"""Indicators (考核指标) from the case record, for any period and any unit kind, with the cases behind them.

Each count is one SQL aggregate in :mod:`db.evaluation_repo` that computes every unit of a kind at once,
so a monthly evaluation of all districts costs a few indexed range scans, not one query per unit. Rates
are built from counts; a zero denominator gives ``value=None`` ("not applicable", 不适用), never 0 or 100%,
because a district with no due cases has neither failed nor excelled. The definitions are written out in
``docs/formulas.md``; a test checks that every name here is documented there.

Only indicators a scheme needs are computed (``names``), with their dependencies, so a scheme that scores
two rates does not pay for twenty queries. A name may carry a case filter suffix (``closure_rate@hotline``,
``on_time_closure_rate@key_area``) that restricts every count behind it to those cases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import filterfalse
from typing import Any

from app.evaluation.model import Indicator
from app.evaluation.periods import Period
from db import evaluation_repo as repo
from db.store import Store

UNIT_KINDS = repo.UNIT_KINDS
AREA_KINDS = tuple(repo.AREA_COLUMNS)
POSTS = repo.POSTS
FILTERS = repo.CASE_FILTERS

Counts = dict[str, list[str]]  # unit code -> case numbers behind the count


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a count function needs: the store, the unit kind, the period, a case filter, scheme options."""

    store: Store
    kind: str
    period: Period
    flt: str = ""
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # counts computed together with another one (one scan gives 结案数 and 按期结案数), by name and filter
    memo: dict[tuple[str, str], Counts] = field(default_factory=dict)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    @property
    def s(self) -> str:
        return self.period.start_at

    @property
    def e(self) -> str:
        return self.period.end_at


CountFn = Callable[[Ctx], Counts]


@dataclass(frozen=True, slots=True)
class Definition:
    """One indicator: its Chinese label and how it is computed.

    Exactly one of: ``count`` (a SQL count with case lists), ``numerator``/``denominator`` (a rate of two
    other indicators), ``union`` (the sum of other counts), ``per_day`` (a count divided by the days of
    the period), ``share_of`` (the unit's count over all units' count).
    """

    name: str
    label: str
    count: CountFn | None = None
    numerator: str | None = None
    denominator: str | None = None
    complement: bool = False  # rate = 1 - numerator/denominator (准确率 from an error count)
    good: bool = False  # a higher rate is better: the cases behind it are the shortfall (denominator − numerator)
    union: tuple[str, ...] = ()
    per_day: str | None = None
    share_of: str | None = None

    def needs(self) -> tuple[str, ...]:
        if self.numerator is not None:
            return (self.numerator, str(self.denominator))
        if self.per_day:
            return (self.per_day,)
        if self.share_of:
            return (self.share_of,)
        return self.union


# -- count functions -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventCount:
    """A count of ``action`` events (:func:`db.evaluation_repo.events_by_unit`). A value rather than a
    closure so that the batch engine (:mod:`app.evaluation.batch`) can run the same query itself and keep
    its unsplit text."""

    action: str
    where: str = ""
    distinct: bool = False
    charge_dispatcher: bool = False
    by_reporter: bool = False

    def __call__(self, c: Ctx) -> Counts:
        return repo.events_by_unit(c.conn, c.kind, self.action, c.s, c.e, where=self.where, distinct=self.distinct,
                                   charge_dispatcher=self.charge_dispatcher, flt=c.flt, by_reporter=self.by_reporter)


def _events(action: str, where: str = "", distinct: bool = False, charge_dispatcher: bool = False,
            by_reporter: bool = False) -> CountFn:
    return EventCount(action, where, distinct, charge_dispatcher, by_reporter)


def _family(c: Ctx, name: str, names: tuple[str, ...], fn: Callable[[], tuple[Counts, ...]]) -> Counts:
    """``name`` from a query that computes all of ``names`` in one scan; the others are kept in the memo."""
    key = (name, c.flt)
    if key not in c.memo:
        for n, got in zip(names, fn()):
            c.memo[(n, c.flt)] = got
    return c.memo[key]


_REPORTS = ("reported", "valid_reports", "public_reports")


def _reports(c: Ctx, name: str) -> Counts:
    return _family(c, name, _REPORTS, lambda: repo.reports_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt))


def _reported(c: Ctx) -> Counts:
    return _reports(c, "reported")


def _valid_reports(c: Ctx) -> Counts:
    return _reports(c, "valid_reports")


def _public_reports(c: Ctx) -> Counts:
    return _reports(c, "public_reports")


def _registered(c: Ctx) -> Counts:
    return repo.registered_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


_CLOSED = ("closed", "closed_on_time")


def _closed_pair(c: Ctx, name: str) -> Counts:
    return _family(c, name, _CLOSED, lambda: repo.closed_pair_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt))


def _closed(c: Ctx) -> Counts:
    return _closed_pair(c, "closed")


def _closed_on_time(c: Ctx) -> Counts:
    return _closed_pair(c, "closed_on_time")


def _overdue_open(c: Ctx) -> Counts:
    key = ("overdue_open", c.flt)
    if key not in c.memo:
        c.memo[key] = repo.overdue_open_by_unit(c.conn, c.kind, c.e, flt=c.flt)
    return c.memo[key]


def _due_to_handle(c: Ctx) -> Counts:
    return repo.due_to_handle_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _handled_on_time(c: Ctx) -> Counts:
    return repo.handled_on_time_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _redispatched(c: Ctx) -> Counts:
    return repo.redispatched_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _dispatched(c: Ctx) -> Counts:
    return repo.dispatched_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _dispatched_on_time(c: Ctx) -> Counts:
    return repo.dispatched_by_unit(c.conn, c.kind, c.s, c.e, where=repo.ON_TIME_COND, flt=c.flt)


def _received(c: Ctx) -> Counts:
    return repo.dispatched_by_unit(c.conn, c.kind, c.s, c.e, distinct=True, flt=c.flt)


def _callbacks(c: Ctx) -> Counts:
    return repo.callbacks_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _satisfied(c: Ctx) -> Counts:
    return repo.callbacks_by_unit(c.conn, c.kind, c.s, c.e, satisfied=True, flt=c.flt)


def _missed(c: Ctx) -> Counts:
    return repo.missed_by_unit(c.conn, c.kind, c.s, c.e, flt=c.flt)


def _repeat_cases(c: Ctx) -> Counts:
    """重复案件 through the repeat-case rule of :mod:`app.duplicates`, with the scheme's own parameters
    (``[indicator_definitions.repeat_cases]``: ``thresholds``, ``key_area_threshold``, ``exclude_kinds``,
    ``exclude_class_names``) when it gives them."""
    from app.duplicates import RepeatRule, repeat_groups

    opts = dict(c.options.get("repeat_cases", {}))
    kw: dict[str, Any] = {}
    if "thresholds" in opts:
        kw["thresholds"] = dict(opts["thresholds"])
    if "key_area_threshold" in opts:
        kw["key_area_threshold"] = int(opts["key_area_threshold"])
    if "exclude_kinds" in opts:
        kw["exclude_kinds"] = frozenset(opts["exclude_kinds"])
    if "exclude_class_names" in opts:
        kw["exclude_class_names"] = tuple(opts["exclude_class_names"])
    groups = repeat_groups(c.store, c.s, c.e, RepeatRule(**kw))
    nos = [no for g in groups for no in g.case_nos]
    units = repo.case_units(c.conn, c.kind, nos, c.flt, end=c.e)
    out: Counts = {}
    for no in nos:
        if no in units:
            out.setdefault(units[no], []).append(no)
    return out


def _escalated_overdue(c: Ctx) -> Counts:
    """督办件未按时办结: cases escalated before the end of P that were overdue in P (closed late in P, or
    open past their deadline at the end)."""
    esc = repo.events_by_unit(c.conn, c.kind, "escalate", "0000", c.e, distinct=True, flt=c.flt)
    late_closed = repo.events_by_unit(
        c.conn, c.kind, "close", c.s, c.e, distinct=True, flt=c.flt,
        where="AND s.handle_deadline IS NOT NULL AND s.self_handled = 0 "
              "AND (s.handled_at IS NULL OR s.handled_at > s.handle_deadline)",
    )
    overdue = _overdue_open(c)
    out: Counts = {}
    for unit, cases in esc.items():
        bad = set(late_closed.get(unit, ())) | set(overdue.get(unit, ()))
        hit = sorted(set(cases) & bad)
        if hit:
            out[unit] = hit
    return out


LONG_TERM_DAYS = 30  # default of [indicator_definitions.long_term_cases] days


def _long_term_at(c: Ctx, end: date) -> Counts:
    days = int(c.options.get("long_term_cases", {}).get("days", LONG_TERM_DAYS))
    e = f"{end.isoformat()}T00:00:00+08:00"
    cut = f"{(end - timedelta(days=days)).isoformat()}T00:00:00+08:00"
    return repo.open_since_by_unit(c.conn, c.kind, e, cut, flt=c.flt)


def _long_term_cases(c: Ctx) -> Counts:
    """长效治理案件: cases of U still open at the end of P that were registered more than N days (default 30)
    before it."""
    return _long_term_at(c, c.period.end)


def _long_term_cases_prev(c: Ctx) -> Counts:
    """The same count at the end of the period just before P (for 环比)."""
    return _long_term_at(c, c.period.start)


# The stage-ending actions of each post (what 郑州 4.2 岗位 按时程度 times): the deadline of each is the
# ``_stage_deadline`` the engine recorded when the stage began.
POST_ACTIONS = {
    "inspector": ("verify", "check"),
    "intake": ("accept", "send_verify", "send_check"),
    "shift_lead": ("register", "close"),
    "dispatcher": ("dispatch",),
}


def _post_actions(on_time: bool) -> CountFn:
    def fn(c: Ctx) -> Counts:
        actions = POST_ACTIONS.get(c.kind) or tuple(dict.fromkeys(a for v in POST_ACTIONS.values() for a in v))
        out: Counts = {}
        for action in actions:
            got = repo.events_by_unit(c.conn, c.kind, action, c.s, c.e, where=_ON_TIME if on_time else "",
                                      flt=c.flt)
            for unit, cases in got.items():
                out.setdefault(unit, []).extend(cases)
        return {u: sorted(v) for u, v in out.items()}
    return fn


_FAILED = "AND json_extract(e.payload, '$.passed') = 0"
_PASSED = "AND json_extract(e.payload, '$.passed') = 1"
_APPROVED = "AND json_extract(e.payload, '$.approved') = 1"
_REPEAT_ESCALATION = ("AND EXISTS (SELECT 1 FROM case_event p WHERE p.case_no = e.case_no "
                      "AND p.action = 'escalate' AND p.seq < e.seq)")
_ON_TIME = repo.ON_TIME_COND

DEFINITIONS: dict[str, Definition] = {d.name: d for d in (
    Definition("reported", "上报数", _reported),
    Definition("valid_reports", "有效上报数", _valid_reports),
    Definition("registration_rate", "立案率", numerator="valid_reports", denominator="reported", good=True),
    Definition("valid_report_rate", "有效上报率", numerator="valid_reports", denominator="reported", good=True),
    Definition("public_reports", "公众举报数", _public_reports),
    Definition("public_report_rate", "监督举报率", numerator="valid_reports@public", denominator="registered"),
    Definition("false_reports", "虚假信息数", _events("verify", _FAILED, by_reporter=True)),
    Definition("info_collected", "日均有效信息采集量", per_day="valid_reports"),
    Definition("missed_reports", "漏报数", _missed),
    Definition("observed_reports", "应上报数", union=("valid_reports", "missed_reports")),
    Definition("missed_report_rate", "漏报率", numerator="missed_reports", denominator="observed_reports"),
    Definition("registered", "立案数", _registered),
    Definition("received", "收到案卷数", _received),
    Definition("dispatched", "派遣数", _dispatched),
    Definition("dispatch_share", "派遣占比", share_of="dispatched"),
    Definition("closed", "结案数", _closed),
    Definition("self_handled", "自处理数", _events("self_handle")),
    Definition("overdue_open", "超期未结数", _overdue_open),
    Definition("due_to_close", "应结案数", union=("closed", "overdue_open")),
    Definition("closed_on_time", "按期结案数", _closed_on_time),
    Definition("closure_rate", "结案率", numerator="closed", denominator="due_to_close", good=True),
    Definition("on_time_closure_rate", "按期结案率", numerator="closed_on_time", denominator="due_to_close", good=True),
    Definition("due_to_handle", "应处置数", _due_to_handle),
    Definition("handled", "处置数", _events("handle", distinct=True)),
    Definition("handled_on_time", "按期处置数", _handled_on_time),
    Definition("on_time_handling_rate", "按期处置率", numerator="handled_on_time", denominator="due_to_handle", good=True),
    Definition("reworked", "返工数", _events("check", _FAILED)),
    Definition("rework_rate", "返工率", numerator="reworked", denominator="due_to_close"),
    Definition("extended", "延期数", _events("decide_extension", _APPROVED)),
    Definition("extension_rate", "延期率", numerator="extended", denominator="due_to_handle"),
    Definition("suspended", "挂账数", _events("decide_suspend", _APPROVED)),
    Definition("returned", "回退数", _events("decide_return", _APPROVED)),
    Definition("return_rate", "回退率", numerator="returned", denominator="dispatched"),
    Definition("redispatched", "多次派遣数", _redispatched),
    Definition("repeat_cases", "重复案件数", _repeat_cases),
    Definition("repeat_rate", "重复案件率", numerator="repeat_cases", denominator="due_to_handle"),
    Definition("escalated", "督办数", _events("escalate")),
    Definition("escalated_repeat", "再次督办数", _events("escalate", _REPEAT_ESCALATION)),
    Definition("escalated_overdue", "督办件未按时办结数", _escalated_overdue),
    Definition("long_term_cases", "长效治理案件数", _long_term_cases),
    Definition("long_term_cases_prev", "上期长效治理案件数", _long_term_cases_prev),
    Definition("callbacks", "回访数", _callbacks),
    Definition("satisfied", "满意数", _satisfied),
    Definition("satisfaction_rate", "满意率", numerator="satisfied", denominator="callbacks", good=True),
    # -- posts (STANDARDS "Evaluation"): counted by the actor of the post's own action --------------------
    Definition("accepted", "受理数", _events("accept")),
    Definition("verified", "核实数", _events("verify")),
    Definition("verified_true", "核实属实数", _events("verify", _PASSED)),
    Definition("verified_on_time", "按时核实数", _events("verify", _ON_TIME)),
    Definition("verify_on_time_rate", "按时核实率", numerator="verified_on_time", denominator="verified", good=True),
    Definition("checked", "核查数", _events("check")),
    Definition("checked_on_time", "按时核查数", _events("check", _ON_TIME)),
    Definition("check_on_time_rate", "按时核查率", numerator="checked_on_time", denominator="checked", good=True),
    Definition("verify_sent", "派发核实数", _events("send_verify")),
    Definition("verify_sent_on_time", "按时派发核实数", _events("send_verify", _ON_TIME)),
    Definition("verify_dispatch_on_time_rate", "核实按时派发率", numerator="verify_sent_on_time",
               denominator="verify_sent", good=True),
    Definition("check_sent", "派发核查数", _events("send_check")),
    Definition("check_sent_on_time", "按时派发核查数", _events("send_check", _ON_TIME)),
    Definition("check_dispatch_on_time_rate", "核查按时派发率", numerator="check_sent_on_time",
               denominator="check_sent", good=True),
    Definition("registered_on_time", "按时立案数", _events("register", _ON_TIME)),
    Definition("register_on_time_rate", "按时立案率", numerator="registered_on_time", denominator="registered", good=True),
    Definition("closed_in_time", "按时结案数", _events("close", _ON_TIME)),
    Definition("close_on_time_rate", "按时结案率", numerator="closed_in_time", denominator="closed", good=True),
    Definition("dispatched_on_time", "按时派遣数", _dispatched_on_time),
    Definition("dispatch_on_time_rate", "按时派遣率", numerator="dispatched_on_time", denominator="dispatched", good=True),
    Definition("post_actions", "岗位办理数", _post_actions(False)),
    Definition("post_actions_on_time", "岗位按时办理数", _post_actions(True)),
    Definition("post_on_time_rate", "岗位按时率", numerator="post_actions_on_time", denominator="post_actions",
               good=True),
    Definition("voided", "作废数", _events("decide_void", _APPROVED)),
    Definition("accurate_registration_rate", "准确立案率", numerator="voided", denominator="registered",
               complement=True),
    Definition("reworked_after_dispatch", "派遣后返工数", _events("check", _FAILED, charge_dispatcher=True)),
    Definition("returned_after_dispatch", "派遣后回退数",
               _events("decide_return", _APPROVED, charge_dispatcher=True)),
    Definition("accurate_dispatch_rate", "准确派遣率", numerator="reworked_after_dispatch",
               denominator="dispatched", complement=True),
)}
# Names the schemes use for filtered variants of the defaults.
ALIASES = {
    "hotline_on_time_closure_rate": "on_time_closure_rate@hotline",
    "hotline_closure_rate": "closure_rate@hotline",
    "public_closure_rate": "closure_rate@public",
}
FILTER_LABELS = {"key_area": "重点区域", "general_area": "一般区域", "hotline": "热线", "h12319": "12319",
                 "public": "公众举报", "inspector": "监督员上报", "event": "事件", "part": "部件"}


def split_name(name: str) -> tuple[str, str | None]:
    """``closure_rate@hotline`` → (``closure_rate``, ``hotline``); aliases resolved; unknown names raise."""
    full = ALIASES.get(name, name)
    base, _, flt = full.partition("@")
    if base not in DEFINITIONS:
        raise KeyError(f"未知考核指标 indicator='{name}'; 可用: {', '.join(DEFINITIONS)}")
    if flt and flt not in FILTERS:
        raise KeyError(f"未知案件筛选 indicator='{name}' filter='{flt}'; 可用: {', '.join(FILTERS)}")
    return base, (flt or None)


def is_known(name: str) -> bool:
    try:
        split_name(name)
    except KeyError:
        return False
    return True


def label(name: str) -> str:
    """The Chinese label of an indicator (``结案率``, ``结案率(热线)``); unknown names are returned unchanged."""
    if not is_known(name):
        return name
    base, flt = split_name(name)
    text = DEFINITIONS[base].label
    return f"{text}({FILTER_LABELS[flt]})" if flt else text


def _with_filter(dep: str, flt: str | None) -> str:
    return f"{dep}@{flt}" if flt and "@" not in dep else dep


def _deps(name: str) -> tuple[str, ...]:
    base, flt = split_name(name)
    return tuple(_with_filter(d, flt) for d in DEFINITIONS[base].needs())


def _closure(names: Iterable[str]) -> list[str]:
    """The names plus everything they depend on, in dependency order."""
    seen: list[str] = []

    def visit(n: str) -> None:
        if n in seen:
            return
        for dep in _deps(n):
            visit(dep)
        seen.append(n)

    for n in names:
        visit(n)
    return seen


def compute_counts(store: Store, kind: str, period: Period, names: Iterable[str] | None = None,
                   options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Counts]:
    """Raw counts (case lists per unit) for the requested indicators and their dependencies."""
    repo.unit_expr(kind)  # validates the kind with a clear message
    repo.tune_for_scans(store.conn)
    wanted = _closure(names if names is not None else DEFINITIONS)
    counts: dict[str, Counts] = {}
    memo: dict[tuple[str, str], Counts] = {}
    for n in wanted:
        base, flt = split_name(n)
        d = DEFINITIONS[base]
        if d.count is not None:
            ctx = Ctx(store, kind, period, FILTERS[flt] if flt else "", options or {}, memo)
            counts[n] = d.count(ctx)
        elif d.union:
            merged: Counts = {}
            for part in d.union:
                for unit, cases in counts[_with_filter(part, flt)].items():
                    merged.setdefault(unit, []).extend(cases)
            counts[n] = merged
    return counts


def _count(counts: dict[str, Counts], name: str, unit: str) -> Indicator:
    cases = tuple(counts.get(name, {}).get(unit, ()))
    return Indicator(name, float(len(cases)), float(len(cases)), None, cases)


def indicators_for(counts: dict[str, Counts], unit: str, names: Iterable[str], period: Period) -> dict[str, Indicator]:
    """The :class:`Indicator` values of one unit from :func:`compute_counts` output."""
    wanted = list(names)
    out: dict[str, Indicator] = {}
    for n in _closure(wanted):
        base, flt = split_name(n)
        d = DEFINITIONS[base]
        if d.numerator is not None:
            num, den = out[_with_filter(d.numerator, flt)], out[_with_filter(str(d.denominator), flt)]
            cases = num.cases
            if d.good:  # the cases that cost points: due but not (on time / closed / satisfied …)
                hit = set(num.cases)  # filterfalse keeps the loop in C: 80k-case lists, 12 months, 50 units
                cases = tuple(dict.fromkeys(filterfalse(hit.__contains__, den.cases)))
            if not den.value:
                out[n] = Indicator(n, None, num.value, den.value, cases)
            else:
                share = float(num.value or 0) / float(den.value)
                out[n] = Indicator(n, 1.0 - share if d.complement else share, num.value, den.value, cases)
        elif d.per_day:
            src = out[_with_filter(d.per_day, flt)]
            days = float((period.end - period.start).days)
            out[n] = Indicator(n, float(src.value or 0) / days, src.value, days, src.cases)
        elif d.share_of:
            src = out[_with_filter(d.share_of, flt)]
            total = float(sum(len(v) for v in counts[_with_filter(d.share_of, flt)].values()))
            out[n] = Indicator(n, float(src.value or 0) / total if total else None, src.value, total, src.cases)
        else:
            out[n] = _count(counts, n, unit)
    keep = set(wanted)
    return {k: v for k, v in out.items() if k in keep}


def compute(store: Store, kind: str, period: Period, units: Iterable[str], names: Iterable[str] | None = None,
            options: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Indicator]]:
    """Indicators for every unit in ``units`` (units without cases get zero counts and N/A rates)."""
    wanted = list(names) if names is not None else list(DEFINITIONS)
    counts = compute_counts(store, kind, period, wanted, options)
    return {u: indicators_for(counts, u, wanted, period) for u in units}
