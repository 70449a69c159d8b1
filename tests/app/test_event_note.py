"""The case timeline's note column says what each action decided in its own words (核实属实, 同意延期
2 工作日, 派往 …) instead of ``通过: 是`` or ``时长: 2；单位: 工作日``; data without such words keeps the generic
``标题: 值`` form."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from app import operations
from app.desk import _OUTCOME_WORDS, _event_note
from app.workflow import transitions as tr

DEPTS = {"SZ01": "市政工程管理处"}


def note(action: str, data: dict, departments: dict | None = DEPTS) -> str:
    return _event_note(json.dumps(data, ensure_ascii=False), departments, action)


@pytest.mark.parametrize(("action", "data", "expected"), [
    ("verify", {"passed": True}, "核实属实"),
    ("verify", {"passed": False, "comment": "现场无此问题"}, "核实不属实；意见: 现场无此问题"),
    ("check", {"passed": True}, "核查通过"),
    ("check", {"passed": False, "photos": ["a.jpg", "b.jpg"]}, "核查未通过，返工；照片 2 张"),
    ("decide_extension", {"approved": True, "amount": 2, "unit": "工作日",
                          "_handle_deadline": "2026-09-09T13:35:22+08:00"},
     "同意延期 2 工作日；处置时限延至 2026-09-09 13:35"),
    ("decide_extension", {"approved": True, "until": "2026-09-12T17:30:00+08:00"},
     "同意延期至 2026-09-12 17:30"),
    ("decide_extension", {"approved": False, "reason": "时限充足"}, "不同意延期；理由: 时限充足"),
    ("request_extension", {"amount": 1.5, "unit": "自然日", "reason": "需协调多个部门"},
     "申请延期 1.5 自然日；理由: 需协调多个部门"),
    ("decide_return", {"approved": True}, "同意回退"),
    ("decide_return", {"approved": False, "reason": "属本单位职责"}, "不同意回退；理由: 属本单位职责"),
    ("decide_suspend", {"approved": False}, "不同意挂账"),
    ("decide_void", {"approved": True}, "同意作废"),
    ("dispatch", {"department": "SZ01", "comment": "加急"}, "派往 市政工程管理处；意见: 加急"),
    ("close", {"_close_type": "超时结案"}, "超时结案"),
    ("close", {"close_type": "差错结案", "_close_type": "差错结案"}, "差错结案"),
    ("escalate", {"level": 1, "_escalation_count": 1}, "一级督办"),
    ("escalate", {"level": 2, "_escalation_count": 3, "comment": "限期处理"}, "二级督办（第 3 次）；意见: 限期处理"),
    ("mark_duplicate", {"original": "2026J000001"}, "与案件 2026J000001 重复"),
    ("resume", {"_handle_deadline": "2026-09-30T14:00:00+08:00", "_suspended_hours": 49.0},
     "处置时限顺延至 2026-09-30 14:00"),
    ("comment", {"callback": True, "satisfied": True, "text": "回访满意"}, "回访满意"),
    ("comment", {"callback": True, "satisfied": False, "text": "群众反映仍有垃圾"}, "回访不满意；群众反映仍有垃圾"),
    ("comment", {"text": "已电话联系"}, "已电话联系"),
    ("attach_photo", {"file": "p1.jpg", "sha256": "0" * 64, "stage": "handle"}, "照片 p1.jpg（处置阶段）"),
    ("attach_photo", {"file": "p2.jpg", "_photo_stage": "check"}, "照片 p2.jpg（核查阶段）"),
    ("report", {"source": "hotline_12345", "kind": "event", "class_code": "0102", "lon": 117.1, "lat": 34.2,
                "urgency": "urgent", "description": "暴露垃圾", "address": "文亭九巷3号", "_grid_code": "x"},
     "来源: 12345热线；紧急；描述: 暴露垃圾；地址: 文亭九巷3号"),
    ("report", {"source": "inspector", "kind": "part", "class_code": "0402", "part_code": "3203030402000378",
                "urgency": "normal", "lon": 117.1, "lat": 34.2}, "来源: 监督员上报"),
    ("self_handle", {"source": "inspector", "kind": "event", "class_code": "0511", "lon": 117.1, "lat": 34.2,
                     "feedback": "已清理", "_close_type": "正常结案"}, "反馈: 已清理"),
    ("handle", {"feedback": "已处置完毕", "photos": ["after.jpg"]}, "反馈: 已处置完毕；照片 1 张"),
    ("reject", {"reason": "不属于受理范围"}, "理由: 不属于受理范围"),
    ("request_void", {"reason": "信息有误"}, "理由: 信息有误"),
    ("accept", {"_to": "accepted", "_stage": "register"}, ""),
])
def test_action_words(action, data, expected):
    assert note(action, data) == expected


def test_unknown_keys_keep_the_generic_form():
    assert note("comment", {"text": "备注", "weather": "雨"}) == "备注；weather: 雨"
    assert note("handle", {"feedback": "好", "urgent_fix": True}) == "反馈: 好；urgent_fix: 是"
    # an action without its own words: titled keys read as before
    assert note("some_future_action", {"reason": "测试", "approved": True}) == "同意: 是；理由: 测试"
    # a department code without a name is shown as the code
    assert note("dispatch", {"department": "XX99"}, departments=None) == "派往 XX99"


def test_bad_payloads_give_no_note():
    assert _event_note("not json", None, "verify") == ""
    assert _event_note("", None, "verify") == ""
    assert _event_note("[1, 2]", None, "verify") == ""


# -- every operation's data, with every field it takes ---------------------------------------------------
_SAMPLE = {
    "passed": False, "approved": True, "comment": "意见甲", "reason": "理由乙", "department": "SZ01",
    "feedback": "反馈丙", "amount": 2, "unit": "工作日", "level": 2, "original": "2026J000001",
    "close_type": "差错结案", "source": "hotline_12345", "kind": "event", "class_code": "0102", "lon": 117.1,
    "lat": 34.2, "part_code": "3203030402000378", "address": "地址丁", "description": "描述戊",
    "urgency": "urgent", "stage": "handle", "text": "内容己",
}
_SKIP = {"engine", "actor", "case_no", "expected_seq", "at", "photos", "until"}


class _Recorder:
    """Stands in for the engine: records the action and data an operation would record."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    def act(self, case_no, action, actor, data, at=None, expected_seq=None, photos=None):
        from types import SimpleNamespace

        self.seen.append((action, dict(data)))
        return SimpleNamespace(case_no=case_no or "2026J000002", action=action)


def _recorded(tmp_path) -> list[tuple[str, dict]]:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"jpeg")
    rec = _Recorder()
    for name in operations.__all__:
        fn = getattr(operations, name)
        if not inspect.isfunction(fn):
            continue
        params = inspect.signature(fn).parameters
        args = [rec, None] + (["2026J000002"] if "case_no" in params else [])
        if "text" in params:
            args.append(_SAMPLE["text"])
        if "path" in params:
            args.append(str(photo))
        kwargs = {k: _SAMPLE[k] for k, p in params.items()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY and k not in _SKIP}
        fn(*args, **kwargs)
    return rec.seen


_RAW = re.compile(r"(^|；)[a-z_]+: ")  # an English key in the generic form


def test_every_operation_reads_in_words(tmp_path):
    seen = _recorded(tmp_path)
    with_data = {action for action, data in seen if data}
    assert with_data >= {a for a, t in tr.TRANSITIONS.items() if t.outcome}  # all decisions are covered
    for action, data in seen:
        text = note(action, data)
        assert not _RAW.search(text), (action, text)
        assert ": 是" not in text, (action, text)
        assert ": 否" not in text, (action, text)
        assert not re.search(r"(通过|同意|时长|单位): ", text), (action, text)
        for key in ("comment", "reason", "feedback", "address", "description", "text"):
            if key in data:
                assert str(data[key]) in text, (action, key, text)
        if tr.TRANSITIONS[action].outcome:  # a decision opens with what was decided
            assert text.split("；")[0].startswith(_OUTCOME_WORDS[action]), (action, text)


def test_demo_timelines_read_in_words(demo_store_path):
    """Every event the simulator recorded (all the actions a season produces) reads without raw keys."""
    import sqlite3

    conn = sqlite3.connect(f"file:{demo_store_path}?mode=ro", uri=True)
    try:
        names = dict(conn.execute("SELECT code, name FROM department").fetchall())
        rows = conn.execute("SELECT action, payload FROM case_event").fetchall()
    finally:
        conn.close()
    actions = set()
    for action, payload in rows:
        text = _event_note(payload, names, action)
        actions.add(action)
        assert not _RAW.search(text), (action, text)
        assert ": 是" not in text, (action, text)
        assert ": 否" not in text, (action, text)
    assert {"verify", "check", "decide_extension", "dispatch", "escalate", "comment"} <= actions
