"""Named case operations for the console: one call per button, each returning :class:`Changes`.

The console's writer thread calls these (ARCHITECTURE §8, STYLE pattern 4); each is exactly one
workflow action in one transaction through :class:`WorkflowEngine`, so the rules are the engine's.
Every operation takes ``expected_seq``: the ``last_seq`` of the case as the operator saw it. If
someone else changed the case meanwhile, the operation is refused with :class:`ConflictError`
("案件 … 已被他人更新 … 请刷新后重试") instead of acting on a state the operator never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from app.changes import Changes
from app.workflow.engine import Actor, Applied, WorkflowEngine
from app.workflow.errors import ConflictError

__all__ = [
    "ConflictError",
    "accept_case",
    "attach_photo",
    "check_case",
    "close_case",
    "comment",
    "decide_extension",
    "decide_return",
    "decide_suspend",
    "decide_void",
    "dispatch_case",
    "escalate_case",
    "file_case",
    "handle_case",
    "mark_duplicate",
    "register_case",
    "reject_case",
    "request_extension",
    "request_return",
    "request_suspend",
    "request_void",
    "resume_case",
    "self_handle",
    "send_check",
    "send_verify",
    "verify_case",
]

When = datetime | str | None
_NO_SCORE_ACTIONS = frozenset({"comment", "attach_photo"})


def _changes(applied: Applied, *more: str) -> Changes:
    return Changes.of_cases([applied.case_no, *more], scores=applied.action not in _NO_SCORE_ACTIONS)


def _do(engine: WorkflowEngine, case_no: str | None, action: str, actor: Actor, data: Mapping[str, Any],
        expected_seq: int | None, at: When = None, photos: Mapping[str, bytes] | None = None) -> Changes:
    clean = {k: v for k, v in data.items() if v is not None}
    applied = engine.act(case_no, action, actor, clean, at, expected_seq=expected_seq, photos=photos)
    return _changes(applied)


def _read_photos(paths: Sequence[str | Path]) -> tuple[list[str], dict[str, bytes]]:
    names, blobs = [], {}
    for p in paths:
        path = Path(p)
        names.append(path.name)
        blobs[path.name] = path.read_bytes()
    return names, blobs


# -- filing ------------------------------------------------------------------------------------------------
def file_case(engine: WorkflowEngine, actor: Actor, *, source: str, kind: str, class_code: str, lon: float,
              lat: float, part_code: str | None = None, address: str | None = None,
              description: str | None = None, urgency: str = "normal", photos: Sequence[str | Path] = (),
              at: When = None) -> Changes:
    """上报: file a new case; the new case number is ``changes.case_no``."""
    names, blobs = _read_photos(photos)
    data = {"source": source, "kind": kind, "class_code": class_code, "lon": lon, "lat": lat,
            "part_code": part_code, "address": address, "description": description,
            "urgency": None if urgency == "normal" else urgency, "photos": names or None}
    return _do(engine, None, "report", actor, data, None, at, blobs)


def self_handle(engine: WorkflowEngine, actor: Actor, *, kind: str, class_code: str, lon: float, lat: float,
                part_code: str | None = None, address: str | None = None, description: str | None = None,
                feedback: str | None = None, photos: Sequence[str | Path] = (), at: When = None) -> Changes:
    """自处理: an inspector reports, fixes and closes a small problem in one step."""
    names, blobs = _read_photos(photos)
    data = {"source": "inspector", "kind": kind, "class_code": class_code, "lon": lon, "lat": lat,
            "part_code": part_code, "address": address, "description": description, "feedback": feedback,
            "photos": names or None}
    return _do(engine, None, "self_handle", actor, data, None, at, blobs)


# -- the main line -----------------------------------------------------------------------------------------
def send_verify(engine: WorkflowEngine, actor: Actor, case_no: str, *, expected_seq: int | None = None,
                at: When = None) -> Changes:
    return _do(engine, case_no, "send_verify", actor, {}, expected_seq, at)


def verify_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, passed: bool, comment: str | None = None,
                expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "verify", actor, {"passed": passed, "comment": comment}, expected_seq, at)


def accept_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, expected_seq: int | None = None,
                at: When = None) -> Changes:
    return _do(engine, case_no, "accept", actor, {}, expected_seq, at)


def register_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, expected_seq: int | None = None,
                  at: When = None) -> Changes:
    return _do(engine, case_no, "register", actor, {}, expected_seq, at)


def reject_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, reason: str | None = None,
                expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "reject", actor, {"reason": reason}, expected_seq, at)


def dispatch_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, department: str,
                  comment: str | None = None, expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "dispatch", actor, {"department": department, "comment": comment}, expected_seq, at)


def handle_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, feedback: str | None = None,
                photos: Sequence[str | Path] = (), expected_seq: int | None = None, at: When = None) -> Changes:
    """处置反馈 with after-photos (stored in ``case_photo`` with their SHA-256)."""
    names, blobs = _read_photos(photos)
    return _do(engine, case_no, "handle", actor, {"feedback": feedback, "photos": names or None}, expected_seq,
               at, blobs)


def send_check(engine: WorkflowEngine, actor: Actor, case_no: str, *, expected_seq: int | None = None,
               at: When = None) -> Changes:
    return _do(engine, case_no, "send_check", actor, {}, expected_seq, at)


def check_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, passed: bool, comment: str | None = None,
               photos: Sequence[str | Path] = (), expected_seq: int | None = None, at: When = None) -> Changes:
    """核查: passed → 待结案; failed → 返工 back to the same department."""
    names, blobs = _read_photos(photos)
    return _do(engine, case_no, "check", actor, {"passed": passed, "comment": comment, "photos": names or None},
               expected_seq, at, blobs)


def close_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, close_type: str | None = None,
               expected_seq: int | None = None, at: When = None) -> Changes:
    """结案: 正常结案 or 超时结案 decided by the engine unless ``close_type`` says 差错结案/特殊结案."""
    return _do(engine, case_no, "close", actor, {"close_type": close_type}, expected_seq, at)


# -- requests and decisions -------------------------------------------------------------------------------
def request_return(engine: WorkflowEngine, actor: Actor, case_no: str, *, reason: str | None = None,
                   expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "request_return", actor, {"reason": reason}, expected_seq, at)


def decide_return(engine: WorkflowEngine, actor: Actor, case_no: str, *, approved: bool, reason: str | None = None,
                  expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "decide_return", actor, {"approved": approved, "reason": reason}, expected_seq, at)


def request_extension(engine: WorkflowEngine, actor: Actor, case_no: str, *, until: When = None,
                      amount: float | None = None, unit: str | None = None, reason: str | None = None,
                      expected_seq: int | None = None, at: When = None) -> Changes:
    data = {"until": _text(until), "amount": amount, "unit": unit, "reason": reason}
    return _do(engine, case_no, "request_extension", actor, data, expected_seq, at)


def decide_extension(engine: WorkflowEngine, actor: Actor, case_no: str, *, approved: bool, until: When = None,
                     amount: float | None = None, unit: str | None = None, reason: str | None = None,
                     expected_seq: int | None = None, at: When = None) -> Changes:
    """审批延期: an approval moves the handle deadline to ``until`` or by ``amount`` ``unit``."""
    data = {"approved": approved, "until": _text(until), "amount": amount, "unit": unit, "reason": reason}
    return _do(engine, case_no, "decide_extension", actor, data, expected_seq, at)


def request_suspend(engine: WorkflowEngine, actor: Actor, case_no: str, *, reason: str | None = None,
                    expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "request_suspend", actor, {"reason": reason}, expected_seq, at)


def decide_suspend(engine: WorkflowEngine, actor: Actor, case_no: str, *, approved: bool,
                   reason: str | None = None, expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "decide_suspend", actor, {"approved": approved, "reason": reason}, expected_seq, at)


def resume_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, expected_seq: int | None = None,
                at: When = None) -> Changes:
    return _do(engine, case_no, "resume", actor, {}, expected_seq, at)


def request_void(engine: WorkflowEngine, actor: Actor, case_no: str, *, reason: str | None = None,
                 expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "request_void", actor, {"reason": reason}, expected_seq, at)


def decide_void(engine: WorkflowEngine, actor: Actor, case_no: str, *, approved: bool, reason: str | None = None,
                expected_seq: int | None = None, at: When = None) -> Changes:
    return _do(engine, case_no, "decide_void", actor, {"approved": approved, "reason": reason}, expected_seq, at)


# -- the rest ----------------------------------------------------------------------------------------------
def escalate_case(engine: WorkflowEngine, actor: Actor, case_no: str, *, level: int = 1,
                  comment: str | None = None, expected_seq: int | None = None, at: When = None) -> Changes:
    """督办; a second 督办 on the same case is counted as repeated (``escalation_count``)."""
    return _do(engine, case_no, "escalate", actor, {"level": level, "comment": comment}, expected_seq, at)


def mark_duplicate(engine: WorkflowEngine, actor: Actor, case_no: str, *, original: str,
                   expected_seq: int | None = None, at: When = None) -> Changes:
    """重复上报: ``case_no`` ends 已作废 with ``duplicate_of`` = ``original``; both cases change."""
    changes = _do(engine, case_no, "mark_duplicate", actor, {"original": original}, expected_seq, at)
    return changes.merge(Changes.of_cases([original], scores=True))


def comment(engine: WorkflowEngine, actor: Actor, case_no: str, text: str, *, expected_seq: int | None = None,
            at: When = None) -> Changes:
    return _do(engine, case_no, "comment", actor, {"text": text}, expected_seq, at)


def attach_photo(engine: WorkflowEngine, actor: Actor, case_no: str, path: str | Path, *, stage: str | None = None,
                 expected_seq: int | None = None, at: When = None) -> Changes:
    """Add a photo file to a case (stored with its SHA-256 in ``case_photo``)."""
    import hashlib

    names, blobs = _read_photos([path])
    data = {"file": names[0], "sha256": hashlib.sha256(blobs[names[0]]).hexdigest(), "stage": stage}
    return _do(engine, case_no, "attach_photo", actor, data, expected_seq, at, blobs)


def _text(v: When) -> str | None:
    if v is None or isinstance(v, str):
        return v
    from app import timefmt

    return timefmt.fmt(v)
