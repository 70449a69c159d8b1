"""Make matplotlib draw Chinese with the bundled Noto Sans CJK SC (never a system font)."""

from __future__ import annotations

from app.paths import FONT_BOLD, FONT_FAMILY, FONT_REGULAR

_done = False


def use_cjk_font() -> str:
    """Register the bundled fonts with matplotlib and select the family by name (idempotent)."""
    global _done
    import matplotlib
    from matplotlib import font_manager

    if not _done:
        for path in (FONT_REGULAR, FONT_BOLD):
            font_manager.fontManager.addfont(str(path))
        _done = True
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [FONT_FAMILY]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType/CFF so PDFs carry the font
    return FONT_FAMILY
