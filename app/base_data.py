"""Creating stores and loading the catalogue and default configuration into them."""

from __future__ import annotations

from pathlib import Path

from db.store import Store
from gisdata.catalog import load_catalog
from gisdata.codes import CATALOG_LEGACY


def load_catalog_into(store: Store, catalog_id: str) -> int:
    cat = load_catalog(catalog_id)
    with store.atomic() as conn:
        conn.execute("DELETE FROM catalog_class WHERE catalog=?", (catalog_id,))
        conn.executemany(
            "INSERT INTO catalog_class VALUES (?,?,?,?,?,?,?,?)",
            [(c.catalog, c.kind, c.major_code, c.major_name, c.class_code, c.name, c.filing_rule, c.closing_rule)
             for c in cat.classes],
        )
        conn.execute("INSERT OR REPLACE INTO store_meta VALUES ('catalog', ?)", (catalog_id,))
    return len(cat.classes)


def create_empty_store(path: Path, catalog_id: str = CATALOG_LEGACY, overwrite: bool = False) -> Store:
    """A new store with the schema and the chosen catalogue, nothing else."""
    if overwrite:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store.open(path, create=True)
    load_catalog_into(store, catalog_id)
    return store
