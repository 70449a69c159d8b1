"""One artist per bulletin page for its single-line texts (cells, paragraphs, headings).

A bulletin page carries a hundred or more short texts. As ``matplotlib.text.Text`` artists each one is
measured with FreeType (``Text._get_layout`` lays the string out once to size it) and then laid out again
when the PDF renderer draws it, and the measuring costs about as much as the drawing. A one-line, unrotated
text anchored at its baseline is drawn exactly at its anchor when it is left-aligned, so only right- and
centre-aligned lines need their width. :class:`TextLines` makes the renderer calls ``Text.draw`` makes
for such a line (same font properties, colour and position, width from the same
``get_text_width_height_descent``), so the page shows the same glyphs at the same places, and skips the
rest. Anything else (several lines, mathtext) stays a ``Text``; see ``PageWriter._text``.
"""

from __future__ import annotations

from typing import Any

from matplotlib import colors as mcolors
from matplotlib.artist import Artist
from matplotlib.font_manager import FontProperties


class TextLines(Artist):
    """Lines of text in figure coordinates, each anchored at its baseline, drawn above rules and fills."""

    zorder = 3  # the default of Text: above the lines (2) and patches (1) of the page

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[tuple[float, float, str, FontProperties, str, tuple[float, float, float, float]]] = []
        self._props: dict[tuple[float, bool], FontProperties] = {}

    def add(self, x: float, y: float, s: str, size: float, ha: str, bold: bool, color: str) -> None:
        """``x``, ``y`` in figure fractions; ``ha`` left, center or right."""
        prop = self._props.get((size, bold))
        if prop is None:
            # as Text(fontsize=size, fontweight=...) builds it: the family is resolved when drawing
            prop = self._props[(size, bold)] = FontProperties(size=size, weight="bold" if bold else "normal")
        self._lines.append((x, y, s, prop, ha, mcolors.to_rgba(color)))
        self.stale = True

    def __len__(self) -> int:
        return len(self._lines)

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self._lines:
            return
        fig = self.get_figure(root=True)
        if fig is None:
            return
        trans = fig.transFigure
        flip = renderer.flipy()  # raster renderers count y from the top (Text.draw does the same)
        _w, canvas_h = renderer.get_canvas_width_height()
        renderer.open_group("text", self.get_gid())
        gc = renderer.new_gc()
        gc.set_antialiased(self._antialiased())
        for x, y, s, prop, ha, rgba in self._lines:
            px, py = trans.transform((x, y))
            if flip:
                py = canvas_h - py
            if ha != "left":
                w, _h, _d = renderer.get_text_width_height_descent(s, prop, ismath=False)
                px -= w if ha == "right" else w / 2
            gc.set_foreground(rgba, isRGBA=True)
            renderer.draw_text(gc, px, py, s, prop, 0.0, ismath=False)
        gc.restore()
        renderer.close_group("text")
        self.stale = False

    @staticmethod
    def _antialiased() -> bool:
        import matplotlib

        return bool(matplotlib.rcParams["text.antialiased"])
