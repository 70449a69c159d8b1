"""Reading base data files for import: GeoPackage, Shapefile and GeoJSON through pyogrio, CSV and XLSX tables.

Cities keep their base data in whatever their surveyor delivered: Shapefiles with GBK attributes and
upper-case field names, GeoPackages in a Gauss-Krüger zone, GeoJSON in WGS 84. This module turns any of
them into plain :class:`Feature` records in the store's CRS (EPSG:4490) with attributes under the store's
own column names, so that :mod:`gisdata.validation` and the writer never see a source format. Nothing here
judges the data (that is the validation report's job) beyond what is needed to read it at all: a file
without a CRS, a missing required field or an unknown ``--map`` target is an :class:`ImportInputError`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gisdata.codes import CodeError, normalize_grid

STORE_CRS = "EPSG:4490"


class ImportInputError(ValueError):
    """The file cannot be read as the requested layer at all (the message is Chinese + English)."""


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """What one ``--layer`` expects: its store table, target fields and geometry kind."""

    name: str
    table: str
    label: str  # Chinese name shown in reports
    geometry: str  # "polygon", "point", "any" or "none"
    fields: tuple[str, ...]
    required: tuple[str, ...]


LAYERS: dict[str, LayerSpec] = {
    s.name: s
    for s in (
        LayerSpec("districts", "district", "区", "polygon", ("code", "name", "city"), ("code", "name")),
        LayerSpec("streets", "street", "街道", "polygon", ("code", "name", "district_code"), ("code", "name")),
        LayerSpec(
            "communities", "community", "社区", "polygon",
            ("code", "name", "street_code", "district_code"), ("code", "name"),
        ),
        LayerSpec(
            "grids", "unit_grid", "单元网格", "polygon",
            ("code", "community_code", "street_code", "district_code", "area_class", "road_class", "key_area",
             "inspector_id"),
            ("code",),
        ),
        LayerSpec(
            "parts", "part", "部件", "any",
            ("code", "class_code", "name", "owner_dept", "custodian_dept", "maintainer_dept", "status",
             "grid_code", "since", "changed", "data_source", "note"),
            ("code",),
        ),
        LayerSpec(
            "addresses", "address", "地址", "point",
            ("kind", "name", "full_name", "street_name", "house_no", "grid_code", "initials"), ("kind", "name"),
        ),
        LayerSpec(
            "departments", "department", "部门", "none",
            ("code", "name", "kind", "district_code", "parent_code"), ("code", "name"),
        ),
        LayerSpec(
            "responsibility", "responsibility", "责任划分", "none",
            ("class_code", "area_code", "department"), ("class_code", "area_code", "department"),
        ),
    )
}
SPATIAL_LAYERS = tuple(n for n, s in LAYERS.items() if s.geometry != "none")
TABLE_LAYERS = tuple(n for n, s in LAYERS.items() if s.geometry == "none")


@dataclass(slots=True)
class Feature:
    """One source feature (or table row): ``fid`` is its id in the source, as the report names it.

    ``raw_code`` keeps the code as written in the file (a 14-digit grid code before conversion).
    ``geom`` is a shapely geometry in EPSG:4490, or ``None`` when the source had none.
    """

    fid: str
    attrs: dict[str, str | None]
    geom: Any = None
    raw_code: str | None = None


@dataclass(slots=True)
class SourceLayer:
    """Everything read from one file for one target layer."""

    spec: LayerSpec
    path: Path
    crs: str  # the source CRS as a short name ("EPSG:4549") or "" for tables
    features: list[Feature] = field(default_factory=list)
    source_layer: str | None = None


def layer_spec(name: str) -> LayerSpec:
    try:
        return LAYERS[name]
    except KeyError:
        raise ImportInputError(
            f"未知的图层 layer '{name}' (应为 expected one of: {', '.join(LAYERS)})"
        ) from None


def parse_mapping(items: Iterable[str] | None, spec: LayerSpec) -> dict[str, str]:
    """``["code=WGBM", "name=MC"]`` → ``{"code": "WGBM", "name": "MC"}``; targets must be the layer's fields."""
    mapping: dict[str, str] = {}
    for item in items or ():
        target, sep, source = item.partition("=")
        target, source = target.strip(), source.strip()
        if not sep or not target or not source:
            raise ImportInputError(f"字段映射格式错误 --map '{item}': 应为 target=source (expected target=source)")
        if target not in spec.fields:
            raise ImportInputError(
                f"字段映射的目标字段不存在 --map target '{target}' is not a field of layer {spec.name} "
                f"(可用 available: {', '.join(spec.fields)})"
            )
        mapping[target] = source
    return mapping


def clean_value(value: Any) -> str | None:
    """A source value as stripped text; numbers that are whole lose their ``.0`` (codes stored as numbers)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return clean_value(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return str(value.isoformat())
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    if text.lower() in ("nan", "nat", "none", "null"):
        return None
    return text or None


def resolve_columns(spec: LayerSpec, columns: Sequence[str], mapping: dict[str, str]) -> dict[str, str]:
    """Target field → source column. Unmapped targets match a column of the same name, ignoring case."""
    by_lower = {c.lower(): c for c in columns}
    resolved: dict[str, str] = {}
    for target, source in mapping.items():
        col = source if source in columns else by_lower.get(source.lower())
        if col is None:
            raise ImportInputError(
                f"源字段不存在 --map {target}={source}: 文件中没有字段 '{source}' "
                f"(source field not found; 可用 available: {', '.join(columns)})"
            )
        resolved[target] = col
    for target in spec.fields:
        if target not in resolved and target.lower() in by_lower:
            resolved[target] = by_lower[target.lower()]
    missing = [t for t in spec.required if t not in resolved]
    if missing:
        raise ImportInputError(
            f"缺少必需字段 required field(s) {', '.join(missing)} for layer {spec.name}: "
            f"文件字段 file fields are {', '.join(columns) or '(none)'}; 用 --map {missing[0]}=源字段 指定"
        )
    return resolved


def _normalize_code(spec: LayerSpec, attrs: dict[str, str | None]) -> str | None:
    """Grid codes: the 14-digit legacy form becomes 15 digits. Malformed codes stay as they are."""
    raw = attrs.get("code")
    if raw is not None:
        raw = raw.replace(" ", "")
        attrs["code"] = raw
    if spec.name == "grids" and raw is not None and len(raw) == 14:
        with contextlib.suppress(CodeError):
            attrs["code"] = normalize_grid(raw)
    for key in ("grid_code",):
        v = attrs.get(key)
        if v is not None and len(v.replace(" ", "")) == 14:
            with contextlib.suppress(CodeError):
                attrs[key] = normalize_grid(v)
    return raw


def _is_shapefile(path: Path) -> bool:
    return path.suffix.lower() in (".shp", ".dbf", ".zip")


def list_source_layers(path: Path) -> list[str]:
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise ImportInputError(f"无法读取文件 cannot read '{path}': {exc}") from None


def _pick_source_layer(path: Path, spec: LayerSpec, source_layer: str | None) -> str | None:
    names = list_source_layers(path)
    if source_layer is not None:
        if source_layer not in names:
            raise ImportInputError(
                f"源图层不存在 --source-layer '{source_layer}' not in '{path.name}' (可用 available: {', '.join(names)})"
            )
        return source_layer
    if len(names) <= 1:
        return names[0] if names else None
    for candidate in (spec.name, spec.table):
        if candidate in names:
            return candidate
    raise ImportInputError(
        f"文件有多个图层, 请用 --source-layer 指定 '{path.name}' has several layers: {', '.join(names)}"
    )


def read_features(
    path: str | Path,
    layer: str,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    source_crs: str | None = None,
) -> SourceLayer:
    """Read a GeoPackage, Shapefile or GeoJSON as features of ``layer`` in EPSG:4490.

    ``encoding`` applies to Shapefile attributes (``gbk`` for most Chinese data without a ``.cpg``).
    ``source_crs`` only fills in a missing CRS; a file's own definition always wins over guessing.
    """
    import pyogrio
    import shapely

    p = Path(path)
    spec = layer_spec(layer)
    if spec.geometry == "none":
        raise ImportInputError(f"图层 {layer} 是表格, 请用 CSV 或 XLSX (layer {layer} takes CSV or XLSX)")
    if not p.exists():
        raise ImportInputError(f"文件不存在 file '{p}' does not exist")
    chosen = _pick_source_layer(p, spec, source_layer)
    kwargs: dict[str, Any] = {"fid_as_index": True}
    if chosen is not None:
        kwargs["layer"] = chosen
    if encoding and _is_shapefile(p):
        kwargs["encoding"] = encoding
    try:
        gdf = pyogrio.read_dataframe(p, **kwargs)
    except UnicodeDecodeError as exc:
        raise ImportInputError(f"属性编码错误 cannot decode attributes of '{p.name}' (try --encoding gbk): {exc}") from None
    except Exception as exc:
        raise ImportInputError(f"无法读取文件 cannot read '{p}': {exc}") from None
    if "geometry" not in gdf.columns:
        raise ImportInputError(f"文件没有几何 file '{p.name}' has no geometry column")
    if gdf.crs is None:
        if source_crs is None:
            raise ImportInputError(
                f"文件没有坐标系定义 file '{p.name}' has no CRS definition (.prj); 请用 --crs EPSG:xxxx 指定"
            )
        try:
            gdf = gdf.set_crs(source_crs)
        except Exception:
            raise ImportInputError(f"无法识别的坐标系 --crs '{source_crs}' is not a known CRS (e.g. EPSG:4549)") from None
    crs_name = _crs_name(gdf.crs)
    if gdf.crs.to_epsg() != 4490:
        gdf = gdf.to_crs(STORE_CRS)
    columns = [c for c in gdf.columns if c != "geometry"]
    resolved = resolve_columns(spec, columns, mapping or {})
    out = SourceLayer(spec, p, crs_name, source_layer=chosen)
    geoms = gdf.geometry.values
    col_values = {t: gdf[c].tolist() for t, c in resolved.items()}
    for i, fid in enumerate(gdf.index.tolist()):
        attrs = {t: clean_value(vals[i]) for t, vals in col_values.items()}
        raw = _normalize_code(spec, attrs)
        g = geoms[i]
        if g is not None and shapely.has_z(g):
            g = shapely.force_2d(g)
        out.features.append(Feature(str(fid), attrs, g, raw))
    return out


def _crs_name(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else str(crs.name)


def read_table(
    path: str | Path, layer: str, mapping: dict[str, str] | None = None, encoding: str | None = None
) -> SourceLayer:
    """Read departments or responsibility rows from CSV (UTF-8 with or without BOM, or ``encoding``) or XLSX.

    The feature id of a row is its line number in the file (header = line 1), what a user sees in Excel.
    """
    p = Path(path)
    spec = layer_spec(layer)
    if spec.geometry != "none":
        raise ImportInputError(f"图层 {layer} 需要空间数据文件 (layer {layer} takes GeoPackage/Shapefile/GeoJSON)")
    if not p.exists():
        raise ImportInputError(f"文件不存在 file '{p}' does not exist")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(p)
    elif suffix in (".csv", ".txt"):
        header, rows = _read_csv(p, encoding)
    else:
        raise ImportInputError(f"不支持的表格格式 unsupported table file '{p.name}' (use .csv or .xlsx)")
    resolved = resolve_columns(spec, header, mapping or {})
    index = {c: i for i, c in enumerate(header)}
    out = SourceLayer(spec, p, "")
    for line_no, row in rows:
        if all(clean_value(v) is None for v in row):
            continue
        attrs = {t: clean_value(row[index[c]] if index[c] < len(row) else None) for t, c in resolved.items()}
        out.features.append(Feature(str(line_no), attrs, None, attrs.get("code")))
    return out


def _read_csv(path: Path, encoding: str | None) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    enc = encoding or "utf-8-sig"
    try:
        codecs.lookup(enc)
    except LookupError:
        raise ImportInputError(f"未知的编码 --encoding '{enc}' is not a known encoding (e.g. gbk, utf-8)") from None
    try:
        with path.open(encoding=enc, newline="") as f:
            reader = csv.reader(f)
            all_rows = list(reader)
    except UnicodeDecodeError as exc:
        raise ImportInputError(f"CSV 编码错误 cannot decode '{path.name}' as {enc} (try --encoding gbk): {exc}") from None
    if not all_rows:
        raise ImportInputError(f"CSV 文件为空 file '{path.name}' is empty")
    header = [h.strip() for h in all_rows[0]]
    return header, [(i, list(r)) for i, r in enumerate(all_rows[1:], start=2)]


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportInputError(f"无法读取 Excel 文件 cannot read '{path.name}': {exc}") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            raise ImportInputError(f"Excel 工作表为空 sheet of '{path.name}' is empty")
        header = [str(h).strip() if h is not None else "" for h in first]
        rows = [(i, list(r)) for i, r in enumerate(it, start=2)]
    finally:
        wb.close()
    return header, rows


def read_source(
    path: str | Path,
    layer: str,
    mapping: dict[str, str] | None = None,
    encoding: str | None = None,
    source_layer: str | None = None,
    source_crs: str | None = None,
) -> SourceLayer:
    """Either reader, by the layer's kind."""
    if layer_spec(layer).geometry == "none":
        return read_table(path, layer, mapping, encoding)
    return read_features(path, layer, mapping, encoding, source_layer, source_crs)
