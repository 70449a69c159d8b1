"""``python main.py verify``: recompute the case record's hash chain and check the projection.

Exit 0 when intact; 1 with the first bad sequence number when anything was altered; 2 if the store
cannot be opened.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="不显示进度 no progress line")
    p.add_argument("--rebuild", action="store_true",
                   help="事件链完好但当前状态不一致时，由事件重建 case_state / rebuild case_state from the record")


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.progress import Progress, print_progress
    from app.record_verify import rebuild_projection, verify_record

    rebuild = getattr(args, "rebuild", False)
    store = open_store(args.store, readonly=not rebuild)
    if store is None:
        return 2
    from app.evaluation.run import verify_published

    with store:
        report = verify_record(store, None if args.quiet else Progress(print_progress))
        if rebuild and not report.ok and report.chain_ok:
            n = rebuild_projection(store)
            print(f"事件链完好，已由事件重建 {n} 个案件的当前状态 (chain intact; case_state rebuilt for {n} cases)")
            report = verify_record(store)
        # Published evaluations must still reproduce from the record ("评价数据随时接受各方质询").
        published = verify_published(store)
    for issue in published:
        print(f"已发布考评不一致 published evaluation #{issue.run_id} {issue.scheme} {issue.period}: {issue.problem}")
    if rebuild and not report.chain_ok:
        print("事件链已损坏，不能重建 (the record itself is damaged; nothing rebuilt)")
    if report.ok and not published:
        print(f"案件记录完好: {report.events} 条事件, {report.cases} 个案件 (record intact: {report.events} events, "
              f"{report.cases} cases)")
        return 0
    if not report.ok:
        print(f"案件记录被修改，第一个错误序号 {report.first_bad_seq} (record altered; first bad seq: {report.first_bad_seq})")
        for p in report.problems:
            print(f"  {p}")
    return 1
