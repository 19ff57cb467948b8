"""Reading one object's storage from outside it: its KV entries and its SQL tables, paged.

For a file-backed object the reader opens a separate *read-only* SQLite connection
(``mode=ro``): it sees committed data only, takes no write lock and cannot change
anything. For an in-memory object there is no file to open, so it reads through the
object's own connection, between its events (it may then also see writes of the current
implicit transaction that are not committed yet).

Adapters reach this through the app's read model (:mod:`dosim.objects`).

Values stored through the KV API are decoded as app code would read them and shown as
JSON when they are JSON-like, as ``repr()`` otherwise; long values are cut.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..serialization import decode_value

__all__ = ["open_reader", "kv_page", "tables", "table_page", "PREVIEW_CHARS"]

PREVIEW_CHARS = 500
"""Longest value shown before it is cut with an ellipsis."""


@contextmanager
def open_reader(
    path: str | None, own_connection: sqlite3.Connection | None = None
) -> Iterator[sqlite3.Connection | None]:
    """Open a read-only view of one object's database.

    Args:
        path: The database file, or ``None`` for an in-memory database.
        own_connection: The object's own connection, used when there is no file.

    Yields:
        A connection to read with, or ``None`` when there is nothing stored yet (no file,
        or an in-memory object that never opened its database).
    """
    if path is None:
        yield own_connection
        return
    if not Path(path).exists():
        yield None
        return
    connection = sqlite3.connect(Path(path).as_uri() + "?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


def _exists(connection: sqlite3.Connection, name: str) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
    ).fetchone()
    return row is not None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _show_value(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return _preview(text)


def _show_cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return _preview(f"x'{value.hex()}'")
    if isinstance(value, str):
        return _preview(value)
    return value


def kv_page(connection: sqlite3.Connection | None, offset: int, limit: int) -> dict[str, Any]:
    """Return KV entries ``offset .. offset+limit`` in key order, and the total.

    Args:
        connection: From :func:`open_reader`.
        offset: Entries to skip.
        limit: Entries to return.
    """
    if connection is None or not _exists(connection, "_cf_KV"):
        return {"total": 0, "offset": offset, "entries": []}
    total = connection.execute("SELECT count(*) FROM _cf_KV").fetchone()[0]
    rows = connection.execute(
        "SELECT key, value FROM _cf_KV ORDER BY key LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    entries = []
    for key, blob in rows:
        try:
            shown = _show_value(decode_value(bytes(blob)))
        except Exception as error:  # noqa: BLE001 - show what could not be decoded
            shown = f"<undecodable: {error}>"
        entries.append({"key": key, "value": shown, "bytes": len(blob)})
    return {"total": total, "offset": offset, "entries": entries}


def tables(connection: sqlite3.Connection | None) -> list[dict[str, Any]]:
    """Return the app's SQL tables (not dosim's ``_cf_*`` ones) with their row counts.

    Args:
        connection: From :func:`open_reader`.
    """
    if connection is None:
        return []
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' "
            "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY name"
        )
    ]
    return [
        {
            "name": name,
            "rows": connection.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()[0],
        }
        for name in names
    ]


def table_page(
    connection: sqlite3.Connection | None, table: str, offset: int, limit: int
) -> dict[str, Any] | None:
    """Return rows ``offset .. offset+limit`` of ``table`` (in rowid order when it has one).

    Args:
        connection: From :func:`open_reader`.
        table: A name from :func:`tables`.
        offset: Rows to skip.
        limit: Rows to return.

    Returns:
        ``{"columns", "rows", "total", "offset"}``, or ``None`` for an unknown table.
    """
    if connection is None or table.lower().startswith(("_cf_", "sqlite_")):
        return None
    if not _exists(connection, table):
        return None
    quoted = _quoted(table)
    total = connection.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
    try:
        cursor = connection.execute(
            f"SELECT * FROM {quoted} ORDER BY rowid LIMIT ? OFFSET ?", (limit, offset)
        )
    except sqlite3.OperationalError:  # WITHOUT ROWID tables
        cursor = connection.execute(f"SELECT * FROM {quoted} LIMIT ? OFFSET ?", (limit, offset))
    columns = [column[0] for column in cursor.description]
    rows = [[_show_cell(value) for value in row] for row in cursor.fetchall()]
    return {"columns": columns, "rows": rows, "total": total, "offset": offset}
