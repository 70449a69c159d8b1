"""Identify results: grid, part and case attributes under the click, with Chinese field names."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.attribute_tables import COLUMN_TITLES

# The table titles, with the wording an identify result reads better in.
FIELD_TITLES = {
    **COLUMN_TITLES,
    "grid_code": "所在网格", "stage_deadline": "当前环节时限", "handle_deadline": "处置时限",
    "description": "问题描述", "urgency": "紧急程度",
}
SECTION_TITLES = {"unit_grid": "单元网格", "part": "城市部件", "case": "案件"}
HIDDEN = {"fid", "last_seq", "updated_at", "note"}
YES_NO_FIELDS = {"key_area"}


def _value_text(key: str, value: object) -> str:
    if key in YES_NO_FIELDS and str(value) in ("0", "1"):
        return "是" if str(value) == "1" else "否"
    if key == "area_m2" and isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


class IdentifyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["属性", "值"])
        self.tree.setColumnWidth(0, 150)
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.tree)

    def show_result(self, result: dict[str, dict[str, object]]) -> None:
        self.tree.clear()
        if not result:
            self.tree.addTopLevelItem(QTreeWidgetItem(["(无要素)", ""]))
            return
        for section, attrs in result.items():
            top = QTreeWidgetItem([SECTION_TITLES.get(section, section), str(attrs.get("code") or attrs.get("case_no") or "")])
            self.tree.addTopLevelItem(top)
            for key, value in attrs.items():
                if key in HIDDEN or value in (None, ""):
                    continue
                top.addChild(QTreeWidgetItem([FIELD_TITLES.get(key, key), _value_text(key, value)]))
            top.setExpanded(True)
