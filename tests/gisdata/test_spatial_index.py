"""Point → grid and nearest-point indexes agree with brute force."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gisdata.spatial_index import GridIndex, NearestIndex


def _lattice(nx=10, ny=8, cell=100.0):
    cx, cy = np.meshgrid(np.arange(nx) * cell, np.arange(ny) * cell)
    cx, cy = cx.ravel(), cy.ravel()
    return shapely.box(cx, cy, cx + cell, cy + cell)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 1050), st.floats(-50, 850)), min_size=1, max_size=200))
def test_locate_matches_brute_force(points):
    boxes = _lattice()
    idx = GridIndex(boxes, [f"g{i}" for i in range(len(boxes))])
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    got = idx.locate(xs, ys)
    for x, y, g in zip(xs, ys, got):
        hits = [i for i, b in enumerate(boxes) if b.intersects(shapely.Point(x, y))]
        assert g == (min(hits) if hits else -1)


def test_codes_and_outside():
    idx = GridIndex(_lattice(2, 1), ["a", "b"])
    assert idx.code_at(50, 50) == "a"
    assert idx.code_at(150, 50) == "b"
    assert idx.code_at(100, 50) == "a"  # shared edge: lowest index wins
    assert idx.code_at(500, 50) is None
    assert idx.locate([], []).tolist() == []


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 1000)), min_size=1, max_size=60),
       st.tuples(st.floats(-100, 1100), st.floats(-100, 1100)))
def test_nearest_matches_brute_force(pts, q):
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    index = NearestIndex(xs, ys)
    i, d = index.nearest([q[0]], [q[1]])
    brute = np.hypot(xs - q[0], ys - q[1])
    assert d[0] == np.float64(brute.min()) or abs(d[0] - brute.min()) < 1e-9
    assert abs(brute[i[0]] - brute.min()) < 1e-9
    near = index.within(q[0], q[1], 300.0)
    assert sorted(near.tolist()) == sorted(np.flatnonzero(brute <= 300.0).tolist())
    assert np.all(np.diff(brute[near]) >= 0)


def test_nearest_respects_max_distance():
    index = NearestIndex([0.0, 10.0], [0.0, 0.0])
    i, d = index.nearest([100.0, 9.0], [0.0, 0.0], max_distance=50)
    assert i.tolist() == [-1, 1]
    assert d[0] == np.inf
    assert d[1] == 1.0
