"""One SQLite database per Durable Object, and the transaction it is always inside.

On Cloudflare every object owns a private SQLite database: the SQL API, the synchronous KV
API, the asynchronous KV API and the alarm all live in it and share its transactions.
Writes made without an ``await`` between them form one *implicit transaction* that the
runtime commits automatically; outgoing messages wait for that commit (the output gate).

:class:`ObjectDatabase` owns the connection and that transaction. The object host drives
it: a storage call that writes opens the transaction (:meth:`ObjectDatabase.begin_write`
returns True the first time, and the caller then tells the host through
:meth:`StorageHost.writes_pending`); the host calls :meth:`ObjectDatabase.commit` at the end
of the turn and before any response leaves, and :meth:`ObjectDatabase.read_alarm` after
each commit to reschedule the alarm.

dosim's own SQL (the hidden ``_cf_KV`` and ``_cf_METADATA`` tables, savepoints) starts with
a per-database comment token, so app SQL can never reuse one of those statements from
Python's prepared-statement cache and slip past the authorizer.

A file-backed database keeps its file closed as long as it can:

* **no file before the first write.** An object whose file does not exist yet runs on a
  private in-memory *scratch* database: reads see an empty object, as they would on the
  file. The first write (:meth:`ObjectDatabase.begin_write`, dosim's own metadata, or app
  SQL found to write) moves it to its file, which is created then; nothing was written to
  the scratch database before, so nothing needs copying. An object that is only read, or
  does nothing, leaves no file.
* **closed when at rest.** :meth:`ObjectDatabase.release` closes the connection when no
  transaction or savepoint is open, nothing is pending and no cursor is being read; the
  next use of :attr:`ObjectDatabase.conn` reopens it (see :mod:`dosim.storage.pool`, which
  decides when). Connection settings app SQL changed (``PRAGMA foreign_keys`` and the
  like) and the test page limit are carried over to the new connection.
"""

from __future__ import annotations

import os
import sqlite3
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ..errors import MSG_STORAGE_COMMIT_FAILED, platform_error
from . import limits
from .authorizer import SqlAuthorizer
from .kv import KvStore

__all__ = [
    "StorageHost",
    "ObjectDatabase",
    "CorruptDatabaseError",
    "sqlite_error_message",
    "is_corrupt",
]

T = TypeVar("T")

# Errors after which SQLite may have rolled the whole transaction back by itself
# (https://www.sqlite.org/lang_transaction.html#response_to_errors_within_a_transaction).
_CRITICAL_CODES = frozenset(
    (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT)
)
_PRIMARY_NAMES = {
    getattr(sqlite3, name): name
    for name in (
        "SQLITE_OK SQLITE_ERROR SQLITE_INTERNAL SQLITE_PERM SQLITE_ABORT SQLITE_BUSY "
        "SQLITE_LOCKED SQLITE_NOMEM SQLITE_READONLY SQLITE_INTERRUPT SQLITE_IOERR "
        "SQLITE_CORRUPT SQLITE_NOTFOUND SQLITE_FULL SQLITE_CANTOPEN SQLITE_PROTOCOL "
        "SQLITE_EMPTY SQLITE_SCHEMA SQLITE_TOOBIG SQLITE_CONSTRAINT SQLITE_MISMATCH "
        "SQLITE_MISUSE SQLITE_NOLFS SQLITE_AUTH SQLITE_FORMAT SQLITE_RANGE SQLITE_NOTADB "
        "SQLITE_NOTICE SQLITE_WARNING SQLITE_ROW SQLITE_DONE"
    ).split()
}
_ALARM_KEY = 1
_BOOKMARK_KEY = 2
_UNKNOWN: Any = object()
# Connection settings app SQL may change (authorizer.ALLOWED_PRAGMAS) that a reopened
# connection must keep; ``case_sensitive_like`` cannot be read back and is probed instead,
# ``defer_foreign_keys`` ends with each transaction.
_CONNECTION_PRAGMAS = (
    "foreign_keys",
    "recursive_triggers",
    "reverse_unordered_selects",
    "legacy_alter_table",
    "ignore_check_constraints",
)


def is_corrupt(error: BaseException) -> bool:
    """Whether ``error`` says a database file is damaged or not a database at all.

    Args:
        error: An exception from :mod:`sqlite3`.
    """
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    return isinstance(error, sqlite3.DatabaseError) and code in (
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    )


class CorruptDatabaseError(Exception):
    """An object's database file is damaged (SQLite says ``SQLITE_CORRUPT`` or ``NOTADB``).

    Args:
        path: The file.
        message: SQLite's text.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class _Closed:
    """Stands in for the connection of a released database: any use reopens it."""

    __slots__ = ("_database",)

    def __init__(self, database: ObjectDatabase) -> None:
        self._database = database

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database.reopen(), name)


class StorageHost(Protocol):
    """What the storage package needs from the object host (implemented by the runtime).

    The host owns the gates and the trace; storage calls into it and never the other way.
    """

    def storage_op(self, op: str, **detail: Any) -> None:
        """Record the start of a public storage call; raise if the object was reset.

        Args:
            op: The storage method, e.g. ``"get"``, ``"kv.put"`` or ``"sql.exec"``.
            **detail: Facts for the trace event (key, key count, query).
        """

    def storage_fact(self, op: str, fact: str, value: Any) -> None:
        """Like ``storage_op(op, **{fact: value})``: one fact, the hot path (get, put, exec)."""

    def writes_pending(self) -> None:
        """Note that the implicit transaction has writes; commit it at the end of the turn."""

    def now_ms(self) -> int:
        """Return the virtual clock in milliseconds since the epoch."""

    async def block_concurrency_while(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``await fn()`` with the input gate closed and return its result.

        An exception escaping ``fn`` propagates; it does not reset the object (a failed
        ``transaction()`` only rolls back).

        Args:
            fn: Function taking no arguments that returns an awaitable.
        """


def sqlite_error_message(error: sqlite3.Error, offset: int | None = None) -> str:
    """Format an SQLite error the way workerd does: ``msg[ at offset N]: CODE[ (extended: X)]``.

    Args:
        error: The exception raised by :mod:`sqlite3`.
        offset: Byte offset of the offending token, when known.

    Returns:
        The message text the platform puts after ``Error: ``.
    """
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error)
    if offset is not None:
        text += f" at offset {offset}"
    if code is None:
        return text
    primary = code & 0xFF
    text += ": " + _PRIMARY_NAMES.get(primary, f"SQLITE_UNKNOWN_ERROR_CODE({primary})")
    if code != primary and getattr(error, "sqlite_errorname", None):
        text += f" (extended: {error.sqlite_errorname})"
    return text


class ObjectDatabase:
    """The SQLite database of one Durable Object and its implicit transaction.

    On the platform the database lives with the object; dosim keeps it in memory or, for
    the dev server, in a file (WAL journal, ``synchronous=FULL`` so a commit is on disk when
    :meth:`commit` returns). Connection limits and the authorizer are those of §6.3/§6.4 of
    the spec; foreign keys are enforced by default, as workerd builds SQLite with
    ``SQLITE_DEFAULT_FOREIGN_KEYS=1``.

    Args:
        path: Database file, or None for a private in-memory database. A file that does
            not exist yet is created by the first write (see the module docstring).
        sql_enabled: True for SQLite-backed classes (``new_sqlite_classes``), False for
            KV-backed ones, which get the KV limits and no SQL API.
        on_open: Called with the database each time it opens its file (to count open
            files, :class:`~dosim.storage.pool.DatabasePool`).

    Attributes:
        conn: The :class:`sqlite3.Connection` (autocommit mode; dosim issues BEGIN/COMMIT);
            while released, a stand-in that reopens the database when used.
        path: The file, or None.
        on_disk: Whether the file exists (false: the scratch database until the first write).
        is_open: Whether :attr:`conn` is open (false once :meth:`release` closed it).
        readers: Cursors handed to app code that may still read rows (each has a
            ``reading`` property); while one reads, the database is not released.
        spare: A finished cursor of :attr:`conn` that ``sql.exec`` reuses, or None.
        sql_enabled: Whether the class is SQLite-backed.
        authorizer: The :class:`~dosim.storage.authorizer.SqlAuthorizer` on the connection.
        kv: The hidden KV table with its write-back cache.
        fail_next_commit: Fault injection: the next :meth:`commit` rolls back and raises
            ``Internal error in Durable Object storage write caused object to be reset.``
        broken: Message of the critical error (e.g. ``SQLITE_FULL``) that broke storage, or
            None; cleared by :meth:`rollback` (the reset).
        dirty: True once the host was told about writes in the current transaction (hot
            paths test it before calling :meth:`begin_write`).
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        sql_enabled: bool,
        on_open: Callable[[ObjectDatabase], None] | None = None,
    ) -> None:
        self.path = path
        self.sql_enabled = sql_enabled
        self.fail_next_commit = False
        self.broken: str | None = None
        self.on_disk = path is not None and os.path.exists(path)
        self.is_open = True
        self.readers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.spare: sqlite3.Cursor | None = None
        self._on_open = on_open
        self._token = f"/*{os.urandom(6).hex()}*/ "
        self._settings: list[str] = []
        self._max_pages: int | None = None
        self.authorizer = SqlAuthorizer()
        self.conn = self._connect()
        self.kv = KvStore(self)
        self._txn = False  # dosim issued BEGIN and has not committed or rolled back yet
        self.dirty = False
        self._deferred = False  # the host asked for a commit while a savepoint was open
        self._savepoints: list[str] = []
        self._alarm: int | None = _UNKNOWN
        # As for the KV table (KvStore): a database not on disk starts without tables.
        self._meta_exists: bool | None = None if self.on_disk else False
        sql = self.sql
        self._q_begin = sql("BEGIN")
        self._q_commit = sql("COMMIT")
        self._q_rollback = sql("ROLLBACK")
        self._q_meta_exists = sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_cf_METADATA'"
        )
        self._q_meta_create = sql(
            "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)"
        )
        self._q_meta_get = sql("SELECT value FROM _cf_METADATA WHERE key = ?")
        self._q_meta_set = sql("INSERT OR REPLACE INTO _cf_METADATA VALUES (?, ?)")
        if self.on_disk and on_open is not None:
            on_open(self)

    # --- the connection: scratch, file, released ------------------------------------------

    @property
    def stored(self) -> bool:
        """Whether the object has storage: in memory once opened, on disk once written."""
        return self.path is None or self.on_disk

    def _connect(self) -> sqlite3.Connection:
        """Open and configure a connection: to the file once on disk, else in memory."""
        path = self.path if self.on_disk else None
        if path is not None:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        conn = sqlite3.connect(
            ":memory:" if path is None else path,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        try:
            if path is not None:
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                except sqlite3.Error:  # pragma: no cover - filesystems without shared memory
                    pass
                conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            for name, value in limits.SQLITE_LIMITS.items():
                if hasattr(sqlite3, name):
                    conn.setlimit(getattr(sqlite3, name), value)
            conn.set_authorizer(self.authorizer)
            for statement in self._settings:
                conn.execute(statement)
            if self._max_pages is not None:
                conn.execute(self.sql(f"PRAGMA max_page_count = {self._max_pages}"))
        except BaseException:
            conn.close()
            raise
        return conn

    def _keep_settings(self, conn: sqlite3.Connection) -> None:
        """Remember the connection settings app SQL may have changed, for the next one."""
        sql = self.sql
        settings = [
            sql(f"PRAGMA {name}={int(conn.execute(sql(f'PRAGMA {name}')).fetchone()[0])}")
            for name in _CONNECTION_PRAGMAS
        ]
        if not conn.execute(sql("SELECT 'a' LIKE 'A'")).fetchone()[0]:
            settings.append(sql("PRAGMA case_sensitive_like=1"))
        self._settings = settings

    def _use(self, conn: sqlite3.Connection | _Closed) -> None:
        self.conn = conn
        self.kv.use(conn)
        self.spare = None

    def _reading(self) -> bool:
        return any(reader.reading for reader in list(self.readers))

    @property
    def at_rest(self) -> bool:
        """Nothing uncommitted, nothing pending, no cursor being read: closing loses nothing."""
        return not (
            self._txn
            or self._savepoints
            or self.dirty
            or self._deferred
            or self.kv.pending
            or self.broken is not None
            or self.fail_next_commit
            or (self.is_open and self.conn.in_transaction)
            or self._reading()
        )

    def release(self) -> bool:
        """Close the file connection if the database is :attr:`at_rest`; the next use reopens it.

        A database that is not file-backed is never released (its memory is the storage).

        Returns:
            Whether the connection is closed now.
        """
        if not self.is_open:
            return True
        if self.path is None or not self.at_rest:
            return False
        conn = self.conn
        try:
            self._keep_settings(conn)
        except sqlite3.Error:
            return False
        self._use(_Closed(self))
        self.is_open = False
        conn.close()
        return True

    def reopen(self) -> sqlite3.Connection:
        """Return the open connection, opening it again if it was released.

        Raises:
            sqlite3.Error: The file could not be opened.
        """
        if self.is_open:
            return self.conn  # type: ignore[return-value]
        if not self.on_disk and self.path is not None and os.path.exists(self.path):
            self.on_disk = True  # another app on the same folder created it meanwhile
        conn = self._connect()
        self._use(conn)
        self.is_open = True
        self._forget_cached_state()
        if self.on_disk and self._on_open is not None:
            self._on_open(self)
        return conn

    def _to_disk(self) -> None:
        """Move a fresh object from its scratch database to its file (its first write).

        Nothing was written to the scratch database, so nothing is copied; an open
        transaction and its savepoints are opened again on the file. A cursor still
        reading the scratch database keeps it.
        """
        if self.on_disk or self.path is None:
            return
        scratch = self.conn
        if self.is_open:
            self._keep_settings(scratch)  # type: ignore[arg-type]
        self.on_disk = True
        try:
            conn = self._connect()
        except BaseException:
            self.on_disk = False
            raise
        reading = self._reading()
        self._use(conn)
        self.is_open = True
        self._forget_cached_state()
        if self._txn:
            conn.execute(self._q_begin)
            for name in self._savepoints:
                conn.execute(self.sql(f"SAVEPOINT {name}"))
        if not reading and isinstance(scratch, sqlite3.Connection):
            scratch.close()
        if self._on_open is not None:
            self._on_open(self)

    def sql(self, text: str) -> str:
        """Return ``text`` marked as dosim's own (trusted) SQL for this database.

        Args:
            text: An SQL statement dosim runs itself.
        """
        return self._token + text

    # --- the implicit transaction ---------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether the implicit transaction is open (it may not have written anything yet)."""
        return self._txn

    @property
    def savepoint_depth(self) -> int:
        """How many ``transaction()``/``transactionSync()`` savepoints are open."""
        return len(self._savepoints)

    @property
    def is_broken(self) -> bool:
        """Whether a critical SQL error broke storage; later storage calls raise it."""
        return self.broken is not None

    def broken_error(self) -> Exception:
        """Return the error storage calls raise once :attr:`broken` is set."""
        return platform_error("Error", self.broken or "")

    def ensure_transaction(self) -> None:
        """Open the implicit transaction without announcing writes (for reads that may write)."""
        if not self._txn:
            self.conn.execute(self._q_begin)
            self._txn = True

    def begin_write(self) -> bool:
        """Make sure the implicit transaction is open before a write.

        Returns:
            True the first time in a transaction: the caller then calls
            :meth:`StorageHost.writes_pending` so the host commits at the end of the turn.
        """
        if self.dirty:
            return False
        if not self.on_disk and self.path is not None:
            self._to_disk()
        if not self._txn:
            self.conn.execute(self._q_begin)
            self._txn = True
        self.dirty = True
        return True

    def release_clean_transaction(self) -> None:
        """Commit a transaction that was opened for a statement which turned out not to write."""
        if self._txn and not self.dirty and not self._savepoints and not self.kv.pending:
            self.conn.execute(self._q_commit)
            self._txn = False

    def commit(self) -> bool:
        """Flush cached KV writes and commit the implicit transaction.

        While a ``transaction()`` savepoint is open (its closure awaited something that is
        not storage, so the turn ended), the commit is deferred until the savepoint closes;
        :meth:`end_savepoint` then asks the caller to announce writes again.

        Returns:
            True when the transaction was committed (or there was nothing to commit), False
            when the commit was deferred.

        Raises:
            JsException: The injected commit failure, a deferred constraint left violated, a
                critical error, or any other SQLite failure. The transaction is rolled back
                first; the host resets the object.
        """
        if self.broken is not None:
            error = self.broken_error()
            self.rollback()
            raise error
        if self._savepoints:
            self._deferred = True
            self.dirty = False
            return False
        if not self._txn:
            self.dirty = False
            return True
        if self.fail_next_commit:
            self.fail_next_commit = False
            self.rollback()
            raise platform_error("Error", MSG_STORAGE_COMMIT_FAILED)
        try:
            self.kv.flush()
            self.conn.execute(self._q_commit)
        except sqlite3.Error as exc:
            message = sqlite_error_message(exc)
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_CONSTRAINT:
                message = limits.MSG_CONSTRAINTS_AT_COMMIT.format(message=message)
            self.rollback()
            raise platform_error("Error", message) from None
        except Exception:  # the KV flush already translated its error
            self.rollback()
            raise
        self._txn = self.dirty = False
        return True

    def rollback(self) -> None:
        """Discard the implicit transaction, cached KV writes and open savepoints.

        This is also how the host resets the object: a critical error is cleared, so the
        next instance starts with working storage (workerd reopens the database).
        """
        self.broken = None
        self.kv.discard()
        self._forget_cached_state()
        self._savepoints.clear()
        self._txn = self.dirty = self._deferred = False
        if self.is_open and self.conn.in_transaction:
            try:
                self.conn.execute(self._q_rollback)
            except sqlite3.Error:  # pragma: no cover - nothing left to roll back
                pass

    def _forget_cached_state(self) -> None:
        self._alarm = _UNKNOWN
        self._meta_exists = None
        self.kv.forget_table()

    # --- savepoints (transaction() and transactionSync()) ---------------------------------

    def savepoint(self, name: str) -> None:
        """Open savepoint ``name`` inside the implicit transaction.

        Cached KV writes are flushed first, so they stay outside the savepoint.

        Args:
            name: Savepoint name, inserted into the SQL unquoted (dosim uses
                ``_cf_savepoint_<depth>`` and ``_cf_sync_savepoint_<depth>``).
        """
        self.kv.flush()
        self.ensure_transaction()
        self.conn.execute(self.sql(f"SAVEPOINT {name}"))
        self._savepoints.append(name)

    def end_savepoint(self, name: str, *, rollback: bool) -> bool:
        """Release savepoint ``name``, first rolling back to it when ``rollback`` is true.

        Args:
            name: A savepoint opened with :meth:`savepoint`; savepoints opened after it are
                released with it. A name no longer open is ignored.
            rollback: Undo the savepoint's writes, cached KV writes included, first.

        Returns:
            True when the caller must call :meth:`StorageHost.writes_pending`: a commit was
            deferred while the savepoint was open and nobody has announced writes since.
        """
        if name not in self._savepoints:
            return False  # a critical error or a host rollback already closed it
        if rollback:
            self.kv.discard()
            self._forget_cached_state()
            self.conn.execute(self.sql(f"ROLLBACK TO {name}"))
        self.conn.execute(self.sql(f"RELEASE {name}"))
        del self._savepoints[self._savepoints.index(name) :]
        if self._savepoints or not self._deferred:
            return False
        self._deferred = False
        if self.dirty:
            return False
        self.dirty = True
        return True

    # --- errors ---------------------------------------------------------------------------

    def check_critical(self, error: sqlite3.Error, message: str) -> None:
        """Break storage if ``error`` made SQLite roll the whole transaction back.

        Mirrors workerd: ``SQLITE_FULL``, ``IOERR``, ``NOMEM`` or ``INTERRUPT`` inside a
        transaction that SQLite then closed is a critical error. The host learns of it when
        it commits at the end of the turn; every storage call until the reset raises it.

        Args:
            error: The error a statement raised.
            message: Its platform text (:func:`sqlite_error_message`), kept in :attr:`broken`.
        """
        code = getattr(error, "sqlite_errorcode", 0) & 0xFF
        if code in _CRITICAL_CODES and self._txn and not self.conn.in_transaction:
            self.broken = message
            self.kv.discard()
            self._forget_cached_state()
            self._savepoints.clear()
            self._txn = self._deferred = False

    def internal_error(self, error: sqlite3.Error) -> Exception:
        """Translate an error from dosim's own SQL (a KV flush, alarm write) for the caller.

        Args:
            error: The error dosim's statement raised; a critical one breaks storage
                (:meth:`check_critical`).

        Returns:
            The ``JsException`` to raise, with the :func:`sqlite_error_message` text.
        """
        message = sqlite_error_message(error)
        self.check_critical(error, message)
        return platform_error("Error", message)

    # --- alarm and bookmark metadata ------------------------------------------------------

    def read_alarm(self) -> int | None:
        """Return the alarm time in ms, including a change not yet committed, or None."""
        if self._alarm is _UNKNOWN:
            self._alarm = self._read_meta(_ALARM_KEY)
        return self._alarm

    def write_alarm(self, time_ms: int | None) -> bool:
        """Store the alarm time (None deletes it) in the current transaction.

        Storage calls open the transaction first (:meth:`begin_write`) so the change commits
        with the turn's other writes. Called with no transaction open (the host clearing
        the alarm while its handler runs, or scheduling a retry), the write is durable at
        once.

        Args:
            time_ms: Alarm time in milliseconds since the Unix epoch, or None.

        Returns:
            Whether the stored value changed.
        """
        if self.read_alarm() == time_ms:
            return False
        if time_ms is None and not self._has_meta():
            self._alarm = None
            return False
        self._write_meta(_ALARM_KEY, time_ms)
        self._alarm = time_ms
        return True

    def next_bookmark(self) -> int:
        """Increment and return the persisted local-development bookmark counter (a write)."""
        current = self._read_meta(_BOOKMARK_KEY)
        value = 0 if current is None else current + 1
        self._write_meta(_BOOKMARK_KEY, value)
        return value

    def _has_meta(self) -> bool:
        if self._meta_exists is None:
            self._meta_exists = self.conn.execute(self._q_meta_exists).fetchone() is not None
        return self._meta_exists

    def _read_meta(self, key: int) -> int | None:
        if not self._has_meta():
            return None
        row = self.conn.execute(self._q_meta_get, (key,)).fetchone()
        return None if row is None else row[0]

    def _write_meta(self, key: int, value: int | None) -> None:
        if not self.on_disk and self.path is not None:
            self._to_disk()
        try:
            if not self._has_meta():
                self.conn.execute(self._q_meta_create)
                self._meta_exists = True
            self.conn.execute(self._q_meta_set, (key, value))
        except sqlite3.Error as exc:
            raise self.internal_error(exc) from None

    # --- whole-database operations --------------------------------------------------------

    def delete_all(self, *, delete_alarm: bool) -> int:
        """Delete every key, table, view, index and trigger inside the open transaction.

        Mirrors workerd resetting the database file; ``sqlite_sequence`` is emptied rather
        than dropped (SQLite refuses to drop it). The caller opened the transaction.

        Args:
            delete_alarm: Also delete the alarm (compat flag ``delete_all_deletes_alarm``,
                default from 2026-02-24); otherwise the alarm survives.

        Returns:
            How many KV keys existed.
        """
        alarm = self.read_alarm()
        count = self.kv.count()
        self.kv.discard()
        conn = self.conn
        try:
            # Deferred foreign keys: dropping parents before children must not fail, and no
            # violation can survive once every table is gone.
            conn.execute(self.sql("PRAGMA defer_foreign_keys=ON"))
            objects = conn.execute(
                self.sql("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table','view')")
            ).fetchall()
            objects.sort(key=lambda row: (row[0] != "view", "VIRTUAL" not in (row[2] or "")))
            for kind, name, _ in objects:
                quoted = '"' + name.replace('"', '""') + '"'
                if name == "sqlite_sequence":
                    conn.execute(self.sql("DELETE FROM sqlite_sequence"))
                elif kind == "view":
                    conn.execute(self.sql(f"DROP VIEW IF EXISTS {quoted}"))
                else:
                    conn.execute(self.sql(f"DROP TABLE IF EXISTS {quoted}"))
        except sqlite3.Error as exc:
            raise self.internal_error(exc) from None
        self._forget_cached_state()
        self._alarm = None
        if alarm is not None and not delete_alarm:
            self.write_alarm(alarm)
        return count

    @property
    def database_size(self) -> int:
        """Bytes in use: ``(page_count - freelist_count) * page_size`` (counts dosim's tables)."""
        if self.kv.pending:
            self.kv.flush()
        row = self.conn.execute(
            self.sql(
                "SELECT ((SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count))"
                " * (SELECT * FROM pragma_page_size)"
            )
        ).fetchone()
        return row[0]

    def set_max_page_count_for_test(self, pages: int) -> None:
        """Cap the database size (workerd's ``setMaxPageCountForTest``) to provoke SQLITE_FULL.

        Args:
            pages: Largest number of database pages (``PRAGMA max_page_count``).
        """
        self._max_pages = int(pages)
        self.conn.execute(self.sql(f"PRAGMA max_page_count = {int(pages)}"))

    def close(self) -> None:
        """Roll back anything uncommitted and close the connection (for good)."""
        if not self.is_open:
            return
        if self.conn.in_transaction:
            self.rollback()
        self.is_open = False
        conn = self.conn
        self._use(_Closed(self))
        conn.close()
