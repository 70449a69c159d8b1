"""What every command does the same way: open the store, or say on stderr why it cannot."""

from __future__ import annotations

import sys
from pathlib import Path

from db.store import Store, StoreError


def open_store(path: str | Path, readonly: bool = False) -> Store | None:
    """The store at ``path``, or ``None`` after printing the reason (missing, not a store, locked); the
    caller returns its own exit code, so each command keeps the one its documentation promises."""
    try:
        return Store.open(path, readonly=readonly)
    except StoreError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return None
