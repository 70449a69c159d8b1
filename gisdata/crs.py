"""Coordinate reference systems: the store's CGCS2000 lon/lat and the metric Gauss-Krüger zone to work in.

Areas, distances and grid cutting are done in the CGCS2000 3-degree Gauss-Krüger zone whose central
meridian is nearest the data (EPSG:4534 at 75°E … EPSG:4554 at 135°E, no zone prefix in the easting).
``pyproj.Transformer`` objects are expensive to build, so they are created once and cached, always with
``always_xy=True`` so that every tuple is (lon, lat) / (easting, northing).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

STORE_EPSG = 4490  # CGCS2000 geographic, lon/lat
GK_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
GK_LAST_EPSG = 4554  # CM 135E


def gk_zone_epsg(lon: float) -> int:
    """The EPSG code of the 3-degree Gauss-Krüger zone (CM without prefix) containing ``lon``."""
    if not (73.5 <= lon <= 136.5):
        raise ValueError(f"经度超出中国范围 lon={lon} is outside 73.5..136.5°E (no CGCS2000 3° zone)")
    return GK_FIRST_EPSG + round((lon - 75.0) / 3.0)


def central_meridian(epsg: int) -> float:
    return 75.0 + 3.0 * (epsg - GK_FIRST_EPSG)


@cache
def transformer(src: int, dst: int) -> Transformer:
    """A cached (lon/lat-ordered) transformer between two EPSG codes."""
    return Transformer.from_crs(f"EPSG:{src}", f"EPSG:{dst}", always_xy=True)


class Projector:
    """Forward (store → metric) and inverse transforms for one Gauss-Krüger zone, for points and shapes."""

    def __init__(self, epsg: int) -> None:
        self.epsg = epsg
        self._fwd = transformer(STORE_EPSG, epsg)
        self._inv = transformer(epsg, STORE_EPSG)

    @classmethod
    def for_lon(cls, lon: float) -> Projector:
        return _projector(gk_zone_epsg(lon))

    def forward_xy(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        fx, fy = self._fwd.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(fx), np.asarray(fy)

    def inverse_xy(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        ix, iy = self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(ix), np.asarray(iy)

    def forward(self, geoms: Any) -> Any:
        """Project shapely geometries (one or an array) to metres."""
        return shapely.transform(geoms, self._coords(self._fwd))

    def inverse(self, geoms: Any) -> Any:
        """Project metric geometries (one or an array) back to lon/lat."""
        return shapely.transform(geoms, self._coords(self._inv))

    @staticmethod
    def _coords(t: Transformer) -> Any:
        def fn(c: np.ndarray) -> np.ndarray:
            if len(c) == 0:
                return c
            x, y = t.transform(c[:, 0], c[:, 1])
            return np.column_stack([x, y])

        return fn


@cache
def _projector(epsg: int) -> Projector:
    return Projector(epsg)


def area_m2(geom: BaseGeometry) -> float:
    """Area in square metres of a lon/lat geometry, in its own Gauss-Krüger zone."""
    if geom.is_empty:
        return 0.0
    p = Projector.for_lon(geom.centroid.x)
    return float(p.forward(geom).area)
