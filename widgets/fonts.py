"""Load the bundled Noto Sans CJK SC into Qt and make it the application font, chosen by family name.

Tests and the wall must never depend on system fonts, so the files in ``resources/fonts`` are added
explicitly and the family is checked by name.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from app.paths import FONT_BOLD, FONT_FAMILY, FONT_REGULAR

_loaded: list[int] = []


def install_fonts(app: QApplication | None = None, point_size: int = 10) -> str:
    """Register the CJK fonts once and set them as the default; returns the family name."""
    if not _loaded:
        for path in (FONT_REGULAR, FONT_BOLD):
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                raise RuntimeError(f"无法加载字体 font file '{path}' could not be loaded")
            _loaded.append(font_id)
    families = {f for i in _loaded for f in QFontDatabase.applicationFontFamilies(i)}
    if FONT_FAMILY not in families:
        raise RuntimeError(f"字体族缺失 font family '{FONT_FAMILY}' not in {sorted(families)}")
    target = app or QApplication.instance()
    if isinstance(target, QApplication):
        target.setFont(QFont(FONT_FAMILY, point_size))
    return FONT_FAMILY


def cjk_font(point_size: float = 10, bold: bool = False) -> QFont:
    font = QFont(FONT_FAMILY)
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font
