"""Base-data import: read a file, validate it against the store's base data, and apply it in one transaction.

The three steps are separate on purpose. :func:`plan_import` reads and validates without writing, so the
command line (and later a dialog) can show the report and ask. :func:`apply_import` refuses a plan with
errors and writes everything inside a single ``store.atomic()`` block, so an error, a cancel or a killed
process leaves the store exactly as it was. :func:`import_base` joins them with an ``accept`` callback:
nothing is written unless that callback says yes.

Features whose key (code, or kind and full name for addresses) is already in the store replace the stored
ones; the report lists each as a warning. Departments are replaced by code; responsibility rows are added
(rows already present are left alone).
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.progress import Progress
from db import gpkg, import_repo
from db.store import Store
from gisdata.catalog import load_catalog
from gisdata.codes import CATALOG_LEGACY
from gisdata.importer import LAYERS, SourceLayer, layer_spec, parse_mapping, read_source
from gisdata.validation import (
    DEFAULT_TOLERANCE_M2,
    KIND_LABELS,
    PARENT,
    Report,
    StoreContext,
    responsibility_key,
    validate,
)

# Set by the interruption test: the importer prints PAUSE_MARKER inside the write transaction after the
# first chunk and blocks reading stdin, so the test can kill it at a known point without sleeping.
PAUSE_ENV = "WANMI_TEST_PAUSE_IMPORT"
PAUSE_MARKER = "WANMI-IMPORT-PAUSED"

_PARENT_TABLE = {"district": "district", "street": "street", "community": "community"}
_DEFAULTS = {"area_class": "一类区域", "road_class": "次干道", "key_area": 0, "status": "完好", "data_source": "实测"}


class ImportRefused(RuntimeError):
    """``apply_import`` was asked to write a plan whose report has errors."""


@dataclass(slots=True)
class ImportPlan:
    """A read and validated file, ready to be shown and, if accepted, written."""

    source: SourceLayer
    report: Report
    context: StoreContext

    @property
    def layer(self) -> str:
        return self.source.spec.name

    @property
    def table(self) -> str:
        return self.source.spec.table


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    report: Report
    status: str  # "written", "errors" or "refused"
    written: int = 0


def _bbox(source: SourceLayer, margin: float = 0.002) -> tuple[float, float, float, float] | None:
    import shapely

    geoms = [f.geom for f in source.features if f.geom is not None and not f.geom.is_empty]
    if not geoms:
        return None
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    return minx - margin, miny - margin, maxx + margin, maxy + margin


def build_context(store: Store, source: SourceLayer) -> StoreContext:
    """Read what the checks of this layer need from the store (only the parents and grids near the data)."""
    import shapely

    conn = store.conn
    layer = source.spec.name
    catalog = import_repo.store_catalog(conn) or CATALOG_LEGACY
    ctx = StoreContext(catalog_id=catalog)
    if source.spec.geometry == "none":
        ctx.departments = import_repo.department_codes(conn)
        ctx.districts = import_repo.keys(conn, "district")
        if layer == "departments":
            ctx.existing = set(ctx.departments)
        else:
            ctx.all_class_codes = frozenset(import_repo.catalog_classes(conn, catalog))
            ctx.area_codes = import_repo.area_codes(conn)
            ctx.existing = import_repo.responsibility_keys(conn)
        return ctx
    ctx.existing = import_repo.keys(conn, source.spec.table)
    if layer in PARENT:
        level, n = PARENT[layer]
        table = _PARENT_TABLE[level]
        ctx.parent_codes = import_repo.keys(conn, table)
        needed = {(f.attrs.get("code") or "")[:n] for f in source.features}
        ctx.parent_geoms = {c: shapely.from_wkb(w) for c, w, _ in import_repo.geometries(conn, table, codes=needed)}
        if layer == "grids":
            ctx.communities = ctx.parent_geoms
    if layer in ("grids", "parts", "addresses"):
        bbox = _bbox(source)
        if bbox is not None:
            rows = import_repo.geometries(conn, "unit_grid", bbox=bbox)
            if layer == "grids":  # every grid of the touched communities, however far, for their gaps
                rows += import_repo.grids_of_communities(conn, {(f.attrs.get("code") or "")[:12]
                                                                for f in source.features})
            for code, wkb, comm in rows:
                if code not in ctx.grids:
                    ctx.grids[code] = shapely.from_wkb(wkb)
                if comm:
                    ctx.grid_community[code] = comm
    if layer == "parts":
        ctx.class_codes = frozenset(import_repo.catalog_classes(conn, catalog, "part"))
        ctx.districts = import_repo.keys(conn, "district")
    if layer == "addresses":
        ctx.district_names = import_repo.district_names(conn)
    return ctx


def plan_import(
    store: Store,
    path: str | Path,
    layer: str,
    mapping: Sequence[str] | dict[str, str] | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    source_crs: str | None = None,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    progress: Progress | None = None,
    fix_geometry: bool = False,
) -> ImportPlan:
    """Read and validate; writes nothing. Raises ``ImportInputError`` when the file cannot be read as ``layer``."""
    progress = progress or Progress()
    spec = layer_spec(layer)
    fields = mapping if isinstance(mapping, dict) else parse_mapping(mapping, spec)
    progress.report(0.05, f"读取 {Path(path).name}")
    source = read_source(path, layer, fields, encoding, source_layer, source_crs)
    progress.check()
    progress.report(0.3, f"校验 {len(source.features)} 个要素")
    ctx = build_context(store, source)
    report = validate(source, ctx, tolerance_m2, fix_geometry)
    progress.report(0.5, "校验完成")
    return ImportPlan(source, report, ctx)


def _initials(name: str) -> str:
    """Pinyin initials for address search, exactly as the demo city writes them (``解放路12号`` → ``jfl12h``)."""
    from gisdata.demo_city import initials

    return initials(name)


def geometry_blobs(geoms: Sequence[Any], polygon: bool) -> list[bytes]:
    """GeoPackage blobs for valid, non-empty geometries, vectorised; polygons become MultiPolygons.

    Points use the compact envelope-less form the demo builder writes too.
    """
    import numpy as np
    import shapely

    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) == 0:
        return []
    types = shapely.get_type_id(arr)
    if polygon:
        for k in np.flatnonzero(types == 3):
            arr[k] = shapely.MultiPolygon([arr[k]])
    wkbs = shapely.to_wkb(arr, byte_order=1)
    bounds = shapely.bounds(arr)
    xs, ys = bounds[:, 0], bounds[:, 1]
    out: list[bytes] = []
    for i in range(len(arr)):
        if types[i] == 0:
            out.append(gpkg.encode_point(float(xs[i]), float(ys[i])))
        else:
            b = bounds[i]
            out.append(gpkg.encode(wkbs[i], (float(b[0]), float(b[1]), float(b[2]), float(b[3]))))
    return out


def build_rows(plan: ImportPlan) -> list[tuple[Any, ...]]:
    """The rows to write, in the column order of ``db.import_repo`` (geometry first for features)."""
    layer, report = plan.layer, plan.report
    rows: list[tuple[Any, ...]] = []
    class_names: dict[str, str] = {}
    if layer == "parts":
        class_names = {c.class_code: c.name for c in load_catalog(plan.context.catalog_id).of_kind("part")}
    feats = [f for f in plan.source.features if f.fid not in report.skip]
    blobs: list[bytes] = []
    if plan.source.spec.geometry != "none":
        blobs = geometry_blobs([f.geom for f in feats], plan.source.spec.geometry == "polygon")
    cols = import_repo.FEATURE_COLUMNS.get(plan.table, ())
    for i, f in enumerate(feats):
        a: dict[str, Any] = {**f.attrs, **report.derived.get(f.fid, {})}
        for k, v in _DEFAULTS.items():
            if a.get(k) is None:
                a[k] = v
        if layer == "departments":
            rows.append(tuple(a.get(k) for k in ("code", "name", "kind", "district_code", "parent_code")))
            continue
        if layer == "responsibility":
            rows.append((a["class_code"], a["area_code"], a["department"]))
            continue
        if layer == "parts" and not a.get("name"):
            a["name"] = class_names.get(a.get("class_code") or "")
        if layer == "addresses" and not a.get("initials"):
            a["initials"] = _initials(a["name"])
        rows.append((blobs[i], *(a.get(c) for c in cols)))
    return rows


def _pause_for_test() -> None:
    print(PAUSE_MARKER, file=sys.stderr, flush=True)
    sys.stdin.readline()


def apply_import(store: Store, plan: ImportPlan, progress: Progress | None = None) -> int:
    """Write an accepted plan in ONE transaction; any exception (or ``Cancelled``) rolls everything back."""
    if plan.report.has_errors:
        raise ImportRefused(
            f"校验有 {len(plan.report.errors)} 个错误, 不能导入 the report has errors; nothing was written"
        )
    progress = progress or Progress()
    rows = build_rows(plan)
    pause = bool(os.environ.get(PAUSE_ENV))
    paused = False

    def after_chunk(done: int, total: int) -> None:
        nonlocal paused
        progress.report(0.5 + 0.5 * done / max(total, 1), f"写入 {done}/{total}")
        progress.check()
        if pause and not paused:
            paused = True
            _pause_for_test()

    with store.atomic() as conn:
        if plan.layer == "departments":
            n = import_repo.upsert_departments(conn, rows)
            after_chunk(n, n)
        elif plan.layer == "responsibility":
            n = import_repo.add_responsibility(conn, rows)  # type: ignore[arg-type]
            after_chunk(len(rows), len(rows))
        else:
            n = import_repo.replace_features(conn, plan.table, rows, after_chunk)
    progress.report(1.0, f"已写入 {n} 条")
    return n


def import_base(
    store: Store,
    path: str | Path,
    layer: str,
    accept: Callable[[Report], bool],
    mapping: Sequence[str] | dict[str, str] | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    source_crs: str | None = None,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    progress: Progress | None = None,
    on_report: Callable[[Report], None] | None = None,
    fix_geometry: bool = False,
) -> ImportOutcome:
    """Plan, show (``on_report``), ask (``accept``) and apply. Errors never reach ``accept``."""
    plan = plan_import(
        store, path, layer, mapping, encoding, source_layer, source_crs, tolerance_m2, progress, fix_geometry
    )
    if on_report is not None:
        on_report(plan.report)
    if plan.report.has_errors:
        return ImportOutcome(plan.report, "errors")
    if not accept(plan.report):
        return ImportOutcome(plan.report, "refused")
    n = apply_import(store, plan, progress)
    return ImportOutcome(plan.report, "written", n)


# -- the report as text -------------------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _clip(text: str, width: int) -> str:
    out, w = "", 0
    for ch in text:
        cw = _width(ch)
        if w + cw > width - 1:
            return out + "…"
        out += ch
        w += cw
    return out


def summary_lines(report: Report) -> list[str]:
    spec = LAYERS[report.layer]
    crs = f"{report.crs} → EPSG:4490" if report.crs and report.crs != "EPSG:4490" else (report.crs or "")
    lines = [
        f"文件 {report.source}" + (f" ({crs})" if crs else ""),
        f"图层 {report.layer} ({spec.label}): {report.feature_count} 个要素; "
        f"错误 {len(report.errors)} 条, 警告 {len(report.warnings)} 条"
        + (f"; 将覆盖已有 {report.replaced} 个" if report.replaced else ""),
    ]
    kinds = report.kinds()
    if kinds:
        lines.append("问题分类: " + ", ".join(f"{KIND_LABELS.get(k, k)} {n}" for k, n in sorted(kinds.items())))
    return lines


def format_report(report: Report, limit: int | None = 100) -> str:
    """A readable Chinese table: 级别 | 问题 | 要素 | 编码 | 说明, errors first."""
    lines = summary_lines(report)
    problems = report.sorted_problems()
    if problems:
        shown = problems if limit is None else problems[:limit]
        head = ("级别", "问题", "要素", "编码", "说明")
        body = [(p.severity_label, p.kind_label, p.feature, p.code, p.message) for p in shown]
        widths = [max(_width(r[i]) for r in [head, *body]) for i in range(4)]
        widths = [min(w, 22) for w in widths]
        lines.append("")
        lines.append("  ".join(_pad(h, w) for h, w in zip(head[:4], widths)) + "  " + head[4])
        lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 20)
        for r in body:
            cells = [_pad(_clip(c, w) if _width(c) > w else c, w) for c, w in zip(r[:4], widths)]
            lines.append("  ".join(cells) + "  " + r[4])
        if len(problems) > len(shown):
            lines.append(f"… 另有 {len(problems) - len(shown)} 条未显示 (more not shown; use --report-csv FILE)")
    else:
        lines.append("未发现问题 no problems found")
    return "\n".join(lines)


def write_report_csv(report: Report, path: str | Path) -> None:
    """Every problem, for a spreadsheet (UTF-8 with BOM so Excel shows the Chinese)."""
    import csv

    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["severity", "级别", "kind", "问题", "feature", "code", "message"])
        for p in report.sorted_problems():
            w.writerow([p.severity, p.severity_label, p.kind, p.kind_label, p.feature, p.code, p.message])


__all__ = [
    "ImportOutcome",
    "ImportPlan",
    "ImportRefused",
    "apply_import",
    "build_context",
    "format_report",
    "import_base",
    "plan_import",
    "responsibility_key",
]
