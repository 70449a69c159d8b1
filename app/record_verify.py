"""Verify the case record: recompute the hash chain and check that ``case_state`` equals a replay.

Why: every score is computed from ``case_event`` (ARCHITECTURE §3), and evaluations must be open to
challenge. The triggers stop ordinary UPDATE/DELETE, but someone with the file can drop them; the
chain makes such edits visible, and the replay check makes a hand-edited ``case_state`` visible.
``python main.py verify`` runs :func:`verify_record` and exits 1 naming the first bad sequence number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.progress import Progress
from app.workflow.engine import project
from db import cases as db_cases
from db.cases import CaseState
from db.store import Store


@dataclass(slots=True)
class VerifyReport:
    events: int = 0
    cases: int = 0
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    chain_ok: bool = True  # False when the record itself (not only case_state) is damaged

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, seq: int | None, message: str) -> None:
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
        self.problems.append(message)


_MAX_PROBLEMS = 50


def verify_record(store: Store, progress: Progress | None = None) -> VerifyReport:
    """Check the chain event by event, then compare the replayed projection with ``case_state``."""
    conn = store.conn
    report = VerifyReport()
    total = max(1, db_cases.max_seq(conn))
    prev_hash = db_cases.GENESIS_HASH
    expected_seq = 1
    states: dict[str, CaseState] = {}
    chain_broken = False
    for e in db_cases.iter_events(conn):
        report.events += 1
        if not chain_broken:
            if e.seq != expected_seq:
                report.add(expected_seq, f"序号 {expected_seq} 缺失 (seq {expected_seq} missing: found {e.seq})")
                chain_broken = True
            elif e.prev_hash != prev_hash:
                report.add(e.seq, f"序号 {e.seq} 的 prev_hash 与上一事件不符 (seq {e.seq}: prev_hash does not chain)")
                chain_broken = True
            elif db_cases.event_hash(e.seq, e.case_no, e.at, e.action, e.actor_id, e.role, e.payload,
                                     e.prev_hash) != e.hash:
                report.add(e.seq, f"序号 {e.seq} 的内容与其哈希不符，记录被修改 (seq {e.seq}: content altered)")
                chain_broken = True
        prev_hash = e.hash
        expected_seq = e.seq + 1
        try:
            payload = json.loads(e.payload)
            states[e.case_no] = project(states.get(e.case_no), e.case_no, e.seq, e.at, e.action, e.actor_id,
                                        e.role, payload)
        except (ValueError, KeyError, TypeError) as exc:
            report.chain_ok = False
            report.add(e.seq, f"序号 {e.seq} 无法重放 (seq {e.seq} cannot be replayed: {exc!r})")
        if progress is not None and report.events % 50000 == 0:
            progress.check()
            progress.report(0.8 * e.seq / total, f"已校验 {report.events} 条事件")

    if chain_broken:
        report.chain_ok = False
    stored: dict[str, CaseState] = {}
    for s in db_cases.iter_states(conn):
        stored[s.case_no] = s
    report.cases = len(stored)
    mismatches = 0
    for case_no in sorted(set(states) | set(stored)):
        a, b = states.get(case_no), stored.get(case_no)
        if a == b:
            continue
        mismatches += 1
        if mismatches > _MAX_PROBLEMS:
            continue
        if b is None:
            assert a is not None
            report.add(a.last_seq, f"案件 {case_no} 缺少当前状态 (case_state row missing)")
        elif a is None:
            report.add(b.last_seq or None, f"案件 {case_no} 没有任何事件记录 (case_state row without events)")
        else:
            diffs = [k for k, v in a.as_dict().items() if v != getattr(b, k)]
            report.add(
                min(a.last_seq, b.last_seq) if b.last_seq else a.last_seq,
                f"案件 {case_no} 的当前状态与事件重放不一致: {', '.join(diffs)} "
                f"(case_state differs from the replay in {', '.join(diffs)})",
            )
    if mismatches > _MAX_PROBLEMS:
        report.problems.append(f"……另有 {mismatches - _MAX_PROBLEMS} 个案件不一致 (more mismatches)")
    if progress is not None:
        progress.report(1.0, "校验完成")
    return report


def rebuild_projection(store: Store, progress: Progress | None = None) -> int:
    """Rewrite ``case_state`` from ``case_event`` (one transaction); returns the number of cases.

    For recovery after ``verify`` found the projection (not the chain) damaged: the record is the truth.
    """
    states: dict[str, CaseState] = {}
    # Read and rewrite inside one write transaction, so an event appended meanwhile cannot be missed.
    with store.atomic() as conn:
        for e in db_cases.iter_events(conn):
            states[e.case_no] = project(states.get(e.case_no), e.case_no, e.seq, e.at, e.action, e.actor_id,
                                        e.role, json.loads(e.payload))
        if progress is not None:
            progress.report(0.5, f"已重放 {len(states)} 个案件")
        conn.execute("DELETE FROM case_state")
        db_cases.insert_states_bulk(conn, [states[k] for k in sorted(states)])
    if progress is not None:
        progress.report(1.0, "当前状态已重建")
    return len(states)
