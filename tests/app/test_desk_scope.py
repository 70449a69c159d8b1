"""The seat's data scope is enforced on every write, not only by what the inbox lists."""

from __future__ import annotations

import pytest

from app.desk import DeskService
from app.session import Session
from app.workflow.errors import RefusedError


def _dispatched(store) -> tuple[str, str, str, int]:
    row = store.conn.execute(
        "SELECT case_no, department, district_code, last_seq FROM case_state "
        "WHERE status = 'dispatched' AND department IS NOT NULL ORDER BY case_no LIMIT 1").fetchone()
    assert row is not None, "the demo season has cases waiting for a department"
    return row


def _other(store, column: str, value: str) -> str:
    table = "department" if column == "department" else "district"
    row = store.conn.execute(f"SELECT code FROM {table} WHERE code != ? ORDER BY code LIMIT 1", (value,)).fetchone()
    return row[0]


def _max_seq(store) -> int:
    return store.conn.execute("SELECT max(seq) FROM case_event").fetchone()[0]


@pytest.mark.parametrize(("column", "role", "op", "kwargs"), [
    ("department", "department", "handle_case", {"feedback": "已处理"}),  # another department's case
    ("district_code", "shift_lead", "escalate_case", {"level": 1}),  # a district office, another district
])
def test_out_of_scope_write_is_refused_and_writes_nothing(demo_store, column, role, op, kwargs):
    case_no, dept, district, seq = _dispatched(demo_store)
    other = _other(demo_store, column, dept if column == "department" else district)
    scope = {"departments": (other,)} if column == "department" else {"districts": (other,)}
    desk = DeskService(str(demo_store.path), Session("seat_x", "别的席位", role, **scope))
    before = _max_seq(demo_store)
    with pytest.raises(RefusedError) as err:
        desk.op(op, case_no, expected_seq=seq, **kwargs)(demo_store)
    assert case_no in str(err.value)
    assert err.value.field == column
    assert _max_seq(demo_store) == before
    desk.close()


def test_department_handles_its_own_case(demo_store):
    case_no, dept, _district, seq = _dispatched(demo_store)
    desk = DeskService(str(demo_store.path), Session("dept_y", "本部门", "department", departments=(dept,)))
    changes = desk.op("handle_case", case_no, feedback="已处理", expected_seq=seq)(demo_store)
    assert changes.case_no == case_no
    status = demo_store.conn.execute("SELECT status FROM case_state WHERE case_no = ?", (case_no,)).fetchone()[0]
    assert status != "dispatched"
    desk.close()
