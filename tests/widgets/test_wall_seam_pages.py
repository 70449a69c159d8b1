"""The map and cases pages keep their text off the bezel between the panel rows of a video wall.

A 3×2 wall of 1920×1080 panels driven as one 5760×2160 screen has a seam at canvas y 1080 (page design
y 444). Each test checks the pages' text boxes against it with ``panels`` set, then runs the same check on
the same canvas without the setting (the layout of one screen) and expects it to find a crossing, so the
check is not vacuous. The renders are also scanned: no near-white text pixel may lie on the seam rows of the
wall render, while the one-screen render has some there. PNGs go to ``artifacts/screenshots/wall/``.
"""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QRectF

from bench.bench_wall import build_sample_store
from tests.widgets.test_wall_screens import NOW, OUT, make_wall
from widgets.wall.base import HEADER_H, SEAM_PAD, WallPage
from widgets.wall.page_cases import FADE_S, ROW_H, SPEED, Page

SEAM_PX = 1080  # canvas y of the bezel between the two panel rows of a 5760×2160 3×2 wall
EPS = 1e-6


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("wallseam") / "sample.gpkg", NOW, n_cases=1500, seed=11)


def refresh(qtbot, win) -> None:
    with qtbot.waitSignal(win.refreshed, timeout=30000) as blocker:
        assert win.refresh_now()
    assert blocker.args == [True]


def crossing(rects: list[QRectF], seam: float, pad: float = 0.0) -> list[QRectF]:
    """The rectangles that reach within ``pad`` of the seam from both sides (pad 0: that contain it)."""
    return [r for r in rects if r.top() < seam + pad - EPS and r.bottom() > seam - pad + EPS]


def text_pixels_on_seam(win, band: int = 2) -> int:
    """Near-white pixels (the wall's text colour #e8f1ff and its anti-aliased cores) on the canvas rows of the
    seam. Nothing else on these pages is that light: heat, markers, outlines and pulses are saturated."""
    img = win.grab().toImage()
    n = 0
    for y in range(SEAM_PX - band, SEAM_PX + band + 1):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            n += min(c.red(), c.green(), c.blue()) > 170
    return n


def page_of(win, name: str) -> WallPage:
    return next(p for p in win.pages if p.name == name)


def name_on_seam(page, seam: float) -> None:
    """Replace the snapshot by one whose first district's name is anchored exactly on the seam."""
    snap = page.snapshot
    data = snap.map
    _, miny, _, maxy = data.bounds
    _, box = page._projector(data, page._map_rect())
    lat = maxy - (seam - box.top()) / box.height() * (maxy - miny)
    first = dataclasses.replace(data.outlines[0], label_xy=(data.outlines[0].label_xy[0], lat))
    page.set_snapshot(dataclasses.replace(snap, map=dataclasses.replace(data, outlines=(first, *data.outlines[1:]))))
    page.render_charts()


def test_clear_of_seams_moves_a_box_to_the_nearer_side_that_fits(qtbot):
    page = WallPage()
    qtbot.addWidget(page)
    assert page.clear_of_seams(90, 20) == 90  # no seam: nothing moves
    page.seams_y = (100.0,)
    assert page.clear_of_seams(40, 20) == 40  # clear of the seam
    assert page.clear_of_seams(95, 20) == 100 + SEAM_PAD  # nearer below
    assert page.clear_of_seams(75, 20) == 100 - SEAM_PAD - 20  # nearer above
    assert page.clear_of_seams(75, 20, lo=75) == 100 + SEAM_PAD  # above would overlap what comes before
    assert page.clear_of_seams(90, 20, lo=90, hi=110) == 90  # fits on neither side: stays
    page.seams_y = (100.0, 130.0)
    assert page.clear_of_seams(95, 20, lo=95) == 130 + SEAM_PAD  # just below the first seam the second cuts it
    assert page.clear_of_seams(118, 10) == 130 - SEAM_PAD - 10  # between two seams if it fits there


def test_map_text_stays_off_the_seam_of_a_two_row_wall(qtbot, sample_path):
    """Side panel boxes (title, legend rows, 今日新增/本月案件, heat scale) and district names on a 3×2 wall."""
    win = make_wall(qtbot, sample_path, pages=("map",), panels=(3, 2))
    refresh(qtbot, win)
    page = page_of(win, "map")
    assert page.seams_y == pytest.approx(((SEAM_PX - 2 * HEADER_H) / 2,))
    seam = page.seams_y[0]
    page.set_active(False)  # pulses hold still for the render
    name_on_seam(page, seam)
    lay = page.side_layout()
    boxes = lay.text_boxes()
    assert not crossing(boxes + page.label_boxes, seam, SEAM_PAD)
    assert all(b.bottom() <= lay.side.bottom() + EPS for b in boxes)  # everything still fits in the panel
    assert any(b.bottom() < seam for b in boxes)
    assert any(b.top() > seam for b in boxes)
    # the name on the seam went just beside it, not far from its district
    moved = page.label_boxes[0]
    assert min(abs(moved.bottom() - (seam - SEAM_PAD)), abs(moved.top() - (seam + SEAM_PAD))) < EPS
    OUT.mkdir(parents=True, exist_ok=True)
    assert win.grab().save(str(OUT / "map_5760x2160_panels3x2.png"))
    assert text_pixels_on_seam(win) == 0
    win.stop()

    # the same canvas laid out as one screen: the 今日新增 count and the name sit on y 444
    plain = make_wall(qtbot, sample_path, pages=("map",))
    refresh(qtbot, plain)
    page = page_of(plain, "map")
    assert page.seams_y == ()
    page.set_active(False)
    name_on_seam(page, seam)
    lay = page.side_layout()
    assert lay.rows == (90.0, 148.0, 206.0, 264.0, 322.0)  # one screen: as before
    assert lay.stats == (396.0, 532.0)
    assert crossing(lay.text_boxes(), seam)
    assert crossing(page.label_boxes, seam) == page.label_boxes[:1]
    assert text_pixels_on_seam(plain) > 20
    plain.stop()


def test_case_rows_never_straddle_the_seam_of_a_two_row_wall(qtbot, sample_path):
    """On a 3×2 wall the list pages through slots with the seam between two of them; checked at every offset
    of a whole cycle, while fading, and on the render."""
    win = make_wall(qtbot, sample_path, pages=("cases",), panels=(3, 2), latest_count=40)
    refresh(qtbot, win)
    page = page_of(win, "cases")
    seam = page.seams_y[0]
    lay = page.list_layout()
    assert lay.slots is not None
    assert len(page._rows()) == 40 > len(lay.slots)
    assert not crossing(lay.text_boxes(), seam, SEAM_PAD)
    assert any(y + ROW_H <= seam for y in lay.slots)
    assert any(y >= seam for y in lay.slots)
    cycle = page._cycle(40, len(lay.slots))
    pages_seen = set()
    offset = 0.0
    while offset < cycle:
        page.offset = offset
        rows = page.row_boxes()
        assert len(rows) == len(lay.slots)
        assert not crossing(rows, seam, SEAM_PAD), offset
        assert all(lay.body.contains(r) for r in rows)
        pages_seen.add(page.page().first)
        offset += 5.5
    assert len(pages_seen) == cycle / (len(lay.slots) * ROW_H)  # every page of the cycle came up

    # the timer pages: from just before a page's end it fades out, the next one fades in, and stays
    page_len = len(lay.slots) * ROW_H
    page.offset = page_len - SPEED * FADE_S - 2
    assert page.page() == Page(0, len(lay.slots), 0.0)
    page.set_active(True)
    qtbot.waitUntil(lambda: 0.1 < page.page().fade < 0.4, timeout=5000)  # the first page half faded out
    page.set_active(False)
    OUT.mkdir(parents=True, exist_ok=True)
    assert win.grab().save(str(OUT / "cases_5760x2160_panels3x2_fading.png"))
    assert text_pixels_on_seam(win) == 0
    page.set_active(True)
    qtbot.waitUntil(lambda: page.page().first == len(lay.slots), timeout=5000)
    page.set_active(False)
    page.offset = 0.0
    assert win.grab().save(str(OUT / "cases_5760x2160_panels3x2.png"))
    assert text_pixels_on_seam(win) == 0
    win.stop()

    # the same canvas laid out as one screen: the list scrolls through y 444
    plain = make_wall(qtbot, sample_path, pages=("cases",), latest_count=40)
    refresh(qtbot, plain)
    page = page_of(plain, "cases")
    assert page.seams_y == ()
    assert page.list_layout().slots is None
    page.set_active(False)
    page.offset = 0.0
    assert crossing(page.row_boxes(), seam)
    assert text_pixels_on_seam(plain) > 20
    plain.stop()
