"""The read model: what an app's Durable Objects are and what they hold, for adapters.

:meth:`dosim.App.objects` lists an app's objects as :class:`ObjectView` values: id, name,
class, whether an instance is in memory, the scheduled alarm, the open hibernatable
WebSockets. Each view reads the object's storage on request (KV entries, SQL tables and
their rows, paged) through :mod:`dosim.storage.reader`, without running an event and
without changing anything.

The dev server's inspector, the docs sandbox's Objects panel and the testing helpers all
read objects through this module, never through the runtime's internals.

An object is listed once it exists for the platform: an instance was constructed, or it
has storage (in memory: its storage was opened; on disk: it wrote, so its file exists).
A stub alone creates nothing, and an evicted file-backed object that was only read
leaves nothing behind. An app on a ``persist_to`` folder lists the objects stored there
once they are opened (:meth:`dosim.App.open_stored_objects` opens them all, as
``dosim dev`` does at start), evicted or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .storage import reader

if TYPE_CHECKING:
    from .host import ObjectHost
    from .ids import DurableObjectId

__all__ = ["ObjectView", "NamespaceView", "BindingView", "StoredObjects", "view_of", "exists"]


@dataclass(frozen=True)
class NamespaceView:
    """A read-only view of one Durable Object namespace (an ``env`` binding).

    Attributes:
        binding: The binding name, e.g. ``"COUNTER"``.
        class_name: The Durable Object class's name.
        backend: ``"sqlite"`` or ``"kv"`` (the storage backend its migration gave it).
    """

    binding: str
    class_name: str
    backend: str


@dataclass(frozen=True)
class StoredObjects:
    """What :meth:`dosim.App.open_stored_objects` found under the app's ``persist_to``.

    Attributes:
        objects: How many stored objects were opened.
        alarms: How many of them have an alarm scheduled.
        skipped: Files in a namespace's folder that are not one of its objects.
        corrupt: ``(file, SQLite's message)`` for each object file SQLite found damaged or
            not a database; those objects were not opened.
    """

    objects: int
    alarms: int
    skipped: tuple[Path, ...]
    corrupt: tuple[tuple[Path, str], ...] = ()


def exists(host: ObjectHost) -> bool:
    """Whether the object behind ``host`` exists (storage opened or instance constructed).

    Args:
        host: An object host of the app.
    """
    return host.has_stored_data() or host.incarnation is not None


@dataclass(frozen=True)
class ObjectView:
    """A read-only view of one Durable Object, as it was when the view was taken.

    Attributes:
        binding: The namespace's binding name, e.g. ``"COUNTER"``.
        id: The object's :class:`~dosim.ids.DurableObjectId`.
        hex_id: The id as 64 hex digits.
        name: The name it was reached by (``getByName``/``idFromName``), or ``None``.
        class_name: The Durable Object class's name.
        backend: ``"sqlite"`` or ``"kv"`` (the storage backend its migration gave it).
        live: Whether an instance is in memory.
        alarm: The scheduled alarm in ms since the epoch, or ``None`` (see
            :attr:`dosim.alarms.AlarmScheduler.time`).
        sockets: How many hibernatable WebSockets are open.
    """

    binding: str
    id: DurableObjectId
    hex_id: str
    name: str | None
    class_name: str
    backend: str
    live: bool
    alarm: int | None
    sockets: int
    _host: ObjectHost = field(repr=False, compare=False)

    def kv(self, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        """Read KV entries ``offset .. offset+limit`` in key order.

        Args:
            offset: Entries to skip.
            limit: Entries to return.

        Returns:
            ``{"total", "offset", "entries": [{"key", "value", "bytes"}]}``; values are
            shown as JSON when JSON-like, ``repr()`` otherwise, cut at
            :data:`~dosim.storage.reader.PREVIEW_CHARS` characters.
        """
        with self._open() as connection:
            return reader.kv_page(connection, offset, limit)

    def tables(self) -> list[dict[str, Any]]:
        """Read the app's SQL tables with their row counts (``[{"name", "rows"}]``).

        Empty for a KV-backed object (it has no SQL API).
        """
        if self.backend != "sqlite":
            return []
        with self._open() as connection:
            return reader.tables(connection)

    def table(self, name: str, offset: int = 0, limit: int = 100) -> dict[str, Any] | None:
        """Read rows ``offset .. offset+limit`` of the table ``name``.

        Args:
            name: A name from :meth:`tables`.
            offset: Rows to skip.
            limit: Rows to return.

        Returns:
            ``{"columns", "rows", "total", "offset"}``, or ``None`` for an unknown table.
        """
        with self._open() as connection:
            return reader.table_page(connection, name, offset, limit)

    def _open(self) -> Any:
        host = self._host
        path = host.app.database_path(host.namespace, host.hex_id)
        own = host.database.conn if path is None and host.has_stored_data() else None
        return reader.open_reader(path, own)


def view_of(host: ObjectHost) -> ObjectView:
    """Take a view of the object behind ``host``.

    Args:
        host: An object host of the app.
    """
    namespace = host.namespace
    return ObjectView(
        binding=namespace.binding,
        id=host.id,
        hex_id=host.hex_id,
        name=host.name,
        class_name=namespace.cls.__name__,
        backend="sqlite" if namespace.sql_enabled else "kv",
        live=host.incarnation is not None,
        alarm=host.alarms.time,
        sockets=len(host.websockets.hibernatable),
        _host=host,
    )


@dataclass(frozen=True)
class BindingView:
    """A read-only look at one KV namespace, D1 database or R2 bucket of the app.

    Attributes:
        binding: The binding name (``"CACHE"``).
        type: ``"kv"``, ``"d1"`` or ``"r2"``.
        key: The namespace id, database id or bucket name its data is keyed by.
    """

    binding: str
    type: str
    key: str
    _store: Any = field(repr=False, compare=False, default=None)
    _path: Path | None = field(repr=False, compare=False, default=None)

    def tables(self) -> list[dict[str, Any]]:
        """The binding's tables with their row counts (``[{"name", "rows"}]``).

        For D1 these are the database's own tables; for KV and R2, the tables dosim keeps
        their entries in.
        """
        with self._open() as connection:
            return reader.tables(connection)

    def table(self, name: str, offset: int = 0, limit: int = 100) -> dict[str, Any] | None:
        """Read rows ``offset .. offset+limit`` of the table ``name``.

        Args:
            name: A name from :meth:`tables`.
            offset: Rows to skip.
            limit: Rows to return.

        Returns:
            ``{"columns", "rows", "total", "offset"}``, or ``None`` for an unknown table.
        """
        with self._open() as connection:
            page = reader.table_page(connection, name, offset, limit)
        if page is not None and self.type in ("kv", "r2"):
            # dosim keeps KV values and R2 metadata as bytes; show text as text.
            page["rows"] = [[_as_text(cell) for cell in row] for row in page["rows"]]
        return page

    def _open(self) -> Any:
        store = self._store
        if store is not None and not store.on_disk:
            return reader.open_reader(None, store.conn)
        path = self._path if store is None else store.path
        return reader.open_reader(str(path) if path is not None else None, None)


def _as_text(cell: Any) -> Any:
    """A hex blob preview (``x'68690a'``) as its UTF-8 text, when it is valid text."""
    if isinstance(cell, str) and cell.startswith("x'") and cell.endswith("'"):
        try:
            return bytes.fromhex(cell[2:-1]).decode("utf-8")
        except ValueError:
            return cell
    return cell
