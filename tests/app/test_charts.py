"""The pure chart functions draw on a bare Agg figure: check the artists, not the pixels."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from app import charts
from app.charts import REPORT_LIGHT, WALL_DARK, Bar


@pytest.fixture
def ax():
    from app.mpl_fonts import use_cjk_font

    use_cjk_font()
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    yield ax
    fig.canvas.draw()  # every drawing must also render without error


def test_ranked_bars_sorted_with_grade_colours_and_labels(ax):
    bars = [
        Bar("云龙区", 88.5, charts.GRADE_COLORS["B"], "B"),
        Bar("鼓楼区", 95.2, charts.GRADE_COLORS["A"], "A"),
        Bar("泉山区", 71.0, charts.GRADE_COLORS["D"], "D"),
    ]
    container = charts.draw_ranked_bars(ax, bars, WALL_DARK, title="区域考评")
    assert container is not None
    widths = [p.get_width() for p in container.patches]
    ys = [p.get_y() + p.get_height() / 2 for p in container.patches]
    # best first, drawn at the top (largest y)
    assert widths == [95.2, 88.5, 71.0]
    assert ys[0] > ys[1] > ys[2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["鼓楼区", "云龙区", "泉山区"]
    from matplotlib.colors import to_hex

    assert to_hex(container.patches[0].get_facecolor()) == charts.GRADE_COLORS["A"]
    texts = {t.get_text() for t in ax.texts}
    assert "95.2  A" in texts
    assert "71.0  D" in texts
    assert ax.get_title(loc="left") == "区域考评"


def test_ranked_bars_empty_shows_placeholder(ax):
    assert charts.draw_ranked_bars(ax, [], REPORT_LIGHT, title="x") is None
    assert any(t.get_text() == "暂无数据" for t in ax.texts)


def test_trend_lines_one_per_unit_with_gaps(ax):
    periods = [f"2026-{m:02d}" for m in range(1, 13)]
    series = {"鼓楼区": [90.0 + m for m in range(12)], "云龙区": [None, *[80.0] * 11]}
    lines = charts.draw_trend(ax, periods, series, WALL_DARK, title="趋势")
    assert [ln.get_label() for ln in lines] == ["鼓楼区", "云龙区"]
    assert list(lines[0].get_ydata()) == [90.0 + m for m in range(12)]
    assert str(lines[1].get_ydata()[0]) == "nan"
    assert ax.get_xticklabels()[0].get_text() == "01月"


def test_top_classes_whole_number_labels(ax):
    container = charts.draw_top_classes(ax, [Bar("暴露垃圾", 42), Bar("乱堆物料", 17)], WALL_DARK)
    assert container is not None
    assert [p.get_width() for p in container.patches] == [42, 17]
    assert {"42", "17"} <= {t.get_text() for t in ax.texts}


def test_by_hour_heights_and_peak_label(ax):
    counts = [0] * 24
    counts[9], counts[15] = 30, 12
    container = charts.draw_by_hour(ax, counts, WALL_DARK)
    assert container is not None
    assert [p.get_height() for p in container.patches] == counts
    assert "30" in {t.get_text() for t in ax.texts}
    assert container.patches[9].get_facecolor() != container.patches[15].get_facecolor()


def test_by_hour_rejects_wrong_length(ax):
    with pytest.raises(ValueError, match="24"):
        charts.draw_by_hour(ax, [1, 2, 3], WALL_DARK)


def test_source_mix_wedges_and_legend(ax):
    wedges = charts.draw_source_mix(ax, [Bar("监督员", 60), Bar("热线", 30), Bar("视频", 10), Bar("媒体", 0)],
                                    WALL_DARK, title="来源")
    assert len(wedges) == 3  # zero-valued sources are left out
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["监督员  60  60%", "热线  30  30%", "视频  10  10%"]
    assert "100" in {t.get_text() for t in ax.texts}
