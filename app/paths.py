"""Where things live: the default store and the project's resources.

The default store follows ``QStandardPaths.AppDataLocation`` on each platform (computed here without
Qt so the command line starts fast): ``$XDG_DATA_HOME/Wanmi/wanmi.gpkg`` (``~/.local/share`` by
default) on Linux, ``%APPDATA%/Wanmi`` on Windows, ``~/Library/Application Support/Wanmi`` on macOS.
``WANMI_STORE`` overrides it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
FONTS = RESOURCES / "fonts"
FONT_REGULAR = FONTS / "NotoSansCJKsc-Regular.otf"
FONT_BOLD = FONTS / "NotoSansCJKsc-Bold.otf"
FONT_FAMILY = "Noto Sans CJK SC"
CONFIG = RESOURCES / "config"
SCHEMES = RESOURCES / "schemes"


def data_dir() -> Path:
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "Wanmi"


def default_store() -> Path:
    env = os.environ.get("WANMI_STORE")
    return Path(env) if env else data_dir() / "wanmi.gpkg"
