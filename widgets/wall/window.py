"""The wall window: frameless, no cursor, dark; pages rotate on a timer with a slide, and can be pinned.

Why it is built this way: the wall runs for days with nobody at it. Everything that can go wrong with
the data is absorbed by :class:`app.wall_data.WallDataService` (last good snapshot + stale marker), and
everything on screen is reused rather than recreated: pages, figures and cached images live as long as
the window. The whole stage shifts by a few design pixels every few minutes against burn-in.

Data refreshes run on a worker (``widgets.workers.run_task``) through the service's own read-only
connection; the GUI thread only receives the finished :class:`app.wall_data.RefreshResult` (plain,
immutable data) and renders it, so a slow query never freezes the rotation or the clock. At most one
refresh runs at a time (a timer tick while one runs is skipped), and closing the window cancels it.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEasingCurve, QRectF, Qt, QTimer, QVariantAnimation, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from app.timefmt import CST
from app.wall_data import RefreshResult, WallConfig, WallDataService, empty_snapshot
from widgets.wall.base import (
    ACCENT,
    BG,
    HEADER_H,
    MUTED,
    PANEL_EDGE,
    TEXT,
    WARN,
    WallPage,
    design_scale,
    font,
)
from widgets.wall.page_cases import CasesPage
from widgets.wall.page_hot import HotPage
from widgets.wall.page_kpi import KpiPage
from widgets.wall.page_map import MapPage
from widgets.wall.page_scores import ScoresPage
from widgets.workers import Task, run_task

PAGE_CLASSES: dict[str, type[WallPage]] = {
    "map": MapPage, "kpi": KpiPage, "scores": ScoresPage, "hot": HotPage, "cases": CasesPage,
}
WEEKDAYS = "一二三四五六日"
CLOCK_W = 520.0  # design px for "2026年11月23日 星期一  15:30:00"
# burn-in offsets in design px, visited in turn (a slow square orbit around the origin)
BURN_IN_PATH = ((0, 0), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))


class StaleMarker(QWidget):
    """The amber "数据更新于 HH:MM" pill shown while the data is stale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.scale = 1.0
        self.hide()

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(self.scale, self.scale)
        r = QRectF(0, 0, self.width() / self.scale, self.height() / self.scale).adjusted(1, 1, -1, -1)
        p.setPen(WARN)
        p.setBrush(WARN.darker(400))
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        p.setBrush(WARN)
        p.setPen(Qt.PenStyle.NoPen)
        d = r.height() * 0.36
        p.drawEllipse(QRectF(r.left() + r.height() * 0.4, r.center().y() - d / 2, d, d))
        p.setPen(WARN)
        p.setFont(font(r.height() * 0.5, bold=True))
        p.drawText(r.adjusted(r.height() * 0.4 + d + 12, 0, -r.height() * 0.4, 0),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self._text)
        p.end()


class Header(QWidget):
    """Title, page name with position dots, the clock, and the stale marker."""

    def __init__(self, title: str, pages: list[WallPage], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.pages = pages
        self.current = 0
        self.pinned = False
        self.scale = 1.0
        self.design_w = 1920.0
        self.now = datetime.now(CST)
        self.stale_marker = StaleMarker(self)

    def set_design(self, scale: float, design_w: float) -> None:
        self.scale, self.design_w = scale, design_w
        self.stale_marker.scale = scale
        w, h = 470.0, 52.0
        x, y = design_w - 24 - CLOCK_W - 16 - w, (HEADER_H - h) / 2
        self.stale_marker.setGeometry(round(x * scale), round(y * scale), round(w * scale), round(h * scale))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(self.scale, self.scale)
        w = self.design_w
        p.setPen(PANEL_EDGE)
        p.drawLine(24, HEADER_H - 2, round(w - 24), HEADER_H - 2)
        p.setPen(ACCENT)
        p.setFont(font(42, bold=True))
        p.drawText(QRectF(32, 0, w * 0.42, HEADER_H), Qt.AlignmentFlag.AlignVCenter, self.title)
        # page name centred with dots under it
        page = self.pages[self.current] if self.pages else None
        p.setPen(TEXT)
        p.setFont(font(34, bold=True))
        name = (page.title if page else "") + ("（已固定）" if self.pinned else "")
        p.drawText(QRectF(w / 2 - 300, 4, 600, 60), Qt.AlignmentFlag.AlignCenter, name)
        n = len(self.pages)
        for i in range(n):
            cx = w / 2 + (i - (n - 1) / 2) * 30
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(ACCENT if i == self.current else PANEL_EDGE)
            p.drawEllipse(QRectF(cx - 6, 70, 12, 12))
        p.setPen(MUTED)
        p.setFont(font(28))
        clock = f"{self.now:%Y年%m月%d日} 星期{WEEKDAYS[self.now.weekday()]}  {self.now:%H:%M:%S}"
        p.drawText(QRectF(w - 24 - CLOCK_W, 0, CLOCK_W, HEADER_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, clock)
        p.end()


class WallWindow(QWidget):
    """The wall display. Give it the data service and the config; call :meth:`start` to run."""

    page_changed = Signal(str)
    refreshed = Signal(bool)

    def __init__(self, service: WallDataService, config: WallConfig, pin: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.config = config
        self.setWindowTitle(config.title)
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.Window)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._stage = QWidget(self)
        self._pages_box = QWidget(self._stage)
        self.pages: list[WallPage] = [PAGE_CLASSES[name](self._pages_box) for name in config.pages]
        self.header = Header(config.title, self.pages, self._stage)
        self.stale_marker = self.header.stale_marker
        self.header.now = service.clock.now()
        self.scale, self.design_w, self.design_h = 1.0, 1920.0, 1080.0
        self.burn_in_index = 0
        self.switch_count = 0
        self.last_refresh: RefreshResult | None = None  # the last result applied on screen
        self.refresh_skipped = 0  # timer ticks skipped because a refresh was still running
        self._refresh_task: Task | None = None
        self._stopped = False
        self._current = 0
        self._leaving: WallPage | None = None
        self.pinned: str | None = None
        placeholder = empty_snapshot(service.clock.now(), config.period)
        for page in self.pages:
            page.set_snapshot(placeholder)
            page.hide()
        self.pages[0].show()

        self._anim = QVariantAnimation(self)
        self._anim.setStartValue(0.0)
        self._anim.setEndValue(1.0)
        self._anim.setEasingCurve(QEasingCurve.Type.InOutCubic)
        self._anim.valueChanged.connect(self._slide)
        self._anim.finished.connect(self._slide_done)

        self.page_timer = QTimer(self)
        self.page_timer.setInterval(max(1, round(config.interval_s * 1000)))
        self.page_timer.timeout.connect(self.next_page)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(max(1, round(config.refresh_s * 1000)))
        self.refresh_timer.timeout.connect(self.refresh_now)
        self.burn_timer = QTimer(self)
        self.burn_timer.setInterval(max(1, round(config.burn_in_minutes * 60_000)))
        self.burn_timer.timeout.connect(self.burn_in_step)
        # charts are rendered one per event-loop turn ahead of time, so no single stall is long and
        # the next page is ready before it slides in
        self.prerender_timer = QTimer(self)
        self.prerender_timer.setInterval(40)
        self.prerender_timer.timeout.connect(self._prerender_one)
        self.clock_timer = QTimer(self)
        self.clock_timer.setInterval(1000)
        self.clock_timer.timeout.connect(self._tick_clock)
        if pin is not None:
            self.pin(pin)

    # -- running ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """First refresh, then the timers (the page timer only when no page is pinned)."""
        self._stopped = False
        self.refresh_now()
        self.refresh_timer.start()
        self.burn_timer.start()
        self.clock_timer.start()
        if self.pinned is None:
            self.page_timer.start()
        self.pages[self._current].set_active(True)

    def stop(self) -> None:
        """Stop the timers and animations and cancel a refresh in progress (its result is dropped)."""
        self._stopped = True
        for t in (self.page_timer, self.refresh_timer, self.burn_timer, self.clock_timer, self.prerender_timer):
            t.stop()
        self._anim.stop()
        for page in self.pages:
            page.set_active(False)
        if self._refresh_task is not None:
            self._refresh_task.progress.cancel()
            self.service.cancel()

    def closeEvent(self, event: object) -> None:
        self.stop()
        self.service.close()  # waits (briefly: the query was interrupted) for the worker to let go

    # -- data --------------------------------------------------------------------------------------------
    @property
    def refreshing(self) -> bool:
        """Whether a refresh is running on the worker."""
        return self._refresh_task is not None

    def refresh_now(self) -> bool:
        """Start a refresh on a worker unless one is running (then this tick is skipped); never raises.

        The result arrives on the GUI thread: the data is shown, or the stale marker with the last good
        data, and the timer retries sooner. ``refreshed(ok)`` is emitted then. Returns whether it started.
        """
        if self._refresh_task is not None:
            self.refresh_skipped += 1
            return False
        self._stopped = False
        task = run_task(self.service.refresh, on_done=self._apply_refresh, on_error=self._refresh_raised)
        task.signals.cancelled.connect(self._refresh_gone)
        self._refresh_task = task
        return True

    def _refresh_gone(self) -> None:
        self._refresh_task = None

    def _refresh_raised(self, error: Exception) -> None:
        """``service.refresh`` never raises; should it ever, the wall treats it as a failed refresh."""
        self._apply_refresh(RefreshResult(False, 0.0, f"刷新失败 refresh failed ({error!r})",
                                          snapshot=None, stale_label=self.service.stale_label))

    def _apply_refresh(self, result: RefreshResult) -> None:
        """GUI thread: render a finished refresh (new data, or the stale marker over the last good data)."""
        self._refresh_task = None
        if self._stopped or result.cancelled:
            return
        self.last_refresh = result
        if result.ok and result.snapshot is not None:
            for page in self.pages:
                page.set_snapshot(result.snapshot)
            self.stale_marker.hide()
            self.refresh_timer.setInterval(max(1, round(self.config.refresh_s * 1000)))
            self.prerender_timer.start()
        else:
            self.stale_marker.set_text(result.stale_label)
            self.stale_marker.setToolTip(result.error)
            self.stale_marker.show()
            self.refresh_timer.setInterval(max(1, round(self.config.retry_s * 1000)))
        self.refreshed.emit(result.ok)

    # -- pages ---------------------------------------------------------------------------------------------
    def _prerender_one(self) -> None:
        """Render one dirty chart of the current page, else of the next page; stop when none is left."""
        if not self.isVisible():  # not laid out yet: nothing to render for
            self.prerender_timer.stop()
            return
        order = [self._current, (self._current + 1) % len(self.pages)]
        for i in order:
            for chart in self.pages[i].charts:
                if chart.dirty and chart.width() > 4:
                    chart.render_now()
                    if i == self._current:
                        chart.update()
                    return
        self.prerender_timer.stop()

    def current_page(self) -> WallPage:
        return self.pages[self._current]

    def current_page_name(self) -> str:
        return self.pages[self._current].name

    def page_names(self) -> list[str]:
        return [p.name for p in self.pages]

    def next_page(self) -> None:
        if self.pinned is None and len(self.pages) > 1:
            self.show_page((self._current + 1) % len(self.pages))

    def show_page(self, index: int | str, animate: bool = True) -> None:
        """Switch to a page by index or name, sliding it in unless ``animate`` is off or the window is hidden."""
        if isinstance(index, str):
            index = self.page_names().index(index)
        if index == self._current:
            return
        if self._anim.state() == QVariantAnimation.State.Running:
            self._anim.stop()
            self._slide_done()
        old = self.pages[self._current]
        new = self.pages[index]
        old.set_active(False)
        self._current = index
        self.header.current = index
        self.header.update()
        self.switch_count += 1
        new.setGeometry(old.geometry())
        new.show()
        new.raise_()
        new.set_active(True)
        if animate and self.config.transition_ms > 0 and self.isVisible():
            self._leaving = old
            self._anim.setDuration(self.config.transition_ms)
            self._anim.start()
        else:
            old.hide()
            new.move(0, 0)
        self.page_changed.emit(new.name)
        self.prerender_timer.start()

    def _slide(self, value: object) -> None:
        t = float(value)  # type: ignore[arg-type]
        w = self._pages_box.width()
        self.current_page().move(round((1 - t) * w), 0)
        if self._leaving is not None:
            self._leaving.move(round(-t * w), 0)

    def _slide_done(self) -> None:
        if self._leaving is not None:
            self._leaving.hide()
            self._leaving.move(0, 0)
            self._leaving = None
        self.current_page().move(0, 0)

    def pin(self, name: str | None) -> None:
        """Keep ``name`` on screen (rotation stops) or, with ``None``, resume rotating."""
        if name is None:
            self.pinned = None
            self.header.pinned = False
            if self.refresh_timer.isActive() and not self.page_timer.isActive():
                self.page_timer.start()
        else:
            if name not in self.page_names():
                raise ValueError(f"大屏页面不存在 page='{name}' (choose from {','.join(self.page_names())})")
            self.show_page(name, animate=False)
            self.pinned = name
            self.header.pinned = True
            self.page_timer.stop()
        self.header.update()

    # -- burn-in and clock -----------------------------------------------------------------------------
    def burn_in_step(self) -> None:
        self.burn_in_index = (self.burn_in_index + 1) % len(BURN_IN_PATH)
        self._place_stage()

    def burn_in_offset(self) -> tuple[int, int]:
        """The current shift of the stage in real pixels."""
        dx, dy = BURN_IN_PATH[self.burn_in_index]
        k = self.config.burn_in_px * self.scale
        return round(dx * k), round(dy * k)

    def _tick_clock(self) -> None:
        self.header.now = self.service.clock.now()
        self.header.update()

    # -- layout ------------------------------------------------------------------------------------------
    def _place_stage(self) -> None:
        dx, dy = self.burn_in_offset()
        self._stage.setGeometry(dx, dy, self.width(), self.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.relayout()

    def relayout(self) -> None:
        s, dw, dh = design_scale(self.width(), self.height())
        self.scale, self.design_w, self.design_h = s, dw, dh
        self._place_stage()
        head = round(HEADER_H * s)
        self.header.setGeometry(0, 0, self.width(), head)
        self.header.set_design(s, dw)
        self._pages_box.setGeometry(0, head, self.width(), self.height() - head)
        seams = tuple((y - head) / s for y in self.panel_seams_px() if head < y < self.height())
        for page in self.pages:
            page.setGeometry(0, 0, self._pages_box.width(), self._pages_box.height())
            page.set_design(s, dw, dh - HEADER_H, seams)

    def panel_seams_px(self) -> list[int]:
        """The window-relative y of the seams between panel rows: from ``panels`` in the configuration (a video
        wall shown as one screen), else where the screens the window spans meet."""
        h = self.height()
        if self.config.panels is not None:
            rows = self.config.panels[1]
            return [round(h * k / rows) for k in range(1, rows)]
        top = self.geometry().top()
        ys = {sc.geometry().top() - top for sc in QGuiApplication.screens()
              if sc.geometry().intersects(self.geometry())}
        return sorted(y for y in ys if 0 < y < h)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BG)
        p.end()

    # -- keyboard (a wall rarely has one; when it does: 1-5 pin a page, space resumes, Ctrl+Q quits) ------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            i = key - Qt.Key.Key_1
            if i < len(self.pages):
                self.pin(self.pages[i].name)
        elif key == Qt.Key.Key_Space:
            self.pin(None)
        elif key == Qt.Key.Key_Right:
            if self.pinned is None:
                self.next_page()
        elif key == Qt.Key.Key_Q and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.close()
        else:
            super().keyPressEvent(event)
