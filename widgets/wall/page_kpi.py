"""KPI page: today's and this month's counters (上报, 立案, 派遣, 处置, 结案, 超期) and the three rates.

Painted directly (no charts): big numerals read best from the back of a supervision hall, and a
painted page costs nothing to keep in memory.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from widgets.wall.base import (
    BAD,
    GOOD,
    MUTED,
    PANEL_EDGE,
    TEXT,
    WARN,
    WallPage,
    change_text,
    font,
    panel,
    pct,
)

COUNTERS = (
    ("reported", "上报"), ("registered", "立案"), ("dispatched", "派遣"),
    ("handled", "处置"), ("closed", "结案"), ("overdue", "超期"),
)
RATES = (
    ("closure_rate", "结案率", True), ("on_time_closure_rate", "按期结案率", True), ("rework_rate", "返工率", False),
)


class KpiPage(WallPage):
    name = "kpi"
    title = "运行指标"

    def paint_design(self, p: QPainter) -> None:
        snap = self.snapshot
        if snap is None:
            return
        k = snap.kpi
        today_r, month_r, rates_r = self.bands()
        today = panel(p, today_r, f"今日  {snap.window.today_start[:10]}")
        # today's 超期 is the live count of open cases past their deadline, whenever reported
        self._counter_row(p, today, [getattr(k.today, key) for key, _ in COUNTERS], None, {"overdue": "当前超期"})
        month = panel(p, month_r, f"本月累计  {snap.window.month}（较上月同期）")
        self._counter_row(p, month, [getattr(k.month, key) for key, _ in COUNTERS],
                          [getattr(k.last_month, key) for key, _ in COUNTERS])
        rates = panel(p, rates_r, "本月处置质量")
        cw = rates.width() / 3
        for i, (attr, label, up_good) in enumerate(RATES):
            cell = QRectF(rates.left() + i * cw, rates.top(), cw, rates.height())
            self._rate(p, cell, label, getattr(k.rates, attr), getattr(k.last_rates, attr), up_good)

    def bands(self) -> tuple[QRectF, QRectF, QRectF]:
        """The today, month and rates panels, top to bottom (design px).

        On one screen: 27 % / 33 % / 40 % of the height. On a wall of panel rows whose seam crosses the page,
        the two counter panels share the part above the seam and the rates start below it, so no row of
        numbers is cut by a bezel.
        """
        m, gap = 24.0, 12.0
        w = self.design_w - 2 * m
        h = self.design_h - 2 * m
        seam = self.seam_inside(m + 0.3 * h, m + 0.8 * h)
        if seam is None:
            h1, h2 = h * 0.27, h * 0.33
        else:
            above = seam - gap / 2 - m + gap  # both counter panels end gap/2 above the seam
            h1 = above * 0.45
            h2 = above - h1
        today = QRectF(m, m, w, h1 - gap)
        month = QRectF(m, m + h1, w, h2 - gap)
        rates = QRectF(m, m + h1 + h2, w, h - h1 - h2)
        return today, month, rates

    def _counter_row(self, p: QPainter, r: QRectF, values: list[int], before: list[int] | None,
                     labels: dict[str, str] | None = None) -> None:
        cw = r.width() / len(COUNTERS)
        for i, (key, label) in enumerate(COUNTERS):
            label = (labels or {}).get(key, label)
            cell = QRectF(r.left() + i * cw, r.top(), cw, r.height())
            if i:
                p.setPen(QPen(PANEL_EDGE, 2))
                p.drawLine(QPointF(cell.left(), cell.top() + 8), QPointF(cell.left(), cell.bottom() - 8))
            p.setPen(MUTED)
            p.setFont(font(26))
            p.drawText(QRectF(cell.left(), cell.top(), cw, 40), Qt.AlignmentFlag.AlignCenter, label)
            number_h = cell.height() - 40 - (44 if before is not None else 0)
            color = BAD if key == "overdue" and values[i] else TEXT
            p.setPen(color)
            p.setFont(font(min(76.0, number_h * 0.82), bold=True))
            p.drawText(QRectF(cell.left(), cell.top() + 36, cw, number_h), Qt.AlignmentFlag.AlignCenter, f"{values[i]:,}")
            if before is not None:
                text, direction = change_text(values[i], before[i])
                good = direction == 0 or (direction > 0) != (key == "overdue")
                p.setPen(MUTED if direction == 0 else GOOD if good else WARN)
                p.setFont(font(22))
                p.drawText(QRectF(cell.left(), cell.bottom() - 44, cw, 40), Qt.AlignmentFlag.AlignCenter, text)

    def _rate(self, p: QPainter, cell: QRectF, label: str, value: float | None, before: float | None,
              up_good: bool) -> None:
        d = min(cell.height() - 20, cell.width() * 0.42)
        ring = QRectF(cell.left() + 24, cell.center().y() - d / 2, d, d)
        pen_w = d * 0.11
        inner = ring.adjusted(pen_w / 2, pen_w / 2, -pen_w / 2, -pen_w / 2)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(PANEL_EDGE, pen_w, c=Qt.PenCapStyle.FlatCap))
        p.drawEllipse(inner)
        if value is not None:
            good = value >= 0.9 if up_good else value <= 0.05
            fair = value >= 0.8 if up_good else value <= 0.1
            color = GOOD if good else WARN if fair else BAD
            p.setPen(QPen(color, pen_w, c=Qt.PenCapStyle.RoundCap))
            p.drawArc(inner, 90 * 16, -round(min(value, 1.0) * 360 * 16))
        p.setPen(TEXT)
        p.setFont(font(d * 0.2, bold=True))
        p.drawText(ring, Qt.AlignmentFlag.AlignCenter, pct(value))
        tx = ring.right() + 28
        tw = cell.right() - tx - 8
        p.setPen(TEXT)
        p.setFont(font(34, bold=True))
        p.drawText(QRectF(tx, cell.center().y() - 62, tw, 56), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        text, direction = change_text(value, before, rate=True)
        good = direction == 0 or (direction > 0) == up_good
        p.setPen(MUTED if direction == 0 else GOOD if good else WARN)
        p.setFont(font(24))
        p.drawText(QRectF(tx, cell.center().y() + 4, tw, 44), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
