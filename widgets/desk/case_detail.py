"""Case detail: header, deadline and remaining working time, a map thumbnail, photos before and after
side by side, the timeline of events with actors and times, and exactly the actions this role may take
now (from the transition table)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.desk import LIGHT_TITLES, CaseDetail
from app.workflow.transitions import ACTION_LABELS, PENDING_LABELS, PHOTO_STAGES
from widgets.desk.case_model import LIGHT_COLORS
from widgets.display import format_time


class _WrapDelegate(QStyledItemDelegate):
    """Row heights for wrapped text: a tree view asks its delegate without the column's width, so the
    text would be measured on one line (and then cut off); measure it at the column's width instead."""

    def __init__(self, view: QTreeWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        opt = QStyleOptionViewItem(option)
        opt.rect = QRect(0, 0, self._view.columnWidth(index.column()), 1)
        return super().sizeHint(opt, index)


class CaseDetailWidget(QWidget):
    actionRequested = Signal(str, str, int)  # action, case_no, expected last_seq
    printRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: CaseDetail | None = None
        self.header = QLabel("未选择案件")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.deadline = QLabel()
        self.deadline.setWordWrap(True)  # a long overdue text must not widen the dock past its edge
        self.thumb = QLabel()
        self.thumb.setFixedSize(220, 160)
        self.thumb.setStyleSheet("border: 1px solid #bbb; background: #f6f4ee;")
        self.photos = QGroupBox("照片（处置前 | 处置后）")
        self.photo_grid = QGridLayout(self.photos)
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["时间", "环节", "操作人", "说明"])
        self.timeline.setRootIsDecorated(False)
        self.timeline.setMinimumHeight(200)  # about eight events before it scrolls
        # time and step fit their text; actor and note wrap (a department's name is long) instead of
        # being cut off with "…", and the full text is also the cell's tooltip
        self.timeline.setWordWrap(True)
        self.timeline.setUniformRowHeights(False)
        self.timeline.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.timeline.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.timeline.setColumnWidth(2, 150)
        self._wrap = _WrapDelegate(self.timeline)
        self.timeline.setItemDelegateForColumn(2, self._wrap)
        self.timeline.setItemDelegateForColumn(3, self._wrap)
        self._relayout = QTimer(self, singleShot=True, interval=0)  # row heights follow column widths
        self._relayout.timeout.connect(self.timeline.doItemsLayout)
        header.sectionResized.connect(lambda *_: self._relayout.start())
        self.actions_box = QHBoxLayout()
        self.actions_box.setSpacing(4)
        top = QHBoxLayout()
        info = QVBoxLayout()
        info.addWidget(self.header)
        info.addWidget(self.deadline)
        info.addStretch(1)
        top.addLayout(info, 1)
        top.addWidget(self.thumb)
        inner = QWidget()
        box = QVBoxLayout(inner)
        box.addLayout(top)
        box.addLayout(self.actions_box)
        box.addWidget(self.photos)
        box.addWidget(QLabel("办理过程"))
        box.addWidget(self.timeline, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.buttons: dict[str, QPushButton] = {}

    def photo_labels(self) -> int:
        """How many photos are shown (before and after)."""
        shown = 0
        for i in range(self.photo_grid.count()):
            item = self.photo_grid.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel) and widget.pixmap() is not None and not widget.pixmap().isNull():
                shown += 1
        return shown

    def set_thumbnail(self, image: QImage | None) -> None:
        if image is None:
            self.thumb.clear()
        else:
            self.thumb.setPixmap(QPixmap.fromImage(image).scaled(self.thumb.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                                 Qt.TransformationMode.SmoothTransformation))

    def show_detail(self, detail: CaseDetail | None) -> None:
        self.detail = detail
        for btn in self.buttons.values():
            self.actions_box.removeWidget(btn)
            btn.setParent(None)
            btn.deleteLater()
        self.buttons.clear()
        while self.photo_grid.count():
            item = self.photo_grid.takeAt(0)
            if item is None:  # cannot happen while count() > 0; stop rather than loop forever
                break
            widget = item.widget()
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        self.timeline.clear()
        if detail is None:
            self.header.setText("未选择案件")
            self.deadline.clear()
            return
        s, r = detail.state, detail.row
        pending = f"　<b style='color:#c60'>{PENDING_LABELS.get(s.pending_request, s.pending_request)}申请待审</b>" if s.pending_request else ""
        flags = []
        if s.urgency == "urgent":
            flags.append("紧急")
        if s.escalation_level:
            flags.append(f"督办{s.escalation_level}级")
        if s.rework_count:
            flags.append(f"返工{s.rework_count}次")
        if s.duplicate_of:
            flags.append(f"重复案件（原案 {s.duplicate_of}）")
        if s.self_handled:
            flags.append("自处理")
        closed = ""
        if s.closed_at:
            closed = f"　结案：{format_time(s.closed_at)}" + (f"（{escape(s.close_type)}）" if s.close_type else "")
        self.header.setText(
            f"<span style='font-size:14pt;font-weight:bold'>{s.case_no}</span>　{r.status_title}{pending}<br>"
            f"{r.source_title}｜{escape(r.class_name)}｜{escape(r.district)} {escape(r.address)}<br>"
            f"处置部门：{escape(r.department) or '—'}　上报：{r.reported_at}{closed}"
            + (f"<br>问题描述：{escape(s.description)}" if s.description else "")
            + (f"<br><span style='color:#a00'>{'，'.join(flags)}</span>" if flags else "")
            + (f"<br><small>结案条件：{escape(detail.closing_rule)}</small>" if detail.closing_rule else "")
        )
        light = r.light
        color = LIGHT_COLORS.get(light, "#666")
        paused = "　<b>挂账中，计时暂停</b>" if s.status == "suspended" and s.suspended_at else ""
        self.deadline.setText(
            f"<span style='color:{color}'>● {LIGHT_TITLES.get(light, light or '已办结')}</span>　"
            f"环节时限 {r.deadline or '—'}　{detail.remaining.replace(' ', '&nbsp;')}{paused}")
        for i, stage in enumerate(("report", "handle")):
            title = QLabel(f"<b>{PHOTO_STAGES.get(stage, stage)}照片</b>")
            self.photo_grid.addWidget(title, 0, i)
            images = detail.photos.get(stage, []) + (detail.photos.get("check", []) if stage == "handle" else [])
            if not images:
                self.photo_grid.addWidget(QLabel("（无）"), 1, i)
            for j, data in enumerate(images[:3]):
                pix = QPixmap()
                pix.loadFromData(data)
                lab = QLabel()
                lab.setPixmap(pix.scaled(220, 165, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
                self.photo_grid.addWidget(lab, 1 + j, i)
        for e in detail.events:
            event_item = QTreeWidgetItem([e["at"], e["action"], f"{e['actor']}（{e['role']}）", e["note"]])
            for col in (2, 3):
                event_item.setToolTip(col, event_item.text(col))
            self.timeline.addTopLevelItem(event_item)
        for action in detail.actions:
            if action in ("attach_photo", "report", "self_handle"):
                continue
            btn = QPushButton(ACTION_LABELS.get(action, action))
            btn.setObjectName(f"action_{action}")
            btn.clicked.connect(lambda _c=False, a=action: self.actionRequested.emit(a, s.case_no, s.last_seq))
            self.actions_box.addWidget(btn)
            self.buttons[action] = btn
        pr = QPushButton("打印案卷")
        pr.setObjectName("action_print")
        pr.clicked.connect(lambda: self.printRequested.emit(s.case_no))
        self.actions_box.addWidget(pr)
        self.buttons["print"] = pr
