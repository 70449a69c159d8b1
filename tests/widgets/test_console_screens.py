"""Screenshots of the seat console as a user sees it, at 1920×1080 on the demo city: the whole console,
a zoomed street view with grid labels and parts, the filing dialog, the case detail with before/after
photos, and the evaluation view. Written to ``artifacts/screenshots/console/`` and looked at.

Marked ``xvfb`` (``tools/run_tests.sh`` runs them under xvfb-run with the xcb platform); they also pass
offscreen, where ``grab()`` renders the same widgets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from app.session import Session
from widgets.console import build_console
from widgets.console_app import make_application

pytestmark = pytest.mark.xvfb

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "console"


@pytest.fixture
def seat(qtbot, qapp, store_path):
    make_application()  # fonts and the console style sheet, as main.py does
    windows = []

    def open_(user_id: str, role: str, departments: tuple[str, ...] = (), name: str = "") -> object:
        w = build_console(store_path, Session(user_id, name or user_id, role, (), departments), poll_ms=200)
        qtbot.addWidget(w)
        w.resize(1920, 1080)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield open_
    for w in windows:
        w.close()


def _save(widget, name: str) -> QImage:
    SHOTS.mkdir(parents=True, exist_ok=True)
    canvas = getattr(widget, "canvas", None)
    if canvas is not None:  # the big layers arrive from worker threads: shoot the complete map
        canvas.refresh()
        QtBot(None).waitUntil(lambda: not canvas.loading, timeout=10_000)
        canvas.refresh()
    QApplication.processEvents()
    pix = widget.grab()
    pix.save(str(SHOTS / name))
    return pix.toImage()


def _ink(img: QImage) -> int:
    """Pixels that are clearly not background (anything drawn)."""
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), -1)
    return int((arr[:, : img.width() * 4] < 160).sum())


def _photo(path: Path, color: str, text: str) -> str:
    img = QImage(320, 240, QImage.Format.Format_RGB32)
    img.fill(QColor(color))
    p = QPainter(img)
    p.setPen(QColor("white"))
    p.drawRect(20, 20, 280, 200)
    p.drawText(img.rect(), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    assert img.save(str(path))
    return str(path)


def _accept(dialog) -> None:
    box = dialog.findChild(QDialogButtonBox)
    button = box.button(QDialogButtonBox.StandardButton.Save) or box.button(QDialogButtonBox.StandardButton.Ok)
    button.click()


def test_console_full_extent(qtbot, seat):
    w = seat("dispatch01", "dispatcher", name="派遣员")
    qtbot.waitUntil(lambda: w.canvas.last_render_ms is not None, timeout=10_000)
    img = _save(w, "console_1920x1080.png")
    assert img.width() == 1920
    assert _ink(w.canvas.grab().toImage()) > 10_000  # the city is drawn, not a blank canvas
    assert w.desk.inbox.table.model().columnCount() > 5
    assert all(d.isVisible() for k, d in w.docks.items() if k in ("layers", "overview", "inbox", "detail"))
    assert w.desk.inbox.model.rowCount() > 0  # the inbox opens on a queue with work in it
    w.docks["tables"].raise_()
    w.desk.tables.setCurrentIndex(1)
    grids = w.desk.tables.views["unit_grid"]
    qtbot.waitUntil(lambda: grids.model.rowCount() > 0)  # read when the user looks at it, not at start
    assert not w.desk.tables.views["part"].model.rowCount()  # never looked at: nothing read
    _save(w, "tables_grids.png")


def test_street_view_with_grid_labels_and_parts(qtbot, seat):
    w = seat("leader01", "leader", name="领导")
    grids = w.ctx.map_data.polygons("unit_grid")
    pt = grids.geoms[len(grids.codes) // 2].representative_point()
    w.canvas.view.center_on(pt.x, pt.y, scale=0.8 / 111_320)
    w.canvas.refresh()
    assert w.canvas.view.scale_denominator() < 5000
    labels = w.canvas.labels_drawn
    assert any(text.isdigit() and len(text) == 3 for text in labels)  # grid numbers are labelled
    parts = w.ctx.map_data.points("part")
    assert len(parts.in_bbox(w.canvas.view.bbox())) > 0
    w.canvas.identified.emit(w.ctx.map_data.identify(pt.x, pt.y, w.canvas.view.scale * 4))
    _save(w, "street_view.png")


def test_filing_dialog(qtbot, seat, tmp_path):
    w = seat("intake01", "intake", name="受理员")
    grids = w.ctx.map_data.polygons("unit_grid")
    pt = grids.geoms[7].representative_point()
    w.canvas.view.center_on(pt.x, pt.y, scale=1.5 / 111_320)
    w.actions_by_id["file_case"].trigger()
    sx, sy = w.canvas.view.to_screen(pt.x, pt.y)
    qtbot.mouseClick(w.canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(sx), round(sy)))
    dialog = w.desk.active_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.kind.setCurrentIndex(dialog.kind.findData("event"))
    dialog.set_class("0102")
    dialog.description.setPlainText("人行道上有暴露垃圾，约两平方米")
    dialog.set_photos([_photo(tmp_path / "before.jpg", "#8a6d3b", "before")])
    assert dialog.rule.text()
    assert dialog.address.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "filing_dialog.png"))
    _save(w, "filing_in_console.png")
    dialog.reject()


def test_case_detail_with_before_and_after_photos(qtbot, seat, tmp_path):
    before = _photo(tmp_path / "before.jpg", "#8a6d3b", "处置前")
    after = _photo(tmp_path / "after.png", "#2e7d32", "处置后")
    intake = seat("intake01", "intake", name="受理员")
    pt = intake.ctx.map_data.polygons("unit_grid").geoms[9].representative_point()
    desk = intake.desk
    with qtbot.waitSignal(desk.operationDone, timeout=10_000) as blocker:
        desk._submit(desk.desk.op("file_case", source="inspector", kind="event", class_code="0102", lon=pt.x,
                                  lat=pt.y, description="暴露垃圾", photos=[before]), "已上报")
    case_no = blocker.args[0].case_no
    steps = [
        (intake, "accept_case", {}),
    ]
    lead = seat("shift01", "shift_lead", name="值班长")
    dispatcher = seat("dispatch01", "dispatcher", name="派遣员")
    steps += [(lead, "register_case", {})]
    for window, op, params in steps:
        with qtbot.waitSignal(window.desk.operationDone, timeout=10_000):
            window.desk._submit(window.desk.desk.op(op, case_no, **params), "ok")
    dept = dispatcher.desk.desk.dispatch_candidates(case_no)[0].department
    with qtbot.waitSignal(dispatcher.desk.operationDone, timeout=10_000):
        dispatcher.desk._submit(dispatcher.desk.desk.op("dispatch_case", case_no, department=dept), "ok")
    department = seat(f"dept_{dept.lower()}", "department", (dept,))
    department.desk.show_case(case_no)
    with qtbot.waitSignal(department.desk.operationDone, timeout=10_000):
        qtbot.mouseClick(department.desk.detail.buttons["handle"], Qt.MouseButton.LeftButton)
        dialog = department.desk.active_dialog
        dialog.text.setPlainText("已清理完毕")
        dialog.set_photos([after])
        _accept(dialog)
    for w in (dispatcher, lead, intake):
        w.close()
    department.desk.show_case(case_no)
    detail = department.desk.detail
    qtbot.waitUntil(lambda: detail.detail is not None and "handle" in detail.detail.photos, timeout=5000)
    assert len(detail.detail.photos["report"]) == 1
    assert detail.photo_labels() == 2  # one before, one after, side by side
    notes = " ".join(e["note"] + e["actor"] for e in detail.detail.events)
    assert dept not in notes  # department names, not codes, in the timeline
    _save(department, "case_detail_photos.png")


def test_evaluation_view(qtbot, seat):
    w = seat("eval01", "evaluator", name="考评员")
    view = w.desk.evaluation
    w.docks["evaluation"].raise_()
    qtbot.waitUntil(lambda: view.scheme.count() > 0)  # the schemes are read when the view is first shown
    view.scheme.setCurrentIndex(view.scheme.findData("xuzhou_quanshan"))
    from app.evaluation_service import default_period

    view.period.setText(default_period())
    with qtbot.waitSignal(view.evaluated, timeout=60_000):
        view.run_button.click()
    assert view.ranking.rowCount() > 0
    view.ranking.selectRow(0)
    _save(w, "evaluation_console.png")
    SHOTS.mkdir(parents=True, exist_ok=True)
    view.grab().save(str(SHOTS / "evaluation_view.png"))
