"""``python main.py init --store PATH [--catalog ID]``: create an empty store."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.base_data import create_empty_store
from gisdata.catalog import catalog_ids
from gisdata.codes import CATALOG_LEGACY


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", default=CATALOG_LEGACY, choices=catalog_ids(), help="部件事件分类目录")
    p.add_argument("--force", action="store_true", help="覆盖已有文件 overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    path = Path(args.store)
    if path.exists() and not args.force:
        print(f"错误: 文件已存在 store '{path}' exists (use --force)")
        return 1
    create_empty_store(path, args.catalog, overwrite=args.force)
    print(f"已创建空数据库 {path} (分类目录 {args.catalog})")
    return 0
