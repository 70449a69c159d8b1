"""The engine's point-in-grid lookup against a brute-force shapely answer.

``StoreLocator.locate`` decides rectangles by their bounding box alone and sends other shapes to shapely;
both must give exactly what testing every grid in fid order with ``intersects`` gives, on edges and
corners too (a point on a shared edge belongs to the lower fid).
"""

from __future__ import annotations

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workflow.locator import StoreLocator
from db import gpkg
from db.store import Store

STEP = 0.001
X0, Y0 = 117.0, 34.0


def _shapes() -> list[shapely.Geometry]:
    """A 6x6 lattice of unit grids: rectangles, plus a few triangles, a rotated square and a two-part grid."""
    shapes: list[shapely.Geometry] = []
    for k in range(36):
        cx, cy = k % 6, k // 6
        x, y = X0 + cx * STEP, Y0 + cy * STEP
        if k % 7 == 3:  # a triangle filling half the cell
            shapes.append(shapely.Polygon([(x, y), (x + STEP, y), (x, y + STEP)]))
        elif k % 11 == 5:  # a diamond inside the cell (its box is the cell, the shape is not)
            h = STEP / 2
            shapes.append(shapely.Polygon([(x + h, y), (x + STEP, y + h), (x + h, y + STEP), (x, y + h)]))
        elif k == 20:  # two parts
            shapes.append(shapely.MultiPolygon([shapely.box(x, y, x + STEP / 3, y + STEP),
                                                shapely.box(x + 2 * STEP / 3, y, x + STEP, y + STEP)]))
        else:
            shapes.append(shapely.box(x, y, x + STEP, y + STEP))
    return shapes


def _store(path) -> tuple[Store, list[shapely.Geometry]]:
    store = Store.open(path, create=True)
    shapes = _shapes()
    rows = []
    for i, g in enumerate(shapes):
        mg = g if isinstance(g, shapely.MultiPolygon) else shapely.MultiPolygon([g])
        community = "320311001001"
        rows.append((gpkg.encode(shapely.to_wkb(mg), mg.bounds), f"{community}{i + 1:03d}", community,
                     community[:9], "320311"))
    with store.atomic() as c:
        c.executemany("INSERT INTO unit_grid (geom, code, community_code, street_code, district_code) "
                      "VALUES (?,?,?,?,?)", rows)
    return store, shapes


def _brute(shapes: list[shapely.Geometry], lon: float, lat: float) -> str | None:
    for i, g in enumerate(shapes):
        if shapely.intersects_xy(g, lon, lat):
            return f"320311001001{i + 1:03d}"
    return None


# points anywhere around the lattice, and points snapped to the lattice lines (edges and corners)
_coord = st.floats(min_value=-0.5, max_value=6.5, allow_nan=False)
_snapped = st.integers(min_value=-1, max_value=7).map(float)
_half = st.integers(min_value=-2, max_value=14).map(lambda k: k / 2)


@pytest.fixture(scope="module")
def grids(tmp_path_factory):
    store, shapes = _store(tmp_path_factory.mktemp("loc") / "grids.gpkg")
    yield store, shapes
    store.close()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.one_of(_coord, _snapped, _half), st.one_of(_coord, _snapped, _half)),
                min_size=1, max_size=40))
def test_locate_equals_brute_force(grids, points) -> None:
    store, shapes = grids
    loc = StoreLocator(store)
    for u, v in points:
        lon, lat = X0 + u * STEP, Y0 + v * STEP
        found = loc.locate(lon, lat)
        assert (found.grid_code if found else None) == _brute(shapes, lon, lat), (u, v)


def test_rectangles_are_decided_by_their_box(tmp_path) -> None:
    store, shapes = _store(tmp_path / "g.gpkg")
    loc = StoreLocator(store)
    loc.reload()
    flags = [b[4] for b in loc._boxes]
    assert flags == [isinstance(g, shapely.Polygon) and g.equals(g.envelope) for g in shapes]
    assert flags.count(False) >= 5  # the triangles, the diamonds and the two-part grid take the shapely path
    # a point in a triangle's box but outside the triangle is not in that grid
    x, y = X0 + 3 * STEP, Y0  # cell k=3 is a triangle with its right angle at (x, y)
    assert loc.locate(x + 0.9 * STEP, y + 0.9 * STEP) is None
    assert loc.locate(x + 0.1 * STEP, y + 0.1 * STEP).grid_code.endswith("004")
    store.close()
