"""Attribute tables for cases, unit grids and parts: filter, sort, fetch pages, export exactly the
filtered rows to CSV or Excel. Qt-free; the table widget holds the fid list and asks for pages."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from db import attribute_queries as q
from db.store import connect

TABLE_TITLES = {"case_state": "案件", "unit_grid": "单元网格", "part": "城市部件"}
COLUMN_TITLES = {
    "case_no": "案件编号", "status": "状态", "source": "来源", "kind": "类型", "class_code": "小类编码",
    "district_code": "区编码", "street_code": "街道编码", "grid_code": "网格编码", "department": "处置部门",
    "address": "地址", "reported_at": "上报时间", "stage_deadline": "环节时限", "closed_at": "结案时间",
    "close_type": "结案类型", "escalation_level": "督办级别", "rework_count": "返工次数", "dispatch_count": "派遣次数",
    "code": "编码", "community_code": "社区编码", "area_m2": "面积(平方米)", "area_class": "区域类别",
    "road_class": "路段类别", "key_area": "重点区域", "inspector_id": "责任监督员", "name": "名称",
    "owner_dept": "主管部门", "custodian_dept": "权属单位", "maintainer_dept": "养护单位", "since": "初始日期",
    "changed": "变更日期", "data_source": "数据来源",
}


class AttributeTable:
    def __init__(self, store_path: str | Path, table: str) -> None:
        if table not in q.TABLE_COLUMNS:
            raise ValueError(f"未知的表 table '{table}'")
        self.table = table
        self.columns = q.TABLE_COLUMNS[table]
        self.titles = [COLUMN_TITLES.get(c, c) for c in self.columns]
        self._conn = connect(store_path, readonly=True, check_same_thread=False)
        self.filters: list[tuple[str, str]] = []
        self.sort: str | None = None
        self.descending = False

    def close(self) -> None:
        self._conn.close()

    def fids(self) -> list[int]:
        return q.filtered_fids(self._conn, self.table, self.filters, self.sort, self.descending)

    def rows(self, fids: Sequence[int]) -> list[tuple[object, ...]]:
        return q.rows_by_fid(self._conn, self.table, fids)

    def export(self, path: str | Path, fids: Sequence[int] | None = None,
               shown: Callable[[str, object, tuple[Any, ...]], object] | None = None) -> int:
        """Write exactly the rows the filter shows (or the given fids) to .csv or .xlsx; returns the count.

        ``shown(column, value, row)`` is the text the screen shows for a cell (``row`` whole, fid first): a
        view passes its own formatting so the file holds what the user saw (处置中, department names,
        ``2026-11-08 14:21``), not the stored codes. Without it the stored values are written."""
        path = Path(path)
        ids = list(self.fids() if fids is None else fids)
        if shown is None:
            rows = [r[1:] for r in self.rows(ids)]
        else:
            rows = [tuple(shown(c, v, r) for c, v in zip(self.columns, r[1:])) for r in self.rows(ids)]
        if path.suffix.lower() == ".csv":
            with path.open("w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens Chinese CSV right
                w = csv.writer(f)
                w.writerow(self.titles)
                w.writerows(rows)
        elif path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook
            from openpyxl.styles import Font, PatternFill

            wb = Workbook()
            ws = wb.active
            ws.title = TABLE_TITLES[self.table]
            ws.append(self.titles)
            for cell in ws[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="26415F")
            for r in rows:
                ws.append(list(r))
            ws.freeze_panes = "A2"
            for i, title in enumerate(self.titles, start=1):
                ws.column_dimensions[ws.cell(1, i).column_letter].width = max(10, len(title) * 2 + 4)
            wb.save(path)
        else:
            raise ValueError(f"导出格式不支持 file '{path.name}' (use .csv or .xlsx)")
        return len(rows)
