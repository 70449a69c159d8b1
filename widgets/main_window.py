"""The console's main window: a composer only. It lays out the map and docks, builds menus and the
toolbar from declared actions, and wires signals between views. Behaviour lives in the views and in
``app/`` services passed in through ``ConsoleContext``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QLineEdit, QMainWindow, QToolBar, QWidget

from app.map_data import MapData
from widgets.actions import ActionSpec, build_actions
from widgets.identify_panel import IdentifyPanel
from widgets.map.canvas import TOOL_TITLES, MapCanvas
from widgets.map.layer_tree import LayerTree
from widgets.map.overview import OverviewMap

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
        self.docks: dict[str, QDockWidget] = {}
        self.add_dock("layers", "图层", self.layer_tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock("overview", "鹰眼", self.overview, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock("identify", "识别结果", self.identify, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.docks["layers"], self.docks["overview"]], [300, 260], Qt.Orientation.Vertical)
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
        for hook in ctx.extra_docks:
            hook(self, ctx)
        self._update_scale()
        self.resize(1920, 1080)

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

    def _search(self) -> None:
        text = self.search_box.text().strip()
        if not text or self.ctx.search is None:
            return
        hits = self.ctx.search(text)
        if not hits:
            self.statusBar().showMessage(f"未找到 “{text}”", 5000)
            return
        hit = hits[0]
        self.canvas.zoom_to(hit.bbox)
        self.statusBar().showMessage(f"{hit.kind_title}: {hit.title}", 8000)
        QTimer.singleShot(0, lambda: self.canvas.identified.emit(
            self.ctx.map_data.identify((hit.bbox[0] + hit.bbox[2]) / 2, (hit.bbox[1] + hit.bbox[3]) / 2,
                                       self.canvas.view.scale * 4)))
