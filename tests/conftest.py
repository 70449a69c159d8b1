"""Shared fixtures: an in-memory store, and Qt offscreen unless a test runs under Xvfb."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

from db.store import Store


@pytest.fixture
def mem_store():
    store = Store.memory()
    yield store
    store.close()
