"""Make matplotlib draw Chinese with the bundled Noto Sans CJK SC (never a system font)."""

from __future__ import annotations

import threading
from pathlib import Path

from app.paths import FONT_BOLD, FONT_FAMILY, FONT_REGULAR

_done = False
_subsets: dict[Path, list[Path] | None] = {}  # cache folder -> the derived fonts registered with matplotlib
_lock = threading.Lock()


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


def pdf_font_families(cache: Path | None = None) -> list[str]:
    """The ``font.family`` list for writing a PDF: the cached GB subset of the bundled font
    (:mod:`app.font_subset`, built on first use) and the full font behind it, or the full font alone
    when the subset cannot be built or stored.

    Listing the families themselves (not the ``sans-serif`` alias, which resolves to one font) is what
    turns on matplotlib's per-glyph fallback: a character the subset lacks is drawn from the full font.
    Figures for the screen keep :func:`use_cjk_font`; the subset only pays off where matplotlib subsets
    fonts, i.e. in PDF (and PostScript) output.
    """
    from matplotlib import font_manager

    from app.font_subset import SUBSET_FAMILY, cache_dir, subset_font

    use_cjk_font()
    folder = cache_dir() if cache is None else cache
    with _lock:
        registered = _subsets.get(folder)
        if folder not in _subsets or (registered and not all(p.is_file() for p in registered)):
            # first use, or the cache was cleared meanwhile: the build is deterministic and lands on the
            # same paths, so what matplotlib has registered stays valid
            paths = [subset_font(src, folder) for src in (FONT_REGULAR, FONT_BOLD)]
            found = [p for p in paths if p is not None]
            if registered:
                if found != registered:  # cannot rebuild now (or the bundled font changed): full font
                    return [FONT_FAMILY]
            elif len(found) == len(paths):
                for p in found:
                    font_manager.fontManager.addfont(str(p))
                _subsets[folder] = found
            else:
                _subsets[folder] = None  # not usable here; not retried in this process
    return [SUBSET_FAMILY, FONT_FAMILY] if _subsets[folder] else [FONT_FAMILY]
