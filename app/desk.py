"""The desk's read side and write operations, Qt-free: what a seat's inbox, tables and dialogs show.

Reads go through this service's own read-only connection; writes are ``op(store) -> Changes``
closures that the console's writer thread runs (so the GUI thread never waits on SQLite). Every
write carries the ``last_seq`` the operator saw, so a conflicting change from another seat is refused
with a clear message instead of being silently overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from app.changes import Changes
from app.timefmt import fmt, now, parse
from app.workflow import transitions as tr
from db import base_repo
from db import cases as db_cases
from db.store import Store, connect

Op = Callable[[Store], Changes]

LIGHT_TITLES = {"green": "正常", "yellow": "将超期", "red": "超期", "severe": "严重超期"}


@dataclass(frozen=True)
class QueueCount:
    id: str
    title: str
    count: int
    overdue: int = 0  # past the stage deadline: the queue's traffic light


@dataclass(frozen=True)
class CaseRow:
    """One line of an inbox or case table, already formatted for display."""

    case_no: str
    status: str
    status_title: str
    source_title: str
    class_name: str
    address: str
    district: str
    department: str
    reported_at: str
    deadline: str
    light: str  # green | yellow | red | severe | "" (closed)
    last_seq: int
    lon: float | None
    lat: float | None


@dataclass
class CaseDetail:
    state: db_cases.CaseState
    row: CaseRow
    events: list[dict[str, str]]
    photos: dict[str, list[bytes]]  # stage -> images
    actions: list[str]
    remaining: str
    filing_rule: str = ""
    closing_rule: str = ""


@dataclass(frozen=True)
class FilingContext:
    lon: float
    lat: float
    district_code: str | None
    district: str
    street: str
    community: str
    grid_code: str | None
    address: str
    part_code: str | None
    part_class: str | None
    part_text: str


@dataclass
class DeskService:
    store_path: str
    session: Any  # app.session.Session
    _conn: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._conn = connect(self.store_path, readonly=True, check_same_thread=False)

    def close(self) -> None:
        self._conn.close()

    # -- reference data ---------------------------------------------------------------------------------
    def class_name(self, kind: str | None, class_code: str | None) -> str:
        """Part and event classes share codes (0102 污水井盖 / 0102 暴露垃圾), so the kind decides."""
        for k, _major, code, name, _f, _c in self.classes:
            if code == class_code and (kind is None or k == kind):
                return name
        return class_code or ""

    @cached_property
    def classes(self) -> list[tuple[str, str, str, str, str, str]]:
        """(kind, major_name, class_code, name, filing_rule, closing_rule) of the store's catalogue."""
        return [tuple(r) for r in self._conn.execute(
            "SELECT kind, major_name, class_code, name, filing_rule, closing_rule FROM catalog_class "
            "WHERE catalog = (SELECT value FROM store_meta WHERE key='catalog') ORDER BY kind DESC, class_code")]

    @cached_property
    def department_names(self) -> dict[str, str]:
        return {d.code: d.name for d in base_repo.departments(self._conn)}

    @cached_property
    def user_names(self) -> dict[str, str]:
        return {u.id: u.name for u in base_repo.users(self._conn)}

    def _actor_name(self, actor_id: str) -> str:
        """A user's name; an unlisted department seat (``dept_<code>``) by its department's name."""
        name = self.user_names.get(actor_id)
        if name:
            return name
        if actor_id.startswith("dept_"):
            dept = self.department_names.get(actor_id[5:].upper())
            if dept:
                return f"{dept}经办人"
        return actor_id

    @cached_property
    def division_names(self) -> dict[str, str]:
        return base_repo.division_names(self._conn)

    # -- inbox ------------------------------------------------------------------------------------------
    def _scope(self) -> dict[str, Sequence[str]]:
        scope: dict[str, Sequence[str]] = {}
        if self.session.role == "department" and self.session.departments:
            scope["department"] = list(self.session.departments)
        elif self.session.districts:
            scope["district_code"] = list(self.session.districts)
        return scope

    def queues(self) -> list[QueueCount]:
        from db.map_queries import queue_overdue

        out = []
        t = fmt(now())
        for q in tr.queues_for(self.session.role):
            n = db_cases.queue_count(self._conn, q.statuses, q.pending, self._scope())
            late = queue_overdue(self._conn, q.statuses, q.pending, self._scope(), t) if n else 0
            out.append(QueueCount(q.id, q.label, n, late))
        return out

    def queue_case_nos(self, queue_id: str, limit: int = 200, offset: int = 0) -> list[str]:
        q = next(q for q in tr.QUEUES if q.id == queue_id)
        return db_cases.queue_cases(self._conn, q.statuses, q.pending, self._scope(), limit, offset)

    def rows(self, case_nos: Sequence[str]) -> list[CaseRow]:
        t = fmt(now())
        out = []
        for no in case_nos:
            s = db_cases.get_case(self._conn, no)
            if s is not None:
                out.append(self._row(s, t))
        return out

    def _row(self, s: db_cases.CaseState, t: str) -> CaseRow:
        from app.map_data import traffic_light

        light = ""
        if s.status not in tr.TERMINAL_STATES and s.stage_deadline:
            light = ("green", "yellow", "red", "severe")[
                traffic_light(s.stage_started_at, s.stage_deadline, s.suspended_at or t)]
        return CaseRow(
            s.case_no, s.status, tr.STATE_LABELS.get(s.status, s.status), tr.SOURCE_LABELS.get(s.source or "", s.source or ""),
            self.class_name(s.kind, s.class_code), s.address or self._place(s),
            self.division_names.get(s.district_code or "", s.district_code or ""),
            self.department_names.get(s.department or "", s.department or ""), (s.reported_at or "")[:16].replace("T", " "),
            (s.stage_deadline or "")[:16].replace("T", " "), light, s.last_seq, s.lon, s.lat,
        )

    def _place(self, s: db_cases.CaseState) -> str:
        """Where a case without an address is: street, community and grid serial."""
        names = self.division_names
        parts = [names.get(s.street_code or "", ""), names.get(s.community_code or "", "")]
        if s.grid_code:
            parts.append(f"网格{s.grid_code[-3:]}")
        return " ".join(p for p in parts if p)

    # -- case detail ------------------------------------------------------------------------------------
    def detail(self, case_no: str) -> CaseDetail | None:
        s = db_cases.get_case(self._conn, case_no)
        if s is None:
            return None
        t = fmt(now())
        events = []
        for e in db_cases.events_of(self._conn, case_no):
            events.append({
                "seq": str(e.seq), "at": e.at[:16].replace("T", " "), "action": tr.ACTION_LABELS.get(e.action, e.action),
                "actor": self._actor_name(e.actor_id), "actor_id": e.actor_id,
                "role": tr.ROLE_LABELS.get(e.role, e.role), "note": _event_note(e.payload, self.department_names, e.action),
            })
        photos: dict[str, list[bytes]] = {}
        for ph in db_cases.photos_of(self._conn, case_no):
            if ph.data:
                photos.setdefault(ph.stage, []).append(bytes(ph.data))
            elif ph.path:
                p = Path(self.store_path).parent / ph.path
                if p.exists():
                    photos.setdefault(ph.stage, []).append(p.read_bytes())
        actions = tr.allowed_actions(s.status, self.session.role, s.pending_request)
        cls = next((c for c in self.classes if c[2] == s.class_code and c[0] == (s.kind or c[0])), None)
        return CaseDetail(s, self._row(s, t), events, photos, actions, self._remaining(s, t),
                          cls[4] if cls else "", cls[5] if cls else "")

    def _remaining(self, s: db_cases.CaseState, t: str) -> str:
        if s.status in tr.TERMINAL_STATES or not s.stage_deadline:
            return ""
        try:
            hours = self._deadlines.remaining(s.stage_deadline, t, "工作时", s.suspended_at)
            days = self._deadlines.remaining(s.stage_deadline, t, "工作日", s.suspended_at)
        except Exception:  # a calendar gap must not break the detail view
            return ""
        # overdue is decided on the instant, not on working time: on a Saturday after a Friday deadline no
        # working time has passed, yet the case is late
        late = parse(s.suspended_at or t) > parse(s.stage_deadline)
        return remaining_text(hours, days, late)

    @cached_property
    def _deadlines(self) -> Any:
        from app.deadlines import WorkDeadlines

        return WorkDeadlines.from_store(self._read_store)

    # -- filing ------------------------------------------------------------------------------------------
    def filing_context(self, lon: float, lat: float) -> FilingContext:
        """Everything the filing dialog fills in from a map click (raises OutsideCity off the grids)."""
        from app.geocoding import get_geocoder

        geo = get_geocoder(self._read_store)
        r = geo.reverse(lon, lat)
        part = geo.nearest_part(lon, lat, max_distance_m=30.0)
        part_text = ""
        if part is not None:
            part_text = f"{self.class_name('part', part.class_code)} {part.code}（{part.distance_m:.0f} 米）"
        return FilingContext(
            lon, lat, r.district_code, r.district_name, r.street_name, r.community_name, r.grid_code,
            r.description or r.text, part.code if part else None, part.class_code if part else None, part_text,
        )

    @cached_property
    def _read_store(self) -> Store:
        return Store(self._conn, Path(self.store_path))

    def duplicates(self, kind: str, class_code: str, lon: float, lat: float) -> list[Any]:
        from app.duplicates import find_duplicates

        return find_duplicates(self._read_store, kind=kind, class_code=class_code, lon=lon, lat=lat, at=now())

    def bulk_dispatch_candidates(self, case_nos: Sequence[str]) -> list[Any]:
        """Departments suggested for every one of these cases (in the first case's order), so one
        department can take them all; the reason says so."""
        from dataclasses import replace

        per_case = [self.dispatch_candidates(no) for no in case_nos[:200]]
        if not per_case or not per_case[0]:
            return []
        common = set.intersection(*({c.department for c in cands} for cands in per_case))
        return [replace(c, reasons=(f"{len(per_case)} 件均推荐", *c.reasons[:1]))
                for c in per_case[0] if c.department in common]

    def dispatch_candidates(self, case_no: str) -> list[Any]:
        from app.dispatch import suggest_department

        s = db_cases.get_case(self._conn, case_no)
        return [] if s is None else suggest_department(s, self._read_store)

    # -- writes (run on the writer thread) ---------------------------------------------------------------
    def op(self, name: str, case_no: str | None = None, **kwargs: Any) -> Op:
        """A write for the writer thread: ``app.operations.<name>(engine, actor, case_no, **kwargs)``.

        The seat's data scope is enforced here, inside the write's transaction, and not only by what the
        inbox shows: a department acts only on cases dispatched to it, a district office only on its
        district's cases, whatever case number reaches the writer."""
        actor_id, role = self.session.user_id, self.session.role
        scope = self._scope()

        def run(store: Store) -> Changes:
            from app import operations
            from app.workflow.engine import Actor

            engine = _engine_for(store)
            fn = getattr(operations, name)
            actor = Actor(actor_id, role)
            if case_no is None:
                return fn(engine, actor, **kwargs)
            with store.atomic():
                check_scope(store, case_no, scope, actor_id)
                return fn(engine, actor, case_no, **kwargs)

        return run


    def file_case_op(self, params: dict[str, Any], original: str | None = None) -> Op:
        """Filing, and linking it as a duplicate of ``original`` when asked: one write, one transaction."""
        actor_id, role = self.session.user_id, self.session.role

        def run(store: Store) -> Changes:
            from app import operations
            from app.workflow.engine import Actor

            engine = _engine_for(store)
            actor = Actor(actor_id, role)
            with store.atomic():
                changes = operations.file_case(engine, actor, **params)
                if original and changes.case_no:
                    changes = changes.merge(operations.mark_duplicate(engine, actor, changes.case_no, original=original))
            return changes

        return run

    def bulk_dispatch_op(self, case_nos: Sequence[str], seqs: dict[str, int], **params: Any) -> Op:
        """Dispatch several cases to one department, all or nothing."""
        ops = [self.op("dispatch_case", no, expected_seq=seqs.get(no), **params) for no in case_nos]

        def run(store: Store) -> Changes:
            from app.changes import merge_all

            with store.atomic():
                return merge_all(one(store) for one in ops)

        return run


def remaining_text(hours: float, days: float, late: bool) -> str:
    """A stage's time left as a seat operator reads it (``hours``/``days``: working time to the deadline,
    negative past it): minutes under one working hour, working days from two on, and 已超期 whenever the
    deadline has passed, even when no working time has passed since (a Saturday after a Friday deadline)."""
    if late:
        return "已超期" + (f" {_amount(-hours, -days)}" if -hours >= 1 / 60 else "")
    return f"剩余 {_amount(max(0.0, hours), max(0.0, days))}"


def _amount(hours: float, days: float) -> str:
    if hours < 1:
        return f"{int(hours * 60)} 分钟"
    if days >= 2:
        return f"{days:.1f} 工作日"
    return f"{hours:.1f} 工作时"


def check_scope(store: Store, case_no: str, scope: dict[str, Sequence[str]], actor_id: str) -> None:
    """Refuse an action on a case outside the seat's data scope (``DeskService._scope``), naming why."""
    from app.workflow.errors import RefusedError

    if not scope:
        return
    s = db_cases.get_case(store.conn, case_no)
    if s is None:
        return  # the engine reports the unknown case number itself
    for column, allowed in scope.items():
        value = getattr(s, column)
        if value not in allowed:
            label = "部门" if column == "department" else "区"
            raise RefusedError(
                f"案件 {case_no} 不属于本席位的{label}范围 ({value or '未派遣'})，用户 {actor_id} 不能办理 "
                f"(case outside the seat's data scope: {column}={value!r}, allowed {', '.join(allowed)})",
                field=column, value=value,
            )


_ENGINES: dict[int, Any] = {}


def _engine_for(store: Store) -> Any:
    from app.workflow.engine import WorkflowEngine

    engine = _ENGINES.get(id(store))
    if engine is None or engine.store is not store:
        engine = WorkflowEngine(store)
        _ENGINES[id(store)] = engine
    return engine


#: The generic form's titles (``理由: 设备老化``) for data keys no action-specific wording covers.
_NOTE_TITLES = {"department": "部门", "passed": "通过", "approved": "同意", "reason": "理由", "feedback": "反馈",
                "comment": "意见", "text": "内容", "level": "级别", "original": "原案", "until": "延至", "amount": "时长",
                "unit": "单位", "close_type": "结案类型", "satisfied": "满意", "description": "描述", "address": "地址",
                "source": "来源", "urgency": "紧急程度", "photos": "照片", "file": "照片", "stage": "阶段"}
#: Said by the case header or the photo strip, or only bookkeeping: not repeated on each event.
_NOTE_SILENT = frozenset({"kind", "class_code", "lon", "lat", "part_code", "grid_code", "sha256", "callback"})
#: What a yes/no decision reads as, per action (the outcome key is the transition's ``outcome``).
_OUTCOME_WORDS = {
    "verify": ("核实属实", "核实不属实"),
    "check": ("核查通过", "核查未通过，返工"),
    "decide_return": ("同意回退", "不同意回退"),
    "decide_extension": ("同意延期", "不同意延期"),
    "decide_suspend": ("同意挂账", "不同意挂账"),
    "decide_void": ("同意作废", "不同意作废"),
}
_LEVEL_WORDS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}


def _note_time(value: object) -> str:
    """``2026-09-09T13:35:22+08:00`` as ``2026-09-09 13:35``, as the timeline's own column reads."""
    return str(value)[:16].replace("T", " ")


def _extension_words(data: dict[str, Any]) -> str:
    """`` 2 工作日`` or ``至 2026-09-09 13:35``: how long or until when a 延期 runs."""
    if data.get("until"):
        return f"至 {_note_time(data['until'])}"
    amount = data.get("amount")
    if amount is None:
        return ""
    number = f"{amount:g}" if isinstance(amount, (int, float)) else str(amount)
    return f" {number} {data.get('unit') or ''}".rstrip()


def _event_note(payload: str, departments: dict[str, str] | None = None, action: str = "") -> str:
    """One timeline line in the words of the action: 核实属实, 同意延期 2 工作日, 派往 市政公司.

    A bare ``通过: 是`` or ``时长: 2；单位: 工作日`` made the operator work out what was decided; each
    action with data says it in its own words, and data keys without such words keep the generic
    ``标题: 值`` form (a key nobody titled shows as itself rather than vanish). Keys starting with ``_`` are
    the engine's derived values: only those worth reading (new deadlines, the close type) are said.
    """
    import json

    try:
        data = json.loads(payload or "{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts: list[str] = []
    used: set[str] = set()

    def say(text: str, *keys: str) -> None:
        if text:
            parts.append(text)
        used.update(keys)

    t = tr.TRANSITIONS.get(action)
    if t is not None and t.outcome is not None and isinstance(data.get(t.outcome), bool) and action in _OUTCOME_WORDS:
        yes, no = _OUTCOME_WORDS[action]
        ok = data[t.outcome]
        words = yes if ok else no
        if action == "decide_extension":
            if ok:
                words += _extension_words(data)
            used.update(("amount", "unit", "until"))
        say(words, t.outcome)
    if action == "request_extension":
        say(f"申请延期{_extension_words(data)}", "amount", "unit", "until")
    if action in ("decide_extension", "resume") and data.get("approved", True) and data.get("_handle_deadline"):
        say(f"处置时限{'延至' if action == 'decide_extension' else '顺延至'} {_note_time(data['_handle_deadline'])}")
    if action == "dispatch" and data.get("department"):
        dept = str(data["department"])
        say(f"派往 {(departments or {}).get(dept, dept)}", "department")
    if action == "close":
        close_type = data.get("close_type") or data.get("_close_type")
        say(str(close_type) if close_type else "", "close_type")
    if action == "escalate" and data.get("level") is not None:
        level = data["level"]
        words = f"{_LEVEL_WORDS.get(level, level)}级督办"
        count = data.get("_escalation_count")
        if isinstance(count, int) and count > 1:
            words += f"（第 {count} 次）"
        say(words, "level")
    if action == "mark_duplicate" and data.get("original"):
        say(f"与案件 {data['original']} 重复", "original")
    if action in ("report", "self_handle"):
        if data.get("source") and action == "report":  # a 自处理 is always the inspector's own
            say(f"来源: {tr.SOURCE_LABELS.get(str(data['source']), data['source'])}", "source")
        if data.get("urgency") == "urgent":
            say("紧急", "urgency")
        used.update(("source", "urgency"))  # 一般 is the default, not news
    if action == "comment":
        if data.get("callback"):
            satisfied = data.get("satisfied")
            say("回访" + ("" if satisfied is None else "满意" if satisfied else "不满意"), "satisfied")
        text = data.get("text")
        if text:
            say("" if parts and str(text) == parts[-1] else str(text), "text")
    if action == "attach_photo" and data.get("file"):
        stage = data.get("stage") or data.get("_photo_stage")
        where = f"（{tr.PHOTO_STAGES.get(str(stage), stage)}阶段）" if stage else ""
        say(f"照片 {data['file']}{where}", "file", "stage")
    photos = data.get("photos")
    used.add("photos")

    rest = [k for k in _NOTE_TITLES if k in data] + sorted(k for k in data if k not in _NOTE_TITLES)
    for k in rest:
        v = data[k]
        if k in used or k in _NOTE_SILENT or k.startswith("_") or v in (None, ""):
            continue
        if isinstance(v, bool):
            v = "是" if v else "否"
        elif k == "department" and departments:
            v = departments.get(str(v), v)
        parts.append(f"{_NOTE_TITLES.get(k, k)}: {v}")
    if isinstance(photos, list) and photos:
        parts.append(f"照片 {len(photos)} 张")
    return "；".join(parts)

