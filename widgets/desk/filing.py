"""Filing a case from the map (受理员): the clicked point fills district, street, community, grid,
nearest address and nearest part; the operator picks source and class (searchable, pinyin initials),
sees the class's 立案条件, and the duplicate check lists nearby same-class cases (including recently
closed ones) before saving, with "关联为重复案件" one click away."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desk import DeskService, FilingContext
from app.workflow.transitions import SOURCE_LABELS, STATE_LABELS, URGENCIES


def _initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(text, style=Style.FIRST_LETTER) if p)


#: What the 小类 filter matches: the shown text and the name's pinyin initials (``0102 暴露垃圾（市容环境） bllj``).
#: The initials are for typing, not reading, so they live in this role and never in the shown text.
CLASS_SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


class FilingDialog(QDialog):
    def __init__(self, desk: DeskService, ctx: FilingContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ctx = ctx
        self.setWindowTitle("案件上报（受理）")
        self.duplicate_of: str | None = None
        place = QLabel(f"{ctx.district} / {ctx.street} / {ctx.community}\n网格 {ctx.grid_code}\n{ctx.address}")
        place.setWordWrap(True)
        self.source = QComboBox()
        for key, label in SOURCE_LABELS.items():
            self.source.addItem(label, key)
        self.kind = QComboBox()
        self.kind.addItem("事件", "event")
        self.kind.addItem("部件", "part")
        self.klass = QComboBox()
        self.klass.setEditable(True)
        self.klass.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # the popup lists the classes whose search text (shown text + initials) contains what is typed; it
        # shows and inserts the plain text, so the initials are searchable without being displayed
        self.class_filter = QSortFilterProxyModel(self)
        self.class_filter.setSourceModel(self.klass.model())
        self.class_filter.setFilterRole(CLASS_SEARCH_ROLE)
        self.class_filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer = QCompleter(self.class_filter, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.klass.setCompleter(completer)
        edit = self.klass.lineEdit()
        assert edit is not None  # an editable combo box has one
        edit.textEdited.connect(self._filter_classes)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet("color: #335; background: #eef3f9; padding: 4px;")
        self.part = QLineEdit(ctx.part_code or "")
        self.part.setPlaceholderText("部件编码（部件类案件）")
        self.part_hint = QLabel(f"最近部件：{ctx.part_text}" if ctx.part_text else "附近 30 米内无部件")
        self.address = QLineEdit(ctx.address)
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(70)
        self.urgency = QComboBox()
        for key, label in URGENCIES.items():
            self.urgency.addItem(label, key)
        self.photo_paths: list[str] = []
        self.photo_label = QLabel("未选择照片")
        pick = QPushButton("选择照片…")
        pick.clicked.connect(self._pick_photos)
        photos = QHBoxLayout()
        photos.addWidget(pick)
        photos.addWidget(self.photo_label, 1)
        self.dups = QListWidget()
        self.dups.setMaximumHeight(120)
        self.dup_title = QLabel("疑似重复案件：无")
        self.link = QPushButton("关联为重复案件")
        self.link.setEnabled(False)
        self.link.clicked.connect(self._link)
        self.dups.currentItemChanged.connect(lambda cur, _p: self.link.setEnabled(cur is not None))
        form = QFormLayout()
        form.addRow("位置", place)
        form.addRow("案件来源", self.source)
        form.addRow("类型", self.kind)
        form.addRow("小类", self.klass)
        form.addRow("立案条件", self.rule)
        form.addRow("部件", self.part)
        form.addRow("", self.part_hint)
        form.addRow("地址描述", self.address)
        form.addRow("问题描述", self.description)
        form.addRow("紧急程度", self.urgency)
        form.addRow("现场照片", photos)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c00;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("上报")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.dup_title)
        box.addWidget(self.dups)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.link)
        box.addLayout(row)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._fill_classes)
        self.klass.currentIndexChanged.connect(self._class_changed)
        if ctx.part_class:
            self.kind.setCurrentIndex(1)
        self._fill_classes()
        if ctx.part_class:
            self.set_class(ctx.part_class)
        self.resize(620, 760)

    # -- classes ----------------------------------------------------------------------------------------
    def _fill_classes(self) -> None:
        kind = self.kind.currentData()
        self.klass.blockSignals(True)
        self.klass.clear()
        for k, major, code, name, filing, _closing in self.desk.classes:
            if k == kind:
                shown = f"{code} {name}（{major}）"
                self.klass.addItem(shown, (code, filing))
                self.klass.setItemData(self.klass.count() - 1, f"{shown} {_initials(name)}", CLASS_SEARCH_ROLE)
        self.klass.blockSignals(False)
        self._class_changed()

    def _filter_classes(self, text: str) -> None:
        self.class_filter.setFilterFixedString(text.strip())
        completer = self.klass.completer()
        if text.strip() and completer is not None:
            completer.complete()

    def set_class(self, class_code: str) -> None:
        for i in range(self.klass.count()):
            if self.klass.itemData(i)[0] == class_code:
                self.klass.setCurrentIndex(i)
                return

    def class_code(self) -> str | None:
        data = self.klass.currentData()
        return None if data is None else data[0]

    def _class_changed(self) -> None:
        data = self.klass.currentData()
        self.rule.setText(data[1] if data else "")
        self._check_duplicates()

    def _check_duplicates(self) -> None:
        self.dups.clear()
        code = self.class_code()
        if not code:
            return
        cands = self.desk.duplicates(self.kind.currentData(), code, self.ctx.lon, self.ctx.lat)
        for c in cands:
            item = QListWidgetItem(
                f"{c.case_no}  {STATE_LABELS.get(c.status, c.status)}  相距 {c.distance_m:.0f} 米  上报 {str(c.reported_at)[:16]}")
            item.setData(256, c.case_no)
            self.dups.addItem(item)
        self.dup_title.setText(f"疑似重复案件：{len(cands)} 件（同类、附近、近期，含近期已结案）" if cands else "疑似重复案件：无")

    # -- photos and saving -------------------------------------------------------------------------------
    def _pick_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "选择照片", "", "图片 (*.jpg *.jpeg *.png)")
        self.set_photos(paths)

    def set_photos(self, paths: list[str]) -> None:
        self.photo_paths = list(paths)
        self.photo_label.setText(f"已选择 {len(paths)} 张" if paths else "未选择照片")

    def _save(self) -> None:
        if not self.class_code():
            self.error.setText("请选择小类")
            return
        self.accept()

    def _link(self) -> None:
        item = self.dups.currentItem()
        if item is not None:
            self.duplicate_of = item.data(256)
            self._save()

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source.currentData(), "kind": self.kind.currentData(), "class_code": self.class_code(),
            "lon": self.ctx.lon, "lat": self.ctx.lat, "address": self.address.text().strip() or None,
            "description": self.description.toPlainText().strip() or None, "urgency": self.urgency.currentData(),
            "photos": list(self.photo_paths),
        }
        if self.kind.currentData() == "part" and self.part.text().strip():
            out["part_code"] = self.part.text().strip()
        return out
