"""The case workflow: transition table (data), engine, errors and the ports it needs.

Typical use::

    engine = WorkflowEngine(store, clock=clock, deadlines=deadlines, locator=locator)
    done = engine.act(None, "report", Actor("u1", "inspector"), {...})
    engine.act(done.case_no, "accept", Actor("u2", "intake"))
"""

from app.workflow.engine import Actor, Applied, BatchResult, EventIn, WorkflowEngine, project, replay_states
from app.workflow.errors import (
    ConflictError,
    DataError,
    NotFoundError,
    RefusedError,
    WorkflowError,
)

__all__ = [
    "Actor",
    "Applied",
    "BatchResult",
    "ConflictError",
    "DataError",
    "EventIn",
    "NotFoundError",
    "RefusedError",
    "WorkflowEngine",
    "WorkflowError",
    "project",
    "replay_states",
]
