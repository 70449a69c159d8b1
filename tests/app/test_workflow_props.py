"""Hypothesis: random action sequences by random roles keep the workflow's invariants.

* an action is applied only when the table allows it (role, state, pending request); a refusal
  changes nothing;
* the stored projection always equals a replay of the record, and the hash chain holds;
* deadlines never precede their stage start;
* a suspended case's clock does not move (its deadlines stay put until ``resume``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import timefmt
from app.workflow import WorkflowError
from app.workflow.engine import replay_states
from app.workflow.transitions import ACTIONS, ROLES, TRANSITIONS
from db import cases as db_cases
from tests.app.workflow_helpers import ROLE_ACTORS, make_engine, make_store, report_data

step = st.tuples(
    st.integers(0, 3),  # which case
    st.sampled_from(ACTIONS),
    st.sampled_from(ROLES),
    st.booleans(),  # outcome (passed / approved)
    st.integers(0, 600),  # minutes since the previous step
)


def _data(store, action: str, outcome: bool, cases: list[str]) -> dict[str, Any]:
    if action in ("report", "self_handle"):
        return report_data(store, urgency="urgent" if outcome else "normal")
    t = TRANSITIONS[action]
    d: dict[str, Any] = {}
    if t.outcome:
        d[t.outcome] = outcome
    if action == "decide_extension":
        d.update(amount=3, unit="小时")
    elif action == "dispatch":
        d["department"] = "D01" if outcome else "D02"
    elif action == "escalate":
        d["level"] = 2 if outcome else 1
    elif action == "mark_duplicate":
        d["original"] = cases[0] if cases else "2026J999999"
    elif action == "comment":
        d["text"] = "x"
    elif action == "attach_photo":
        d["file"] = "p.jpg"
    return d


def _check_deadlines(s: db_cases.CaseState) -> None:
    if s.stage_deadline is not None:
        assert s.stage_started_at is not None
        assert s.stage_deadline >= s.stage_started_at, s
    if s.handle_deadline is not None and s.dispatched_at is not None:
        assert s.handle_deadline >= s.dispatched_at, s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40))
def test_random_sequences_keep_the_invariants(steps):
    store = make_store()
    try:
        engine, clock = make_engine(store)
        cases: list[str] = []
        for idx, action, role, outcome, minutes in steps:
            clock.advance(minutes=minutes)
            t = TRANSITIONS[action]
            case_no = None if t.creates else (cases[idx % len(cases)] if cases else "2026J000001")
            before = engine.case(case_no) if case_no else None
            seq_before = db_cases.max_seq(store.conn)
            try:
                applied = engine.act(case_no, action, ROLE_ACTORS[role], _data(store, action, outcome, cases))
            except WorkflowError:
                assert db_cases.max_seq(store.conn) == seq_before
                if case_no:
                    assert engine.case(case_no) == before
                continue
            # applied: the table allowed it
            assert role in t.roles
            if t.creates:
                assert before is None
                cases.append(applied.case_no)
            else:
                assert before is not None
                assert before.status in t.from_states
                if t.requires_pending:
                    assert before.pending_request == t.requires_pending
                elif t.blocked_by_pending:
                    assert before.pending_request is None
            after = engine.case(applied.case_no)
            expected = t.target(outcome if t.outcome else None)
            assert after.status == (expected or (before.status if before else "reported"))
            _check_deadlines(after)
            if before is not None and before.status == "suspended" and after.status == "suspended":
                assert (after.handle_deadline, after.stage_deadline) == (before.handle_deadline, before.stage_deadline)
            if before is not None and before.status == "suspended" and action == "resume":
                paused = timefmt.parse(after.updated_at) - timefmt.parse(before.suspended_at)
                if before.handle_deadline is not None:
                    assert timefmt.parse(after.handle_deadline) - timefmt.parse(before.handle_deadline) == paused
        stored = {s.case_no: s for s in db_cases.iter_states(store.conn)}
        assert replay_states(db_cases.iter_events(store.conn)) == stored
        prev = db_cases.GENESIS_HASH
        for e in db_cases.iter_events(store.conn):
            assert e.prev_hash == prev
            assert e.hash == db_cases.event_hash(e.seq, e.case_no, e.at, e.action, e.actor_id, e.role, e.payload, prev)
            prev = e.hash
    finally:
        store.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_guided_sequences_reach_deep_states_and_keep_the_invariants(data):
    """Mostly allowed actions (so cases get far: suspended, reworked, closed), some random ones."""
    from app.workflow.transitions import allowed_actions

    store = make_store()
    try:
        engine, clock = make_engine(store)
        cases: list[str] = []
        n = data.draw(st.integers(5, 60), label="steps")
        for _ in range(n):
            clock.advance(minutes=data.draw(st.integers(0, 900), label="minutes"))
            outcome = data.draw(st.booleans(), label="outcome")
            case_no = data.draw(st.sampled_from(cases), label="case") if cases and data.draw(st.integers(0, 5)) else None
            snap = engine.case(case_no) if case_no else None
            pairs = [(a, r) for r in ROLES for a in allowed_actions(snap.status if snap else None, r,
                                                                        snap.pending_request if snap else None)]
            if pairs and data.draw(st.integers(0, 9), label="guided") < 9:
                action, role = data.draw(st.sampled_from(pairs), label="action")
            else:
                action, role = data.draw(st.sampled_from(ACTIONS)), data.draw(st.sampled_from(ROLES))
            if TRANSITIONS[action].creates:
                case_no, snap = None, None
                pairs = [(a, r) for r in ROLES for a in allowed_actions(None, r)]
            try:
                applied = engine.act(case_no, action, ROLE_ACTORS[role], _data(store, action, outcome, cases))
            except WorkflowError:
                assert (action, role) not in pairs or action == "mark_duplicate"
                if case_no:
                    assert engine.case(case_no) == snap
                continue
            assert (action, role) in pairs
            if applied.previous_status is None:
                cases.append(applied.case_no)
            after = engine.case(applied.case_no)
            _check_deadlines(after)
            if snap is not None and snap.status == "suspended" and after.status == "suspended":
                assert (after.handle_deadline, after.stage_deadline) == (snap.handle_deadline, snap.stage_deadline)
        stored = {s.case_no: s for s in db_cases.iter_states(store.conn)}
        assert replay_states(db_cases.iter_events(store.conn)) == stored
    finally:
        store.close()
