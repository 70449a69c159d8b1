"""Chinese renders with the bundled font in Qt (offscreen) and matplotlib, without system fonts."""

from __future__ import annotations

import numpy as np

from app.paths import FONT_FAMILY


def test_matplotlib_uses_bundled_cjk_font():
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from app.mpl_fonts import use_cjk_font

    assert use_cjk_font() == FONT_FAMILY
    prop = font_manager.FontProperties(family=FONT_FAMILY)
    assert "NotoSansCJK" in font_manager.findfont(prop, fallback_to_default=False)
    fig = Figure(figsize=(2, 1), dpi=50)
    FigureCanvasAgg(fig)
    fig.text(0.1, 0.4, "泉山区结案率", fontsize=20)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    assert (pixels < 128).any(), "no glyph pixels drawn"


def test_qt_font_family_loaded(qapp):
    from PySide6.QtGui import QColor, QFontInfo, QImage, QPainter

    from widgets.fonts import cjk_font, install_fonts

    assert install_fonts(qapp) == FONT_FAMILY
    font = cjk_font(16)
    assert QFontInfo(font).family() == FONT_FAMILY
    img = QImage(200, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setFont(font)
    p.drawText(5, 30, "数字城管")
    p.end()
    dark = sum(1 for x in range(200) for y in range(40) if QColor(img.pixel(x, y)).lightness() < 128)
    assert dark > 50
