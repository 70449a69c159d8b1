"""Errors of the workflow engine.

Every refusal says *why* in Chinese (what the operator reads) followed by English (what the log and the
exchange report read), and names the field and the value, so a seat operator, a replay report and a test
can all tell exactly what was wrong without a stack trace.
"""

from __future__ import annotations


class WorkflowError(ValueError):
    """Base class: an action could not be applied. ``field`` and ``value`` name what was wrong."""

    def __init__(self, message: str, field: str = "", value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class RefusedError(WorkflowError):
    """The actor's role or the case's state does not allow the action (a business refusal)."""


class DataError(WorkflowError):
    """The action's data (or timestamp, actor, action name) is malformed or refers to unknown things."""


class NotFoundError(WorkflowError):
    """The case named by ``case_no`` does not exist in the store."""


class ConflictError(WorkflowError):
    """The case changed since the operator looked at it (``expected_seq`` differs from ``last_seq``)."""


class DuplicateEventError(WorkflowError):
    """The very same event (same idempotency key) was already applied; replay skips it."""
