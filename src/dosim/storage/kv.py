r"""The hidden KV table, key rules, ``list()`` ranges and the synchronous KV API.

Both KV APIs store pairs in ``_cf_KV(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID``,
created on the first write, exactly as workerd does on SQLite-backed objects. TEXT with the
default BINARY collation compares UTF-8 bytes, so keys sort by UTF-8 bytes (``"\uffff"``
before ``"\U00010000"``, unlike JavaScript's UTF-16 string order).

dosim keeps puts and deletes in a write-back dict (:class:`KvStore`) and writes them when
the transaction commits or before anything that reads through SQL (``list()``,
``sql.exec()``, a savepoint): puts in multi-row ``INSERT`` statements, deletes with
``executemany``. A ``get`` of a key in the dict never touches SQLite. This is invisible to
app code: it is the same transaction either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import platform_error
from ..serialization import JsDict, decode_value, encode_value, js_number_to_string
from . import limits

if TYPE_CHECKING:  # pragma: no cover
    from .database import ObjectDatabase, StorageHost

_PUT_BATCH = limits.SQLITE_LIMITS["SQLITE_LIMIT_VARIABLE_NUMBER"] // 2
"""Pairs per multi-row ``INSERT`` when cached puts are written (50): two bound values a
pair, within the per-statement limit the connection enforces."""

__all__ = [
    "KvStore",
    "SyncKvStorage",
    "SyncKvListIterator",
    "as_key",
    "compile_list_options",
    "check_sqlite_row",
]


def _normalize(text: str) -> str:
    """Replace lone surrogates by U+FFFD, as the runtime does converting JS strings."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def as_key(value: Any) -> str:
    """Return ``value`` as a storage key, converting it like a JS string parameter would.

    Strings pass (lone surrogates become U+FFFD); numbers, booleans and None become their
    JavaScript spelling (``1`` -> ``"1"``, ``True`` -> ``"true"``, ``None`` -> ``"null"``).

    Args:
        value: A ``str``, ``int``, ``float``, ``bool`` or None.

    Raises:
        TypeError: For tuples and bytearrays (the SDK's text) and other non-string objects.
    """
    if type(value) is str:
        return value if value.isascii() else _normalize(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return js_number_to_string(value)
    if isinstance(value, str):
        return as_key(str(value))
    if isinstance(value, tuple | bytearray):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    raise TypeError(limits.MSG_KEY_TYPE.format(type=type(value).__name__))


def _varint_len(value: int) -> int:
    size = 1
    while value > 0x7F and size < 9:
        value >>= 7
        size += 1
    return size


def check_sqlite_row(key: str, blob: bytes) -> None:
    """Raise ``string or blob too big: SQLITE_TOOBIG`` if the KV row exceeds the row limit.

    SQLite-backed classes have no key or value limit of their own; the row (SQLite record
    of key and value) must fit ``SQLITE_LIMIT_LENGTH``. dosim computes the record size the
    way SQLite does, so the error comes from ``put`` and not from the later commit.

    Args:
        key: The key.
        blob: The encoded value.

    Raises:
        JsException: ``string or blob too big: SQLITE_TOOBIG``.
    """
    if len(key) * 4 + len(blob) + 32 <= limits.SQLITE_MAX_ROW_SIZE:
        return  # fast path: even 4 bytes per character fits
    key_bytes = len(key.encode("utf-8"))
    body = _varint_len(key_bytes * 2 + 13) + _varint_len(len(blob) * 2 + 12)
    header = body + _varint_len(body + 1)
    if header + key_bytes + len(blob) > limits.SQLITE_MAX_ROW_SIZE:
        raise platform_error("Error", limits.MSG_TOO_BIG)


def _key_after_prefix(prefix: str) -> str | None:
    """The first key after every key starting with ``prefix`` (None: no such key).

    workerd increments the last UTF-8 byte; for valid UTF-8 keys incrementing the last code
    point bounds the same set of keys, and stays a valid string dosim can bind.
    """
    chars = prefix.rstrip("\U0010ffff")
    if not chars:
        return None
    code = ord(chars[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    return chars[:-1] + chr(code)


def compile_list_options(options: dict | None) -> tuple[str, str | None, bool, int | None] | None:
    r"""Turn ``list()`` options into ``(start, end, reverse, limit)``, or None for an empty range.

    Follows workerd's ``compileListOptions`` step by step (spec §5.2): ``startAfter`` becomes
    the inclusive start ``startAfter + "\0"``; a non-empty ``prefix`` clamps ``start`` and
    ``end``; ``end <= start`` is empty. Options set to None count as absent; unknown names
    are ignored, as JavaScript ignores unknown properties.

    Args:
        options: ``start``, ``startAfter``, ``end``, ``prefix``, ``reverse``, ``limit``;
            or None.

    Returns:
        Inclusive start key, exclusive end key (None: no end), descending order, and
        row limit (None: no limit).

    Raises:
        TypeError: ``list() cannot be called with both start and startAfter values.`` or
            ``List limit must be positive.``
    """
    start, end, reverse, limit = "", None, False, None
    if not options:
        return start, end, reverse, limit
    get = options.get
    if get("start") is not None:
        if get("startAfter") is not None:
            raise TypeError(limits.MSG_LIST_START_AND_START_AFTER)
        start = as_key(get("start"))
    if get("startAfter") is not None:
        start = as_key(get("startAfter")) + "\0"
    if get("end") is not None:
        end = as_key(get("end"))
    if get("reverse") is not None:
        reverse = bool(get("reverse"))
    if get("limit") is not None:
        limit = int(get("limit"))
        if limit <= 0:
            raise TypeError(limits.MSG_LIST_LIMIT)
    prefix = as_key(get("prefix")) if get("prefix") is not None else ""
    if prefix:
        if start < prefix:
            start = prefix
        elif not start.startswith(prefix):
            return None
        after = _key_after_prefix(prefix)
        if after is not None:
            if end is None:
                end = after
            elif end <= prefix:
                return None
            elif not end.startswith(prefix):
                end = after
    if end is not None and end <= start:
        return None
    return start, end, reverse, limit


class KvStore:
    """The ``_cf_KV`` table of one database with a write-back cache of puts and deletes.

    Values are stored encoded (:func:`~dosim.serialization.encode_value`); callers decode.
    Writers open the transaction (``ObjectDatabase.begin_write``) before calling
    :meth:`put` or :meth:`delete`.

    Attributes:
        pending: Key -> encoded value, or None for a delete, not yet written to SQLite.
        generation: Incremented by every list, so a live ``kv.list()`` iterator can tell
            that a newer list started.
    """

    def __init__(self, database: ObjectDatabase) -> None:
        self._db = database
        self._conn = database.conn
        self.pending: dict[str, bytes | None] = {}
        self.generation = 0
        # A database that is not on disk was just created empty (in memory, or the scratch
        # database of an object not yet written): no need to ask SQLite for the table.
        self._exists: bool | None = None if database.on_disk else False
        sql = database.sql
        self._q_exists = sql("SELECT 1 FROM sqlite_master WHERE type='table' AND name='_cf_KV'")
        self._q_create = sql(
            "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
        )
        self._q_get = sql("SELECT value FROM _cf_KV WHERE key = ?")
        self._q_put = sql("INSERT OR REPLACE INTO _cf_KV VALUES (?, ?)")
        self._q_put_batch: str | None = None  # made on the first flush of a full batch
        self._q_delete = sql("DELETE FROM _cf_KV WHERE key = ?")
        self._q_count = sql("SELECT count(*) FROM _cf_KV")
        self._q_list: dict[tuple[bool, bool, bool], str] = {}

    def use(self, conn: Any) -> None:
        """Run on ``conn`` from now on (the database reopened or moved to its file).

        Args:
            conn: The database's new connection (or its stand-in while released).
        """
        self._conn = conn

    def forget_table(self) -> None:
        """Forget whether ``_cf_KV`` exists (after a rollback or deleteAll)."""
        self._exists = None

    def _has_table(self) -> bool:
        if self._exists is None:
            self._exists = self._conn.execute(self._q_exists).fetchone() is not None
        return self._exists

    def get(self, key: str) -> bytes | None:
        """Return the encoded value of ``key`` (pending writes first), or None.

        Args:
            key: A key already converted by :func:`as_key`.
        """
        blob = self.pending.get(key, self)
        if blob is not self:
            return blob
        if self._exists is False or (self._exists is None and not self._has_table()):
            return None
        row = self._conn.execute(self._q_get, (key,)).fetchone()
        return None if row is None else row[0]

    def put(self, key: str, blob: bytes) -> None:
        """Store ``blob`` under ``key`` (cached until the next flush).

        Args:
            key: A key already converted by :func:`as_key`.
            blob: The encoded value.
        """
        self.pending[key] = blob

    def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it existed.

        Args:
            key: A key already converted by :func:`as_key`.
        """
        existed = self.get(key) is not None
        self.pending[key] = None
        return existed

    def flush(self) -> None:
        """Write cached puts and deletes to SQLite inside the open transaction."""
        pending = self.pending
        if not pending:
            return
        self.pending = {}
        try:
            if not self._exists:
                self._conn.execute(self._q_create)
                self._exists = True
            puts = [(key, blob) for key, blob in pending.items() if blob is not None]
            if puts:
                self._write_puts(puts)
            if len(puts) != len(pending):
                deletes = [(key,) for key, blob in pending.items() if blob is None]
                self._conn.executemany(self._q_delete, deletes)
        except sqlite3.Error as exc:
            raise self._db.internal_error(exc) from None

    def _write_puts(self, puts: list[tuple[str, bytes]]) -> None:
        """Write ``puts`` (distinct keys) with as few SQLite statements as possible.

        Full batches of :data:`_PUT_BATCH` pairs go in one multi-row ``INSERT`` each (one
        statement step instead of one per pair); the rest with ``executemany``.
        """
        # bytearray, not bytes: CPython's sqlite3 binds it as it is, while bytes go through
        # its adapter lookup first (a failed attribute lookup that formats an error), which
        # costs more per value than the copy. Both are stored as the same BLOB.
        full = len(puts) - len(puts) % _PUT_BATCH
        if full:
            if self._q_put_batch is None:
                rows = ", ".join(["(?, ?)"] * _PUT_BATCH)
                self._q_put_batch = self._db.sql(f"INSERT OR REPLACE INTO _cf_KV VALUES {rows}")
            execute = self._conn.execute
            for start in range(0, full, _PUT_BATCH):
                params = []
                for key, blob in puts[start : start + _PUT_BATCH]:
                    params += (key, bytearray(blob))
                execute(self._q_put_batch, params)
        if full < len(puts):
            self._conn.executemany(
                self._q_put, [(key, bytearray(blob)) for key, blob in puts[full:]]
            )

    def discard(self) -> None:
        """Drop cached writes (the transaction or savepoint they belong to rolled back)."""
        self.pending = {}

    def count(self) -> int:
        """Return how many keys are stored (flushes first)."""
        self.flush()
        if not self._has_table():
            return 0
        return self._conn.execute(self._q_count).fetchone()[0]

    def cursor(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> sqlite3.Cursor | None:
        """Return a lazy SQLite cursor over ``(key, value)`` in the range, or None if empty.

        Counts as a new list: increments :attr:`generation` (invalidating a live
        ``kv.list()`` iterator) and flushes cached writes.

        Args:
            start: Inclusive lower bound.
            end: Exclusive upper bound, or None.
            reverse: Descending key order.
            limit: Most rows to return, or None.
        """
        self.generation += 1
        self.flush()
        if not self._has_table():
            return None
        shape = (end is not None, reverse, limit is not None)
        query = self._q_list.get(shape)
        if query is None:
            query = self._db.sql(
                "SELECT key, value FROM _cf_KV WHERE key >= ?"
                + (" AND key < ?" if end is not None else "")
                + (" ORDER BY key DESC" if reverse else " ORDER BY key")
                + (" LIMIT ?" if limit is not None else "")
            )
            self._q_list[shape] = query
        params: tuple = (start,)
        if end is not None:
            params += (end,)
        if limit is not None:
            params += (limit,)
        return self._conn.execute(query, params)

    def list(
        self, start: str, end: str | None, reverse: bool, limit: int | None
    ) -> list[tuple[str, bytes]]:
        """Return ``(key, encoded value)`` pairs in the range, in list order.

        Args:
            start: Inclusive lower bound.
            end: Exclusive upper bound, or None.
            reverse: Descending key order.
            limit: Most rows to return, or None.
        """
        cursor = self.cursor(start, end, reverse, limit)
        return [] if cursor is None else cursor.fetchall()


class SyncKvListIterator:
    """What ``ctx.storage.kv.list()`` returns: an iterator of ``[key, value]`` lists.

    On the platform it is a lazy cursor; only one can be live per object, and starting
    another ``list()`` (sync or async) invalidates it. dosim keeps both rules. Iterate it
    with ``for key, value in ...`` or call ``next()`` for a ``{done, value}`` object.
    """

    def __init__(self, store: KvStore, cursor: sqlite3.Cursor | None) -> None:
        self._store = store
        self._cursor = cursor
        self._generation = store.generation
        self._canceled = False
        if cursor is not None:
            store._db.readers.add(self)  # its connection stays open while it reads

    @property
    def reading(self) -> bool:
        """Whether rows are left to read from an open SQLite cursor."""
        return self._cursor is not None and self._generation == self._store.generation

    def __iter__(self) -> SyncKvListIterator:
        return self

    def __next__(self) -> list:
        if self._cursor is not None and self._generation != self._store.generation:
            self._cursor = None
            self._canceled = True
        if self._canceled:
            raise platform_error("Error", limits.MSG_KV_LIST_INVALIDATED)
        if self._cursor is None:
            raise StopIteration
        row = self._cursor.fetchone()
        if row is None:
            self._cursor = None
            raise StopIteration
        return [row[0], decode_value(row[1])]

    def next(self) -> JsDict:
        """Return the next pair as ``{"done": bool, "value": [key, value] | None}``."""
        try:
            return JsDict(done=False, value=self.__next__())
        except StopIteration:
            return JsDict(done=True, value=None)


class SyncKvStorage:
    """``ctx.storage.kv``: synchronous KV on the same hidden table as the async API.

    Only SQLite-backed classes have it; on a KV-backed class every method raises the
    platform's long ``The storage.kv (synchronous KV) API is only available ...`` error.
    Values follow the async API's rules; SQLite-backed limits apply (the 2 MB row).
    """

    def __init__(self, database: ObjectDatabase, host: StorageHost) -> None:
        self._db = database
        self._host = host

    def _store(self) -> KvStore:
        db = self._db
        if not db.sql_enabled:
            raise platform_error("Error", limits.MSG_SYNC_KV_NOT_ENABLED)
        if db.broken is not None:
            raise db.broken_error()
        return db.kv

    def get(self, key: str) -> Any:
        """Return the value stored under ``key``, or None.

        Args:
            key: The key; numbers, booleans and None are converted as by :func:`as_key`.

        Raises:
            JsException: On KV-backed classes (see the class).
        """
        self._host.storage_op("kv.get", key=key)
        blob = self._store().get(as_key(key))
        return None if blob is None else decode_value(blob)

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` in the implicit transaction.

        Args:
            key: The key; numbers, booleans and None are converted as by :func:`as_key`.
            value: The value, copied with the RPC conversion rules.

        Raises:
            TypeError: A value that cannot be stored (e.g. a tuple); nothing is written.
            JsException: ``string or blob too big: SQLITE_TOOBIG``; on KV-backed classes,
                the error in the class description.
        """
        self._host.storage_op("kv.put", key=key)
        store = self._store()
        key = as_key(key)
        blob = encode_value(value)
        check_sqlite_row(key, blob)
        if self._db.begin_write():
            self._host.writes_pending()
        store.put(key, blob)

    def delete(self, key: str) -> bool:
        """Delete ``key``; return whether it existed.

        Args:
            key: The key; numbers, booleans and None are converted as by :func:`as_key`.

        Raises:
            JsException: On KV-backed classes (see the class).
        """
        self._host.storage_op("kv.delete", key=key)
        store = self._store()
        key = as_key(key)
        if self._db.begin_write():
            self._host.writes_pending()
        return store.delete(key)

    def list(self, options: dict | None = None, /, **kwargs: Any) -> Iterator[list]:
        """Return an iterator of ``[key, value]`` over a key range (options as async list).

        Options ``start``, ``startAfter``, ``end``, ``prefix``, ``reverse``, ``limit`` may be
        a dict or keyword arguments (Pyodide passes keywords as a trailing JS object).

        Args:
            options: The options dict, or None.
            **kwargs: The same options as keywords (used when ``options`` is None).

        Raises:
            TypeError: As :func:`compile_list_options`.
            JsException: On KV-backed classes (see the class).
        """
        self._host.storage_op("kv.list")
        store = self._store()
        compiled = compile_list_options(kwargs if options is None and kwargs else options)
        if compiled is None:  # an empty range opens no cursor, so it cancels none either
            return SyncKvListIterator(store, None)
        return SyncKvListIterator(store, store.cursor(*compiled))
