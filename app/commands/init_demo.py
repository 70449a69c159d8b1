"""``python main.py init-demo [--city xuzhou] [--seed N] [--scale demo|city|test] [--store PATH] [--force]``.

Builds the demo city (base data, users, then the simulated year) with progress on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.progress import Cancelled, Progress, print_progress
from gisdata.demo_city import SCALES, available_cities


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--city", default="xuzhou", choices=available_cities(), help="城市 city (real district boundaries)")
    p.add_argument("--seed", type=int, default=1, help="随机种子 seed (same seed, same city)")
    p.add_argument("--scale", default="demo", choices=list(SCALES), help="规模 demo (默认) | city (基准测试) | test")
    p.add_argument("--force", action="store_true", help="覆盖已有文件 replace an existing store")
    p.add_argument("--no-simulate", action="store_true", help="不模拟案件 base data only, no simulated year")


def run(args: argparse.Namespace) -> int:
    from app.demo import DemoError, build_demo

    path = Path(args.store)
    if path.exists() and not args.force:
        print(f"错误: 数据库已存在 store '{path}' exists (use --force to replace it)", file=sys.stderr)
        return 1
    try:
        summary = build_demo(path, city=args.city, seed=args.seed, scale=args.scale,
                             progress=Progress(print_progress), overwrite=True, simulate=not args.no_simulate)
    except DemoError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    except Cancelled:
        print("已取消 cancelled", file=sys.stderr)
        return 1
    f = summary.figures
    print(
        f"已生成演示城市 {path}: {f['districts']} 区 {f['streets']} 街道 {f['communities']} 社区 "
        f"{f['grids']:,} 单元网格 {f['parts']:,} 部件 {f['addresses']:,} 地址 "
        f"({summary.seconds.get('total', 0):.1f} s{', 含模拟案件' if summary.simulated else ''})"
    )
    return 0
