"""Shared pieces of the wall pages: the 1920×1080 design grid, the dark palette, and the chart host.

Why a design grid: every page is drawn in design pixels (1080 high, 1920 or more wide) and scaled by one
factor ``s`` to the real canvas. Text and vector shapes are painted through ``QPainter.scale`` so Qt
rasterises glyphs at the real size (sharp on a 4K or 5760×2160 wall); matplotlib figures are rendered
at ``dpi = 100·s`` for the same reason. Wider walls get a wider design canvas, not letterboxing.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.charts import WALL_DARK, Theme
from app.mpl_fonts import use_cjk_font
from app.paths import FONT_FAMILY
from app.wall_data import WallSnapshot

DESIGN_W = 1920
DESIGN_H = 1080
HEADER_H = 96  # design px
SEAM_PAD = 6.0  # design px a text box keeps from a panel seam (the bezel and a little air)

BG = QColor(WALL_DARK.background)
PANEL = QColor(WALL_DARK.panel)
PANEL_EDGE = QColor("#1f4a8a")
TEXT = QColor(WALL_DARK.text)
MUTED = QColor(WALL_DARK.muted)
ACCENT = QColor(WALL_DARK.accent)
GOOD = QColor("#2fbf71")
WARN = QColor("#f7b500")
BAD = QColor("#e5484d")
SEVERE = QColor("#c561ff")  # violet: tells "severely late" apart from red on the dark wall
# the lights of app.deadlines (green / yellow / red / severe) and the wall's own "done" for closed cases
LIGHTS = {"green": GOOD, "yellow": WARN, "red": BAD, "severe": SEVERE, "done": QColor("#5b7aa6")}
GROUP_COLORS = {
    "intake": QColor("#34c6f4"), "handling": QColor("#f7b500"), "checking": QColor("#a06cf5"),
    "closed": QColor("#2fbf71"), "overdue": QColor("#ff3b3b"),
}


def design_scale(width: int, height: int) -> tuple[float, float, float]:
    """(scale, design width, design height): the canvas keeps 1080 design px in its short direction.

    A 16:9 screen gets exactly 1920×1080; a 5760×2160 wall gets 2880×1080 at scale 2; a portrait or
    4:3 screen gets 1920 wide and more than 1080 high.
    """
    width, height = max(width, 1), max(height, 1)
    s = min(width / DESIGN_W, height / DESIGN_H)
    return s, width / s, height / s


def font(px: float, bold: bool = False) -> QFont:
    """The bundled CJK font at a size in design pixels (scaled with the painter)."""
    f = QFont(FONT_FAMILY)
    f.setPixelSize(max(1, round(px)))
    f.setBold(bold)
    f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return f


def panel(p: QPainter, rect: QRectF, title: str = "") -> QRectF:
    """A rounded dashboard panel with an optional title; returns the inner content rectangle."""
    p.setPen(PANEL_EDGE)
    p.setBrush(PANEL)
    p.drawRoundedRect(rect, 10, 10)
    if not title:
        return rect.adjusted(16, 16, -16, -16)
    p.setPen(ACCENT)
    p.setBrush(ACCENT)
    p.drawRect(QRectF(rect.left() + 16, rect.top() + 20, 6, 26))
    p.setFont(font(24, bold=True))
    p.setPen(TEXT)
    p.drawText(QRectF(rect.left() + 32, rect.top() + 12, rect.width() - 48, 42),
               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
    return rect.adjusted(16, 62, -16, -16)


class ChartHost(QWidget):
    """Shows one matplotlib figure drawn by a pure function; the figure and canvas live as long as the host.

    Why not FigureCanvasQTAgg: the wall needs the figure at a dpi tied to the design scale, rendered only
    when data or size changed, and kept as one QImage. Reusing a single ``Figure`` (cleared, never
    recreated) keeps memory flat over days of refreshes.
    """

    def __init__(self, draw: Callable[[Figure, Theme], None] | None = None, parent: QWidget | None = None,
                 key: Callable[[], object] | None = None) -> None:
        """``key`` returns the data the chart shows; the figure is redrawn only when it changes."""
        super().__init__(parent)
        use_cjk_font()  # idempotent; the wall must never fall back to a font without Chinese glyphs
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.figure = Figure(facecolor=WALL_DARK.panel)
        self._canvas = FigureCanvasAgg(self.figure)
        self._draw = draw
        self._key_fn = key
        self._key: object = object()
        self._image: QImage | None = None
        self._dirty = True
        self.scale = 1.0
        self.render_count = 0

    def set_draw(self, draw: Callable[[Figure, Theme], None]) -> None:
        self._draw = draw
        self._dirty = True
        self.update()

    def set_scale(self, scale: float) -> None:
        if abs(scale - self.scale) > 1e-6:
            self.scale = scale
            self._dirty = True

    def invalidate(self) -> None:
        self._dirty = True
        self.update()

    def data_changed(self) -> None:
        """Invalidate only if the chart's data differs from what it last drew (refreshes are frequent,
        and an unchanged chart must cost nothing)."""
        if self._key_fn is None:
            self.invalidate()
            return
        key = self._key_fn()
        if key != self._key:
            self._key = key
            self.invalidate()

    def render_now(self) -> None:
        """Draw the figure into the cached image (at the widget's real pixel size)."""
        w, h = self.width(), self.height()
        if w < 4 or h < 4:
            return
        dpi = 100.0 * self.scale
        self.figure.set_dpi(dpi)
        self.figure.set_size_inches(w / dpi, h / dpi, forward=False)
        self.figure.clear()
        self.figure.set_facecolor(WALL_DARK.panel)
        if self._draw is not None:
            self._draw(self.figure, WALL_DARK)
        self._canvas.draw()
        bound_text_metrics(self._canvas)
        buf = self._canvas.buffer_rgba()
        img = QImage(buf, buf.shape[1], buf.shape[0], QImage.Format.Format_RGBA8888)
        self._image = img.copy()  # detach from matplotlib's buffer, which the next draw reuses
        self._dirty = False
        self.render_count += 1

    @property
    def dirty(self) -> bool:
        return self._dirty

    def image(self) -> QImage | None:
        return self._image

    def resizeEvent(self, event: object) -> None:
        self._dirty = True

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._dirty:
            self.render_now()
        p = QPainter(self)
        if self._image is not None and self._image.width() == self.width() and self._image.height() == self.height():
            p.drawImage(0, 0, self._image)
        else:
            p.fillRect(self.rect(), PANEL)
        p.end()


TEXT_METRICS_KEEP = 200  # text sizes kept per chart; one draw lays out a few dozen texts


def bound_text_metrics(canvas: FigureCanvasAgg, keep: int = TEXT_METRICS_KEEP) -> None:
    """Empty matplotlib's text-size cache of this chart's renderer once it holds more than ``keep`` entries.

    Why: matplotlib caches the size of every text it lays out, per renderer, in an LRU of 4,096 entries
    (a copy of the FontProperties, the text and the dpi per entry, about 1 KB). A wall chart keeps its
    renderer for days while its numbers change with every refresh, so each chart's cache fills up to the
    bound: megabytes that look like a leak over a soak. A chart needs only the texts of one draw, so a
    small bound costs nothing. The cache is matplotlib's private helper; if it is not there (another
    matplotlib), nothing is done.
    """
    try:
        from matplotlib.text import _get_text_metrics_function  # type: ignore[attr-defined]

        metrics = _get_text_metrics_function(canvas.get_renderer())
        if metrics.cache_info().currsize > keep:
            metrics.cache_clear()
    except (ImportError, AttributeError):
        return


class WallPage(QWidget):
    """One wall page: receives snapshots and the design scale, paints in design pixels.

    Subclasses implement :meth:`paint_design` (QPainter already scaled) and may place child widgets
    (chart hosts) with :meth:`place`, in design pixels, from :meth:`layout_design`.
    """

    name = "page"
    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.scale = 1.0
        self.design_w = float(DESIGN_W)
        self.design_h = float(DESIGN_H - HEADER_H)
        self.snapshot: WallSnapshot | None = None
        self.charts: list[ChartHost] = []
        # horizontal seams between video-wall panel rows, in this page's design y (see seam_inside)
        self.seams_y: tuple[float, ...] = ()

    # -- data and geometry ----------------------------------------------------------------------------
    def set_snapshot(self, snapshot: WallSnapshot) -> None:
        self.snapshot = snapshot
        self.snapshot_changed()
        for c in self.charts:
            c.data_changed()
        self.update()

    def snapshot_changed(self) -> None:
        """Hook: the snapshot was replaced."""

    def set_design(self, scale: float, design_w: float, design_h: float, seams_y: tuple[float, ...] = ()) -> None:
        self.scale, self.design_w, self.design_h = scale, design_w, design_h
        self.seams_y = seams_y
        for c in self.charts:
            c.set_scale(scale)
        self.layout_design()
        self.update()

    def layout_design(self) -> None:
        """Hook: place child widgets for the current design size."""

    def seam_inside(self, top: float, bottom: float) -> float | None:
        """The first panel seam strictly inside ``(top, bottom)`` (design y), or ``None``.

        Why: on a wall of panels with bezels, a row of numbers crossing the seam between two panel rows is
        cut in half; a page that lays out in bands puts a band boundary on the seam instead.
        """
        for y in self.seams_y:
            if top < y < bottom:
                return y
        return None

    def clear_of_seams(self, top: float, height: float, lo: float | None = None, hi: float | None = None,
                       pad: float = SEAM_PAD) -> float:
        """The top of a box ``height`` high placed at ``top`` (design y), moved off every panel seam.

        Why: a text box on the bezel between panel rows is cut in half. A box that no seam crosses (keeping
        ``pad`` from it) stays where it is; one that a seam crosses goes to the nearest place beside a seam,
        ``pad`` away from it, that no seam crosses and that keeps the box inside ``[lo, hi]`` (a flow of
        boxes passes the previous box's bottom as ``lo``, so nothing overlaps). If none fits it stays put.
        """
        def clear(t: float) -> bool:
            return (self.seam_inside(t - pad, t + height + pad) is None
                    and (lo is None or t >= lo - 1e-9) and (hi is None or t + height <= hi + 1e-9))

        if self.seam_inside(top - pad, top + height + pad) is None:
            return top
        places = [t for y in self.seams_y for t in (y - pad - height, y + pad) if clear(t)]
        return min(places, key=lambda t: abs(t - top)) if places else top

    def two_rows(self, margin: float, gap: float) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((y, height), (y, height))`` of two rows of panels filling the page: equal halves on one screen;
        on a wall whose panel-row seam crosses the middle part of the page, the gap between the rows sits
        on the seam (the rows differ in height), so no chart axis or label is cut by the bezel."""
        h = self.design_h - 2 * margin
        seam = self.seam_inside(margin + 0.3 * h, margin + 0.7 * h)
        if seam is None:
            half = (h - gap) / 2
            return (margin, half), (margin + half + gap, half)
        first = seam - gap / 2 - margin
        return (margin, first), (seam + gap / 2, h - first - gap)

    def place(self, widget: QWidget, x: float, y: float, w: float, h: float) -> None:
        s = self.scale
        x0, y0 = round(x * s), round(y * s)
        widget.setGeometry(x0, y0, round((x + w) * s) - x0, round((y + h) * s) - y0)

    def add_chart(self, draw: Callable[[Figure, Theme], None], key: Callable[[], object] | None = None) -> ChartHost:
        host = ChartHost(draw, self, key)
        host.set_scale(self.scale)
        self.charts.append(host)
        return host

    def render_charts(self) -> None:
        """Render every dirty chart now (the soak benchmark and screenshots use it)."""
        for c in self.charts:
            if c.dirty:
                c.render_now()

    def set_active(self, active: bool) -> None:
        """Hook: the page became visible (start animations) or hidden (stop them)."""

    # -- painting -------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(self.scale, self.scale)
        self.paint_design(p)
        p.end()

    def paint_design(self, p: QPainter) -> None:
        """Hook: paint the page in design pixels."""


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def change_text(now: float | None, before: float | None, rate: bool = False) -> tuple[str, int]:
    """"较上月 ↑12.5%" for counts, "↑1.2个百分点" for rates, and the direction (+1, -1, 0)."""
    if now is None or before is None:
        return "较上月 —", 0
    if rate:
        diff = (now - before) * 100
        unit = "个百分点"
    elif before == 0:
        return ("较上月 —", 0) if now == 0 else ("较上月 新增", 1)
    else:
        diff = (now - before) / before * 100
        unit = "%"
    direction = 1 if diff > 0.05 else -1 if diff < -0.05 else 0
    arrow = {1: "↑", -1: "↓", 0: "→"}[direction]
    return f"较上月 {arrow}{abs(diff):.1f}{unit}", direction
