"""``python main.py unit-attr --kind district --unit 320302 --set group=1 [--scheme ID] --by USER`` and
``python main.py unit-attr --list [--kind K] [--scheme ID]``.

Sets what the scoring methods read about a unit but no base data carries: the ranking group (平度 四组,
202* 方案 第一组/第二组), a difficulty coefficient (郑州 难度系数), exemption from rewards (不参加经济奖惩),
the number of road sections. ``--set name=`` (empty value) clears an attribute. Every change is kept.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", help="考核对象类型 unit kind: district, street, department … (or a scheme's own kind)")
    p.add_argument("--unit", help="考核对象编码 unit code")
    p.add_argument("--set", dest="assign", action="append", default=[], metavar="NAME=VALUE",
                   help="属性 attribute, e.g. group=1, difficulty=1.2, no_reward=true (repeatable; NAME= clears)")
    p.add_argument("--scheme", help="只用于该方案 only for this scheme (default: every scheme)")
    p.add_argument("--by", default="", help="录入人 who sets it")
    p.add_argument("--list", action="store_true", help="列出已录入的属性 list the attributes entered")


def run(args: argparse.Namespace) -> int:
    from app.commands.common import open_store
    from app.evaluation.run import EvaluationError, set_unit_attribute
    from app.evaluation.scheme import SchemeError
    from db import evaluation_repo as repo

    if not args.list:
        missing = [f"--{n}" for n, v in (("kind", args.kind), ("unit", args.unit), ("set", args.assign)) if not v]
        if missing:
            print(f"用法错误 usage error: 缺少参数 missing {', '.join(missing)} (or use --list)", file=sys.stderr)
            return 2
        pairs = []
        for text in args.assign:
            name, eq, value = text.partition("=")
            if not eq:
                print(f"用法错误 usage error: 属性应写成 名称=值 --set='{text}' (e.g. group=1)", file=sys.stderr)
                return 2
            pairs.append((name.strip(), value.strip() or None))
    store = open_store(args.store)
    if store is None:
        return 1
    try:
        if args.list:
            for _id, kind, code, name, value, scheme, by, at in repo.unit_attribute_rows(store.conn, args.kind, args.scheme):
                shown = "(清除 cleared)" if value is None else value
                print(f"#{_id}\t{kind}\t{code}\t{name}={shown}\t{scheme or '所有方案'}\t{by}\t{at}")
            return 0
        with store.atomic():  # all of one command's attributes, or none
            ids = [set_unit_attribute(store, args.kind, args.unit, n, v, args.by, args.scheme) for n, v in pairs]
    except (SchemeError, EvaluationError) as exc:
        print(f"用法错误 usage error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for (n, v), i in zip(pairs, ids):
        print(f"已录入 #{i}: {args.kind} {args.unit} {n}={'(清除)' if v is None else v}"
              f"{' (' + args.scheme + ')' if args.scheme else ''}")
    return 0
