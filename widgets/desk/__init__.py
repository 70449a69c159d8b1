"""The desk: role inbox, case detail, filing from the map, action and dispatch dialogs.

``install_desk(window, ctx)`` adds the desk docks to the main window. ``DeskController`` connects them:
a slot opens a dialog (non-blocking ``open()``, so tests can drive it) and, when accepted, submits one
operation to the writer thread; the result arrives as a ``Changes`` on the bus and every view refreshes
what it shows. Errors (a refused action, a conflict with another seat) are shown in plain words and the
view is refreshed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.desk import DeskService
from widgets.desk.case_detail import CaseDetailWidget
from widgets.desk.dialogs import FORMS, ActionDialog, DispatchDialog
from widgets.desk.evaluation_view import EvaluationView
from widgets.desk.filing import FilingDialog
from widgets.desk.inbox import InboxWidget
from widgets.desk.tables import TablesWidget, desk_names
from widgets.display import user_text


class DeskController(QObject):
    operationDone = Signal(object)  # Changes
    operationFailed = Signal(str)

    def __init__(self, window: QMainWindow, ctx: Any) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = ctx
        self.desk = DeskService(ctx.store_path, ctx.session)
        self.inbox = InboxWidget(self.desk)
        self.detail = CaseDetailWidget()
        self.active_dialog: Any = None
        self.current_case: str | None = None
        self.last_error = ""
        inbox_dock = window.add_dock("inbox", "待办案件", self.inbox, Qt.DockWidgetArea.BottomDockWidgetArea)  # type: ignore[attr-defined]
        self.tables = TablesWidget(ctx.store_path, names=lambda: desk_names(self.desk))
        tables_dock = window.add_dock("tables", "属性表", self.tables, Qt.DockWidgetArea.BottomDockWidgetArea)  # type: ignore[attr-defined]
        window.tabifyDockWidget(inbox_dock, tables_dock)
        self.evaluation = EvaluationView(ctx.store_path)
        eval_dock = window.add_dock("evaluation", "考核评价", self.evaluation, Qt.DockWidgetArea.BottomDockWidgetArea)  # type: ignore[attr-defined]
        window.tabifyDockWidget(tables_dock, eval_dock)
        self.evaluation.casesRequested.connect(self.show_cases)
        # tables and schemes are read when their tab is first looked at, not at console start
        tables_dock.visibilityChanged.connect(self._on_tables_visibility)
        eval_dock.visibilityChanged.connect(self._on_evaluation_visibility)
        inbox_dock.raise_()
        self.tables.zoomRequested.connect(self.zoom_to_feature)
        dock = window.add_dock("detail", "案件详情", self.detail, Qt.DockWidgetArea.RightDockWidgetArea)  # type: ignore[attr-defined]
        window.tabifyDockWidget(window.docks["identify"], dock)  # type: ignore[attr-defined]
        window.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
        window.resizeDocks([inbox_dock], [340], Qt.Orientation.Vertical)
        dock.raise_()
        if ctx.session.role in ("evaluator", "leader"):
            eval_dock.raise_()  # the evaluation is their daily work
        self.inbox.caseSelected.connect(self.show_case)
        self.inbox.caseActivated.connect(self.zoom_to_case)
        self.inbox.bulkDispatchRequested.connect(self.open_dispatch)
        self.detail.actionRequested.connect(self.request_action)
        self.detail.printRequested.connect(self.print_case)
        canvas = window.canvas  # type: ignore[attr-defined]
        canvas.pointPicked.connect(self.open_filing)
        canvas.identified.connect(self._identified)
        canvas.selectionChanged.connect(self._selected)
        if ctx.bus is not None:
            ctx.bus.changesApplied.connect(self.on_changes)
        self._add_actions()

    def _on_tables_visibility(self, shown: bool) -> None:
        if shown:
            self.tables.load_shown()

    def _on_evaluation_visibility(self, shown: bool) -> None:
        if shown:
            self.evaluation.load_schemes_async()

    def _add_actions(self) -> None:
        from PySide6.QtGui import QAction

        role = self.ctx.session.role
        if role in ("intake", "inspector", "admin"):
            act = QAction("上报案件（地图选点）", self.window)
            act.setObjectName("file_case")
            act.setShortcut("Ctrl+N")
            act.triggered.connect(lambda: self.window.canvas.set_tool("pick_point"))  # type: ignore[attr-defined]
            self.window.toolbar.insertAction(self.window.toolbar.actions()[0], act)  # type: ignore[attr-defined]
            self.window.actions_by_id["file_case"] = act  # type: ignore[attr-defined]

    # -- showing ----------------------------------------------------------------------------------------
    def show_case(self, case_no: str) -> None:
        self.current_case = case_no
        detail = self.desk.detail(case_no)
        self.detail.show_detail(detail)
        if detail is not None and detail.row.lon is not None and detail.row.lat is not None:
            self.detail.set_thumbnail(self._thumbnail(detail.row.lon, detail.row.lat))
        self.window.docks["detail"].raise_()  # type: ignore[attr-defined]

    def _thumbnail(self, lon: float, lat: float) -> Any:
        from app.map_view import MapViewState
        from widgets.map.render import render_layer
        from widgets.map.styles import LayerStyle

        view = MapViewState(lon, lat, 1.0 / 111_320, 220, 160, lat)
        from PySide6.QtGui import QColor, QImage, QPainter

        img = QImage(220, 160, QImage.Format.Format_ARGB32)
        img.fill(QColor(246, 244, 238))
        p = QPainter(img)
        for name, kind in (("unit_grid", "polygon"), ("road", "line"), ("case", "point")):
            p.drawImage(0, 0, render_layer(self.ctx.map_data, LayerStyle(name, name, kind=kind), view))
        p.setPen(QColor(220, 0, 0))
        p.drawEllipse(110 - 8, 80 - 8, 16, 16)
        p.end()
        return img

    def zoom_to_case(self, case_no: str) -> None:
        self.show_case(case_no)
        bbox = self.ctx.map_data.locate("case", case_no)
        if bbox is not None:
            self.window.canvas.zoom_to(bbox)  # type: ignore[attr-defined]

    def zoom_to_feature(self, layer: str, code: str) -> None:
        if layer == "case":
            self.zoom_to_case(code)
            return
        bbox = self.ctx.map_data.locate(layer, code)
        if bbox is not None:
            self.window.canvas.zoom_to(bbox)  # type: ignore[attr-defined]

    def _selected(self, layer: str, codes: list[str]) -> None:
        """Select by rectangle: the cases are marked on the map and listed in the inbox (bulk dispatch
        works on them); a selection of grids or parts is told in the status bar."""
        if layer == "case":
            self.show_cases(codes, title="框选案件", zoom=False)
        else:
            self.window.statusBar().showMessage(f"已选择 {len(codes)} 个要素", 8000)

    def show_cases(self, case_nos: list[str], title: str = "考核扣分涉及案件", zoom: bool = True) -> None:
        """Cases behind a deduction (or a rectangle): marked on the map and listed in the inbox table."""
        data = self.ctx.map_data
        points = []
        for no in case_nos:
            bbox = data.locate("case", no)
            if bbox is not None:
                points.append((bbox[0], bbox[1]))
        canvas = self.window.canvas  # type: ignore[attr-defined]
        canvas.set_selection_points(points)
        if points and zoom:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            canvas.zoom_to((min(xs), min(ys), max(xs), max(ys)))
        self.inbox.model.set_ids(case_nos)
        self.inbox.title.setText(f"{title} ({len(case_nos)})")
        self.window.docks["inbox"].raise_()  # type: ignore[attr-defined]

    def _identified(self, result: dict) -> None:
        case = result.get("case")
        if case and case.get("case_no"):
            self.show_case(str(case["case_no"]))

    def on_changes(self, changes: Any) -> None:
        self.inbox.on_changes(changes)
        self.tables.on_changes(changes)
        if self.current_case and (not getattr(changes, "cases", None) or self.current_case in changes.cases):
            self.show_case(self.current_case)

    # -- filing -----------------------------------------------------------------------------------------
    def open_filing(self, lon: float, lat: float) -> None:
        try:
            ctx = self.desk.filing_context(lon, lat)
        except ValueError as exc:
            self._error(str(exc))
            return
        dialog = FilingDialog(self.desk, ctx, self.window)
        self.active_dialog = dialog
        dialog.accepted.connect(lambda: self._file(dialog))
        dialog.open()

    def _file(self, dialog: FilingDialog) -> None:
        self._submit(self.desk.file_case_op(dialog.params(), dialog.duplicate_of), "已上报")
        self.window.canvas.set_tool("pan")  # type: ignore[attr-defined]

    # -- actions ----------------------------------------------------------------------------------------
    def request_action(self, action: str, case_no: str, seq: int) -> None:
        if action == "dispatch":
            self.open_dispatch([case_no], {case_no: seq})
            return
        if action not in FORMS:
            self._error(f"该操作不在控制台中提供: {action}")
            return
        form = FORMS[action]
        if not (form.text_param or form.decision or form.extension or form.level or form.original or form.close_type
                or form.photos):
            self.perform(action, case_no, seq, {})
            return
        dialog = ActionDialog(action, case_no, self.window)
        self.active_dialog = dialog
        dialog.accepted.connect(lambda: self.perform(action, case_no, seq, dialog.params()))
        dialog.open()

    def perform(self, action: str, case_no: str, seq: int | None, params: dict[str, Any]) -> None:
        op = self.desk.op(FORMS[action].op, case_no, expected_seq=seq, **params)
        self._submit(op, "已办理")

    def open_dispatch(self, case_nos: list[str], seqs: dict[str, int] | None = None) -> None:
        cands = (self.desk.dispatch_candidates(case_nos[0]) if len(case_nos) == 1
                 else self.desk.bulk_dispatch_candidates(case_nos))
        dialog = DispatchDialog(case_nos, cands, self.desk.department_names, self.window)
        self.active_dialog = dialog
        dialog.accepted.connect(lambda: self._dispatch(case_nos, seqs or {}, dialog.params()))
        dialog.open()

    def _dispatch(self, case_nos: list[str], seqs: dict[str, int], params: dict[str, Any]) -> None:
        if not params.get("department"):
            self._error("请选择处置部门")
            return
        op = self.desk.bulk_dispatch_op(case_nos, seqs, **params)
        self._submit(op, f"已派遣 {len(case_nos)} 件")

    def _submit(self, op: Any, done_text: str) -> None:
        def done(changes: Any) -> None:
            self.window.statusBar().showMessage(f"{done_text}：{'、'.join(sorted(changes.cases))}", 8000)
            self.operationDone.emit(changes)

        def failed(exc: Exception) -> None:
            self._error(str(exc))
            self.on_changes(None)  # show the state as it is now

        self.ctx.writer.submit(op, done, failed)

    def _error(self, text: str) -> None:
        self.last_error = text
        self.operationFailed.emit(text)
        box = QMessageBox(QMessageBox.Icon.Warning, "无法办理", user_text(text), parent=self.window)
        box.setObjectName("desk_error")
        if user_text(text) != text:  # the core's English details stay one click away, for support
            box.setDetailedText(text)
        box.open()
        self.active_dialog = box

    def print_case(self, case_no: str) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self.window, "保存案卷", f"{case_no}.pdf", "PDF (*.pdf)")
        if path:
            self.write_case_sheet(case_no, path)

    def write_case_sheet(self, case_no: str, path: str, wait: bool = False) -> None:
        """Render the map thumbnail here (cheap), write the PDF on a worker; ``wait`` for tests and scripts."""
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        from app.case_sheet import write_case_sheet
        from widgets.workers import run_task

        detail = self.desk.detail(case_no)
        if detail is None or detail.row.lon is None or detail.row.lat is None:
            return
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        self._thumbnail(detail.row.lon, detail.row.lat).save(buf, "PNG")
        png = bytes(data.data())
        if wait:
            write_case_sheet(detail, png, path)
            return
        run_task(lambda _p: write_case_sheet(detail, png, path),
                 lambda _r: self.window.statusBar().showMessage(f"案卷已保存：{path}", 8000),
                 lambda exc: self._error(f"案卷保存失败（{path}）：{exc}"))


def install_desk(window: QMainWindow, ctx: Any) -> None:
    window.desk = DeskController(window, ctx)  # type: ignore[attr-defined]
