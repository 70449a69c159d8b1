"""A smaller copy of the bundled Noto Sans CJK SC for writing PDFs, built once and cached per user.

Why: matplotlib embeds a font in a PDF by subsetting the font file with fontTools when the document is
closed, once per font file and per glyph block (a bulletin needs three: Regular, Bold, and a second
Regular block for the few alternate digit glyphs that the font's ``locl`` feature picks in Latin runs).
fontTools reads and parses the whole file for each of them: the 65,535-glyph Noto Sans CJK SC files
(16-17 MB, a CFF table plus large ``hmtx``, ``cmap``, ``GSUB`` and ``GPOS``) cost about a second each. A
copy restricted to the characters Chinese administrative documents use — GB 2312 (its 6,763 hanzi), ASCII
and Latin-1, general, CJK and full-width punctuation, common symbols, and every character of the app's
own resources — has about 14,800 glyphs and cuts that work to about a third.

What is kept, so that text set with the copy looks exactly as with the original:

- every OpenType layout feature, script and language (``GSUB``/``GPOS`` closed over the kept characters),
  so HarfBuzz picks the same glyphs and positions (e.g. the ``locl`` digits);
- the glyph outlines byte for byte: the CFF charstrings are copied unchanged and the subroutines are all
  kept. This also makes the build fast (about 3 s a weight instead of about 20 s with the generic
  fontTools path, which decompiles, prunes and recompiles every charstring);
- all metrics tables and the font-wide values (ascender, descender, units per em, FontBBox).

That makes unhinted output identical, which is what PDFs use (the PDF backend loads glyphs without
hinting). Hinted raster text is not promised to match: FreeType's autohinter derives its alignment zones
from sample glyphs of the whole font. So figures for the screen keep the full font (``use_cjk_font``).

Only the family name changes, to :data:`SUBSET_FAMILY` ("Noto Sans CJK SC GB"), so that matplotlib keeps
the copy and the original apart and a PDF can list the copy first and the original behind it: a character
the copy lacks (a rare hanzi such as 堃) is drawn from the original by matplotlib's per-glyph font fallback.
That is cheaper than checking a document's text up front and switching the whole document to the
original (the full file is then subset for those few glyphs only), and it cannot miss text that is not in
the bulletin data (chart labels, fixed phrases). The PostScript name stays, so the PDF still names
``NotoSansCJKsc-Regular`` / ``-Bold``.

The cache lives in :func:`cache_dir`; a file is named by the source font's name and a hash of the source
font's bytes, the character set and :data:`BUILD_VERSION`, and is written to a temporary file that is then
renamed, so concurrent builders and interrupted builds never leave a partial font behind. The build is
deterministic: a copy deleted while the app runs is rebuilt under the same name. When the
directory cannot be created or written, or the build fails, :func:`subset_font` returns ``None`` and the
caller uses the original font: slower, never wrong. No network is involved.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.paths import FONT_FAMILY, RESOURCES

log = logging.getLogger(__name__)

SUBSET_FAMILY = f"{FONT_FAMILY} GB"
BUILD_VERSION = 1  # bump when the build below changes what it writes

# Unicode blocks kept whole besides GB 2312: ASCII, Latin-1, general punctuation, superscripts, currency,
# letterlike symbols (℃ №), number forms (Ⅱ), arrows, mathematical operators (− ≤ ≥), technical,
# enclosed alphanumerics (①), box drawing, geometric shapes (■ ▲ ●), miscellaneous symbols (★),
# CJK symbols and punctuation, kana, CJK compatibility forms, full-width forms.
_BLOCKS = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF),
           (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2300, 0x23FF),
           (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x3000, 0x303F),
           (0x3040, 0x30FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
_RESOURCE_SUFFIXES = (".toml", ".csv", ".json", ".geojson", ".md", ".txt")


def _gb2312() -> set[str]:
    chars: set[str] = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def _resource_chars(root: Path) -> set[str]:
    """Every character of the app's text resources (catalogues, schemes, boundary names, settings)."""
    chars: set[str] = set()
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in _RESOURCE_SUFFIXES and path.is_file() and "fonts" not in path.parts:
            try:
                chars.update(path.read_text(encoding="utf-8", errors="ignore"))
            except OSError:
                continue
    return chars


_charset_cache: str | None = None


def charset() -> str:
    """The characters the cached copy covers, sorted (also part of the cache key)."""
    global _charset_cache
    if _charset_cache is None:
        chars = _gb2312()
        for lo, hi in _BLOCKS:
            chars.update(chr(c) for c in range(lo, hi + 1))
        chars.update(ch for ch in _resource_chars(RESOURCES) if ord(ch) >= 0x20)
        _charset_cache = "".join(sorted(chars))
    return _charset_cache


def cache_dir() -> Path:
    """The per-user cache folder for derived fonts (``WANMI_CACHE`` overrides the platform default):
    ``$XDG_CACHE_HOME/Wanmi`` (``~/.cache/Wanmi``) on Linux, ``%LOCALAPPDATA%/Wanmi/Cache`` on Windows,
    ``~/Library/Caches/Wanmi`` on macOS; fonts go to its ``fonts`` subfolder."""
    env = os.environ.get("WANMI_CACHE")
    if env:
        return Path(env) / "fonts"
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "Wanmi" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "Wanmi"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "Wanmi"
    return base / "fonts"


_digests: dict[tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    """SHA-256 of a font file, remembered per (path, size, mtime) for the process (16 MB take ~30 ms)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _digests[key] = h.hexdigest()
    return _digests[key]


def cache_key(source: Path, chars: str, family: str = SUBSET_FAMILY) -> str:
    h = hashlib.sha256(f"v{BUILD_VERSION}\0{family}\0{_file_digest(source)}\0".encode())
    h.update(chars.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


_lock = threading.Lock()


def subset_font(source: Path, directory: Path | None = None, chars: str | None = None,
                family: str = SUBSET_FAMILY) -> Path | None:
    """The cached copy of ``source`` restricted to ``chars`` (default :func:`charset`), built on first use;
    ``None`` when it can be neither found nor built and stored (the caller then uses ``source``)."""
    chars = charset() if chars is None else "".join(sorted(set(chars)))
    directory = cache_dir() if directory is None else directory
    try:
        target = directory / f"{source.stem}.{cache_key(source, chars, family)}{source.suffix}"
    except OSError as e:
        log.warning("font %s unreadable: %s", source, e)
        return None
    if target.is_file():
        return target
    with _lock:
        if target.is_file():
            return target
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{source.stem}.", suffix=".tmp", dir=directory)
        except OSError as e:
            log.info("font cache %s not writable (%s); PDFs embed the full font", directory, e)
            return None
        try:
            with os.fdopen(fd, "wb") as out:
                build_subset(source, out, chars, family)
            os.replace(tmp, target)
        except Exception as e:  # a font we cannot subset must not stop a report: fall back to the source
            Path(tmp).unlink(missing_ok=True)
            if target.is_file():  # another process got there first (Windows refuses to replace a font in use)
                return target
            log.warning("could not build the font subset of %s: %s", source, e)
            return None
        _remove_stale(directory, source, keep=target)
        return target


def _remove_stale(directory: Path, source: Path, keep: Path) -> None:
    """Temporary files of builds that were killed more than an hour ago. Copies under another key are
    left alone: another process (an older or newer version of the app) may still be using its copy, and
    a new key only comes with a new font, character set or build version."""
    import time

    for p in directory.glob(f".{source.stem}.*.tmp"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime < time.time() - 3600:
                p.unlink()


def build_subset(source: Path, out: Any, chars: Iterable[str], family: str = SUBSET_FAMILY) -> None:
    """Write to the binary file ``out`` a copy of the CFF OpenType font ``source`` with the glyphs of
    ``chars`` and everything the layout features reach from them, renamed to ``family``.

    fontTools' subsetter does the tables around the outlines (cmap, metrics, GSUB/GPOS/GDEF, VORG);
    the ``CFF `` table is taken out before and cut down here by index, with the charstrings left as
    bytes and every subroutine kept, which is what makes the outlines identical and the build fast.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    try:
        if "CFF " not in font:
            raise ValueError(f"{source.name}: not a CFF OpenType font")
        font.getGlyphOrder()  # read from the CFF charset now; the subsetter works on this order
        cff_table = font["CFF "]
        del font["CFF "]
        # the name table refers to no glyph and all its records stay; set aside, it spares the subsetter
        # a walk through every other table looking for name IDs in use (a third of the build)
        name_table = font["name"]
        del font["name"]
        opts = subset.Options()
        opts.layout_features = ["*"]
        opts.layout_scripts = ["*"]
        opts.legacy_kern = True
        opts.notdef_glyph = True
        opts.notdef_outline = True
        opts.glyph_names = True
        opts.drop_tables = []
        opts.passthrough_tables = True
        opts.prune_unicode_ranges = False
        opts.prune_codepage_ranges = False
        opts.recalc_bounds = False
        opts.recalc_timestamp = False
        opts.recalc_average_width = False
        opts.recalc_max_context = False
        opts.ignore_missing_unicodes = True
        subsetter = subset.Subsetter(opts)
        subsetter.populate(unicodes={ord(c) for c in chars})
        subsetter.subset(font)
        _cut_cff(cff_table, font.getGlyphOrder())
        font["CFF "] = cff_table
        font["name"] = name_table
        _rename(font, family)
        font.save(out, reorderTables=True)
    finally:
        font.close()


def _cut_cff(table: Any, glyph_order: list[str]) -> None:
    """Keep the charstrings of ``glyph_order`` (a subsequence of the CFF charset) as they are."""
    cff = table.cff
    top = cff[cff.fontNames[0]]
    charstrings = top.CharStrings
    if not charstrings.charStringsAreIndexed:
        raise ValueError("CFF charstrings not indexed")
    keep = set(glyph_order)
    indices = [i for i, g in enumerate(top.charset) if g in keep]
    if [top.charset[i] for i in indices] != list(glyph_order):
        raise ValueError("glyph order and CFF charset disagree")
    index = charstrings.charStringsIndex
    items = [index[i] for i in indices]  # loads each charstring as bytes, not decompiled
    index.items = items
    del index.file, index.offsets
    charstrings.charStrings = {g: k for k, g in enumerate(glyph_order)}
    if hasattr(top, "FDSelect"):
        select = top.FDSelect
        used = sorted({select.gidArray[i] for i in indices})
        remap = {old: new for new, old in enumerate(used)}
        select.format = None  # let the compiler choose
        select.gidArray = [remap[select.gidArray[i]] for i in indices]
        fd_array = top.FDArray
        fd_array.items = [fd_array[i] for i in used]
        del fd_array.file, fd_array.offsets
    top.charset = list(glyph_order)
    top.numGlyphs = len(glyph_order)


def _rename(font: Any, family: str) -> None:
    """Family (IDs 1, 16, 21) and full name (4) say ``family`` in every language; the unique ID (3)
    says it is a derived subset; the PostScript name (6) is left as it is."""
    table = font["name"]
    for rec in table.names:
        if rec.nameID in (1, 4, 16, 21):
            text = rec.toUnicode()
            if FONT_FAMILY in text:
                rec.string = text.replace(FONT_FAMILY, family, 1)
            elif rec.nameID != 4:
                rec.string = family
        elif rec.nameID == 3:
            rec.string = f"{rec.toUnicode()};{family.replace(' ', '')}-subset-v{BUILD_VERSION}"


def cmap_chars(path: Path) -> frozenset[int]:
    """The code points a font file maps to glyphs (for checks and tests)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())
