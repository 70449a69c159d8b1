"""The role inbox: the signed-in role's queues with counts, and the cases of the chosen queue.

Counts and rows come from ``app.desk.DeskService``; the dock refreshes when the bus says cases changed
(this seat or another), keeping the chosen queue and scroll position.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.desk import DeskService
from widgets.desk.case_model import COLUMNS, CaseTableModel, light_icon

COLUMN_KEYS = [key for key, _title in COLUMNS]
NO_QUEUE_TEXT = "本岗位没有待办队列。案件可在「属性表 → 案件」中查询；考核扣分涉及的案件、地图框选的案件会列在这里。"
#: Default widths (px) for 案件编号 状态 类别 区 位置 处置部门 来源 上报时间 环节时限 预警; 位置 stretches.
COLUMN_WIDTHS = (120, 70, 130, 70, 240, 170, 90, 130, 130, 90)


class InboxWidget(QWidget):
    caseActivated = Signal(str)  # double-click / Enter
    caseSelected = Signal(str)
    bulkDispatchRequested = Signal(list)

    def __init__(self, desk: DeskService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.queue_list = QListWidget()
        self.queue_list.setMaximumWidth(220)
        self.model = CaseTableModel(desk.rows, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(col, width)
        header.setSectionResizeMode(COLUMN_KEYS.index("address"), QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.title = QLabel()
        self.bulk = QPushButton("批量派遣")
        self.bulk.setVisible(desk.session.role == "dispatcher")
        self.bulk.clicked.connect(self._bulk)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.bulk)
        right = QWidget()
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(0, 0, 0, 0)
        rbox.addLayout(head)
        rbox.addWidget(self.table)
        split = QSplitter()
        split.addWidget(self.queue_list)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([210, 1400])
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(split)
        self.queue_list.currentItemChanged.connect(lambda *_: self._load_queue())
        self.table.doubleClicked.connect(lambda idx: self.caseActivated.emit(self.model.row_at(idx.row()).case_no))
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        # The queues are counted just after the window first paints the map, so the map comes first.
        self._loaded = False
        QTimer.singleShot(300, self.ensure_loaded)

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.caseSelected.emit(self.model.row_at(current.row()).case_no)

    def ensure_loaded(self) -> None:
        """Count the queues and open the first one with work in it (once)."""
        if self._loaded:
            return
        self._loaded = True
        self.refresh_counts()
        if self.queue_list.count():
            counts = [self.queue_list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(self.queue_list.count())]
            self.queue_list.setCurrentRow(next((i for i, n in enumerate(counts) if n), 0))
        else:  # 考评员, 系统管理员: no queue of their own; say so rather than show an empty dock
            self.title.setText(NO_QUEUE_TEXT)

    # -- refresh ----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        self.ensure_loaded()
        return {self.queue_list.item(i).data(Qt.ItemDataRole.UserRole): self.queue_list.item(i).data(Qt.ItemDataRole.UserRole + 1)
                for i in range(self.queue_list.count())}

    def refresh_counts(self) -> None:
        current = self.current_queue()
        self.queue_list.blockSignals(True)
        self.queue_list.clear()
        for q in self.desk.queues():
            late = f"  超期 {q.overdue}" if q.overdue else ""
            item = QListWidgetItem(f"{q.title}  ({q.count}){late}")
            item.setData(Qt.ItemDataRole.UserRole, q.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, q.count)
            item.setData(Qt.ItemDataRole.UserRole + 2, q.overdue)
            light = "red" if q.overdue else ("green" if q.count else "")
            item.setIcon(light_icon(light))  # red: some overdue, green: work, none late; grey: empty
            item.setToolTip(f"{q.title}：{q.count} 件，其中超期 {q.overdue} 件")
            if q.count:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.queue_list.addItem(item)
            if q.id == current:
                self.queue_list.setCurrentItem(item)
        self.queue_list.blockSignals(False)

    def current_queue(self) -> str | None:
        if not self._loaded:
            self.ensure_loaded()
        item = self.queue_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _load_queue(self) -> None:
        q = self.current_queue()
        if q is None:
            return
        ids = self.desk.queue_case_nos(q, limit=5000)
        self.model.set_ids(ids)
        self.title.setText(f"{self.queue_list.currentItem().text()}")

    def on_changes(self, changes: object) -> None:
        """Bus handler: recount, reload the open queue (cases may have left or joined it)."""
        self.refresh_counts()
        self._load_queue()

    def selected_cases(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row_at(r).case_no for r in rows]

    def _bulk(self) -> None:
        cases = self.selected_cases()
        if cases:
            self.bulkDispatchRequested.emit(cases)
