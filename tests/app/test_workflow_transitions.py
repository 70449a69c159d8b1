"""Table-driven tests: the engine allows exactly what the transition table allows, and says why not."""

from __future__ import annotations

from typing import Any

import pytest

from app.workflow import RefusedError, WorkflowError
from app.workflow.transitions import (
    ACTIONS,
    ROLES,
    STATE_LABELS,
    STATES,
    TRANSITIONS,
    allowed_actions,
    render_dot,
    render_markdown,
)
from tests.app.workflow_helpers import ROLE_ACTORS, drive_to, make_engine, make_store, report_data

# Facts from ARCHITECTURE §6.1 / STANDARDS "Workflow", written out by hand (not derived from the table).
EXPECTED = [
    # action, role, from state, allowed, resulting status
    ("send_verify", "intake", "reported", True, "verifying"),
    ("accept", "intake", "reported", True, "accepted"),
    ("register", "shift_lead", "accepted", True, "registered"),
    ("register", "dispatcher", "accepted", False, None),
    ("reject", "shift_lead", "accepted", True, "void"),
    ("dispatch", "dispatcher", "registered", True, "dispatched"),
    ("dispatch", "dispatcher", "closed", False, None),
    ("dispatch", "shift_lead", "registered", False, None),
    ("handle", "department", "dispatched", True, "handled"),
    ("handle", "department", "suspended", False, None),
    ("send_check", "intake", "handled", True, "checking"),
    ("close", "shift_lead", "closing", True, "closed"),
    ("close", "shift_lead", "checking", False, None),
    ("request_return", "department", "dispatched", True, "return_requested"),
    ("resume", "dispatcher", "suspended", True, "dispatched"),
    ("escalate", "leader", "dispatched", True, "dispatched"),
    ("escalate", "leader", "closed", False, None),
    ("mark_duplicate", "intake", "registered", True, "void"),
    ("mark_duplicate", "intake", "dispatched", False, None),
    ("comment", "evaluator", "closed", True, "closed"),
    ("request_void", "intake", "dispatched", True, "dispatched"),
]

VALID_DATA: dict[str, dict[str, Any]] = {
    "dispatch": {"department": "D02"},
    "verify": {"passed": True},
    "check": {"passed": True},
    "decide_return": {"approved": True},
    "decide_extension": {"approved": True, "amount": 1, "unit": "工作日"},
    "decide_suspend": {"approved": True},
    "decide_void": {"approved": True},
    "escalate": {"level": 1},
    "comment": {"text": "备注"},
    "attach_photo": {"file": "a.jpg"},
}


@pytest.fixture
def env():
    store = make_store()
    engine, clock = make_engine(store)
    yield engine, clock
    store.close()


def _data(engine, action: str, original: str) -> dict[str, Any]:
    if action == "mark_duplicate":
        return {"original": original}
    return dict(VALID_DATA.get(action, {}))


@pytest.mark.parametrize(("action", "role", "state", "allowed", "result"), EXPECTED)
def test_hand_written_facts(env, action, role, state, allowed, result):
    engine, clock = env
    original = drive_to(engine, clock, "reported")
    no = drive_to(engine, clock, state)
    clock.advance(minutes=1)
    if allowed:
        assert engine.act(no, action, ROLE_ACTORS[role], _data(engine, action, original)).status == result
    else:
        with pytest.raises(RefusedError):
            engine.act(no, action, ROLE_ACTORS[role], _data(engine, action, original))


def test_refusal_message_says_why(env):
    engine, clock = env
    no = drive_to(engine, clock, "closed")
    with pytest.raises(RefusedError, match=f"案件 {no} 当前状态为 已结案，不能派遣"):
        engine.act(no, "dispatch", ROLE_ACTORS["dispatcher"], {"department": "D01"})
    with pytest.raises(RefusedError, match="角色 受理员 不能派遣"):
        engine.act(no, "dispatch", ROLE_ACTORS["intake"], {"department": "D01"})


def test_engine_follows_the_table_for_every_action_role_state(env):
    """Every (action, role, state): allowed exactly when the table says so; refusals change nothing."""
    engine, clock = env
    original = drive_to(engine, clock, "reported")
    cases = {s: drive_to(engine, clock, s) for s in STATES}
    clock.advance(minutes=1)
    checked = 0
    for state in STATES:
        pending = engine.case(cases[state]).pending_request
        for role in ROLES:
            allowed = set(allowed_actions(state, role, pending))
            for action in ACTIONS:
                t = TRANSITIONS[action]
                if t.creates:
                    continue
                if action in allowed:
                    no = drive_to(engine, clock, state)
                    applied = engine.act(no, action, ROLE_ACTORS[role], _data(engine, action, original))
                    expected = t.target(True)
                    assert applied.status == (expected or state), (action, role, state)
                else:
                    no = cases[state]
                    before = engine.case(no)
                    with pytest.raises(WorkflowError):
                        engine.act(no, action, ROLE_ACTORS[role], _data(engine, action, original))
                    assert engine.case(no) == before
                checked += 1
    assert checked == len(STATES) * len(ROLES) * (len(ACTIONS) - 2)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_report(env, role):
    engine, _ = env
    data = report_data(engine.store)
    if role in TRANSITIONS["report"].roles:
        assert engine.act(None, "report", ROLE_ACTORS[role], data).status == "reported"
    else:
        with pytest.raises(RefusedError, match="不能上报"):
            engine.act(None, "report", ROLE_ACTORS[role], data)


@pytest.mark.parametrize(("request_action", "decide", "approved", "result"), [
    ("request_return", "decide_return", True, "registered"),
    ("request_return", "decide_return", False, "dispatched"),
    ("request_suspend", "decide_suspend", True, "suspended"),
    ("request_suspend", "decide_suspend", False, "dispatched"),
    ("request_extension", "decide_extension", False, "dispatched"),
    ("request_void", "decide_void", True, "void"),
    ("request_void", "decide_void", False, "dispatched"),
])
def test_requests_need_a_decision_by_the_approver(env, request_action, decide, approved, result):
    engine, clock = env
    no = drive_to(engine, clock, "dispatched")
    requester = ROLE_ACTORS["intake" if request_action == "request_void" else "department"]
    approver = ROLE_ACTORS["shift_lead" if decide == "decide_void" else "dispatcher"]
    with pytest.raises(RefusedError, match=r"没有待审批|不能审批"):
        engine.act(no, decide, approver, {"approved": approved})
    engine.act(no, request_action, requester, {"reason": "原因"})
    if request_action != "request_return":
        with pytest.raises(RefusedError, match="待审批"):
            engine.act(no, "handle", ROLE_ACTORS["department"], {})
    with pytest.raises(RefusedError):
        engine.act(no, decide, ROLE_ACTORS["department"], {"approved": approved})
    assert engine.act(no, decide, approver, {"approved": approved}).status == result
    case = engine.case(no)
    assert case is not None
    assert case.pending_request is None


def test_docs_render_every_action_and_state():
    md = render_markdown()
    dot = render_dot()
    for action in ACTIONS:
        assert f"`{action}`" in md
    for state, label in STATE_LABELS.items():
        assert label in md or state in dot
        assert f"{state} [label=" in dot
    assert dot.startswith("digraph")


def test_docs_table_is_generated_from_the_table():
    from pathlib import Path

    from app.workflow.transitions import DOCS_BEGIN, DOCS_END

    text = (Path(__file__).resolve().parents[2] / "docs" / "workflow.md").read_text(encoding="utf-8")
    block = text[text.index(DOCS_BEGIN) + len(DOCS_BEGIN): text.index(DOCS_END)]
    assert block.strip() == render_markdown().strip(), "run: python -m app.workflow.transitions docs/workflow.md"
