"""Canned phrases (常用语) per action, from ``resources/config/phrases.toml``, editable by the centre."""

from __future__ import annotations

import tomllib
from functools import cache

from app.paths import CONFIG


@cache
def _all() -> dict[str, list[str]]:
    with (CONFIG / "phrases.toml").open("rb") as f:
        return dict(tomllib.load(f)["phrases"])


def phrases_for(action: str) -> list[str]:
    table = _all()
    return list(table.get(action, [])) + [p for p in table.get("default", []) if p not in table.get(action, [])]
