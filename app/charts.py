"""Pure chart drawing: each ``draw_x(ax, data, theme)`` touches only the matplotlib ``Axes`` it is given.

Why pure functions: the wall (dark, on a Qt canvas), the evaluation report (light, in a PDF) and the
tests (a bare Agg figure) must draw the same chart the same way. The caller owns the ``Figure`` and its
canvas, so the wall can reuse one figure for days without leaking, and tests can check bar heights and
labels directly on the artists. Nothing here imports pyplot or Qt.

Sizes in a :class:`Theme` are points on a figure laid out at 100 dpi on the wall's 1920×1080 design
grid; the wall scales the figure's dpi to the real screen so text stays sharp at any resolution.

Stable signatures (the report reuses them):

- ``draw_ranked_bars(ax, bars, theme, *, title="", unit="", value_format="{:.1f}", xmax=None)``
- ``draw_trend(ax, periods, series, theme, *, title="", unit="", ylim=None)``
- ``draw_top_classes(ax, bars, theme, *, title="")``
- ``draw_by_hour(ax, counts, theme, *, title="", highlight_hour=None)``
- ``draw_source_mix(ax, bars, theme, *, title="")``
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.ticker import MaxNLocator

# Grade colours used when a scheme does not give its own (A–E and 优秀/合格/不合格, §7.2).
GRADE_COLORS: dict[str, str] = {
    "A": "#2fbf71",
    "B": "#7cc242",
    "C": "#f2c12e",
    "D": "#f28c28",
    "E": "#e5484d",
    "优秀": "#2fbf71",
    "良好": "#7cc242",
    "合格": "#f2c12e",
    "不合格": "#e5484d",
}


@dataclass(frozen=True)
class Bar:
    """One labelled value: a ranked unit, a problem class, a source. ``color`` overrides the theme."""

    label: str
    value: float
    color: str | None = None
    note: str = ""  # shown after the value, e.g. a grade "A" or "优秀"


@dataclass(frozen=True)
class Theme:
    """Colours and type sizes for one medium (dark wall or light printed report)."""

    name: str
    background: str
    panel: str
    text: str
    muted: str
    grid: str
    accent: str
    palette: tuple[str, ...]
    title_size: float
    label_size: float
    tick_size: float
    value_size: float
    line_width: float
    grade_colors: Mapping[str, str] = field(default_factory=lambda: dict(GRADE_COLORS))

    def color(self, i: int) -> str:
        return self.palette[i % len(self.palette)]


WALL_DARK = Theme(
    name="wall_dark",
    background="#07132b",
    panel="#0c1d3d",
    text="#e8f1ff",
    muted="#8fa6c8",
    grid="#1d3460",
    accent="#34c6f4",
    palette=("#34c6f4", "#f7b500", "#2fbf71", "#a06cf5", "#f2643d", "#4f7cff", "#e84393", "#9bd14b"),
    title_size=18,
    label_size=16,
    tick_size=15,
    value_size=15,
    line_width=2.8,
)

REPORT_LIGHT = Theme(
    name="report_light",
    background="#ffffff",
    panel="#ffffff",
    text="#1b2430",
    muted="#5b6675",
    grid="#d9dee5",
    accent="#1f6fd1",
    palette=("#1f6fd1", "#e08a00", "#2e9d5b", "#7b4fd0", "#d2452b", "#3aa6b9", "#c43d85", "#6f9a1f"),
    title_size=12,
    label_size=10,
    tick_size=9,
    value_size=9,
    line_width=1.6,
)

THEMES: dict[str, Theme] = {WALL_DARK.name: WALL_DARK, REPORT_LIGHT.name: REPORT_LIGHT}


def style_axes(ax: Axes, theme: Theme, title: str = "") -> None:
    """Panel colours, muted spines and ticks; the title sits left-aligned like a dashboard panel."""
    ax.set_facecolor(theme.panel)
    for side, spine in ax.spines.items():
        spine.set_visible(side in ("left", "bottom"))
        spine.set_color(theme.grid)
    ax.tick_params(colors=theme.muted, labelsize=theme.tick_size, length=0, pad=6)
    for lab in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        lab.set_color(theme.text)
    if title:
        ax.set_title(title, loc="left", color=theme.text, fontsize=theme.title_size, fontweight="bold", pad=10)


def _empty(ax: Axes, theme: Theme, title: str) -> None:
    style_axes(ax, theme, title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, "暂无数据", transform=ax.transAxes, ha="center", va="center",
            color=theme.muted, fontsize=theme.label_size)


def draw_ranked_bars(
    ax: Axes,
    bars: Sequence[Bar],
    theme: Theme,
    *,
    title: str = "",
    unit: str = "",
    value_format: str = "{:.1f}",
    xmax: float | None = None,
) -> BarContainer | None:
    """Horizontal bars, best (largest) at the top, each labelled with its value and note (grade).

    Bars keep the order given when it is already a ranking; we sort descending so a caller's rank 1 is on
    top either way. Colour: the bar's own (a grade colour) or the theme accent.
    """
    if not bars:
        _empty(ax, theme, title)
        return None
    ordered = sorted(bars, key=lambda b: b.value, reverse=True)
    n = len(ordered)
    ys = list(range(n))[::-1]  # rank 1 at the top
    colors = [b.color or theme.accent for b in ordered]
    container = ax.barh(ys, [b.value for b in ordered], color=colors, height=0.62, zorder=2)
    ax.set_yticks(ys, [b.label for b in ordered])
    top = xmax if xmax is not None else max(max(b.value for b in ordered), 1e-9) * 1.22
    ax.set_xlim(0, top)
    ax.set_ylim(-0.6, n - 0.4)
    style_axes(ax, theme, title + (f"（{unit}）" if unit else ""))
    ax.grid(axis="x", color=theme.grid, linewidth=0.8, zorder=0)
    ax.tick_params(axis="y", labelsize=theme.label_size)
    if all(float(b.value).is_integer() for b in ordered):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    for y, b in zip(ys, ordered, strict=True):
        text = value_format.format(b.value) + (f"  {b.note}" if b.note else "")
        ax.text(b.value + top * 0.01, y, text, va="center", ha="left",
                color=theme.text, fontsize=theme.value_size, zorder=3)
    return container


def draw_trend(
    ax: Axes,
    periods: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    theme: Theme,
    *,
    title: str = "",
    unit: str = "",
    ylim: tuple[float, float] | None = None,
) -> list[Any]:
    """One line per unit over the periods (e.g. 12 months); ``None`` values leave a gap. Returns the lines."""
    if not periods or not series:
        _empty(ax, theme, title)
        return []
    xs = list(range(len(periods)))
    lines = []
    for i, (name, values) in enumerate(series.items()):
        ys = [float("nan") if v is None else float(v) for v in values]
        (line,) = ax.plot(xs, ys, color=theme.color(i), linewidth=theme.line_width, marker="o",
                          markersize=theme.line_width * 1.8, label=name, zorder=3)
        lines.append(line)
    labels = [p[5:] + "月" if len(p) == 7 and p[4] == "-" else p for p in periods]
    ax.set_xticks(xs, labels)
    ax.set_xlim(-0.3, len(xs) - 0.7)
    if ylim is not None:
        ax.set_ylim(*ylim)
    style_axes(ax, theme, title + (f"（{unit}）" if unit else ""))
    ax.grid(axis="y", color=theme.grid, linewidth=0.8, zorder=0)
    leg = ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=theme.tick_size,
                    labelcolor=theme.text, handlelength=1.2)
    leg.set_zorder(4)
    return lines


def draw_top_classes(ax: Axes, bars: Sequence[Bar], theme: Theme, *, title: str = "") -> BarContainer | None:
    """高发问题: the most reported classes as ranked bars with whole-number counts."""
    return draw_ranked_bars(ax, bars, theme, title=title, value_format="{:.0f}")


def draw_by_hour(
    ax: Axes, counts: Sequence[int], theme: Theme, *, title: str = "", highlight_hour: int | None = None
) -> BarContainer | None:
    """Cases by hour of day (24 vertical bars); the peak hour and ``highlight_hour`` stand out."""
    if len(counts) != 24:
        raise ValueError(f"按小时统计需要24个值 counts must have 24 values, got {len(counts)}")
    if not any(counts):
        _empty(ax, theme, title)
        return None
    peak = max(range(24), key=lambda h: counts[h])
    colors = [theme.color(1) if h in (peak, highlight_hour) else theme.accent for h in range(24)]
    container = ax.bar(range(24), counts, color=colors, width=0.72, zorder=2)
    ax.set_xticks(range(0, 24, 3), [f"{h}时" for h in range(0, 24, 3)])
    ax.set_xlim(-0.6, 23.6)
    ax.set_ylim(0, max(counts) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    style_axes(ax, theme, title)
    ax.grid(axis="y", color=theme.grid, linewidth=0.8, zorder=0)
    ax.text(peak, counts[peak], f"{counts[peak]}", ha="center", va="bottom", color=theme.text,
            fontsize=theme.value_size, zorder=3)
    return container


def draw_source_mix(ax: Axes, bars: Sequence[Bar], theme: Theme, *, title: str = "") -> list[Any]:
    """Source mix as a donut with a legend of name, count and share. Returns the wedges."""
    items = [b for b in bars if b.value > 0]
    if not items:
        _empty(ax, theme, title)
        return []
    total = sum(b.value for b in items)
    colors = [b.color or theme.color(i) for i, b in enumerate(items)]
    wedges, _ = ax.pie([b.value for b in items], colors=colors, startangle=90, counterclock=False,
                       wedgeprops={"width": 0.36, "edgecolor": theme.panel, "linewidth": 2})
    ax.set_aspect("equal")
    ax.set_facecolor(theme.panel)
    if title:
        ax.set_title(title, loc="left", color=theme.text, fontsize=theme.title_size, fontweight="bold", pad=10)
    ax.text(0, 0.08, f"{total:.0f}", ha="center", va="center", color=theme.text,
            fontsize=theme.title_size * 1.3, fontweight="bold")
    ax.text(0, -0.22, "件", ha="center", va="center", color=theme.muted, fontsize=theme.label_size)
    labels = [f"{b.label}  {b.value:.0f}  {b.value / total:.0%}" for b in items]
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
              fontsize=theme.label_size, labelcolor=theme.text, handlelength=1.0)
    return list(wedges)
