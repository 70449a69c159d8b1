"""Evaluation reports: the monthly bulletin (考核通报) as Excel and PDF.

The bulletin is first assembled as plain data (:class:`Bulletin`) from one evaluation, so the two formats
show exactly the same numbers and a test can check the content without opening a file. The layout
follows how city offices write a 通报: a title with the period, an overall summary, the ranking table,
each unit's items, charts (scores by unit, the trend over recent months, the most frequent problem
classes), the deductions with the case numbers behind them, and the manual items still missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.evaluation import indicators as ind
from app.evaluation.model import EvaluationResult
from app.evaluation.periods import Period, parse_period
from app.progress import Progress
from db import evaluation_repo as repo
from db.store import Store

SUMMARY_INDICATORS = ("reported", "registered", "closed", "due_to_close", "closure_rate", "on_time_closure_rate",
                      "rework_rate", "satisfaction_rate")
TREND_MONTHS = 6


class ReportError(ValueError):
    """A report that cannot be written (unknown format, nothing to report); names the field and value."""


@dataclass(slots=True)
class RankRow:
    rank: int | None
    code: str
    name: str
    total: float
    grade: str
    grade_color: str
    categories: dict[str, float]
    lost: float
    notes: list[str]
    kind: str = ""
    kind_label: str = ""


@dataclass(slots=True)
class ItemRow:
    unit_code: str
    unit_name: str
    item_id: str
    item_name: str
    category: str
    full: float
    points: float
    rule: str
    cases: tuple[str, ...]
    manual: bool
    missing: bool
    bonus: bool

    @property
    def lost(self) -> float:
        return 0.0 if self.bonus else max(0.0, self.full - self.points)


@dataclass(slots=True)
class Bulletin:
    """Everything the bulletin shows, in display order and with Chinese labels."""

    title: str
    subtitle: str
    period: Period
    scheme_id: str
    scheme_version: str
    unit_kind_label: str
    summary: list[tuple[str, str, float | None]]  # label, printed text, raw value
    category_names: list[tuple[str, str]]
    ranking: list[RankRow]
    items: list[ItemRow]
    trend_periods: list[str]
    trend: dict[str, list[float | None]]
    top_classes: list[tuple[str, int]]
    missing: list[tuple[str, str, str]]  # unit code, unit name, item name
    uncomputed: list[str]
    indicator_names: list[str] = field(default_factory=list)
    indicators: dict[str, dict[str, float | None]] = field(default_factory=dict)
    # trend months shown as published (the totals the districts were given), not scored again
    trend_published: list[str] = field(default_factory=list)

    @property
    def deductions(self) -> list[ItemRow]:
        return [it for it in self.items if it.lost > 1e-9 or it.missing]

    def ranking_by_kind(self) -> list[tuple[str, list[RankRow]]]:
        """The ranking split by unit kind (label, rows), in ranking order: a scheme scoring 区, 街道, 网格 and
        部门 ranks each kind on its own, so a first place or a last place is said per kind."""
        groups: dict[str, tuple[str, list[RankRow]]] = {}
        for r in self.ranking:
            groups.setdefault(r.kind, (r.kind_label, []))[1].append(r)
        return list(groups.values())


def fmt_value(name: str, v: float | None) -> str:
    """An indicator value as printed: rates in percent, counts as integers, N/A as 不适用."""
    if v is None:
        return "不适用"
    base = name.partition("@")[0]
    d = ind.DEFINITIONS.get(ind.ALIASES.get(name, base).partition("@")[0])
    if (d is not None and (d.numerator is not None or d.share_of)) or base.endswith("_rate"):
        return f"{v * 100:.2f}%"
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}"


def fmt_points(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.2f}".rstrip("0").rstrip(".")


def _summary(store: Store, period: Period) -> list[tuple[str, str, float | None]]:
    """(label, printed text, raw value) of the city-wide indicators: text for the PDF, numbers for Excel."""
    vals = ind.compute(store, "centre", period, [repo.CENTRE_CODE], SUMMARY_INDICATORS)[repo.CENTRE_CODE]
    return [(ind.label(n), fmt_value(n, vals[n].value), vals[n].value) for n in SUMMARY_INDICATORS]


def build_bulletin(store: Store, scheme_id: str, period: str | Period, unit_kind: str | None = None,
                   progress: Progress | None = None, trend_months: int = TREND_MONTHS) -> Bulletin:
    """Evaluate and assemble the bulletin data (the period and the trend months are evaluated together)."""
    from app.evaluation.run import KIND_LABELS, evaluate_many, kind_order, published_months
    from app.evaluation.scheme import load_scheme

    progress = progress or Progress()
    p = parse_period(period) if isinstance(period, str) else period
    # the trend: this period's months or the months before it (monthly schemes), those with events; they
    # are evaluated together with the period itself (one batch of queries instead of one per month)
    months = p.previous_months(trend_months) if p.kind in ("month", "custom") else p.months()
    last = repo.last_event_at(store.conn) or ""
    shown = [m for m in months if m.start_at <= last]
    # an earlier month that was published is shown as published (read back, not scored again)
    earlier = [m for m in shown if m.key != p.key]
    given = published_months(store, scheme_id, load_scheme(scheme_id, p), earlier, unit_kind) if earlier else {}
    evs = evaluate_many(store, scheme_id, [p, *(m for m in earlier if m.key not in given)], unit_kind,
                        progress.sub(0.0, 0.9))
    ev = evs[0]
    by_month = {e.period.key: e.result for e in evs[1:]}
    by_month.update({k: res for k, (res, _row) in given.items()})
    res: EvaluationResult = ev.result
    scheme = ev.scheme
    progress.report(0.9, "评分完成")
    cat_names = [(c.id, c.name) for c in scheme.categories]
    ranking: list[RankRow] = []
    items: list[ItemRow] = []
    # each kind of unit is ranked on its own: areas from large to small, then departments and posts
    for u in sorted(res.units, key=lambda u: (kind_order(u.kind), u.rank or 10**9, u.code)):
        cats: dict[str, float] = {}
        for it in u.items:
            if it.category:
                cats[it.category] = cats.get(it.category, 0.0) + it.points
            items.append(ItemRow(u.code, u.name, it.id, it.name, it.category, it.full, it.points, it.rule,
                                 tuple(it.cases), it.manual, it.missing, it.bonus))
        lost = sum(max(0.0, it.full - it.points) for it in u.items if not it.bonus)
        ranking.append(RankRow(u.rank, u.code, u.name, u.total, u.grade, u.grade_color, cats, lost, list(u.notes),
                               u.kind, KIND_LABELS.get(u.kind, u.kind)))
    names = {u.code: u.name for u in res.units}
    item_names = {it.item_id: it.item_name for it in items}
    missing = [(code, names.get(code, code), item_names.get(item, item)) for code, item in res.missing_manual]
    # trend: totals per unit
    trend_periods: list[str] = []
    trend: dict[str, list[float | None]] = {u.name: [] for u in sorted(res.units, key=lambda u: (u.rank or 10**9))}
    for m in shown:
        mres = res if m.key == p.key else by_month[m.key]
        trend_periods.append(m.key)
        totals = {u.name: u.total for u in mres.units}
        for name in trend:
            trend[name].append(totals.get(name))
    class_names = repo.class_names(store.conn)
    top = [(class_names.get(code, code), n) for code, n in repo.top_classes(store.conn, p.start_at, p.end_at, 10)]
    ind_names = list(dict.fromkeys(n for u in res.units for n in u.indicators))
    indicators = {u.code: dict(u.indicators) for u in res.units}
    kinds = sorted({u.kind for u in res.units}, key=kind_order) or list(scheme.unit_kinds)
    progress.report(1.0, "完成")
    return Bulletin(
        title=f"数字化城市管理{p.label}考核情况通报",
        subtitle=scheme.name,
        period=p,
        scheme_id=res.scheme_id,
        scheme_version=res.scheme_version,
        unit_kind_label="、".join(KIND_LABELS.get(k, k) for k in kinds),
        summary=_summary(store, p),
        category_names=cat_names,
        ranking=ranking,
        items=items,
        trend_periods=trend_periods,
        trend=trend,
        top_classes=top,
        missing=missing,
        uncomputed=ev.uncomputed,
        indicator_names=ind_names,
        indicators=indicators,
        trend_published=sorted(given),
    )


def write_report(store: Store, scheme_id: str, period: str | Period, out: str | Path, unit_kind: str | None = None,
                 progress: Progress | None = None) -> Path:
    """Write the bulletin to ``out``; the format follows the suffix (``.xlsx`` or ``.pdf``)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise ReportError(f"报告格式不支持 --out='{out}' (expected a .xlsx or .pdf file)")
    bulletin = build_bulletin(store, scheme_id, period, unit_kind, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        from app.reports.xlsx import write_xlsx

        write_xlsx(bulletin, path)
    else:
        from app.reports.pdf import write_pdf

        write_pdf(bulletin, path)
    return path


def chunk(seq: Sequence[str], n: int) -> list[list[str]]:
    return [list(seq[i:i + n]) for i in range(0, len(seq), n)]
