"""Attribute tables (cases, grids, parts): filter by a column, sort by clicking a header, fetch rows
lazily, double-click to zoom the map there, and export exactly the filtered rows to Excel or CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
from widgets.display import CODE_LABELS, code_label, format_time

Index = QModelIndex | QPersistentModelIndex
YES_NO_COLUMNS = {"key_area"}
DEPARTMENT_COLUMNS = {"department", "owner_dept", "custodian_dept", "maintainer_dept"}
DEFER_MS = 300  # lazy loads start after the console's first paint
_ROOT = QModelIndex()


@dataclass(frozen=True)
class TableNames:
    """Names for the codes the tables store, read once when a table is first shown (``data()`` only
    looks them up): departments and users by id, classes by (kind, class code)."""

    departments: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)
    classes: Mapping[tuple[str, str], str] = field(default_factory=dict)


def desk_names(desk: Any) -> TableNames:
    """The names an ``app.desk.DeskService`` already holds for the inbox and the case detail."""
    return TableNames(desk.department_names, desk.user_names,
                      {(kind, code): name for kind, _major, code, name, _f, _c in desk.classes})


class AttributeModel(QAbstractTableModel):
    """Shows what a seat operator reads: 处置中 not ``dispatched``, 12319热线 not ``hotline_12319``,
    department and inspector names instead of bare ids, times as ``2026-11-08 14:21``. The stored value
    stays what is filtered, sorted and exported."""

    PAGE = 200

    def __init__(self, table: AttributeTable, parent: Any = None, names: TableNames | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.names = names or TableNames()
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
        row = self._rows[index.row()]
        return self.display(self.table.columns[index.column()], row[index.column() + 1], row)

    def display(self, column: str, value: object, row: tuple[object, ...] = ()) -> str:
        """One stored value as the table shows it (``row`` is the whole row, fid first, for the kind)."""
        if value is None:
            return ""
        if column in YES_NO_COLUMNS and value in (0, 1):
            return "是" if value else "否"
        if isinstance(value, float):
            return f"{value:,.1f}"
        text = str(value)
        if self.table.table == "case_state" and column in CODE_LABELS:
            return str(code_label(column, text))
        if column in DEPARTMENT_COLUMNS:
            return self.names.departments.get(text, text)
        if column == "inspector_id":
            name = self.names.users.get(text)
            return f"{name}（{text}）" if name else text
        if column == "class_code" and self.table.table == "case_state" and "kind" in self.table.columns and row:
            kind = str(row[self.table.columns.index("kind") + 1])
            name = self.names.classes.get((kind, text))
            return f"{text} {name}" if name else text
        return format_time(text)

    def _labels(self, column: str) -> Iterable[tuple[str, str]]:
        """(stored code, shown label) pairs of a column whose codes are shown as words."""
        if self.table.table == "case_state" and column in CODE_LABELS:
            return CODE_LABELS[column].items()
        if column in DEPARTMENT_COLUMNS:
            return self.names.departments.items()
        if column == "inspector_id":
            return self.names.users.items()
        if column == "class_code" and self.table.table == "case_state":
            return ((code, name) for (_kind, code), name in self.names.classes.items())
        return ()

    def filter_value(self, column: str, text: str) -> tuple[str, list[str]]:
        """What to filter the stored column on when the user types what the table shows: 处置中 filters
        ``dispatched``, 环境卫生 the one department whose name holds it. A code typed as such is kept. When
        the words fit several values the text is kept and those values are returned, so the view can ask
        for a fuller name."""
        pairs = list(self._labels(column))
        if not pairs or any(code == text for code, _label in pairs):
            return text, []
        exact = sorted({code for code, label in pairs if label == text})
        if len(exact) == 1:
            return exact[0], []
        matches = sorted({code for code, label in pairs if text in label})
        if len(matches) == 1:
            return matches[0], []
        return text, sorted({label for code, label in pairs if code in matches})

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.table.sort = self.table.columns[column]
        self.table.descending = order == Qt.SortOrder.DescendingOrder
        if self._started:  # a lazy view not shown yet only remembers the order
            self.reload()


class AttributeTableView(QWidget):
    zoomRequested = Signal(str, str)  # layer, code
    exported = Signal(str, int)

    LAYER_OF: ClassVar[dict[str, str]] = {"case_state": "case", "unit_grid": "unit_grid", "part": "part"}

    def __init__(self, store_path: str, table: str, parent: QWidget | None = None, lazy: bool = False,
                 names: Callable[[], TableNames] | None = None) -> None:
        super().__init__(parent)
        self._loaded = False
        self._names = names  # read when the table is first shown, not at console start
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
        if self._names is not None:
            self.model.names = self._names()
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
        value, choices = self.model.filter_value(self.column.currentData(), text) if text else ("", [])
        self.table.filters = [(self.column.currentData(), value)] if text else []
        self.model.reload()
        hint = f"（“{text}”可指：{'、'.join(choices[:6])}{' 等' if len(choices) > 6 else ''}，请输入完整名称）" if choices else ""
        self.count.setText(f"共 {self.model.total():,} 条{hint}")

    def _clear_filter(self) -> None:
        self.text.clear()
        self.apply_filter()

    def export(self, path: str) -> int:
        n = self.table.export(path, self.model.fids(), shown=self.model.display)
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
        shown = self.model.display  # reads only the names fetched when the table was shown
        self.count.setText(f"正在导出 {len(fids):,} 条…")

        def done(n: int) -> None:
            self.count.setText(f"已导出 {n:,} 条")
            self.exported.emit(path, n)

        run_task(lambda _p: table.export(path, fids, shown=shown),
                 done,
                 lambda exc: self.count.setText(f"导出失败：{exc}"))


class TablesWidget(QTabWidget):
    zoomRequested = Signal(str, str)

    def __init__(self, store_path: str, parent: QWidget | None = None,
                 names: Callable[[], TableNames] | None = None) -> None:
        super().__init__(parent)
        self.views: dict[str, AttributeTableView] = {}
        for table in ("case_state", "unit_grid", "part"):
            view = AttributeTableView(store_path, table, lazy=True, names=names)
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
