"""Scores page: per-district and per-department scores of the selected scheme as ranked bars coloured by
grade, with each unit's trend over 12 months beside them.

When no scheme can be evaluated the data service substitutes the on-time closure rate and says so in
the panel note, so the page never shows an empty board without a reason.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from app import charts
from app.charts import Theme
from app.wall_data import ScoreBoard
from widgets.wall.base import MUTED, WallPage, font, panel

TREND_UNITS = 6  # lines beyond this many are unreadable at wall distance


class ScoresPage(WallPage):
    name = "scores"
    title = "考评排名"

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._bars = [self.add_chart(self._drawer(i, trend=False), self._key(i, trend=False)) for i in range(2)]
        self._trends = [self.add_chart(self._drawer(i, trend=True), self._key(i, trend=True)) for i in range(2)]

    def _key(self, i: int, trend: bool):  # type: ignore[no-untyped-def]
        def key() -> object:
            board = self._board(i)
            if board is None:
                return None
            if trend:
                return (board.periods, tuple((u, tuple(v)) for u, v in board.trend.items()))
            return (board.bars, board.value_format)

        return key

    def _board(self, i: int) -> ScoreBoard | None:
        if self.snapshot is None:
            return None
        return self.snapshot.district_scores if i == 0 else self.snapshot.department_scores

    def _drawer(self, i: int, trend: bool):  # type: ignore[no-untyped-def]
        def draw(fig: Figure, theme: Theme) -> None:
            board = self._board(i)
            fig.set_layout_engine("constrained")
            ax = fig.add_subplot()
            if board is None:
                charts.draw_ranked_bars(ax, [], theme)
                return
            if trend:
                top = [b.label for b in sorted(board.bars, key=lambda b: -b.value)[:TREND_UNITS]]
                series = {u: board.trend[u] for u in top if u in board.trend}
                charts.draw_trend(ax, board.periods, series, theme)
            else:
                bars = sorted(board.bars, key=lambda b: -b.value)[:10]
                xmax = 100.0 * 1.18 if bars and max(b.value for b in bars) <= 100 else None
                charts.draw_ranked_bars(ax, bars, theme, value_format=board.value_format, xmax=xmax)

        return draw

    def _rects(self) -> list[tuple[QRectF, QRectF]]:
        m, gap = 24.0, 20.0
        w = self.design_w - 2 * m
        left_w = w * 0.42
        out = []
        for y, h in self.two_rows(m, gap):
            out.append((QRectF(m, y, left_w - gap / 2, h), QRectF(m + left_w + gap / 2, y, w - left_w - gap / 2, h)))
        return out

    def layout_design(self) -> None:
        for i, (bar_rect, trend_rect) in enumerate(self._rects()):
            for host, r in ((self._bars[i], bar_rect), (self._trends[i], trend_rect)):
                inner = r.adjusted(12, 62, -12, -12)
                self.place(host, inner.x(), inner.y(), inner.width(), inner.height())

    def paint_design(self, p: QPainter) -> None:
        for i, (bar_rect, trend_rect) in enumerate(self._rects()):
            board = self._board(i)
            title = board.title if board else ("区域考评得分" if i == 0 else "部门考评得分")
            panel(p, bar_rect, f"{title}（{self.snapshot.window.month if self.snapshot else ''}）")
            panel(p, trend_rect, f"{title} 近12个月趋势")
            if board is not None and board.note:
                p.setPen(MUTED)
                p.setFont(font(20))
                p.drawText(QRectF(trend_rect.left(), trend_rect.top() + 12, trend_rect.width() - 24, 42),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, board.note)
