"""Attribute tables (cases, grids, parts): filter by a column, sort by clicking a header, fetch rows
lazily, double-click to zoom the map there, and export exactly the filtered rows to Excel or CSV."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.attribute_tables import TABLE_TITLES, AttributeTable

Index = QModelIndex | QPersistentModelIndex
YES_NO_COLUMNS = {"key_area"}
DEFER_MS = 300  # lazy loads start after the console's first paint
_ROOT = QModelIndex()


class AttributeModel(QAbstractTableModel):
    PAGE = 200

    def __init__(self, table: AttributeTable, parent: Any = None) -> None:
        super().__init__(parent)
        self.table = table
        self._fids: list[int] = []
        self._rows: list[tuple[object, ...]] = []
        self._started = False

    def reload(self) -> None:
        self._started = True
        self.beginResetModel()
        self._fids = self.table.fids()
        self._rows = []
        self.endResetModel()
        if self.canFetchMore(_ROOT):
            self.fetchMore(_ROOT)

    def total(self) -> int:
        return len(self._fids)

    def fids(self) -> list[int]:
        return list(self._fids)

    def key_of(self, row: int) -> str:
        return str(self._rows[row][1])

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.table.columns)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self._rows) < len(self._fids)

    def fetchMore(self, parent: Index) -> None:
        start = len(self._rows)
        rows = self.table.rows(self._fids[start : start + self.PAGE])
        if not rows:
            return
        self.beginInsertRows(_ROOT, start, start + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.table.titles):
            return self.table.titles[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole or not (0 <= index.row() < len(self._rows)):
            return None
        value = self._rows[index.row()][index.column() + 1]
        if self.table.columns[index.column()] in YES_NO_COLUMNS and value in (0, 1):
            return "是" if value else "否"
        if isinstance(value, float):
            return f"{value:,.1f}"
        return "" if value is None else str(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.table.sort = self.table.columns[column]
        self.table.descending = order == Qt.SortOrder.DescendingOrder
        if self._started:  # a lazy view not shown yet only remembers the order
            self.reload()


class AttributeTableView(QWidget):
    zoomRequested = Signal(str, str)  # layer, code
    exported = Signal(str, int)

    LAYER_OF: ClassVar[dict[str, str]] = {"case_state": "case", "unit_grid": "unit_grid", "part": "part"}

    def __init__(self, store_path: str, table: str, parent: QWidget | None = None, lazy: bool = False) -> None:
        super().__init__(parent)
        self._loaded = False
        self.table = AttributeTable(store_path, table)
        self.model = AttributeModel(self.table, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setResizeContentsPrecision(40)  # fit columns to the first rows only
        self.column = QComboBox()
        for col, title in zip(self.table.columns, self.table.titles):
            self.column.addItem(title, col)
        self.text = QLineEdit()
        self.text.setPlaceholderText("筛选内容（包含）")
        self.text.setMinimumWidth(240)
        apply = QPushButton("筛选")
        clear = QPushButton("清除")
        export = QPushButton("导出…")
        self.count = QLabel()
        row = QHBoxLayout()
        for w in (QLabel("字段"), self.column, self.text, apply, clear, self.count):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(export)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addLayout(row)
        box.addWidget(self.view)
        apply.clicked.connect(self.apply_filter)
        self.text.returnPressed.connect(self.apply_filter)
        clear.clicked.connect(self._clear_filter)
        export.clicked.connect(self._export_dialog)
        self.view.doubleClicked.connect(
            lambda idx: self.zoomRequested.emit(self.LAYER_OF[self.table.table], self.model.key_of(idx.row())))
        if not lazy:
            self.load()

    def load(self) -> None:
        """Fetch the first page (a lazy view does this when first shown, not at console start)."""
        self._loaded = True
        self.apply_filter()
        self.view.resizeColumnsToContents()  # from the first page: codes and names are not cut off

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()

    def on_screen(self) -> bool:
        """Really seen (a page of a dock tabbed behind another counts as visible to Qt)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def apply_filter(self) -> None:
        text = self.text.text().strip()
        self.table.filters = [(self.column.currentData(), text)] if text else []
        self.model.reload()
        self.count.setText(f"共 {self.model.total():,} 条")

    def _clear_filter(self) -> None:
        self.text.clear()
        self.apply_filter()

    def export(self, path: str) -> int:
        n = self.table.export(path, self.model.fids())
        self.exported.emit(path, n)
        return n

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出", f"{TABLE_TITLES[self.table.table]}.xlsx",
                                              "Excel (*.xlsx);;CSV (*.csv)")
        if path:
            self.export_in_background(path)

    def export_in_background(self, path: str) -> None:
        """Write the file on a worker (a part table can hold millions of rows); the count arrives by signal."""
        from widgets.workers import run_task

        fids = self.model.fids()
        table = self.table
        self.count.setText(f"正在导出 {len(fids):,} 条…")

        def done(n: int) -> None:
            self.count.setText(f"已导出 {n:,} 条")
            self.exported.emit(path, n)

        run_task(lambda _p: table.export(path, fids),
                 done,
                 lambda exc: self.count.setText(f"导出失败：{exc}"))


class TablesWidget(QTabWidget):
    zoomRequested = Signal(str, str)

    def __init__(self, store_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: dict[str, AttributeTableView] = {}
        for table in ("case_state", "unit_grid", "part"):
            view = AttributeTableView(store_path, table, lazy=True)
            view.zoomRequested.connect(self.zoomRequested)
            self.addTab(view, TABLE_TITLES[table])
            self.views[table] = view
        self.currentChanged.connect(lambda _i: self.load_shown())

    def load_shown(self) -> None:
        """Fetch the first page of the table the user is looking at (nothing is read at console start)."""
        view = self.currentWidget()
        if isinstance(view, AttributeTableView) and view.on_screen():
            view.ensure_loaded()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        from PySide6.QtCore import QTimer

        QTimer.singleShot(DEFER_MS, self.load_shown)

    def on_changes(self, changes: Any) -> None:
        view = self.views["case_state"]
        if view._loaded and (changes is None or getattr(changes, "cases", None)):
            view.model.reload()
