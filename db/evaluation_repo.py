"""SQL for evaluation: indicator aggregation over ``case_event``/``case_state``, manual entries, published runs.

Each indicator is one aggregate query that computes **every unit of a kind in one pass** (``GROUP BY`` the
unit expression) and returns, per unit, the case numbers behind the count (``group_concat``), so that a
deduction can always be drilled down to its cases without a second query. Queries only read events with
``at`` before the period end and case attributes fixed at filing (location, class), which keeps a
published result reproducible when later events arrive. Ranges use the ``(action, at)`` index of
``case_event`` and the ``reported_at``/``closed_at`` indexes of ``case_state``.

Unit expressions (``{U}`` in the templates):
- area kinds (district, street, community, grid): the case's location columns on ``case_state``;
- ``department``: the department of the dispatch in force at the event (``case_state.department`` for a
  case dispatched once, else the latest ``dispatch`` event at or before it);
- posts (``inspector``, ``intake``, ``shift_lead``, ``dispatcher``) and ``person``: the event's actor;
- ``post``: the event's role.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

AREA_COLUMNS = {"district": "district_code", "street": "street_code", "community": "community_code",
                "grid": "grid_code"}
POSTS = ("inspector", "intake", "shift_lead", "dispatcher")
UNIT_KINDS = (*AREA_COLUMNS, "department", *POSTS, "person", "post", "centre")
CENTRE_CODE = "centre"  # the whole city as one unit (指挥中心 / 监督中心 schemes)

# Department in force at event ``e`` of case ``s``: cheap for the common single dispatch.
# (An event before the case's only dispatch belongs to no department: the case had none yet.)
def _dept_at(at: str, seq: str) -> str:
    """SQL for the department of case ``s`` at its event of time ``at`` and number ``seq``."""
    return (
        f"(CASE WHEN s.dispatch_count <= 1 THEN (CASE WHEN s.dispatched_at <= {at} THEN s.department END) "
        "ELSE (SELECT d.payload_department FROM case_event d WHERE d.case_no = s.case_no "
        f"AND d.action = 'dispatch' AND d.seq <= {seq} ORDER BY d.seq DESC LIMIT 1) END)"
    )


_DEPT_AT = _dept_at("e.at", "e.seq")
# Department of case ``s`` at the instant ``:e`` (the period's end): ``case_state.department`` is the latest
# dispatch's, so a case dispatched after the end had none yet, and a redispatched one is looked up in its
# dispatches before the end. A period reads the record as it stood at its end (see ``docs/formulas.md``).
_DEPT_AS_OF = (
    "(CASE WHEN s.dispatch_count <= 1 THEN (CASE WHEN s.dispatched_at < :e THEN s.department END) "
    "ELSE (SELECT d.payload_department FROM case_event d WHERE d.case_no = s.case_no AND d.action = 'dispatch' "
    "AND d.at < :e ORDER BY d.seq DESC LIMIT 1) END)"
)
# When case ``s`` was first dispatched: ``case_state.dispatched_at`` is the latest dispatch, which for a case
# returned and redispatched after a period's end is later than the dispatch that made it due in the period.
FIRST_DISPATCH = (
    "(CASE WHEN s.dispatch_count > 1 THEN (SELECT min(d.at) FROM case_event d WHERE d.case_no = s.case_no "
    "AND d.action = 'dispatch') ELSE s.dispatched_at END)"
)
# The dispatcher whose dispatch was in force at event ``e`` (returns are charged to whoever dispatched).
_DISPATCHER_AT = (
    "(SELECT d.actor_id FROM case_event d WHERE d.case_no = e.case_no AND d.action = 'dispatch' "
    "AND d.seq <= e.seq ORDER BY d.seq DESC LIMIT 1)"
)

# A case counts as valid (有效) once accepted, verified true, registered or self-handled before the end.
VALID_COND = (
    " AND EXISTS (SELECT 1 FROM case_event a WHERE a.case_no = s.case_no AND a.at < :e "
    "AND (a.action IN ('accept', 'register', 'self_handle') "
    "OR (a.action = 'verify' AND json_extract(a.payload, '$.passed') = 1)))"
)
# The event ``e`` happened at or before the deadline of the stage it ends: the ``_stage_deadline`` the
# engine recorded on the last stage-starting event before it (no deadline = on time).
ON_TIME_COND = (
    "AND e.at <= COALESCE((SELECT json_extract(p.payload, '$._stage_deadline') FROM case_event p "
    "WHERE p.case_no = e.case_no AND p.seq < e.seq AND json_extract(p.payload, '$._stage') IS NOT NULL "
    "ORDER BY p.seq DESC LIMIT 1), e.at)"
)
# Case filters usable as an indicator suffix (``closure_rate@hotline``); each is a condition on ``s``.
CASE_FILTERS = {
    "key_area": "AND s.grid_code IN (SELECT code FROM unit_grid WHERE key_area = 1)",
    "general_area": "AND s.grid_code NOT IN (SELECT code FROM unit_grid WHERE key_area = 1)",
    "hotline": "AND s.source IN ('hotline_12319', 'hotline_12345')",
    "h12319": "AND s.source = 'hotline_12319'",
    "public": "AND s.source IN ('hotline_12319', 'hotline_12345', 'public', 'media')",
    "inspector": "AND s.source = 'inspector'",
    "event": "AND s.kind = 'event'",
    "part": "AND s.kind = 'part'",
}

SATISFIED_VALUES = ("满意", "基本满意", "satisfied", "very_satisfied", "fairly_satisfied")
PUBLIC_SOURCES = ("hotline_12319", "hotline_12345", "public", "media")


# Evaluation reads a period's cases and events by index range: tens of thousands of pages at city scale.
# Memory-mapping the file lets SQLite read them in place instead of copying each through read(), which is
# about a third of the CPU time of a month at 1M cases. Reads only; writes still go through the WAL.
MMAP_BYTES = 1 << 31  # SQLite caps it at its compile-time maximum (2 GB by default)


def tune_for_scans(conn: sqlite3.Connection) -> None:
    """Memory-map the store for evaluation scans (once per connection; a no-op for in-memory stores)."""
    row = conn.execute("PRAGMA mmap_size").fetchone()
    if row is not None and not row[0]:
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


def unit_expr(kind: str, *, event: bool = True, charge_dispatcher: bool = False) -> str | None:
    """The SQL expression giving the unit of a row; ``None`` when the kind does not apply to the query."""
    if kind in AREA_COLUMNS:
        return f"s.{AREA_COLUMNS[kind]}"
    if kind == "centre":
        return f"'{CENTRE_CODE}'"
    if kind == "department":
        return _DEPT_AT if event else _DEPT_AS_OF
    if kind in (*POSTS, "person"):
        if charge_dispatcher and kind in ("dispatcher", "person"):
            return _DISPATCHER_AT
        return "e.actor_id" if event else None
    if kind == "post":
        return "e.role" if event else None
    raise ValueError(f"考核对象类型错误 unit_kind='{kind}'; 应为 {', '.join(UNIT_KINDS)}")


def _action(action: str) -> str:
    """An action name written into the SQL text, not bound: SQLite only uses a partial index (failed checks,
    approved decisions, dispatches) when the query's terms match its WHERE clause literally."""
    if not action.isidentifier():
        raise ValueError(f"动作名错误 action='{action}'")
    return action


# Partial indexes of migration 0006 and the literal WHERE terms that select them; the planner prefers the
# wider (action, at) index by its estimates, so queries name these with INDEXED BY when the store has them.
PARTIAL_INDEXES = {
    "case_event_failed_check": "json_extract(e.payload, '$.passed') = 0",
    "case_event_approved": "json_extract(e.payload, '$.approved') = 1",
    "case_event_dispatch_cover": "",
}


def _indexed(conn: sqlite3.Connection, name: str) -> str:
    """``INDEXED BY name`` when the store has the index (a store not yet migrated still works, slower)."""
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
    return f"INDEXED BY {name}" if row else ""


def _event_index(conn: sqlite3.Connection, action: str, where: str) -> str:
    if action == "check" and PARTIAL_INDEXES["case_event_failed_check"] in where:
        return _indexed(conn, "case_event_failed_check")
    if action.startswith("decide_") and PARTIAL_INDEXES["case_event_approved"] in where:
        return _indexed(conn, "case_event_approved")
    if action == "dispatch" and not where:
        return _indexed(conn, "case_event_dispatch_cover")
    return ""


def _role_filter(kind: str) -> str:
    return f" AND e.role = '{kind}'" if kind in POSTS else ""


def _split(text: str | None) -> list[str]:
    """Case numbers sorted, so a result does not depend on the order SQLite happened to scan rows in."""
    return sorted(text.split(",")) if text else []


_PAYLOAD_DEPARTMENT = re.compile(r"\b(\w+)\.payload_department\b")


def _has_payload_department(conn: sqlite3.Connection) -> bool:
    return any(r[1] == "payload_department" for r in conn.execute("PRAGMA table_xinfo(case_event)"))


def _portable(conn: sqlite3.Connection, sql: str) -> str:
    """``sql`` for this store: a store opened read-only before migration 0007 has no generated column
    ``payload_department``, so the queries read the payload itself there (same values, slower)."""
    if "payload_department" in sql and not _has_payload_department(conn):
        sql = _PAYLOAD_DEPARTMENT.sub(r"json_extract(\1.payload, '$.department')", sql)
    return sql


# Texts = unit -> the ``group_concat`` of its case numbers, as SQLite returned it. The ``*_text`` queries
# stop there: counting the numbers in a text is ``text.count(",") + 1``, whereas splitting and sorting
# 80k of them costs more than the query itself, so the batch engine (``app.evaluation.batch``) splits
# only the lists a result shows. The list-returning functions are the same queries followed by ``_split``.
Texts = dict[str, str]


def _lists(texts: Texts) -> dict[str, list[str]]:
    return {unit: _split(text) for unit, text in texts.items()}


def _grouped_text(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> Texts:
    out: Texts = {}
    for unit, cases in conn.execute(_portable(conn, sql), params):
        if unit is None:
            continue
        out[str(unit)] = cases or ""
    return out


def _grouped(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> dict[str, list[str]]:
    return _lists(_grouped_text(conn, sql, params))


def _grouped_values(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> Texts | None:
    """:func:`_grouped_text` for a query selecting ``unit, group_concat(x), count(*)``, or ``None`` when
    some value is not exactly one comma-separated number (it holds a comma, or it is the empty text of a
    one-row group): only when each value is one number do the numbers of a text stand for its values."""
    out: Texts = {}
    for unit, cases, n in conn.execute(_portable(conn, sql), params):
        if unit is None:
            continue
        if not cases or cases.count(",") + 1 != n:
            return None
        out[str(unit)] = cases
    return out


# -- event-family queries ------------------------------------------------------------------------------
def events_by_unit(
    conn: sqlite3.Connection, kind: str, action: str, start: str, end: str, *,
    where: str = "", distinct: bool = False, charge_dispatcher: bool = False, flt: str = "",
    by_reporter: bool = False,
) -> dict[str, list[str]]:
    """Case numbers of ``action`` events in ``[start, end)`` per unit (one per event unless ``distinct``).

    ``flt`` is a case filter on ``s`` (see :data:`CASE_FILTERS`); ``by_reporter`` charges person kinds to
    the case's reporter instead of the event's actor (虚假信息 is the reporter's, not the verifier's).
    """
    return _lists(events_text(conn, kind, action, start, end, where=where, distinct=distinct,
                              charge_dispatcher=charge_dispatcher, flt=flt, by_reporter=by_reporter))


def events_text(
    conn: sqlite3.Connection, kind: str, action: str, start: str, end: str, *,
    where: str = "", distinct: bool = False, charge_dispatcher: bool = False, flt: str = "",
    by_reporter: bool = False,
) -> Texts:
    """:func:`events_by_unit` as unsplit texts."""
    sql = _events_sql(conn, kind, action, where, charge_dispatcher, flt, by_reporter)
    agg = "group_concat(DISTINCT e.case_no)" if distinct else "group_concat(e.case_no)"
    return _grouped_text(conn, sql.replace(_AGG, agg), {"s": start, "e": end})


_AGG = "<aggregate>"  # where the event queries' aggregate goes


def _events_sql(conn: sqlite3.Connection, kind: str, action: str, where: str, charge_dispatcher: bool,
                flt: str, by_reporter: bool) -> str:
    u = unit_expr(kind, charge_dispatcher=charge_dispatcher)
    if by_reporter and kind in (*POSTS, "person"):
        u = "s.reporter_id"
    role = "" if (charge_dispatcher or by_reporter) else _role_filter(kind)
    idx = _event_index(conn, action, where)
    return (
        f"SELECT {u} AS unit, {_AGG} FROM case_event e {idx} JOIN case_state s ON s.case_no = e.case_no "
        f"WHERE e.action = '{_action(action)}' AND e.at >= :s AND e.at < :e{role} {where} {flt} GROUP BY unit"
    )


def _distinct_later(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> tuple[Texts, bool]:
    """A ``group_concat(DISTINCT …)`` query (:data:`_AGG` in ``sql``) as (texts, repeats): SQLite's DISTINCT
    keeps a B-tree per unit, about half the cost of a dispatch count, whereas the set the caller builds
    anyway drops repeats for free. So the texts come without DISTINCT (``repeats`` True: the caller drops
    repeated numbers) when every value is one number, else from the DISTINCT query (``repeats`` False)."""
    got = _grouped_values(conn, sql.replace(_AGG, "group_concat(e.case_no), count(*)"), params)
    if got is not None:
        return got, True
    return _grouped_text(conn, sql.replace(_AGG, "group_concat(DISTINCT e.case_no)"), params), False


def distinct_events_text(
    conn: sqlite3.Connection, kind: str, action: str, start: str, end: str, *,
    where: str = "", charge_dispatcher: bool = False, flt: str = "", by_reporter: bool = False,
) -> tuple[Texts, bool]:
    """:func:`events_by_unit` with ``distinct`` as (texts, repeats) (see :func:`_distinct_later`)."""
    sql = _events_sql(conn, kind, action, where, charge_dispatcher, flt, by_reporter)
    return _distinct_later(conn, sql, {"s": start, "e": end})


def _split_grouped_text(conn: sqlite3.Connection, sql: str, params: dict[str, Any], n: int) -> list[Texts]:
    """Like :func:`_grouped_text` for a query with ``n`` ``group_concat`` columns (one per count); a unit
    appears in a count only when it has cases in it, as if each count had been its own query."""
    out: list[Texts] = [{} for _ in range(n)]
    for row in conn.execute(_portable(conn, sql), params):
        unit = row[0]
        if unit is None:
            continue
        for i in range(n):
            if row[i + 1]:
                out[i][str(unit)] = row[i + 1]
    return out


# A report is valid (有效) once accepted before the end: registered before the end implies accepted (register
# needs an accepted case); only the few reports not registered by then are looked up in their history.
_VALID_REPORT = (
    "((s.registered_at IS NOT NULL AND s.registered_at < :e) OR s.self_handled = 1 OR EXISTS ("
    "SELECT 1 FROM case_event a WHERE a.case_no = s.case_no AND a.at < :e "
    "AND (a.action IN ('accept', 'self_handle') "
    "OR (a.action = 'verify' AND json_extract(a.payload, '$.passed') = 1))))"
)


def _reported_sql(kind: str) -> tuple[str, str]:
    if kind in AREA_COLUMNS or kind in ("department", "centre"):
        u = unit_expr(kind, event=False) or "NULL"
    elif kind in (*POSTS, "person"):
        u = "s.reporter_id"
    else:  # post: all reports belong to the inspector post when an inspector filed them
        u = "CASE WHEN s.source = 'inspector' THEN 'inspector' END"
    cond = " AND s.source = 'inspector'" if kind == "inspector" else ""
    return u, cond


def reported_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, *,
                     valid: bool = False, sources: Sequence[str] = (), flt: str = "") -> dict[str, list[str]]:
    """Cases reported in ``[start, end)`` per unit; ``valid`` keeps those accepted before ``end``.

    Reports are read from ``case_state`` by ``reported_at`` (cases are stored in report order, so the
    rows of one period sit together on disk).
    """
    u, cond = _reported_sql(kind)
    if sources:
        cond += " AND s.source IN (" + ",".join(f"'{x}'" for x in sources) + ")"
    if valid:
        cond += f" AND {_VALID_REPORT}"
    sql = (
        f"SELECT {u} AS unit, group_concat(s.case_no) FROM case_state s "
        f"WHERE s.reported_at >= :s AND s.reported_at < :e{cond} {flt} GROUP BY unit"
    )
    return _grouped(conn, sql, {"s": start, "e": end})


def reports_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, *,
                    flt: str = "") -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]]:
    """(reported, valid, public) in one scan of the period's reports: the same three counts as
    :func:`reported_by_unit` without / with ``valid`` / with ``sources=PUBLIC_SOURCES``."""
    a, b, c = reports_text(conn, kind, start, end, flt=flt)
    return _lists(a), _lists(b), _lists(c)


def _only(columns: Sequence[str], which: Collection[int]) -> str:
    """The aggregate columns of a family query, those not in ``which`` replaced by NULL (a count nobody
    reads costs no ``group_concat``; its unit map comes back empty)."""
    return ", ".join(c if i in which else "NULL" for i, c in enumerate(columns))


def reports_text(conn: sqlite3.Connection, kind: str, start: str, end: str, *,
                 flt: str = "", which: Collection[int] = (0, 1, 2)) -> tuple[Texts, Texts, Texts]:
    """:func:`reports_by_unit` as unsplit texts; only the counts in ``which`` (0 reported, 1 valid,
    2 public) are filled."""
    u, cond = _reported_sql(kind)
    public = "s.source IN (" + ",".join(f"'{x}'" for x in PUBLIC_SOURCES) + ")"
    cols = _only(["group_concat(s.case_no)", f"group_concat(CASE WHEN {_VALID_REPORT} THEN s.case_no END)",
                  f"group_concat(CASE WHEN {public} THEN s.case_no END)"], which)
    sql = (
        f"SELECT {u} AS unit, {cols} FROM case_state s "
        f"WHERE s.reported_at >= :s AND s.reported_at < :e{cond} {flt} GROUP BY unit"
    )
    a, b, c = _split_grouped_text(conn, sql, {"s": start, "e": end}, 3)
    return a, b, c


def registered_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                       flt: str = "") -> dict[str, list[str]]:
    """``register`` events in the period. A case is registered once (a return sends it back to 待派遣, not
    to 待立案), so for place and department units ``case_state.registered_at`` is that event's time."""
    return _lists(registered_text(conn, kind, start, end, flt))


def registered_text(conn: sqlite3.Connection, kind: str, start: str, end: str, flt: str = "") -> Texts:
    """:func:`registered_by_unit` as unsplit texts."""
    if kind in AREA_COLUMNS or kind in ("department", "centre"):
        sql = (
            f"SELECT {unit_expr(kind, event=False)} AS unit, group_concat(s.case_no) FROM case_state s "
            f"WHERE s.registered_at >= :s AND s.registered_at < :e {flt} GROUP BY unit"
        )
        return _grouped_text(conn, sql, {"s": start, "e": end})
    return events_text(conn, kind, "register", start, end, flt=flt)


def closed_on_time_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                           flt: str = "") -> dict[str, list[str]]:
    """Closed in the period with the last (accepted) handling at or before the handling deadline.

    The deadline on ``case_state`` includes approved extensions and excludes suspended time; a
    self-handled case (自处理) and a case without a handling deadline count as on time.
    """
    return closed_by_unit(conn, kind, start, end, on_time=True, flt=flt)


ON_TIME_CLOSE = ("(s.self_handled = 1 OR s.handle_deadline IS NULL OR "
                 "(s.handled_at IS NOT NULL AND s.handled_at <= s.handle_deadline))")
# The same for rows already restricted to ``self_handled = 0``: without the self_handled term the condition
# reads only columns of the partial ``case_state_closed_cover`` index, so the scan never touches the table.
_ON_TIME_CLOSED = "(s.handle_deadline IS NULL OR (s.handled_at IS NOT NULL AND s.handled_at <= s.handle_deadline))"


def closed_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, *, on_time: bool = False,
                   flt: str = "") -> dict[str, list[str]]:
    """Cases closed (``close`` action) in the period; ``on_time`` keeps those handled by the deadline.

    Closing is terminal, so for place and department units ``case_state.closed_at`` (with status
    ``closed``; a void case also has ``closed_at``, a self-handled one closed without a ``close`` event)
    is the close event's time: one range scan of ``case_state_open_at`` instead of an event join. People
    are charged through the event's actor.
    """
    cond = f"AND {ON_TIME_CLOSE}" if on_time else ""
    if kind in AREA_COLUMNS or kind in ("department", "centre"):
        cond = f"AND {_ON_TIME_CLOSED}" if on_time else ""
        sql = (
            f"SELECT {_unit_now(kind)} AS unit, group_concat(s.case_no) FROM case_state s "
            "WHERE s.closed_at >= :s AND s.closed_at < :e AND s.status = 'closed' AND s.self_handled = 0 "
            f"{cond} {flt} GROUP BY unit"
        )
        return _grouped(conn, sql, {"s": start, "e": end})
    return events_by_unit(conn, kind, "close", start, end, distinct=True, where=cond, flt=flt)


def closed_pair_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                        flt: str = "") -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(closed, closed on time) in one pass: the same counts as :func:`closed_by_unit` without and with
    ``on_time``."""
    a, b = closed_pair_text(conn, kind, start, end, flt)
    return _lists(a), _lists(b)


def closed_pair_text(conn: sqlite3.Connection, kind: str, start: str, end: str,
                     flt: str = "", which: Collection[int] = (0, 1)) -> tuple[Texts, Texts]:
    """:func:`closed_pair_by_unit` as unsplit texts; only the counts in ``which`` (0 closed, 1 on time)
    are filled."""
    if kind in AREA_COLUMNS or kind in ("department", "centre"):
        cols = _only(["group_concat(s.case_no)", f"group_concat(CASE WHEN {_ON_TIME_CLOSED} THEN s.case_no END)"],
                     which)
        sql = (
            f"SELECT {_unit_now(kind)} AS unit, {cols} FROM case_state s "
            "WHERE s.closed_at >= :s AND s.closed_at < :e AND s.status = 'closed' AND s.self_handled = 0 "
            f"{flt} GROUP BY unit"
        )
        a, b = _split_grouped_text(conn, sql, {"s": start, "e": end}, 2)
        return a, b
    return (events_text(conn, kind, "close", start, end, distinct=True, flt=flt) if 0 in which else {},
            events_text(conn, kind, "close", start, end, distinct=True, where=f"AND {ON_TIME_CLOSE}", flt=flt)
            if 1 in which else {})


def _open_at(bound: str, select: str, where: str) -> str:
    """``select … where`` for cases not closed (or voided) before ``bound``, as a UNION ALL of two index
    ranges on ``case_state_open_at`` (``closed_at >= bound`` and ``closed_at IS NULL``): with an ``OR`` the
    planner scans a whole unit index instead."""
    return (f"{select} FROM case_state s WHERE s.closed_at >= {bound} {where} UNION ALL "
            f"{select} FROM case_state s WHERE s.closed_at IS NULL {where}")


def open_since_by_unit(conn: sqlite3.Connection, kind: str, end: str, cut: str,
                       flt: str = "") -> dict[str, list[str]]:
    """Cases open at ``end`` (registered, not closed or voided before ``end``) registered before ``cut``:
    长效治理 cases still open long after they were filed. A case of a person kind has no unit (``{}``)."""
    u = unit_expr(kind, event=False)
    if u is None:
        return {}
    inner = _open_at(":e", f"SELECT {u} AS unit, s.case_no AS case_no",
                     f"AND s.registered_at < :cut AND s.registered_at < :e {flt}")
    sql = f"SELECT unit, group_concat(case_no) FROM ({inner}) GROUP BY unit"
    return _grouped(conn, sql, {"e": end, "cut": cut})


# -- the record as it stood at an instant ---------------------------------------------------------------
# 超期未结 at an instant reads ``case_state`` columns that later events change: the handling deadline (an
# extension, a resumed 挂账, a failed 核查 restarting the handling), the dispatch and department (a return and
# redispatch) and the suspension. The queries read them as they are now, which is right for every case whose
# deadline never moved (``_DEADLINE_MOVED`` false: no redispatch, extension, rework or 挂账 at all). The few
# cases open at an instant whose deadline did move are replayed from their events before the instant and
# their membership corrected.
_REPLAYED = ("dispatch", "decide_extension", "decide_suspend", "resume", "check", "decide_void")


def _as_of_fixes(conn: sqlite3.Connection, kind: str, ends: Sequence[str],
                 flt: str = "") -> list[dict[str, tuple[str | None, str | None]]]:
    """For each of the ascending ``ends``: ``case → (unit now, unit then)`` of the cases whose 超期未结 at
    that end the current ``case_state`` gets wrong (``None``: not counted), from their events before it.

    The candidates are read slice by slice like :func:`overdue_open_by_periods`: a case closed from end j to
    end j + 1 (or still open, in the last slice) was open at the ends from the first after its first dispatch
    to end j; only those with a moved deadline are read from the table and replayed."""
    out: list[dict[str, tuple[str | None, str | None]]] = [{} for _ in ends]
    u = _unit_now(kind)
    k = len(ends)
    if u is None or not k:
        return out
    lo = _rank(FIRST_DISPATCH, "e", k)
    # a case still open now changed nothing after its last event (``updated_at``: the engine refuses events
    # dated before a case's last one), so only the ends before that can need it replayed; a 挂账 case left
    # suspended since before an end is right as it stands
    still_open = f"COALESCE({_rank('s.updated_at', 'e', k)} - 1, {k - 1})"

    def branch(cond: str, hi: str, j: int) -> str:
        return (f"SELECT s.case_no, {lo}, {hi}, {u}, s.handle_deadline, s.suspended_at FROM case_state s "
                f"WHERE {cond} AND (s.dispatched_at < :e{j} OR s.dispatch_count > 1) AND {FIRST_DISPATCH} < :e{j} "
                f"AND {_DEADLINE_MOVED} {flt}")  # index columns first: the table is read for few rows

    sql = " UNION ALL ".join([branch(_closed_in(j, k, "e"), str(j), j) for j in range(k)]
                             + [branch("s.closed_at IS NULL AND (s.updated_at IS NULL OR s.updated_at >= :e0)",
                                       still_open, k - 1)])
    todo: dict[str, tuple[Any, ...]] = {}
    for no, first_j, last_j, unit, deadline, suspended_at in conn.execute(
            _portable(conn, sql), {f"e{i}": e for i, e in enumerate(ends)}):
        if first_j is not None and last_j is not None and first_j <= last_j:
            todo[no] = (int(first_j), int(last_j), unit, deadline, suspended_at)
    if not todo:
        return out
    events: dict[str, list[tuple[Any, ...]]] = {}
    acts = ",".join(f"'{a}'" for a in _REPLAYED)
    rows = conn.execute(
        "SELECT case_no, at, action, payload_department, json_extract(payload, '$.approved'), "
        "json_type(payload, '$._handle_deadline'), "
        "json_extract(payload, '$._handle_deadline'), json_extract(payload, '$._stage_deadline') "
        f"FROM case_event WHERE case_no IN (SELECT value FROM json_each(:cases)) AND action IN ({acts}) "
        "ORDER BY case_no, seq", {"cases": json.dumps(list(todo))})
    for row in rows:
        events.setdefault(row[0], []).append(row[1:])
    for no, (first_j, last_j, unit, deadline, suspended_at) in todo.items():
        for j in range(first_j, last_j + 1):
            e = ends[j]
            counted = deadline is not None and deadline < e and not (
                suspended_at is not None and suspended_at < e)
            then = _overdue_then(events.get(no, []), e, kind, unit)
            was = unit if counted else None
            if was != then:
                out[j][no] = (was, then)
    return out


def _overdue_then(events: Sequence[tuple[Any, ...]], end: str, kind: str, unit: str | None) -> str | None:
    """The unit a case counted 超期未结 in at ``end`` (``None``: it did not), replaying its ``events``
    (in order) before ``end`` as the workflow engine projects them onto ``case_state``."""
    dispatched, dept, deadline, suspended = False, None, None, False
    for at, action, department, approved, has_deadline, new_deadline, stage_deadline in events:
        if at >= end:
            continue
        if action == "dispatch":
            dispatched, dept = True, department
        if has_deadline is not None:
            deadline = new_deadline
        elif action == "dispatch":  # a record written without ``_handle_deadline``: the handle stage's
            deadline = stage_deadline
        if action == "decide_suspend" and approved == 1:
            suspended = True
        elif action == "resume":
            suspended = False
    if not dispatched or deadline is None or not deadline < end or suspended:
        return None
    return dept if kind == "department" else unit


def _patch(texts: Texts, fixes: dict[str, tuple[str | None, str | None]]) -> Texts:
    """``texts`` with each fixed case moved from the unit it is counted in now to the one it counted in
    then (or dropped, or added). A number is removed as the pieces a comma inside it splits it into, which
    is what every list of it is compared as (``_split``)."""
    if not fixes:
        return texts
    out = dict(texts)
    for no, (was, then) in fixes.items():
        if was is not None and was in out:
            pieces = out[was].split(",")
            for piece in no.split(","):
                pieces.remove(piece)
            if pieces:
                out[was] = ",".join(pieces)
            else:
                del out[was]
        if then is not None:
            out[then] = f"{out[then]},{no}" if out.get(then) else no
    return out


def _unit_now(kind: str) -> str | None:
    """The unit column of a case as ``case_state`` holds it now (a department: its latest dispatch's); the
    "open at an instant" counts read it and correct the few cases it is wrong for (:func:`_as_of_fixes`)."""
    return "s.department" if kind == "department" else unit_expr(kind, event=False)


def overdue_open_by_unit(conn: sqlite3.Connection, kind: str, end: str, flt: str = "") -> dict[str, list[str]]:
    """Cases open at ``end`` (dispatched, not closed or voided, not suspended) past their handling deadline,
    as the record stood at ``end``: a deadline extended, a case redispatched or a 挂账 resumed after ``end``
    does not change it (:func:`_as_of_fixes`)."""
    u = _unit_now(kind)
    if u is None:
        return {}
    inner = _open_at(":e", f"SELECT {u} AS unit, s.case_no AS case_no",
                     f"AND {FIRST_DISPATCH} < :e AND s.handle_deadline < :e "
                     f"AND (s.suspended_at IS NULL OR s.suspended_at >= :e) {flt}")
    sql = f"SELECT unit, group_concat(case_no) FROM ({inner}) GROUP BY unit"
    texts = _grouped_text(conn, sql, {"e": end})
    return _lists(_patch(texts, _as_of_fixes(conn, kind, [end], flt)[0]))


def due_to_handle_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                          flt: str = "") -> dict[str, list[str]]:
    """Cases dispatched (to the unit, or located in it) before ``end`` and not closed before ``start``.

    A department counts every case dispatched to it before ``end``: for a case dispatched once that is
    ``case_state.department``; a redispatched case is looked up in its ``dispatch`` events.
    """
    if kind == "department":
        once = _open_at(":s", "SELECT s.department AS unit, s.case_no AS case_no",
                        f"AND s.dispatched_at < :e AND s.dispatch_count = 1 {flt}")
        many = _open_at(":s", "SELECT s.case_no AS case_no", f"AND s.dispatch_count > 1 {flt}")
        sql = (
            f"SELECT unit, group_concat(case_no) FROM ({once} UNION ALL "
            "SELECT DISTINCT d.payload_department AS unit, m.case_no AS case_no "
            f"FROM ({many}) m JOIN case_event d ON d.case_no = m.case_no AND d.action = 'dispatch' AND d.at < :e"
            ") GROUP BY unit"
        )
        return _grouped(conn, sql, {"s": start, "e": end})
    u = unit_expr(kind, event=False)
    if u is None:
        return {}
    inner = _open_at(":s", f"SELECT {u} AS unit, s.case_no AS case_no", f"AND {FIRST_DISPATCH} < :e {flt}")
    sql = f"SELECT unit, group_concat(case_no) FROM ({inner}) GROUP BY unit"
    return _grouped(conn, sql, {"s": start, "e": end})


# -- several periods in one scan ------------------------------------------------------------------------
# "Open at an instant" counts (超期未结 at each period's end, 应处置 from each period's start) read every case
# closed after the instant: asked month by month, a year reads the cases of January twelve times. The
# queries below take a list of ascending, non-overlapping periods and read each case once, sliced by the
# period it was closed in (``closed_at`` is the leading column of ``case_state_open_cover``, so a slice is
# a bounded index range). Inside a slice the last period a case counts in is fixed, and the first one is
# fixed too except for the few cases carried over from an earlier period; only those get their first period
# computed (``_rank``) from the same text comparisons the one-period query makes against each bound. A
# period is never derived from the text of a timestamp (``substr(at, 1, 7)``), so any stored value compares
# exactly as it does in the one-period query. Slices are separate queries on purpose: SQLite sorts a
# ``GROUP BY`` of 80k rows in memory far faster per row than one of 1M, and separate queries can run on
# separate threads.
def _rank(x: str, name: str, k: int) -> str:
    """SQL for how many of the ascending bounds ``:{name}0 … :{name}{k-1}`` are at or below ``x`` (NULL when
    ``x`` is NULL): a balanced CASE tree, about log2(k) comparisons per row."""

    def node(lo: int, hi: int) -> str:  # the answer is in [lo, hi]
        if lo == hi:
            return str(lo)
        mid = (lo + hi) // 2
        return f"CASE WHEN :{name}{mid} <= {x} THEN {node(mid + 1, hi)} ELSE {node(lo, mid)} END"

    return f"(CASE WHEN {x} IS NULL THEN NULL ELSE {node(0, k)} END)"


def _span_params(periods: Sequence[tuple[str, str]]) -> dict[str, str]:
    out = {f"s{i}": s for i, (s, _e) in enumerate(periods)}
    out.update({f"e{i}": e for i, (_s, e) in enumerate(periods)})
    return out


def _closed_in(j: int, k: int, bound: str = "s") -> str:
    """``closed_at`` in slice ``j`` of ``k``: from bound ``j`` to bound ``j + 1``, the last slice unbounded."""
    upper = f" AND s.closed_at < :{bound}{j + 1}" if j + 1 < k else ""
    return f"s.closed_at >= :{bound}{j}{upper}"


def _runs(conn: sqlite3.Connection, sql: str, params: dict[str, Any], k: int) -> list[dict[str, list[str]]]:
    """Rows ``(lo, hi, unit, text)``: the cases of ``text`` count in periods ``lo`` to ``hi``."""
    parts: list[dict[str, list[str]]] = [{} for _ in range(k)]
    for lo, hi, unit, text in conn.execute(_portable(conn, sql), params):
        if unit is None or text is None:
            continue
        for i in range(int(lo), int(hi) + 1):
            parts[i].setdefault(str(unit), []).append(text)
    return parts


def join_texts(*parts: Texts) -> Texts:
    """Per unit, the texts of several queries over disjoint rows joined with ``,``: the numbers one
    ``group_concat`` over all those rows would give (in another order; lists are sorted when split)."""
    out: dict[str, list[str]] = {}
    for part in parts:
        for unit, text in part.items():
            out.setdefault(unit, []).append(text)
    return {u: t[0] if len(t) == 1 else ",".join(t) for u, t in out.items()}


def overdue_open_by_periods(conn: sqlite3.Connection, kind: str, ends: Sequence[str],
                            flt: str = "") -> list[Texts]:
    """:func:`overdue_open_by_unit` at each of the ascending ``ends``, unsplit, in one scan.

    At end e a case counts when ``closed_at >= e`` (or it is open), ``dispatched_at < e``,
    ``handle_deadline < e`` and not (suspended with ``suspended_at < e``). Slice j holds the cases closed
    from end j to end j + 1, which count at most up to end j, so the slice keeps only the cases dispatched
    and due before end j (a test on index columns); those count from the first end after both their
    dispatch and their deadline, and a suspended one up to its suspension."""
    k = len(ends)
    u = _unit_now(kind)
    if u is None or not k:
        return [{} for _ in ends]
    lo = f"max({_rank(FIRST_DISPATCH, 'e', k)}, {_rank('s.handle_deadline', 'e', k)})"
    susp = f"{_rank('s.suspended_at', 'e', k)} - 1"

    def branch(cond: str, j: int) -> str:
        return (f"SELECT {lo} AS lo, CASE WHEN s.suspended_at IS NOT NULL THEN min({j}, {susp}) ELSE {j} END AS hi, "
                f"{u} AS unit, s.case_no AS case_no FROM case_state s "
                f"WHERE {cond} AND {FIRST_DISPATCH} < :e{j} AND s.handle_deadline < :e{j} {flt}")

    inner = " UNION ALL ".join([branch(_closed_in(j, k, "e"), j) for j in range(k)]
                               + [branch("s.closed_at IS NULL", k - 1)])
    sql = f"SELECT lo, hi, unit, group_concat(case_no) FROM ({inner}) WHERE lo <= hi GROUP BY lo, hi, unit"
    parts = _runs(conn, sql, {f"e{i}": e for i, e in enumerate(ends)}, k)
    fixes = _as_of_fixes(conn, kind, ends, flt)
    return [_patch({u: ",".join(t) for u, t in p.items()}, f) for p, f in zip(parts, fixes)]


def _due_rows(kind: str, flt: str) -> tuple[str, str] | None:
    """(unit expression, extra condition) of the cases :func:`due_to_handle_by_unit` reads from
    ``case_state`` (a department: those dispatched once; the others are read from their dispatches)."""
    if kind == "department":
        return "s.department", f"AND s.dispatch_count = 1 {flt}"
    u = unit_expr(kind, event=False)
    return None if u is None else (u, flt)


def _dispatched_col(kind: str) -> str:
    """The dispatch time :func:`_due_rows` rows are sliced by: a department's rows are dispatched once, so
    theirs is ``dispatched_at``; an area's may have been redispatched after a period, so the first one."""
    return "s.dispatched_at" if kind == "department" else FIRST_DISPATCH


def due_to_handle_closed_in(conn: sqlite3.Connection, kind: str, periods: Sequence[tuple[str, str]], j: int,
                            flt: str = "") -> Texts:
    """Part of :func:`due_to_handle_by_periods`: the cases closed in period ``j`` (from its start to the next
    period's start; the last period takes every later or no closing) that were dispatched in period ``j``
    (from the previous period's end). They count in period ``j`` only."""
    rows = _due_rows(kind, flt)
    if rows is None:
        return {}
    u, where = rows
    k = len(periods)
    d = _dispatched_col(kind)
    after = f"AND {d} >= :e{j - 1} " if j > 0 else ""
    where = f"{after}AND {d} < :e{j} {where}"
    select = f"SELECT {u} AS unit, s.case_no AS case_no FROM case_state s WHERE"
    inner = f"{select} {_closed_in(j, k)} {where}"
    if j == k - 1:
        inner += f" UNION ALL {select} s.closed_at IS NULL {where}"
    return _grouped_text(conn, f"SELECT unit, group_concat(case_no) FROM ({inner}) GROUP BY unit",
                         _span_params(periods))


def due_to_handle_carried(conn: sqlite3.Connection, kind: str, periods: Sequence[tuple[str, str]],
                          flt: str = "") -> list[Texts]:
    """The rest of :func:`due_to_handle_by_periods`: cases closed in period j (as in
    :func:`due_to_handle_closed_in`) but dispatched before the end of period j - 1, which count from the
    first period ending after their dispatch to period j; and a department's redispatched cases, which count
    for each target from the first period ending after its first dispatch there to the last period starting
    at or before their closing."""
    k = len(periods)
    params = _span_params(periods)
    parts: list[dict[str, list[str]]] = [{} for _ in range(k)]
    rows = _due_rows(kind, flt)
    if rows is not None and k > 1:
        u, where = rows
        d = _dispatched_col(kind)
        lo = _rank(d, "e", k)
        branches = [f"SELECT {lo} AS lo, {j} AS hi, {u} AS unit, s.case_no AS case_no FROM case_state s "
                    f"WHERE {_closed_in(j, k)} AND {d} < :e{j - 1} {where}" for j in range(1, k)]
        branches.append(f"SELECT {lo} AS lo, {k - 1} AS hi, {u} AS unit, s.case_no AS case_no FROM case_state s "
                        f"WHERE s.closed_at IS NULL AND {d} < :e{k - 2} {where}")
        sql = f"SELECT lo, hi, unit, group_concat(case_no) FROM ({' UNION ALL '.join(branches)}) GROUP BY lo, hi, unit"
        parts = _runs(conn, sql, params, k)
    if kind == "department" and k:
        hi = f"{_rank('s.closed_at', 's', k)} - 1"
        many = (f"SELECT s.case_no AS case_no, {hi} AS hi FROM case_state s WHERE s.closed_at >= :s0 "
                f"AND s.dispatch_count > 1 {flt} UNION ALL SELECT s.case_no AS case_no, {k - 1} AS hi "
                f"FROM case_state s WHERE s.closed_at IS NULL AND s.dispatch_count > 1 {flt}")
        sql = (
            "SELECT lo, hi, unit, group_concat(case_no) FROM ("
            f"SELECT min({_rank('d.at', 'e', k)}) AS lo, max(m.hi) AS hi, d.payload_department AS unit, "
            f"m.case_no AS case_no FROM ({many}) m JOIN case_event d ON d.case_no = m.case_no "
            f"AND d.action = 'dispatch' AND d.at < :e{k - 1} GROUP BY m.case_no, d.payload_department"
            ") WHERE lo <= hi GROUP BY lo, hi, unit"
        )
        for i, got in enumerate(_runs(conn, sql, params, k)):
            for unit, texts in got.items():
                parts[i].setdefault(unit, []).extend(texts)
    return [{u: ",".join(t) for u, t in p.items()} for p in parts]


def due_to_handle_by_periods(conn: sqlite3.Connection, kind: str, periods: Sequence[tuple[str, str]],
                             flt: str = "") -> list[Texts]:
    """:func:`due_to_handle_by_unit` for each of the ascending, non-overlapping ``(start, end)`` periods,
    unsplit: a case counts in the periods from the first that ends after its dispatch to the last that
    starts at or before its closing (every later one while it is open)."""
    carried = due_to_handle_carried(conn, kind, periods, flt)
    return [join_texts(due_to_handle_closed_in(conn, kind, periods, j, flt), carried[j])
            for j in range(len(periods))]


# The handling deadline in force at event ``e``: ``case_state.handle_deadline`` when nothing can have moved
# it since ``e`` (the deadline never moved: no redispatch, extension, failed 核查 restarting the handling or
# 挂账; or ``e`` is the case's last handling and the case has not gone back to handling), else the one the last
# event before ``e`` recorded (``_handle_deadline``; a dispatch written without it, its handle stage's
# ``_stage_deadline``). A handling late when it happened stays late when the deadline is moved afterwards.
_DEADLINE_MOVED = ("(s.dispatch_count > 1 OR s.rework_count > 0 OR s.extension_count > 0 "
                   "OR COALESCE(s.suspended_hours, 0) != 0 OR s.suspended_at IS NOT NULL)")
_AFTER_HANDLE = "s.status IN ('handled', 'checking', 'closing', 'closed')"


def _deadline_at(at: str, seq: str) -> str:
    """SQL for the handling deadline in force at case ``s``'s handle event of time ``at`` and number ``seq``."""
    return (
        f"(CASE WHEN NOT {_DEADLINE_MOVED} OR ({at} = s.handled_at AND {_AFTER_HANDLE}) THEN s.handle_deadline "
        "ELSE (SELECT CASE WHEN json_type(p.payload, '$._handle_deadline') IS NOT NULL "
        "THEN json_extract(p.payload, '$._handle_deadline') ELSE json_extract(p.payload, '$._stage_deadline') END "
        f"FROM case_event p WHERE p.case_no = s.case_no AND p.seq < {seq} "
        "AND p.action IN ('dispatch', 'decide_extension', 'resume', 'check') AND (p.action = 'dispatch' "
        "OR json_type(p.payload, '$._handle_deadline') IS NOT NULL) ORDER BY p.seq DESC LIMIT 1) END)"
    )


DEADLINE_AT_EVENT = _deadline_at("e.at", "e.seq")
HANDLED_ON_TIME = f"AND e.at <= COALESCE({DEADLINE_AT_EVENT}, e.at)"


# 按期处置 read from ``case_state`` (the batch engine's query; ``handled_on_time_by_unit`` is the plain event
# query it is tested against). A case's last handling is ``case_state.handled_at``, and its deadline and
# department then are the ones ``case_state`` holds unless they moved since (the case is back in handling
# after a failed 核查, or redispatched): one covering range scan instead of joining every handle event of the
# period to its case. A handling before a failed 核查 is read from the events of the reworked cases only.
def _last_handle_seq(by_case: str) -> str:
    """SQL for the ``seq`` of case ``s``'s last handle event (``by_case``: the handle index hint)."""
    return f"(SELECT max(h.seq) FROM case_event h {by_case} WHERE h.case_no = s.case_no AND h.action = 'handle')"


def handled_on_time_text(conn: sqlite3.Connection, kind: str, start: str, end: str,
                         flt: str = "") -> tuple[Texts, bool]:
    """:func:`handled_on_time_by_unit` as (texts, repeats) (see :func:`_distinct_later`), for areas,
    departments and the centre from ``case_state`` (migration 0012's indexes); people and posts, and a store
    not yet migrated, through the event query. Like the workflow engine, it takes a case's handlings to come
    after its first dispatch and in time order."""
    last = _indexed(conn, "case_state_handled_cover")
    reworked = _indexed(conn, "case_state_reworked")
    by_case = _indexed(conn, "case_event_handle_by_case")
    if (kind not in AREA_COLUMNS and kind not in ("department", "centre")) or not (last and reworked and by_case):
        return distinct_events_text(conn, kind, "handle", start, end, where=HANDLED_ON_TIME, flt=flt)
    seq = _last_handle_seq(by_case)
    u_last = _dept_at("s.handled_at", seq) if kind == "department" else unit_expr(kind, event=False)
    sql = (
        f"SELECT {u_last} AS unit, s.case_no AS case_no FROM case_state s {last} "
        "WHERE s.handled_at >= :s AND s.handled_at < :e AND s.self_handled = 0 "
        f"AND s.handled_at <= COALESCE({_deadline_at('s.handled_at', seq)}, s.handled_at) {flt} "
        "UNION ALL "
        f"SELECT {unit_expr(kind)} AS unit, e.case_no AS case_no FROM case_state s {reworked} "
        f"CROSS JOIN case_event e {by_case} ON e.case_no = s.case_no AND e.action = 'handle' "
        "AND e.at >= :s AND e.at < :e "
        "WHERE s.rework_count > 0 AND s.handled_at >= :s AND (s.dispatched_at < :e OR s.dispatch_count > 1) "
        f"AND e.seq < {seq} AND e.at <= COALESCE({DEADLINE_AT_EVENT}, e.at) {flt}"
    )
    return _grouped_text(conn, f"SELECT unit, group_concat(case_no) FROM ({sql}) GROUP BY unit",
                         {"s": start, "e": end}), True


def handled_on_time_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                            flt: str = "") -> dict[str, list[str]]:
    """Cases with a ``handle`` event in the period at or before the handling deadline."""
    return events_by_unit(conn, kind, "handle", start, end, distinct=True, where=HANDLED_ON_TIME, flt=flt)


def redispatched_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str,
                         flt: str = "") -> dict[str, list[str]]:
    """Cases dispatched in the period that had been dispatched before (多次派遣)."""
    u = "e.payload_department" if kind == "department" else unit_expr(kind)
    sql = (
        f"SELECT {u} AS unit, group_concat(DISTINCT e.case_no) FROM case_event e "
        "JOIN case_state s ON s.case_no = e.case_no "
        f"WHERE e.action = 'dispatch' AND e.at >= :s AND e.at < :e{_role_filter(kind)} AND s.dispatch_count > 1 "
        "AND EXISTS (SELECT 1 FROM case_event p WHERE p.case_no = e.case_no AND p.action = 'dispatch' "
        f"AND p.seq < e.seq) {flt} GROUP BY unit"
    )
    return _grouped(conn, sql, {"s": start, "e": end})


def dispatched_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, *, distinct: bool = False,
                       where: str = "", flt: str = "") -> dict[str, list[str]]:
    """Dispatch events in the period; a department is the dispatch's target."""
    return _lists(dispatched_text(conn, kind, start, end, distinct=distinct, where=where, flt=flt))


def dispatched_text(conn: sqlite3.Connection, kind: str, start: str, end: str, *, distinct: bool = False,
                    where: str = "", flt: str = "") -> Texts:
    """:func:`dispatched_by_unit` as unsplit texts."""
    if kind == "department":
        agg = "group_concat(DISTINCT e.case_no)" if distinct else "group_concat(e.case_no)"
        return _grouped_text(conn, _dispatched_sql(conn, where, flt).replace(_AGG, agg), {"s": start, "e": end})
    return events_text(conn, kind, "dispatch", start, end, distinct=distinct, where=where, flt=flt)


def _dispatched_sql(conn: sqlite3.Connection, where: str, flt: str) -> str:
    join = "JOIN case_state s ON s.case_no = e.case_no " if (where or flt) else ""
    return (
        f"SELECT e.payload_department AS unit, {_AGG} FROM case_event e "
        f"{_event_index(conn, 'dispatch', where)} {join}"
        f"WHERE e.action = 'dispatch' AND e.at >= :s AND e.at < :e {where} {flt} GROUP BY unit"
    )


def distinct_dispatched_text(conn: sqlite3.Connection, kind: str, start: str, end: str, *, where: str = "",
                             flt: str = "") -> tuple[Texts, bool]:
    """:func:`dispatched_by_unit` with ``distinct`` as (texts, repeats) (see :func:`_distinct_later`)."""
    if kind == "department":
        return _distinct_later(conn, _dispatched_sql(conn, where, flt), {"s": start, "e": end})
    return distinct_events_text(conn, kind, "dispatch", start, end, where=where, flt=flt)


def callbacks_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, *,
                      satisfied: bool = False, flt: str = "") -> dict[str, list[str]]:
    """Callbacks (回访) in the period: events carrying ``callback: true`` (the simulator's and the exchange
    format's ``comment``) or a ``satisfaction`` text; ``satisfied`` keeps ``satisfied: true`` / 满意."""
    u = unit_expr(kind)
    cond = ("(json_extract(e.payload, '$.satisfaction') IS NOT NULL "
            "OR json_extract(e.payload, '$.callback') = 1)")
    if satisfied:
        vals = ",".join(f"'{v}'" for v in SATISFIED_VALUES)
        cond = (f"(json_extract(e.payload, '$.satisfaction') IN ({vals}) "
                "OR json_extract(e.payload, '$.satisfied') = 1)")
    sql = (
        f"SELECT {u} AS unit, group_concat(e.case_no) FROM case_event e JOIN case_state s ON s.case_no = e.case_no "
        f"WHERE e.action IN ('callback', 'comment', 'close') AND e.at >= :s AND e.at < :e AND {cond} {flt} "
        "GROUP BY unit"
    )
    return _grouped(conn, sql, {"s": start, "e": end})


def missed_by_unit(conn: sqlite3.Connection, kind: str, start: str, end: str, flt: str = "") -> dict[str, list[str]]:
    """漏报: valid cases reported in the period by other sources than inspectors; for an inspector, those in
    the grids of the inspector's beat (``unit_grid.inspector_id``)."""
    if kind in ("inspector", "person"):
        u = "g.inspector_id"
    else:
        u = unit_expr(kind, event=False) or "NULL"
    sql = (
        f"SELECT {u} AS unit, group_concat(s.case_no) FROM case_state s LEFT JOIN unit_grid g ON g.code = s.grid_code "
        f"WHERE s.reported_at >= :s AND s.reported_at < :e AND s.source != 'inspector'{VALID_COND} {flt} "
        "GROUP BY unit"
    )
    return _grouped(conn, sql, {"s": start, "e": end})


def case_units(conn: sqlite3.Connection, kind: str, case_nos: Sequence[str], flt: str = "",
               end: str | None = None) -> dict[str, str]:
    """The unit of each case for a case-level count (location, or the case's department/reporter); a
    department is the one the case had at ``end`` (none before its dispatch), or its latest without ``end``."""
    if kind in (*POSTS, "person"):
        u = "s.reporter_id"
    else:
        u = (unit_expr(kind, event=False) if end is not None else _unit_now(kind)) or "NULL"
    out: dict[str, str] = {}
    for i in range(0, len(case_nos), 500):
        chunk = list(case_nos[i:i + 500])
        params: dict[str, Any] = {f"c{j}": no for j, no in enumerate(chunk)}
        params["e"] = end
        marks = ",".join(f":c{j}" for j in range(len(chunk)))
        for no, unit in conn.execute(f"SELECT s.case_no, {u} FROM case_state s WHERE s.case_no IN ({marks}) {flt}",
                                     params):
            if unit is not None:
                out[no] = str(unit)
    return out


# -- units ---------------------------------------------------------------------------------------------
def unit_rows(conn: sqlite3.Connection, kind: str) -> list[dict[str, Any]]:
    """Every unit of a kind with the attributes schemes need (code, name, parent, area and road classes)."""
    if kind == "district":
        sql = ("SELECT d.code, d.name, d.city AS parent, (SELECT count(*) FROM unit_grid g "
               "WHERE g.district_code = d.code) AS grid_count, (SELECT count(*) FROM road r "
               "WHERE r.district_code = d.code) AS road_count, (SELECT g.area_class FROM unit_grid g "
               "WHERE g.district_code = d.code GROUP BY g.area_class ORDER BY count(*) DESC, g.area_class LIMIT 1) AS area_class "
               "FROM district d ORDER BY d.code")
    elif kind == "street":
        sql = ("SELECT s.code, s.name, s.district_code AS parent, (SELECT count(*) FROM unit_grid g "
               "WHERE g.street_code = s.code) AS grid_count, (SELECT g.area_class FROM unit_grid g "
               "WHERE g.street_code = s.code GROUP BY g.area_class ORDER BY count(*) DESC, g.area_class LIMIT 1) AS area_class "
               "FROM street s ORDER BY s.code")
    elif kind == "community":
        sql = ("SELECT c.code, c.name, c.street_code AS parent, (SELECT count(*) FROM unit_grid g "
               "WHERE g.community_code = c.code) AS grid_count, (SELECT g.area_class FROM unit_grid g "
               "WHERE g.community_code = c.code GROUP BY g.area_class ORDER BY count(*) DESC, g.area_class LIMIT 1) "
               "AS area_class FROM community c ORDER BY c.code")
    elif kind == "grid":
        sql = ("SELECT code, code AS name, community_code AS parent, area_class, road_class, key_area, 1 AS grid_count "
               "FROM unit_grid ORDER BY code")
    elif kind == "department":
        sql = "SELECT code, name, kind AS \"group\", district_code AS parent FROM department ORDER BY code"
    elif kind in POSTS:
        sql = f"SELECT id AS code, name, role FROM app_user WHERE role = '{kind}' ORDER BY id"
    elif kind == "person":
        sql = "SELECT id AS code, name, role FROM app_user ORDER BY id"
    elif kind == "post":
        return [{"code": p, "name": n} for p, n in zip(POSTS, ("监督员", "受理员", "值班长", "派遣员"))]
    elif kind == "centre":
        n = conn.execute("SELECT count(*) FROM unit_grid").fetchone()[0]
        roads = conn.execute("SELECT count(*) FROM road").fetchone()[0]
        return [{"code": CENTRE_CODE, "name": "指挥中心", "grid_count": n, "road_count": roads}]
    else:
        raise ValueError(f"考核对象类型错误 unit_kind='{kind}'; 应为 {', '.join(UNIT_KINDS)}")
    cur = conn.execute(sql)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row)) for row in cur]


# -- inputs hash ----------------------------------------------------------------------------------------
def event_horizon(conn: sqlite3.Connection, end: str) -> tuple[int, int, str]:
    """(count, last seq, chain hash at last seq) of the events before ``end``: what a result depends on.

    The hash chain makes the last event's hash cover every earlier event, so this O(index) summary changes
    whenever an event before ``end`` is added, altered or removed.
    """
    n, last = conn.execute("SELECT count(*), max(seq) FROM case_event WHERE at < ?", (end,)).fetchone()
    if last is None:
        return 0, 0, ""
    h = conn.execute("SELECT hash FROM case_event WHERE seq = ?", (last,)).fetchone()[0]
    return int(n), int(last), str(h)


# -- manual entries -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScoreEntryRow:
    id: int
    scheme: str
    period: str
    unit_code: str
    item: str
    points: float
    reason: str | None
    evidence: str | None
    entered_by: str
    entered_at: str


def insert_score_entry(conn: sqlite3.Connection, *, scheme: str, period: str, unit_code: str, item: str,
                       points: float, reason: str | None, evidence: str | None, entered_by: str,
                       entered_at: str) -> int:
    """Insert one manual entry; the caller holds the transaction (``with store.atomic()``)."""
    if not conn.in_transaction:
        raise RuntimeError("insert_score_entry must run inside store.atomic() 必须在事务内写入")
    cur = conn.execute(
        "INSERT INTO score_entry (scheme, period, unit_code, item, points, reason, evidence, entered_by, entered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (scheme, period, unit_code, item, points, reason, evidence, entered_by, entered_at),
    )
    return int(cur.lastrowid or 0)


def manual_unit_codes(conn: sqlite3.Connection, scheme: str, periods: Iterable[str]) -> list[str]:
    """Units known only from manual entries (service windows, staff): the codes evaluators entered."""
    keys = list(periods)
    marks = ",".join("?" for _ in keys)
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT unit_code FROM score_entry WHERE scheme = ? AND period IN ({marks}) ORDER BY unit_code",
        (scheme, *keys))]


def entry_periods(conn: sqlite3.Connection, scheme: str) -> list[str]:
    """Period keys with manual entries of a scheme (months a manual-only scheme has data for)."""
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT period FROM score_entry WHERE scheme = ? ORDER BY period", (scheme,))]


def first_event_at(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT min(at) FROM case_event").fetchone()
    return str(row[0]) if row and row[0] else None


def last_event_at(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT max(at) FROM case_event").fetchone()
    return str(row[0]) if row and row[0] else None


def score_entries(conn: sqlite3.Connection, scheme: str, periods: Iterable[str]) -> list[ScoreEntryRow]:
    """Manual entries of a scheme for the given period keys, in entry order (later entries win)."""
    keys = list(periods)
    if not keys:
        return []
    marks = ",".join("?" for _ in keys)
    cur = conn.execute(
        "SELECT id, scheme, period, unit_code, item, points, reason, evidence, entered_by, entered_at "
        f"FROM score_entry WHERE scheme = ? AND period IN ({marks}) ORDER BY id", (scheme, *keys),
    )
    return [ScoreEntryRow(*row) for row in cur]


# -- unit attributes ------------------------------------------------------------------------------------
def insert_unit_attribute(conn: sqlite3.Connection, *, unit_kind: str, unit_code: str, name: str,
                          value: str | None, scheme: str | None, entered_by: str, entered_at: str) -> int:
    """Add one attribute row (``value`` None clears it); the caller holds the transaction."""
    if not conn.in_transaction:
        raise RuntimeError("insert_unit_attribute must run inside store.atomic() 必须在事务内写入")
    cur = conn.execute(
        "INSERT INTO unit_attribute (unit_kind, unit_code, name, value, scheme, entered_by, entered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (unit_kind, unit_code, name, value, scheme, entered_by, entered_at),
    )
    return int(cur.lastrowid or 0)


def unit_attribute_rows(conn: sqlite3.Connection, unit_kind: str | None = None,
                        scheme: str | None = None) -> list[tuple[Any, ...]]:
    """(id, unit_kind, unit_code, name, value, scheme, entered_by, entered_at) in entry order; with ``scheme``
    the rows for every scheme (scheme NULL) and for that one."""
    if not _has_table(conn, "unit_attribute"):
        return []
    sql = ("SELECT id, unit_kind, unit_code, name, value, scheme, entered_by, entered_at FROM unit_attribute "
           "WHERE (? IS NULL OR unit_kind = ?) AND (? IS NULL OR scheme IS NULL OR scheme = ?) ORDER BY id")
    return list(conn.execute(sql, (unit_kind, unit_kind, scheme, scheme)))


def unit_attributes(conn: sqlite3.Connection, unit_kind: str, scheme: str) -> dict[str, dict[str, str | None]]:
    """Unit code → attribute name → text value in force for ``scheme``: the latest row, a row for the scheme
    itself winning over one for every scheme; a ``None`` value means cleared."""
    out: dict[str, dict[str, str | None]] = {}
    rank: dict[tuple[str, str], int] = {}
    for _id, _kind, code, name, value, sch, *_ in unit_attribute_rows(conn, unit_kind, scheme):
        level = 1 if sch else 0
        if level >= rank.get((code, name), 0):
            rank[(code, name)] = level
            out.setdefault(code, {})[name] = value
    return out


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


# -- published runs ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EvaluationRunRow:
    id: int
    scheme: str
    scheme_version: str | None
    period: str
    unit_kind: str | None
    inputs_hash: str
    results: dict[str, Any]
    published_by: str | None
    published_at: str | None


def insert_run(conn: sqlite3.Connection, *, scheme: str, scheme_version: str | None, period: str,
               unit_kind: str | None, inputs_hash: str, results: dict[str, Any], published_by: str | None,
               published_at: str) -> int:
    if not conn.in_transaction:
        raise RuntimeError("insert_run must run inside store.atomic() 必须在事务内写入")
    cur = conn.execute(
        "INSERT INTO evaluation_run (scheme, scheme_version, period, unit_kind, inputs_hash, results, "
        "published_by, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (scheme, scheme_version, period, unit_kind, inputs_hash,
         json.dumps(results, ensure_ascii=False, sort_keys=True), published_by, published_at),
    )
    return int(cur.lastrowid or 0)


def _run(row: Sequence[Any]) -> EvaluationRunRow:
    return EvaluationRunRow(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), row[7], row[8])


_RUN_COLS = "id, scheme, scheme_version, period, unit_kind, inputs_hash, results, published_by, published_at"


def runs(conn: sqlite3.Connection) -> list[EvaluationRunRow]:
    return [_run(r) for r in conn.execute(f"SELECT {_RUN_COLS} FROM evaluation_run ORDER BY id")]


def latest_run(conn: sqlite3.Connection, scheme: str, period: str, unit_kind: str | None) -> EvaluationRunRow | None:
    row = conn.execute(
        f"SELECT {_RUN_COLS} FROM evaluation_run WHERE scheme = ? AND period = ? AND unit_kind IS ? "
        "ORDER BY id DESC LIMIT 1", (scheme, period, unit_kind),
    ).fetchone()
    return _run(row) if row else None


# -- report helpers ---------------------------------------------------------------------------------------
def top_classes(conn: sqlite3.Connection, start: str, end: str, limit: int = 10) -> list[tuple[str, int]]:
    """The most reported classes in ``[start, end)`` (高发问题), most frequent first."""
    rows = conn.execute(
        "SELECT class_code, count(*) AS n FROM case_state WHERE reported_at >= ? AND reported_at < ? "
        "AND class_code IS NOT NULL GROUP BY class_code ORDER BY n DESC, class_code LIMIT ?", (start, end, limit),
    )
    return [(str(c), int(n)) for c, n in rows]


def class_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Class code → name from the store's catalogue (the first catalogue wins when codes repeat)."""
    out: dict[str, str] = {}
    for code, name in conn.execute("SELECT class_code, name FROM catalog_class ORDER BY catalog DESC"):
        out.setdefault(str(code), str(name))
    return out
