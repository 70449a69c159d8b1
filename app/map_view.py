"""The map's view state, Qt-free: where the map looks, at which scale, and the world↔screen transform.

World coordinates are CGCS2000 lon/lat. The screen uses a local equirectangular projection: x is
stretched by cos(latitude of the city centre) so that a city-sized map keeps its shape; at a city's
extent the distortion is well below a pixel. Measurements never use this projection (see
``app.measure``), only drawing does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

EARTH_M_PER_DEG = 111_320.0


@dataclass
class MapViewState:
    """Centre (lon, lat), ``scale`` = degrees of latitude per pixel, and the viewport size in pixels."""

    cx: float = 117.2
    cy: float = 34.26
    scale: float = 1e-4
    width: int = 800
    height: int = 600
    lat0: float = 34.26
    min_scale: float = 2e-7
    max_scale: float = 0.05
    _listeners: list[Callable[[MapViewState], None]] = field(default_factory=list, repr=False)

    # -- events ------------------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[MapViewState], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn(self)

    # -- transforms --------------------------------------------------------------------------------
    @property
    def kx(self) -> float:
        """Horizontal stretch: degrees of longitude are shorter than degrees of latitude."""
        return math.cos(math.radians(self.lat0))

    def to_screen(self, lon: float, lat: float) -> tuple[float, float]:
        sx = (lon - self.cx) * self.kx / self.scale + self.width / 2
        sy = (self.cy - lat) / self.scale + self.height / 2
        return sx, sy

    def to_world(self, sx: float, sy: float) -> tuple[float, float]:
        lon = (sx - self.width / 2) * self.scale / self.kx + self.cx
        lat = self.cy - (sy - self.height / 2) * self.scale
        return lon, lat

    def affine(self) -> tuple[float, float, float, float]:
        """(m11, m22, dx, dy) so that screen = (lon*m11 + dx, lat*m22 + dy), for a painter transform."""
        m11 = self.kx / self.scale
        m22 = -1.0 / self.scale
        dx = self.width / 2 - self.cx * m11
        dy = self.height / 2 - self.cy * m22
        return m11, m22, dx, dy

    def bbox(self, margin_px: float = 0) -> tuple[float, float, float, float]:
        lon0, lat1 = self.to_world(-margin_px, -margin_px)
        lon1, lat0 = self.to_world(self.width + margin_px, self.height + margin_px)
        return lon0, lat0, lon1, lat1

    @property
    def metres_per_pixel(self) -> float:
        return self.scale * EARTH_M_PER_DEG

    def scale_denominator(self, dpi: float = 96.0) -> float:
        """The map scale 1:N for a screen of ``dpi``."""
        return self.metres_per_pixel / (0.0254 / dpi)

    # -- changes -----------------------------------------------------------------------------------
    def resize(self, width: int, height: int) -> None:
        if (width, height) != (self.width, self.height):
            self.width, self.height = max(1, width), max(1, height)
            self._changed()

    def pan_pixels(self, dx: float, dy: float) -> None:
        if dx or dy:
            self.cx -= dx * self.scale / self.kx
            self.cy += dy * self.scale
            self._changed()

    def center_on(self, lon: float, lat: float, scale: float | None = None) -> None:
        self.cx, self.cy = lon, lat
        if scale is not None:
            self.scale = min(self.max_scale, max(self.min_scale, scale))
        self._changed()

    def zoom_at(self, factor: float, sx: float, sy: float) -> None:
        """Zoom by ``factor`` (>1 zooms in) keeping the world point under (sx, sy) fixed."""
        new_scale = min(self.max_scale, max(self.min_scale, self.scale / factor))
        if new_scale == self.scale:
            return
        lon, lat = self.to_world(sx, sy)
        self.scale = new_scale
        nlon, nlat = self.to_world(sx, sy)
        self.cx += lon - nlon
        self.cy += lat - nlat
        self._changed()

    def fit(self, bbox: tuple[float, float, float, float], margin: float = 0.05) -> None:
        minx, miny, maxx, maxy = bbox
        w = max((maxx - minx) * self.kx, 1e-6)
        h = max(maxy - miny, 1e-6)
        scale = max(w / self.width, h / self.height) * (1 + 2 * margin)
        self.center_on((minx + maxx) / 2, (miny + maxy) / 2, scale)
