"""The case workflow as data: which role may take which action in which state, and where it leads.

ARCHITECTURE §6.1 asks for the transition table to be data so that the engine, the console (which buttons
to enable), the documentation (``docs/workflow.md`` is generated from :func:`render_markdown`), a diagram
(:func:`render_dot`) and the hypothesis tests all read the same single source. The engine never encodes
a rule that is not visible here, except the data checks of each action (``app.workflow.engine``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# -- roles (ARCHITECTURE §1) ----------------------------------------------------------------------------
ROLE_LABELS: dict[str, str] = {
    "intake": "受理员",
    "shift_lead": "值班长",
    "dispatcher": "派遣员",
    "department": "专业部门",
    "inspector": "监督员",
    "evaluator": "考评员",
    "leader": "领导",
    "admin": "系统管理员",
}
ROLES: tuple[str, ...] = tuple(ROLE_LABELS)

# -- states (ARCHITECTURE §6.1) -------------------------------------------------------------------------
STATE_LABELS: dict[str, str] = {
    "reported": "已上报",
    "verifying": "核实中",
    "accepted": "待立案",
    "registered": "待派遣",
    "dispatched": "处置中",
    "handled": "已反馈",
    "checking": "核查中",
    "closing": "待结案",
    "closed": "已结案",
    "void": "已作废",
    "return_requested": "回退待审",
    "suspended": "挂账",
}
STATES: tuple[str, ...] = tuple(STATE_LABELS)
TERMINAL_STATES: frozenset[str] = frozenset({"closed", "void"})
OPEN_STATES: frozenset[str] = frozenset(STATES) - TERMINAL_STATES
BEFORE_DISPATCH: frozenset[str] = frozenset({"reported", "verifying", "accepted", "registered"})

# -- actions --------------------------------------------------------------------------------------------
ACTION_LABELS: dict[str, str] = {
    "report": "上报",
    "send_verify": "派发核实",
    "verify": "核实",
    "accept": "受理",
    "register": "立案",
    "reject": "不予立案",
    "dispatch": "派遣",
    "request_return": "申请回退",
    "decide_return": "审批回退",
    "request_extension": "申请延期",
    "decide_extension": "审批延期",
    "request_suspend": "申请挂账",
    "decide_suspend": "审批挂账",
    "resume": "挂账恢复",
    "handle": "处置反馈",
    "send_check": "派发核查",
    "check": "核查",
    "close": "结案",
    "request_void": "申请作废",
    "decide_void": "审批作废",
    "escalate": "督办",
    "mark_duplicate": "标记重复",
    "self_handle": "自处理",
    "comment": "备注",
    "attach_photo": "添加照片",
}
ACTIONS: tuple[str, ...] = tuple(ACTION_LABELS)

# -- sources (CONVENTIONS) ------------------------------------------------------------------------------
SOURCE_LABELS: dict[str, str] = {
    "inspector": "监督员上报",
    "hotline_12319": "12319热线",
    "hotline_12345": "12345热线",
    "public": "公众举报",
    "video": "视频监控",
    "leader": "领导交办",
    "media": "媒体曝光",
}
SOURCES: tuple[str, ...] = tuple(SOURCE_LABELS)
URGENCIES: dict[str, str] = {"normal": "一般", "urgent": "紧急"}
KINDS: dict[str, str] = {"part": "部件", "event": "事件"}
CLOSE_TYPES: tuple[str, ...] = ("正常结案", "超时结案", "差错结案", "特殊结案")
PHOTO_STAGES: dict[str, str] = {"report": "上报", "handle": "处置", "check": "核查"}
PENDING_LABELS: dict[str, str] = {"return": "回退", "extension": "延期", "suspend": "挂账", "void": "作废"}

# -- stages: which time limit runs while a case is in a state ---------------------------------------------
STAGE_OF_STATUS: dict[str, str | None] = {
    "reported": "accept",
    "verifying": "verify",
    "accepted": "register",
    "registered": "dispatch",
    "dispatched": "handle",
    "return_requested": "handle",  # the department's clock runs while the dispatcher decides
    "suspended": "handle",  # same stage, but the clock is stopped (suspended_at is set)
    "handled": "check",
    "checking": "check",
    "closing": "close",
    "closed": None,
    "void": None,
}
STAGE_LABELS: dict[str, str] = {
    "accept": "受理", "verify": "核实", "register": "立案", "dispatch": "派遣",
    "handle": "处置", "check": "核查", "close": "结案",
}


@dataclass(frozen=True, slots=True)
class Transition:
    """One action: who may take it, from which states, and the state it leads to.

    ``to_state`` ``None`` means the status does not change. For actions with an outcome
    (``outcome`` names the boolean data key: ``passed`` or ``approved``) ``to_state`` is where a true
    outcome leads and ``to_state_if_false`` where a false one does (``None`` = stay).
    ``sets_pending`` marks a request (the case waits for a decision); ``requires_pending`` marks the
    decision that answers it. ``blocked_by_pending`` actions are refused while any request waits.
    """

    action: str
    roles: frozenset[str]
    from_states: frozenset[str]
    to_state: str | None
    to_state_if_false: str | None = None
    outcome: str | None = None
    creates: bool = False
    sets_pending: str | None = None
    requires_pending: str | None = None
    blocked_by_pending: bool = True
    note: str = ""

    def target(self, outcome: bool | None) -> str | None:
        """The status after the action (``None`` = unchanged) for the given outcome."""
        if self.outcome is not None and outcome is False:
            return self.to_state_if_false
        return self.to_state


def _t(action: str, roles: Iterable[str], from_states: Iterable[str], to_state: str | None, **kw: object) -> Transition:
    return Transition(action, frozenset(roles), frozenset(from_states), to_state, **kw)  # type: ignore[arg-type]


_ALL_ROLES = ROLES
_ALL_STATES = STATES

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("report", ["intake", "inspector"], [], "reported", creates=True,
           note="新案件 from any source; intake records hotline/public/video/leader/media reports"),
        _t("send_verify", ["intake"], ["reported"], "verifying", note="受理员派发核实任务给监督员"),
        _t("verify", ["inspector"], ["verifying"], "accepted", to_state_if_false="void", outcome="passed",
           note="核实属实 → 待立案; 不属实 → 作废"),
        _t("accept", ["intake"], ["reported"], "accepted", note="受理 without 核实 (e.g. inspector reports)"),
        _t("register", ["shift_lead"], ["accepted"], "registered", note="立案"),
        _t("reject", ["intake", "shift_lead"], ["reported", "verifying", "accepted"], "void", note="不予立案"),
        _t("dispatch", ["dispatcher"], ["registered"], "dispatched",
           note="派遣; the handle clock starts; a second dispatch counts as 多次派遣"),
        _t("request_return", ["department"], ["dispatched"], "return_requested", sets_pending="return",
           note="部门申请回退 (not ours)"),
        _t("decide_return", ["dispatcher"], ["return_requested"], "registered", to_state_if_false="dispatched",
           outcome="approved", requires_pending="return", blocked_by_pending=False,
           note="批准 → 待派遣 (charged to the dispatcher); 不批准 → 继续处置"),
        _t("request_extension", ["department"], ["dispatched"], None, sets_pending="extension", note="申请延期"),
        _t("decide_extension", ["dispatcher"], ["dispatched"], None, outcome="approved",
           requires_pending="extension", blocked_by_pending=False,
           note="批准 moves the handle deadline (until, or amount + unit)"),
        _t("request_suspend", ["department"], ["dispatched"], None, sets_pending="suspend", note="申请挂账"),
        _t("decide_suspend", ["dispatcher"], ["dispatched"], "suspended", outcome="approved",
           requires_pending="suspend", blocked_by_pending=False, note="批准 → 挂账: the clock stops"),
        _t("resume", ["dispatcher"], ["suspended"], "dispatched",
           note="挂账恢复: suspended time is added to suspended_hours and shifts the deadlines"),
        _t("handle", ["department"], ["dispatched"], "handled", note="处置反馈 with feedback and after-photos"),
        _t("send_check", ["intake"], ["handled"], "checking", note="受理员派发核查任务给监督员"),
        _t("check", ["inspector"], ["checking"], "closing", to_state_if_false="dispatched", outcome="passed",
           note="核查通过 → 待结案; 不通过 → 返工, back to the same department"),
        _t("close", ["shift_lead"], ["closing"], "closed", note="结案: 正常结案 or 超时结案 (handled after the deadline)"),
        _t("request_void", ["intake", "dispatcher"], sorted(OPEN_STATES), None, sets_pending="void", note="申请作废"),
        _t("decide_void", ["shift_lead"], sorted(OPEN_STATES), "void", outcome="approved",
           requires_pending="void", blocked_by_pending=False, note="值班长审批作废"),
        _t("escalate", ["leader", "shift_lead"], sorted(OPEN_STATES), None, blocked_by_pending=False,
           note="督办 with a level; a repeated 督办 is counted (escalation_count)"),
        _t("mark_duplicate", ["intake", "shift_lead"], sorted(BEFORE_DISPATCH), "void",
           note="重复上报: linked to the original (duplicate_of), ends 已作废"),
        _t("self_handle", ["inspector"], [], "closed", creates=True,
           note="自处理: report + fix + close in one, flagged self_handled"),
        _t("comment", _ALL_ROLES, _ALL_STATES, None, blocked_by_pending=False, note="备注 on any case"),
        _t("attach_photo", _ALL_ROLES, _ALL_STATES, None, blocked_by_pending=False, note="照片 with sha256"),
    )
}
assert tuple(TRANSITIONS) == ACTIONS, "every action has exactly one transition row, in ACTIONS order"


def allowed_actions(status: str | None, role: str, pending: str | None = None) -> list[str]:
    """The actions ``role`` may take on a case in ``status`` (``None`` = no case yet), for enabling buttons."""
    out = []
    for t in TRANSITIONS.values():
        if role not in t.roles:
            continue
        if status is None:
            if t.creates:
                out.append(t.action)
            continue
        if t.creates or status not in t.from_states:
            continue
        if t.requires_pending is not None and pending != t.requires_pending:
            continue
        if t.blocked_by_pending and pending is not None:
            continue
        out.append(t.action)
    return out


# -- inbox queues: what each role works on -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Queue:
    """One inbox queue: the cases in ``statuses`` (and, if given, with ``pending`` request) for ``role``."""

    id: str
    role: str
    label: str
    statuses: tuple[str, ...]
    pending: str | None = None


QUEUES: tuple[Queue, ...] = (
    Queue("to_accept", "intake", "待受理", ("reported",)),
    Queue("to_send_check", "intake", "待派发核查", ("handled",)),
    Queue("to_verify", "inspector", "待核实", ("verifying",)),
    Queue("to_check", "inspector", "待核查", ("checking",)),
    Queue("to_register", "shift_lead", "待立案", ("accepted",)),
    Queue("to_close", "shift_lead", "待结案", ("closing",)),
    Queue("void_requests", "shift_lead", "作废待审", tuple(sorted(OPEN_STATES)), "void"),
    Queue("to_dispatch", "dispatcher", "待派遣", ("registered",)),
    Queue("return_requests", "dispatcher", "回退待审", ("return_requested",), "return"),
    Queue("extension_requests", "dispatcher", "延期待审", ("dispatched",), "extension"),
    Queue("suspend_requests", "dispatcher", "挂账待审", ("dispatched",), "suspend"),
    Queue("suspended", "dispatcher", "挂账中", ("suspended",)),
    Queue("to_handle", "department", "待处置", ("dispatched",)),
    Queue("open_cases", "leader", "在办案件", tuple(sorted(OPEN_STATES))),
)


def queues_for(role: str) -> list[Queue]:
    return [q for q in QUEUES if q.role == role]


# -- documentation -------------------------------------------------------------------------------------
def _states_text(states: Iterable[str]) -> str:
    s = set(states)
    if not s:
        return "(新案件)"
    if s == set(OPEN_STATES):
        return "任一未结状态 any open state"
    if s == set(STATES):
        return "任一状态 any state"
    return ", ".join(f"`{x}` {STATE_LABELS[x]}" for x in STATES if x in s)


def render_markdown() -> str:
    """The transition table as Markdown, for ``docs/workflow.md`` (regenerate, never hand-edit)."""
    lines = [
        "| action | 动作 | roles 角色 | from 状态 | to 结果 | notes |",
        "|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        roles = ", ".join(f"`{r}` {ROLE_LABELS[r]}" for r in ROLES if r in t.roles)
        if t.roles == frozenset(ROLES):
            roles = "所有角色 any role"
        if t.to_state is None and t.outcome is None:
            to = "(不变 unchanged)"
        else:
            to = f"`{t.to_state}` {STATE_LABELS[t.to_state]}" if t.to_state else "(不变)"
        if t.outcome is not None:
            alt = f"`{t.to_state_if_false}` {STATE_LABELS[t.to_state_if_false]}" if t.to_state_if_false else "(不变)"
            to = f"{t.outcome}=true → {to}; false → {alt}"
        flags = []
        if t.sets_pending:
            flags.append(f"待审 pending={t.sets_pending}")
        if t.requires_pending:
            flags.append(f"needs pending={t.requires_pending}")
        if not t.blocked_by_pending and not t.requires_pending:
            flags.append("allowed while a request waits")
        note = "; ".join([t.note, *flags]) if flags else t.note
        lines.append(
            f"| `{t.action}` | {ACTION_LABELS[t.action]} | {roles} | {_states_text(t.from_states)} | {to} | {note} |"
        )
    return "\n".join(lines) + "\n"


def render_dot() -> str:
    """The state diagram in Graphviz DOT (state-changing actions only)."""
    out = ["digraph workflow {", '  rankdir=LR; node [shape=box, fontname="Noto Sans CJK SC"];']
    out.append('  start [shape=point];')
    for s in STATES:
        out.append(f'  {s} [label="{s}\\n{STATE_LABELS[s]}"];')
    for t in TRANSITIONS.values():
        targets = [(t.to_state, "")]
        if t.outcome is not None:
            targets = [(t.to_state, f" ({t.outcome})"), (t.to_state_if_false, f" (not {t.outcome})")]
        sources = ["start"] if t.creates else [s for s in STATES if s in t.from_states]
        for to, suffix in targets:
            if to is None:
                continue
            if len(sources) > 4:
                out.append(f'  open_states -> {to} [label="{t.action}{suffix}", style=dashed];')
                continue
            for s in sources:
                out.append(f'  {s} -> {to} [label="{t.action}{suffix}"];')
    out.append('  open_states [label="任一未结状态\\nany open state", shape=ellipse, style=dashed];')
    out.append("}")
    return "\n".join(out) + "\n"


def write_docs_table(path: str) -> bool:
    """Replace the generated block of ``docs/workflow.md`` (between the markers); True if it changed."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    start, end = DOCS_BEGIN, DOCS_END
    i, j = text.index(start) + len(start), text.index(end)
    new = text[:i] + "\n" + render_markdown() + text[j:]
    if new != text:
        p.write_text(new, encoding="utf-8")
    return new != text


DOCS_BEGIN = "<!-- BEGIN GENERATED TRANSITIONS (python -m app.workflow.transitions docs/workflow.md) -->"
DOCS_END = "<!-- END GENERATED TRANSITIONS -->"

if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--dot":
        print(render_dot(), end="")
    elif len(sys.argv) > 1:
        print("updated" if write_docs_table(sys.argv[1]) else "up to date")
    else:
        print(render_markdown(), end="")
