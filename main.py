"""Wanmi (万米) command line: the console by default, and the store, exchange and evaluation commands.

Each command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``; this file
only routes, importing the chosen module lazily so that ``python main.py codes ...`` starts fast.
Exit codes: 0 success, 1 data error, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from app.paths import default_store

COMMANDS: dict[str, tuple[str, str]] = {
    "console": ("widgets.console_app", "打开坐席控制台 (default) / open the seat console"),
    "wall": ("widgets.wall.app", "打开大屏 / open the wall display"),
    "init": ("app.commands.init_store", "创建空数据库 / create an empty store"),
    "init-demo": ("app.commands.init_demo", "生成演示城市 / build the demo city with a simulated year"),
    "import-base": ("app.commands.import_base", "导入基础数据 / import base data with a validation report"),
    "replay": ("app.commands.replay", "回放案件事件 / apply exchange-format events"),
    "export-events": ("app.commands.export_events", "导出案件事件 / write exchange-format events"),
    "evaluate": ("app.commands.evaluate", "计算考评 / compute an evaluation"),
    "score": ("app.commands.score", "录入人工考评项 / enter a manual scoring item"),
    "unit-attr": ("app.commands.unit_attr", "考核对象属性 / set a unit's group, difficulty, reward exemption"),
    "report": ("app.commands.report", "生成考评通报 / write an evaluation report"),
    "codes": ("app.commands.codes", "解释编码 / explain grid, part and division codes"),
    "where": ("app.commands.where", "逆地理编码 / reverse geocode a point"),
    "verify": ("app.commands.verify", "校验案件记录 / verify the event chain and projection"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"用法错误 usage error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="main.py", description="万米 Wanmi 数字城管监督指挥控制台")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--store", default=str(default_store()), help="数据库文件 store path (WANMI_STORE)")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                p.set_defaults(_missing=module)
                continue
            raise
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["console", *argv]
    name = argv[0]
    if name in COMMANDS:
        # Parse only the chosen command so other commands' modules are not imported.
        parser = _Parser(prog=f"main.py {name}", description=COMMANDS[name][1])
        parser.add_argument("--store", default=str(default_store()), help="数据库文件 store path (WANMI_STORE)")
        mod = importlib.import_module(COMMANDS[name][0])
        mod.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        args.command = name
        return int(mod.run(args) or 0)
    build_parser().parse_args(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
