"""What an operation changed, so each view refreshes only what concerns it (ARCHITECTURE §8, Anki-style).

Every operation in :mod:`app.operations` returns a :class:`Changes`; the console's writer thread emits it
once on the bus (``changes_applied``). Views check ``cases`` (case table, detail, inbox), ``layers``
(map layers to repaint) and ``scores`` (evaluation results to recompute).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

CASE_LAYER = "case_state"


@dataclass(frozen=True, slots=True)
class Changes:
    cases: frozenset[str] = field(default_factory=frozenset)
    layers: frozenset[str] = field(default_factory=frozenset)
    scores: bool = False

    @classmethod
    def of_cases(cls, case_nos: Iterable[str], scores: bool = True) -> Changes:
        nos = frozenset(case_nos)
        return cls(nos, frozenset({CASE_LAYER}) if nos else frozenset(), scores and bool(nos))

    def merge(self, other: Changes) -> Changes:
        return Changes(self.cases | other.cases, self.layers | other.layers, self.scores or other.scores)

    __or__ = merge

    def __bool__(self) -> bool:
        return bool(self.cases or self.layers or self.scores)

    @property
    def case_no(self) -> str | None:
        """The single case changed (e.g. the one :func:`app.operations.file_case` created), else ``None``."""
        return next(iter(self.cases)) if len(self.cases) == 1 else None


NO_CHANGES = Changes()


def merge_all(changes: Iterable[Changes]) -> Changes:
    out = NO_CHANGES
    for c in changes:
        out = out.merge(c)
    return out
