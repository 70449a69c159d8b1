"""``python main.py score --scheme ID --period P --unit CODE --item ID --points X --reason … --evidence … --by USER``.

Records a manual item (台账, 终端管理, 现场考评, 第三方测评 …) in ``score_entry``. The entry is checked
against the scheme's manual items, the unit and the item's full marks first, because a mistyped item id
would otherwise sit unused while the evaluation still reports the item as missing.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheme", required=True, help="考核方案 scheme id")
    p.add_argument("--period", required=True, help="考核周期 2026-10 (年度项用 2026)")
    p.add_argument("--unit", required=True, help="考核对象编码 unit code (district, department, window …)")
    p.add_argument("--item", required=True, help="人工考评项 manual item id (see `evaluate`)")
    p.add_argument("--points", required=True, help="分值 points (扣分项用负数, e.g. -2)")
    p.add_argument("--reason", required=True, help="理由 reason")
    p.add_argument("--evidence", default="", help="依据/证据 evidence (document, photo, file)")
    p.add_argument("--by", required=True, help="录入人 evaluator id")


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.evaluation.periods import PeriodError
    from app.evaluation.run import EvaluationError, enter_score
    from app.evaluation.scheme import SchemeError

    try:
        points = float(args.points)
    except ValueError:
        print(f"用法错误 usage error: 分值不是数字 --points='{args.points}' (expected a number)", file=sys.stderr)
        return 2
    store = open_store(args.store)
    if store is None:
        return 1
    try:
        entry_id = enter_score(store, args.scheme, args.period, args.unit, args.item, points, args.reason,
                               args.evidence, args.by)
    except (PeriodError, SchemeError, EvaluationError) as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"已录入 entered score_entry #{entry_id}: {args.scheme} {args.period} {args.unit} {args.item} {points:g}")
    return 0
