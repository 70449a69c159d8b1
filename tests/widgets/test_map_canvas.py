"""The map canvas driven as a user would: zoom, pan, identify, measure, select, search; and screenshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.map_data import MapData, density
from app.map_view import MapViewState
from app.measure import path_length_m, polygon_area_m2
from widgets.fonts import install_fonts
from widgets.map.canvas import MapCanvas
from widgets.map.layer_tree import LayerTree

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def map_data(demo_store_path):
    data = MapData(demo_store_path)
    yield data
    data.close()


@pytest.fixture
def canvas(qtbot, qapp, map_data):
    install_fonts(qapp)
    c = MapCanvas(map_data)
    qtbot.addWidget(c)
    c.resize(900, 700)
    c.show()
    qtbot.waitExposed(c)
    c.zoom_to_extent()
    c.refresh()
    qtbot.waitUntil(lambda: not c.loading, timeout=10_000)  # grids, parts, cases load on worker threads
    c.refresh()
    return c


def _non_background_pixels(img) -> int:
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return int((arr[:, : img.width() * 4] < 200).sum())


def test_view_transform_round_trip():
    v = MapViewState(cx=117.2, cy=34.26, scale=1e-4, width=800, height=600, lat0=34.26)
    sx, sy = v.to_screen(117.21, 34.25)
    lon, lat = v.to_world(sx, sy)
    assert lon == pytest.approx(117.21)
    assert lat == pytest.approx(34.25)
    v.zoom_at(2.0, 100, 100)
    assert v.scale == pytest.approx(5e-5)
    assert v.to_world(100, 100) == pytest.approx(MapViewState(117.2, 34.26, 1e-4, 800, 600, 34.26).to_world(100, 100))


def test_density_counts_all_points():
    x = np.array([0.1, 0.2, 0.9])
    y = np.array([0.1, 0.1, 0.9])
    grid = density(x, y, (0, 0, 1, 1), 10, 10)
    assert grid.sum() == 3
    assert grid[0, 9] == 1  # north-east point lands in the top-right cell


def test_measure_on_ellipsoid():
    # 0.01° of latitude is about 1,109 m at 34°N
    assert path_length_m([(117.0, 34.0), (117.0, 34.01)]) == pytest.approx(1109, rel=0.01)
    assert polygon_area_m2([(117, 34), (117.001, 34), (117.001, 34.001), (117, 34.001)]) == pytest.approx(
        92.3 * 111.0, rel=0.02)


def test_canvas_renders_layers_and_pans(qtbot, canvas):
    img = canvas.grab().toImage()
    assert _non_background_pixels(img) > 1000
    before = (canvas.view.cx, canvas.view.cy)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 300))
    qtbot.mouseMove(canvas, QPoint(450, 330))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(450, 330))
    assert canvas.view.cx < before[0]
    assert canvas.view.cy > before[1]


def test_wheel_zoom_keeps_point_under_cursor(qtbot, canvas):
    pos = QPointF(300, 200)
    world = canvas.view.to_world(pos.x(), pos.y())
    scale = canvas.view.scale
    canvas.view.zoom_at(1.25, pos.x(), pos.y())
    assert canvas.view.scale < scale
    assert canvas.view.to_world(pos.x(), pos.y()) == pytest.approx(world)


def test_identify_click_finds_grid(qtbot, canvas, map_data):
    grids = map_data.polygons("unit_grid")
    pt = grids.geoms[0].representative_point()
    canvas.view.center_on(pt.x, pt.y, scale=2 / 111_320)
    canvas.set_tool("identify")
    sx, sy = canvas.view.to_screen(pt.x, pt.y)
    with qtbot.waitSignal(canvas.identified) as blocker:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(sx), round(sy)))
    result = blocker.args[0]
    assert result["unit_grid"]["code"] == grids.codes[0]


def test_measure_distance_tool(qtbot, canvas):
    canvas.set_tool("measure_distance")
    with qtbot.waitSignal(canvas.measured) as blocker:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(400, 100))
    assert blocker.args[0].startswith("距离")
    a = canvas.view.to_world(100, 100)
    b = canvas.view.to_world(400, 100)
    assert path_length_m([a, b]) > 0


def test_select_rect_returns_parts(qtbot, canvas):
    canvas.set_tool("select_rect")
    canvas.select_layer = "part"
    with qtbot.waitSignal(canvas.selectionChanged) as blocker:
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
        qtbot.mouseMove(canvas, QPoint(700, 550))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(700, 550))
    layer, codes = blocker.args
    assert layer == "part"
    assert len(codes) > 10
    assert all(len(c) == 16 for c in codes)


def test_layer_tree_toggles_visibility(qtbot, canvas):
    tree = LayerTree(canvas.layers)
    qtbot.addWidget(tree)
    item = tree.item("part")
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert not canvas.layers.get("part").visible
    tree.tree.setCurrentItem(tree.item("unit_grid"))
    tree.opacity.setValue(40)
    assert canvas.layers.get("unit_grid").opacity == pytest.approx(0.4)


def test_street_level_screenshot(qtbot, canvas, map_data):
    grids = map_data.polygons("unit_grid")
    pt = grids.geoms[len(grids.codes) // 2].centroid
    canvas.view.center_on(pt.x, pt.y, scale=1.2 / 111_320)
    canvas.refresh()
    SHOTS.mkdir(parents=True, exist_ok=True)
    img = canvas.grab()
    assert img.save(str(SHOTS / "map_street_level.png"))
    assert _non_background_pixels(img.toImage()) > 5000
