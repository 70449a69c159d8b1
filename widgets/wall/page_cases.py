"""Latest cases page: a slowly scrolling list of the newest cases with a traffic light per case.

The list scrolls in a loop only while the page is visible (a timer that stops when hidden), so a
hidden page costs nothing; the scroll offset is in design pixels and survives snapshot refreshes.

On a video wall whose panel-row seam crosses the list, a scrolling row would pass through the bezel
(and a row cut by the bezel cannot be read), so there the list pages instead: rows rest in slots laid
out so the seam falls in a gap between two slots, and a page of rows fades out and the next one fades
in, in place. The offset keeps growing at the same speed, so a page stays as long as its rows would take to
scroll by. A seam through the title bar or the column header moves them below it. Without a seam
through the list (one screen) the list scrolls exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter, QPen

from app.wall_data import LatestCase
from widgets.wall.base import LIGHTS, MUTED, PANEL_EDGE, TEXT, WallPage, font, panel

ROW_H = 66.0
HEAD_H = 56.0
SPEED = 36.0  # design px per second
TICK_MS = 33
FADE_S = 0.8  # seconds a paged list takes to fade one page out and the next one in
COLUMNS = (("", 0.05), ("上报时间", 0.14), ("案卷号", 0.19), ("问题类型", 0.17), ("位置", 0.33), ("状态", 0.12))
LIGHT_TEXT = {"green": "正常", "yellow": "将超期", "red": "已超期", "severe": "严重超期", "done": "已办结"}


@dataclass(frozen=True)
class ListLayout:
    """The list's geometry (design px): the panel, its content, the column header, the body rows scroll or page
    in, and ``slots`` (the row tops of a paged list) or ``None`` when the list scrolls."""

    outer: QRectF
    inner: QRectF
    header: QRectF
    body: QRectF
    slots: tuple[float, ...] | None

    def text_boxes(self) -> list[QRectF]:
        """The boxes that hold text above the rows: the title bar (title and light counts) and the column header."""
        return [QRectF(self.outer.left() + 16, self.outer.top() + 12, self.outer.width() - 32, 42), self.header]


@dataclass(frozen=True)
class Page:
    """What a paged list shows now: the first row of the page, the first row of the next one, and how far
    the change to it has gone (0..1: the page fades out over the first half, the next one in over the second)."""

    first: int
    following: int
    fade: float


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

    def list_layout(self) -> ListLayout:
        """The panel, header and body as on one screen; a panel seam through the title bar starts the panel
        below it, one through the column header moves the header below it, and one through the body turns
        the body into slots of whole rows with the seam in a gap between two of them."""
        outer = self._list_rect()
        top = self.clear_of_seams(outer.top() + 12, 42, lo=12) - 12  # the title bar: 12..54 below the top
        outer = QRectF(outer.left(), top, outer.width(), outer.bottom() - top)
        inner = outer.adjusted(16, 62, -16, -16)  # what panel() returns for a titled panel
        head_top = self.clear_of_seams(inner.top(), HEAD_H, lo=inner.top())
        header = QRectF(inner.left(), head_top, inner.width(), HEAD_H)
        body = QRectF(inner.left(), head_top + HEAD_H + 4, inner.width(), inner.bottom() - head_top - HEAD_H - 4)
        if self.seam_inside(body.top(), body.bottom()) is None:
            return ListLayout(outer, inner, header, body, None)
        slots: list[float] = []
        y = body.top()
        while True:
            y = self.clear_of_seams(y, ROW_H, lo=y)  # only downwards: the rows keep their order
            if y + ROW_H > body.bottom() + 1e-9:
                break
            slots.append(y)
            y += ROW_H
        return ListLayout(outer, inner, header, body, tuple(slots))

    def _cycle(self, rows: int, slots: int) -> float:
        """Offset (design px) after which a paged list shows the same page again (0: everything fits)."""
        if rows <= slots or slots == 0:
            return 0.0
        return rows // math.gcd(rows, slots) * slots * ROW_H

    def page(self, lay: ListLayout | None = None) -> Page:
        """The page a paged list shows at the current offset: pages of ``len(slots)`` rows in a loop, each
        fading into the next during its last ``FADE_S`` seconds."""
        lay = lay or self.list_layout()
        n, total = len(lay.slots or ()), len(self._rows())
        if total <= n or n == 0:
            return Page(0, 0, 0.0)
        page_len = n * ROW_H
        k = int(self.offset // page_len)
        fade_len = SPEED * FADE_S
        fade = min(1.0, max(0.0, (self.offset - k * page_len - (page_len - fade_len)) / fade_len))
        return Page(k * n % total, (k + 1) * n % total, fade)

    def row_boxes(self) -> list[QRectF]:
        """The rectangles of the rows drawn at the current offset, cut to the body (what is on screen)."""
        lay = self.list_layout()
        rows = self._rows()
        if not rows:
            return []
        if lay.slots is not None:
            return [QRectF(lay.body.left(), y, lay.body.width(), ROW_H) for y in lay.slots[:len(rows)]]
        return [QRectF(lay.body.left(), y, lay.body.width(), ROW_H).intersected(lay.body)
                for _, y in self._scrolled(lay.body, len(rows))]

    def _scrolled(self, body: QRectF, count: int) -> list[tuple[int, float]]:
        """(ribbon index, top) of the rows of a scrolling list that show in ``body`` at the current offset."""
        total = count * ROW_H
        loop = total > body.height()
        y = body.top() - (self.offset if loop else 0.0)
        out = []
        for i in range(count * (2 if loop else 1)):
            if y > body.bottom():
                break
            if y + ROW_H >= body.top():
                out.append((i, y))
            y += ROW_H
        return out

    def _tick(self) -> None:
        rows = self._rows()
        lay = self.list_layout()
        if lay.slots is not None:
            cycle = self._cycle(len(rows), len(lay.slots))
            if not cycle:
                self.offset = 0.0
                return
            self.offset = (self.offset + SPEED * TICK_MS / 1000) % cycle
            self.update()
            return
        body_h = lay.body.height() + 4  # the body and the 4 px under the header line
        total = len(rows) * ROW_H
        if total <= body_h:
            self.offset = 0.0
            return
        self.offset = (self.offset + SPEED * TICK_MS / 1000) % total
        self.update()

    def paint_design(self, p: QPainter) -> None:
        rows = self._rows()
        lay = self.list_layout()
        outer, inner = lay.outer, lay.inner
        counts = {k: sum(1 for r in rows if r.light == k) for k in LIGHTS}
        panel(p, outer, f"最新上报案件（最近{len(rows)}件）")
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
            p.drawText(QRectF(x0 + 8, lay.header.top(), inner.width() * frac - 16, HEAD_H),
                       Qt.AlignmentFlag.AlignVCenter, title)
        p.setPen(QPen(PANEL_EDGE, 2))
        y = lay.header.bottom()
        p.drawLine(QPointF(inner.left(), y), QPointF(inner.right(), y))
        body = lay.body
        if not rows:
            p.setPen(MUTED)
            p.setFont(font(30))
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, "暂无案件")
            return
        if lay.slots is not None:
            self._paint_paged(p, rows, xs, lay.slots, inner.width())
            return
        p.save()
        p.setClipRect(body)
        for i, y in self._scrolled(body, len(rows)):
            self._row(p, rows[i % len(rows)], xs, y, inner.width(), i % 2 == 1)
        p.restore()

    def _paint_paged(self, p: QPainter, rows: tuple[LatestCase, ...], xs: list[float], slots: tuple[float, ...],
                     width: float) -> None:
        """Whole rows in their slots: the stripes stay, the rows of one page fade out and those of the next in
        (one after the other: two pages' text over each other would read as noise)."""
        for k, y in enumerate(slots[:len(rows)]):
            if k % 2 == 1:
                p.fillRect(QRectF(xs[0], y, width, ROW_H), PANEL_EDGE.darker(170))
        if len(rows) <= len(slots):
            for r, y in zip(rows, slots, strict=False):
                self._row(p, r, xs, y, width, False)
            return
        page = self.page()
        for first, alpha in ((page.first, 1.0 - 2 * page.fade), (page.following, 2 * page.fade - 1.0)):
            if alpha <= 0.0:
                continue
            p.setOpacity(alpha)
            for k, y in enumerate(slots):
                self._row(p, rows[(first + k) % len(rows)], xs, y, width, False)
        p.setOpacity(1.0)

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
