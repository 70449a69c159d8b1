"""Evaluation (考核): indicators from the case record, schemes, scoring, publishing and reports.

The scheme language and engine are re-exported here: ``load_scheme``, ``list_schemes``, ``score`` and
``roll_up`` with the data model of ``app.evaluation.model`` (see ``docs/schemes.md``).
"""

from app.evaluation.model import (
    EvaluationResult,
    Indicator,
    ItemResult,
    ManualEntry,
    UnitInput,
    UnitResult,
)
from app.evaluation.scheme import Scheme, SchemeError, list_schemes, load_scheme, parse_scheme
from app.evaluation.scoring import roll_up, score

__all__ = [
    "EvaluationResult",
    "Indicator",
    "ItemResult",
    "ManualEntry",
    "Scheme",
    "SchemeError",
    "UnitInput",
    "UnitResult",
    "list_schemes",
    "load_scheme",
    "parse_scheme",
    "roll_up",
    "score",
]
