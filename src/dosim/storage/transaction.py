"""Explicit transactions: ``storage.transaction(closure)`` and ``storage.transactionSync(fn)``.

``transaction(closure)`` runs ``await closure(txn)`` inside ``blockConcurrencyWhile`` (no
other event reaches the object meanwhile) and inside a savepoint ``_cf_savepoint_<depth>``
of the implicit transaction. If the closure returns, the savepoint is released and its
writes commit with the implicit transaction; if it raises, the savepoint is rolled back and
the exception re-raised to the caller **without resetting the object** (the failure is
carried out of the critical section as a value, exactly as workerd does).

``transactionSync(fn)`` (SQLite-backed classes only) calls ``fn()`` synchronously inside a
savepoint ``_cf_sync_savepoint_<depth>``; calls nest.

Where dosim differs: workerd commits any pending implicit transaction before an explicit
one starts; dosim nests the savepoint in it, so both commit together at the end of the
turn. On KV-backed classes the platform keeps ``txn`` writes apart from direct
``ctx.storage`` writes made inside the closure; dosim treats every storage write inside the
closure as part of the transaction, as SQLite-backed classes do.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ..errors import platform_error, python_error
from . import limits

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .api import DurableObjectStorage

__all__ = ["DurableObjectTransaction", "run_transaction", "run_transaction_sync"]

_OPEN, _ROLLED_BACK, _FINISHED = "open", "rolled back", "finished"


class DurableObjectTransaction:
    """The ``txn`` object a ``transaction()`` closure receives.

    It has the storage methods ``get``, ``put``, ``delete``, ``list``, ``getAlarm``,
    ``setAlarm`` and ``deleteAlarm`` (same arguments and results as on
    ``ctx.storage``), plus ``rollback()``. ``deleteAll()`` is refused. After
    ``rollback()`` every method raises ``Cannot <op>() on rolled back transaction``; after
    the closure finished, ``Cannot call <op>() on transaction that has already committed:
    did you move `txn` outside of the closure?``.
    """

    def __init__(self, storage: DurableObjectStorage, savepoint: str) -> None:
        self._storage = storage
        self._savepoint = savepoint
        self._state = _OPEN

    def _require(self, op: str) -> None:
        if self._state is _ROLLED_BACK:
            raise platform_error("Error", limits.MSG_TXN_ROLLED_BACK.format(op=op))
        if self._state is _FINISHED:
            raise platform_error("Error", limits.MSG_TXN_COMMITTED.format(op=op))

    async def get(self, keys: Any, options: dict | None = None, /, **kwargs: Any) -> Any:
        """Read one key (value or None) or a list of keys (dict of the found ones).

        Args:
            keys: A key, or a list of keys.
            options: As for ``ctx.storage.get()``.
            **kwargs: The same options as keywords.
        """
        self._require("get()")
        return await self._storage.get(keys, options, **kwargs)

    async def list(self, options: dict | None = None, /, **kwargs: Any) -> Any:
        """List a key range, like ``ctx.storage.list()``.

        Args:
            options: As for ``ctx.storage.list()``.
            **kwargs: The same options as keywords.
        """
        self._require("list()")
        return await self._storage.list(options, **kwargs)

    async def put(self, *args: Any, **kwargs: Any) -> None:
        """Write one pair (``put(key, value)``) or several (``put({k: v})``).

        Args:
            *args: ``(key, value[, options])`` or ``(entries[, options])``.
            **kwargs: As for ``ctx.storage.put()``.
        """
        self._require("put()")
        await self._storage.put(*args, **kwargs)

    async def delete(self, keys: Any, options: dict | None = None, /, **kwargs: Any) -> Any:
        """Delete one key (returns bool) or a list of keys (returns the count).

        Args:
            keys: A key, or a list of keys.
            options: As for ``ctx.storage.delete()``.
            **kwargs: The same options as keywords.
        """
        self._require("delete()")
        return await self._storage.delete(keys, options, **kwargs)

    async def getAlarm(self, options: dict | None = None, /, **kwargs: Any) -> int | None:
        """Return the alarm time in ms, or None.

        Args:
            options: As for ``ctx.storage.getAlarm()``.
            **kwargs: The same options as keywords.
        """
        self._require("getAlarm()")
        return await self._storage.getAlarm(options, **kwargs)

    async def setAlarm(
        self, scheduledTime: Any, options: dict | None = None, /, **kwargs: Any
    ) -> None:
        """Set the alarm, like ``ctx.storage.setAlarm()``.

        Args:
            scheduledTime: Milliseconds since the epoch, or a ``datetime`` (naive means UTC).
            options: As for ``ctx.storage.setAlarm()``.
            **kwargs: The same options as keywords.
        """
        self._require("setAlarm()")
        await self._storage.setAlarm(scheduledTime, options, **kwargs)

    async def deleteAlarm(self, options: dict | None = None, /, **kwargs: Any) -> None:
        """Delete the alarm, like ``ctx.storage.deleteAlarm()``.

        Args:
            options: As for ``ctx.storage.deleteAlarm()``.
            **kwargs: The same options as keywords.
        """
        self._require("deleteAlarm()")
        await self._storage.deleteAlarm(options, **kwargs)

    def deleteAll(self, options: dict | None = None, /, **kwargs: Any) -> None:
        """Refuse: a transaction cannot delete everything (raises ``JsException``).

        Args:
            options: Ignored.
            **kwargs: Ignored.

        Raises:
            JsException: ``Cannot call deleteAll() within a transaction``.
        """
        raise platform_error("Error", limits.MSG_DELETE_ALL_IN_TRANSACTION)

    def rollback(self) -> None:
        """Undo the transaction's writes now; later ``txn`` calls raise. Idempotent."""
        if self._state is _ROLLED_BACK:
            return
        self._require("rollback()")
        self._state = _ROLLED_BACK
        storage = self._storage
        if storage._db.end_savepoint(self._savepoint, rollback=True):
            storage._host.writes_pending()


async def run_transaction(storage: DurableObjectStorage, closure: Callable[[Any], Any]) -> Any:
    """Implement ``ctx.storage.transaction(closure)`` (see the module docstring).

    Args:
        storage: The object's :class:`~dosim.storage.api.DurableObjectStorage`.
        closure: Called with the :class:`DurableObjectTransaction`; may return an
            awaitable.

    Returns:
        What the closure returned.

    Raises:
        JsException: ``PythonError`` carrying the traceback of what the closure raised,
            after its writes were rolled back.
        JsException: The error of a critical SQL failure (e.g. ``SQLITE_FULL``) that broke
            storage before the call, or inside a closure that then returned.
    """
    db, host = storage._db, storage._host
    host.storage_op("transaction")
    if db.broken is not None:
        raise db.broken_error()

    async def critical_section() -> tuple[bool, Any]:
        name = f"_cf_savepoint_{storage._txn_depth}"
        db.savepoint(name)
        storage._txn_depth += 1
        txn = DurableObjectTransaction(storage, name)
        try:
            result = closure(txn)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            opened = txn._state is _OPEN
            txn._state = _ROLLED_BACK
            if opened and db.end_savepoint(name, rollback=True):
                host.writes_pending()
            if isinstance(exc, Exception):
                return False, exc  # roll back and re-raise, but do not reset the object
            raise
        finally:
            storage._txn_depth -= 1
        if txn._state is _OPEN:
            txn._state = _FINISHED
            if db.end_savepoint(name, rollback=False):
                host.writes_pending()
        if db.broken is not None:
            raise db.broken_error()  # a critical error inside: the host resets the object
        return True, result

    ok, value = await host.block_concurrency_while(critical_section)
    if not ok:
        # The closure ran as a JavaScript callback whose Promise rejected: the caller gets
        # Pyodide's PythonError, not the original exception (tests/test_ffi_pyodide.py
        # shows real Pyodide doing this; transactionSync, a synchronous call, differs).
        raise python_error(value) from None
    return value


def run_transaction_sync(storage: DurableObjectStorage, fn: Callable[[], Any]) -> Any:
    """Implement ``ctx.storage.transactionSync(fn)`` (see the module docstring).

    Args:
        storage: The object's :class:`~dosim.storage.api.DurableObjectStorage`.
        fn: Function taking no arguments.

    Returns:
        What ``fn`` returned.

    Raises:
        JsException: ``Durable Object is not backed by SQL.`` on KV-backed classes;
            ``Cannot commit transaction due to an earlier SQL critical error`` when
            ``fn`` returns after a critical SQL error (e.g. ``SQLITE_FULL``).
        Exception: What ``fn`` raised, after its writes were rolled back.
    """
    db, host = storage._db, storage._host
    host.storage_op("transactionSync")
    if not db.sql_enabled:
        raise platform_error("Error", limits.MSG_NOT_SQL)
    if db.broken is not None:
        raise db.broken_error()
    # A savepoint only reads, but workerd announces a write so that it nests in the
    # implicit transaction instead of starting a transaction of its own.
    if db.begin_write():
        host.writes_pending()
    name = f"_cf_sync_savepoint_{storage._sync_depth}"
    db.savepoint(name)
    storage._sync_depth += 1
    try:
        try:
            result = fn()
        except BaseException:
            if db.broken is None and db.end_savepoint(name, rollback=True):
                host.writes_pending()
            raise
        if db.broken is not None:
            raise platform_error("Error", limits.MSG_CRITICAL_ERROR_TXN)
        if db.end_savepoint(name, rollback=False):
            host.writes_pending()
        return result
    finally:
        storage._sync_depth -= 1
