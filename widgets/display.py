"""How stored values read on screen: Chinese labels for workflow codes, times as ``2026-11-08 14:21``, and
messages without their English debugging tail. Used by the identify panel, the attribute tables, the
case detail and the dialogs, so that every view shows a value the same way."""

from __future__ import annotations

import re
from collections.abc import Mapping

from app.workflow.transitions import (
    KINDS,
    PENDING_LABELS,
    SOURCE_LABELS,
    STAGE_LABELS,
    STATE_LABELS,
    URGENCIES,
)

#: Case columns whose stored value is a workflow code, with the words a seat operator reads.
CODE_LABELS: dict[str, Mapping[str, str]] = {
    "status": STATE_LABELS,
    "source": SOURCE_LABELS,
    "kind": KINDS,
    "urgency": URGENCIES,
    "stage": STAGE_LABELS,
    "pending_request": {k: f"{v}申请待审" for k, v in PENDING_LABELS.items()},
}

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?$")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_ENGLISH_WORD = re.compile(r"[a-z]{2,}")


def format_time(value: object) -> str:
    """A stored ISO timestamp (``2026-11-08T14:21:41+08:00``) as ``2026-11-08 14:21``; other text unchanged."""
    text = "" if value is None else str(value)
    m = _TIMESTAMP.match(text)
    return f"{m.group(1)} {m.group(2)}" if m else text


def code_label(column: str, value: object) -> object:
    """The Chinese word for a workflow code in ``column`` (status, source, kind, urgency, stage, pending)."""
    labels = CODE_LABELS.get(column)
    if labels is None or value is None:
        return value
    return labels.get(str(value), value)


def user_text(message: str) -> str:
    """The Chinese part of a bilingual message: the core writes ``中文说明 (english details)`` so logs and
    tests can match either; a seat operator reads only the first part. A message with no Chinese is kept."""
    text = message.strip()
    ends = [m.end() for m in _CJK.finditer(text)]
    if not ends:
        return text
    head, tail = text[: ends[-1]], text[ends[-1] :]
    if _ENGLISH_WORD.search(tail):
        return head.rstrip(" ：:，,;；")
    return text
