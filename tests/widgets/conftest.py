"""Widget-test fixtures: a writable demo store and console seats (one window per signed-in user)."""

from __future__ import annotations

import pytest

from app.session import Session
from widgets.console import build_console
from widgets.fonts import install_fonts


@pytest.fixture
def store_path(demo_store):
    path = str(demo_store.path)
    demo_store.close()
    return path


@pytest.fixture
def seat(qtbot, qapp, store_path):
    """``seat(user_id, role, departments=(), size=(1400, 900))`` opens a console window polling every 200 ms."""
    install_fonts(qapp)
    windows = []

    def open_(user_id: str, role: str, departments: tuple[str, ...] = (), size: tuple[int, int] = (1400, 900)):
        w = build_console(store_path, Session(user_id, user_id, role, (), departments), poll_ms=200)
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        windows.append(w)
        return w

    yield open_
    for w in windows:
        w.close()
