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


def make_wall(qtbot, path, pages=("kpi",), **cfg):
    """A 5760×2160 wall showing ``pages``, laid out as when shown."""
    from widgets.fonts import install_fonts
    from widgets.wall.window import WallWindow

    install_fonts()
    config = WallConfig(transition_ms=0, pages=pages, **cfg)
    win = WallWindow(WallDataService(path, config, FixedClock(NOW), evaluator=None), config)
    qtbot.addWidget(win)
    win.resize(5760, 2160)
    win.relayout()  # a hidden window gets its resize event only when shown
    return win


def _kpi(win):
    return next(p for p in win.pages if p.name == "kpi")


def test_kpi_rows_stay_off_the_seam_of_a_two_row_wall(qtbot, sample_path):
    """A 3×2 wall shown as one 5760×2160 screen: the bezel between the panel rows (canvas y 1080) must fall
    between the counter panels and the rates, not through a row of numbers (as it did before ``panels``)."""
    win = make_wall(qtbot, sample_path, panels=(3, 2))
    page = _kpi(win)
    head = 96  # HEADER_H: the page starts below the header
    assert page.seams_y == pytest.approx(((1080 - head * 2) / 2,))
    seam = page.seams_y[0]
    today, month, rates = page.bands()
    assert today.bottom() < month.top() < month.bottom() <= seam - 6 + 1e-9
    assert rates.top() >= seam + 6 - 1e-9
    assert rates.bottom() <= page.design_h
    # the render, for people to look at (a big canvas: allow the first refresh time under a loaded suite)
    with qtbot.waitSignal(win.refreshed, timeout=30000) as blocker:
        assert win.refresh_now()
    assert blocker.args == [True]
    OUT.mkdir(parents=True, exist_ok=True)
    assert win.grab().save(str(OUT / "kpi_5760x2160_panels3x2.png"))
    win.stop()

    # without the panels setting (one offscreen screen) the seam is unknown and the month row crosses y 444
    plain = make_wall(qtbot, sample_path)
    page = _kpi(plain)
    assert page.seams_y == ()
    _, month, _ = page.bands()
    assert month.top() < seam < month.bottom()


def test_chart_rows_stay_off_the_seam_of_a_two_row_wall(qtbot, sample_path):
    """The scores and hot pages put the gap between their two rows of charts on the panel-row seam."""
    win = make_wall(qtbot, sample_path, pages=("scores", "hot"), panels=(3, 2))
    with qtbot.waitSignal(win.refreshed, timeout=30000) as blocker:
        assert win.refresh_now()
    assert blocker.args == [True]
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("scores", "hot"):
        win.show_page(name, animate=False)
        page = win.current_page()
        seam = page.seams_y[0]
        rects = [r for pair in page._rects() for r in (pair if isinstance(pair, tuple) else (pair,))]
        assert all(r.bottom() <= seam - 10 + 1e-9 or r.top() >= seam + 10 - 1e-9 for r in rects), name
        assert any(r.top() > seam for r in rects)  # panels on both sides of the seam
        assert any(r.bottom() < seam for r in rects)
        page.render_charts()
        assert win.grab().save(str(OUT / f"{name}_5760x2160_panels3x2.png"))
    win.stop()
    plain = make_wall(qtbot, sample_path, pages=("scores",))
    page = next(p for p in plain.pages if p.name == "scores")
    (y0, h0), (_, h1) = page.two_rows(24.0, 20.0)
    assert h0 == h1  # one screen: equal halves, the first one crossing y 444
    assert y0 < seam < y0 + h0

