"""``python main.py evaluate --scheme ID --period 2026-10 [--unit district] [--json] [--publish]``.

Prints the ranking and every deduction with the cases behind it (an evaluator reads it against the
bulletin), or JSON for other programs; says which manual items are still missing, because a score with a
missing 台账 entry is not final. ``--publish`` freezes the result with the hash of its inputs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from app.evaluation.model import EvaluationResult
from app.evaluation.periods import PeriodError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheme", default="standard", help="考核方案 scheme id (resources/schemes/ID.toml), default standard")
    p.add_argument("--period", required=True, help="考核周期 2026-10 | 2026Q3 | 2026 | 2026-10-01..2026-10-15")
    p.add_argument("--unit", default=None, help="考核对象类型 unit kind: district street department inspector …")
    p.add_argument("--json", action="store_true", help="输出 JSON / print JSON")
    p.add_argument("--publish", action="store_true", help="发布并冻结结果 / publish (freeze) the result")
    p.add_argument("--recompute", action="store_true",
                   help="季度/年度汇总时重新计算已发布的月份 / roll up from recomputed months, not the published ones")
    p.add_argument("--by", default="", help="发布人 who publishes (with --publish)")
    p.add_argument("--cases", type=int, default=5, help="每项最多列出的案件数 cases listed per item (table), default 5")


def _num(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "不适用"
    if pct:
        return f"{v * 100:.2f}%"
    return f"{v:g}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}"


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def render_table(result: EvaluationResult, title: str, period_label: str, uncomputed: list[str],
                 max_cases: int = 5) -> str:
    """The Chinese text an evaluator reads: ranking, then each unit's deductions with their cases."""
    lines = [f"{title}  {period_label}  (方案 {result.scheme_id} 版本 {result.scheme_version})", ""]
    head = ["排名", "编码", "名称", "总分", "等级"]
    rows = [[str(u.rank or "-"), u.code, u.name, _num(u.total), u.grade or "-"]
            for u in sorted(result.units, key=lambda u: (u.rank or 10**9, u.code))]
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines.append("  ".join(_pad(h, w) for h, w in zip(head, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(_pad(c, w) for c, w in zip(r, widths)) for r in rows)
    lines.append("")
    lines.append("扣分明细 (项目 得分/满分 规则 案件):")
    for u in sorted(result.units, key=lambda u: (u.rank or 10**9, u.code)):
        lost = [it for it in u.items if it.points < it.full - 1e-9 or it.missing]
        if not lost:
            continue
        lines.append(f"  {u.code} {u.name}  总分 {_num(u.total)}")
        for it in lost:
            mark = " [人工项未录入]" if it.missing else ""
            lines.append(f"    {it.id} {it.name} {_num(it.points)}/{_num(it.full)}{mark}: {it.rule}")
            if it.cases:
                more = f" 等{len(it.cases)}件" if len(it.cases) > max_cases else ""
                lines.append(f"      案件: {', '.join(it.cases[:max_cases])}{more}")
        for note in u.notes:
            lines.append(f"    注: {note}")
    if result.missing_manual:
        by_item: dict[str, list[str]] = {}
        for unit, item in result.missing_manual:
            by_item.setdefault(item, []).append(unit)
        lines.append("")
        lines.append(f"尚缺人工考评项 {len(result.missing_manual)} 项 (missing manual items; 用 `main.py score` 录入):")
        for item, units in by_item.items():
            lines.append(f"  {item}: {', '.join(units)}")
    if uncomputed:
        lines.append("")
        lines.append(f"未计算的指标 (按不适用处理) indicators not computable from the case record: {', '.join(uncomputed)}")
    return "\n".join(lines)


def to_json(result: EvaluationResult, uncomputed: list[str], published: int | None = None,
            published_months: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    data = result.to_dict()
    data["uncomputed_indicators"] = uncomputed
    if published is not None:
        data["published_run"] = published
    if published_months:
        data["published_months"] = [{"period": k, "run": run_id} for k, run_id in published_months]
    return data


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.evaluation.periods import parse_period
    from app.evaluation.rules import RuleInputError
    from app.evaluation.run import EvaluationError, evaluate_full, publish
    from app.evaluation.scheme import SchemeError

    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    if args.publish and args.recompute:
        print("用法错误 usage error: --recompute 不能与 --publish 同用 (a published roll-up reads the published "
              "months; publish the months again first)", file=sys.stderr)
        return 2
    store = open_store(args.store)
    if store is None:
        return 1
    try:
        ev = evaluate_full(store, args.scheme, period, args.unit, recompute=args.recompute)
        run_id = None
        if args.publish:
            run_id = publish(store, args.scheme, period, args.unit, by=args.by or None)
    except (SchemeError, EvaluationError) as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    except RuleInputError as exc:
        print(f"数据错误 data error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        print(json.dumps(to_json(ev.result, ev.uncomputed, run_id, ev.published_months), ensure_ascii=False, indent=1))
    else:
        print(render_table(ev.result, ev.scheme.name, period.label, ev.uncomputed, args.cases))
        if ev.published_months:
            used = "、".join(f"{k} (#{run_id})" for k, run_id in ev.published_months)
            print(f"\n月度得分取自已发布的考核结果 monthly scores from published runs: {used}"
                  "（--recompute 重新计算 / to recompute them）")
        if run_id is not None:
            print(f"\n已发布 published: evaluation_run #{run_id}")
    return 0
