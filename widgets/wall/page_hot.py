"""高发 page: top problem classes, top streets and grids, cases by hour of day, and the source mix."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

from app import charts
from app.charts import Theme
from widgets.wall.base import WallPage, panel


class HotPage(WallPage):
    name = "hot"
    title = "高发分析"

    PANELS = ("本月高发问题", "高发街道", "高发网格", "按时段分布（本月）", "案件来源构成")

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        attrs = ("classes", "streets", "grids", "by_hour", "sources")
        self._hosts = [self.add_chart(d, self._key(a)) for d, a in zip(self._drawers(), attrs, strict=True)]

    def _key(self, attr: str):  # type: ignore[no-untyped-def]
        return lambda: getattr(self.snapshot.hot, attr) if self.snapshot else None

    def _drawers(self) -> list[Callable[[Figure, Theme], None]]:
        def bars(attr: str) -> Callable[[Figure, Theme], None]:
            def draw(fig: Figure, theme: Theme) -> None:
                fig.set_layout_engine("constrained")
                ax = fig.add_subplot()
                items = getattr(self.snapshot.hot, attr) if self.snapshot else ()
                charts.draw_top_classes(ax, list(items), theme)
            return draw

        def hours(fig: Figure, theme: Theme) -> None:
            fig.set_layout_engine("constrained")
            ax = fig.add_subplot()
            counts = list(self.snapshot.hot.by_hour) if self.snapshot else [0] * 24
            charts.draw_by_hour(ax, counts, theme)

        def sources(fig: Figure, theme: Theme) -> None:
            # the donut on the left half, its legend (name, count, share) on the right half
            ax = fig.add_axes((0.0, 0.04, 0.48, 0.92))
            charts.draw_source_mix(ax, list(self.snapshot.hot.sources) if self.snapshot else [], theme)

        return [bars("classes"), bars("streets"), bars("grids"), hours, sources]

    def _rects(self) -> list[QRectF]:
        m, gap = 24.0, 20.0
        w = self.design_w - 2 * m
        (y0, h0), (y1, h1) = self.two_rows(m, gap)
        c = (w - 2 * gap) / 3
        top = [QRectF(m + i * (c + gap), y0, c, h0) for i in range(3)]
        wide = 2 * c + gap
        bottom = [QRectF(m, y1, wide, h1), QRectF(m + wide + gap, y1, c, h1)]
        return top + bottom

    def layout_design(self) -> None:
        for host, r in zip(self._hosts, self._rects(), strict=True):
            inner = r.adjusted(12, 62, -12, -12)
            self.place(host, inner.x(), inner.y(), inner.width(), inner.height())

    def paint_design(self, p: QPainter) -> None:
        for title, r in zip(self.PANELS, self._rects(), strict=True):
            panel(p, r, title)
