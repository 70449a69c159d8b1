"""Map page: district outlines and names, a heat layer of this month's cases, case markers by status,
and today's new cases pulsing.

On a video wall of panel rows, no text sits on the bezel between them: the side panel's title, legend rows,
counts and heat scale keep off the seams (``side_layout``), and a district name that a seam would cut is
nudged just above or below it. The map imagery itself crosses seams; without a seam nothing moves.

The static part (heat, outlines, markers, names) is painted once per snapshot and size into one cached
image at the real pixel size; only the pulse rings are painted per frame, and the pulse timer runs only
while the page is visible. No map service or network: everything comes from the store's geometry.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF

from app.wall_data import GROUP_LABELS, MapData
from widgets.wall.base import BG, GROUP_COLORS, MUTED, PANEL_EDGE, TEXT, WallPage, font, panel

SIDE_W = 430.0
PULSE_MS = 50
PULSE_PERIOD_S = 2.0
MAX_PULSES = 80  # newest of today's cases; more rings turn into noise
GROUP_ORDER = ("intake", "handling", "checking", "closed", "overdue")
LEGEND_ROW_H = 52.0
STAT_H = 120.0  # a label (40) over its number (84), overlapping by 4
HEAT_H = 96.0
NAME_HALO = 6.0  # pen width of the dark outline around district names


@dataclass(frozen=True)
class SideLayout:
    """Where the side panel's boxes go (design px): the panel, its content, the tops of the five legend rows,
    of the two counts (今日新增, 本月案件) and of the heat scale."""

    side: QRectF
    inner: QRectF
    rows: tuple[float, ...]
    stats: tuple[float, ...]
    heat: float

    def text_boxes(self) -> list[QRectF]:
        """Every box that holds text: the title bar, the legend rows, the counts and the heat scale."""
        left, w = self.inner.left(), self.inner.width()
        return ([QRectF(self.side.left() + 16, self.side.top() + 12, self.side.width() - 32, 42)]
                + [QRectF(left, y, w, LEGEND_ROW_H) for y in self.rows]
                + [QRectF(left, y, w, STAT_H) for y in self.stats]
                + [QRectF(left, self.heat, w, HEAT_H)])


def _heat_lut() -> np.ndarray:
    """Transparent → blue → cyan → yellow → red, alpha rising with density (ARGB32 words)."""
    stops = [(0.0, (20, 60, 200, 0)), (0.25, (30, 110, 255, 70)), (0.5, (40, 220, 230, 125)),
             (0.75, (250, 220, 40, 165)), (1.0, (255, 50, 40, 200))]
    lut = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        t = i / 255
        for (t0, c0), (t1, c1) in itertools.pairwise(stops):
            if t0 <= t <= t1:
                f = (t - t0) / (t1 - t0)
                r, g, b, a = (round(c0[k] + (c1[k] - c0[k]) * f) for k in range(4))
                lut[i] = (a << 24) | (r << 16) | (g << 8) | b
                break
    return lut


_LUT = _heat_lut()


def heat_image(heat: np.ndarray) -> QImage:
    """The density raster as an ARGB image (one pixel per cell; Qt smooths it when scaling up)."""
    idx = np.clip(heat * 255, 0, 255).astype(np.uint8)
    argb = np.ascontiguousarray(_LUT[idx])
    h, w = argb.shape
    img = QImage(argb.data, w, h, 4 * w, QImage.Format.Format_ARGB32)
    return img.copy()


class MapPage(WallPage):
    name = "map"
    title = "案件分布"

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self._base: QImage | None = None
        self._base_key: tuple[object, ...] | None = None
        self._pulse_xy: list[QPointF] = []
        # the district names' text boxes (halo included) as last drawn, in design px
        self.label_boxes: list[QRectF] = []
        self._bar: QImage | None = None
        self.phase = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(PULSE_MS)
        self._timer.timeout.connect(self._tick)

    def set_active(self, active: bool) -> None:
        if active:
            self._timer.start()
        else:
            self._timer.stop()

    def snapshot_changed(self) -> None:
        self._base_key = None

    def _tick(self) -> None:
        self.phase = (self.phase + PULSE_MS / 1000 / PULSE_PERIOD_S) % 1.0
        if self._pulse_xy:
            self.update(self._map_real_rect())

    # -- geometry ------------------------------------------------------------------------------------
    def _map_rect(self) -> QRectF:
        m = 24.0
        return QRectF(m, m, self.design_w - 3 * m - SIDE_W, self.design_h - 2 * m)

    def _map_real_rect(self):  # type: ignore[no-untyped-def]
        r = self._map_rect()
        s = self.scale
        return QRectF(r.x() * s, r.y() * s, r.width() * s, r.height() * s).toAlignedRect()

    def _projector(self, data: MapData, area: QRectF):  # type: ignore[no-untyped-def]
        """lon/lat → design px inside ``area`` (equirectangular with cos(lat) so shapes keep their look)."""
        minx, miny, maxx, maxy = data.bounds or (0.0, 0.0, 1.0, 1.0)
        k = math.cos(math.radians((miny + maxy) / 2))
        w = max((maxx - minx) * k, 1e-9)
        h = max(maxy - miny, 1e-9)
        pad = 36.0
        f = min((area.width() - 2 * pad) / w, (area.height() - 2 * pad) / h)
        ox = area.left() + (area.width() - w * f) / 2
        oy = area.top() + (area.height() - h * f) / 2

        def xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return ox + (x - minx) * k * f, oy + (maxy - y) * f

        return xy, QRectF(ox, oy, w * f, h * f)

    # -- painting --------------------------------------------------------------------------------------
    def _build_base(self, data: MapData, area: QRectF) -> QImage:
        s = self.scale
        img = QImage(max(1, round(area.width() * s)), max(1, round(area.height() * s)),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(QColor("#081833"))
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(s, s)
        p.translate(-area.left(), -area.top())
        xy, box = self._projector(data, area)
        if data.heat.size > 1:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(box, heat_image(data.heat))
        # outlines
        for o in data.outlines:
            path = QPainterPath()
            for ring in o.rings:
                px, py = xy(ring[:, 0], ring[:, 1])
                path.addPolygon(QPolygonF([QPointF(a, b) for a, b in zip(px.tolist(), py.tolist(), strict=True)]))
                path.closeSubpath()
            p.setBrush(QColor(52, 198, 244, 18))
            p.setPen(QPen(QColor("#4fd2ff"), 2.4))
            p.drawPath(path)
        # markers by group, overdue last so they sit on top
        pts = data.points
        if len(pts.x):
            px, py = xy(pts.x, pts.y)
            # thousands of markers would bury the heat layer: shrink them as the month fills up, and
            # let closed cases recede so open and overdue ones stand out
            size = max(3.0, min(7.5, 7.5 * math.sqrt(1500 / len(pts.x))))
            for g in GROUP_ORDER:
                sel = data.groups == g
                if not sel.any():
                    continue
                color = QColor(GROUP_COLORS[g])
                if g == "closed":
                    color.setAlphaF(0.45)
                p.setPen(QPen(color, size * (1.35 if g == "overdue" else 0.8 if g == "closed" else 1.0),
                              c=Qt.PenCapStyle.RoundCap))
                p.drawPoints(QPolygonF([QPointF(a, b) for a, b in zip(px[sel].tolist(), py[sel].tolist(), strict=True)]))
        # names with a dark halo so they read over the heat
        p.setFont(font(30, bold=True))
        self.label_boxes = []
        for o in data.outlines:
            lx, ly = xy(np.array([o.label_xy[0]]), np.array([o.label_xy[1]]))
            r = QRectF(float(lx[0]) - 150, float(ly[0]) - 24, 300, 48)
            path = QPainterPath()
            fm = p.fontMetrics()
            tw = fm.horizontalAdvance(o.name)
            path.addText(QPointF(r.center().x() - tw / 2, r.center().y() + fm.ascent() / 2 - 4), p.font(), o.name)
            box = path.boundingRect().adjusted(-NAME_HALO / 2, -NAME_HALO / 2, NAME_HALO / 2, NAME_HALO / 2)
            # a name on a panel seam: just above or below it (still over its district), not cut by the bezel
            top = self.clear_of_seams(box.top(), box.height(), lo=area.top(), hi=area.bottom())
            if top != box.top():
                path.translate(0, top - box.top())
                box.moveTop(top)
            self.label_boxes.append(box)
            p.strokePath(path, QPen(BG, NAME_HALO))
            p.fillPath(path, TEXT)
        p.end()
        return img

    def _ensure_base(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        area = self._map_rect()
        key = (id(snap.map), round(area.width()), round(area.height()), self.scale, self.seams_y)
        if key == self._base_key and self._base is not None:
            return
        self._base = self._build_base(snap.map, area)
        self._base_key = key
        pts = snap.map.points
        today = np.flatnonzero(pts.today)[:MAX_PULSES]
        if len(today):
            xy, _ = self._projector(snap.map, area)
            px, py = xy(pts.x[today], pts.y[today])
            self._pulse_xy = [QPointF(a, b) for a, b in zip(px.tolist(), py.tolist(), strict=True)]
        else:
            self._pulse_xy = []

    def render_charts(self) -> None:
        self._ensure_base()

    def paint_design(self, p: QPainter) -> None:
        area = self._map_rect()
        p.setPen(QPen(PANEL_EDGE, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        self._ensure_base()
        if self._base is not None:
            p.drawImage(area, self._base)
        p.drawRoundedRect(area, 10, 10)
        # pulses: rings growing and fading; phases spread so the city "breathes" rather than blinks
        p.setBrush(Qt.BrushStyle.NoBrush)
        for i, pt in enumerate(self._pulse_xy):
            t = (self.phase + (i % 7) / 7) % 1.0
            c = QColor(GROUP_COLORS["overdue"]).lighter(130)
            c.setAlphaF(0.9 * (1 - t))
            p.setPen(QPen(c, 3))
            r = 6 + 26 * t
            p.drawEllipse(pt, r, r)
        self._paint_side(p)

    def _legend_bar(self) -> QImage:
        """The heat colour ramp, made once (opaque, so it reads on the panel)."""
        if self._bar is None:
            argb = (_LUT | np.uint32(0xFF000000)).astype(np.uint32)
            argb[:11] = 0xFF14306A
            self._bar = QImage(np.ascontiguousarray(argb).data, 256, 1, 4 * 256, QImage.Format.Format_ARGB32).copy()
        return self._bar

    def side_layout(self) -> SideLayout:
        """The side panel's boxes: a flow from the top (legend rows, then the two counts) and the heat scale at
        the bottom, as on one screen; on a wall, a box a panel seam would cross moves to the nearer side of it
        that keeps the flow in order (``clear_of_seams``), and a seam through the title bar starts the panel
        below the seam."""
        m = 24.0
        top = self.clear_of_seams(m + 12, 42, lo=12) - 12  # the title bar: 12..54 below the panel's top
        side = QRectF(self.design_w - m - SIDE_W, top, SIDE_W, self.design_h - m - top)
        inner = side.adjusted(16, 62, -16, -16)  # what panel() returns for a titled panel
        lo, hi = inner.top(), inner.bottom()
        rows: list[float] = []
        y = inner.top() + 4
        for _ in GROUP_ORDER:
            y = self.clear_of_seams(y, LEGEND_ROW_H, lo, hi)
            rows.append(y)
            lo = y + LEGEND_ROW_H
            y += 58
        y += 16
        stats: list[float] = []
        for _ in range(2):
            y = self.clear_of_seams(y, STAT_H, lo, hi)
            stats.append(y)
            lo = y + STAT_H
            y += 136
        heat = self.clear_of_seams(max(y + 8, inner.bottom() - HEAT_H), HEAT_H, lo, hi)
        return SideLayout(side, inner, tuple(rows), tuple(stats), heat)

    def _paint_side(self, p: QPainter) -> None:
        snap = self.snapshot
        lay = self.side_layout()
        inner = panel(p, lay.side, "图例与统计")
        if snap is None:
            return
        data = snap.map
        p.setFont(font(26))
        for g, y in zip(GROUP_ORDER, lay.rows, strict=True):
            if data.group_counts is not None:  # every case of the month, not only the markers drawn
                n = data.group_counts.get(g, 0)
            else:
                n = int((data.groups == g).sum()) if len(data.groups) else 0
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(GROUP_COLORS[g])
            p.drawEllipse(QRectF(inner.left() + 4, y + 14, 24, 24))
            p.setPen(TEXT)
            p.drawText(QRectF(inner.left() + 44, y, 220, 52), Qt.AlignmentFlag.AlignVCenter, GROUP_LABELS[g])
            p.drawText(QRectF(inner.left() + 200, y, inner.width() - 204, 52),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{n:,}")
        today = data.today_cases if data.today_cases is not None else (
            int(data.points.today.sum()) if len(data.points.today) else 0)
        for (label, value, color), y in zip((("今日新增", today, GROUP_COLORS["overdue"]),
                                             ("本月案件", data.cases, TEXT)), lay.stats, strict=True):
            p.setPen(MUTED)
            p.setFont(font(26))
            p.drawText(QRectF(inner.left(), y, inner.width(), 40), Qt.AlignmentFlag.AlignVCenter, label)
            p.setPen(color)
            p.setFont(font(64, bold=True))
            p.drawText(QRectF(inner.left(), y + 36, inner.width(), 84), Qt.AlignmentFlag.AlignVCenter, f"{value:,}")
        # heat scale bar
        y = lay.heat
        p.setPen(MUTED)
        p.setFont(font(22))
        p.drawText(QRectF(inner.left(), y, inner.width(), 34), Qt.AlignmentFlag.AlignVCenter, "热力：本月案件密度")
        p.drawImage(QRectF(inner.left(), y + 42, inner.width(), 22), self._legend_bar())
        p.drawText(QRectF(inner.left(), y + 66, inner.width(), 30), Qt.AlignmentFlag.AlignLeft, "低")
        p.drawText(QRectF(inner.left(), y + 66, inner.width(), 30), Qt.AlignmentFlag.AlignRight, "高")
