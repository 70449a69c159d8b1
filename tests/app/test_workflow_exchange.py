"""The exchange format: every kind of bad line is refused with a reason and changes nothing;
replay is idempotent; export → replay into an empty store reproduces case_state; photos travel beside."""

from __future__ import annotations

import hashlib
import io
import json
from types import SimpleNamespace

import pytest

from app.commands import export_events as export_cmd
from app.commands import replay as replay_cmd
from app.exchange import event_line, export_events, parse_event, replay_lines
from app.workflow.engine import WorkflowEngine
from app.workflow.ports import NaturalDeadlines
from db import cases as db_cases
from tests.app.workflow_helpers import OUTSIDE, classes, drive_to, make_engine, make_store, state_rows

T = "2026-03-02T{}+08:00"


def line(case_no, at, action, actor_id, role, data):
    return json.dumps({"case_no": case_no, "at": T.format(at), "action": action,
                       "actor": {"id": actor_id, "role": role}, "data": data}, ensure_ascii=False)


def good_lines(store):
    # 暴露垃圾: the first event class, 私搭乱建, already has 15 工作日, the 12345 extension ceiling, so the
    # extension below would be refused
    cls = "0102"
    rep = {"source": "hotline_12345", "kind": "event", "class_code": cls, "lon": 117.0005, "lat": 34.0005,
           "address": "解放路12号", "description": "垃圾堆积"}
    return [
        line("2026H000001", "09:00:00", "report", "u1", "intake", rep),
        line("2026H000001", "09:05:00", "send_verify", "u1", "intake", {}),
        line("2026H000001", "09:20:00", "verify", "J01", "inspector", {"passed": True}),
        line("2026H000001", "09:30:00", "register", "u2", "shift_lead", {}),
        line("2026H000001", "09:40:00", "dispatch", "u3", "dispatcher", {"department": "D01"}),
        line("2026H000001", "10:00:00", "request_extension", "d1", "department", {"amount": 1, "unit": "工作日"}),
        line("2026H000001", "10:10:00", "decide_extension", "u3", "dispatcher",
             {"approved": True, "amount": 1, "unit": "工作日"}),
        line("2026H000001", "15:00:00", "handle", "d1", "department", {"feedback": "已清理"}),
        line("2026H000001", "15:10:00", "send_check", "u1", "intake", {}),
        line("2026H000001", "15:40:00", "check", "J01", "inspector", {"passed": True}),
        line("2026H000001", "16:00:00", "close", "u2", "shift_lead", {}),
        line("2026J000001", "11:00:00", "self_handle", "J02", "inspector",
             {**rep, "source": "inspector", "photos": ["p1.jpg"]}),
        line("2026J000001", "11:05:00", "comment", "X99", "leader", {"text": "好"}),
    ]


@pytest.fixture
def env():
    store = make_store()
    engine, clock = make_engine(store)
    yield engine, clock
    store.close()


def test_good_file_applies_then_replays_as_no_op(env):
    engine, _ = env
    lines = good_lines(engine.store)
    rep = replay_lines(engine, lines, chunk_size=4)
    assert rep.rejected == []
    assert (rep.applied, rep.skipped, rep.created) == (len(lines), 0, 2)
    case = engine.case("2026H000001")
    assert (case.status, case.extension_count, case.close_type) == ("closed", 1, "正常结案")
    before = state_rows(engine.store)
    seq = db_cases.max_seq(engine.store.conn)
    again = replay_lines(engine, lines)
    assert (again.applied, again.skipped, again.rejected) == (0, len(lines), [])
    assert state_rows(engine.store) == before
    assert db_cases.max_seq(engine.store.conn) == seq


BAD = [
    ("malformed JSON", '{"case_no": "2026H000002", "at": ', "JSON"),
    ("not an object", "[1, 2, 3]", "JSON 对象"),
    ("missing key", json.dumps({"case_no": "2026H000002", "at": T.format("12:00:00"), "action": "report"}), "缺少字段"),
    ("no offset", line("2026H000001", "12:00:00", "comment", "u", "intake", {}).replace("+08:00", ""), "时区"),
    ("unknown action", line("2026H000001", "12:00:00", "teleport", "u", "intake", {}), "未知的动作"),
    ("unknown role", line("2026H000001", "12:00:00", "comment", "u", "janitor", {}), "未知的角色"),
    ("wrong role", line("2026H000001", "12:00:00", "close", "u", "department", {}), "不能结案"),
    ("wrong state", line("2026H000001", "12:00:00", "dispatch", "u", "dispatcher", {"department": "D01"}), "不能派遣"),
    ("out-of-order time", line("2026H000001", "08:00:00", "comment", "u", "intake", {"text": "x"}), "时间早于"),
    ("unknown class", None, "未知的小类"),
    ("unknown grid", None, "未知的单元网格"),
    ("outside the city", None, "不在城市范围内"),
    ("unknown case", line("2026H999999", "12:00:00", "comment", "u", "intake", {}), "不存在"),
    ("unknown department", None, "未知的专业部门"),
    ("missing photo", None, "照片文件不存在"),
]


@pytest.mark.parametrize(("kind", "bad", "reason"), BAD, ids=[b[0] for b in BAD])
def test_each_kind_of_bad_line_is_refused_and_changes_nothing(env, tmp_path, kind, bad, reason):
    engine, _ = env
    store = engine.store
    good = good_lines(store)[:5]  # up to dispatch
    rep = {"source": "public", "kind": "event", "class_code": classes(store)["event"], "lon": 117.0005, "lat": 34.0005}
    if kind == "unknown class":
        bad = line("2026G000001", "12:00:00", "report", "u", "intake", {**rep, "class_code": "9999"})
    elif kind == "unknown grid":
        bad = line("2026G000001", "12:00:00", "report", "u", "intake", {**rep, "grid_code": "320311001001999"})
    elif kind == "outside the city":
        bad = line("2026G000001", "12:00:00", "report", "u", "intake", {**rep, "lon": OUTSIDE[0], "lat": OUTSIDE[1]})
    elif kind == "unknown department":
        bad = line("2026G000001", "12:00:00", "report", "u", "intake", rep)
        good.extend([bad, line("2026G000001", "12:01:00", "accept", "u", "intake", {}),
                     line("2026G000001", "12:02:00", "register", "u", "shift_lead", {})])
        bad = line("2026G000001", "12:03:00", "dispatch", "u", "dispatcher", {"department": "D99"})
    elif kind == "missing photo":
        bad = line("2026H000001", "12:00:00", "attach_photo", "d1", "department", {"file": "nope.jpg"})
    replay_lines(engine, good)
    before = state_rows(store)
    seq = db_cases.max_seq(store.conn)
    photos = store.count("case_photo")
    rep_bad = replay_lines(engine, [good[0], bad], photos_dir=tmp_path)
    assert rep_bad.applied == 0
    assert [n for n, _ in rep_bad.rejected] == [2]
    assert reason in rep_bad.rejected[0][1]
    assert state_rows(store) == before
    assert db_cases.max_seq(store.conn) == seq
    assert store.count("case_photo") == photos


def test_parse_event_keeps_actor_and_data_as_given():
    ev = parse_event(line("X-1", "09:00:00", "comment", "外部用户7", "leader", {"text": "看看", "extra": [1]}), ref=3)
    assert (ev.case_no, ev.actor.id, ev.actor.role, ev.ref) == ("X-1", "外部用户7", "leader", 3)
    assert ev.data == {"text": "看看", "extra": [1]}


def test_export_then_replay_into_an_empty_store_reproduces_case_state(env, tmp_path):
    engine, clock = env
    replay_lines(engine, good_lines(engine.store))
    made = {s: drive_to(engine, clock, s) for s in ("closed", "suspended", "void", "return_requested", "dispatched")}
    engine.act(made["dispatched"], "escalate", engine_actor("leader"), {"level": 2})
    out = io.StringIO()
    n = export_events(engine.store, out)
    assert n == db_cases.max_seq(engine.store.conn)
    target = make_store()
    try:
        eng2 = WorkflowEngine(target, deadlines=NaturalDeadlines())
        rep = replay_lines(eng2, out.getvalue().splitlines())
        assert rep.rejected == []
        assert rep.applied == n
        assert state_rows(target) == state_rows(engine.store)
        # and the same lines are recognised as already applied by the source store
        again = replay_lines(engine, out.getvalue().splitlines())
        assert (again.applied, again.skipped) == (0, n)
    finally:
        target.close()


def engine_actor(role):
    from tests.app.workflow_helpers import ROLE_ACTORS

    return ROLE_ACTORS[role]


def test_export_since_and_from(env):
    engine, _ = env
    replay_lines(engine, good_lines(engine.store))
    out = io.StringIO()
    assert export_events(engine.store, out, since_seq=10) == 3
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["action"] == "close"
    out = io.StringIO()
    assert export_events(engine.store, out, from_at="2026-03-02T15:00:00+08:00") == 4
    e = next(db_cases.iter_events(engine.store.conn))
    assert json.loads(event_line(e))["data"]["address"] == "解放路12号"


def test_replay_command_with_photos_and_exit_codes(tmp_path, capsys):
    path = tmp_path / "s.gpkg"
    make_store(path).close()
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "p1.jpg").write_bytes(b"jpeg-bytes")
    from db.store import Store

    with Store.open(path) as s:
        lines = good_lines(s)
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = SimpleNamespace(store=str(path), events=str(events), photos=str(photos), quiet=True)
    assert replay_cmd.run(args) == 0
    with Store.open(path) as s:
        rows = db_cases.photos_of(s.conn, "2026J000001")
        assert [(r.stage, r.sha256) for r in rows] == [("handle", hashlib.sha256(b"jpeg-bytes").hexdigest())]
    assert replay_cmd.run(args) == 0  # nothing new, nothing rejected
    events.write_text(lines[0] + "\n{oops\n", encoding="utf-8")
    assert replay_cmd.run(args) == 1
    out = capsys.readouterr().out
    assert "第 2 行 line 2" in out
    assert replay_cmd.run(SimpleNamespace(store=str(path), events=str(tmp_path / "none"), photos=None, quiet=True)) == 2
    exported = tmp_path / "out.jsonl"
    assert export_cmd.run(SimpleNamespace(store=str(path), since=0, from_at=None, out=str(exported))) == 0
    assert len(exported.read_text(encoding="utf-8").splitlines()) == len(lines)
    assert export_cmd.run(SimpleNamespace(store=str(path), since=0, from_at="yesterday", out=None)) == 2
