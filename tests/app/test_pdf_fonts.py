"""The fonts of the PDF bulletin: the cached GB subset of Noto Sans CJK SC draws exactly what the full font
draws, a character outside it still reaches the PDF (from the full font), and the cache copes with a folder
that is missing or cannot be written. Also: the page's single-line text artist places text as Text does."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from app import font_subset
from app.font_subset import SUBSET_FAMILY, cmap_chars, subset_font
from app.mpl_fonts import pdf_font_families
from app.paths import FONT_FAMILY, FONT_REGULAR

TEST_FAMILY = "Noto Sans CJK SC Test"  # a tiny subset for these tests; never registered with matplotlib
CHARS = "泉山区考核通报结案率第名ABCabc0123456789.,%、，（）：“” "
RARE = "堃喆"  # outside GB 2312


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A subset of the Regular font with CHARS, built into a folder that does not exist yet."""
    folder = tmp_path_factory.mktemp("cache") / "not" / "there"
    path = subset_font(FONT_REGULAR, folder, CHARS, TEST_FAMILY)
    assert path is not None
    return path


def test_subset_keeps_outlines_and_metrics_and_renames_the_family(tiny):
    from matplotlib.ft2font import FT2Font

    with TTFont(str(FONT_REGULAR), lazy=True) as full, TTFont(str(tiny), lazy=True) as sub:
        cmap_full, cmap_sub = full.getBestCmap(), sub.getBestCmap()
        cs_full = full["CFF "].cff.topDictIndex[0].CharStrings
        cs_sub = sub["CFF "].cff.topDictIndex[0].CharStrings
        for ch in CHARS:
            g = cmap_full[ord(ch)]
            assert cmap_sub[ord(ch)] == g, ch
            assert cs_sub[g].bytecode == cs_full[g].bytecode, ch  # the outline, byte for byte
            assert sub["hmtx"][g] == full["hmtx"][g], ch
        assert not set(map(ord, RARE)) & set(cmap_sub)
        assert len(sub.getGlyphOrder()) < len(full.getGlyphOrder()) / 10
        for table, fields in (("head", ("unitsPerEm",)), ("hhea", ("ascent", "descent", "lineGap")),
                              ("OS/2", ("sTypoAscender", "sTypoDescender", "sTypoLineGap", "usWeightClass"))):
            for f in fields:
                assert getattr(sub[table], f) == getattr(full[table], f), (table, f)
    ft_full, ft_sub = FT2Font(str(FONT_REGULAR)), FT2Font(str(tiny))
    assert ft_sub.family_name == TEST_FAMILY
    assert ft_sub.postscript_name == ft_full.postscript_name  # the PDF still names NotoSansCJKsc-Regular


def test_subset_draws_the_same_pixels(tiny):
    from matplotlib.ft2font import FT2Font, LoadFlags

    def bitmap(path: Path) -> np.ndarray:
        # unhinted, as the PDF backend loads glyphs (FreeType's autohinter derives its zones from the
        # whole font, so hinted screen rendering is not promised to match: the subset is for PDFs only)
        font = FT2Font(str(path))
        font.set_size(24, 72)
        font.set_text("泉山区考核通报：结案率98.45%，第3名（ABC）", flags=LoadFlags.NO_HINTING)
        font.draw_glyphs_to_bitmap()
        return np.asarray(font.get_image())

    a, b = bitmap(FONT_REGULAR), bitmap(tiny)
    assert a.shape == b.shape
    assert (a > 0).sum() > 500
    assert np.array_equal(a, b)


def test_cache_is_reused_without_rebuilding(tiny, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt a cached font")

    monkeypatch.setattr(font_subset, "build_subset", no_build)
    assert subset_font(FONT_REGULAR, tiny.parent, CHARS, TEST_FAMILY) == tiny
    # another character set is another file: here it cannot be built, so the caller gets None
    monkeypatch.setattr(font_subset, "build_subset", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad font")))
    assert subset_font(FONT_REGULAR, tiny.parent, CHARS + "堃", TEST_FAMILY) is None
    assert not list(tiny.parent.glob(".*.tmp"))  # the failed build left nothing behind


def test_unwritable_cache_folder_means_the_full_font(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "fonts"  # cannot be created, even by root
    monkeypatch.setattr(font_subset, "build_subset", lambda *a, **k: pytest.fail("built into an unusable folder"))
    assert subset_font(FONT_REGULAR, folder, CHARS, TEST_FAMILY) is None
    assert pdf_font_families(folder) == [FONT_FAMILY]


def test_a_deleted_copy_is_rebuilt_identically_under_the_same_name(tiny, tmp_path):
    import shutil

    folder = tmp_path / "fonts"
    folder.mkdir()
    first = folder / tiny.name
    shutil.copy(tiny, first)
    data = first.read_bytes()
    first.unlink()  # the user clears the cache while the app runs
    again = subset_font(FONT_REGULAR, folder, CHARS, TEST_FAMILY)
    assert again == first
    assert again.read_bytes() == data


def test_pdf_families_follow_the_cache(tmp_path, monkeypatch):
    """Registered once; a cleared cache is rebuilt in place; a cache that cannot be rebuilt means the full
    font for that document (what matplotlib has registered is never swapped under it)."""
    from matplotlib import font_manager

    from app import mpl_fonts

    folder = tmp_path / "fonts"
    state = {"can_build": True}
    built: list[Path] = []
    added: list[str] = []

    def fake_subset_font(source, directory, *args, **kwargs):
        if not state["can_build"]:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{source.stem}.0123456789abcdef.otf"
        path.write_bytes(b"OTTO")
        built.append(path)
        return path

    monkeypatch.setattr(font_subset, "subset_font", fake_subset_font)
    monkeypatch.setattr(font_manager.fontManager, "addfont", added.append)
    families = [SUBSET_FAMILY, FONT_FAMILY]
    assert mpl_fonts.pdf_font_families(folder) == families
    assert mpl_fonts.pdf_font_families(folder) == families
    assert len(built) == 2
    assert len(added) == 2
    for p in built[:2]:
        p.unlink()
    assert mpl_fonts.pdf_font_families(folder) == families  # rebuilt, not registered again
    assert len(built) == 4
    assert len(added) == 2
    for p in built[2:]:
        p.unlink()
    state["can_build"] = False
    assert mpl_fonts.pdf_font_families(folder) == [FONT_FAMILY]
    assert mpl_fonts.pdf_font_families(tmp_path / "other") == [FONT_FAMILY]
    assert len(added) == 2


# -- the PDF ------------------------------------------------------------------------------------------------
def embedded_fonts(pdf: bytes) -> list[TTFont]:
    """The font programs embedded in a PDF written by matplotlib (FontFile2 streams carry /Length1)."""
    fonts = []
    for m in re.finditer(rb"<<([^>]*?/Length1[^>]*?)>>\s*stream\r?\n", pdf, re.S):
        data = zlib.decompressobj().decompress(pdf[m.end():]) if b"/FlateDecode" in m.group(1) else pdf[m.end():]
        fonts.append(TTFont(io.BytesIO(data)))
    return fonts


def embedded_chars(pdf: bytes) -> set[int]:
    chars: set[int] = set()
    for font in embedded_fonts(pdf):
        chars.update(font.getBestCmap())
    return chars


def rare_bulletin(store):
    from app.reports import build_bulletin

    b = build_bulletin(store, "standard", "2026-10", "district")
    b.ranking[0].name = f"{RARE}区"
    b.items[0].rule = f"{b.items[0].rule}（{RARE}）"
    return b


def test_a_rare_hanzi_outside_gb2312_is_embedded(october, tmp_path):
    from app.reports.pdf import write_pdf

    families = pdf_font_families()
    out = tmp_path / "rare.pdf"
    write_pdf(rare_bulletin(october), out)
    data = out.read_bytes()
    chars = embedded_chars(data)
    assert {ord(c) for c in RARE + "区考核结案率"} <= chars
    if families[0] == SUBSET_FAMILY:
        # the subset is in use and lacks them: they came from the full font behind it
        subset = next(p for p in font_subset.cache_dir().glob(f"{FONT_REGULAR.stem}.*.otf"))
        assert not {ord(c) for c in RARE} & cmap_chars(subset)
        assert len(embedded_fonts(data)) >= 3


def test_pdf_without_a_usable_cache_embeds_the_full_font(october, tmp_path, monkeypatch):
    from app.reports.pdf import write_pdf

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WANMI_CACHE", str(blocker))
    out = tmp_path / "full.pdf"
    write_pdf(rare_bulletin(october), out)
    data = out.read_bytes()
    assert b"NotoSansCJKsc-Regular" in data
    assert {ord(c) for c in RARE + "区考核结案率"} <= embedded_chars(data)


def render_agg(draw) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 2), dpi=100)
    FigureCanvasAgg(fig)
    draw(fig)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_fallback_to_the_full_font_draws_the_same_pixels():
    import matplotlib

    families = pdf_font_families()
    if families[0] != SUBSET_FAMILY:
        pytest.skip("the font cache is not usable here")
    text = f"张{RARE}同志：结案率98.45%（第3名）"

    def draw(fams):
        def _draw(fig):
            with matplotlib.rc_context({"font.family": fams, "text.hinting": "no_hinting"}):
                fig.text(0.05, 0.5, text, fontsize=14)
                fig.text(0.05, 0.2, text, fontsize=14, fontweight="bold")
        return _draw

    assert np.array_equal(render_agg(draw(families)), render_agg(draw([FONT_FAMILY])))


def test_text_lines_place_text_as_text_artists_do():
    from matplotlib.font_manager import FontProperties

    from app.mpl_fonts import use_cjk_font
    from app.reports.pdf_lines import TextLines

    use_cjk_font()
    rows = [(0.05, 0.8, "泉山区考核通报", 12.0, "left", True, "#b3261e"),
            (0.95, 0.6, "98.45", 8.0, "right", False, "#1b2430"),
            (0.5, 0.4, "第 1 页", 8.0, "center", False, "#5b6675"),
            (0.05, 0.2, "202600748144、202600748156、", 9.5, "left", False, "#1b2430")]

    def with_text(fig):
        for x, y, s, size, ha, bold, color in rows:
            fig.text(x, y, s, fontsize=size, ha=ha, va="baseline", fontweight="bold" if bold else "normal",
                     color=color)

    def with_lines(fig):
        lines = TextLines()
        fig.add_artist(lines)
        for row in rows:
            lines.add(*row)
        assert len(lines) == len(rows)

    a, b = render_agg(with_text), render_agg(with_lines)
    assert (a[..., :3] < 128).any()
    assert np.array_equal(a, b)
    assert FontProperties(size=8.0).get_family() == ["sans-serif"]
