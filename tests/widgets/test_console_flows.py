"""The console beyond the case loop: sign-in, first run, the search box, bulk dispatch, the approval
dialogs with canned phrases, the printable case sheet, two seats on one store, heat and beat layers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QProgressDialog

from widgets.fonts import install_fonts

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "console"




def _run(qtbot, window, op) -> object:
    with qtbot.waitSignal(window.desk.operationDone, timeout=10_000) as blocker:
        window.desk._submit(op, "ok")
    return blocker.args[0]


def _new_registered_cases(qtbot, intake, lead, n: int, class_code: str = "0104") -> list[str]:
    grids = intake.ctx.map_data.polygons("unit_grid")
    out = []
    for i in range(n):
        pt = grids.geoms[20 + i].representative_point()
        ch = _run(qtbot, intake, intake.desk.desk.op("file_case", source="hotline_12345", kind="event",
                                                       class_code=class_code, lon=pt.x, lat=pt.y,
                                                       description=f"道路不洁 {i}"))
        _run(qtbot, intake, intake.desk.desk.op("accept_case", ch.case_no))
        _run(qtbot, lead, lead.desk.desk.op("register_case", ch.case_no))
        out.append(ch.case_no)
    return out


def _ok(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


# -- sign-in and first run ---------------------------------------------------------------------------
def test_sign_in_wrong_password_then_success(qtbot, qapp, store_path):
    from widgets.login import LoginDialog

    install_fonts(qapp)
    dialog = LoginDialog(store_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.user.setCurrentIndex(dialog.user.findData("intake01"))
    assert dialog.user.currentIndex() >= 0
    dialog.password.setText("wrong")
    _ok(dialog)
    assert "密码错误" in dialog.error.text()
    assert dialog.isVisible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "login_wrong_password.png"))
    assert dialog.session is None
    dialog.password.setText("wanmi2026")
    _ok(dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.session.role == "intake"
    assert dialog.session.user_id == "intake01"


_CANCEL_SCRIPT = r"""
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton
app = QApplication([])
from widgets.console_app import build_demo_with_progress

def cancel():
    d = next((w for w in QApplication.topLevelWidgets()
              if isinstance(w, QProgressDialog) and w.objectName() == "first_run_progress"), None)
    if d is None or not d.isVisible():
        QTimer.singleShot(5, cancel)
        return
    button = d.findChild(QPushButton)
    assert button.text() == "取消"
    button.click()  # as the user does

QTimer.singleShot(0, cancel)
print("result", build_demo_with_progress(Path({path!r}), "xuzhou", scale="test", simulate=False))
"""


def test_first_run_cancel_leaves_no_store(tmp_path):
    # its own process: the cancelled build runs on a pool thread that a later build must not share
    import os
    import sys

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "cancelled.gpkg"
    out = subprocess.run([sys.executable, "-c", _CANCEL_SCRIPT.format(root=str(root), path=str(path))],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert "result False" in out.stdout, out.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []  # no store, no WAL, no half-built temporary file


def test_first_run_builds_behind_progress(qtbot, qapp, tmp_path):
    from widgets.console_app import build_demo_with_progress

    install_fonts(qapp)
    built = tmp_path / "first.gpkg"
    seen: list[int] = []

    def watch() -> None:  # what the user sees while waiting
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.objectName() == "first_run_progress" and w.isVisible():
                seen.append(w.value())

    timer = QTimer(interval=5)
    timer.timeout.connect(watch)
    timer.start()
    assert build_demo_with_progress(built, "xuzhou", scale="test", simulate=False) is True
    timer.stop()
    assert built.exists()
    assert seen
    assert max(seen) > 0  # progress was shown as it went


# -- search ------------------------------------------------------------------------------------------
def _search(qtbot, window, text: str) -> dict:
    with qtbot.waitSignal(window.canvas.identified, timeout=5000) as blocker:
        window.search_box.setText(text)
        window.search_box.returnPressed.emit()
    return blocker.args[0]


def _near_centre(window, lon: float, lat: float) -> bool:
    v = window.canvas.view
    return abs(v.cx - lon) < 1e-6 and abs(v.cy - lat) < 1e-6


@pytest.mark.parametrize("what", ["case", "grid15", "grid14", "part", "address", "initials"])
def test_search_box_zooms_and_identifies(qtbot, seat, what):
    w = seat("leader01", "leader")
    data = w.ctx.map_data
    if what == "case":
        cases = data.points("case")
        i = 3
        text, lon, lat = str(cases.codes[i]), float(cases.x[i]), float(cases.y[i])
    elif what in ("grid15", "grid14"):
        grids = data.polygons("unit_grid")
        code = next(c for c in grids.codes if c[12] == "0")
        g = grids.geoms[grids.codes.index(code)]
        text = code if what == "grid15" else code[:12] + code[13:]
        lon, lat = (g.bounds[0] + g.bounds[2]) / 2, (g.bounds[1] + g.bounds[3]) / 2
    elif what == "part":
        parts = data.points("part")
        i = len(parts.codes) // 2
        text, lon, lat = str(parts.codes[i]), float(parts.x[i]), float(parts.y[i])
    else:
        text = "文亭九巷11号" if what == "address" else "yanysq"
        lon = lat = None  # type: ignore[assignment]
    result = _search(qtbot, w, text)
    assert w.canvas.view.metres_per_pixel < 5  # zoomed in to street level
    if lon is not None:
        assert _near_centre(w, lon, lat)
    if what == "case":
        assert result["case"]["case_no"] == text
        assert w.desk.current_case == text  # and its detail is shown
    elif what.startswith("grid"):
        assert result["unit_grid"]["code"] == code
    elif what == "part":
        assert result["part"]["code"] == text
    else:
        assert result  # the grid (at least) under the place found
    assert w.identify.tree.topLevelItemCount() >= 1
    assert "未找到" not in w.statusBar().currentMessage()


def test_search_not_found_says_so(qtbot, seat):
    w = seat("leader01", "leader")
    w.search_box.setText("没有这个地方xyz")
    w.search_box.returnPressed.emit()
    qtbot.waitUntil(lambda: "未找到" in w.statusBar().currentMessage(), timeout=5000)  # searched on a worker


# -- bulk dispatch and approvals ---------------------------------------------------------------------
def test_bulk_dispatch_of_selected_cases(qtbot, seat):
    intake, lead = seat("intake01", "intake"), seat("shift01", "shift_lead")
    cases = _new_registered_cases(qtbot, intake, lead, 3)
    dispatcher = seat("dispatch01", "dispatcher")
    inbox = dispatcher.desk.inbox
    qtbot.waitUntil(lambda: inbox.queue_list.count() > 0, timeout=3000)  # queues are counted after first paint
    row = next(i for i in range(inbox.queue_list.count())
               if inbox.queue_list.item(i).data(256) == "to_dispatch")
    inbox.queue_list.setCurrentRow(row)
    qtbot.waitUntil(lambda: set(cases) <= set(inbox.model.ids()), timeout=3000)
    sel = inbox.table.selectionModel()
    from PySide6.QtCore import QItemSelectionModel

    for r in range(inbox.model.rowCount()):
        if inbox.model.row_at(r).case_no in cases:
            sel.select(inbox.model.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                       | QItemSelectionModel.SelectionFlag.Rows)
    assert sorted(inbox.selected_cases()) == sorted(cases)
    assert inbox.bulk.isVisible()
    before = inbox.counts()["to_dispatch"]
    with qtbot.waitSignal(dispatcher.desk.operationDone, timeout=10_000) as blocker:
        inbox.bulk.click()
        dialog = dispatcher.desk.active_dialog
        assert "3 件" in dialog.windowTitle() or all(c in dialog.windowTitle() for c in cases)
        dialog.phrases.setCurrentIndex(1)
        dialog.phrases.activated.emit(1)
        assert dialog.comment.text()
        assert "★" in dialog.list.item(0).text()  # a department suggested for all of them comes first
        assert "3 件均推荐" in dialog.list.item(0).text()
        dept = dialog.department()
        SHOTS.mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(SHOTS / "bulk_dispatch.png"))
        _ok(dialog)
    assert set(blocker.args[0].cases) == set(cases)
    for no in cases:
        d = dispatcher.desk.desk.detail(no)
        assert d.state.status == "dispatched"
        assert d.state.department == dept
    qtbot.waitUntil(lambda: inbox.counts()["to_dispatch"] == before - 3, timeout=3000)


APPROVALS = [
    # request action, its role, decide action, deciding role, expected status after approval
    ("request_return", "department", "decide_return", "dispatcher", "registered"),
    ("request_extension", "department", "decide_extension", "dispatcher", "dispatched"),
    ("request_suspend", "department", "decide_suspend", "dispatcher", "suspended"),
    ("request_void", "dispatcher", "decide_void", "shift_lead", "void"),
]


@pytest.mark.parametrize(("request_action", "requester", "decide_action", "decider", "after"), APPROVALS)
def test_approval_dialogs_with_canned_phrases(qtbot, seat, request_action, requester, decide_action, decider, after):
    intake, lead = seat("intake01", "intake"), seat("shift01", "shift_lead")
    dispatcher = seat("dispatch01", "dispatcher")
    (case_no,) = _new_registered_cases(qtbot, intake, lead, 1)
    dept = dispatcher.desk.desk.dispatch_candidates(case_no)[0].department
    _run(qtbot, dispatcher, dispatcher.desk.desk.op("dispatch_case", case_no, department=dept))
    seats = {"dispatcher": dispatcher, "shift_lead": lead}
    if requester == "department" or decider == "department":
        seats["department"] = seat(f"dept_{dept.lower()}", "department", (dept,))

    def act(window, action: str, fill) -> None:
        desk = window.desk
        desk.show_case(case_no)
        assert action in desk.detail.buttons, f"{action} not offered to {window.ctx.session.role}"
        with qtbot.waitSignal(desk.operationDone, timeout=10_000):
            desk.detail.buttons[action].click()
            dialog = desk.active_dialog
            assert dialog.isVisible()
            fill(dialog)
            _ok(dialog)

    def request(dialog) -> None:
        # an empty reason is refused with a message; a canned phrase fills it
        _ok(dialog)
        assert "请填写理由" in dialog.error.text()  # a request asks for its reason
        assert dialog.phrases.count() > 1
        dialog.phrases.setCurrentIndex(1)
        dialog.phrases.activated.emit(1)
        assert dialog.text.toPlainText() == dialog.phrases.itemText(1)

    act(seats[requester], request_action, request)
    shot = {"request_extension": "approval_request_extension.png"}.get(request_action)
    state = dispatcher.desk.desk.detail(case_no).state
    assert state.pending_request or state.status == "return_requested"
    # the decider sees it in the approval queue
    queue = {"decide_return": "return_requests", "decide_extension": "extension_requests",
             "decide_suspend": "suspend_requests", "decide_void": "void_requests"}[decide_action]
    decider_seat = seats[decider]
    assert queue in decider_seat.desk.inbox.counts()
    # it arrives in the decider's queue by polling the shared store (another seat wrote it)
    qtbot.waitUntil(lambda: decider_seat.desk.inbox.counts()[queue] >= 1, timeout=3000)

    def decide(dialog) -> None:
        assert dialog.decision_group.checkedId() == 0  # 同意
        dialog.phrases.setCurrentIndex(1)
        dialog.phrases.activated.emit(1)
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            dialog.grab().save(str(SHOTS / shot.replace("request", "decide")))

    act(decider_seat, decide_action, decide)
    state = dispatcher.desk.desk.detail(case_no).state
    assert state.status == after
    assert not state.pending_request


# -- case sheet --------------------------------------------------------------------------------------
def test_printable_case_sheet_pdf(qtbot, seat, tmp_path):
    w = seat("leader01", "leader")
    case_no = w.desk.desk.queue_case_nos("open_cases", limit=1)[0]
    out = tmp_path / f"{case_no}.pdf"
    w.desk.write_case_sheet(case_no, str(out), wait=True)
    assert out.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-singlefile", str(out), str(tmp_path / "sheet")], check=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "sheet.png", SHOTS / "case_sheet.png")
    from PySide6.QtGui import QImage

    img = QImage(str(tmp_path / "sheet.png"))
    assert img.width() > 300
    arr = np.frombuffer(img.convertToFormat(QImage.Format.Format_Grayscale8).constBits(), dtype=np.uint8)
    assert (arr < 128).sum() > 2000  # text, map and timeline are drawn


# -- two seats ---------------------------------------------------------------------------------------
def test_two_seats_see_each_other_and_conflicts_are_refused(qtbot, seat):
    a = seat("intake01", "intake")
    b = seat("intake02", "intake")
    pt = a.ctx.map_data.polygons("unit_grid").geoms[11].representative_point()
    before_b = b.desk.inbox.counts()["to_accept"]
    ch = _run(qtbot, a, a.desk.desk.op("file_case", source="public", kind="event", class_code="0104", lon=pt.x,
                                       lat=pt.y, description="另一坐席上报"))
    case_no = ch.case_no
    # seat B sees seat A's new case within two seconds (it polls the shared store)
    qtbot.waitUntil(lambda: b.desk.inbox.counts()["to_accept"] == before_b + 1, timeout=2000)
    b.desk.show_case(case_no)
    seen_by_b = b.desk.detail.detail.state.last_seq
    # A accepts; B, acting on what it saw, is refused with a clear message, and its view is refreshed
    a.desk.show_case(case_no)
    _run(qtbot, a, a.desk.desk.op("accept_case", case_no, expected_seq=seen_by_b))
    with qtbot.waitSignal(b.desk.operationFailed, timeout=10_000) as blocker:
        b.desk.perform("accept", case_no, seen_by_b, {})
    message = blocker.args[0]
    assert case_no in message
    assert "已被他人更新" in message  # in plain words: another seat changed it, refresh and retry
    qtbot.waitUntil(lambda: b.desk.detail.detail.state.status == "accepted", timeout=2000)
    assert b.desk.desk.detail(case_no).state.status == "accepted"
    # the map of seat B shows the change too
    qtbot.waitUntil(lambda: case_no in set(b.ctx.map_data.points("case").codes.tolist()), timeout=2000)


def _pixels(img) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), -1)
    return arr[:, : img.width() * 4].reshape(img.height(), img.width(), 4)[..., :3].copy()


# -- heat and beat layers -----------------------------------------------------------------------------
def test_heat_and_beat_layers_render(qtbot, seat):
    from widgets.map.render import render_layer

    w = seat("leader01", "leader")
    canvas = w.canvas
    canvas.refresh()
    # big layers arrive from worker threads after the first paint: compare only fully loaded maps
    qtbot.waitUntil(lambda: not canvas.loading and w.ctx.map_data.is_loaded("case"), timeout=20_000)
    canvas.refresh()
    plain = _pixels(canvas.grab().toImage())
    for name in ("heat", "beat"):
        canvas.layers.set_visible(name, True)
    canvas.refresh()
    qtbot.waitUntil(lambda: not canvas.loading, timeout=20_000)
    canvas.refresh()
    shown = _pixels(canvas.grab().toImage())
    changed = (np.abs(shown.astype(int) - plain.astype(int)).sum(axis=2) > 40).mean()
    assert changed > 0.05  # the heat is seen on the map, not hidden under the district fill
    styles = {s.name: s for s in canvas.layers.layers}
    for name in ("heat", "beat"):
        assert styles[name].shown_at(canvas.view.metres_per_pixel)
        img = render_layer(w.ctx.map_data, styles[name], canvas.view)
        ptr = img.constBits()
        arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
        alpha = arr.reshape(-1, 4)[:, 3]
        assert (alpha > 0).sum() > 1000, f"{name} layer drew nothing"
    assert w.ctx.map_data.polygons("beat").codes  # one beat per inspector
    SHOTS.mkdir(parents=True, exist_ok=True)
    canvas.grab().save(str(SHOTS / "heat_and_beats.png"))


def test_inbox_queues_show_counts_and_traffic_lights(qtbot, seat):
    from app.timefmt import fmt, now
    from db import cases as db_cases

    w = seat("leader01", "leader")
    inbox = w.desk.inbox
    qtbot.waitUntil(lambda: inbox.queue_list.count() > 0, timeout=3000)  # counted after first paint
    item = inbox.queue_list.item(0)
    ids = w.desk.desk.queue_case_nos(item.data(256), limit=100_000)
    t = fmt(now())
    late = sum(1 for no in ids if (s := db_cases.get_case(w.desk.desk._conn, no)).stage_deadline
               and s.stage_deadline < (s.suspended_at or t))
    assert item.data(256 + 1) == len(ids)
    assert item.data(256 + 2) == late
    assert late > 0  # the demo season leaves some cases overdue
    assert f"超期 {late}" in item.text()
    assert not item.icon().isNull()


def test_select_by_rectangle_lists_the_cases(qtbot, seat):
    from PySide6.QtCore import QPoint, Qt

    w = seat("dispatch01", "dispatcher")
    canvas = w.canvas
    canvas.zoom_to_extent()
    w.actions_by_id["tool_select_rect"].trigger()
    assert canvas.tool == "select_rect"
    x0, y0, x1, y1 = canvas.width() // 3, canvas.height() // 3, 2 * canvas.width() // 3, 2 * canvas.height() // 3
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x0, y0))
    qtbot.mouseMove(canvas, QPoint((x0 + x1) // 2, (y0 + y1) // 2))
    qtbot.mouseMove(canvas, QPoint(x1, y1))
    with qtbot.waitSignal(canvas.selectionChanged) as blocker:
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x1, y1))
    layer, codes = blocker.args
    assert layer == "case"
    assert codes
    lon0, lat1 = canvas.view.to_world(x0, y0)
    lon1, lat0 = canvas.view.to_world(x1, y1)
    cases = w.ctx.map_data.points("case")
    inside = (cases.x >= lon0) & (cases.x <= lon1) & (cases.y >= lat0) & (cases.y <= lat1)
    assert sorted(codes) == sorted(str(c) for c in cases.codes[inside])
    assert sorted(w.desk.inbox.model.ids()) == sorted(codes)
    assert "框选案件" in w.desk.inbox.title.text()


def test_scale_bar_has_a_round_length_that_matches_the_scale(qtbot, seat):
    w = seat("leader01", "leader")
    for mpp in (0.8, 3.0, 40.0):
        w.canvas.view.center_on(w.canvas.view.cx, w.canvas.view.cy, scale=mpp / 111_320)
        metres, label, px = w.canvas.scale_bar()
        assert 45 <= px <= 120
        assert label == (f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米")
        assert metres / px == pytest.approx(w.canvas.view.metres_per_pixel)
        assert str(int(metres))[0] in "125"
        assert set(str(int(metres))[1:]) <= {"0"}  # 1, 2 or 5 times a power of ten


_OTHER_SEAT = r"""
import sys
sys.path.insert(0, {root!r})
from app import operations
from app.store_access import open_store
from app.workflow.engine import Actor, WorkflowEngine
store = open_store({store!r})
engine = WorkflowEngine(store)
changes = operations.file_case(engine, Actor("intake02", "intake"), source="hotline_12345", kind="event",
                               class_code="0104", lon={lon!r}, lat={lat!r}, description="另一席位上报")
print(changes.case_no)
store.close()
"""


def test_a_write_from_another_process_shows_within_two_seconds(qtbot, seat, store_path):
    """Two consoles are two processes on one store: a case filed by another process appears in this
    seat's inbox (and on its map) within the two-second promise."""
    import sys
    import time

    w = seat("intake01", "intake")
    before = w.desk.inbox.counts()["to_accept"]
    pt = w.ctx.map_data.polygons("unit_grid").geoms[7].representative_point()
    code = _OTHER_SEAT.format(root=str(Path(__file__).resolve().parents[2]), store=store_path, lon=pt.x, lat=pt.y)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    case_no = out.stdout.strip().splitlines()[-1]
    written = time.monotonic()
    qtbot.waitUntil(lambda: w.desk.inbox.counts()["to_accept"] == before + 1, timeout=2000)
    assert time.monotonic() - written < 2.0
    qtbot.waitUntil(lambda: w.ctx.map_data.locate("case", case_no) is not None, timeout=2000)
