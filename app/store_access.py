"""Opening stores for services that must not import ``db`` themselves (widgets get stores only through here)."""

from __future__ import annotations

from pathlib import Path

from db.store import Store


def open_store(path: str | Path, readonly: bool = False) -> Store:
    return Store.open(path, readonly=readonly)
