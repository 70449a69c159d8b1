"""The console's main window: a composer only. It lays out the map and docks, builds menus and the
toolbar from declared actions, and wires signals between views. Behaviour lives in the views and in
``app/`` services passed in through ``ConsoleContext``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QLineEdit, QMainWindow, QToolBar, QWidget

from app.map_data import MapData
from app.search import DEFAULT_LIMIT, SearchHit, single_target
from widgets.actions import ActionSpec, build_actions
from widgets.display import user_text
from widgets.identify_panel import IdentifyPanel
from widgets.map.canvas import TOOL_TITLES, MapCanvas
from widgets.map.layer_tree import LayerTree
from widgets.map.overview import OverviewMap
from widgets.search_results import SearchResults

ROLE_TITLES = {
    "intake": "受理员", "shift_lead": "值班长", "dispatcher": "派遣员", "department": "专业部门",
    "inspector": "监督员", "evaluator": "考评员", "leader": "领导", "admin": "系统管理员",
}


@dataclass
class ConsoleContext:
    """What the console's views receive: the store path, the signed-in session, services, and hooks."""

    store_path: str
    session: Any  # app.session.Session
    map_data: MapData
    writer: Any = None  # widgets.workers.Writer
    bus: Any = None  # widgets.bus.Bus
    search: Callable[[str], list[Any]] | None = None  # app.search.search bound to the store
    extra_docks: list[Callable[[QMainWindow, ConsoleContext], None]] = field(default_factory=list)


class MainWindow(QMainWindow):
    def __init__(self, ctx: ConsoleContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.shutdown: Callable[[], None] | None = None  # set by build_console: stops the services on close
        role = getattr(ctx.session, "role", "leader")
        name = getattr(ctx.session, "name", "")
        self.setWindowTitle(f"万米 数字城管监督指挥平台 — {name}（{ROLE_TITLES.get(role, role)}）")
        self.canvas = MapCanvas(ctx.map_data)
        self.setCentralWidget(self.canvas)
        self.layer_tree = LayerTree(self.canvas.layers)
        self.layer_tree.setMinimumWidth(250)  # layer names and scale ranges are never cut off
        self.overview = OverviewMap(ctx.map_data, self.canvas.view)
        self.identify = IdentifyPanel()
        self.search_results = SearchResults()
        self.docks: dict[str, QDockWidget] = {}
        self.add_dock("layers", "图层", self.layer_tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock("overview", "鹰眼", self.overview, Qt.DockWidgetArea.LeftDockWidgetArea)
        identify_dock = self.add_dock("identify", "识别结果", self.identify, Qt.DockWidgetArea.RightDockWidgetArea)
        # above identify and case detail, so the list stays in view while picked places are looked at
        search_dock = self.add_dock("search", "搜索结果", self.search_results, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(search_dock, identify_dock, Qt.Orientation.Vertical)
        search_dock.hide()  # until a search has more than one answer
        self._search_seq = 0  # the latest search; answers to older ones arrive late and are dropped
        self.resizeDocks([self.docks["layers"]], [250], Qt.Orientation.Horizontal)
        self.toolbar = QToolBar("工具")
        self.toolbar.setObjectName("tools")
        self.addToolBar(self.toolbar)
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("搜索 案件号 / 网格编码 / 部件编码 / 地址 / 兴趣点（支持拼音首字母）")
        self.search_box.setMinimumWidth(340)
        self.actions_by_id = build_actions(self, self._action_specs(), role, self.toolbar)
        self.toolbar.addSeparator()
        self.toolbar.addWidget(self.search_box)
        self.actions_by_id["tool_pan"].setChecked(True)
        self._status_coords = QLabel()
        self._status_scale = QLabel()
        self._status_render = QLabel()
        self._status_measure = QLabel()
        for w in (self._status_measure, self._status_coords, self._status_scale, self._status_render):
            self.statusBar().addPermanentWidget(w)
        self.statusBar().showMessage(f"当前用户 {name}（{ROLE_TITLES.get(role, role)}）")
        self.canvas.cursorMoved.connect(lambda lon, lat: self._status_coords.setText(f"经度 {lon:.6f}  纬度 {lat:.6f}"))
        self.canvas.viewChanged.connect(self._update_scale)
        self.canvas.rendered.connect(lambda ms: self._status_render.setText(f"渲染 {ms:.0f} ms"))
        self.canvas.measured.connect(self._status_measure.setText)
        self.canvas.identified.connect(self._on_identified)
        self.search_box.returnPressed.connect(self._search)
        self.search_box.installEventFilter(self)  # ↓ from the box into the result list
        self.search_results.picked.connect(self.go_to_hit)
        for hook in ctx.extra_docks:
            hook(self, ctx)
        self._update_scale()
        self.resize(1920, 1080)
        # the layer tree carries the case legend: it gets the larger share, the overview map the rest (set
        # once every dock is in, or the bottom docks added later take the share back)
        self.resizeDocks([self.docks["layers"], self.docks["overview"]], [440, 200], Qt.Orientation.Vertical)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.canvas._rerender.stop()
        shutdown = getattr(self, "shutdown", None)
        if shutdown is not None:
            shutdown()
            self.shutdown = None
            from PySide6.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(5000)  # background layer loads end on the closed store
        super().closeEvent(event)

    def add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _action_specs(self) -> list[ActionSpec]:
        c = self.canvas
        specs = [
            ActionSpec(f"tool_{t}", TOOL_TITLES[t], partial(c.set_tool, t), menu="地图", toolbar=True,
                       checkable=True, group="tools", shortcut=sc)
            for t, sc in (("pan", "P"), ("identify", "I"), ("zoom_box", "Z"), ("measure_distance", "M"),
                          ("measure_area", "Shift+M"), ("select_rect", "S"))
        ]
        specs += [
            ActionSpec("zoom_extent", "全图", c.zoom_to_extent, menu="地图", toolbar=True, shortcut="Home"),
            ActionSpec("zoom_in", "放大", lambda: c.view.zoom_at(1.5, c.width() / 2, c.height() / 2), menu="地图",
                       shortcut="Ctrl+="),
            ActionSpec("zoom_out", "缩小", lambda: c.view.zoom_at(1 / 1.5, c.width() / 2, c.height() / 2), menu="地图",
                       shortcut="Ctrl+-"),
            ActionSpec("refresh", "刷新", lambda: c.data_changed({"case_state"}), menu="地图", shortcut="F5"),
            ActionSpec("quit", "退出", self.close, menu="文件", shortcut="Ctrl+Q"),
        ]
        return specs

    def _update_scale(self) -> None:
        self._status_scale.setText(f"比例尺 1:{self.canvas.view.scale_denominator():,.0f}")

    def _on_identified(self, result: dict) -> None:
        self.identify.show_result(self.ctx.map_data.describe(result) if result else result)
        self.docks["identify"].raise_()

    # -- search -------------------------------------------------------------------------------------
    def _search(self) -> None:
        """Search on the GUI thread. Why not on a worker: the geocoder projects with pyproj, and building its
        transformers on a pool thread while other threads used pyproj crashed the process (a segmentation
        fault seen in the test suite). Once the geocoder is built (the first search), a search takes
        milliseconds; the first one shows a busy cursor."""
        text = self.search_box.text().strip()
        if not text or self.ctx.search is None:
            return
        self._search_seq += 1
        seq = self._search_seq
        self.statusBar().showMessage(f"正在搜索 “{text}” …")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            hits = self.ctx.search(text)
        except Exception as exc:  # a damaged store: say so, keep the console
            self._search_failed(seq, text, exc)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self._search_done(seq, text, hits)

    def _search_done(self, seq: int, text: str, hits: list[SearchHit]) -> None:
        if seq != self._search_seq or not shiboken6.isValid(self):  # superseded, or the window has closed
            return
        target = single_target(hits)
        if target is not None:
            if self.docks["search"].isVisible():
                self.search_results.show_hits(text, [target])
            self.go_to_hit(target)
            return
        self.statusBar().showMessage(
            f"未找到 “{text}”" if not hits else f"“{text}” 有 {len(hits)} 个可能的结果，请在搜索结果中选择", 8000)
        self.search_results.show_hits(text, hits, DEFAULT_LIMIT)
        dock = self.docks["search"]
        if not dock.isVisible():
            dock.show()
            # a dozen rows, not three (once the dock is in the layout, i.e. after this event)
            QTimer.singleShot(0, lambda: self.resizeDocks([dock], [320], Qt.Orientation.Vertical))
        dock.raise_()

    def _search_failed(self, seq: int, text: str, exc: Exception) -> None:
        if seq != self._search_seq or not shiboken6.isValid(self):
            return
        message = user_text(str(exc))
        self.statusBar().showMessage(f"搜索失败：{message}", 8000)
        self.search_results.show_error(text, message)
        self.docks["search"].show()

    def go_to_hit(self, hit: SearchHit) -> None:
        """Zoom to a search hit and identify what is there (as a click on the map would)."""
        self.canvas.zoom_to(hit.bbox)
        where = f"（{hit.district}）" if hit.district else ""
        self.statusBar().showMessage(f"{hit.kind_title}: {hit.title}{where}", 8000)
        lon, lat = hit.centre
        QTimer.singleShot(0, lambda: self.canvas.identified.emit(
            self.ctx.map_data.identify(lon, lat, self.canvas.view.scale * 4)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.search_box and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Down  # type: ignore[attr-defined]
                and self.docks["search"].isVisible() and self.search_results.tree.topLevelItemCount()):
            self.search_results.tree.setFocus()
            return True
        return super().eventFilter(watched, event)
