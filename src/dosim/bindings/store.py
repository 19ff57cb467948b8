"""Where a binding keeps its data: one SQLite database, in memory or in a file.

A KV namespace, a D1 database and an R2 bucket each get a :class:`BindingStore`. In
tests it is an in-memory database; under ``dosim dev`` it is a file below the state
folder (``<state>/kv/<id>.sqlite``, ``<state>/d1/<id>.sqlite``, ``<state>/r2/<name>.sqlite``,
as ``wrangler dev`` keeps ``.wrangler/state/v3/kv`` and so on). Every write the binding
acknowledges is committed first, with ``synchronous=FULL`` in WAL mode, so a ``kill -9``
after the promise resolved loses nothing, as with object storage.

The file is created by the first write: a binding that is only read leaves nothing behind.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["BindingStore"]


class BindingStore:
    """One binding's SQLite database.

    Args:
        path: The database file, or ``None`` to keep everything in memory.
        schema: SQL run (with ``executescript``) when the database is opened, creating
            the binding's tables if they do not exist.
    """

    def __init__(self, path: str | os.PathLike[str] | None, schema: str) -> None:
        self.path = Path(path) if path is not None else None
        self._schema = schema
        self._conn: sqlite3.Connection | None = None
        self._scratch = self.path is not None and not self.path.exists()

    @property
    def on_disk(self) -> bool:
        """Whether the data lives in a file that exists now."""
        return self.path is not None and not self._scratch

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, opened on first use (in memory until the first write)."""
        if self._conn is None:
            self._conn = self._connect(self.path if self.on_disk else None)
        return self._conn

    def _connect(self, path: Path | None) -> sqlite3.Connection:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            ":memory:" if path is None else str(path),
            isolation_level=None,
            check_same_thread=False,
        )
        if path is not None:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error:  # pragma: no cover - filesystems without shared memory
                pass
            conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(self._schema)
        return conn

    def read(self, sql: str, parameters: Any = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows.

        Args:
            sql: A ``SELECT``.
            parameters: Its parameters.
        """
        return self.conn.execute(sql, parameters).fetchall()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Run the statements of the ``with`` block as one committed transaction.

        The first write moves an in-memory scratch database to its file (nothing was
        written before, so nothing is copied). The transaction is rolled back when the
        block raises.

        Yields:
            The connection to write with.
        """
        if self._scratch:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._connect(self.path)
            self._scratch = False
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Call ``work(conn)`` inside :meth:`write` and return its result.

        Args:
            work: The statements to run atomically.
        """
        with self.write() as conn:
            return work(conn)

    def close(self) -> None:
        """Close the connection (the next use opens it again)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
