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


@pytest.fixture(scope="session")
def demo_store_path(tmp_path_factory):
    """A small demo city ("test" scale: a few hundred grids, a few thousand parts, a simulated season)."""
    from app.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.gpkg"
    build_demo(path, city="xuzhou", seed=7, scale="test")
    return path


@pytest.fixture
def demo_store(demo_store_path, tmp_path):
    """A writable copy of the session demo store."""
    import shutil

    dst = tmp_path / "demo.gpkg"
    src = Store.open(demo_store_path)
    src.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    shutil.copy2(demo_store_path, dst)
    store = Store.open(dst)
    yield store
    store.close()


@pytest.fixture
def store_copy(sample_path, tmp_path):
    """A writable copy of the requesting module's ``sample_path`` store (each wall test module builds its own
    sample: its size and seed are what its assertions were written for)."""
    import shutil

    dst = tmp_path / "wall.gpkg"
    shutil.copy2(sample_path, dst)
    return dst
