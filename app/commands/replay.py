"""``python main.py replay EVENTS.jsonl [--photos DIR]``: apply exchange-format events exactly once.

Every invalid line is reported with its number and reason; valid lines are applied (each atomically,
with its own timestamp). Exit 0 if every line applied (or had been applied before), 1 if any was
rejected, 2 if the file or store cannot be opened.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.progress import Progress, print_progress


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("events", metavar="EVENTS.jsonl", help="案件事件文件 (JSON Lines) exchange-format events")
    p.add_argument("--photos", metavar="DIR", default=None, help="照片目录: 事件数据中引用的照片文件 photo folder")
    p.add_argument("--quiet", action="store_true", help="不显示进度 no progress line")


def run(args: argparse.Namespace) -> int:
    from app.exchange import replay_file
    from app.workflow import WorkflowEngine, WorkflowError
    from db.store import Store, StoreError

    path = Path(args.events)
    if not path.is_file():
        print(f"错误: 事件文件不存在 events file '{path}' not found", file=sys.stderr)
        return 2
    if args.photos is not None and not Path(args.photos).is_dir():
        print(f"错误: 照片目录不存在 photo folder '{args.photos}' not found", file=sys.stderr)
        return 2
    try:
        store = Store.open(args.store)
    except StoreError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    with store:
        engine = WorkflowEngine(store)
        progress = None if args.quiet else Progress(print_progress)
        try:
            report = replay_file(engine, path, args.photos, progress)
        except WorkflowError as exc:  # e.g. another writer appended events during the replay
            print(f"错误: 回放中止，已提交的事件保留 (replay stopped; committed events stay): {exc}", file=sys.stderr)
            return 1
    for n, reason in report.rejected:
        print(f"第 {n} 行 line {n}: {reason}")
    print(
        f"已应用 {report.applied} 条，跳过已应用 {report.skipped} 条，拒绝 {len(report.rejected)} 条 "
        f"(applied {report.applied}, already applied {report.skipped}, rejected {len(report.rejected)})"
    )
    return 0 if report.ok else 1
