"""``python main.py import-base FILE --layer LAYER``: import base data after showing its validation report.

Exit codes: 0 written (or ``--check`` found no errors), 1 errors in the data, refusal, or an unreadable
file, 2 usage errors. Nothing is written unless the user answers ``y`` or passes ``--accept-warnings``.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from app.progress import Cancelled, Progress, print_progress
from gisdata.importer import LAYERS, ImportInputError
from gisdata.validation import DEFAULT_TOLERANCE_M2, Report


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="GeoPackage / Shapefile / GeoJSON; 部门与责任划分用 CSV / XLSX")
    p.add_argument("--layer", required=True, choices=list(LAYERS), help="目标图层 target layer")
    p.add_argument(
        "--map", action="append", default=[], metavar="TARGET=SOURCE",
        help="字段映射, 可重复 field mapping, repeatable (e.g. --map code=WGBM --map name=MC)",
    )
    p.add_argument("--encoding", default=None, help="Shapefile/CSV 属性编码 attribute encoding (e.g. gbk)")
    p.add_argument("--accept-warnings", action="store_true", help="有警告时不询问直接导入 write despite warnings")
    p.add_argument("--check", action="store_true", help="只校验不写入 validate only, write nothing")
    p.add_argument("--source-layer", default=None, help="多图层文件中的源图层 layer inside a multi-layer file")
    p.add_argument("--crs", default=None, help="文件缺少坐标系时使用 CRS for a file without one (e.g. EPSG:4549)")
    p.add_argument(
        "--tolerance", type=float, default=DEFAULT_TOLERANCE_M2,
        help=f"网格重叠/缝隙容差 m² overlap/gap tolerance (default {DEFAULT_TOLERANCE_M2:g})",
    )
    p.add_argument(
        "--fix-geometry", action="store_true",
        help="自动修复无效几何 (记为警告) repair invalid geometries with make_valid (reported as warnings)",
    )
    p.add_argument("--report-csv", default=None, metavar="PATH", help="把全部问题写入 CSV write every problem")
    p.add_argument("--limit", type=int, default=100, help="表格最多显示的问题条数 rows shown (default 100)")


def _ask(report: Report) -> bool:
    n = len(report.warnings)
    question = f"有 {n} 条警告, 仍然导入? [y/N] " if n else "确认导入? [y/N] "
    print(question, end="", flush=True)
    answer = sys.stdin.readline()
    if not answer or not sys.stdin.isatty():
        print()  # the answer was not echoed by a terminal
    return answer.strip().lower() in ("y", "yes", "是")


def run(args: argparse.Namespace) -> int:
    from app.base_import import format_report, import_base, write_report_csv
    from db.store import Store, StoreError

    if args.tolerance < 0:
        print(f"用法错误 usage error: --tolerance {args.tolerance:g} 不能为负 must not be negative", file=sys.stderr)
        return 2
    try:
        store = Store.open(args.store)
    except StoreError as exc:
        print(f"错误: {exc}")
        return 1
    progress = Progress(print_progress if sys.stderr.isatty() else _plain_progress)

    def show(report: Report) -> None:
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the carriage-return progress line before the table
        print(format_report(report, args.limit))
        if args.report_csv:
            write_report_csv(report, args.report_csv)
            print(f"全部问题已写入 {args.report_csv}")

    def accept(report: Report) -> bool:
        if args.check:
            return False
        return True if args.accept_warnings else _ask(report)

    try:
        with store:
            outcome = import_base(
                store, Path(args.file), args.layer, accept, mapping=args.map, encoding=args.encoding,
                source_layer=args.source_layer, source_crs=args.crs, tolerance_m2=args.tolerance,
                progress=progress, on_report=show, fix_geometry=args.fix_geometry,
            )
    except ImportInputError as exc:
        print(f"错误: {exc}")
        return 1
    except sqlite3.OperationalError as exc:
        print(f"错误: 数据库无法写入, 可能正被其他程序占用 store not writable (locked?): {exc}; 数据库未改动")
        return 1
    except (KeyboardInterrupt, Cancelled):
        print("已取消, 数据库未改动 (cancelled, store unchanged)")
        return 1
    if outcome.status == "errors":
        print(f"导入已中止: 有 {len(outcome.report.errors)} 个错误, 数据库未改动 (import aborted, store unchanged)")
        return 1
    if outcome.status == "refused":
        if args.check:
            print("只校验, 未写入 (--check: nothing written)")
            return 0
        print("未导入, 数据库未改动 (not accepted, store unchanged)")
        return 1
    print(f"已导入 {outcome.written} 条到 {args.layer} (written)")
    return 0


def _plain_progress(fraction: float, message: str) -> None:
    """Progress as whole lines when stderr is not a terminal (logs, pipes, tests)."""
    print(f"[{fraction * 100:5.1f}%] {message}", file=sys.stderr, flush=True)
