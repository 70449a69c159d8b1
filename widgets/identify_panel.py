"""Identify results: grid, part and case attributes under the click, with Chinese field names."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.attribute_tables import COLUMN_TITLES
from widgets.display import CODE_LABELS, code_label, format_time

# The table titles, with the wording an identify result reads better in, and every other column of
# case_state (an identify result lists the whole row, so no raw column name may reach the screen).
FIELD_TITLES = {
    **COLUMN_TITLES,
    "grid_code": "所在网格", "stage_deadline": "当前环节时限", "handle_deadline": "处置时限",
    "description": "问题描述", "urgency": "紧急程度", "part_code": "部件编码", "reporter_id": "上报人账号",
    "registered_at": "立案时间", "dispatched_at": "派遣时间", "handled_at": "处置反馈时间",
    "stage": "当前环节", "stage_started_at": "环节开始时间", "suspended_at": "挂账时间",
    "suspended_hours": "挂账时长(小时)", "extension_hours": "延期时长(小时)", "escalation_count": "督办次数",
    "duplicate_of": "重复案件原案", "self_handled": "自处理", "return_count": "回退次数",
    "extension_count": "延期次数", "pending_request": "待审申请",
}
SECTION_TITLES = {"unit_grid": "单元网格", "part": "城市部件", "case": "案件"}
HIDDEN = {"fid", "last_seq", "updated_at", "note"}
YES_NO_FIELDS = {"key_area", "self_handled"}
#: Counters and durations that say nothing while they are zero (a case never suspended, never returned).
ZERO_HIDDEN = {"suspended_hours", "extension_hours", "escalation_count", "escalation_level", "self_handled",
               "return_count", "extension_count", "rework_count"}


def _value_text(key: str, value: object) -> str:
    if key in YES_NO_FIELDS and str(value) in ("0", "1"):
        return "是" if str(value) == "1" else "否"
    if key == "area_m2" and isinstance(value, float):
        return f"{value:,.1f}"
    if key in CODE_LABELS:
        return str(code_label(key, value))
    if isinstance(value, float):
        return f"{value:g}"
    return format_time(value)


class IdentifyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["属性", "值"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)  # titles never cut
        box = QVBoxLayout(self)
        box.setContentsMargins(2, 2, 2, 2)
        box.addWidget(self.tree)

    def show_result(self, result: dict[str, dict[str, object]]) -> None:
        self.tree.clear()
        if not result:
            self.tree.addTopLevelItem(QTreeWidgetItem(["（此处无要素）", ""]))
            return
        for section, attrs in result.items():
            top = QTreeWidgetItem([SECTION_TITLES.get(section, section), str(attrs.get("code") or attrs.get("case_no") or "")])
            self.tree.addTopLevelItem(top)
            for key, value in attrs.items():
                if key in HIDDEN or value in (None, "") or (key in ZERO_HIDDEN and value in (0, 0.0, "0")):
                    continue
                top.addChild(QTreeWidgetItem([FIELD_TITLES.get(key, key), _value_text(key, value)]))
            top.setExpanded(True)
