"""Defects found by looking at the console as its users would (1920×1080 screenshots per role), each
pinned by a test that fails without its fix: English field names and codes, ISO times, mixed-level
rankings, text cut off or pushed past the dock's edge, labels that do not say what to type."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QFormLayout, QLabel

from app.desk import DeskService
from app.session import Session
from app.workflow.transitions import SOURCE_LABELS, STATE_LABELS
from widgets.fonts import install_fonts

ENGLISH = re.compile(r"[A-Za-z_]{2,}")
SHOWN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


@pytest.fixture
def desk(demo_store_path, qapp):
    install_fonts(qapp)
    service = DeskService(str(demo_store_path), Session("leader01", "李强鹏", "leader"))
    yield service
    service.close()


def _open_case(desk: DeskService, status: str | None = None) -> str:
    nos = desk.queue_case_nos("open_cases", limit=500)
    if status is None:
        return nos[0]
    return next(no for no in nos if desk.detail(no).state.status == status)  # type: ignore[union-attr]


# -- identify panel ------------------------------------------------------------------------------------
def test_identify_lists_a_case_with_chinese_fields_and_times(qtbot, demo_store_path, desk):
    from app.map_data import MapData
    from widgets.identify_panel import IdentifyPanel

    data = MapData(str(demo_store_path))
    case_no = _open_case(desk, "dispatched")
    lon, lat, _x, _y = data.locate("case", case_no)
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.show_result(data.describe(data.identify(lon, lat, 1e-6)))
    case = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).text(1) == case_no)
    rows = {case.child(j).text(0): case.child(j).text(1) for j in range(case.childCount())}
    assert not [title for title in rows if ENGLISH.search(title)]  # no part_code, stage, dispatched_at …
    assert SHOWN_TIME.match(rows["派遣时间"])
    assert SHOWN_TIME.match(rows["上报时间"])
    assert rows["紧急程度"] in ("一般", "紧急")
    assert rows["当前环节"] == "处置"
    data.close()


# -- attribute tables ----------------------------------------------------------------------------------
def test_case_table_shows_words_names_and_times_and_filters_on_them(qtbot, demo_store_path, desk):
    from widgets.desk.tables import AttributeTableView, desk_names

    view = AttributeTableView(str(demo_store_path), "case_state", names=lambda: desk_names(desk))
    qtbot.addWidget(view)
    model, cols = view.model, view.table.columns

    def column(name: str) -> list[str]:
        return [model.index(r, cols.index(name)).data() for r in range(model.rowCount())]

    assert set(column("status")) <= set(STATE_LABELS.values())
    assert set(column("source")) <= set(SOURCE_LABELS.values())
    assert set(column("kind")) <= {"事件", "部件"}
    assert all(SHOWN_TIME.match(t) for t in column("reported_at"))
    departments = {d for d in column("department") if d}
    assert departments
    assert departments <= set(desk.department_names.values())
    assert all(re.match(r"^\d{4} \S", c) for c in column("class_code"))  # 0102 暴露垃圾
    # typing what the table shows filters the stored code
    view.column.setCurrentIndex(cols.index("status"))
    view.text.setText("dispatched")
    view.apply_filter()
    dispatched = model.total()
    view.text.setText("处置中")
    view.apply_filter()
    assert model.total() == dispatched > 0
    assert set(column("status")) == {"处置中"}
    view.text.setText("结案")  # 待结案 or 已结案: asks for the full word instead of showing nothing silently
    view.apply_filter()
    assert "待结案" in view.count.text()
    assert "已结案" in view.count.text()


def test_grid_table_names_the_inspector(qtbot, demo_store_path, desk):
    from widgets.desk.tables import AttributeTableView, desk_names

    view = AttributeTableView(str(demo_store_path), "unit_grid", names=lambda: desk_names(desk))
    qtbot.addWidget(view)
    col = view.table.columns.index("inspector_id")
    every = view.model.total()
    shown = view.model.index(0, col).data()
    assert re.match(r"^\S+（insp\d+）$", shown)
    view.column.setCurrentIndex(col)
    view.text.setText(shown.split("（")[0])  # the inspector's name finds the beat
    view.apply_filter()
    assert 0 < view.model.total() < every
    assert {view.model.index(r, col).data() for r in range(view.model.rowCount())} == {shown}


# -- evaluation ----------------------------------------------------------------------------------------
def test_evaluation_ranks_one_kind_of_unit_at_a_time(qtbot, demo_store_path, qapp):
    from app import evaluation_service as svc
    from widgets.desk.evaluation_view import EvaluationView

    install_fonts(qapp)
    result = svc.run_evaluation(str(demo_store_path), "standard", svc.default_period())
    kinds = {u.kind for u in result.units}
    assert {"district", "grid"} <= kinds  # the standard scheme scores areas of every level and posts
    view = EvaluationView(str(demo_store_path))
    qtbot.addWidget(view)
    view.show_result(result)
    assert view.unit_kind.count() == len(kinds)
    assert view.unit_kind.currentData() == "district"  # the largest areas first

    def shown() -> list[tuple[str, str]]:
        return [(view.ranking.item(r, 0).text(), view.ranking.item(r, 1).text()) for r in range(view.ranking.rowCount())]

    districts = [u for u in result.units if u.kind == "district"]
    assert view.ranking.rowCount() == len(districts)
    assert [rank for rank, _name in shown()] == [str(i + 1) for i in range(len(districts))]
    assert "区" in view.status.text()
    view.unit_kind.setCurrentIndex(view.unit_kind.findData("grid"))
    grids = [u for u in result.units if u.kind == "grid"]
    assert view.ranking.rowCount() == len(grids)
    assert {name for _rank, name in shown()} == {u.name for u in grids}
    assert view.ranking.horizontalScrollBar().maximum() == 0 or not view.isVisible()


# -- case detail ---------------------------------------------------------------------------------------
@pytest.fixture
def detail_widget(qtbot, qapp):
    from widgets.desk.case_detail import CaseDetailWidget

    install_fonts(qapp)
    w = CaseDetailWidget()
    qtbot.addWidget(w)
    w.resize(560, 620)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_case_detail_never_grows_past_its_dock(qtbot, desk, detail_widget):
    detail = desk.detail(_open_case(desk, "dispatched"))
    assert detail is not None
    late = replace(detail, row=replace(detail.row, light="severe", deadline="2026-09-09 15:21"),
                   remaining="已超期 437.1 工作时")
    detail_widget.show_detail(late)
    qtbot.waitUntil(lambda: detail_widget.buttons["print"].isVisible())
    scroll = detail_widget.layout().itemAt(0).widget()
    inner = scroll.widget()
    assert inner.minimumSizeHint().width() <= scroll.viewport().width()
    right = detail_widget.buttons["print"].mapTo(scroll.viewport(), detail_widget.buttons["print"].rect().topRight())
    assert right.x() <= scroll.viewport().width()  # 打印案卷 is not cut off at the edge


def test_timeline_wraps_long_actor_names_and_notes(qtbot, desk, detail_widget):
    detail = desk.detail(_open_case(desk, "dispatched"))
    assert detail is not None
    long_actor = "徐州市环境卫生管理处经办人"
    events = [{"seq": "1", "at": "2026-11-18 16:09", "action": "申请延期", "actor": long_actor, "actor_id": "dept_hwc",
               "role": "专业部门", "note": "理由: 需协调多个部门共同处置，涉及供水、燃气与市政三家单位；时长: 2；单位: 工作日"}]
    detail_widget.show_detail(replace(detail, events=events))
    tree = detail_widget.timeline
    item = tree.topLevelItem(0)
    fm = tree.fontMetrics()

    def lines(col: int) -> int:
        return math.ceil(fm.horizontalAdvance(item.text(col)) / max(1, tree.columnWidth(col) - 12))

    assert max(lines(2), lines(3)) > 1  # too long for one line at this width
    # the rows are laid out again once the columns have their widths: wrapped, not cut with "…"
    qtbot.waitUntil(lambda: tree.visualItemRect(item).height() >= max(lines(2), lines(3)) * fm.lineSpacing())
    for col in (2, 3):
        assert item.toolTip(col) == item.text(col)


def test_case_detail_header_says_what_the_operator_needs(desk, detail_widget):
    detail = desk.detail(_open_case(desk, "dispatched"))
    assert detail is not None
    s = detail.state
    suspended = replace(detail, state=replace(s, status="suspended", suspended_at="2026-11-09T11:27:01+08:00",
                                              description="井盖缺失<危险>", urgency="urgent"))
    detail_widget.show_detail(suspended)
    assert "计时暂停" in detail_widget.deadline.text()  # the deadline has passed but the clock is stopped
    header = detail_widget.header.text()
    assert "问题描述：井盖缺失&lt;危险&gt;" in header
    assert "紧急" in header
    closed = replace(detail, state=replace(s, status="closed", closed_at="2026-11-23T17:20:05+08:00",
                                           close_type="正常结案"))
    detail_widget.show_detail(closed)
    assert "结案：2026-11-23 17:20（正常结案）" in detail_widget.header.text()


# -- dialogs -------------------------------------------------------------------------------------------
def test_dispatch_reasons_wrap_under_the_name(qtbot, qapp):
    from app.dispatch import Candidate
    from widgets.desk.dialogs import DispatchDialog

    install_fonts(qapp)
    name = "徐州市环境卫生管理处"
    cand = Candidate("HWC", name, 103.0, (f"部件主管: {name}", f"部件权属: {name}", f"部件养护: {name}", "属地: 云龙区"))
    dialog = DispatchDialog(["2026H012228"], [cand], {"HWC": name, "SZC": "徐州市市政工程管理处"})
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.list.horizontalScrollBar().maximum() == 0  # nothing runs past the right edge
    text = dialog.list.item(0).text()
    assert text.startswith(f"★ {name}\n")
    assert "部件主管、部件权属、部件养护为本单位；属地: 云龙区" in text
    assert dialog.list.item(0).toolTip()
    assert dialog.department() == "HWC"


@pytest.mark.parametrize(("action", "text_label", "photo_label"), [
    ("handle", "处置情况", "处置照片"),
    ("check", "意见", "核查照片"),
    ("request_return", "理由", None),
    ("decide_extension", "审批意见", None),
])
def test_action_dialog_says_what_to_write(qtbot, qapp, action, text_label, photo_label):
    from widgets.desk.dialogs import ActionDialog

    install_fonts(qapp)
    dialog = ActionDialog(action, "2026J000001")
    qtbot.addWidget(dialog)
    form = dialog.findChild(QFormLayout)
    assert form.labelForField(dialog.text).text() == text_label
    labels = [form.itemAt(r, QFormLayout.ItemRole.LabelRole) for r in range(form.rowCount())]
    texts = [item.widget().text() for item in labels if item is not None and isinstance(item.widget(), QLabel)]
    assert [t for t in texts if "照片" in t] == ([photo_label] if photo_label else [])
    if dialog.form.text_required:
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        assert dialog.error.text() == f"请填写{text_label}"  # in Chinese only


# -- messages ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("message", "shown"), [
    ("密码错误 wrong password for user 'intake01'", "密码错误"),
    ("案件 2026J000001 当前状态为 已上报，不能结案 (case 2026J000001 is 'reported'; action 'close' is not allowed)",
     "案件 2026J000001 当前状态为 已上报，不能结案"),
    ("案件 2026J000001 不属于本席位的部门范围 (HWC)，用户 dept_szc 不能办理 (case outside the seat's data scope)",
     "案件 2026J000001 不属于本席位的部门范围 (HWC)，用户 dept_szc 不能办理"),
    ("请选择处置部门", "请选择处置部门"),
    ("原案件 2026J000001 不存在", "原案件 2026J000001 不存在"),
    ("file not found", "file not found"),
])
def test_user_text_drops_the_english_details(message, shown):
    from widgets.display import user_text

    assert user_text(message) == shown


def test_wrong_password_is_told_in_chinese(qtbot, qapp, demo_store_path):
    from widgets.login import LoginDialog

    install_fonts(qapp)
    dialog = LoginDialog(str(demo_store_path))
    qtbot.addWidget(dialog)
    dialog.user.setCurrentIndex(dialog.user.findData("intake01"))
    dialog.password.setText("wrong")
    dialog.try_sign_in()
    assert dialog.error.text() == "密码错误"


def test_refusal_box_is_chinese_with_details_behind_a_button(qtbot, seat):
    w = seat("shift01", "shift_lead")
    message = "案件 2026J000001 当前状态为 已上报，不能结案 (case 2026J000001 is 'reported'; action 'close' is not allowed)"
    w.desk._error(message)
    box = w.desk.active_dialog
    assert box.text() == "案件 2026J000001 当前状态为 已上报，不能结案"
    assert box.detailedText() == message
    assert w.desk.last_error == message  # the signal and the log keep the whole message
    box.close()


# -- inbox ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["evaluator", "admin"])
def test_a_role_without_queues_is_told_where_cases_are(qtbot, demo_store_path, qapp, role):
    from widgets.desk.inbox import InboxWidget

    install_fonts(qapp)
    service = DeskService(str(demo_store_path), Session("eval01", "夏琪晨", role))
    inbox = InboxWidget(service)
    qtbot.addWidget(inbox)
    inbox.ensure_loaded()
    assert inbox.queue_list.count() == 0
    assert "没有待办队列" in inbox.title.text()
    assert "属性表" in inbox.title.text()
    service.close()


def test_inbox_light_keeps_its_colour_in_the_selected_row(qtbot, desk):
    from PySide6.QtCore import Qt

    from widgets.desk.case_model import COLUMNS, LIGHT_COLORS, CaseTableModel

    model = CaseTableModel(desk.rows)
    model.set_ids(desk.queue_case_nos("open_cases", limit=50))
    col = [key for key, _title in COLUMNS].index("light")
    row = next(r for r in range(model.rowCount()) if model.row_at(r).light)
    light = model.row_at(row).light
    # a coloured "●" character turns white under the selection highlight; an icon keeps its colour
    icon = model.index(row, col).data(Qt.ItemDataRole.DecorationRole)
    assert icon is not None
    assert icon.pixmap(12, 12).toImage().pixelColor(6, 6).name() == LIGHT_COLORS[light]
    assert "●" not in model.index(row, col).data()
