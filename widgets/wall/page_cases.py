"""Latest cases page: a slowly scrolling list of the newest cases with a traffic light per case.

The list scrolls in a loop only while the page is visible (a timer that stops when hidden), so a
hidden page costs nothing; the scroll offset is in design pixels and survives snapshot refreshes.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter, QPen

from app.wall_data import LatestCase
from widgets.wall.base import LIGHTS, MUTED, PANEL_EDGE, TEXT, WallPage, font, panel

ROW_H = 66.0
HEAD_H = 56.0
SPEED = 36.0  # design px per second
TICK_MS = 33
COLUMNS = (("", 0.05), ("上报时间", 0.14), ("案卷号", 0.19), ("问题类型", 0.17), ("位置", 0.33), ("状态", 0.12))
LIGHT_TEXT = {"green": "正常", "yellow": "将超期", "red": "已超期", "severe": "严重超期", "done": "已办结"}


class CasesPage(WallPage):
    name = "cases"
    title = "最新案件"

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.offset = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def set_active(self, active: bool) -> None:
        if active:
            self._timer.start()
        else:
            self._timer.stop()

    def _rows(self) -> tuple[LatestCase, ...]:
        return self.snapshot.latest if self.snapshot else ()

    def _list_rect(self) -> QRectF:
        m = 24.0
        return QRectF(m, m, self.design_w - 2 * m, self.design_h - 2 * m)

    def _tick(self) -> None:
        rows = self._rows()
        body_h = self._list_rect().height() - 62 - HEAD_H - 16
        total = len(rows) * ROW_H
        if total <= body_h:
            self.offset = 0.0
            return
        self.offset = (self.offset + SPEED * TICK_MS / 1000) % total
        self.update()

    def paint_design(self, p: QPainter) -> None:
        rows = self._rows()
        outer = self._list_rect()
        counts = {k: sum(1 for r in rows if r.light == k) for k in LIGHTS}
        inner = panel(p, outer, f"最新上报案件（最近{len(rows)}件）")
        # legend in the title bar
        p.setFont(font(22))
        x = outer.right() - 24
        for key in ("done", "severe", "red", "yellow", "green"):
            text = f"{LIGHT_TEXT[key]} {counts[key]}"
            tw = p.fontMetrics().horizontalAdvance(text) + 12
            x -= tw
            p.setPen(TEXT)
            p.drawText(QRectF(x, outer.top() + 12, tw, 42), Qt.AlignmentFlag.AlignVCenter, text)
            x -= 26
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(LIGHTS[key])
            p.drawEllipse(QRectF(x, outer.top() + 24, 18, 18))
            x -= 18
        xs = []
        acc = inner.left()
        for _, frac in COLUMNS:
            xs.append(acc)
            acc += inner.width() * frac
        p.setFont(font(24, bold=True))
        p.setPen(MUTED)
        for (title, frac), x0 in zip(COLUMNS, xs, strict=True):
            p.drawText(QRectF(x0 + 8, inner.top(), inner.width() * frac - 16, HEAD_H), Qt.AlignmentFlag.AlignVCenter, title)
        p.setPen(QPen(PANEL_EDGE, 2))
        y = inner.top() + HEAD_H
        p.drawLine(QPointF(inner.left(), y), QPointF(inner.right(), y))
        body = QRectF(inner.left(), inner.top() + HEAD_H + 4, inner.width(), inner.height() - HEAD_H - 4)
        if not rows:
            p.setPen(MUTED)
            p.setFont(font(30))
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, "暂无案件")
            return
        p.save()
        p.setClipRect(body)
        total = len(rows) * ROW_H
        loop = total > body.height()
        y = body.top() - (self.offset if loop else 0.0)
        n = len(rows) * (2 if loop else 1)
        for i in range(n):
            if y > body.bottom():
                break
            if y + ROW_H >= body.top():
                self._row(p, rows[i % len(rows)], xs, y, inner.width(), i % 2 == 1)
            y += ROW_H
        p.restore()

    def _row(self, p: QPainter, r: LatestCase, xs: list[float], y: float, width: float, odd: bool) -> None:
        if odd:
            p.fillRect(QRectF(xs[0], y, width, ROW_H), PANEL_EDGE.darker(170))
        d = 24.0
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(LIGHTS.get(r.light, MUTED))
        p.drawEllipse(QRectF(xs[0] + (width * COLUMNS[0][1] - d) / 2, y + (ROW_H - d) / 2, d, d))
        p.setFont(font(26))
        values = ("", r.time, r.case_no, r.class_name, r.place, r.status_label)
        for i, ((_, frac), x0) in enumerate(zip(COLUMNS, xs, strict=True)):
            if i == 0:
                continue
            p.setPen(LIGHTS[r.light] if i == 5 and r.light in ("red", "yellow", "severe") else TEXT)
            rect = QRectF(x0 + 8, y, width * frac - 16, ROW_H)
            text = p.fontMetrics().elidedText(values[i], Qt.TextElideMode.ElideRight, int(rect.width()))
            p.drawText(rect, Qt.AlignmentFlag.AlignVCenter, text)
