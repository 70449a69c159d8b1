"""``python main.py wall``: open the wall display on a screen, a rectangle of a multi-screen wall, or offscreen.

Reads ``wall.toml`` (``--config``; default ``resources/config/wall.toml``), lets the command line
override pages, interval and period, and never shows a dialog: a missing or broken store only shows
the stale marker while the wall keeps retrying. Exit 2 for usage errors (bad pages, geometry, screen).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

GEOMETRY = re.compile(r"^(\d+)x(\d+)([+-]\d+)([+-]\d+)$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--screen", type=int, default=None, help="屏幕序号 screen number (0 = primary)")
    where.add_argument("--geometry", default=None,
                       help="窗口位置 WxH+X+Y, e.g. 5760x2160+0+0 across a 3×2 wall")
    parser.add_argument("--pages", default=None, help="轮播页面 pages, e.g. map,kpi,scores,hot,cases")
    parser.add_argument("--interval", type=float, default=None, help="每页停留秒数 seconds per page (default 30)")
    parser.add_argument("--period", default=None, help="统计周期 this-month | latest | YYYY-MM")
    parser.add_argument("--pin", default=None, help="固定显示某页 pin one page (no rotation)")
    parser.add_argument("--config", default=None, help="大屏配置 wall.toml")
    parser.add_argument("--panels", default=None,
                        help="拼接屏 列x行 panels of a video wall shown as one screen, e.g. 3x2 (keeps text off the seams)")


def parse_geometry(text: str) -> tuple[int, int, int, int]:
    m = GEOMETRY.match(text.strip())
    if not m:
        raise ValueError(f"窗口几何格式错误 geometry='{text}' (expected WxH+X+Y, e.g. 1920x1080+0+0)")
    w, h, x, y = (int(g) for g in m.groups())
    if w < 64 or h < 64:
        raise ValueError(f"窗口太小 geometry='{text}'")
    return w, h, x, y


def run(args: argparse.Namespace) -> int:
    from app.wall_data import WallDataService, load_config

    try:
        config = load_config(args.config, pages=args.pages, interval=args.interval, period=args.period,
                             panels=getattr(args, "panels", None))
        geometry = parse_geometry(args.geometry) if args.geometry else None
        if args.pin is not None and args.pin not in config.pages:
            raise ValueError(f"固定页面不在轮播页面中 pin='{args.pin}' (pages={','.join(config.pages)})")
    except ValueError as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2

    from PySide6.QtWidgets import QApplication

    from widgets.fonts import install_fonts

    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_fonts(app)  # type: ignore[arg-type]
    from app.mpl_fonts import use_cjk_font

    use_cjk_font()
    from widgets.wall.window import WallWindow

    service = WallDataService(Path(args.store), config, background_scores=True)
    window = WallWindow(service, config, pin=args.pin)
    if geometry is not None:
        w, h, x, y = geometry
        window.setGeometry(x, y, w, h)
        window.show()
    else:
        screens = app.screens()  # type: ignore[attr-defined]
        index = 0 if args.screen is None else args.screen
        if not 0 <= index < len(screens):
            print(f"用法错误 usage error: 屏幕不存在 screen={index} (have {len(screens)})", file=sys.stderr)
            return 2
        screen = screens[index]
        window.setScreen(screen)
        window.setGeometry(screen.geometry())
        window.showFullScreen()
    window.start()
    return int(app.exec())  # type: ignore[attr-defined]
