"""The wall window: rotation, pinning, stale marking and recovery, burn-in shift, kiosk properties."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from PySide6.QtCore import Qt

from app.clock import FixedClock
from app.timefmt import CST
from app.wall_data import WallConfig, WallDataService
from bench.bench_wall import build_sample_store

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    return build_sample_store(tmp_path_factory.mktemp("wallw") / "sample.gpkg", NOW, n_cases=300, seed=5)


def refresh(qtbot, win, ok=True):
    """One refresh through the worker, waiting for its result on the GUI thread."""
    with qtbot.waitSignal(win.refreshed, timeout=10000) as blocker:
        assert win.refresh_now()
    assert blocker.args == [ok]


@pytest.fixture
def make_wall(qtbot):
    from widgets.fonts import install_fonts
    from widgets.wall.window import WallWindow

    install_fonts()
    made = []

    def make(path, size=(960, 540), **cfg):
        cfg.setdefault("transition_ms", 0)
        config = WallConfig(**cfg)
        service = WallDataService(path, config, FixedClock(NOW), evaluator=None)
        win = WallWindow(service, config)
        qtbot.addWidget(win)
        win.resize(*size)
        made.append(win)
        return win

    yield make
    for w in made:
        w.stop()


def test_kiosk_window_has_no_chrome_and_no_cursor(make_wall, sample_path):
    win = make_wall(sample_path)
    assert win.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert win.cursor().shape() == Qt.CursorShape.BlankCursor
    assert win.page_names() == ["map", "kpi", "scores", "hot", "cases"]


def test_pages_rotate_in_order_on_the_timer(qtbot, make_wall, sample_path):
    win = make_wall(sample_path, interval_s=0.02, refresh_s=60)
    seen = []
    win.page_changed.connect(seen.append)
    win.start()
    qtbot.waitUntil(lambda: len(seen) >= 6, timeout=5000)
    assert seen[:6] == ["kpi", "scores", "hot", "cases", "map", "kpi"]
    assert not win.current_page().isHidden()
    assert sum(not p.isHidden() for p in win.pages) == 1


def test_slide_transition_ends_with_one_page_in_place(qtbot, make_wall, sample_path):
    win = make_wall(sample_path, transition_ms=120)
    win.show()
    qtbot.waitExposed(win)
    win.show_page("kpi")
    assert win._anim.state() == win._anim.State.Running
    qtbot.waitUntil(lambda: win._anim.state() == win._anim.State.Stopped, timeout=3000)
    assert win.current_page_name() == "kpi"
    assert win.current_page().pos().x() == 0
    assert not win.pages[0].isVisible()


def test_pinned_page_stays_while_data_refreshes(qtbot, make_wall, sample_path):
    win = make_wall(sample_path, interval_s=0.01, refresh_s=0.03)
    moved = []
    win.page_changed.connect(moved.append)
    win.pin("hot")
    moved.clear()
    win.start()
    refreshes = []
    win.refreshed.connect(refreshes.append)
    # the page timer (10 ms) would have switched many times during these refreshes if pinning failed
    qtbot.waitUntil(lambda: len(refreshes) >= 4, timeout=5000)
    assert moved == []
    assert win.current_page_name() == "hot"
    assert win.header.pinned
    with qtbot.waitSignal(win.page_changed, timeout=3000) as blocker:
        win.pin(None)
    assert blocker.args == ["cases"]


def test_pin_by_key_and_unknown_page(qtbot, make_wall, sample_path):
    win = make_wall(sample_path)
    win.show()
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert (win.pinned, win.current_page_name()) == ("kpi", "kpi")
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.pinned is None
    with pytest.raises(ValueError, match="page='tv'"):
        win.pin("tv")


def test_stale_marker_when_store_removed_and_cleared_when_restored(qtbot, make_wall, store_copy):
    win = make_wall(store_copy, refresh_s=0.05, retry_s=0.02)
    win.show()
    with qtbot.waitSignal(win.refreshed, timeout=10000) as first:
        win.start()
    assert first.args == [True]
    assert not win.stale_marker.isVisible()
    kpi = win.pages[1]
    good = kpi.snapshot
    assert good.kpi.month.reported > 0
    away = store_copy.with_suffix(".away")
    os.rename(store_copy, away)
    qtbot.waitUntil(win.stale_marker.isVisible, timeout=5000)
    assert win.stale_marker.text() == "数据更新于 15:30"
    assert kpi.snapshot is good  # last good data still shown
    assert "不存在" in win.stale_marker.toolTip()
    os.rename(away, store_copy)
    qtbot.waitUntil(lambda: not win.stale_marker.isVisible(), timeout=5000)
    assert kpi.snapshot is not good
    assert kpi.snapshot.kpi.month.reported == good.kpi.month.reported


def test_first_refresh_failing_shows_marker_and_empty_pages(qtbot, make_wall, tmp_path):
    win = make_wall(tmp_path / "nothing.gpkg")
    win.show()
    with qtbot.waitSignal(win.refreshed, timeout=10000) as first:
        win.start()
    assert first.args == [False]
    assert win.stale_marker.isVisible()
    assert win.stale_marker.text() == "数据未加载，正在重试…"
    win.current_page().grab()  # pages paint their empty state without errors


class GatedRefresh:
    """Wraps ``service.refresh`` so the test decides when the worker may proceed (no sleeping)."""

    def __init__(self, service):
        import threading

        self.real = service.refresh
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.results = []
        service.refresh = self

    def __call__(self, progress):
        self.calls += 1
        self.entered.set()
        assert self.release.wait(10)
        result = self.real(progress)
        self.results.append(result)
        return result


def test_refreshes_run_on_a_worker_and_never_pile_up(qtbot, make_wall, sample_path):
    import threading

    win = make_wall(sample_path)
    gate = GatedRefresh(win.service)
    threads = []
    real = gate.real
    gate.real = lambda progress: threads.append(threading.current_thread()) or real(progress)
    assert win.refresh_now()
    assert gate.entered.wait(10)
    assert win.refreshing
    # ticks while the refresh runs are skipped, not queued
    assert not win.refresh_now()
    assert not win.refresh_now()
    assert win.refresh_skipped == 2
    assert win.pages[1].snapshot.kpi.month.reported == 0  # still the placeholder: the GUI did not block
    with qtbot.waitSignal(win.refreshed, timeout=10000) as blocker:
        gate.release.set()
    assert blocker.args == [True]
    assert gate.calls == 1
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()
    assert not win.refreshing
    assert win.pages[1].snapshot is gate.results[0].snapshot
    assert win.pages[1].snapshot.kpi.month.reported > 0


def test_refresh_tasks_are_released(qtbot, make_wall, sample_path):
    """A wall refreshes all day: each finished refresh task must be freed (they once leaked one each)."""
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    from widgets.workers import Task

    def tasks_alive():
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
        return sum(isinstance(o, Task) for o in gc.get_objects())

    win = make_wall(sample_path)
    before = tasks_alive()
    for _ in range(5):
        refresh(qtbot, win)
    qtbot.waitUntil(lambda: tasks_alive() <= before, timeout=5000)


def test_closing_cancels_a_running_refresh(qtbot, make_wall, sample_path):
    win = make_wall(sample_path)
    gate = GatedRefresh(win.service)
    shown = []
    win.refreshed.connect(shown.append)
    win.show()
    win.start()
    assert gate.entered.wait(10)
    placeholder = win.pages[0].snapshot
    win.stop()  # what closeEvent does first; the refresh's progress is cancelled
    gate.release.set()
    qtbot.waitUntil(lambda: not win.refreshing, timeout=10000)
    assert (gate.results[0].ok, gate.results[0].cancelled) == (False, True)
    assert shown == []  # nothing rendered, no marker
    assert win.pages[0].snapshot is placeholder
    assert not win.stale_marker.isVisible()
    assert win.service.error_count == 0  # a cancel is not a data error
    win.close()  # closes the service's connection; a later refresh reopens it
    refresh(qtbot, win)


def test_burn_in_shift_moves_the_stage_and_comes_back(qtbot, make_wall, sample_path):
    win = make_wall(sample_path, size=(1920, 1080), burn_in_minutes=0.0005, burn_in_px=4)
    win.show()
    origin = win._stage.pos()
    win.start()
    qtbot.waitUntil(lambda: win._stage.pos() != origin, timeout=3000)
    win.burn_timer.stop()
    dx, dy = win._stage.pos().x() - origin.x(), win._stage.pos().y() - origin.y()
    assert max(abs(dx), abs(dy)) == 4
    while win.burn_in_index != 0:
        win.burn_in_step()
    assert win._stage.pos() == origin


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. "Glyph ... missing from font(s)": Chinese must render
def test_refresh_reuses_figures(qtbot, make_wall, sample_path):
    win = make_wall(sample_path)
    win.show()
    refresh(qtbot, win)
    win.show_page("scores", animate=False)
    page = win.current_page()
    page.render_charts()
    figures = [id(c.figure) for c in page.charts]
    renders = [c.render_count for c in page.charts]
    refresh(qtbot, win)  # same data: nothing is redrawn
    page.render_charts()
    assert [c.render_count for c in page.charts] == renders
    for c in page.charts:
        c.invalidate()
    page.render_charts()
    assert [id(c.figure) for c in page.charts] == figures
    assert [c.render_count for c in page.charts] == [r + 1 for r in renders]
    assert all(c.image().width() == c.width() for c in page.charts)


def test_chart_text_size_cache_stays_bounded(qtbot):
    """A chart whose numbers change with every refresh lays out new texts each time; matplotlib's per-renderer
    cache of text sizes (4,096 entries) must not fill up with them over days."""
    from matplotlib.text import _get_text_metrics_function

    from widgets.wall.base import TEXT_METRICS_KEEP, ChartHost

    shown = [0]

    def draw(fig, theme):
        ax = fig.add_subplot()
        for i in range(20):  # 20 new numbers per draw, like ranked bars with their values
            ax.text(0.1, i / 20, f"{shown[0] * 20 + i:,}")

    host = ChartHost(draw)
    qtbot.addWidget(host)
    host.resize(300, 200)
    sizes = []
    for n in range(40):
        shown[0] = n
        host.render_now()
        sizes.append(_get_text_metrics_function(host._canvas.get_renderer()).cache_info().currsize)
    assert max(sizes) <= TEXT_METRICS_KEEP + 40 < 40 * 20  # unbounded it would hold all 800 numbers
    assert host.render_count == 40


def test_cases_list_scrolls_only_while_visible(qtbot, make_wall, sample_path):
    win = make_wall(sample_path, size=(1920, 1080), latest_count=40)
    win.show()
    refresh(qtbot, win)
    cases = win.pages[4]
    win.show_page("cases", animate=False)
    qtbot.waitUntil(lambda: cases.offset > 5, timeout=3000)
    win.show_page("map", animate=False)
    assert not cases._timer.isActive()


def test_command_line_usage_errors(capsys, tmp_path):
    import main

    assert main.main(["wall", "--store", str(tmp_path / "x.gpkg"), "--pages", "map,tv"]) == 2
    assert "pages='map,tv'" in capsys.readouterr().err
    assert main.main(["wall", "--store", str(tmp_path / "x.gpkg"), "--geometry", "5760x2160"]) == 2
    assert main.main(["wall", "--store", str(tmp_path / "x.gpkg"), "--pin", "hot", "--pages", "map,kpi"]) == 2
    from widgets.wall.app import parse_geometry

    assert parse_geometry("5760x2160+0+0") == (5760, 2160, 0, 0)
    assert parse_geometry("1920x1080-1920+0") == (1920, 1080, -1920, 0)


def _drop_stale_quit(qapp) -> None:
    """Undo the quit the wall command leaves behind, which would end every later event loop at once.

    Why: closing the wall's last window inside ``app.exec()`` makes Qt post an automatic Quit that is still
    queued when the explicit ``quit()`` has ended the loop. Delivered later (by any test's event processing)
    it leaves the application quitting, and every later wait returns without processing events (a worker's
    refresh never lands: the timeouts seen in wall tests run after this one). Dropping the queued Quit and
    running one empty ``exec()`` (which clears the quitting state on entry and exit) undoes it."""
    from PySide6.QtCore import QCoreApplication, QEvent, QTimer

    QCoreApplication.removePostedEvents(qapp, QEvent.Type.Quit)
    QTimer.singleShot(0, qapp.quit)
    qapp.exec()


def test_wall_command_opens_and_quits(qapp, sample_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import main

    seen = []

    def look_and_quit():  # runs inside the wall's event loop
        for w in QApplication.topLevelWidgets():
            if type(w).__name__ == "WallWindow" and w.isVisible():
                seen.append((w.page_names(), w.width(), w.height(), w.stale_marker.isVisible(), w.page_timer.isActive()))
                w.close()
        qapp.quit()

    QTimer.singleShot(0, look_and_quit)
    try:
        code = main.main(["wall", "--store", str(sample_path), "--geometry", "640x360+0+0", "--pages", "kpi,cases",
                          "--interval", "5"])
    finally:
        _drop_stale_quit(qapp)
    assert code == 0
    assert seen == [(["kpi", "cases"], 640, 360, False, True)]


def test_panels_setting_is_checked():
    from app.wall_data import load_config

    assert load_config(None, panels="3x2").panels == (3, 2)
    assert load_config(None, panels="2×2").panels == (2, 2)
    for bad in ("3", "0x2", "3x", "axb"):
        with pytest.raises(ValueError, match="panels"):
            load_config(None, panels=bad)
