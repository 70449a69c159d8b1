"""Attribute tables: qtmodeltester on every table model, filter, sort, export exactly the filtered rows."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from app.attribute_tables import AttributeTable
from app.desk import DeskService
from app.session import Session
from widgets.desk.case_model import CaseTableModel
from widgets.desk.tables import AttributeModel, AttributeTableView


@pytest.mark.parametrize("table", ["case_state", "unit_grid", "part"])
def test_attribute_models_pass_modeltester(qtmodeltester, demo_store_path, table):
    model = AttributeModel(AttributeTable(demo_store_path, table))
    model.reload()
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_case_model_passes_modeltester(qtmodeltester, demo_store_path):
    desk = DeskService(str(demo_store_path), Session("leader01", "x", "leader"))
    model = CaseTableModel(desk.rows)
    model.set_ids(desk.queue_case_nos("open_cases", limit=500))
    qtmodeltester.check(model)
    desk.close()


def test_filter_sort_and_export_exact_rows(qtbot, demo_store_path, tmp_path):
    view = AttributeTableView(str(demo_store_path), "part")
    qtbot.addWidget(view)
    total = view.model.total()
    view.column.setCurrentIndex(view.table.columns.index("status"))
    view.text.setText("破损")
    view.apply_filter()
    damaged = view.model.total()
    assert 0 < damaged < total
    view.model.sort(view.table.columns.index("code"))
    codes = [view.model.key_of(r) for r in range(view.model.rowCount())]
    assert codes == sorted(codes)
    n = view.export(str(tmp_path / "parts.csv"))
    assert n == damaged
    with (tmp_path / "parts.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "编码"
    assert len(rows) == damaged + 1
    assert all(r[view.table.columns.index("status")] == "破损" for r in rows[1:])
    view.export(str(tmp_path / "parts.xlsx"))
    ws = load_workbook(tmp_path / "parts.xlsx").active
    assert ws.max_row == damaged + 1
    assert ws.freeze_panes == "A2"


def test_case_export_holds_what_the_table_shows(qtbot, demo_store_path, tmp_path):
    # users' top complaint about comparable systems: exports that differ from the screen
    from app.desk import DeskService
    from app.session import Session
    from widgets.desk.tables import desk_names

    desk = DeskService(str(demo_store_path), Session("lead1", "值班长", "shift_lead"))
    view = AttributeTableView(str(demo_store_path), "case_state", names=lambda: desk_names(desk))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=20_000)
    n = view.export(str(tmp_path / "cases.csv"))
    with (tmp_path / "cases.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert len(rows) == n + 1
    cols = view.table.columns
    shown = [[view.model.index(r, c).data() or "" for c in range(len(cols))] for r in range(view.model.rowCount())]
    assert rows[1:len(shown) + 1] == shown
    status = [r[cols.index("status")] for r in rows[1:]]
    assert "dispatched" not in status
    assert "处置中" in status
    desk.close()


def test_export_rejects_unknown_format(demo_store_path, tmp_path):
    table = AttributeTable(demo_store_path, "unit_grid")
    with pytest.raises(ValueError, match=r"parts\.doc"):
        table.export(tmp_path / "parts.doc")


def test_export_runs_in_background(qtbot, demo_store_path, tmp_path):
    view = AttributeTableView(str(demo_store_path), "unit_grid")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.exported, timeout=20_000) as blocker:
        view.export_in_background(str(tmp_path / "grids.csv"))
    path, n = blocker.args
    assert n == view.model.total() > 0
    with open(path, encoding="utf-8-sig") as f:
        assert sum(1 for _ in f) == n + 1
