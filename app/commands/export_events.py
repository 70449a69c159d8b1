"""``python main.py export-events [--since SEQ | --from DATE] [--out FILE]``: write exchange-format events.

The output replays into an empty store with the same base data to the same ``case_state``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--since", type=int, default=0, metavar="SEQ", help="只导出序号大于 SEQ 的事件 events after seq")
    g.add_argument("--from", dest="from_at", default=None, metavar="DATE",
                   help="只导出该时间及以后的事件 events at or after DATE (2026-10-01 or ISO 8601)")
    p.add_argument("--out", default=None, metavar="FILE", help="输出文件 (默认标准输出) output file, default stdout")


def run(args: argparse.Namespace) -> int:
    from app import timefmt
    from app.exchange import export_events
    from db.store import Store, StoreError

    from_at = None
    if args.from_at is not None:
        try:
            from_at = timefmt.fmt(timefmt.parse(args.from_at))
        except ValueError as exc:
            print(f"用法错误 usage error: --from {exc}", file=sys.stderr)
            return 2
    if args.since < 0:
        print(f"用法错误 usage error: --since={args.since} 应 >= 0 (must be >= 0)", file=sys.stderr)
        return 2
    try:
        store = Store.open(args.store, readonly=True)
    except StoreError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    with store:
        if args.out is None:
            n = export_events(store, sys.stdout, since_seq=args.since, from_at=from_at)
        else:
            with Path(args.out).open("w", encoding="utf-8") as f:
                n = export_events(store, f, since_seq=args.since, from_at=from_at)
    print(f"已导出 {n} 条事件 exported {n} events", file=sys.stderr)
    return 0
