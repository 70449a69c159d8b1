"""A lazy table model over case numbers: it holds ids, fetches display rows a page at a time
(``canFetchMore``/``fetchMore``) through a loader, and ``data()`` only formats what it has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

COLUMNS = (
    ("case_no", "案件编号"), ("status_title", "状态"), ("class_name", "类别"), ("district", "区"),
    ("address", "位置"), ("department", "处置部门"), ("source_title", "来源"), ("reported_at", "上报时间"),
    ("deadline", "环节时限"), ("light", "预警"),
)
LIGHT_COLORS = {"green": "#1eaa46", "yellow": "#f0be00", "red": "#e11e1e", "severe": "#8c00a0"}
LIGHT_TEXT = {"green": "正常", "yellow": "将超期", "red": "超期", "severe": "严重超期", "": ""}
_ICONS: dict[str, QIcon] = {}


def light_icon(light: str) -> QIcon:
    """A traffic-light dot. As an icon it keeps its colour in a selected row, where the highlight would
    turn a coloured "●" character white (and the case the operator is looking at would lose its light)."""
    icon = _ICONS.get(light)
    if icon is None:
        pix = QPixmap(12, 12)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(LIGHT_COLORS.get(light, "#c8c8c8")))
        p.drawEllipse(1, 1, 10, 10)
        p.end()
        icon = _ICONS[light] = QIcon(pix)
    return icon

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class CaseTableModel(QAbstractTableModel):
    PAGE = 100

    def __init__(self, load_rows: Callable[[Sequence[str]], list[Any]], parent: Any = None) -> None:
        super().__init__(parent)
        self._load_rows = load_rows
        self._ids: list[str] = []
        self._rows: list[Any] = []

    # -- content ------------------------------------------------------------------------------------
    def set_ids(self, ids: Sequence[str]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._rows = []
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    def refresh_cases(self, case_nos: set[str]) -> None:
        """Reload the loaded rows of these cases in place (another seat or this one changed them)."""
        for i, row in enumerate(self._rows):
            if row.case_no in case_nos:
                fresh = self._load_rows([row.case_no])
                if fresh:
                    self._rows[i] = fresh[0]
                    self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def ids(self) -> list[str]:
        return list(self._ids)

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    # -- Qt model API ---------------------------------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self._rows) < len(self._ids)

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid():
            return
        start = len(self._rows)
        chunk = self._ids[start : start + self.PAGE]
        rows = self._load_rows(chunk)
        by_no = {r.case_no: r for r in rows}
        rows = [by_no[n] for n in chunk if n in by_no]
        if not rows:
            self._ids = self._ids[:start]
            return
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            value = getattr(row, key)
            return LIGHT_TEXT.get(value, value) if key == "light" else value
        if role == Qt.ItemDataRole.ForegroundRole and key == "light" and row.light:
            return QBrush(QColor(LIGHT_COLORS[row.light]))
        if role == Qt.ItemDataRole.DecorationRole and key == "light" and row.light:
            return light_icon(row.light)
        if role == Qt.ItemDataRole.UserRole:
            return row.case_no
        return None
