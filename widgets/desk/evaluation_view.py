"""Evaluation view: choose a scheme and period, run it off the GUI thread, see the ranking, each unit's
items and deductions with the rule in words, a chart; click a deduction to see its cases on the map and
in the table; export the bulletin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import evaluation_service as svc
from widgets.workers import run_task

if TYPE_CHECKING:
    from app.evaluation.model import EvaluationResult, UnitResult



class EvaluationView(QWidget):
    casesRequested = Signal(list)
    evaluated = Signal(object)
    reportWritten = Signal(str)
    failed = Signal(str)

    def __init__(self, store_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self.result: EvaluationResult | None = None
        self._loading_schemes = False
        self.scheme = QComboBox()  # filled when first shown (reading the schemes is not start-up work)
        self.scheme.setMinimumWidth(380)
        self.scheme.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.period = QLineEdit(svc.default_period())
        self.period.setMaximumWidth(200)
        self.period.setPlaceholderText("2026-10 / 2026Q3 / 2026")
        self.run_button = QPushButton("计算")
        self.export_button = QPushButton("导出通报…")
        self.status = QLabel()
        # A scheme may score several kinds of unit (区, 街道, 网格, 部门, 岗位), each ranked on its own:
        # the ranking and the chart show one kind at a time.
        self.unit_kind = QComboBox()
        self.unit_kind.setToolTip("考核对象类别：每类单独排名")
        self.unit_kind.setMinimumWidth(110)
        self.unit_kind.currentIndexChanged.connect(lambda _i: self._kind_chosen())
        # one kind at a time (see run): the kinds evaluated so far for the current scheme and period
        self._per_kind: dict[str, EvaluationResult] = {}
        self._published: tuple[str, ...] = ()  # months of the shown roll-up taken from published runs
        self._run_key: tuple[str, str] | None = None
        head = QHBoxLayout()
        for w in (QLabel("考核办法"), self.scheme, QLabel("考核期"), self.period, self.run_button,
                  QLabel("考核对象"), self.unit_kind, self.status):
            head.addWidget(w)
        head.addStretch(1)
        head.addWidget(self.export_button)
        self.ranking = QTableWidget(0, 4)
        self.ranking.setHorizontalHeaderLabels(["排名", "考核对象", "总分", "等级"])
        self.ranking.verticalHeader().setVisible(False)
        self.ranking.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.ranking.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.ranking.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the unit's name takes the room left
        self.items = QTreeWidget()
        self.items.setHeaderLabels(["考核项", "得分", "满分", "规则", "案件数"])
        self.items.setColumnWidth(0, 170)
        self.items.setColumnWidth(3, 360)
        # the chart (matplotlib) is made with the first result, so the console starts without importing it
        self.figure: Any = None
        self.chart: Any = None
        self.chart_box = QWidget()
        self.chart_layout = QVBoxLayout(self.chart_box)
        self.chart_layout.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.ranking)
        split.addWidget(self.items)
        split.addWidget(self.chart_box)
        split.setSizes([260, 620, 420])
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addLayout(head)
        box.addWidget(split)
        self.run_button.clicked.connect(self.run)
        self.export_button.clicked.connect(self._export_dialog)
        self.ranking.currentCellChanged.connect(lambda row, *_: self._show_unit(row))
        self.items.itemClicked.connect(self._item_clicked)

    def load_schemes(self) -> None:
        if not self.scheme.count():
            self._fill_schemes(svc.schemes())

    def _fill_schemes(self, schemes: Any) -> None:
        if self.scheme.count():
            return
        for s in schemes:
            self.scheme.addItem(f"{s.name}（{s.id}）", s.id)
        idx = self.scheme.findData("standard")
        if idx >= 0:
            self.scheme.setCurrentIndex(idx)

    def load_schemes_async(self) -> None:
        """Read the schemes on a worker thread (23 files with compiled rules) so showing the view at
        start does not hold up the console's first paint."""
        if self.scheme.count() or self._loading_schemes:
            return
        self._loading_schemes = True

        def done(schemes: Any) -> None:
            self._loading_schemes = False
            self._fill_schemes(schemes)

        def failed(exc: Exception) -> None:
            self._loading_schemes = False
            self.status.setText(f"考核办法读取失败：{exc}")

        run_task(lambda _p: svc.schemes(), done, failed)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self.scheme.count():
            self.load_schemes_async()

    def run(self) -> None:
        """Evaluate the chosen scheme and period. A scheme that scores several kinds of unit is evaluated
        one kind at a time, the chosen kind first (区 at city scale in under a second rather than all nine
        kinds of the standard method in ten); another kind is evaluated when it is chosen, then kept."""
        self.load_schemes()
        scheme_id, period = self.scheme.currentData(), self.period.text().strip()
        try:
            kinds = svc.unit_kinds(scheme_id, period)
        except Exception as exc:  # an unknown scheme or a bad period: the evaluation itself says which
            kinds = []
            self.status.setText(f"计算失败：{exc}")
        self._per_kind = {}
        self._run_key = (scheme_id, period)
        if len(kinds) > 1:
            self._fill_kinds(kinds)
            self._evaluate(scheme_id, period, self.unit_kind.currentData())
        else:
            self._evaluate(scheme_id, period, None)

    def _evaluate(self, scheme_id: str, period: str, kind: str | None) -> None:
        self.status.setText("计算中…")
        self.run_button.setEnabled(False)
        self.unit_kind.setEnabled(False)
        path = self.store_path
        key = (scheme_id, period)

        def done(got: Any) -> None:
            self.run_button.setEnabled(True)
            if key != self._run_key:  # a newer 计算 started meanwhile
                return
            result = got.result
            self._published = got.published_months
            if kind is None:
                self.show_result(result)
                return
            self._per_kind[kind] = result
            self.unit_kind.setEnabled(True)
            if self.unit_kind.currentData() == kind:
                self._show_per_kind(result)

        def failed(exc: Exception) -> None:
            self.run_button.setEnabled(True)
            self.unit_kind.setEnabled(self.unit_kind.count() > 1)
            self.status.setText(f"计算失败：{exc}")
            self.failed.emit(str(exc))

        run_task(lambda progress: svc.evaluate_for_view(path, scheme_id, period, progress, kind), done, failed,
                 lambda f, m: self.status.setText(f"{m} {f * 100:.0f}%"))

    def _show_per_kind(self, result: EvaluationResult) -> None:
        self.result = result
        self._show_kind()
        self.evaluated.emit(result)

    def _kind_chosen(self) -> None:
        """Another kind was chosen: show it, evaluating it first when this run has not yet."""
        kind = self.unit_kind.currentData()
        if self._run_key is None:
            self._show_kind()  # a whole result shown by show_result: filter it
            return
        got = self._per_kind.get(kind)
        if got is not None:
            self._show_per_kind(got)
        elif kind is not None:
            self._evaluate(*self._run_key, kind)

    def show_result(self, result: EvaluationResult) -> None:
        """Show a whole result (every kind it holds; the 考核对象 choice filters it)."""
        from app.evaluation.run import kind_order

        self._per_kind = {}
        self._run_key = None
        self.result = result
        self._fill_kinds(sorted({u.kind for u in result.units}, key=kind_order))
        self._show_kind()
        self.evaluated.emit(result)

    def _fill_kinds(self, kinds: list[str]) -> None:
        """Offer ``kinds`` in the 考核对象 choice, keeping the chosen one when it is still offered."""
        from app.evaluation.run import KIND_LABELS

        previous = self.unit_kind.currentData()
        self.unit_kind.blockSignals(True)
        self.unit_kind.clear()
        for kind in kinds:
            self.unit_kind.addItem(KIND_LABELS.get(kind, kind) or "考核对象", kind)
        self.unit_kind.setCurrentIndex(max(0, self.unit_kind.findData(previous)))
        self.unit_kind.setEnabled(len(kinds) > 1)
        self.unit_kind.blockSignals(False)

    def shown_units(self) -> list[UnitResult]:
        """The units of the chosen kind, best first (ranks are per kind)."""
        if self.result is None:
            return []
        kind = self.unit_kind.currentData()
        units = [u for u in self.result.units if kind is None or u.kind == kind]
        return sorted(units, key=lambda u: (u.rank is None, u.rank or 0))

    def _show_kind(self) -> None:
        result = self.result
        if result is None:
            return
        units = self.shown_units()
        label = self.unit_kind.currentText() if self.unit_kind.count() > 1 else ""
        self.ranking.setRowCount(len(units))
        for r, u in enumerate(units):
            for c, text in enumerate((str(u.rank or ""), u.name, f"{u.total:.2f}", u.grade)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, u.code)
                self.ranking.setItem(r, c, item)
        missing = len(result.missing_manual)
        counted = f"{label} {len(units)} 个" if label else f"{len(units)} 个考核对象"
        if self.unit_kind.count() > 1:
            whole = "" if self._run_key else f" {len(result.units)} 个"  # one kind evaluated at a time: no total
            counted += f"（本办法共 {self.unit_kind.count()} 类{whole}考核对象，分类排名）"
        note = f"，月度得分取自已发布结果（{'、'.join(self._published)}）" if self._published and self._run_key else ""
        self.status.setText(counted + (f"，{missing} 项人工考评未录入" if missing else "") + note)
        from app.charts import REPORT_LIGHT, Bar, draw_ranked_bars

        self._ensure_chart()
        self.figure.clear()
        ax = self.figure.add_subplot(111)
        draw_ranked_bars(ax, [Bar(u.name, u.total, u.grade_color or None, u.grade) for u in units[:15]],
                         REPORT_LIGHT, title=f"{label}得分排名")
        self.figure.tight_layout()
        self.chart.draw_idle()
        self.items.clear()
        if units:
            self.ranking.selectRow(0)
            self._show_unit(0)

    def _ensure_chart(self) -> None:
        if self.chart is not None:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        from app.mpl_fonts import use_cjk_font

        use_cjk_font()
        self.figure = Figure(figsize=(5, 3), dpi=90)
        self.chart = FigureCanvasQTAgg(self.figure)
        self.chart_layout.addWidget(self.chart)

    def _show_unit(self, row: int) -> None:
        self.items.clear()
        first = self.ranking.item(row, 0) if row >= 0 else None
        if self.result is None or first is None:
            return
        unit = self.result.unit(first.data(Qt.ItemDataRole.UserRole))
        names = svc.category_names(self.result.scheme_id)
        groups: dict[str, QTreeWidgetItem] = {}
        for it in unit.items:
            parent = groups.get(it.category)
            if parent is None:
                parent = QTreeWidgetItem([names.get(it.category, it.category) or "考核项", "", "", "", ""])
                self.items.addTopLevelItem(parent)
                parent.setExpanded(True)
                groups[it.category] = parent
            child = QTreeWidgetItem([it.name, f"{it.points:.2f}", f"{it.full:g}", it.rule + ("（未录入）" if it.missing else ""),
                                     str(len(it.cases)) if it.cases else ""])
            child.setData(0, Qt.ItemDataRole.UserRole, list(it.cases))
            child.setToolTip(3, it.rule)
            if it.points < it.full and not it.bonus:
                child.setForeground(1, Qt.GlobalColor.red)
            parent.addChild(child)
        for note in unit.notes:
            self.items.addTopLevelItem(QTreeWidgetItem(["说明", "", "", note, ""]))

    def _item_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        cases = item.data(0, Qt.ItemDataRole.UserRole) or []
        if cases:
            self.casesRequested.emit(list(cases))

    def export(self, path: str) -> None:
        self.load_schemes()
        scheme_id, period = self.scheme.currentData(), self.period.text().strip()
        store = self.store_path

        def done(p: Any) -> None:
            self.status.setText(f"已导出 {p}")
            self.reportWritten.emit(str(p))

        def failed(exc: Exception) -> None:
            self.status.setText(f"导出失败：{exc}")
            self.failed.emit(str(exc))

        run_task(lambda progress: svc.write_report(store, scheme_id, period, path, progress), done, failed)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出通报", f"通报_{self.period.text().strip()}.pdf",
                                              "PDF (*.pdf);;Excel (*.xlsx)")
        if path:
            self.export(path)
