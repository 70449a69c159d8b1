"""The map canvas: pan, zoom, identify, measure, select and pick, over cached layer images.

Each visible layer is rendered once per view into a ``QImage`` (see ``widgets.map.render``). While the
user pans, the cached images are moved; while zooming with the wheel they are scaled; a short timer
then re-renders only the layers whose view or data changed. Interactive overlays (selection, the
point being filed, measure lines, a flash on a searched feature) are drawn on top in ``paintEvent``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from app.map_data import MapData
from app.map_view import MapViewState
from app.measure import format_area, format_length, path_length_m, polygon_area_m2
from widgets.map.render import BACKGROUND_LAYERS, data_layer, draw_background, render_labels, render_layer
from widgets.map.styles import LayerSet, default_layers

TOOLS = ("pan", "identify", "zoom_box", "measure_distance", "measure_area", "select_rect", "pick_point")
TOOL_TITLES = {
    "pan": "平移", "identify": "识别", "zoom_box": "拉框放大", "measure_distance": "测距",
    "measure_area": "测面积", "select_rect": "框选", "pick_point": "地图选点",
}


@dataclass
class _Cached:
    image: QImage
    key: tuple  # (cx, cy, scale, w, h, version)


class MapCanvas(QWidget):
    """Signals carry world coordinates (lon, lat) and codes; slots never touch the store."""

    identified = Signal(dict)  # {"unit_grid": {...}, "part": {...}, "case": {...}}
    pointPicked = Signal(float, float)
    selectionChanged = Signal(str, list)  # layer, codes
    measured = Signal(str)
    cursorMoved = Signal(float, float)
    viewChanged = Signal()
    rendered = Signal(float)  # ms of the last full re-render
    layerLoaded = Signal(str)  # a big layer arrived from its worker thread
    loadFailed = Signal(str)

    def __init__(self, data: MapData, view: MapViewState | None = None, layers: LayerSet | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.view = view or MapViewState()
        self.layers = layers or default_layers()
        self.tool = "pan"
        self.select_layer = "case"
        self._cache: dict[str, _Cached] = {}
        self._versions: dict[str, int] = {}
        self._drag_start: QPointF | None = None
        self._drag_view: tuple[float, float] | None = None
        self._rubber: QRectF | None = None
        self._measure: list[tuple[float, float]] = []
        self._picked: tuple[float, float] | None = None
        self._highlight: tuple[float, float, float, float] | None = None
        self._selection: list[tuple[float, float]] = []
        self._composite: _Cached | None = None
        self._loading: set[str] = set()
        self.labels_drawn: list[str] = []  # texts of the last label pass (for tests and status)
        self.last_render_ms: float | None = None
        self._rerender = QTimer(self, singleShot=True, interval=120)
        self._rerender.timeout.connect(self.refresh)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 150)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view.subscribe(lambda _v: self._view_changed())
        self.layers.subscribe(self._layer_changed)
        lat0 = sum(data.extent()[1::2]) / 2
        self.view.lat0 = lat0

    # -- public API ---------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"未知的地图工具 tool '{tool}'")
        self.tool = tool
        self._measure.clear()
        self._rubber = None
        cursor = {"pan": Qt.CursorShape.OpenHandCursor, "identify": Qt.CursorShape.WhatsThisCursor}.get(
            tool, Qt.CursorShape.CrossCursor)
        self.setCursor(cursor)
        self.update()

    def zoom_to_extent(self) -> None:
        self.view.fit(self.data.extent(), margin=0.02)

    def zoom_to(self, bbox: tuple[float, float, float, float], min_mpp: float = 1.0) -> None:
        """Zoom to a feature's box (points get a street-level view) and flash it."""
        minx, miny, maxx, maxy = bbox
        if maxx - minx < 1e-5 and maxy - miny < 1e-5:
            self.view.center_on(minx, miny, scale=min_mpp / 111_320)
        else:
            self.view.fit(bbox, margin=0.3)
        self._highlight = bbox
        self.update()

    def set_picked(self, lon: float, lat: float) -> None:
        self._picked = (lon, lat)
        self.update()

    def set_selection_points(self, points: list[tuple[float, float]]) -> None:
        self._selection = points
        self.update()

    def data_changed(self, layers: set[str]) -> None:
        """Called when the store changed (``Changes.layers``): drop those layers' images and data."""
        self.data.invalidate({"case"} if "case_state" in layers else layers)
        for name in layers | ({"case", "heat"} if "case" in layers or "case_state" in layers else set()):
            self._versions[name] = self._versions.get(name, 0) + 1
        self.refresh()

    def refresh(self) -> None:
        """Re-render every visible layer whose cached image is stale, then repaint."""
        from time import perf_counter

        if getattr(self.data, "closed", False):  # the console is closing
            self._rerender.stop()
            return
        t0 = perf_counter()
        mpp = self.view.metres_per_pixel
        changed = self._composite is None
        for style in self.layers.layers:
            if not style.shown_at(mpp):
                continue
            need = data_layer(style.name)
            if need in BACKGROUND_LAYERS and not self.data.is_loaded(need):
                self._load_in_background(need)  # drawn when it arrives; the rest is shown now
                continue
            key = (self.view.cx, self.view.cy, self.view.scale, self.view.width, self.view.height,
                   self._versions.get(style.name, 0), style.opacity)
            cached = self._cache.get(style.name)
            if cached is None or cached.key != key:
                self._cache[style.name] = _Cached(render_layer(self.data, style, self.view), key)
                changed = True
        visible = tuple(s.name for s in self.layers.layers if s.shown_at(mpp))
        loaded = tuple(n for n in sorted(BACKGROUND_LAYERS) if self.data.is_loaded(n))
        labels_key = (self.view.cx, self.view.cy, self.view.scale, self.view.width, self.view.height,
                      visible, loaded)
        cached = self._cache.get("_labels")
        if cached is None or cached.key != labels_key:
            drawn: list[str] = []
            self._cache["_labels"] = _Cached(render_labels(self.data, self.layers.layers, self.view, drawn),
                                             labels_key)
            self.labels_drawn = drawn
            changed = True
        if changed:
            self._compose(visible)
        self.update()
        self.last_render_ms = (perf_counter() - t0) * 1000
        self.rendered.emit(self.last_render_ms)

    @property
    def loading(self) -> bool:
        """True while a big layer is still being loaded on a worker thread."""
        return bool(self._loading)

    def _load_in_background(self, name: str) -> None:
        if name in self._loading:
            return
        from widgets.workers import run_task

        self._loading.add(name)

        def done(_result: object, name: str = name) -> None:
            self._loading.discard(name)
            if not getattr(self.data, "closed", False):  # the console may have closed meanwhile
                self.layerLoaded.emit(name)
                self.refresh()

        def failed(exc: Exception, name: str = name) -> None:
            self._loading.discard(name)
            if not getattr(self.data, "closed", False):
                self.loadFailed.emit(f"图层加载失败 {name}: {exc}")

        data = self.data
        run_task(lambda _progress: None if getattr(data, "closed", False) else data.load(name), done, failed)

    def _compose(self, visible: tuple[str, ...]) -> None:
        """Flatten the background, every visible layer and the labels into one opaque image, so a frame
        while dragging or wheeling is a single image blit (not one blended blit per layer)."""
        v = self.view
        img = QImage(v.width, v.height, QImage.Format.Format_RGB32)
        p = QPainter(img)
        draw_background(p, v.width, v.height)
        for name in (*visible, "_labels"):
            cached = self._cache.get(name)
            if cached is not None and cached.key[:5] == (v.cx, v.cy, v.scale, v.width, v.height):
                p.drawImage(0, 0, cached.image)
        p.end()
        self._composite = _Cached(img, (v.cx, v.cy, v.scale, v.width, v.height))

    # -- painting -----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        if self._composite is not None:
            v = self.view
            if self._composite.key[:5] != (v.cx, v.cy, v.scale, v.width, v.height):
                draw_background(p, self.width(), self.height())  # the part the moved image leaves open
            self._draw_cached(p, self._composite)
            self._draw_overlays(p)
            p.end()
            return
        draw_background(p, self.width(), self.height())
        mpp = self.view.metres_per_pixel
        for style in self.layers.layers:
            cached = self._cache.get(style.name)
            if cached is None or not style.shown_at(mpp):
                continue
            self._draw_cached(p, cached)
        labels = self._cache.get("_labels")
        if labels is not None and labels.key[:5] == (self.view.cx, self.view.cy, self.view.scale,
                                                     self.view.width, self.view.height):
            p.drawImage(0, 0, labels.image)  # labels are not stretched while zooming; they return on re-render
        self._draw_overlays(p)
        p.end()

    def _draw_cached(self, p: QPainter, cached: _Cached) -> None:
        cx, cy, scale, w, h = cached.key[:5]
        if (cx, cy, scale, w, h) == (self.view.cx, self.view.cy, self.view.scale, self.view.width, self.view.height):
            p.drawImage(0, 0, cached.image)
            return
        # The image was rendered for another view: place its world box in the current view.
        old = MapViewState(cx, cy, scale, w, h, self.view.lat0)
        lon0, lat1 = old.to_world(0, 0)
        lon1, lat0 = old.to_world(w, h)
        x0, y0 = self.view.to_screen(lon0, lat1)
        if scale == self.view.scale:  # panning: a plain blit at the offset, no resampling
            p.drawImage(QPointF(round(x0), round(y0)), cached.image)
            return
        x1, y1 = self.view.to_screen(lon1, lat0)
        p.drawImage(QRectF(x0, y0, x1 - x0, y1 - y0), cached.image)

    def scale_bar(self) -> tuple[float, str, float]:
        """(length in metres, its label, its length in pixels) of a round-numbered bar of about 120 px."""
        mpp = max(self.view.metres_per_pixel, 1e-6)
        target = 120 * mpp
        exp = 10.0 ** math.floor(math.log10(target))
        metres = max(m * exp for m in (1, 2, 5) if m * exp <= target) if target >= exp else exp
        label = f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"
        return metres, label, metres / mpp

    def _draw_scale_bar(self, p: QPainter) -> None:
        _m, label, px = self.scale_bar()
        x, y = 16.0, self.height() - 18.0
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(QRectF(x - 6, y - 22, px + 12, 30), QColor(255, 255, 255, 200))
        p.setPen(QPen(QColor(30, 30, 30), 2))
        p.drawLine(QPointF(x, y), QPointF(x + px, y))
        for tick in (x, x + px / 2, x + px):
            p.drawLine(QPointF(tick, y), QPointF(tick, y - (6 if tick != x + px / 2 else 4)))
        p.drawText(QRectF(x, y - 22, px, 16), Qt.AlignmentFlag.AlignCenter, label)

    def _draw_overlays(self, p: QPainter) -> None:
        self._draw_scale_bar(p)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._selection:
            p.setPen(QPen(QColor(0, 200, 255), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            for lon, lat in self._selection[:2000]:
                x, y = self.view.to_screen(lon, lat)
                p.drawEllipse(QPointF(x, y), 6, 6)
        if self._highlight is not None:
            minx, miny, maxx, maxy = self._highlight
            x0, y0 = self.view.to_screen(minx, maxy)
            x1, y1 = self.view.to_screen(maxx, miny)
            p.setPen(QPen(QColor(255, 0, 120), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            if abs(x1 - x0) < 4 and abs(y1 - y0) < 4:
                p.drawEllipse(QPointF(x0, y0), 12, 12)
            else:
                p.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if self._picked is not None:
            x, y = self.view.to_screen(*self._picked)
            p.setPen(QPen(QColor(200, 0, 0), 2))
            p.setBrush(QColor(255, 60, 60, 160))
            p.drawEllipse(QPointF(x, y), 7, 7)
            p.drawLine(QPointF(x - 12, y), QPointF(x + 12, y))
            p.drawLine(QPointF(x, y - 12), QPointF(x, y + 12))
        if self._measure:
            pts = QPolygonF([QPointF(*self.view.to_screen(lon, lat)) for lon, lat in self._measure])
            p.setPen(QPen(QColor(230, 60, 0), 2, Qt.PenStyle.DashLine))
            p.setBrush(QColor(230, 60, 0, 40) if self.tool == "measure_area" else Qt.BrushStyle.NoBrush)
            if self.tool == "measure_area" and len(self._measure) >= 3:
                p.drawPolygon(pts)
            else:
                p.drawPolyline(pts)
        if self._rubber is not None:
            p.setPen(QPen(QColor(0, 120, 215), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(0, 120, 215, 40))
            p.drawRect(self._rubber)

    # -- events -------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        first = self.view.width <= 1 or not self._cache
        self.view.resize(self.width(), self.height())
        if first and not self._cache:
            self.zoom_to_extent()

    def _view_changed(self) -> None:
        self.viewChanged.emit()
        self.update()
        self._rerender.start()

    def _layer_changed(self, name: str) -> None:
        self._cache.pop(name, None)
        self._composite = None  # shown layer by layer until the re-render
        self._rerender.start()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            pos = event.position()
            self.view.zoom_at(1.25 ** steps, pos.x(), pos.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            self._finish_measure()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._drag_start = pos
        self._drag_view = (self.view.cx, self.view.cy)
        if self.tool in ("zoom_box", "select_rect"):
            self._rubber = QRectF(pos, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        lon, lat = self.view.to_world(pos.x(), pos.y())
        self.cursorMoved.emit(lon, lat)
        if self._drag_start is None:
            return
        if self.tool in ("zoom_box", "select_rect") and self._rubber is not None:
            self._rubber = QRectF(self._drag_start, pos).normalized()
            self.update()
        elif self.tool in ("pan", "identify", "pick_point"):
            d = pos - self._drag_start
            if abs(d.x()) + abs(d.y()) > 3 and self._drag_view is not None:
                # Pan relative to the press position: exact, no accumulated rounding.
                self.view.cx, self.view.cy = self._drag_view
                self.view.pan_pixels(d.x(), d.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._drag_start is None:
            return
        pos = event.position()
        moved = (pos - self._drag_start).manhattanLength() > 3
        start = self._drag_start
        self._drag_start = None
        lon, lat = self.view.to_world(pos.x(), pos.y())
        if self.tool in ("zoom_box", "select_rect") and self._rubber is not None:
            rect = self._rubber
            self._rubber = None
            if rect.width() > 4 and rect.height() > 4:
                lon0, lat1 = self.view.to_world(rect.left(), rect.top())
                lon1, lat0 = self.view.to_world(rect.right(), rect.bottom())
                if self.tool == "zoom_box":
                    self.view.fit((lon0, lat0, lon1, lat1), margin=0)
                else:
                    codes = self.data.select_rect(self.select_layer, (lon0, lat0, lon1, lat1))
                    self.selectionChanged.emit(self.select_layer, codes)
            self.update()
            return
        if moved and self.tool != "measure_distance" and self.tool != "measure_area":
            return
        if self.tool == "identify" or (self.tool == "pan" and not moved):
            tol = self.view.scale * 8
            self.identified.emit(self.data.identify(lon, lat, tol))
        elif self.tool == "pick_point":
            self._picked = (lon, lat)
            self.pointPicked.emit(lon, lat)
            self.update()
        elif self.tool in ("measure_distance", "measure_area"):
            del start
            self._measure.append((lon, lat))
            self._emit_measure()
            self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool in ("measure_distance", "measure_area"):
            self._finish_measure()

    def _emit_measure(self) -> None:
        if self.tool == "measure_area":
            self.measured.emit(f"面积 {format_area(polygon_area_m2(self._measure))}")
        else:
            self.measured.emit(f"距离 {format_length(path_length_m(self._measure))}")

    def _finish_measure(self) -> None:
        if self._measure:
            self._emit_measure()
        self._measure = []
        self.update()

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        step = 60
        key = event.key()
        moves = {Qt.Key.Key_Left: (step, 0), Qt.Key.Key_Right: (-step, 0), Qt.Key.Key_Up: (0, step),
                 Qt.Key.Key_Down: (0, -step)}
        if key in moves:
            self.view.pan_pixels(*moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.view.zoom_at(1.5, self.width() / 2, self.height() / 2)
        elif key == Qt.Key.Key_Minus:
            self.view.zoom_at(1 / 1.5, self.width() / 2, self.height() / 2)
        elif key == Qt.Key.Key_Escape:
            self._finish_measure()
        else:
            super().keyPressEvent(event)

    def grab_map(self) -> QImage:
        """The current map as an image (for the case sheet and thumbnails)."""
        img = QImage(self.size(), QImage.Format.Format_ARGB32)
        self.render(img, sourceRegion=QRect(0, 0, self.width(), self.height()))
        return img
