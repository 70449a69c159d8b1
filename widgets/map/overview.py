"""The overview map: the whole city with district outlines and the main view's box; click to recentre."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.map_data import MapData
from app.map_view import MapViewState
from widgets.map.render import render_labels, render_polygons
from widgets.map.styles import LayerStyle


class OverviewMap(QWidget):
    def __init__(self, data: MapData, main_view: MapViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.main_view = main_view
        self.view = MapViewState(lat0=main_view.lat0)
        self._image: QImage | None = None
        self._extent = data.extent()
        self.setMinimumSize(180, 140)
        main_view.subscribe(lambda _v: self.update())

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.view.resize(self.width(), self.height())
        self._extent = self.data.extent()
        self.view.fit(self._extent, margin=0.04)
        style = LayerStyle("district", "区")
        self._image = render_polygons(self.data, style, self.view)
        labels = render_labels(self.data, [style], self.view)  # district names, so the box has a context
        p = QPainter(self._image)
        p.drawImage(0, 0, labels)
        p.end()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(250, 250, 247))
        if self._image is not None:
            p.drawImage(0, 0, self._image)
        lon0, lat0, lon1, lat1 = self.main_view.bbox()
        x0, y0 = self.view.to_screen(lon0, lat1)
        x1, y1 = self.view.to_screen(lon1, lat0)
        rect = QRectF(x0, y0, max(x1 - x0, 3), max(y1 - y0, 3))
        ex0, ey0, ex1, ey1 = self._extent
        sx0, sy0 = self.view.to_screen(ex0, ey1)
        sx1, sy1 = self.view.to_screen(ex1, ey0)
        if not rect.contains(QRectF(sx0, sy0, sx1 - sx0, sy1 - sy0)):  # no box when the whole city is in view
            p.setPen(QPen(QColor(220, 0, 0), 2))
            p.setBrush(QColor(220, 0, 0, 30))
            p.drawRect(rect.intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            pos: QPointF = event.position()
            lon, lat = self.view.to_world(pos.x(), pos.y())
            self.main_view.center_on(lon, lat)
