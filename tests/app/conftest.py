"""Fixtures shared by the app tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def october(mem_store):
    """A store holding the crafted October 2026 history of ``tests/app/evaluation/test_indicators.py``."""
    from tests.app.evaluation.test_indicators import build_october

    build_october(mem_store)
    return mem_store
