"""Crafted case histories for indicator tests: events and the projected ``case_state`` written directly.

Indicators read only ``case_event`` and the ``case_state`` columns the workflow engine maintains, so a
history written here exercises exactly the SQL under test with timestamps and deadlines chosen by hand.
The projection rules below follow ``app.workflow.transitions`` (dispatch sets the handling deadline, an
approved extension moves it, a failed check sends the case back, and so on).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from db.store import Store

T = "T{}:00+08:00"


def at(day: str, hm: str = "09:00") -> str:
    """``at("10-02")`` → ``2026-10-02T09:00:00+08:00``; ``at("2026-09-30", "23:00")`` also works."""
    d = day if day.count("-") == 2 else f"2026-{day}"
    return f"{d}T{hm}:00+08:00"


class History:
    """Writes districts, departments and cases; every method is one transaction."""

    def __init__(self, store: Store, cutoff: str | None = None) -> None:
        self.store = store
        self.conn = store.conn
        self.prev = "0" * 64
        # events at or after ``cutoff`` are not written (nor their state change): the store then holds the
        # record as it stood at that instant, which is what an evaluation of an earlier period must see
        self.cutoff = cutoff

    def base(self) -> History:
        with self.store.atomic() as c:
            c.executemany("INSERT INTO district (code, name) VALUES (?, ?)",
                          [("320302", "鼓楼区"), ("320303", "云龙区"), ("320311", "泉山区")])
            c.executemany("INSERT INTO street (code, name, district_code) VALUES (?, ?, ?)",
                          [("320302001", "丰财街道", "320302"), ("320303001", "彭城街道", "320303")])
            c.executemany("INSERT INTO department (code, name) VALUES (?, ?)",
                          [("D1", "市政处"), ("D2", "环卫处"), ("D3", "园林处")])
            c.executemany("INSERT INTO app_user (id, name, role) VALUES (?, ?, ?)",
                          [("insp1", "张三", "inspector"), ("insp2", "李四", "inspector"),
                           ("op1", "王五", "intake"), ("lead1", "赵六", "shift_lead"),
                           ("disp1", "钱七", "dispatcher"), ("disp2", "孙八", "dispatcher")])
            c.executemany(
                "INSERT INTO unit_grid (code, community_code, street_code, district_code, road_class, key_area) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [("320302001001001", "320302001001", "320302001", "320302", "主要路段", 0),
                 ("320302001001002", "320302001001", "320302001", "320302", "背街小巷", 0),
                 ("320303001001001", "320303001001", "320303001", "320303", "次干道", 0)],
            )
        return self

    def case(self, case_no: str, district: str = "320302", grid: str | None = None, source: str = "inspector",
             reporter: str = "insp1", reported: str = "", class_code: str = "010101", kind: str = "event",
             ) -> CaseBuilder:
        grid = grid or (district + "001001001")
        return CaseBuilder(self, case_no, district, grid, source, reporter, reported, class_code, kind)

    def event(self, case_no: str, when: str, action: str, actor: str, role: str, payload: dict[str, Any],
              state: dict[str, Any]) -> None:
        if self.cutoff is not None and when >= self.cutoff:
            return
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        with self.store.atomic() as c:
            seq = int(c.execute("SELECT COALESCE(max(seq), 0) + 1 FROM case_event").fetchone()[0])
            h = hashlib.sha256(json.dumps([seq, case_no, when, action, actor, role, text]).encode()
                               + self.prev.encode()).hexdigest()
            c.execute("INSERT INTO case_event (seq, case_no, at, action, actor_id, role, payload, prev_hash, hash) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (seq, case_no, when, action, actor, role, text, self.prev, h))
            self.prev = h
            state = {**state, "last_seq": seq, "updated_at": when}
            if c.execute("SELECT 1 FROM case_state WHERE case_no = ?", (case_no,)).fetchone():
                sets = ", ".join(f"{k} = ?" for k in state)
                c.execute(f"UPDATE case_state SET {sets} WHERE case_no = ?", (*state.values(), case_no))
            else:
                cols = ", ".join(state)
                c.execute(f"INSERT INTO case_state (case_no, {cols}) VALUES (?, {', '.join('?' for _ in state)})",
                          (case_no, *state.values()))


class CaseBuilder:
    """Fluent history of one case: ``h.case("C1").report(at(...)).accept(...).register(...)…``."""

    def __init__(self, h: History, case_no: str, district: str, grid: str, source: str, reporter: str,
                 reported: str, class_code: str, kind: str) -> None:
        self.h, self.no = h, case_no
        self.info = dict(district=district, grid=grid, source=source, reporter=reporter, class_code=class_code,
                         kind=kind)
        self.dispatches = 0
        self.reworks = 0
        self.extensions = 0
        self.suspended_hours = 0.0
        self.suspended = False
        if reported:
            self.report(reported)

    def _ev(self, when: str, action: str, actor: str, role: str, payload: dict[str, Any] | None = None,
            **state: Any) -> CaseBuilder:
        self.h.event(self.no, when, action, actor, role, payload or {}, state)
        return self

    def report(self, when: str) -> CaseBuilder:
        i = self.info
        role = "inspector" if i["source"] == "inspector" else "intake"
        g = str(i["grid"])
        return self._ev(when, "report", str(i["reporter"]), role,
                        {"source": i["source"], "kind": i["kind"], "class_code": i["class_code"]},
                        status="reported", source=i["source"], kind=i["kind"], class_code=i["class_code"],
                        grid_code=g, community_code=g[:12], street_code=g[:9], district_code=i["district"],
                        reporter_id=i["reporter"], reported_at=when)

    def self_handle(self, when: str) -> CaseBuilder:
        i = self.info
        g = str(i["grid"])
        return self._ev(when, "self_handle", str(i["reporter"]), "inspector",
                        {"source": i["source"], "kind": i["kind"], "class_code": i["class_code"]},
                        status="closed", source=i["source"], kind=i["kind"], class_code=i["class_code"],
                        grid_code=g, community_code=g[:12], street_code=g[:9], district_code=i["district"],
                        reporter_id=i["reporter"], reported_at=when, closed_at=when, self_handled=1)

    def accept(self, when: str, by: str = "op1") -> CaseBuilder:
        return self._ev(when, "accept", by, "intake", status="accepted")

    def send_verify(self, when: str, by: str = "op1") -> CaseBuilder:
        return self._ev(when, "send_verify", by, "intake", status="verifying")

    def verify(self, when: str, passed: bool = True, by: str = "insp1") -> CaseBuilder:
        return self._ev(when, "verify", by, "inspector", {"passed": passed},
                        status="accepted" if passed else "void")

    def reject(self, when: str, by: str = "lead1") -> CaseBuilder:
        return self._ev(when, "reject", by, "shift_lead", status="void", closed_at=when)  # terminal, as the engine

    def register(self, when: str, by: str = "lead1") -> CaseBuilder:
        return self._ev(when, "register", by, "shift_lead", status="registered", registered_at=when)

    def dispatch(self, when: str, department: str, deadline: str, by: str = "disp1") -> CaseBuilder:
        self.dispatches += 1
        return self._ev(when, "dispatch", by, "dispatcher", {"department": department, "_handle_deadline": deadline},
                        status="dispatched",
                        department=department, dispatched_at=when, handle_deadline=deadline,
                        dispatch_count=self.dispatches)

    def handle(self, when: str, by: str = "dept") -> CaseBuilder:
        return self._ev(when, "handle", by, "department", status="handled", handled_at=when)

    def send_check(self, when: str, by: str = "op1") -> CaseBuilder:
        return self._ev(when, "send_check", by, "intake", status="checking")

    def check(self, when: str, passed: bool = True, by: str = "insp1", deadline: str | None = None) -> CaseBuilder:
        """核查; a failed one sends the case back to 处置, where the engine starts a new handling deadline
        (``deadline``, recorded as ``_handle_deadline``; without it the old deadline stays)."""
        payload: dict[str, Any] = {"passed": passed}
        state: dict[str, Any] = {}
        if not passed:
            self.reworks += 1
            if deadline is not None:
                state["handle_deadline"] = payload["_handle_deadline"] = deadline
        return self._ev(when, "check", by, "inspector", payload,
                        status="closing" if passed else "dispatched", rework_count=self.reworks, **state)

    def close(self, when: str, by: str = "lead1") -> CaseBuilder:
        return self._ev(when, "close", by, "shift_lead", status="closed", closed_at=when)

    def extend(self, when: str, until: str, approved: bool = True, by: str = "disp1") -> CaseBuilder:
        self._ev(when, "request_extension", "dept", "department", pending_request="extension")
        state: dict[str, Any] = {"pending_request": None}
        payload: dict[str, Any] = {"approved": approved, "until": until}
        if approved:  # the engine records the new deadline as ``_handle_deadline``
            state["handle_deadline"] = payload["_handle_deadline"] = until
            self.extensions += 1
            state["extension_count"] = self.extensions
        return self._ev(when, "decide_extension", by, "dispatcher", payload, **state)

    def suspend(self, when: str, by: str = "disp1") -> CaseBuilder:
        self._ev(when, "request_suspend", "dept", "department", pending_request="suspend")
        self.suspended = True
        return self._ev(when, "decide_suspend", by, "dispatcher", {"approved": True}, status="suspended",
                        suspended_at=when, pending_request=None)

    def resume(self, when: str, deadline: str, by: str = "disp1") -> CaseBuilder:
        """挂账恢复: the engine moves the handling deadline by the stopped time (``deadline`` here)."""
        self.suspended_hours += 1.0  # any positive stopped time: the engine adds the real one
        self.suspended = False
        return self._ev(when, "resume", by, "dispatcher", {"_handle_deadline": deadline}, status="dispatched",
                        suspended_at=None, handle_deadline=deadline, suspended_hours=self.suspended_hours)

    def return_(self, when: str, approved: bool = True, by: str = "disp1") -> CaseBuilder:
        self._ev(when, "request_return", "dept", "department", status="return_requested")
        return self._ev(when, "decide_return", by, "dispatcher", {"approved": approved},
                        status="registered" if approved else "dispatched")

    def escalate(self, when: str, level: int = 1) -> CaseBuilder:
        return self._ev(when, "escalate", "boss", "leader", {"level": level})

    def callback(self, when: str, satisfaction: str | bool) -> CaseBuilder:
        """A 回访: a text satisfaction (满意/不满意), or the simulator's ``{"callback": true, "satisfied": …}``."""
        if isinstance(satisfaction, bool):
            return self._ev(when, "comment", "op1", "intake", {"callback": True, "satisfied": satisfaction})
        return self._ev(when, "comment", "op1", "intake", {"satisfaction": satisfaction, "text": "回访"})

    def void(self, when: str) -> CaseBuilder:
        self._ev(when, "request_void", "op1", "intake", pending_request="void")
        state: dict[str, Any] = {}
        if self.suspended:  # ending a 挂账 adds its stopped time, as the engine does at any terminal state
            self.suspended_hours += 1.0
            self.suspended = False
            state["suspended_hours"] = self.suspended_hours
        return self._ev(when, "decide_void", "lead1", "shift_lead", {"approved": True}, status="void",
                        pending_request=None, closed_at=when, suspended_at=None, **state)
