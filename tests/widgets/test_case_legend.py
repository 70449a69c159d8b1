"""The case layer's legend in the layer tree: every colour the map paints cases with, named in Chinese,
taken from the painter's own style table (so the legend cannot drift from the map)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.desk import LIGHT_TITLES
from app.map_data import CASE_GROUP_ORDER, LIGHTS, MapData
from app.map_view import MapViewState
from widgets.fonts import install_fonts
from widgets.map import render, styles
from widgets.map.layer_tree import LEGEND_ROLE, LayerTree

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "console"


@pytest.fixture
def tree(qtbot, qapp):
    install_fonts(qapp)
    t = LayerTree(styles.default_layers())
    qtbot.addWidget(t)
    t.resize(280, 560)
    t.show()
    return t


def _swatch_rgb(item) -> tuple[int, int, int]:
    color = item.icon(0).pixmap(12, 12).toImage().pixelColor(6, 6)
    return color.red(), color.green(), color.blue()


def test_case_legend_lists_lights_and_closed_groups(tree):
    lines = tree.legend("case")
    titles = [i.text(0) for i in lines]
    for i, light in enumerate(LIGHTS):
        line = lines[titles.index(LIGHT_TITLES[light])]
        assert _swatch_rgb(line) == styles.LIGHT_COLORS[i]  # the colour the painter uses for that light
    for group, rgb in styles.CASE_GROUP_COLORS.items():
        line = lines[titles.index(group)]
        assert _swatch_rgb(line) == rgb
        assert line.text(1)  # shown only close in: the scale says from where
    heading = lines[0]
    assert heading.childCount() == len(LIGHTS)
    open_groups = [g for g in CASE_GROUP_ORDER if g not in styles.CASE_GROUP_COLORS]
    assert all(g in heading.toolTip(0) for g in open_groups)  # every status group is named
    assert tree.item("case").isExpanded()
    assert heading.isExpanded()
    SHOTS.mkdir(parents=True, exist_ok=True)
    tree.grab().save(str(SHOTS / "layer_tree_case_legend.png"))


def test_legend_lines_are_not_layers(qtbot, tree):
    layers = tree.layers
    line = tree.legend("case")[1]
    assert not line.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert line.data(0, LEGEND_ROLE) is not None
    tree.tree.setCurrentItem(line)  # clicking a legend line selects nothing odd …
    tree.opacity.setValue(40)  # … and the opacity slider still acts on the case layer
    assert layers.get("case").opacity == pytest.approx(0.4)
    tree.item("case").setCheckState(0, Qt.CheckState.Unchecked)
    assert not layers.get("case").visible


def test_painter_draws_closed_cases_in_the_legend_greys(demo_store_path):
    """The painter's closed and void colours are the legend's (it had a grey of its own)."""
    data = MapData(demo_store_path)
    try:
        cases = data.points("case")
        for group, rgb in styles.CASE_GROUP_COLORS.items():
            mine = np.flatnonzero(cases.style == CASE_GROUP_ORDER.index(group))
            # one standing alone, so no other case is painted over it
            i = next(int(j) for j in mine
                     if np.sum(np.hypot(cases.x - cases.x[j], cases.y - cases.y[j]) < 2e-4) == 1)
            x, y = float(cases.x[i]), float(cases.y[i])
            view = MapViewState(width=200, height=200)
            view.center_on(x, y, scale=1 / 111_320)  # ~1 m per pixel: street level, closed cases shown
            assert view.metres_per_pixel <= render.CLOSED_CASES_MAX_MPP
            img = render.render_points(data, styles.default_layers().get("case"), view)
            sx, sy = view.to_screen(x, y)
            assert img.pixelColor(round(sx), round(sy)).getRgb()[:3] == rgb, group
    finally:
        data.close()
