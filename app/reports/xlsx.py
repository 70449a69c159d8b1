"""The bulletin as an Excel workbook (openpyxl): one formatted sheet per table, frozen headers, filters.

Clerks re-sort and filter these sheets and paste them into their own documents, so every sheet is a plain
table under a one-line title: bold shaded header row, frozen below the header, auto-filter, widths that fit
Chinese text, points with two decimals and rates as percentages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.reports import Bulletin, fmt_value

HEADER_FILL = "DCE6F1"
STYLED_ROWS = 3000
TITLE_ROW, HEADER_ROW = 1, 3  # title, a blank line, then the header; data from row 4


def _width(value: Any) -> int:
    text = str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet(wb: Any, title: str, heading: str, header: list[str], rows: list[list[Any]],
           formats: dict[int, str] | None = None, max_width: int = 60) -> Any:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.cell(row=TITLE_ROW, column=1, value=heading).font = Font(bold=True, size=14)
    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, text in enumerate(header, start=1):
        c = ws.cell(row=HEADER_ROW, column=col, value=text)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor=HEADER_FILL)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = border
    styled = len(rows) <= STYLED_ROWS  # per-cell styles cost ~50 µs each; long lists stay plain
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for col, value in enumerate(row, start=1):
            c = ws.cell(row=r, column=col, value=value)
            if formats and col in formats and isinstance(value, (int, float)):
                c.number_format = formats[col]
            if styled:
                c.border = border
                c.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str) and _width(value) > max_width)
    for col, text in enumerate(header, start=1):
        widest = max([_width(text), *(_width(row[col - 1]) for row in rows[:STYLED_ROWS])]) if rows else _width(text)
        ws.column_dimensions[get_column_letter(col)].width = min(max_width, max(8, widest + 2))
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    if rows:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(header))}{HEADER_ROW + len(rows)}"
    ws.sheet_view.zoomScale = 100
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    return ws


def write_xlsx(b: Bulletin, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    wb.remove(wb.active)
    head = f"{b.title}（{b.subtitle}，方案 {b.scheme_id} 版本 {b.scheme_version}）"
    cats = b.category_names
    used = [c for c in cats if any(c[0] in r.categories for r in b.ranking)]
    # several kinds of unit (区, 街道, 部门 …) are each ranked on their own: a 类别 column in front says which
    kinds = len({r.kind for r in b.ranking}) > 1
    header = [*(["类别"] if kinds else []), "排名", "编码", "名称", *[name for _, name in used], "总分", "扣分合计",
              "等级", "备注"]
    rows = [[*([r.kind_label] if kinds else []), r.rank, r.code, r.name,
             *[round(r.categories.get(cid, 0.0), 2) for cid, _ in used], round(r.total, 2),
             round(r.lost, 2), r.grade, "；".join(r.notes)] for r in b.ranking]
    n = len(used)
    k = 1 if kinds else 0
    ws = _sheet(wb, "排名", f"{head} — 考核排名", header, rows,
                {**{4 + k + i: "0.00" for i in range(n)}, 4 + k + n: "0.00", 5 + k + n: "0.00"})
    for i, r in enumerate(b.ranking):
        if r.grade_color:
            color = r.grade_color.lstrip("#").upper()
            cell = ws.cell(row=HEADER_ROW + 1 + i, column=len(header) - 1)
            cell.fill = PatternFill("solid", fgColor=color)
            cell.font = Font(bold=True, color="FFFFFF")
    _sheet(wb, "项目得分", f"{head} — 各单位项目得分",
           ["编码", "名称", "项目编号", "考核项目", "满分", "得分", "扣分", "评分规则", "案件数", "人工项"],
           [[it.unit_code, it.unit_name, it.item_id, it.item_name, it.full, round(it.points, 2), round(it.lost, 2),
             it.rule, len(it.cases), ("未录入" if it.missing else "是") if it.manual else ""] for it in b.items],
           {5: "0.00", 6: "0.00", 7: "0.00"})
    _sheet(wb, "扣分案件", f"{head} — 扣分案件明细",
           ["编码", "名称", "考核项目", "扣分", "案件编号"],
           [[it.unit_code, it.unit_name, it.item_name, round(it.lost, 2), case]
            for it in b.deductions for case in it.cases],
           {4: "0.00"})
    ind_header = ["编码", "名称", *[_label(n) for n in b.indicator_names]]
    ind_rows = []
    pct_cols = {}
    for r in b.ranking:
        vals = b.indicators.get(r.code, {})
        row: list[Any] = [r.code, r.name]
        for i, name in enumerate(b.indicator_names):
            v = vals.get(name)
            text = fmt_value(name, v)
            if v is None:
                row.append("不适用")
            elif text.endswith("%"):
                row.append(v)
                pct_cols[3 + i] = "0.00%"
            else:
                row.append(v)
        ind_rows.append(row)
    _sheet(wb, "考核指标", f"{head} — 考核指标", ind_header, ind_rows, pct_cols)
    summary = [[name, "不适用" if raw is None else raw] for name, _text, raw in b.summary]
    sws = _sheet(wb, "总体情况", f"{head} — 总体情况", ["指标", "数值"], summary)
    for i, (_name, text, raw) in enumerate(b.summary):
        if raw is not None:
            sws.cell(row=HEADER_ROW + 1 + i, column=2).number_format = "0.00%" if text.endswith("%") else "0"
    _sheet(wb, "高发问题", f"{head} — 高发问题类别", ["问题类别", "案件数"], [[n, c] for n, c in b.top_classes])
    published = f"（{'、'.join(b.trend_published)} 为已发布结果）" if b.trend_published else ""
    _sheet(wb, "趋势", f"{head} — 近期得分趋势{published}", ["名称", *b.trend_periods],
           [[name, *[None if v is None else round(v, 2) for v in vals]] for name, vals in b.trend.items()],
           {i: "0.00" for i in range(2, 2 + len(b.trend_periods))})
    _sheet(wb, "待录入人工项", f"{head} — 尚缺人工考评项", ["编码", "名称", "考核项目"], [list(m) for m in b.missing])
    wb.save(path)


def _label(name: str) -> str:
    from app.evaluation.indicators import label

    return label(name)
