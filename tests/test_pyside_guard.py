"""Guard: PySide6 must stay below 6.12 (6.12.0 over-releases None on void calls and aborts CPython 3.11)."""

from __future__ import annotations

import sys
from importlib.metadata import version

import pytest


def test_pyside6_version_pinned_below_6_12():
    v = tuple(int(x) for x in version("PySide6-Essentials").split(".")[:2])
    assert (6, 11) <= v < (6, 12), f"PySide6-Essentials {v} is outside the pin >=6.11,<6.12"


def test_void_calls_do_not_over_release_none():
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QObject, QPoint

    before = sys.getrefcount(None)
    obj = QObject()
    p = QPoint(1, 2)
    for i in range(20_000):
        obj.setObjectName("x")  # void call
        p.setX(i)  # void call
    after = sys.getrefcount(None)
    # A broken binding loses one reference per void call: 40,000 here. Allow small noise only.
    assert after >= before - 100, (before, after)
