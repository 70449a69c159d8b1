"""Distances and areas on the CGCS2000 ellipsoid (GRS 1980 parameters), for the map's measure tools."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _geod() -> Any:
    from pyproj import Geod  # on first measure, not at console start

    return Geod(ellps="GRS80")


def path_length_m(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    lons, lats = zip(*points)
    return float(_geod().line_length(lons, lats))


def polygon_area_m2(points: list[tuple[float, float]]) -> float:
    if len(points) < 3:
        return 0.0
    lons, lats = zip(*points)
    area, _perimeter = _geod().polygon_area_perimeter(lons, lats)
    return abs(float(area))


def format_length(m: float) -> str:
    return f"{m / 1000:.2f} 公里" if m >= 1000 else f"{m:.1f} 米"


def format_area(m2: float) -> str:
    return f"{m2 / 1e6:.3f} 平方公里" if m2 >= 1e6 else f"{m2:.0f} 平方米"
