"""``python main.py report --scheme ID --period P --out FILE.xlsx|FILE.pdf [--unit KIND]``: the bulletin (通报)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheme", default="standard", help="考核方案 scheme id, default standard")
    p.add_argument("--period", required=True, help="考核周期 2026-10 | 2026Q3 | 2026 | 2026-10-01..2026-10-15")
    p.add_argument("--out", required=True, help="输出文件 output file, .xlsx or .pdf")
    p.add_argument("--unit", default=None, help="考核对象类型 unit kind (default: every kind the scheme scores)")
    p.add_argument("--quiet", action="store_true", help="不显示进度 / no progress line")


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.evaluation.periods import PeriodError, parse_period
    from app.evaluation.rules import RuleInputError
    from app.evaluation.run import EvaluationError
    from app.evaluation.scheme import SchemeError
    from app.progress import Progress, print_progress
    from app.reports import ReportError, write_report

    try:
        period = parse_period(args.period)
        if not str(args.out).lower().endswith((".xlsx", ".pdf")):
            raise ReportError(f"报告格式不支持 --out='{args.out}' (expected a .xlsx or .pdf file)")
    except (PeriodError, ReportError) as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    store = open_store(args.store)
    if store is None:
        return 1
    try:
        progress = Progress(None if args.quiet else print_progress)
        path = write_report(store, args.scheme, period, args.out, args.unit, progress)
    except (SchemeError, EvaluationError, ReportError) as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    except (RuleInputError, OSError) as exc:
        print(f"数据错误 data error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"已生成 written: {path}")
    return 0
