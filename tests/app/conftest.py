"""Fixtures shared by the app tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def october(mem_store):
    """A store holding the crafted October 2026 history of ``tests/app/evaluation/test_indicators.py``."""
    from tests.app.evaluation.test_indicators import build_october

    build_october(mem_store)
    return mem_store


@pytest.fixture
def october_path(tmp_path):
    """The same October in a GeoPackage file, for the command line (which opens a store by its path)."""
    from db.store import Store
    from tests.app.evaluation.test_indicators import build_october

    path = tmp_path / "october.gpkg"
    store = Store.open(path, create=True)
    build_october(store)
    store.close()
    return path
