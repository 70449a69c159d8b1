"""The bulletin (通报): its data, the Excel workbook opened with openpyxl, the PDF rendered to PNG."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports import ReportError, build_bulletin, write_report
from app.reports.pdf import case_list, text_width, wrap
from tests.app.evaluation.test_indicators import A, B

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_bulletin_data(october):
    b = build_bulletin(october, "standard", "2026-10", "district")
    assert b.title == "数字化城市管理2026年10月考核情况通报"
    assert [r.rank for r in b.ranking] == [1, 2, 3]
    assert {r.code for r in b.ranking} == {A, B, "320311"}
    # deductions carry their cases: A's on-time closure shortfall is C2 and C3
    a_items = [it for it in b.deductions if it.unit_code == A]
    assert any(set(it.cases) == {"C2", "C3"} for it in a_items), [(it.item_id, it.cases) for it in a_items]
    # the summary covers the whole city: reports in October are C1-C4 and C6-C8 (C5 in Sep, C9 in Nov)
    assert ("上报数", "7", 7.0) in b.summary
    assert b.trend_periods[-1] == "2026-10"
    assert len(b.trend_periods) <= 6
    assert all(len(v) == len(b.trend_periods) for v in b.trend.values())


def test_excel_has_frozen_headers_and_the_tables(october, tmp_path):
    from openpyxl import load_workbook

    out = write_report(october, "standard", "2026-10", tmp_path / "bulletin.xlsx", unit_kind="district")
    wb = load_workbook(out)
    assert wb.sheetnames[:3] == ["排名", "项目得分", "扣分案件"]
    rank = wb["排名"]
    assert "2026年10月" in rank["A1"].value
    assert rank.freeze_panes == "A4"
    header = [c.value for c in rank[3]]
    assert header[:3] == ["排名", "编码", "名称"]
    assert "总分" in header
    assert "等级" in header
    assert rank["A3"].font.bold
    assert [rank.cell(row=r, column=1).value for r in (4, 5, 6)] == [1, 2, 3]
    assert rank.auto_filter.ref.startswith("A3:")
    cases = wb["扣分案件"]
    assert cases.freeze_panes == "A4"
    rows = [[c.value for c in row] for row in cases.iter_rows(min_row=4)]
    assert any(r[0] == A and r[4] == "C3" for r in rows)
    items = wb["项目得分"]
    assert [c.value for c in items[3]][:6] == ["编码", "名称", "项目编号", "考核项目", "满分", "得分"]
    ind = wb["考核指标"]
    col = [c.value for c in ind[3]].index("结案率")
    r_a = next(r for r in range(4, ind.max_row + 1) if ind.cell(row=r, column=1).value == A)
    assert ind.cell(row=r_a, column=col + 1).value == pytest.approx(2 / 3)
    assert ind.cell(row=r_a, column=col + 1).number_format == "0.00%"
    r_empty = next(r for r in range(4, ind.max_row + 1) if ind.cell(row=r, column=1).value == "320311")
    assert ind.cell(row=r_empty, column=col + 1).value == "不适用"


def test_pdf_embeds_the_font_and_renders(october, tmp_path):
    out = write_report(october, "xuzhou_quanshan", "2026-10", tmp_path / "bulletin.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"NotoSansCJK" in data
    assert b"/FontFile" in data
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(prefix)], check=True, capture_output=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    from PIL import Image

    for p in pages:
        img = Image.open(p).convert("L")
        lo, hi = img.getextrema()
        assert hi - lo > 100, f"{p.name} looks blank"
    shutil.copy(pages[0], SCREENSHOTS / "evaluation_bulletin_p1.png")
    shutil.copy(pages[1], SCREENSHOTS / "evaluation_bulletin_p2.png")


def test_a_scheme_with_several_unit_kinds_ranks_each_kind_on_its_own(october, tmp_path):
    from openpyxl import load_workbook

    from app.evaluation.run import kind_order

    b = build_bulletin(october, "standard", "2026-10")  # the standard method scores 9 kinds of unit
    groups = b.ranking_by_kind()
    assert len(groups) > 1
    assert groups[0][0] == "区"
    kinds = [r.kind for r in b.ranking]
    assert kinds == sorted(kinds, key=kind_order)  # grouped, areas from large to small first
    for _label, rows in groups:
        ranks = [r.rank for r in rows if r.rank is not None]
        assert ranks == sorted(ranks)
        assert ranks[0] == 1  # every kind has its own first place
    wb = load_workbook(write_report(october, "standard", "2026-10", tmp_path / "all.xlsx"))
    rank = wb["排名"]
    assert [c.value for c in rank[3]][:4] == ["类别", "排名", "编码", "名称"]
    assert rank.cell(row=4, column=1).value == "区"
    pdf = write_report(october, "standard", "2026-10", tmp_path / "all.pdf")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "分类排名：区3个" in text.replace("\n", "")


def test_unknown_format_is_refused(october, tmp_path):
    with pytest.raises(ReportError, match="--out="):
        write_report(october, "standard", "2026-10", tmp_path / "x.docx")


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from("考核通报结案率ABC123、（）% "), max_size=120),
       st.floats(0.5, 6.0), st.sampled_from([8.0, 9.5, 12.0]))
def test_wrapped_lines_fit_their_cell(text, width, size):
    lines = wrap(text, width, size)
    assert "".join(lines) == text
    for line in lines:
        assert len(line) == 1 or text_width(line, size) <= width + 1e-9


def test_long_case_lists_are_shortened_for_print():
    cases = [f"C{i}" for i in range(100)]
    text = case_list(cases, 24)
    assert text.startswith("C0、C1")
    assert "等共100件" in text
    assert "C24" not in text
    assert case_list(cases[:3]) == "C0、C1、C2"


def test_trend_shows_published_months_as_published(october, tmp_path):
    """September's published totals stay in October's trend even when September, scored again, would differ
    (a case dated in September was recorded after it was published)."""
    from openpyxl import load_workbook

    from app.evaluation import run as ev
    from tests.app.evaluation.history import History, at

    ev.publish(october, "standard", "2026-09", "district", by="eval1", at=at("10-02"))
    published = {u.name: u.total for u in ev.evaluate(october, "standard", "2026-09", "district").units}
    h = History(october)
    h.prev = october.conn.execute("SELECT hash FROM case_event ORDER BY seq DESC LIMIT 1").fetchone()[0]
    (h.case("S1", A, reported=at("09-20")).accept(at("09-20", "09:10")).register(at("09-20", "09:20"))
     .dispatch(at("09-20", "09:30"), "D1", deadline=at("09-22")))  # 超期未结 at the end of September
    fresh = {u.name: u.total for u in ev.evaluate(october, "standard", "2026-09", "district").units}
    assert fresh != published
    b = build_bulletin(october, "standard", "2026-10", "district")
    assert b.trend_published == ["2026-09"]
    i = b.trend_periods.index("2026-09")
    assert {name: vals[i] for name, vals in b.trend.items() if vals[i] is not None} == published
    out = tmp_path / "b.xlsx"
    write_report(october, "standard", "2026-10", out, unit_kind="district")
    assert "2026-09 为已发布结果" in load_workbook(out)["趋势"]["A1"].value
