"""Layer painting: one routine per layer kind, each producing a cached ``QImage`` for one view.

Polygons and lines: cull with the STRtree, simplify to the pixel size, one ``QPainterPath`` per style,
no antialiasing for bulk fills. Points: splatted into a numpy RGBA buffer (millions of points in tens of
milliseconds), or binned into a density raster when zoomed out. Labels are drawn after the shapes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

from app.map_data import CASE_GROUP_ORDER, MapData, density
from app.map_view import MapViewState
from widgets.fonts import cjk_font
from widgets.map.styles import (
    CASE_GROUP_COLORS,
    CLOSED_CASES_MAX_MPP,
    LIGHT_COLORS,
    PART_COLORS,
    PART_STATUS_COLORS,
    LayerStyle,
)

POLY_STYLE = {
    # name: (pen rgb, pen width px, fill rgba or None, label point size)
    "district": ((40, 60, 120), 2.2, (235, 240, 250, 255), 14),
    "street": ((90, 110, 170), 1.4, None, 11),
    "community": ((140, 150, 190), 0.9, None, 9),
    "unit_grid": ((170, 175, 185), 0.6, None, 8),
    "road": ((255, 255, 255), 3.0, None, 9),
    "beat": ((0, 140, 140), 1.6, None, 9),
}
#: Case style classes (``PointLayer.style``) drawn by group colour instead of by light: closed and void.
CLOSED_CASE_STYLES = {CASE_GROUP_ORDER.index(g): color for g, color in CASE_GROUP_COLORS.items()}
#: Layers big enough (city: 30k grids, 2M parts, 1M cases) to load on a worker thread after the first
#: paint; the small ones (districts, streets, communities, roads) are drawn at once.
BACKGROUND_LAYERS = frozenset({"unit_grid", "part", "case", "beat"})


def data_layer(style_name: str) -> str:
    """The data a style draws (the heat layer draws the cases)."""
    return "case" if style_name == "heat" else style_name
LABEL_MAX_MPP = {"district": 1e9, "street": 40, "community": 8, "unit_grid": 2.5, "road": 6, "beat": 12}


def _to_screen(ring: np.ndarray, view: MapViewState) -> QPolygonF:
    m11, m22, dx, dy = view.affine()
    xs = ring[:, 0] * m11 + dx
    ys = ring[:, 1] * m22 + dy
    return QPolygonF([QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist())])


def new_image(view: MapViewState, dpr: float = 1.0) -> QImage:
    img = QImage(int(view.width * dpr), int(view.height * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(Qt.GlobalColor.transparent)
    return img


def render_polygons(data: MapData, style: LayerStyle, view: MapViewState) -> QImage:
    img = new_image(view)
    layer = data.polygons(style.name)
    bbox = view.bbox(margin_px=2)
    idx = layer.query(bbox)
    if len(idx) == 0:
        return img
    pen_rgb, width, fill, _label_pt = POLY_STYLE[style.name]
    tolerance = view.scale * 0.6
    rings = layer.rings(idx, tolerance)
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for feature in rings:
        for ring in feature:
            if len(ring) >= 2:
                poly = _to_screen(ring, view)
                if style.kind == "line":
                    path.moveTo(poly.at(0))
                    for i in range(1, poly.size()):
                        path.lineTo(poly.at(i))
                else:
                    path.addPolygon(poly)
                    path.closeSubpath()
    p = QPainter(img)
    p.setOpacity(style.opacity)
    if fill is not None:
        p.fillPath(path, QColor(*fill))
    if style.kind == "line":
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(200, 200, 205), width + 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawPath(path)
    pen = QPen(QColor(*pen_rgb), width)
    pen.setCosmetic(True)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, style.kind == "line" or len(idx) < 2000)
    p.drawPath(path)
    p.end()
    return img


#: Label priority: earlier layers win where labels would collide.
LABEL_ORDER = ("district", "street", "community", "road", "unit_grid")


def render_labels(data: MapData, styles: list[LayerStyle], view: MapViewState,
                  drawn: list[str] | None = None) -> QImage:
    """One label pass over all visible polygon/line layers so labels of different layers never overlap;
    the texts drawn are appended to ``drawn`` when given."""
    img = new_image(view)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    taken: list[QRectF] = []
    shown = {s.name: s for s in styles if s.shown_at(view.metres_per_pixel)}
    for name in LABEL_ORDER:
        if name not in shown or view.metres_per_pixel > LABEL_MAX_MPP.get(name, 0):
            continue
        if name in BACKGROUND_LAYERS and not data.is_loaded(name):
            continue  # still loading: its labels come with the re-render when it arrives
        layer = data.polygons(name)
        idx = layer.query(view.bbox())
        if len(idx) == 0 or len(idx) > 3000:
            continue
        _draw_labels(p, layer, idx, view, POLY_STYLE[name][3], name, taken, drawn)
    p.end()
    return img


def _draw_labels(p: QPainter, layer, idx: np.ndarray, view: MapViewState, point_size: int, name: str,  # type: ignore[no-untyped-def]
                 taken: list[QRectF], drawn: list[str] | None = None) -> None:
    font: QFont = cjk_font(point_size, bold=name in ("district", "street"))
    p.setFont(font)
    fm = p.fontMetrics()
    halo = QPen(QColor(255, 255, 255, 220), 3)
    color = QColor(20, 30, 80) if name in ("district", "street") else QColor(60, 70, 90)
    import shapely

    pts = shapely.point_on_surface(layer.geoms[idx]) if name != "road" else shapely.line_interpolate_point(
        layer.geoms[idx], 0.5, normalized=True)
    xs, ys = shapely.get_x(pts), shapely.get_y(pts)
    for k, i in enumerate(idx):
        text = layer.labels[int(i)]
        sx, sy = view.to_screen(float(xs[k]), float(ys[k]))
        w = fm.horizontalAdvance(text)
        rect = QRectF(sx - w / 2, sy - fm.height() / 2, w, fm.height())
        if rect.left() < 2 or rect.top() < 2 or rect.right() > view.width - 2 or rect.bottom() > view.height - 2:
            continue  # never cut off at the map's edge
        if any(rect.intersects(r) for r in taken):
            continue  # no overlapping labels
        taken.append(rect)
        if drawn is not None:
            drawn.append(text)
        path = QPainterPath()
        path.addText(rect.left(), rect.bottom() - fm.descent(), font, text)
        p.strokePath(path, halo)
        p.fillPath(path, color)


def _splat(rgba: np.ndarray, px: np.ndarray, py: np.ndarray, color: tuple[int, int, int], radius: int) -> None:
    h, w = rgba.shape[:2]
    for oy in range(-radius, radius + 1):
        for ox in range(-radius, radius + 1):
            if ox * ox + oy * oy > radius * radius + radius:
                continue
            x = px + ox
            y = py + oy
            ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            rgba[y[ok], x[ok]] = (*color, 255)


def _rgba_image(rgba: np.ndarray, opacity: float) -> QImage:
    if opacity < 1:
        rgba[..., 3] = (rgba[..., 3] * opacity).astype(np.uint8)
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888)
    return img.copy()  # own the pixels; the numpy buffer goes away


def render_points(data: MapData, style: LayerStyle, view: MapViewState) -> QImage:
    layer = data.points(style.name)
    bbox = view.bbox(margin_px=4)
    idx = layer.in_bbox(bbox)
    rgba = np.zeros((view.height, view.width, 4), dtype=np.uint8)
    if len(idx) == 0:
        return _rgba_image(rgba, style.opacity)
    mpp = view.metres_per_pixel
    if style.name == "part" and mpp > 4:
        # Level of detail: a density raster of parts instead of symbols.
        grid = density(layer.x[idx], layer.y[idx], view.bbox(), view.width, view.height)
        mask = grid > 0
        level = np.clip(np.log1p(grid) / np.log1p(max(float(grid.max()), 1.0)), 0, 1)
        rgba[..., 0] = 30
        rgba[..., 1] = 110
        rgba[..., 2] = 200
        rgba[..., 3] = np.where(mask, (60 + 170 * level), 0).astype(np.uint8)
        return _rgba_image(rgba, style.opacity)
    m11, m22, dx, dy = view.affine()
    px = np.round(layer.x[idx] * m11 + dx).astype(np.int64)
    py = np.round(layer.y[idx] * m22 + dy).astype(np.int64)
    radius = 1 if mpp > 1.5 else 2 if mpp > 0.5 else 3
    if style.name == "part":
        for s, color in enumerate(PART_COLORS):
            sel = layer.style[idx] == s
            _splat(rgba, px[sel], py[sel], color, radius)
        for st, status_color in enumerate(PART_STATUS_COLORS):
            if status_color is not None:
                sel = layer.sub[idx] == st
                _splat(rgba, px[sel], py[sel], status_color, radius)
    else:
        closed = np.isin(layer.style[idx], list(CLOSED_CASE_STYLES))
        if mpp <= CLOSED_CASES_MAX_MPP:  # closed and void cases only at street level: open work stands out
            for style_class, color in CLOSED_CASE_STYLES.items():
                sel = layer.style[idx] == style_class
                _splat(rgba, px[sel], py[sel], color, max(1, radius - 1))
        for light, color in enumerate(LIGHT_COLORS):
            sel = (~closed) & (layer.sub[idx] == light)
            _splat(rgba, px[sel], py[sel], color, radius + 1)
    return _rgba_image(rgba, style.opacity)


def render_heat(data: MapData, style: LayerStyle, view: MapViewState) -> QImage:
    layer = data.points("case")
    cell = 4
    w, h = max(1, view.width // cell), max(1, view.height // cell)
    grid = density(layer.x, layer.y, view.bbox(), w, h, blur=3)
    top = float(np.percentile(grid[grid > 0], 99)) if (grid > 0).any() else 1.0
    level = np.clip(grid / max(top, 1e-9), 0, 1)
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    rgba[..., 0] = (255 * np.clip(level * 2, 0, 1)).astype(np.uint8)
    rgba[..., 1] = (255 * np.clip(1.6 - level * 1.8, 0, 1) * (level > 0)).astype(np.uint8)
    rgba[..., 2] = (80 * (1 - level)).astype(np.uint8)
    rgba[..., 3] = (200 * np.sqrt(level)).astype(np.uint8)
    small = _rgba_image(rgba, style.opacity)
    return small.scaled(view.width, view.height, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def render_layer(data: MapData, style: LayerStyle, view: MapViewState) -> QImage:
    if style.kind == "point":
        return render_points(data, style, view)
    if style.kind == "heat":
        return render_heat(data, style, view)
    return render_polygons(data, style, view)


def draw_background(p: QPainter, width: int, height: int) -> None:
    p.fillRect(0, 0, width, height, QBrush(QColor(246, 244, 238)))
