"""Action dialogs built from a declared form per action (STYLE pattern 12): the same dialog asks for
a comment with canned phrases, a yes/no decision, an extension, photos or a level, as the action needs.
Dispatch has its own dialog with the suggested departments and their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.phrases import phrases_for
from app.workflow.transitions import ACTION_LABELS, CLOSE_TYPES, PHOTO_STAGES

#: What the comment box is called, by the operation parameter it fills (a decision's reason is an opinion).
TEXT_LABELS = {"comment": "意见", "reason": "理由", "feedback": "处置情况", "text": "备注内容"}


@dataclass(frozen=True)
class ActionForm:
    op: str  # app.operations function
    text_param: str | None = None  # where the comment box goes: comment / reason / feedback / text
    decision: str | None = None  # "passed" or "approved"
    decision_labels: tuple[str, str] = ("同意", "不同意")
    photos: bool = False
    extension: bool = False
    level: bool = False
    original: bool = False
    close_type: bool = False
    text_required: bool = False
    photo_stage: str = "handle"  # whose photos these are: 处置 (department) or 核查 (inspector)

    @property
    def text_label(self) -> str:
        if self.decision == "approved":
            return "审批意见"
        return TEXT_LABELS.get(self.text_param or "", "意见")


FORMS: dict[str, ActionForm] = {
    "send_verify": ActionForm("send_verify"),
    "verify": ActionForm("verify_case", "comment", "passed", ("属实", "不属实")),
    "accept": ActionForm("accept_case"),
    "register": ActionForm("register_case"),
    "reject": ActionForm("reject_case", "reason", text_required=True),
    "handle": ActionForm("handle_case", "feedback", photos=True, text_required=True),
    "send_check": ActionForm("send_check"),
    "check": ActionForm("check_case", "comment", "passed", ("核查通过", "未通过（返工）"), photos=True,
                        photo_stage="check"),
    "close": ActionForm("close_case", close_type=True),
    "request_return": ActionForm("request_return", "reason", text_required=True),
    "decide_return": ActionForm("decide_return", "reason", "approved"),
    "request_extension": ActionForm("request_extension", "reason", extension=True, text_required=True),
    "decide_extension": ActionForm("decide_extension", "reason", "approved", extension=True),
    "request_suspend": ActionForm("request_suspend", "reason", text_required=True),
    "decide_suspend": ActionForm("decide_suspend", "reason", "approved"),
    "resume": ActionForm("resume_case"),
    "request_void": ActionForm("request_void", "reason", text_required=True),
    "decide_void": ActionForm("decide_void", "reason", "approved"),
    "escalate": ActionForm("escalate_case", "comment", level=True),
    "mark_duplicate": ActionForm("mark_duplicate", original=True),
    "comment": ActionForm("comment", "text", text_required=True),
}


class ActionDialog(QDialog):
    """Collects the parameters of one action; ``params()`` gives the keyword arguments of its operation."""

    def __init__(self, action: str, case_no: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.form = FORMS[action]
        self.setWindowTitle(f"{ACTION_LABELS.get(action, action)} — {case_no}")
        form = QFormLayout()
        self.decision_group: QButtonGroup | None = None
        if self.form.decision:
            self.decision_group = QButtonGroup(self)
            row = QHBoxLayout()
            for i, label in enumerate(self.form.decision_labels):
                rb = QRadioButton(label)
                self.decision_group.addButton(rb, i)
                row.addWidget(rb)
            self.decision_group.button(0).setChecked(True)
            form.addRow("结论", row)
        self.amount: QDoubleSpinBox | None = None
        if self.form.extension:
            self.amount = QDoubleSpinBox()
            self.amount.setRange(0.5, 720)
            self.amount.setValue(2)
            self.unit = QComboBox()
            self.unit.addItems(["工作日", "工作时", "自然日", "小时"])
            row = QHBoxLayout()
            row.addWidget(self.amount)
            row.addWidget(self.unit)
            form.addRow("延期时长", row)
        self.level: QSpinBox | None = None
        if self.form.level:
            self.level = QSpinBox()
            self.level.setRange(1, 3)
            form.addRow("督办级别", self.level)
        self.original: QLineEdit | None = None
        if self.form.original:
            self.original = QLineEdit()
            self.original.setPlaceholderText("原案件编号")
            form.addRow("原案件", self.original)
        self.close_type: QComboBox | None = None
        if self.form.close_type:
            self.close_type = QComboBox()
            self.close_type.addItem("自动（正常/超时）", None)
            for t in CLOSE_TYPES[2:]:
                self.close_type.addItem(t, t)
            form.addRow("结案类型", self.close_type)
        self.text: QPlainTextEdit | None = None
        if self.form.text_param:
            self.phrases = QComboBox()
            self.phrases.addItem("— 常用语 —")
            self.phrases.addItems(phrases_for(action))
            self.text = QPlainTextEdit()
            self.text.setFixedHeight(80)
            self.phrases.activated.connect(self._use_phrase)
            form.addRow("常用语", self.phrases)
            form.addRow(self.form.text_label, self.text)
        self.photo_paths: list[str] = []
        if self.form.photos:
            self.photo_label = QLabel("未选择照片")
            pick = QPushButton("选择照片…")
            pick.clicked.connect(self._pick_photos)
            row = QHBoxLayout()
            row.addWidget(pick)
            row.addWidget(self.photo_label, 1)
            form.addRow(f"{PHOTO_STAGES.get(self.form.photo_stage, '')}照片", row)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c00;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("确定")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.setMinimumWidth(460)

    def _use_phrase(self, index: int) -> None:
        if index > 0 and self.text is not None:
            self.text.setPlainText(self.phrases.itemText(index))

    def _pick_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "选择照片", "", "图片 (*.jpg *.jpeg *.png)")
        self.set_photos(paths)

    def set_photos(self, paths: list[str]) -> None:
        self.photo_paths = list(paths)
        self.photo_label.setText(f"已选择 {len(paths)} 张" if paths else "未选择照片")

    def _accept(self) -> None:
        if self.form.text_required and self.text is not None and not self.text.toPlainText().strip():
            self.error.setText(f"请填写{self.form.text_label}")
            return
        if self.original is not None and not self.original.text().strip():
            self.error.setText("请填写原案件编号")
            return
        self.accept()

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.form.decision and self.decision_group is not None:
            out[self.form.decision] = self.decision_group.checkedId() == 0
        if self.text is not None and self.form.text_param:
            text = self.text.toPlainText().strip()
            if text or self.form.text_param == "text":
                out[self.form.text_param] = text
        if self.amount is not None and (self.form.decision is None or out.get("approved")):
            out["amount"] = self.amount.value()
            out["unit"] = self.unit.currentText()
        if self.level is not None:
            out["level"] = self.level.value()
        if self.original is not None:
            out["original"] = self.original.text().strip().upper()
        if self.close_type is not None and self.close_type.currentData():
            out["close_type"] = self.close_type.currentData()
        if self.form.photos and self.photo_paths:
            out["photos"] = list(self.photo_paths)
        return out


def _reason_text(name: str, reasons: Sequence[str]) -> str:
    """(``部件主管: X``, ``部件权属: X``, ``属地: 云龙区``) for department X as ``部件主管、部件权属为本单位；属地: 云龙区``
    (the reasons in their order, the ones naming the department itself said once)."""
    own: list[str] = []
    out: list[str] = []
    for part in (p.strip() for p in reasons):
        label, sep, value = part.partition(":")
        if sep and value.strip() == name:
            if not own:
                out.append("")  # where the merged entry goes
            own.append(label.strip())
        elif part:
            out.append(part)
    return "；".join(p or f"{'、'.join(own)}为本单位" for p in out)


class DispatchDialog(QDialog):
    """派遣: the ranked suggestions with reasons first, any department below them."""

    def __init__(self, case_nos: list[str], candidates: list[Any], departments: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("派遣 — " + ("、".join(case_nos) if len(case_nos) <= 3 else f"{len(case_nos)} 件案件"))
        self.list = QListWidget()
        # a suggestion's reasons can be long (主管, 权属, 养护, 属地): they go on a second, wrapped line
        # under the name, never past the right edge
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        seen = set()
        for c in candidates:
            item = QListWidgetItem(f"★ {c.name}\n　　推荐理由：{_reason_text(c.name, c.reasons)}")
            item.setToolTip(c.reason)
            item.setData(256, c.department)
            self.list.addItem(item)
            seen.add(c.department)
        for code, name in sorted(departments.items(), key=lambda kv: kv[1]):
            if code not in seen:
                item = QListWidgetItem(name)
                item.setData(256, code)
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.phrases = QComboBox()
        self.phrases.addItem("— 常用语 —")
        self.phrases.addItems(phrases_for("dispatch"))
        self.comment = QLineEdit()
        self.phrases.activated.connect(self._use_phrase)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("派遣")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(QLabel("处置部门（★ 为系统推荐，按责任划分与部件权属排序）"))
        box.addWidget(self.list)
        form = QFormLayout()
        form.addRow("常用语", self.phrases)
        form.addRow("派遣意见", self.comment)
        box.addLayout(form)
        box.addWidget(buttons)
        self.resize(560, 480)

    def _use_phrase(self, index: int) -> None:
        if index > 0:
            self.comment.setText(self.phrases.itemText(index))

    def department(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(256)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"department": self.department()}
        if self.comment.text().strip():
            out["comment"] = self.comment.text().strip()
        return out
