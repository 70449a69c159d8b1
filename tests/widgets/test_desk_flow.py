"""The desk driven as users would: file a case by clicking the map, accept, register, dispatch, handle
as the department, send for check, check, close, and watch the inbox counts change at each seat."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def open_seat(seat):
    """Seats at the screenshot size of this flow."""
    return lambda user_id, role, departments=(): seat(user_id, role, departments, size=(1600, 1000))


def _counts(window) -> dict[str, int]:
    return window.desk.inbox.counts()


def _accept(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Save if dialog.findChild(QDialogButtonBox).button(
            QDialogButtonBox.StandardButton.Save) else QDialogButtonBox.StandardButton.Ok).click()


def _act(qtbot, window, action: str, case_no: str, setup=None) -> None:
    desk = window.desk
    desk.show_case(case_no)
    button = desk.detail.buttons[action]
    with qtbot.waitSignal(desk.operationDone, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        if desk.active_dialog is not None and desk.active_dialog.isVisible():
            if setup is not None:
                setup(desk.active_dialog)
            _accept(desk.active_dialog)


def test_case_loop_through_the_console(qtbot, open_seat):
    intake = open_seat("intake01", "intake")
    before = _counts(intake)["to_accept"]
    canvas = intake.canvas
    grids = intake.ctx.map_data.polygons("unit_grid")
    pt = grids.geoms[5].representative_point()
    canvas.view.center_on(pt.x, pt.y, scale=2 / 111_320)
    intake.actions_by_id["file_case"].trigger()
    assert canvas.tool == "pick_point"
    sx, sy = canvas.view.to_screen(pt.x, pt.y)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(sx), round(sy)))
    dialog = intake.desk.active_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.ctx.grid_code == grids.codes[5]
    dialog.kind.setCurrentIndex(dialog.kind.findData("event"))  # a part nearby makes 部件 the default
    dialog.set_class("0102")  # 暴露垃圾
    assert "暴露垃圾" in dialog.klass.currentText()
    assert dialog.rule.text()
    dialog.description.setPlainText("路边暴露垃圾一堆")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "filing_dialog.png"))
    with qtbot.waitSignal(intake.desk.operationDone, timeout=10_000) as blocker:
        _accept(dialog)
    case_no = blocker.args[0].case_no
    assert case_no
    qtbot.waitUntil(lambda: _counts(intake)["to_accept"] == before + 1, timeout=5000)

    _act(qtbot, intake, "accept", case_no)
    qtbot.waitUntil(lambda: _counts(intake)["to_accept"] == before, timeout=5000)

    lead = open_seat("shift01", "shift_lead")
    _act(qtbot, lead, "register", case_no)

    dispatcher = open_seat("dispatch01", "dispatcher")
    qtbot.waitUntil(lambda: case_no in dispatcher.desk.inbox.model.ids() or
                    dispatcher.desk.inbox.current_queue() == "to_dispatch", timeout=5000)
    dispatcher.desk.show_case(case_no)
    with qtbot.waitSignal(dispatcher.desk.operationDone, timeout=10_000):
        qtbot.mouseClick(dispatcher.desk.detail.buttons["dispatch"], Qt.MouseButton.LeftButton)
        dlg = dispatcher.desk.active_dialog
        assert dlg.list.count() > 1
        assert "★" in dlg.list.item(0).text()  # a suggested department with its reason comes first
        dept = dlg.department()
        dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    department = open_seat(f"dept_{dept.lower()}", "department", (dept,))
    qtbot.waitUntil(lambda: _counts(department)["to_handle"] >= 1, timeout=5000)
    _act(qtbot, department, "handle", case_no,
         setup=lambda d: d.text.setPlainText("已清理完毕"))

    _act(qtbot, intake, "send_check", case_no)
    inspector = open_seat("insp001", "inspector")
    _act(qtbot, inspector, "check", case_no)
    _act(qtbot, lead, "close", case_no)
    detail = lead.desk.desk.detail(case_no)
    assert detail.state.status == "closed"
    actions = [e["action"] for e in detail.events]
    assert "上报" in actions[0]
    assert len(actions) >= 8
    # the intake seat sees the change made at the other seats (polling the shared store)
    intake.desk.show_case(case_no)
    qtbot.waitUntil(lambda: intake.desk.detail.detail.state.status == "closed", timeout=5000)
    lead.desk.show_case(case_no)
    lead.grab().save(str(SHOTS / "case_detail.png"))


def _file(qtbot, intake, grid: int, source: str, class_code: str, description: str) -> str:
    """File an event in the given grid from the intake seat's writer; the new case number."""
    pt = intake.ctx.map_data.polygons("unit_grid").geoms[grid].representative_point()
    filing = intake.desk.desk.op("file_case", source=source, kind="event", class_code=class_code,
                                 lon=pt.x, lat=pt.y, description=description)
    with qtbot.waitSignal(intake.desk.operationDone, timeout=10_000) as blocker:
        intake.desk._submit(filing, "已上报")
    return blocker.args[0].case_no


def test_refused_action_is_explained(qtbot, open_seat):
    intake = open_seat("intake01", "intake")
    lead = open_seat("shift01", "shift_lead")
    case_no = _file(qtbot, intake, 2, "public", "0102", "暴露垃圾")
    # a case just reported is not waiting to close: the engine refuses and the seat shows why
    with qtbot.waitSignal(lead.desk.operationFailed, timeout=10_000) as blocker:
        lead.desk.perform("close", case_no, None, {})
    assert case_no in blocker.args[0]
    assert "已上报" in blocker.args[0]  # the message names the case's state
    assert lead.desk.last_error == blocker.args[0]


def test_stale_view_conflict_is_refused(qtbot, open_seat):
    intake = open_seat("intake01", "intake")
    case_no = _file(qtbot, intake, 3, "hotline_12345", "0104", "道路不洁")
    seen = intake.desk.desk.detail(case_no).state.last_seq
    with qtbot.waitSignal(intake.desk.operationDone, timeout=10_000):
        intake.desk.perform("accept", case_no, seen, {})
    # a second seat acting on what it saw before the first seat's write is refused, not applied twice
    with qtbot.waitSignal(intake.desk.operationFailed, timeout=10_000) as blocker:
        intake.desk.perform("accept", case_no, seen, {})
    assert case_no in blocker.args[0]
    assert intake.desk.desk.detail(case_no).state.status == "accepted"
