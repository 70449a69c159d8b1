"""Explain a code in words an operator reads aloud: which district, street, community, grid or part class.

Names come from the store when it exists (street and community names of the demo or imported base
data), else from the bundled division names; unknown names fall back to the serial ("街道 001").
"""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from pathlib import Path

from app.paths import RESOURCES
from gisdata.catalog import load_catalog
from gisdata.codes import (
    CATALOG_2026,
    CATALOG_LEGACY,
    CodeError,
    kind_of,
    parse_district,
    parse_grid,
    parse_part,
)


@cache
def division_names() -> dict[str, str]:
    """adcode → "徐州市泉山区" from the bundled boundary files (no store needed)."""
    names: dict[str, str] = {}
    for path in sorted((RESOURCES / "boundaries").glob("*.geojson")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for f in data["features"]:
            p = f["properties"]
            names[p["adcode"]] = f"{p.get('city', '')}{p['name']}"
    return names


def _store_names(store_path: str | None) -> dict[str, str]:
    if not store_path or not Path(store_path).exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
        try:
            out: dict[str, str] = {}
            for table in ("district", "street", "community"):
                out.update(dict(conn.execute(f"SELECT code, name FROM {table}").fetchall()))
            return out
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


def explain_code(raw: str, store_path: str | None = None, catalog: str | None = None) -> str:
    code = raw.replace(" ", "")
    kind = kind_of(code)
    names = {**division_names(), **_store_names(store_path)}

    def district(dc: str) -> str:
        parse_district(dc)
        return names.get(dc, f"行政区划 {dc}")

    if kind == "district":
        return district(code)
    if kind in ("street", "community", "grid"):
        if kind == "grid":
            g = parse_grid(code)
            parts = [district(g.district), names.get(g.street_code, f"街道 {g.street}"),
                     names.get(g.community_code, f"社区 {g.community}"), f"网格 {g.serial}"]
            if g.legacy:
                parts.append(f"(14 位旧码, 标准码 {g.format()})")
            return " / ".join(parts)
        if kind == "street":
            from gisdata.codes import parse_street

            s = parse_street(code)
            return f"{district(s.district)} / {names.get(code, f'街道 {s.street}')}"
        from gisdata.codes import parse_community

        c = parse_community(code)
        return f"{district(c.district)} / {names.get(c.street_code, f'街道 {c.street}')} / {names.get(code, f'社区 {c.community}')}"
    if kind == "part":
        p = parse_part(code, catalog)
        cat = load_catalog(CATALOG_LEGACY if len(code) == 16 else CATALOG_2026)
        cls = cat.get("part", p.class_code)
        return (f"{district(p.district)} / 部件 {cls.major_name} / {cls.name} ({cls.class_code}) / "
                f"序号 {p.serial} [{cat.title}]")
    raise CodeError("code", raw, None, " 6/9/12 位区划、14/15 位网格或 16/17 位部件编码")
