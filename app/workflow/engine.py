"""The workflow engine: checks each action against the transition table, records it, projects the state.

Two phases, on purpose:

* :meth:`_Session.decide` validates an action (role, state, pending request, data, time order) and
  computes everything that depends on services outside the record (the grid from the Locator, stage
  deadlines from Deadlines, the close type). Those *derived* values go into the event's payload under
  keys starting with ``_`` (``_to`` = status after the event, ``_grid_code``, ``_stage_deadline``...).
* :func:`project` applies an event to a case snapshot using only the event itself. It is pure, so
  ``case_state`` can always be rebuilt from ``case_event`` (``python main.py verify``) even if the
  calendar, the time limits or the grids change later.

The same code serves single actions from the console (:meth:`WorkflowEngine.act`, one transaction) and
bulk work (:meth:`WorkflowEngine.apply_batch`: snapshots in memory, ``executemany`` in chunked
transactions), so replay, the simulator and the console can never disagree about the rules.
"""

from __future__ import annotations

import gc
import hashlib
import math
import mimetypes
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app import timefmt
from app.case_numbers import CaseNumberAllocator, check_case_no
from app.clock import Clock, SystemClock
from app.progress import Progress
from app.workflow.errors import (
    ConflictError,
    DataError,
    NotFoundError,
    RefusedError,
    WorkflowError,
)
from app.workflow.ports import Deadlines, Locator, default_deadlines
from app.workflow.transitions import (
    ACTION_LABELS,
    CLOSE_TYPES,
    KINDS,
    PENDING_LABELS,
    PHOTO_STAGES,
    ROLE_LABELS,
    SOURCES,
    STAGE_OF_STATUS,
    STATE_LABELS,
    TERMINAL_STATES,
    TRANSITIONS,
    URGENCIES,
)
from db import cases as db_cases
from db.cases import CaseState, EventRow, PhotoRow
from db.store import Store

_ALL_COLUMNS = tuple(range(1, len(db_cases.STATE_COLUMNS)))  # every projected column but case_no
_TEXT_KEYS = frozenset({"reason", "feedback", "text", "comment", "address", "description"})
EXTENSION_UNITS = ("工作时", "工作日", "小时", "自然日", "分钟")
MAX_ESCALATION_LEVEL = 5
BATCH_CACHE_KIB = 262_144  # SQLite page cache during apply_batch (KiB)
# The background writer's page cache (KiB), freed when the batch ends: at a million events the record's
# two random-order indexes (event hash, idempotency key) and case_state need about 400 MB to stay in memory.
WRITER_CACHE_KIB = 1_048_576
BATCH_CHUNK = 100_000  # most events per transaction in apply_batch (fewer commits; each rewrites its pages)
PROGRESS_EVERY = 10_000  # events between progress reports / cancel checks in apply_batch
# Idempotency keys kept in memory per case kept: beyond it the set is dropped and every later event is
# looked up in the store (one query each), so 6 x 200,000 covers a 1M-event replay or a city year in memory.
KEYS_PER_CASE_KEPT = 6


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user id (recorded as given, even if the store does not know it) and a role."""

    id: str
    role: str


@dataclass(slots=True)
class EventIn:
    """One action to apply. ``case_no`` ``None`` on a ``report``/``self_handle`` allocates a number.

    ``photos`` maps file names named in ``data`` (``photos`` list, or ``file`` of ``attach_photo``)
    to their bytes; names without bytes are recorded without an image. ``ref`` is echoed in errors
    (replay puts the line number there).
    """

    case_no: str | None
    action: str
    actor: Actor
    data: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | str | None = None
    ref: object = None
    photos: Mapping[str, bytes] | None = None


@dataclass(slots=True)
class Applied:
    """What one applied action produced."""

    case_no: str
    seq: int
    action: str
    status: str
    previous_status: str | None
    payload: dict[str, Any]


@dataclass(slots=True)
class BatchResult:
    applied: int = 0
    skipped: int = 0  # already applied before (same idempotency key)
    rejected: list[tuple[object, WorkflowError]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    last_seq: int = 0


def _refuse_state(case_no: str, status: str, action: str) -> RefusedError:
    return RefusedError(
        f"案件 {case_no} 当前状态为 {STATE_LABELS.get(status, status)}，不能{ACTION_LABELS[action]} "
        f"(case {case_no} is '{status}'; action '{action}' is not allowed)",
        "status", status,
    )


def _data_error(field_name: str, value: object, zh: str, en: str) -> DataError:
    return DataError(f"{zh}: {field_name}={value!r} ({en})", field_name, value)


def _parse_at(value: object, field_name: str = "at") -> tuple[str, datetime]:
    if isinstance(value, str) and len(value) == 25 and value.endswith("+08:00") and value[10] == "T":
        try:  # fast path: already in the store's form
            return value, datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        dt = timefmt.to_cst(value)
    elif isinstance(value, str):
        try:
            dt = timefmt.parse(value)
        except ValueError:
            raise _data_error(field_name, value, "时间格式错误", "not ISO 8601, e.g. 2026-10-05T09:30:00+08:00") from None
    else:
        raise _data_error(field_name, value, "时间格式错误", "expected an ISO 8601 text")
    return timefmt.fmt(dt), dt


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event_key(case_no: str, at: str, action: str, actor_id: str, role: str, data_text: str) -> str:
    """The idempotency key of an event: SHA-256 of its exchange-format content (case, time, who, what).

    ``data_text`` is ``canonical_json(data)`` of the data as given.
    """
    return _key_from_head(db_cases.canonical_json([case_no, at, action, actor_id, role]), data_text)


def _key_from_head(head: str, data_text: str) -> str:
    return hashlib.sha256((head + data_text).encode("utf-8")).hexdigest()


def _fmt_dt(d: datetime) -> str:
    """``timefmt.fmt`` with a fast path for values already in Beijing time at whole seconds.

    Replay formats a deadline for most events, and an aware ``isoformat`` (which asks the tzinfo for
    its offset and formats it) costs several times a date and a time-of-day text looked up in two
    small caches (days seen, seconds of the day seen). The text is the same.
    """
    if d.microsecond == 0 and (d.tzinfo is timefmt.CST or d.utcoffset() == _EIGHT_HOURS):
        o = d.toordinal()
        day = _DAY_TEXT.get(o)
        if day is None:
            day = _DAY_TEXT[o] = d.date().isoformat() + "T"
        s = d.hour * 3600 + d.minute * 60 + d.second
        tod = _TIME_TEXT.get(s)
        if tod is None:
            tod = _TIME_TEXT[s] = d.time().isoformat() + "+08:00"
        return day + tod
    return timefmt.fmt(d)


_EIGHT_HOURS = timedelta(hours=8)
_DAY_TEXT: dict[int, str] = {}  # proleptic ordinal -> "YYYY-MM-DDT" (one per day seen)
_TIME_TEXT: dict[int, str] = {}  # second of the day -> "HH:MM:SS+08:00" (at most 86,400)


# -- data checks per action ---------------------------------------------------------------------------------
def _req_str(data: Mapping[str, Any], key: str, action: str) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _data_error(key, v, f"{ACTION_LABELS[action]}缺少或错误的字段", f"'{action}' needs a non-empty text '{key}'")
    return v


def _opt_str(data: Mapping[str, Any], key: str) -> None:
    v = data.get(key)
    if v is not None and not isinstance(v, str):
        raise _data_error(key, v, "字段应为文本", "expected text")


def _req_bool(data: Mapping[str, Any], key: str, action: str) -> bool:
    v = data.get(key)
    if not isinstance(v, bool):
        raise _data_error(key, v, f"{ACTION_LABELS[action]}需要 true/false", f"'{action}' needs '{key}': true or false")
    return v


def _number(data: Mapping[str, Any], key: str) -> float:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _data_error(key, v, "应为数字", "expected a finite number")
    return float(v)


def _photo_names(data: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    p = data.get("photos")
    if p is not None:
        if not isinstance(p, list) or not all(isinstance(x, str) and x for x in p):
            raise _data_error("photos", p, "照片列表错误", "expected a list of file names")
        names.extend(p)
    f = data.get("file")
    if f is not None:
        if not isinstance(f, str) or not f:
            raise _data_error("file", f, "照片文件名错误", "expected a file name")
        names.append(f)
    return names


class _Refs:
    """Reference data (catalogue classes, departments, cases) looked up per action or preloaded for batches."""

    def __init__(self, store: Store, preload: bool) -> None:
        self.conn = store.conn
        self.preload = preload
        self._classes = db_cases.class_kinds(self.conn) if preload else None
        self._depts = db_cases.department_codes(self.conn) if preload else None

    def class_kinds(self, code: str) -> set[str]:
        if self._classes is not None:
            return self._classes.get(code, set())
        return db_cases.class_kind_of(self.conn, code)

    def department_ok(self, code: str) -> bool:
        if self._depts is not None:
            return not self._depts or code in self._depts
        return db_cases.department_known(self.conn, code) is not False


class _Session:
    """Snapshots in memory plus the rows waiting to be written; :meth:`flush` writes them in one go."""

    def __init__(self, engine: WorkflowEngine, preload: bool) -> None:
        self.engine = engine
        self.store = engine.store
        self.refs = _Refs(engine.store, preload)
        self.numbers = CaseNumberAllocator(engine.store.conn)
        self.cache: dict[str, CaseState] = {}
        self.written: dict[str, tuple[Any, ...]] = {}  # each cached case's row as it is in the store
        self.absent: set[str] = set()
        self.new: dict[str, CaseState] = {}
        self.changed: dict[str, CaseState] = {}
        self.rows: list[tuple[str, ...]] = []  # case, at, action, actor, role, head inner, payload, key
        self.photos: list[PhotoRow] = []
        self.seen_keys: set[str] = set()
        self.check_db_keys = True
        self.store_was_empty = False  # batch into an empty store: every case not in memory is new
        self.tail_seq, self.tail_hash = db_cases.chain_tail(engine.store.conn)
        self.next_seq = self.tail_seq + 1

    # -- snapshots ------------------------------------------------------------------------------------------
    def snapshot(self, case_no: str) -> CaseState | None:
        s = self.cache.get(case_no)
        if s is not None or case_no in self.absent or self.store_was_empty:
            return s
        s = db_cases.get_case(self.store.conn, case_no)
        if s is None:
            self.absent.add(case_no)
        else:
            self.cache[case_no] = s
            self.written[case_no] = db_cases.state_row(s)
        return s

    # -- one action -----------------------------------------------------------------------------------------
    def process(self, ev: EventIn, expected_seq: int | None = None, skip_known: bool = True) -> Applied | None:
        """Check and apply one action in memory. Returns ``None`` if it was applied before (same key)."""
        engine = self.engine
        action = ev.action
        t = TRANSITIONS.get(action) if isinstance(action, str) else None
        if t is None:
            raise _data_error("action", action, "未知的动作", "unknown action; see docs/workflow.md")
        actor = ev.actor
        if not isinstance(actor.id, str) or not actor.id.strip():
            raise _data_error("actor.id", actor.id, "操作人编号缺失", "actor id must be a non-empty text")
        if actor.role not in ROLE_LABELS:
            raise _data_error("actor.role", actor.role, "未知的角色", f"unknown role; one of {', '.join(ROLE_LABELS)}")
        data = ev.data
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                raise _data_error("data", data, "数据应为对象", "data must be a JSON object")
            data = dict(data)
        for k in data:
            if not isinstance(k, str) or k[:1] == "_":
                raise _data_error(f"data.{k}", data[k], "字段名不能以下划线开头", "keys starting with '_' are reserved")
        at, at_dt = _parse_at(ev.at if ev.at is not None else engine.clock.now())

        case_no = ev.case_no
        if case_no is None:
            if not t.creates:
                raise _data_error("case_no", None, f"{ACTION_LABELS[action]}需要案件编号", f"'{action}' needs a case_no")
            source = data.get("source")
            if source not in SOURCES:
                raise _data_error("source", source, "案件来源错误", f"one of {', '.join(SOURCES)}")
            case_no = self.numbers.next(at_dt.year, str(source))
        elif case_no not in self.cache:  # a cached case's number was checked when it was first seen
            try:
                check_case_no(case_no)
            except ValueError as exc:
                raise DataError(str(exc), "case_no", case_no) from None

        data_text = db_cases.canonical_json(data) if data else "{}"
        head = db_cases.canonical_strings((case_no, at, action, actor.id, actor.role))
        key = _key_from_head(head, data_text)
        if skip_known and (key in self.seen_keys or (
                self.check_db_keys and db_cases.known_keys(self.store.conn, [key]))):
            return None

        if actor.role not in t.roles:
            allowed = "、".join(ROLE_LABELS[r] for r in t.roles) if len(t.roles) < len(ROLE_LABELS) else "任何角色"
            raise RefusedError(
                f"角色 {ROLE_LABELS[actor.role]} 不能{ACTION_LABELS[action]}（仅限 {allowed}） "
                f"(role '{actor.role}' may not '{action}')",
                "actor.role", actor.role,
            )
        snap = self.snapshot(case_no)
        if t.creates:
            if snap is not None:
                raise RefusedError(
                    f"案件 {case_no} 已存在，不能再次{ACTION_LABELS[action]} (case {case_no} already exists)",
                    "case_no", case_no,
                )
        else:
            if snap is None:
                raise NotFoundError(f"案件 {case_no} 不存在 (no case {case_no})", "case_no", case_no)
            if expected_seq is not None and snap.last_seq != expected_seq:
                raise ConflictError(
                    f"案件 {case_no} 已被他人更新（您看到的是第 {expected_seq} 号事件，现在是第 {snap.last_seq} 号），"
                    f"请刷新后重试 (case changed meanwhile: expected_seq={expected_seq}, last_seq={snap.last_seq})",
                    "expected_seq", expected_seq,
                )
            if snap.updated_at is not None and at < snap.updated_at:
                raise _data_error(
                    "at", at, f"时间早于案件 {case_no} 的上一事件 {snap.updated_at}",
                    "out-of-order timestamp for this case",
                )
            if snap.status not in t.from_states:
                raise _refuse_state(case_no, snap.status, action)
            if t.requires_pending is not None and snap.pending_request != t.requires_pending:
                raise RefusedError(
                    f"案件 {case_no} 没有待审批的{PENDING_LABELS[t.requires_pending]}申请，不能{ACTION_LABELS[action]} "
                    f"(no pending '{t.requires_pending}' request)",
                    "pending_request", snap.pending_request,
                )
            if t.blocked_by_pending and snap.pending_request is not None:
                raise RefusedError(
                    f"案件 {case_no} 有待审批的{PENDING_LABELS.get(snap.pending_request, snap.pending_request)}申请，"
                    f"不能{ACTION_LABELS[action]} (a '{snap.pending_request}' request is waiting for a decision)",
                    "pending_request", snap.pending_request,
                )

        derived = self.decide(snap, case_no, at, at_dt, action, actor, data)
        payload = {**data, **derived}
        photos = self._photos(ev, case_no, action, payload, at) if ("photos" in data or "file" in data) else []
        seq = self.next_seq
        previous = snap.status if snap is not None else None
        new = project(snap, case_no, seq, at, action, actor.id, actor.role, payload)
        self.next_seq += 1
        payload_text = db_cases.join_objects(db_cases.canonical_json(derived), data_text)
        self.rows.append((case_no, at, action, actor.id, actor.role, head[1:-1], payload_text, key))
        self.seen_keys.add(key)
        self.photos.extend(photos)
        if snap is None:
            self.cache[case_no] = new
            self.absent.discard(case_no)
            self.new[case_no] = new
            self.numbers.seen(case_no)
        elif case_no not in self.new:
            self.changed[case_no] = new
        return Applied(case_no, seq, action, new.status, previous, payload)

    def decide(self, snap: CaseState | None, case_no: str, at: str, at_dt: datetime, action: str, actor: Actor,
               data: dict[str, Any]) -> dict[str, Any]:
        """Check the action's data and compute the derived values (the ``_`` keys) to record with it."""
        engine = self.engine
        t = TRANSITIONS[action]
        derived: dict[str, Any] = {}
        outcome: bool | None = None
        if t.outcome is not None:
            outcome = _req_bool(data, t.outcome, action)

        basis = snap
        if action in ("report", "self_handle"):
            basis = self._check_report(case_no, data, derived)
        elif action == "dispatch":
            dept = _req_str(data, "department", action)
            if not self.refs.department_ok(dept):
                raise _data_error("department", dept, "未知的专业部门", "unknown department code")
        elif action in ("request_extension", "decide_extension"):
            if action == "decide_extension" and outcome:
                assert snap is not None
                base_text = snap.handle_deadline or at
                new_deadline = self._extension(data, _dt(base_text), at_dt, required=True)
                assert new_deadline is not None
                if new_deadline <= _dt(base_text):
                    raise _data_error("until", data.get("until"), "延期后的时限必须晚于原处置时限 " + base_text,
                                      "the extended deadline must be later than the current one")
                self._check_ceiling(snap, data, new_deadline)
                derived["_handle_deadline"] = _fmt_dt(new_deadline)
                if snap.stage == "handle":
                    derived["_stage_deadline"] = derived["_handle_deadline"]
            elif action == "request_extension":
                self._extension(data, at_dt, at_dt, required=False)
        elif action == "resume":
            assert snap is not None
            derived.update(self._resume(snap, at_dt))
        elif action == "escalate":
            level = data.get("level")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_ESCALATION_LEVEL:
                raise _data_error("level", level, "督办级别错误", f"level must be an integer 1..{MAX_ESCALATION_LEVEL}")
            assert snap is not None
            derived["_escalation_count"] = snap.escalation_count + 1
        elif action == "mark_duplicate":
            original = _req_str(data, "original", action)
            if original == case_no:
                raise _data_error("original", original, "不能标记为自身的重复", "a case cannot duplicate itself")
            if self.snapshot(original) is None:
                raise _data_error("original", original, "原案件不存在", "the original case does not exist")
        elif action == "close":
            ct = data.get("close_type")
            if ct is not None and ct not in CLOSE_TYPES:
                raise _data_error("close_type", ct, "结案类型错误", f"one of {', '.join(CLOSE_TYPES)}")
            assert snap is not None
            if ct is None:
                late = snap.handled_at is not None and snap.handle_deadline is not None and (
                    _dt(snap.handled_at) > _dt(snap.handle_deadline))
                ct = "超时结案" if late else "正常结案"
            derived["_close_type"] = ct
        elif action == "attach_photo":
            names = _photo_names(data)
            sha = data.get("sha256")
            if sha is not None and (not isinstance(sha, str) or len(sha) != 64
                                    or any(c not in "0123456789abcdef" for c in sha)):
                raise _data_error("sha256", sha, "照片摘要错误", "expected 64 lowercase hex digits")
            if not names and sha is None:
                raise _data_error("file", None, "添加照片需要文件名或 sha256", "'attach_photo' needs 'file' or 'sha256'")
            stage = data.get("stage")
            if stage is not None and stage not in PHOTO_STAGES:
                raise _data_error("stage", stage, "照片阶段错误", f"one of {', '.join(PHOTO_STAGES)}")
            if stage is None:
                assert snap is not None
                derived["_photo_stage"] = _default_photo_stage(snap.status)
        for key in _TEXT_KEYS.intersection(data):
            _opt_str(data, key)
        if action in ("handle", "check", "verify", "report", "self_handle"):
            _photo_names(data)

        to = t.target(outcome)
        new_status = to if to is not None else (snap.status if snap is not None else "reported")
        derived["_to"] = new_status
        if action == "self_handle":
            derived["_close_type"] = "正常结案"

        new_stage = STAGE_OF_STATUS[new_status]
        old_stage = snap.stage if snap is not None else None
        restart = action != "resume" and (new_stage != old_stage or action == "dispatch")
        if restart:
            derived["_stage"] = new_stage
            deadline_text: str | None = None
            if new_stage is not None:
                d = engine.deadlines.deadline(new_stage, at_dt, basis)
                if d is not None:
                    if d < at_dt:
                        raise WorkflowError(
                            f"时限服务返回的时限 {_fmt_dt(d)} 早于阶段开始 {at} "
                            f"(deadline before the stage start for stage '{new_stage}')",
                            "deadline", _fmt_dt(d),
                        )
                    deadline_text = _fmt_dt(d)
            derived["_stage_deadline"] = deadline_text
            if new_stage == "handle":
                derived["_handle_deadline"] = deadline_text
        return derived

    def _check_report(self, case_no: str, data: dict[str, Any], derived: dict[str, Any]) -> CaseState:
        source = data.get("source")
        if source not in SOURCES:
            raise _data_error("source", source, "案件来源错误", f"one of {', '.join(SOURCES)}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise _data_error("kind", kind, "类别错误（部件/事件）", "kind must be 'part' or 'event'")
        class_code = data.get("class_code")
        if not isinstance(class_code, str):
            raise _data_error("class_code", class_code, "小类编码缺失", "class_code must be a text")
        kinds = self.refs.class_kinds(class_code)
        if not kinds:
            raise _data_error("class_code", class_code, "未知的小类编码（不在本库分类目录中）",
                              "unknown class code in the store's catalogue")
        if kind not in kinds:
            raise _data_error("class_code", class_code, f"该小类不是{KINDS[str(kind)]}", f"class is not of kind '{kind}'")
        lon = _number(data, "lon")
        lat = _number(data, "lat")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise _data_error("lon/lat", (lon, lat), "坐标超出经纬度范围", "coordinates out of range")
        urgency = data.get("urgency", "normal")
        if urgency not in URGENCIES:
            raise _data_error("urgency", urgency, "紧急程度错误", f"one of {', '.join(URGENCIES)}")
        part_code = data.get("part_code")
        if part_code is not None and (not isinstance(part_code, str) or not part_code.isdigit()
                                      or len(part_code) not in (16, 17)):
            raise _data_error("part_code", part_code, "部件编码错误", "expected 16 or 17 digits")
        loc = self.engine.locator.locate(lon, lat)
        if loc is None:
            raise _data_error("lon/lat", (lon, lat), "坐标不在城市范围内（不在任何单元网格中）",
                              "coordinates outside the city: no unit grid contains the point")
        grid = data.get("grid_code")
        if grid is not None:
            given = self.engine.locator.grid(grid) if isinstance(grid, str) else None
            if given is None:
                raise _data_error("grid_code", grid, "未知的单元网格", "unknown unit grid code")
            loc = given
        derived["_grid_code"] = loc.grid_code
        derived["_community_code"] = loc.community_code
        derived["_street_code"] = loc.street_code
        derived["_district_code"] = loc.district_code
        return CaseState(
            case_no=case_no, status="reported", source=str(source), kind=str(kind), class_code=class_code,
            part_code=part_code, urgency=str(urgency), grid_code=loc.grid_code,
            community_code=loc.community_code, street_code=loc.street_code, district_code=loc.district_code,
            lon=lon, lat=lat,
        )

    def _resume(self, snap: CaseState, at_dt: datetime) -> dict[str, Any]:
        """挂账恢复: move the deadlines by the stopped time and add it to ``suspended_hours``.

        With ``app.deadlines.WorkDeadlines`` (duck-typed: ``limit``, ``resume``, ``unit_hours``) the
        stopped time is measured in the handle limit's unit kind, so a 挂账 over a weekend costs a
        working-day limit nothing; otherwise it is clock time.
        """
        if snap.suspended_at is None:
            return {"_suspended_hours": 0.0}
        start = _dt(snap.suspended_at)
        d: Any = self.engine.deadlines
        unit = None
        if all(callable(getattr(d, n, None)) for n in ("limit", "resume", "unit_hours")):
            try:
                area = d.area_class_of(snap.grid_code) if callable(getattr(d, "area_class_of", None)) else None
                unit = d.limit("handle", snap.kind, snap.class_code, snap.urgency, area, snap.source).unit
            except (ValueError, LookupError):
                unit = None
        out: dict[str, Any] = {}
        if unit is not None:
            hours = float(d.unit_hours(start, at_dt, unit))
            for key, value in (("_handle_deadline", snap.handle_deadline), ("_stage_deadline", snap.stage_deadline)):
                if value is not None:
                    out[key] = _fmt_dt(d.resume(value, start, at_dt, unit))
        else:
            hours = (at_dt - start).total_seconds() / 3600
            for key, value in (("_handle_deadline", snap.handle_deadline), ("_stage_deadline", snap.stage_deadline)):
                if value is not None:
                    out[key] = _fmt_dt(_dt(value) + (at_dt - start))
        out["_suspended_hours"] = round(hours, 4)
        return out

    def _check_ceiling(self, snap: CaseState, data: Mapping[str, Any], new_deadline: datetime) -> None:
        """Refuse an approved extension that takes the handling time beyond the case's extension ceiling
        (``[[ceiling]]`` in time_limits.toml, e.g. 12345 orders at most 15 工作日). Duck-typed on the
        deadline service's ``extension_ceiling`` (``app.deadlines.WorkDeadlines``); others have none."""
        ceiling = getattr(self.engine.deadlines, "extension_ceiling", None)
        if not callable(ceiling):
            return
        found = ceiling(snap)
        if found is None:
            return
        latest, cap = found
        if new_deadline > latest:
            field_name = "until" if data.get("until") is not None else "amount"
            raise _data_error(
                field_name, data.get(field_name),
                f"延期后处置总时限超过上限 {cap.label}（最晚 {_fmt_dt(latest)}），不能批准",
                f"the extension would take the total handling time beyond the ceiling of {cap.label}",
            )

    def _extension(self, data: Mapping[str, Any], base: datetime, at_dt: datetime, required: bool) -> datetime | None:
        until = data.get("until")
        if until is not None:
            return _parse_at(until, "until")[1]
        if "amount" in data or "unit" in data:
            amount = _number(data, "amount")
            if amount <= 0:
                raise _data_error("amount", data.get("amount"), "延期时长必须大于 0", "amount must be > 0")
            unit = data.get("unit")
            if unit not in EXTENSION_UNITS:
                raise _data_error("unit", unit, "时限单位错误", f"one of {', '.join(EXTENSION_UNITS)}")
            return self.engine.deadlines.add(base, amount, str(unit))
        if required:
            raise _data_error("until", None, "批准延期需要 until 或 amount+unit",
                              "an approved extension needs 'until' or 'amount' + 'unit'")
        return None

    def _photos(self, ev: EventIn, case_no: str, action: str, payload: Mapping[str, Any], at: str) -> list[PhotoRow]:
        names = _photo_names(payload) if action in ("report", "handle", "check", "verify", "self_handle",
                                                    "attach_photo") else []
        if not names:
            return []
        stage = {"report": "report", "self_handle": "handle", "handle": "handle", "check": "check",
                 "verify": "report"}.get(action) or payload.get("stage") or payload.get("_photo_stage") or "report"
        out = []
        for name in names:
            blob = (ev.photos or {}).get(name)
            if blob is None:
                continue
            sha = hashlib.sha256(blob).hexdigest()
            if action == "attach_photo" and payload.get("sha256") not in (None, sha):
                raise _data_error("sha256", payload.get("sha256"), f"照片 {name} 的摘要与文件内容不符",
                                  "sha256 does not match the file's bytes")
            mime = mimetypes.guess_type(name)[0]
            out.append(PhotoRow(case_no, str(stage), sha, mime, blob, name, at))
        return out

    # -- writing --------------------------------------------------------------------------------------------
    def prepare(self) -> _WritePlan | None:
        """Chain the pending events (seq, prev_hash, hash) and freeze the rows to write; clears pending."""
        if not self.rows:
            return None
        expected = (self.tail_seq, self.tail_hash)
        prev = self.tail_hash
        seq = self.tail_seq
        events: list[tuple[Any, ...]] = []
        keys: list[tuple[str, int]] = []
        h = db_cases.event_hash_from_head
        for case_no, at, action, actor_id, role, head_inner, payload, key in self.rows:
            seq += 1
            this = h(seq, head_inner, payload, prev)
            events.append((seq, case_no, at, action, actor_id, role, payload, prev, this))
            keys.append((key, seq))
            prev = this
        row = db_cases.state_row
        written = self.written
        new_rows = []
        for no, st in self.new.items():
            written[no] = r = row(st)
            new_rows.append(r)
        changes: list[tuple[str, tuple[int, ...], tuple[Any, ...]]] = []
        for no, st in self.changed.items():
            r = row(st)
            old = written.get(no)
            idx = _ALL_COLUMNS if old is None else tuple(i for i in _ALL_COLUMNS if r[i] != old[i])
            if idx:
                changes.append((no, idx, tuple(r[i] for i in idx)))
            written[no] = r
        plan = _WritePlan(expected, events, keys, new_rows, changes, list(self.photos))
        self.tail_seq, self.tail_hash = seq, prev
        self.rows.clear()
        self.photos.clear()
        self.new.clear()
        self.changed.clear()
        return plan

    def flush(self) -> None:
        """Write the pending events, keys, states and photos; the caller holds the transaction."""
        plan = self.prepare()
        if plan is not None:
            plan.write(self.store.conn)

    def needs_eviction(self, keep_limit: int) -> bool:
        return len(self.cache) > keep_limit or len(self.seen_keys) > KEYS_PER_CASE_KEPT * keep_limit

    def evict(self, keep_limit: int = 200_000) -> None:
        """Drop finished cases (and old keys) from memory; only once everything prepared is committed."""
        if len(self.cache) > keep_limit:
            for no in [n for n, s in self.cache.items() if s.status in TERMINAL_STATES]:
                del self.cache[no]
                self.written.pop(no, None)
            self.store_was_empty = False  # evicted cases must now be looked up in the store
        if len(self.seen_keys) > KEYS_PER_CASE_KEPT * keep_limit:
            self.seen_keys.clear()
            self.check_db_keys = True


@dataclass(slots=True)
class _WritePlan:
    """One chunk, frozen as plain tuples (the snapshots keep changing after it is prepared)."""

    expected_tail: tuple[int, str]
    events: list[tuple[Any, ...]]
    keys: list[tuple[str, int]]
    new_states: list[tuple[Any, ...]]
    changed_states: list[tuple[str, tuple[int, ...], tuple[Any, ...]]]  # (case_no, columns, values)
    photos: list[PhotoRow]

    def write(self, conn: sqlite3.Connection, background: bool = False) -> None:
        """Append the chunk; the caller holds the transaction. Refuses if the chain moved meanwhile.

        ``background``: written by :class:`_ChunkWriter`, so no row may call back into Python (the R-tree
        trigger's ``ST_*`` functions would need the GIL once per row).
        """
        tail = db_cases.chain_tail(conn)
        if tail != self.expected_tail:
            raise WorkflowError(
                f"案件记录在批处理期间被其他写入者修改 (record changed during the batch: expected seq "
                f"{self.expected_tail[0]}, found {tail[0]})", "seq", tail[0],
            )
        db_cases.insert_events(conn, self.events)
        db_cases.insert_keys(conn, self.keys)
        if self.new_states:
            db_cases.insert_state_rows(conn, self.new_states, direct=background)
        if self.changed_states:
            db_cases.update_state_changes(conn, self.changed_states)
        if self.photos:
            db_cases.insert_photos(conn, self.photos)


class _ChunkWriter:
    """Writes a batch's prepared chunks on its own connection in one background thread.

    Why: at a million events about half of replay is SQLite maintaining the record's indexes and
    committing. Chunk *n* is written here while the engine checks chunk *n+1*, so on a machine with
    two cores that work overlaps the Python checks. The statements are multi-row (``db.cases.insert_rows``),
    so SQLite runs thousands of rows per call with the GIL released; an earlier writer thread that used
    ``executemany`` convoyed on the GIL (it needs the GIL back after every row) and was slower.

    Each chunk is still one transaction, written in order, at most one in flight: :meth:`submit` waits
    for the previous chunk (and re-raises its error, e.g. another writer moved the chain), so an
    interruption leaves whole chunks, exactly like the synchronous path. The engine's own reads go to
    the store's connection: a case or key of a chunk not yet committed is still in the batch's memory
    (eviction waits for the writer first), so those reads never need the pending rows.
    """

    def __init__(self, path: str, cache_kib: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from db.store import connect

        self.conn = connect(path, check_same_thread=False)
        self.conn.execute(f"PRAGMA cache_size = {-cache_kib}")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wanmi-chunk-writer")
        self._future: Any = None

    def submit(self, plan: _WritePlan) -> None:
        self.wait()
        self._future = self._pool.submit(self._write, plan)

    def _write(self, plan: _WritePlan) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            plan.write(conn, background=True)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def idle(self) -> bool:
        return self._future is None or bool(self._future.done())

    def wait(self) -> None:
        """Block until the chunk in flight is committed; re-raise its error if it failed."""
        future, self._future = self._future, None
        if future is not None:
            future.result()

    def close(self) -> None:
        """Finish the chunk in flight (so an interruption still leaves whole chunks) and close."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
            self.conn.close()


def _default_photo_stage(status: str) -> str:
    if status in ("dispatched", "handled", "suspended", "return_requested"):
        return "handle"
    if status in ("checking", "closing", "closed"):
        return "check"
    return "report"


def project(snap: CaseState | None, case_no: str, seq: int, at: str, action: str, actor_id: str, role: str,
            payload: Mapping[str, Any]) -> CaseState:
    """Apply one recorded event to a snapshot (mutated in place; created for report/self_handle).

    Pure: uses only the event (its payload carries the derived values), never the services, so a
    replay of ``case_event`` always reproduces ``case_state``.
    """
    if snap is None:
        s = CaseState(
            case_no=case_no, status="reported", source=payload.get("source"), kind=payload.get("kind"),
            class_code=payload.get("class_code"), part_code=payload.get("part_code"),
            urgency=payload.get("urgency", "normal"),
            grid_code=payload.get("_grid_code"), community_code=payload.get("_community_code"),
            street_code=payload.get("_street_code"), district_code=payload.get("_district_code"),
            address=payload.get("address"), description=payload.get("description"), reporter_id=actor_id,
            reported_at=at, lon=float(payload["lon"]), lat=float(payload["lat"]),
        )
        if action == "self_handle":
            s.self_handled = 1
            s.handled_at = at
    else:
        s = snap
    new_status: str = payload["_to"]
    if action == "register":
        s.registered_at = at
    elif action == "dispatch":
        s.department = payload["department"]
        s.dispatched_at = at
        s.dispatch_count += 1
    elif action in ("request_return", "request_extension", "request_suspend", "request_void"):
        s.pending_request = TRANSITIONS[action].sets_pending
    elif action in ("decide_return", "decide_extension", "decide_suspend", "decide_void"):
        s.pending_request = None
        if payload.get("approved"):
            if action == "decide_return":
                s.return_count += 1
            elif action == "decide_extension":
                old = s.handle_deadline
                new = payload["_handle_deadline"]
                if old is not None:
                    s.extension_hours = round(s.extension_hours + (_dt(new) - _dt(old)).total_seconds() / 3600, 4)
                s.extension_count += 1
            elif action == "decide_suspend":
                s.suspended_at = at
    elif action == "resume":
        s.suspended_hours = round(s.suspended_hours + float(payload.get("_suspended_hours", 0.0)), 4)
        s.suspended_at = None
        if "_stage_deadline" in payload:
            s.stage_deadline = payload["_stage_deadline"]
    elif action == "handle":
        s.handled_at = at
    elif action == "check":
        if not payload.get("passed"):
            s.rework_count += 1
    elif action == "escalate":
        s.escalation_level = int(payload["level"])
        s.escalation_count = int(payload.get("_escalation_count", s.escalation_count + 1))
    elif action == "mark_duplicate":
        s.duplicate_of = payload["original"]
    if "_close_type" in payload:
        s.close_type = payload["_close_type"]
    if new_status in TERMINAL_STATES and s.closed_at is None:
        s.closed_at = at
        s.pending_request = None
        if s.suspended_at is not None:
            s.suspended_hours = round(
                s.suspended_hours + (_dt(at) - _dt(s.suspended_at)).total_seconds() / 3600, 4)
            s.suspended_at = None
    if "_stage" in payload:
        s.stage = payload["_stage"]
        s.stage_started_at = at if s.stage is not None else None
        s.stage_deadline = payload.get("_stage_deadline")
    if "_handle_deadline" in payload:
        s.handle_deadline = payload["_handle_deadline"]
        if s.stage == "handle" and "_stage" not in payload:
            s.stage_deadline = payload.get("_stage_deadline", s.stage_deadline)
    s.status = new_status
    s.last_seq = seq
    s.updated_at = at
    return s


def replay_states(events: Iterable[EventRow]) -> dict[str, CaseState]:
    """Rebuild every case snapshot from recorded events (for ``verify`` and tests)."""
    states: dict[str, CaseState] = {}
    for e in events:
        payload = e.data()
        prev = states.get(e.case_no)
        states[e.case_no] = project(prev, e.case_no, e.seq, e.at, e.action, e.actor_id, e.role, payload)
    return states


class WorkflowEngine:
    """Applies case actions through the transition table and records them; see the module docstring.

    ``WorkflowEngine(store, clock=..., deadlines=..., locator=...)``: every service is injectable;
    the defaults are the system clock, ``app.deadlines`` (when present) and a ``unit_grid`` locator.
    """

    # apply_batch writes chunks on a background connection when the store is a file (see _ChunkWriter)
    background_writes = True

    def __init__(self, store: Store, clock: Clock | None = None, deadlines: Deadlines | None = None,
                 locator: Locator | None = None) -> None:
        self.store = store
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.deadlines: Deadlines = deadlines if deadlines is not None else default_deadlines(store)
        if locator is None:
            from app.workflow.locator import StoreLocator

            locator = StoreLocator(store)
        self.locator: Locator = locator

    # -- single actions --------------------------------------------------------------------------------------
    def act(self, case_no: str | None, action: str, actor: Actor, data: Mapping[str, Any] | None = None,
            at: datetime | str | None = None, *, expected_seq: int | None = None,
            photos: Mapping[str, bytes] | None = None) -> Applied:
        """Apply one action in one transaction, or raise a :class:`WorkflowError` saying why not.

        ``at`` defaults to the clock's now. ``expected_seq`` is the case's ``last_seq`` the operator saw:
        if the case changed since, the action is refused (:class:`ConflictError`).
        """
        ev = EventIn(case_no, action, actor, data or {}, at, photos=photos)
        with self.store.atomic():
            session = _Session(self, preload=False)
            applied = session.process(ev, expected_seq=expected_seq, skip_known=False)
            assert applied is not None
            session.flush()
        return applied

    def case(self, case_no: str) -> CaseState | None:
        return db_cases.get_case(self.store.conn, case_no)

    # -- batches ---------------------------------------------------------------------------------------------
    def apply_batch(self, events: Iterable[EventIn], progress: Progress | None = None, total: int | None = None,
                    chunk_size: int = BATCH_CHUNK, on_applied: Callable[[EventIn, Applied], None] | None = None,
                    keep_cases: int = 200_000) -> BatchResult:
        """Apply many actions fast: snapshots stay in memory, rows are written per chunk, multi-row.

        Each event is checked exactly like :meth:`act`; a rejected one is reported in
        ``result.rejected`` (with its ``ref``) and not written, and the rest still apply. An event whose
        idempotency key was applied before is skipped (``result.skipped``), so a second replay of the
        same events changes nothing. Each chunk (at most ``chunk_size`` events) is one transaction, so an
        interruption leaves whole events. On a file store the chunks are written by a background
        connection while the next chunk is checked (:class:`_ChunkWriter`). Beyond ``keep_cases``
        snapshots in memory, finished (closed/void) cases are dropped after a chunk.
        """
        conn = self.store.conn
        old_cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        old_temp = conn.execute("PRAGMA temp_store").fetchone()[0]
        # A bulk load touches the record's indexes all over: a larger page cache (256 MB) keeps them in
        # memory at a million events; synchronous stays NORMAL. Restored afterwards.
        conn.execute(f"PRAGMA cache_size = {min(int(old_cache), -BATCH_CACHE_KIB)}")
        conn.execute("PRAGMA temp_store = MEMORY")
        # The batch allocates millions of short-lived containers and keeps up to keep_cases snapshots,
        # none of them in reference cycles: the cyclic collector's passes over that heap cost about a
        # tenth of replay and free nothing. Reference counting still frees everything; restored after.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._apply_batch(events, progress, total, chunk_size, on_applied, keep_cases)
        finally:
            if gc_was_enabled:
                gc.enable()
            conn.execute(f"PRAGMA cache_size = {int(old_cache)}")
            conn.execute(f"PRAGMA temp_store = {int(old_temp)}")

    def _chunk_writer(self) -> _ChunkWriter | None:
        """A background writer for a file store outside any transaction; ``None`` = write synchronously
        (an in-memory store has no second connection; inside a caller's transaction the chunks must
        join it)."""
        if not self.background_writes or self.store.path is None or self.store.conn.in_transaction:
            return None
        return _ChunkWriter(str(self.store.path), WRITER_CACHE_KIB)

    def _apply_batch(self, events: Iterable[EventIn], progress: Progress | None, total: int | None,
                     chunk_size: int, on_applied: Callable[[EventIn, Applied], None] | None,
                     keep_cases: int) -> BatchResult:
        writer = self._chunk_writer()
        if writer is None:
            return self._apply_chunks(events, progress, total, chunk_size, on_applied, keep_cases, None)
        failed = True
        try:
            result = self._apply_chunks(events, progress, total, chunk_size, on_applied, keep_cases, writer)
            failed = False
        finally:
            try:
                writer.close()
            except Exception:
                if not failed:
                    raise  # the last chunk failed: report it; otherwise the first error is the one raised
        return result

    def _apply_chunks(self, events: Iterable[EventIn], progress: Progress | None, total: int | None,
                      chunk_size: int, on_applied: Callable[[EventIn, Applied], None] | None,
                      keep_cases: int, writer: _ChunkWriter | None) -> BatchResult:
        result = BatchResult()
        session = _Session(self, preload=True)
        session.check_db_keys = db_cases.key_count(self.store.conn) > 0
        session.store_was_empty = db_cases.count_states(self.store.conn) == 0
        if total is None and isinstance(events, list | tuple):
            total = len(events)
        pending = 0
        # With a background writer a chunk is handed over as soon as the writer is free and at least
        # min_chunk events wait, so the writer stays busy without a long unoverlapped last chunk; every
        # chunk also costs a commit, so chunks grow (up to chunk_size) when the writer is the slower side.
        min_chunk = chunk_size if writer is None else max(1, chunk_size // 2)
        for i, ev in enumerate(events):
            if progress is not None and i and i % PROGRESS_EVERY == 0:
                progress.check()  # a cancel leaves the committed chunks (and the one being written) whole
                progress.report(i / total if total else 0.0, f"已应用 {result.applied} 条事件")
            try:
                applied = session.process(ev)
            except WorkflowError as exc:
                result.rejected.append((ev.ref if ev.ref is not None else i, exc))
                continue
            if applied is None:
                result.skipped += 1
                continue
            result.applied += 1
            if applied.previous_status is None:
                result.created.append(applied.case_no)
            if on_applied is not None:
                on_applied(ev, applied)
            pending += 1
            if pending >= min_chunk and (pending >= chunk_size or (
                    writer is not None and pending % 1024 == 0 and writer.idle())):
                self._commit(session, keep_cases, writer)
                pending = 0
        self._commit(session, keep_cases, writer)
        if writer is not None:
            writer.wait()
        result.last_seq = session.tail_seq
        if progress is not None:
            progress.report(1.0, f"已应用 {result.applied} 条事件")
        return result

    def _commit(self, session: _Session, keep_cases: int = 200_000, writer: _ChunkWriter | None = None) -> None:
        plan = session.prepare()
        if plan is not None:
            if writer is not None:
                writer.submit(plan)
            else:
                with self.store.atomic() as conn:
                    plan.write(conn)
        if session.needs_eviction(keep_cases):
            if writer is not None:
                writer.wait()  # evicted cases and keys must be readable from the store
            session.evict(keep_cases)
