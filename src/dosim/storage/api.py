"""``ctx.storage``: the Durable Object storage API as Python Workers see it.

:class:`DurableObjectStorage` has the platform's camelCase methods. The asynchronous ones
**start when called, not when awaited**: on Cloudflare the SDK calls the JavaScript method
at once and hands back a coroutine that awaits its promise, so an un-awaited
``self.ctx.storage.setAlarm(t)`` still sets the alarm (workerd's own Python Durable Object
test does this). Here the call does its work at once and returns a coroutine that delivers
the result or raises the error when awaited. Awaiting never suspends: on Cloudflare the
input gate keeps other events out while an object awaits its own storage, and in dosim
nothing can run in between because nothing yields. The transaction these calls write
into, its commit and the output gate are explained in :mod:`dosim.storage.database`.

Options may be passed as a dict or as keyword arguments: Pyodide turns keyword arguments of
a JavaScript call into one trailing object argument, so ``storage.list(prefix="a")`` works
on Cloudflare too. Because it is a *trailing positional* object, ``put("k", x=1)`` stores
the value ``{"x": 1}`` there, and so it does here. Unknown option names are ignored, as
JavaScript ignores unknown properties. ``allowConcurrency``, ``allowUnconfirmed`` and
``noCache`` are accepted and change nothing: dosim's storage answers without waiting
(there is no concurrency to allow), every write is confirmed when the turn ends, and there
is no separate cache whose use could be observed.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Callable, Coroutine
from typing import Any

from ..eager import finished, settled
from ..errors import platform_error
from ..serialization import JsDict, decode_value, encode_value
from . import limits
from .database import ObjectDatabase, StorageHost
from .kv import SyncKvStorage, as_key, check_sqlite_row, compile_list_options
from .sql import SqlStorage
from .transaction import run_transaction, run_transaction_sync

__all__ = ["DurableObjectStorage"]

_MISSING: Any = object()
_MAX_VALUE = limits.MAX_VALUE_SIZE + limits.VALUE_SIZE_CUSHION
_ROW_FAST_LIMIT = limits.SQLITE_MAX_ROW_SIZE - 32  # below this no row can be too big


def _starts_when_called(
    method: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Run an ``async def`` storage method's body at call time (:func:`dosim.eager.settled`)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return settled(method(*args, **kwargs))

    return call


def _options(options: Any, kwargs: dict) -> dict | None:
    """The options object a JS call receives: the dict, else the keywords."""
    if options is None:
        return kwargs or None
    return options if isinstance(options, dict) else None


def _alarm_ms(value: Any) -> float:
    """Milliseconds since the epoch for a ``setAlarm`` argument (a JS Date or number)."""
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.UTC)
        return aware.timestamp() * 1000
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    raise TypeError(limits.MSG_ALARM_TIME_TYPE.format(type=type(value).__name__))


class DurableObjectStorage:
    """``ctx.storage`` of one Durable Object (spec §5–§7).

    Platform behaviour: key-value methods (``get``, ``put``, ``delete``, ``deleteAll``,
    ``list``), transactions, alarms, and on SQLite-backed classes ``sql``, ``kv`` and
    ``transactionSync``. Writes made without an ``await`` that suspends in between commit
    atomically at the end of the turn; responses wait for the commit.

    Limits: KV-backed classes (``new_classes``) enforce keys <= 2048 bytes, values <= 128 KiB
    and <= 128 keys per multi-key call (``ValueError``, the SDK's mapping of
    ``RangeError``); SQLite-backed classes enforce the 2 MB row (key + value), raising
    ``string or blob too big: SQLITE_TOOBIG``.

    Values: stored as copies with the RPC conversion rules (dict -> ``JsDict``, bytes ->
    ``memoryview``; tuples raise ``TypeError`` before anything is written). ``None`` is
    storable (it becomes JS ``null``): ``get`` then returns None as for a missing key, but
    ``list`` shows the key.

    Args:
        database: The object's :class:`~dosim.storage.database.ObjectDatabase`.
        host: The object host (:class:`~dosim.storage.database.StorageHost`).
        delete_all_deletes_alarm: Whether ``deleteAll()`` also deletes the alarm
            (compatibility flag ``delete_all_deletes_alarm``, default for compatibility
            dates from 2026-02-24; before that the alarm survived).
    """

    def __init__(
        self, database: ObjectDatabase, host: StorageHost, *, delete_all_deletes_alarm: bool = True
    ) -> None:
        self._db = database
        self._host = host
        self._kv = database.kv
        self._kv_limits = not database.sql_enabled
        self._delete_all_deletes_alarm = delete_all_deletes_alarm
        self._sql: SqlStorage | None = None
        self._sync_kv: SyncKvStorage | None = None
        self._txn_depth = 0
        self._sync_depth = 0

    # --- helpers ----------------------------------------------------------------------------

    def _check(self) -> None:
        if self._db.broken is not None:
            raise self._db.broken_error()

    def _key(self, key: Any) -> str:
        key = as_key(key)
        if self._kv_limits and len(key) > limits.MAX_KEY_SIZE // 4:
            size = len(key.encode("utf-8"))
            if size > limits.MAX_KEY_SIZE:
                raise platform_error("RangeError", limits.MSG_KEY_TOO_LARGE.format(size=size))
        return key

    def _count(self, count: int) -> None:
        if self._kv_limits and count > limits.MAX_KEYS_PER_CALL:
            raise platform_error("RangeError", limits.MSG_TOO_MANY_KEYS.format(count=count))

    def _value(self, key: str, value: Any) -> bytes:
        blob = encode_value(value)
        if not self._kv_limits:
            check_sqlite_row(key, blob)
        elif len(blob) > _MAX_VALUE:
            raise platform_error("RangeError", limits.MSG_VALUE_TOO_LARGE.format(size=len(blob)))
        return blob

    def _write(self) -> None:
        if self._db.begin_write():
            self._host.writes_pending()

    # --- key-value API ----------------------------------------------------------------------

    @_starts_when_called
    async def get(self, keys: Any, options: dict | None = None, /, **kwargs: Any) -> Any:
        """Read one key, or several.

        Args:
            keys: A key, or a list of keys.
            options: ``allowConcurrency``, ``noCache`` (accepted, no effect here).
            **kwargs: The same options as keywords.

        Returns:
            For one key its value, or None if absent. For a list, a ``JsDict`` of the keys
            found, ordered by their UTF-8 bytes.
        """
        if type(keys) is not list:
            self._host.storage_fact("get", "key", keys)
            if self._db.broken is not None:
                raise self._db.broken_error()
            key = keys if type(keys) is str and keys.isascii() else as_key(keys)
            if self._kv_limits:
                key = self._key(key)
            blob = self._kv.get(key)
            return None if blob is None else decode_value(blob)
        self._host.storage_op("get", keys=len(keys))
        self._check()
        self._count(len(keys))
        found = {}
        for key in keys:
            key = self._key(key)
            blob = self._kv.get(key)
            if blob is not None:
                found[key] = blob
        return JsDict((key, decode_value(found[key])) for key in sorted(found))

    def put(
        self, keyOrEntries: Any, value: Any = _MISSING, options: Any = None, /, **kwargs: Any
    ) -> Any:
        """Write one pair (``put(key, value)``) or several (``put({key: value, ...})``).

        A multi-pair put is validated as a whole before anything is written.

        Args:
            keyOrEntries: A key, or a dict of key -> value.
            value: The value (one-pair form); in the dict form, an optional options dict.
            options: Write options (accepted, no effect here; see the module docstring).
            **kwargs: Options as keywords; in the one-pair form without ``value`` they
                become the value (see the module docstring).

        Returns:
            An awaitable: the write is done when ``put`` returns (as on the platform, an
            un-awaited put still happens); awaiting it raises the call's error, if any.

        Raises:
            TypeError: ``put() called with undefined value.`` (no value), the usage text
                when a dict is followed by something that is not an options dict, or a
                value that cannot be stored.
            ValueError: KV-backed limits (key, value, 128 pairs).
            JsException: ``string or blob too big: SQLITE_TOOBIG`` on SQLite-backed classes.
        """
        host = self._host
        if type(keyOrEntries) is str and value is not _MISSING and not kwargs:
            # The common case, kept flat because it is the hot path of most objects, and
            # run without a coroutine: it finishes here, its error raised where awaited.
            try:
                host.storage_fact("put", "key", keyOrEntries)
                db = self._db
                if db.broken is not None:
                    raise db.broken_error()
                key = keyOrEntries if keyOrEntries.isascii() else as_key(keyOrEntries)
                blob = encode_value(value)
                if self._kv_limits:
                    key = self._key(key)
                    if len(blob) > _MAX_VALUE:
                        self._value(key, value)
                elif len(key) * 4 + len(blob) > _ROW_FAST_LIMIT:
                    check_sqlite_row(key, blob)
                if not db.dirty and db.begin_write():
                    host.writes_pending()
                self._kv.pending[key] = blob
            except Exception as error:  # noqa: BLE001 - delivered where the call is awaited
                return finished(error=error)
            return finished()
        return settled(self._put(keyOrEntries, value, options, **kwargs))

    async def _put(self, keyOrEntries: Any, value: Any, options: Any, /, **kwargs: Any) -> None:
        """Every other form of :meth:`put` (see there)."""
        host = self._host
        if kwargs:  # Pyodide: keywords become one trailing JS object argument
            if value is _MISSING:
                value = kwargs
            elif options is None:
                options = kwargs
        if type(keyOrEntries) is not dict:
            host.storage_fact("put", "key", keyOrEntries)
            self._check()
            if value is _MISSING:
                raise TypeError(limits.MSG_PUT_UNDEFINED)
            key = self._key(keyOrEntries)
            blob = self._value(key, value)
            self._write()
            self._kv.pending[key] = blob
            return
        host.storage_op("put", keys=len(keyOrEntries))
        self._check()
        if value is not _MISSING and value is not None and not isinstance(value, dict):
            raise TypeError(limits.MSG_PUT_USAGE)
        self._count(len(keyOrEntries))
        pairs = []
        for key, item in keyOrEntries.items():
            key = self._key(key)
            pairs.append((key, self._value(key, item)))
        self._write()
        self._kv.pending.update(pairs)

    @_starts_when_called
    async def delete(self, keys: Any, options: dict | None = None, /, **kwargs: Any) -> Any:
        """Delete one key, or several.

        Args:
            keys: A key, or a list of keys.
            options: Write options (accepted, no effect here; see the module docstring).
            **kwargs: The same options as keywords.

        Returns:
            For one key whether it existed; for a list how many of the keys existed.
        """
        if type(keys) is not list:
            self._host.storage_fact("delete", "key", keys)
            self._check()
            key = self._key(keys)
            self._write()
            return self._kv.delete(key)
        self._host.storage_op("delete", keys=len(keys))
        self._check()
        self._count(len(keys))
        checked = [self._key(key) for key in keys]
        self._write()
        return sum(self._kv.delete(key) for key in checked)

    @_starts_when_called
    async def deleteAll(self, options: dict | None = None, /, **kwargs: Any) -> None:
        """Delete all stored data: keys and, on SQLite-backed classes, every SQL table.

        The alarm is deleted too when ``delete_all_deletes_alarm`` is on (see the class).

        Args:
            options: Write options (accepted, no effect here; see the module docstring).
            **kwargs: The same options as keywords.

        Raises:
            JsException: ``Cannot call deleteAll() within a transaction`` inside
                ``transaction()`` or (dosim's choice) ``transactionSync()``.
        """
        self._host.storage_op("deleteAll")
        self._check()
        if self._db.savepoint_depth:
            raise platform_error("Error", limits.MSG_DELETE_ALL_IN_TRANSACTION)
        self._write()
        self._db.delete_all(delete_alarm=self._delete_all_deletes_alarm)

    @_starts_when_called
    async def list(self, options: dict | None = None, /, **kwargs: Any) -> JsDict:
        """List pairs in key order (UTF-8 bytes).

        Args:
            options: ``start`` (inclusive), ``startAfter`` (exclusive), ``end``
                (exclusive), ``prefix``, ``reverse``, ``limit``.
            **kwargs: The same options as keywords.

        Returns:
            A ``JsDict`` of key -> value in list order.

        Raises:
            TypeError: ``list() cannot be called with both start and startAfter values.``
                or ``List limit must be positive.``
        """
        self._host.storage_op("list")
        self._check()
        compiled = compile_list_options(_options(options, kwargs))
        if compiled is None:
            return JsDict()
        return JsDict((key, decode_value(blob)) for key, blob in self._kv.list(*compiled))

    # --- transactions -------------------------------------------------------------------

    async def transaction(self, closure: Any, options: Any = None, /) -> Any:
        """Run ``await closure(txn)`` atomically, with other events held back.

        Args:
            closure: Function called with a
                :class:`~dosim.storage.transaction.DurableObjectTransaction`; may be async.
            options: Accepted and ignored.

        Returns:
            What the closure returned. If it raised, its writes are rolled back and the
            exception is re-raised; the object is not reset.
        """
        return await run_transaction(self, closure)

    def transactionSync(self, fn: Any) -> Any:
        """Run ``fn()`` synchronously in a savepoint; roll back and re-raise if it raises.

        Args:
            fn: Function taking no arguments.

        Returns:
            What ``fn`` returned.

        Raises:
            JsException: ``Durable Object is not backed by SQL.`` on KV-backed classes;
                ``Cannot commit transaction due to an earlier SQL critical error`` when
                ``fn`` returns after a critical SQL error (e.g. ``SQLITE_FULL``).
        """
        return run_transaction_sync(self, fn)

    @_starts_when_called
    async def sync(self) -> None:
        """Wait until every write issued so far is durable.

        dosim commits the implicit transaction right away (unless a ``transaction()`` is
        open). If that commit fails, storage stays broken so the host resets the object at
        the end of the turn, as a broken output gate does on the platform.
        """
        self._host.storage_op("sync")
        self._check()
        db = self._db
        if not db.in_transaction or db.savepoint_depth:
            return
        try:
            db.commit()
        except Exception as exc:
            db.broken = getattr(exc, "message", str(exc))
            raise

    # --- alarms -------------------------------------------------------------------------

    @_starts_when_called
    async def getAlarm(self, options: dict | None = None, /, **kwargs: Any) -> int | None:
        """Return the alarm time in milliseconds since the epoch, or None.

        Args:
            options: ``allowConcurrency`` (accepted, no effect here).
            **kwargs: The same options as keywords.
        """
        self._host.storage_op("getAlarm")
        self._check()
        return self._db.read_alarm()

    @_starts_when_called
    async def setAlarm(self, scheduledTime: Any, options: Any = None, /, **kwargs: Any) -> None:
        """Set the object's single alarm.

        Args:
            scheduledTime: Milliseconds since the epoch, or a ``datetime`` (naive means
                UTC). Times in the past fire as soon as possible (clamped to now);
                fractions of a millisecond are dropped.
            options: ``allowConcurrency``, ``allowUnconfirmed`` (accepted, no effect).
            **kwargs: The same options as keywords.

        Raises:
            TypeError: ``setAlarm() cannot be called with an alarm time <= 0``. A class
                without ``alarm()`` may set one, as Python classes may on Cloudflare (see
                :mod:`dosim.alarms` for what happens when it fires).
        """
        host = self._host
        host.storage_op("setAlarm", time=scheduledTime)
        self._check()
        time_ms = _alarm_ms(scheduledTime)
        if time_ms <= 0:
            raise TypeError(limits.MSG_ALARM_TIME_NOT_POSITIVE)
        time_ms = max(int(time_ms), host.now_ms())
        if self._db.read_alarm() == time_ms:
            return
        self._write()
        self._db.write_alarm(time_ms)

    @_starts_when_called
    async def deleteAlarm(self, options: dict | None = None, /, **kwargs: Any) -> None:
        """Delete the alarm (a running ``alarm()`` handler is not cancelled).

        Args:
            options: ``allowConcurrency``, ``allowUnconfirmed`` (accepted, no effect here).
            **kwargs: The same options as keywords.
        """
        self._host.storage_op("deleteAlarm")
        self._check()
        if self._db.read_alarm() is None:
            return
        self._write()
        self._db.write_alarm(None)

    # --- SQL, sync KV, point-in-time recovery --------------------------------------------

    @property
    def sql(self) -> SqlStorage:
        """The SQL API (:class:`~dosim.storage.sql.SqlStorage`); calls fail on KV-backed classes."""
        if self._sql is None:
            self._sql = SqlStorage(self._db, self._host)
        return self._sql

    @property
    def kv(self) -> SyncKvStorage:
        """The synchronous KV API (:class:`~dosim.storage.kv.SyncKvStorage`), SQLite only."""
        if self._sync_kv is None:
            self._sync_kv = SyncKvStorage(self._db, self._host)
        return self._sync_kv

    @_starts_when_called
    async def getCurrentBookmark(self) -> str:
        """Return a bookmark for the current state (local ersatz, as workerd's).

        Locally the bookmark is a counter that grows with every call and survives restarts
        of a file database, formatted like production's
        (``0000007b-0000b26e-00000000-<32 zeros>``); it cannot be restored.

        Raises:
            JsException: On KV-backed classes (no point-in-time recovery).
        """
        self._host.storage_op("getCurrentBookmark")
        self._check()
        if not self._db.sql_enabled:
            raise platform_error("Error", limits.MSG_NO_PITR)
        self._write()
        count = self._db.next_bookmark()
        return f"{count >> 32:08x}-{count & 0xFFFFFFFF:08x}-00000000-{'0' * 32}"

    @_starts_when_called
    async def getBookmarkForTime(self, timestamp: Any) -> str:
        """Raise: local runtimes do not implement point-in-time recovery.

        Args:
            timestamp: The time to find a bookmark for (ignored).

        Raises:
            JsException: ``This Durable Object's storage back-end does not implement
                point-in-time recovery.``
        """
        self._host.storage_op("getBookmarkForTime")
        raise platform_error("Error", limits.MSG_NO_PITR)

    @_starts_when_called
    async def onNextSessionRestoreBookmark(self, bookmark: str) -> str:
        """Raise: local runtimes do not implement point-in-time recovery.

        Args:
            bookmark: The bookmark to restore at the next restart (ignored).

        Raises:
            JsException: ``This Durable Object's storage back-end does not implement
                point-in-time recovery.``
        """
        self._host.storage_op("onNextSessionRestoreBookmark")
        raise platform_error("Error", limits.MSG_NO_PITR)
