"""The exchange format (ARCHITECTURE §6.5): JSON Lines of case events, in and out.

One JSON object per line::

    {"case_no": "2026J000123", "at": "2026-10-05T09:30:00+08:00", "action": "report",
     "actor": {"id": "J0107", "role": "inspector"},
     "data": {"source": "inspector", "kind": "event", "class_code": "0101", "lon": 117.18, "lat": 34.26}}

The same format carries the field app's reports, district-office sync and upper-platform exchange.
Reading checks the shape here (JSON, keys, an ``at`` with an offset); the engine checks the meaning
(role, state, class, place, time order). Writing emits each event's data exactly as it was given, so
export → replay into an empty store with the same base data reproduces the same ``case_state``, and a
line exported from a store is recognised by that store's idempotency keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app import timefmt
from app.progress import Progress
from app.workflow.engine import BATCH_CHUNK, Actor, EventIn, WorkflowEngine
from app.workflow.errors import DataError, WorkflowError
from db import cases as db_cases
from db.cases import EventRow

REQUIRED_KEYS = ("case_no", "at", "action", "actor", "data")
_KEYS = frozenset(REQUIRED_KEYS)
_ACTOR_KEYS = frozenset({"id", "role"})
_raw_decode = json.JSONDecoder().raw_decode
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


# Actors are immutable and a feed has few of them: reuse one per (id, role) instead of building a frozen
# dataclass per line. Bounded so a feed of unique ids cannot grow it without limit.
_ACTORS: dict[tuple[str, str], Actor] = {}
_ACTORS_MAX = 10_000


def _actor(who: tuple[str, str]) -> Actor:
    a = Actor(*who)
    if len(_ACTORS) < _ACTORS_MAX:
        _ACTORS[who] = a
    return a


class ExchangeError(DataError):
    """A line that is not a well-formed exchange event."""


def parse_event(text: str, ref: object = None) -> EventIn:
    """One line → :class:`EventIn`, or :class:`ExchangeError` saying what is wrong with its shape."""
    try:
        try:  # the decoder without json.loads' two whitespace regex scans (lines arrive stripped)
            obj, end = _raw_decode(text)
        except ValueError:
            end = -1
        if end != len(text):
            obj = json.loads(text)  # leading/trailing whitespace, extra data or an error, as before
    except ValueError as exc:
        raise ExchangeError(f"JSON 格式错误 (malformed JSON: {exc})", "line", text[:80]) from None
    if type(obj) is dict and obj.keys() == _KEYS:  # fast path for well-formed lines
        at, actor, data, case_no, action = obj["at"], obj["actor"], obj["data"], obj["case_no"], obj["action"]
        if (type(at) is str and (at.endswith("+08:00") or _OFFSET.search(at)) and type(actor) is dict
                and actor.keys() == _ACTOR_KEYS and type(actor["id"]) is str and type(actor["role"]) is str
                and type(data) is dict and type(case_no) is str and type(action) is str):
            who = (actor["id"], actor["role"])
            act = _ACTORS.get(who)
            if act is None:
                act = _actor(who)
            return EventIn(case_no, action, act, data, at, ref=ref)
    if not isinstance(obj, dict):
        raise ExchangeError(f"每行应为一个 JSON 对象 (each line must be a JSON object, got {type(obj).__name__})",
                            "line", text[:80])
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise ExchangeError(f"缺少字段 {', '.join(missing)} (missing keys: {', '.join(missing)})", missing[0], None)
    extra = sorted(set(obj) - set(REQUIRED_KEYS))
    if extra:
        raise ExchangeError(f"未知字段 {', '.join(extra)} (unknown keys: {', '.join(extra)})", extra[0], obj[extra[0]])
    at = obj["at"]
    if not isinstance(at, str) or not _OFFSET.search(at):
        raise ExchangeError(f"时间须为带时区的 ISO 8601: at={at!r} (at needs an offset, e.g. +08:00)", "at", at)
    actor = obj["actor"]
    if not isinstance(actor, dict) or set(actor) != {"id", "role"}:
        raise ExchangeError(f"actor 应为 {{id, role}}: actor={actor!r} (actor must be {{\"id\", \"role\"}})",
                            "actor", actor)
    if not isinstance(actor["id"], str) or not isinstance(actor["role"], str):
        raise ExchangeError(f"actor.id 与 actor.role 应为文本: actor={actor!r} (texts expected)", "actor", actor)
    if not isinstance(obj["data"], dict):
        raise ExchangeError(f"data 应为 JSON 对象: data={obj['data']!r} (data must be an object)", "data", obj["data"])
    case_no = obj["case_no"]
    if not isinstance(case_no, str):
        raise ExchangeError(f"案件编号应为文本: case_no={case_no!r} (case_no must be a text)", "case_no", case_no)
    if not isinstance(obj["action"], str):
        raise ExchangeError(f"动作应为文本: action={obj['action']!r}", "action", obj["action"])
    return EventIn(case_no, obj["action"], Actor(actor["id"], actor["role"]), obj["data"], at, ref=ref)


def public_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The event's data as it was given (derived ``_`` keys removed)."""
    return {k: v for k, v in payload.items() if not k.startswith("_")}


def event_line(e: EventRow) -> str:
    """One recorded event as an exchange line (no trailing newline)."""
    obj = {
        "case_no": e.case_no,
        "at": e.at,
        "action": e.action,
        "actor": {"id": e.actor_id, "role": e.role},
        "data": public_data(json.loads(e.payload)),
    }
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def export_events(store: Any, out: IO[str], since_seq: int = 0, from_at: str | None = None) -> int:
    """Write events after ``since_seq`` (and at or after ``from_at``) to ``out``; returns the count."""
    if from_at is not None:
        from_at = timefmt.fmt(timefmt.parse(from_at))
    n = 0
    for e in db_cases.iter_events(store.conn, since_seq=since_seq, from_at=from_at):
        out.write(event_line(e))
        out.write("\n")
        n += 1
    return n


PHOTO_KEYS = ("photos", "file")


@dataclass(slots=True)
class ReplayReport:
    lines: int = 0
    applied: int = 0
    skipped: int = 0
    blank: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    created: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected


def _photo_bytes(ev: EventIn, photos_dir: Path) -> dict[str, bytes]:
    names: list[str] = []
    p = ev.data.get("photos")
    if isinstance(p, list):
        names.extend(x for x in p if isinstance(x, str))
    f = ev.data.get("file")
    if isinstance(f, str):
        names.append(f)
    out = {}
    for name in names:
        path = photos_dir / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ExchangeError(f"照片文件名不安全: {name!r} (photo names must be relative, without '..')", "photos", name)
        if not path.is_file():
            raise ExchangeError(f"照片文件不存在: {path} (photo file not found)", "photos", name)
        out[name] = path.read_bytes()
    return out


def replay_lines(engine: WorkflowEngine, lines: Iterable[str], photos_dir: Path | None = None,
                 progress: Progress | None = None, total: int | None = None, chunk_size: int = BATCH_CHUNK) -> ReplayReport:
    """Apply exchange lines through the engine, each exactly once; collect every invalid line's reason."""
    report = ReplayReport()

    def events() -> Iterator[EventIn]:
        for n, raw in enumerate(lines, start=1):
            report.lines = n
            text = raw.strip()
            if not text:
                report.blank += 1
                continue
            try:
                ev = parse_event(text, ref=n)
                if photos_dir is not None:
                    ev.photos = _photo_bytes(ev, photos_dir)
            except ExchangeError as exc:
                report.rejected.append((n, str(exc)))
                continue
            yield ev

    result = engine.apply_batch(events(), progress=progress, total=total, chunk_size=chunk_size)
    report.applied = result.applied
    report.skipped = result.skipped
    report.created = len(result.created)
    for ref, exc in result.rejected:
        report.rejected.append((int(ref) if isinstance(ref, int) else 0, _reason(exc)))
    report.rejected.sort(key=lambda r: r[0])
    return report


def _reason(exc: WorkflowError) -> str:
    return str(exc)


def replay_file(engine: WorkflowEngine, path: str | Path, photos_dir: str | Path | None = None,
                progress: Progress | None = None) -> ReplayReport:
    p = Path(path)
    total = None
    if progress is not None:
        with p.open("rb") as f:
            total = sum(1 for _ in f)
    with p.open(encoding="utf-8", errors="replace") as f:
        return replay_lines(engine, f, Path(photos_dir) if photos_dir is not None else None, progress, total)
