"""The search dock: what the search box found when the text does not name exactly one place.

The operator sees every candidate (kind, name or code, district, how it matched) and picks one;
double-click or Enter emits :attr:`SearchResults.picked` and the main window zooms there as for a unique
hit. A text that only resembles names (文亭小巷 when the city has 文亭九巷) says so above the list, so a
similar lane is never taken for the one asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.search import MATCH_TITLES, SearchHit, only_approximate

HIT_ROLE = Qt.ItemDataRole.UserRole
APPROXIMATE_NOTE = "近似匹配"


class SearchResults(QWidget):
    picked = Signal(object)  # app.search.SearchHit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("search_note")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["类型", "名称/编码", "所在区", "匹配"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for col, mode in ((0, QHeaderView.ResizeMode.ResizeToContents), (1, QHeaderView.ResizeMode.Stretch),
                          (2, QHeaderView.ResizeMode.ResizeToContents), (3, QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.note)
        box.addWidget(self.tree)
        self.tree.itemActivated.connect(self._activated)  # double-click, and Enter on the current row

    # -- states -------------------------------------------------------------------------------------
    def show_searching(self, text: str) -> None:
        self.tree.clear()
        self._set_note(f"正在搜索 “{text}” …")

    def show_hits(self, text: str, hits: Sequence[SearchHit], limit: int | None = None) -> None:
        """List ``hits`` for ``text``; the note says how many, or 未找到, or that they are only similar."""
        self.tree.clear()
        for hit in hits:
            item = QTreeWidgetItem([hit.kind_title, hit.title, hit.district or "—", MATCH_TITLES.get(hit.match, "")])
            item.setData(0, HIT_ROLE, hit)
            item.setToolTip(1, hit.title)
            if hit.approximate:
                item.setForeground(3, QColor("#b05a00"))
            self.tree.addTopLevelItem(item)
        if not hits:
            self._set_note(f"未找到 “{text}”", warn=True)
        elif only_approximate(hits):
            self._set_note(f"未找到 “{text}”，以下为{APPROXIMATE_NOTE}的结果，请核对后双击定位", warn=True)
        else:
            more = f"（仅列出前 {limit} 个，输入更完整的名称可缩小范围）" if limit and len(hits) >= limit else ""
            self._set_note(f"“{text}” 找到 {len(hits)} 个结果{more}，双击或按回车定位")
        first = self.tree.topLevelItem(0)
        if first is not None:
            self.tree.setCurrentItem(first)

    def show_error(self, text: str, message: str) -> None:
        self.tree.clear()
        self._set_note(f"搜索 “{text}” 失败：{message}", warn=True)

    # -- reading ------------------------------------------------------------------------------------
    def hits(self) -> list[SearchHit]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item.data(0, HIT_ROLE) for item in items if item is not None]

    def _set_note(self, text: str, warn: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet("color: #b05a00; font-weight: bold;" if warn else "color: #335;")

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        hit = item.data(0, HIT_ROLE)
        if hit is not None:
            self.picked.emit(hit)
