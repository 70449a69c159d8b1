"""Assemble the console for a signed-in session: services first, then the main window that receives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMainWindow

from app.map_data import MapData
from widgets.bus import Bus
from widgets.main_window import ConsoleContext, MainWindow
from widgets.workers import Writer


def _open_write_store(path: str) -> Any:
    from app.store_access import open_store

    return open_store(path)


def build_console(store_path: str, session: Any, poll_ms: int = 1000) -> MainWindow:
    from app.search import Searcher

    map_data = MapData(store_path)
    bus = Bus(store_path, poll_ms=poll_ms)
    writer = Writer(lambda: _open_write_store(store_path))
    writer.changesApplied.connect(bus.announce)
    searcher = Searcher(store_path, map_data)
    hooks: list[Callable[[QMainWindow, ConsoleContext], None]] = []
    try:
        from widgets.desk import install_desk
    except ImportError:  # the desk docks are optional while they are being built
        pass
    else:
        hooks.append(install_desk)
    ctx = ConsoleContext(store_path, session, map_data, writer=writer, bus=bus, search=searcher.search,
                         extra_docks=hooks)
    window = MainWindow(ctx)
    bus.changesApplied.connect(lambda ch: window.canvas.data_changed(set(ch.layers)))

    def shutdown() -> None:
        bus.stop()
        writer.stop()
        map_data.close()

    window.shutdown = shutdown
    bus.setParent(window)
    writer.setParent(window)
    return window
