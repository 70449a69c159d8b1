"""``python main.py codes CODE...``: explain division, grid and part codes in Chinese; exit 1 if any is invalid."""

from __future__ import annotations

import argparse

from app.codes_explain import explain_code
from gisdata.codes import CodeError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("codes", nargs="+", metavar="CODE", help="编码 (可含空格分段) codes, spaces allowed when quoted")
    p.add_argument("--catalog", default=None, help="部件分类目录 cjt214-2007 | gbt47678-2026 (default: by length)")


def run(args: argparse.Namespace) -> int:
    bad = 0
    for raw in args.codes:
        try:
            print(f"{raw} → {explain_code(raw, store_path=args.store, catalog=args.catalog)}")
        except CodeError as exc:
            bad += 1
            print(f"{raw} → 错误: {exc}")
    return 1 if bad else 0
