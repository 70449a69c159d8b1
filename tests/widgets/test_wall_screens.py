"""Offscreen renders of every wall page at 1920×1080, 3840×2160 and a 5760×2160 (3×2) wall.

The PNGs land in ``artifacts/screenshots/wall/`` for people to look at (text sharp, nothing cut,
Chinese correct); the asserts check what a machine can: size, the design scale, that every chart
was rendered at the real pixel size, and that the page is not blank.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.clock import FixedClock
from app.timefmt import CST
from app.wall_data import WallConfig, WallDataService
from bench.bench_wall import build_sample_store

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CST)
OUT = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "wall"
SIZES = [(1920, 1080), (3840, 2160), (5760, 2160)]


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("walls") / "sample.gpkg", NOW, n_cases=1500, seed=11)


@pytest.mark.filterwarnings("error::UserWarning")
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_renders_at_wall_sizes(qtbot, sample_path, width, height):
    from widgets.fonts import install_fonts
    from widgets.wall.window import WallWindow

    install_fonts()
    config = WallConfig(transition_ms=0)
    service = WallDataService(sample_path, config, FixedClock(NOW), evaluator=None)
    win = WallWindow(service, config)
    qtbot.addWidget(win)
    win.resize(width, height)
    win.show()
    with qtbot.waitSignal(win.refreshed, timeout=20000) as blocker:
        assert win.refresh_now()
    assert blocker.args == [True]
    assert win.scale == pytest.approx(min(width / 1920, height / 1080))
    assert win.design_h == pytest.approx(1080)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in win.page_names():
        win.show_page(name, animate=False)
        page = win.current_page()
        page.render_charts()
        for chart in page.charts:
            img = chart.image()
            assert img is not None
            assert (img.width(), img.height()) == (chart.width(), chart.height())
        shot = win.grab().toImage()
        assert (shot.width(), shot.height()) == (width, height)
        # not blank: sample a grid over the page body and expect many distinct colours
        colours = {shot.pixel(x, y) for x in range(0, width, width // 97) for y in range(height // 8, height, height // 61)}
        assert len(colours) > 24, name
        assert shot.save(str(OUT / f"{name}_{width}x{height}.png"))
    win.stop()
