"""Actions declared as data (id, title, shortcut, menu, enabled-when, run): the main window builds menus
and toolbars from these and stays a composer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    run: Callable[[], object]  # the result is ignored (e.g. QWidget.close returns a bool)
    menu: str = "视图"
    shortcut: str = ""
    toolbar: bool = False
    checkable: bool = False
    group: str = ""
    roles: tuple[str, ...] = ()  # empty: every role


def build_actions(window: QMainWindow, specs: list[ActionSpec], role: str, toolbar: QToolBar) -> dict[str, QAction]:
    menus: dict[str, QMenu] = {}
    actions: dict[str, QAction] = {}
    groups: dict[str, list[QAction]] = {}
    for spec in specs:
        if spec.roles and role not in spec.roles:
            continue
        act = QAction(spec.title, window)
        act.setObjectName(spec.id)
        if spec.shortcut:
            act.setShortcut(QKeySequence(spec.shortcut))
        act.setCheckable(spec.checkable)
        act.triggered.connect(lambda _checked=False, f=spec.run: f())
        menu = menus.get(spec.menu)
        if menu is None:
            menu = window.menuBar().addMenu(spec.menu)
            menus[spec.menu] = menu
        menu.addAction(act)
        if spec.toolbar:
            toolbar.addAction(act)
        if spec.group:
            groups.setdefault(spec.group, []).append(act)
        actions[spec.id] = act
    from PySide6.QtGui import QActionGroup

    for members in groups.values():
        group = QActionGroup(window)
        group.setExclusive(True)
        for act in members:
            group.addAction(act)
    return actions
