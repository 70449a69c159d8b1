"""The demo city generator: grids tile communities, serial order, Voronoi splits, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from gisdata.codes import parse_grid, parse_part
from gisdata.crs import Projector, gk_zone_epsg
from gisdata.demo_city import (
    CELL,
    SLIVER,
    available_cities,
    build_city,
    cut_unit_grids,
    initials,
    voronoi_split,
)

TOL = 1e-3  # m²


@st.composite
def community_polygons(draw):
    """Random star-shaped polygons of 0.05–1.5 km² (concave, like clipped Voronoi communities)."""
    n = draw(st.integers(5, 14))
    radii = draw(st.lists(st.floats(150.0, 700.0), min_size=n, max_size=n))
    jitter = draw(st.lists(st.floats(-0.2, 0.2), min_size=n, max_size=n))
    cx = draw(st.floats(-5000.0, 5000.0))
    cy = draw(st.floats(-5000.0, 5000.0))
    pts = [
        (cx + r * np.cos(2 * np.pi * k / n + j), cy + r * np.sin(2 * np.pi * k / n + j))
        for k, (r, j) in enumerate(zip(radii, jitter))
    ]
    poly = shapely.make_valid(Polygon(pts))
    if poly.geom_type != "Polygon":
        poly = max(shapely.get_parts(poly), key=lambda g: g.area)
    return poly


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(community_polygons(), st.tuples(st.floats(-50.0, 50.0), st.floats(-50.0, 50.0)))
def test_grids_tile_the_community(poly, origin):
    pieces = cut_unit_grids(poly, origin)
    geoms = [p.geom for p in pieces]
    assert all(g.is_valid and g.area > 0 for g in geoms)
    # no overlaps: areas add up to the polygon, and pairwise intersections have no area
    assert abs(sum(g.area for g in geoms) - poly.area) < TOL * max(1, len(geoms))
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    pairs = a < b
    if pairs.any():
        inter = shapely.area(shapely.intersection(np.asarray(geoms)[a[pairs]], np.asarray(geoms)[b[pairs]]))
        assert inter.max() < TOL
    # no gaps
    assert poly.symmetric_difference(shapely.union_all(geoms)).area < TOL * max(1, len(geoms))
    # sizes: at most a full cell plus merged slivers; slivers only where they have no edge neighbour
    assert max(p.area for p in pieces) <= CELL * CELL * (1 + 4 * SLIVER) + TOL
    small = [p for p in pieces if p.area < SLIVER * CELL * CELL]
    assert len(small) <= max(1, len(pieces) // 10)


@settings(max_examples=25, deadline=None)
@given(community_polygons())
def test_serials_run_west_to_east_then_north_to_south(poly):
    pieces = cut_unit_grids(poly)
    keys = [(-p.row, p.col) for p in pieces]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)  # unique cells, so serials are unique
    for p in pieces:
        cell = shapely.box(p.col * CELL, p.row * CELL, (p.col + 1) * CELL, (p.row + 1) * CELL)
        assert p.geom.intersection(cell).area > 0  # the grid really holds its lattice cell


def test_interior_cells_are_full_squares():
    square = shapely.box(0, 0, 1000, 500)
    pieces = cut_unit_grids(square)
    assert len(pieces) == 50
    assert {round(p.area) for p in pieces} == {10_000}
    assert (pieces[0].col, pieces[0].row) == (0, 4)  # north-west first
    assert (pieces[-1].col, pieces[-1].row) == (9, 0)  # south-east last


def test_slivers_are_merged():
    # 1000 m x 520 m: the top row is a 20 m strip (20 % of a cell), merged into the row below
    pieces = cut_unit_grids(shapely.box(0, 0, 1000, 520))
    assert len(pieces) == 50
    assert sorted({round(p.area) for p in pieces}) == [10_000, 12_000]


@settings(max_examples=10, deadline=None)
@given(community_polygons(), st.integers(2, 8), st.integers(0, 1000))
def test_voronoi_split_partitions(poly, n, seed):
    cells = voronoi_split(poly, n, np.random.default_rng(seed))
    assert 1 <= len(cells) <= n
    assert abs(sum(c.area for c in cells) - poly.area) < 1e-3 * poly.area
    assert poly.symmetric_difference(shapely.union_all(cells)).area < 1e-3 * poly.area


def test_gk_zones():
    assert gk_zone_epsg(117.2) == 4548
    assert gk_zone_epsg(120.1) == 4549
    assert gk_zone_epsg(113.6) == 4547
    with pytest.raises(ValueError, match="lon=10"):
        gk_zone_epsg(10.0)
    p = Projector.for_lon(117.2)
    x, y = p.forward_xy([116.8], [34.0])
    lon, lat = p.inverse_xy(x, y)
    assert lon[0] == pytest.approx(116.8, abs=1e-9)
    assert lat[0] == pytest.approx(34.0, abs=1e-9)
    assert x[0] == pytest.approx(500000 - 18_450, abs=300)  # 0.2° west of 117°E at 34°N ≈ 18.4 km


def test_initials():
    assert initials("解放路12号") == "jfl12h"
    assert initials("苏果超市(中山路店)") == "sgcszsld"


@pytest.fixture(scope="module")
def small_city():
    return build_city("xuzhou", seed=11, scale="test")


def test_deterministic_for_a_seed(small_city):
    again = build_city("xuzhou", seed=11, scale="test")
    assert [g.code for g in again.grids] == [g.code for g in small_city.grids]
    assert all(a.geom.equals_exact(b.geom, 0) for a, b in zip(again.grids, small_city.grids))
    assert again.parts.code.tolist() == small_city.parts.code.tolist()
    assert np.array_equal(again.parts.x, small_city.parts.x)
    assert [a.name for a in again.addresses] == [a.name for a in small_city.addresses]
    other = build_city("xuzhou", seed=12, scale="test")
    assert other.parts.code.tolist() != small_city.parts.code.tolist()


def test_city_codes_are_valid_and_unique(small_city):
    codes = [g.code for g in small_city.grids]
    assert len(set(codes)) == len(codes)
    for c in codes:
        parse_grid(c)
    pcodes = small_city.parts.code.tolist()
    assert len(set(pcodes)) == len(pcodes)
    for c in pcodes[:500]:
        parse_part(c)
    assert {c.code[:6] for c in small_city.communities} == {d.code for d in small_city.districts}
    names = [c.name for c in small_city.communities] + [s.name for s in small_city.streets]
    assert len(set(names)) == len(names)


def test_part_mix_and_roads(small_city):
    cls = small_city.parts.class_code
    trees = (cls == "0402").mean()
    assert 0.15 < trees < 0.4  # trees are the most common part
    assert len(set(cls.tolist())) > 25
    road_classes = {r.road_class for r in small_city.roads}
    assert road_classes == {"主要路段", "次干道", "背街小巷"}
    assert len({r.name for r in small_city.roads}) >= len(small_city.roads) // 2


@pytest.mark.parametrize("city", available_cities())
def test_every_shipped_city_builds(city):
    c = build_city(city, seed=1, scale="test")
    assert c.grids
    assert len(c.parts) == 4000
