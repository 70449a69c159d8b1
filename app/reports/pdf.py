"""The bulletin as a PDF: A4 pages drawn as matplotlib Figures (``PdfPages``), the bundled CJK font embedded.

A small flow layout (:class:`PageWriter`) places headings, paragraphs, ruled tables and charts down the
page and starts a new page when the next block does not fit, repeating a table's header row, so that no
table is cut off at the page edge and long rule texts wrap inside their cells. The charts reuse the shared
drawing functions of :mod:`app.charts` with the light report theme.

Writing is kept cheap in two ways that leave the pages as they were: single-line texts go through one
artist per page (:mod:`app.reports.pdf_lines`) instead of a ``Text`` each, and the fonts come from a cached
GB subset of Noto Sans CJK SC with the full font behind it (:mod:`app.font_subset`), which matplotlib
subsets far faster when it embeds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.reports import Bulletin, fmt_points, fmt_value

PAGE_W, PAGE_H = 8.27, 11.69  # A4 portrait, inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.7, 0.75, 0.75
BODY, SMALL, HEAD, TITLE = 9.5, 8.0, 12.0, 17.0
LINE = 1.45  # line height as a multiple of the font size
TEXT = "#1b2430"
RULE = "#9aa5b1"
HEADER_BG = "#e8eef6"


BREAK_AFTER = ("、", "，", ",", " ", "；", "）")


def _em(ch: str) -> float:
    """Advance of one character in ems (CJK full width, Latin about half)."""
    return 1.0 if ord(ch) > 0x2E80 else 0.56


def text_width(text: str, size: float) -> float:
    """Approximate width in inches of ``text`` at ``size`` points."""
    return sum(_em(ch) for ch in text) * size / 72


def wrap(text: str, width_in: float, size: float) -> list[str]:
    """Greedy wrap by character advance (Chinese has no spaces to break at); keeps explicit newlines."""
    out: list[str] = []
    limit = width_in * 72 / size
    for para in str(text).split("\n"):
        line, used = "", 0.0
        for ch in para:
            w = _em(ch)
            if used + w > limit and line:
                # prefer to break after a separator so a case number or a Latin word stays whole
                k = max(line.rfind(sep) for sep in BREAK_AFTER)
                rest = sum(_em(c) for c in line[k + 1:]) if k >= 0 else limit
                if 0 <= k < len(line) - 1 and len(line) - k - 1 <= 16 and rest + w <= limit:
                    out.append(line[:k + 1])
                    line = line[k + 1:]
                else:
                    out.append(line)
                    line = ""
                used = sum(_em(c) for c in line)
            line += ch
            used += w
        out.append(line)
    return out or [""]


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: float  # inches
    align: str = "left"  # left | center | right


class PageWriter:
    """Flows blocks down A4 pages; ``y`` is the distance in inches from the top of the current page."""

    def __init__(self, pdf: Any, running_title: str) -> None:
        self.pdf = pdf
        self.running_title = running_title
        self.page = 0
        self.fig: Any = None
        self.y = 0.0
        self._new_page()

    # -- pages -----------------------------------------------------------------------------------------
    def _new_page(self) -> None:
        from matplotlib.figure import Figure

        from app.reports.pdf_lines import TextLines

        if self.fig is not None:
            self.pdf.savefig(self.fig)
        self.page += 1
        self.fig = Figure(figsize=(PAGE_W, PAGE_H))
        self.lines = TextLines()
        self.fig.add_artist(self.lines)
        self.y = MARGIN_TOP
        if self.page > 1:
            self._text(MARGIN_X, MARGIN_TOP - 0.35, self.running_title, SMALL, color="#5b6675")
            self._hline(MARGIN_TOP - 0.25, color=RULE, lw=0.5)
        self._text(PAGE_W / 2, PAGE_H - MARGIN_BOTTOM + 0.35, f"第 {self.page} 页", SMALL, ha="center",
                   color="#5b6675")

    def finish(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    @property
    def width(self) -> float:
        return PAGE_W - 2 * MARGIN_X

    def ensure(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN_BOTTOM and self.y > MARGIN_TOP + 1e-6:
            self._new_page()

    # -- primitives (inches from the top-left) ---------------------------------------------------------
    def _text(self, x: float, y: float, s: str, size: float, *, ha: str = "left", bold: bool = False,
              color: str = TEXT) -> None:
        if not s:
            return
        if "$" in s or "\n" in s:  # mathtext or several lines: leave the layout to a real Text
            self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, ha=ha, va="baseline",
                          fontweight="bold" if bold else "normal", color=color)
            return
        self.lines.add(x / PAGE_W, 1 - y / PAGE_H, s, size, ha, bold, color)

    def _hline(self, y: float, x0: float = MARGIN_X, x1: float = PAGE_W - MARGIN_X, color: str = RULE,
               lw: float = 0.6) -> None:
        from matplotlib.lines import Line2D

        self.fig.add_artist(Line2D([x0 / PAGE_W, x1 / PAGE_W], [1 - y / PAGE_H] * 2, color=color, linewidth=lw))

    def _rect(self, x: float, y: float, w: float, h: float, face: str) -> None:
        from matplotlib.patches import Rectangle

        self.fig.add_artist(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                      facecolor=face, edgecolor="none", transform=self.fig.transFigure))

    # -- blocks ----------------------------------------------------------------------------------------
    def space(self, inches: float) -> None:
        self.y += inches

    def title(self, text: str, subtitle: str = "") -> None:
        for line in wrap(text, self.width, TITLE):
            self.y += TITLE * LINE / 72
            self._text(PAGE_W / 2, self.y, line, TITLE, ha="center", bold=True, color="#b3261e")
        if subtitle:
            self.y += 0.05
            for line in wrap(subtitle, self.width, BODY):  # a scheme scoring many kinds names them all
                self.y += BODY * LINE / 72
                self._text(PAGE_W / 2, self.y, line, BODY, ha="center", color="#5b6675")
        self.y += 0.12
        self._hline(self.y, color="#b3261e", lw=1.6)
        self.y += 0.12

    def heading(self, text: str) -> None:
        self.ensure(HEAD * LINE / 72 * 3)  # keep a heading with at least two lines of what follows
        self.y += HEAD * LINE / 72 + 0.08
        self._text(MARGIN_X, self.y, text, HEAD, bold=True)
        self.y += 0.08

    def paragraph(self, text: str, size: float = BODY, indent: float = 0.0) -> None:
        for line in wrap(text, self.width - indent, size):
            self.ensure(size * LINE / 72)
            self.y += size * LINE / 72
            self._text(MARGIN_X + indent, self.y, line, size)

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], size: float = SMALL,
              highlight: Callable[[int], str | None] | None = None) -> None:
        """A ruled table; rows wrap inside their cells and the header repeats on every new page."""
        total = sum(c.width for c in columns)
        scale = self.width / total if total > self.width else 1.0
        cols = [Column(c.header, c.width * scale, c.align) for c in columns]
        pad = 0.05
        line_h = size * LINE / 72

        def cells(values: Sequence[str], bold: bool) -> tuple[list[list[str]], float]:
            wrapped = [wrap(str(v), c.width - 2 * pad, size) for v, c in zip(values, cols)]
            return wrapped, max(len(w) for w in wrapped) * line_h + 2 * pad

        def draw_row(wrapped: list[list[str]], h: float, bold: bool, face: str | None) -> None:
            top = self.y
            if face:
                self._rect(MARGIN_X, top, sum(c.width for c in cols), h, face)
            x = MARGIN_X
            for lines, c in zip(wrapped, cols):
                for k, line in enumerate(lines):
                    yy = top + pad + (k + 1) * line_h - line_h * 0.25
                    if c.align == "right":
                        self._text(x + c.width - pad, yy, line, size, ha="right", bold=bold)
                    elif c.align == "center":
                        self._text(x + c.width / 2, yy, line, size, ha="center", bold=bold)
                    else:
                        self._text(x + pad, yy, line, size, bold=bold)
                x += c.width
            self.y = top + h
            self._hline(self.y, MARGIN_X, MARGIN_X + sum(c.width for c in cols), lw=0.4)

        head_cells, head_h = cells([c.header for c in cols], True)

        def header() -> None:
            self._hline(self.y, MARGIN_X, MARGIN_X + sum(c.width for c in cols), color=TEXT, lw=0.9)
            draw_row(head_cells, head_h, True, HEADER_BG)

        first = cells(rows[0], False)[1] if rows else 0.0
        self.ensure(head_h + first)
        header()
        for i, row in enumerate(rows):
            wrapped, h = cells(row, False)
            if self.y + h > PAGE_H - MARGIN_BOTTOM:
                self._new_page()
                header()
            draw_row(wrapped, h, False, highlight(i) if highlight else None)
        self.y += 0.1

    def chart(self, height: float, draw: Callable[[Any], object], left: float = 1.6, right: float = 0.3) -> None:
        """An Axes of ``height`` inches; ``left`` leaves room for the unit names of horizontal bars."""
        top, bottom = 0.45, 0.4  # room for the axes title above and the tick labels below
        self.ensure(top + height + bottom)
        self.y += top
        x0 = MARGIN_X + left
        w = self.width - left - right
        ax = self.fig.add_axes((x0 / PAGE_W, 1 - (self.y + height) / PAGE_H, w / PAGE_W, height / PAGE_H))
        draw(ax)
        self.y += height + bottom


def _highlight_lost(lost: list[bool]) -> Callable[[int], str | None]:
    """Row colour for the per-unit item table: items that lost points are tinted."""
    def colour(i: int) -> str | None:
        return "#fff4e0" if lost[i] else None
    return colour


MAX_CASES = 24  # case numbers printed per deduction; the Excel sheet 扣分案件 lists them all


def case_list(cases: Sequence[str], limit: int = MAX_CASES) -> str:
    """The case numbers of a deduction, shortened for print with a pointer to the full list."""
    if len(cases) <= limit:
        return "、".join(cases)
    return "、".join(cases[:limit]) + f" 等共{len(cases)}件（完整清单见Excel通报“扣分案件”表）"


def write_pdf(b: Bulletin, path: Path) -> None:
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from app.charts import REPORT_LIGHT, Bar, draw_ranked_bars, draw_top_classes, draw_trend
    from app.mpl_fonts import pdf_font_families

    families = pdf_font_families()
    meta = {"Title": b.title, "Subject": b.subtitle, "Creator": "万米 Wanmi", "Keywords": b.scheme_id}
    # matplotlib sizes the PDF backend's font subsets from ps.fonttype (3 → 256 glyphs per subset): a
    # bulletin uses several hundred Chinese characters, and every subset re-reads the font file. With 42
    # each font is embedded once. The family list puts the cached GB subset of Noto Sans CJK SC first
    # (a quarter of the work when the fonts are subset at close) and the full font behind it for any
    # character the subset lacks; see app.font_subset.
    with (matplotlib.rc_context({"ps.fonttype": 42, "pdf.fonttype": 42, "font.family": families}),
          PdfPages(path, metadata=meta) as pdf):
        w = PageWriter(pdf, f"{b.title} · {b.subtitle}")
        w.title(b.title, f"{b.subtitle}（方案 {b.scheme_id}，版本 {b.scheme_version}）　考核对象：{b.unit_kind_label}")

        w.heading("一、总体情况")
        parts = "，".join(f"{k}{v}" for k, v, _raw in b.summary)
        w.paragraph(f"{b.period.label}，全市{parts}。", indent=0.0)
        groups = b.ranking_by_kind()
        if len(groups) == 1:
            top, bottom = groups[0][1][0], groups[0][1][-1]
            w.paragraph(f"本期考核{len(b.ranking)}个单位，{top.name}以{fmt_points(top.total)}分位列第一，"
                        f"{bottom.name}{fmt_points(bottom.total)}分排名末位。")
        elif groups:  # each kind is ranked on its own
            said = "；".join(f"{label}{len(rows)}个，{rows[0].name}以{fmt_points(rows[0].total)}分位列第一，"
                            f"{rows[-1].name}{fmt_points(rows[-1].total)}分排名末位" for label, rows in groups)
            w.paragraph(f"本期考核{len(b.ranking)}个单位，分类排名：{said}。")

        w.heading("二、考核排名")
        used = [c for c in b.category_names if any(c[0] in r.categories for r in b.ranking)]
        kind_w = 0.55 if len(groups) > 1 else 0.0
        cat_w = 0.85
        fixed = 0.45 + 1.25 + 0.65 + 0.6 + 0.5 + kind_w
        name_w = max(1.4, w.width - fixed - cat_w * len(used) - 0.6)
        cols = [*([Column("类别", kind_w, "center")] if kind_w else []),
                Column("排名", 0.45, "center"), Column("编码", 1.25), Column("名称", name_w),
                *[Column(name, cat_w, "right") for _, name in used],
                Column("扣分", 0.6, "right"), Column("总分", 0.65, "right"), Column("等级", 0.6, "center")]
        rows = [[*([r.kind_label] if kind_w else []), str(r.rank or "-"), r.code, r.name,
                 *[fmt_points(r.categories.get(cid, 0.0)) for cid, _ in used],
                 fmt_points(r.lost), fmt_points(r.total), r.grade or "-"] for r in b.ranking]
        w.table(cols, rows, highlight=lambda i: "#fbeaea" if b.ranking[i].grade in ("D", "E", "不合格") else None)
        notes = [f"{r.name}：{'；'.join(r.notes)}" for r in b.ranking if r.notes]
        for n in notes:
            w.paragraph(n, SMALL)

        w.heading("三、图表")
        # the charts show the first kind (the largest areas); the tables above list every kind
        first_label, first = groups[0] if groups else ("", [])
        chart_title = f"各{first_label}得分" if len(groups) > 1 else "各单位得分"
        bars = [Bar(r.name, r.total, r.grade_color or None, r.grade) for r in first]
        w.chart(max(2.2, 0.28 * len(bars) + 0.8),
                lambda ax: draw_ranked_bars(ax, bars, REPORT_LIGHT, title=chart_title, unit="分",
                                            value_format="{:.2f}"))
        if b.trend_periods:
            top_names = [r.name for r in first[:8]]
            series = {n: b.trend[n] for n in top_names if n in b.trend}
            w.chart(2.6, lambda ax: draw_trend(ax, b.trend_periods, series, REPORT_LIGHT,
                                              title="近期得分趋势（前8名）", unit="分"), left=0.6, right=1.7)
            if b.trend_published:
                w.paragraph(f"注：趋势中 {'、'.join(b.trend_published)} 为已发布的考核结果。", size=SMALL)
        top_bars = [Bar(n, float(c)) for n, c in b.top_classes]
        w.chart(max(2.0, 0.26 * len(top_bars) + 0.8),
                lambda ax: draw_top_classes(ax, top_bars, REPORT_LIGHT, title="高发问题类别（案件数）"))

        w.heading("四、各单位考核明细")
        for r in b.ranking:
            its = [it for it in b.items if it.unit_code == r.code]
            w.ensure(1.0)
            w.paragraph(f"{r.rank or '-'}. {r.name}（{r.code}）　总分 {fmt_points(r.total)}　等级 {r.grade or '-'}",
                        BODY)
            w.space(0.08)
            cols = [Column("考核项目", 1.6), Column("满分", 0.5, "right"), Column("得分", 0.55, "right"),
                    Column("评分规则", w.width - 1.6 - 0.5 - 0.55 - 0.5), Column("案件", 0.5, "right")]
            rows = [[it.item_name + ("（未录入）" if it.missing else ""), fmt_points(it.full), fmt_points(it.points),
                     it.rule, str(len(it.cases)) if it.cases else ""] for it in its]
            w.table(cols, rows, highlight=_highlight_lost([it.lost > 1e-9 for it in its]))

        w.heading("五、扣分案件明细")
        ded = [it for it in b.deductions if it.cases]
        if not ded:
            w.paragraph("本期无涉及案件的扣分。")
        else:
            cols = [Column("单位", 1.3), Column("考核项目", 1.5), Column("扣分", 0.5, "right"),
                    Column("案件编号", w.width - 3.3)]
            w.table(cols, [[it.unit_name, it.item_name, fmt_points(it.lost), case_list(it.cases)] for it in ded])

        if b.missing or b.uncomputed:
            w.heading("六、说明")
            if b.missing:
                by_item: dict[str, list[str]] = {}
                for _code, name, item in b.missing:
                    by_item.setdefault(item, []).append(name)
                for item, names in by_item.items():
                    w.paragraph(f"人工考评项“{item}”尚未录入：{'、'.join(names)}。本通报中该项按方案规定计分，录入后请重新生成。",
                                SMALL)
            if b.uncomputed:
                w.paragraph(f"以下指标无法从案件记录计算，按不适用处理：{'、'.join(b.uncomputed)}。", SMALL)
        w.paragraph(f"指标口径见 docs/formulas.md；率指标分母为零时记为“不适用”。{fmt_value('x', None)}不计入得分或按方案规定处理。",
                    SMALL)
        w.finish()
