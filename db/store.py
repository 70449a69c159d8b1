"""The store: one SQLite file that is a valid GeoPackage, opened with the same pragmas everywhere.

``Store`` wraps a ``sqlite_utils.Database`` on an injected connection (the sqlite-utils manner), owns
named migrations, and gives nested ``atomic()`` transactions so that every write is one transaction.
A PostgreSQL store can later implement the repository interfaces in ``db.repos`` instead.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from db import gpkg

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 5000


class StoreError(RuntimeError):
    """The store cannot be opened or used (missing, locked, not a Wanmi store, damaged)."""


def connect(path: str | Path, readonly: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection with WAL, synchronous=NORMAL, a busy timeout and the ``ST_*`` functions.

    ``isolation_level=None`` puts transaction control in our hands (``Store.atomic``).
    """
    p = Path(path)
    if readonly:
        if not p.exists():
            raise StoreError(f"数据库文件不存在 store '{p}' does not exist")
        conn = sqlite3.connect(
            f"file:{p}?mode=ro", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=check_same_thread,
        )
    else:
        conn = sqlite3.connect(
            str(p), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=check_same_thread
        )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -65536")
    gpkg.register_functions(conn)
    return conn


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[sqlite3.Connection], None]


class Store:
    """An open store. Use :meth:`atomic` around every write; nested blocks become savepoints."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path
        self._db: sqlite_utils.Database | None = None
        self._depth = 0
        self._lock = threading.RLock()

    @property
    def db(self) -> sqlite_utils.Database:
        """The ``sqlite_utils.Database`` on this connection, made on first use: importing sqlite-utils
        imports pandas (1-2 s), which the console and the wall must not pay at start."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, create: bool = False, readonly: bool = False, migrate: bool = True) -> Store:
        """Open (and with ``create`` make) a store, migrating an older one after a backup copy."""
        p = Path(path)
        if not p.exists() and not create:
            raise StoreError(f"数据库文件不存在 store '{p}' does not exist (run `python main.py init --store {p}`)")
        if p.exists() and p.stat().st_size > 0:
            with p.open("rb") as f:
                head = f.read(16)
            if head != b"SQLite format 3\x00":
                raise StoreError(f"不是有效的数据库文件 store '{p}' is not a SQLite/GeoPackage file")
        if create:
            p.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(p, readonly=readonly)
        store = cls(conn, p)
        if not readonly and migrate:
            from db.schema import MIGRATIONS

            store.migrate(MIGRATIONS, backup=not create)
        return store

    @classmethod
    def memory(cls) -> Store:
        """An in-memory store with the full schema, for tests."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        gpkg.register_functions(conn)
        store = cls(conn, None)
        from db.schema import MIGRATIONS

        store.migrate(MIGRATIONS, backup=False)
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE`` so writers queue on the lock), savepoints when nested."""
        with self._lock:
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self.conn.execute(f"SAVEPOINT sp{self._depth}")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                else:
                    self.conn.execute(f"ROLLBACK TO sp{self._depth}")
                    self.conn.execute(f"RELEASE sp{self._depth}")
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute(f"RELEASE sp{self._depth}")

    # -- migrations --------------------------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        if not self.db["_migration"].exists():
            return []
        return [r[0] for r in self.conn.execute("SELECT name FROM _migration ORDER BY rowid")]

    def migrate(self, migrations: list[Migration], backup: bool = True) -> list[str]:
        """Apply the pending named migrations in one transaction; back the file up first if any."""
        done = set(self.applied_migrations())
        pending = [m for m in migrations if m.name not in done]
        if not pending:
            return []
        if backup and self.path is not None and done:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(self.path, self.path.with_suffix(self.path.suffix + f".bak-{len(done)}"))
        with self.atomic() as conn:
            gpkg.init_geopackage(conn)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migration (name TEXT PRIMARY KEY, "
                "applied_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
            )
            for m in pending:
                m.apply(conn)
                conn.execute("INSERT INTO _migration (name) VALUES (?)", (m.name,))
        return [m.name for m in pending]

    # -- metadata ----------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM store_meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.atomic() as conn:
            conn.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (key, value))

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
