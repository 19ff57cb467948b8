"""The object host: one per Durable Object id, running its events one instance at a time.

An :class:`ObjectHost` owns the object's storage (which outlives instances) and its alarm.
Each in-memory instance is an :class:`Incarnation`: the user's object, its ``ctx``, its
input and output gates (see :mod:`dosim.gates`). An incarnation ends by

* **eviction** — idle for 10 s of virtual time: memory is gone, storage stays, callers
  never notice (the next event constructs a new instance);
* **reset** — ``ctx.abort()``, a failed commit, an exception or timeout in
  ``blockConcurrencyWhile``, the CPU limit (:mod:`dosim.cpulimit`), or an injected
  fault: uncommitted writes are discarded, every
  event still running in it fails, and stubs that reached it keep failing with the same
  error (``durableObjectReset``); new stubs reach a fresh instance.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import compat, cpulimit, current
from .alarms import AlarmScheduler
from .clock import VirtualClock
from .context import DurableObjectState
from .cpulimit import CpuLimitExceeded
from .errors import (
    MSG_ABORT_DEFAULT,
    MSG_CPU_RESET,
    MSG_EVICTED_STORAGE,
    JsException,
    copy_exception,
    cross_exception,
    platform_error,
)
from .gates import InputGate, OutputGate
from .storage import DurableObjectStorage, ObjectDatabase
from .storage.database import CorruptDatabaseError, is_corrupt
from .websockets import ObjectSockets, disconnect
from .workers.compat import set_runtime_globals
from .workers.entrypoints import DurableObjectAbort

if TYPE_CHECKING:
    from .ids import DurableObjectId
    from .namespaces import NamespaceRuntime

__all__ = [
    "ObjectHost",
    "Incarnation",
    "StubBinding",
    "IDLE_EVICTION_MS",
]

IDLE_EVICTION_MS = 10_000
"""An object with no event in progress is evicted after this long (virtual ms)."""


class StubBinding:
    """Which incarnation a stub reached; a reset incarnation keeps failing through it."""

    __slots__ = ("incarnation",)

    def __init__(self) -> None:
        self.incarnation: Incarnation | None = None


class Incarnation:
    """One in-memory instance of a Durable Object and the machinery around it.

    Implements the storage host contract (:class:`dosim.storage.database.StorageHost`).
    """

    def __init__(self, host: ObjectHost, generation: int) -> None:
        self.host = host
        self.generation = generation
        self.clock: VirtualClock = host.clock
        self._trace = host.trace  # for storage_fact, the hot path
        self._about = host.trace_about
        self.input_gate = InputGate()
        self.output_gate = OutputGate(host.commit, self._commit_failed)
        self.instance: Any = None
        self.ctx: DurableObjectState | None = None
        self.error: BaseException | None = None
        self.live = True
        self.active = 0
        self._tasks: set[asyncio.Future[Any]] = set()
        self._sockets: set[Any] = set()

    # -- the storage host contract ------------------------------------------------------
    def storage_op(self, op: str, **detail: Any) -> None:
        """Check the instance may still use storage and record the operation.

        Args:
            op: The storage method, e.g. ``"get"`` or ``"sql.exec"``.
            **detail: Facts for the trace event (keys, counts).

        Raises:
            Exception: The reset error if the instance was reset, or an error if it was
                evicted.
        """
        if not self.live:
            if self.error is not None:
                raise self.host.error_for_caller(self.error)
            raise platform_error("Error", MSG_EVICTED_STORAGE)
        host = self.host
        detail["op"] = op
        host.trace.record_detail(
            self.clock._now, "storage", host.namespace.binding, host.hex_id, host.name, detail
        )

    def storage_fact(self, op: str, fact: str, value: Any) -> None:
        """:meth:`storage_op` with one fact (``storage_fact("put", "key", k)``): the hot path.

        Records the same trace event as ``storage_op(op, **{fact: value})``.
        """
        if not self.live:
            if self.error is not None:
                raise self.host.error_for_caller(self.error)
            raise platform_error("Error", MSG_EVICTED_STORAGE)
        log = self._trace.storage_log
        if log is not None:  # Trace.record_storage's flat form, without the call
            log.append((self.clock._now, self._about, op, fact, value))
        else:
            self._trace.record_storage(self.clock._now, self._about, op, fact, value)

    def writes_pending(self) -> None:
        """A write opened the implicit transaction: commit at the end of this turn."""
        self.output_gate.writes_pending()

    def now_ms(self) -> int:
        """The simulation's current time in ms."""
        return self.clock.now_ms()

    async def block_concurrency_while(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` with the input gate closed (used by ``storage.transaction``).

        Unlike ``ctx.blockConcurrencyWhile``, an exception here does not reset the object
        (a failed transaction only rolls back).

        Args:
            fn: A function taking no arguments; may return an awaitable.

        Returns:
            What ``fn`` returned (awaited).
        """
        self.input_gate.close()
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            return result
        finally:
            self.input_gate.open()

    # -- lifecycle ----------------------------------------------------------------------
    def construct(self, object_id: DurableObjectId) -> None:
        """Run the class's constructor with a fresh ``ctx``.

        Args:
            object_id: The id the waking event used: ``ctx.id.name`` is set when the
                object was reached by name, ``None`` when reached by a unique id or
                ``idFromString`` (as on Cloudflare since 2026).
        """
        host = self.host
        storage = host.storage_for(self)
        self.ctx = DurableObjectState(self, object_id, storage)
        token = current.enter(self)
        try:
            host.record("constructor")
            self.instance = host.namespace.cls(self.ctx, host.namespace.env)
        finally:
            current.leave(token)

    def track(self, task: asyncio.Future[Any]) -> None:
        """Keep the object alive (not evictable) until ``task`` finishes.

        Args:
            task: A task the instance started (``waitUntil``, ``blockConcurrencyWhile``).
        """
        self._tasks.add(task)

        def done(finished: asyncio.Future[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled():
                # reported through the reset, not as "never retrieved"
                if isinstance(finished.exception(), CpuLimitExceeded):
                    self.reset(cpu_limit_error(), reason="cpu limit")
            self.host.maybe_schedule_eviction()

        task.add_done_callback(done)

    def accept_socket(self, socket: Any) -> None:
        """Register a socket this instance accepted with ``accept()`` (the standard API).

        Args:
            socket: The server end; the instance stays in memory while it is open.
        """
        self.host.websockets.accept_standard(socket, self)

    def wait_until(self, awaitable: Any) -> None:
        """Keep this instance alive until ``awaitable`` finishes (``waitUntil``).

        Args:
            awaitable: A coroutine or future to keep running.
        """
        self.track(asyncio.ensure_future(awaitable))

    def pin(self, socket: Any) -> None:
        """Keep the instance in memory while a standard-API WebSocket is open.

        Args:
            socket: The server end accepted with ``accept()``.
        """
        self._sockets.add(socket)
        self.host._cancel_eviction()

    def unpin(self, socket: Any) -> None:
        """Release a pin taken by :meth:`pin` (the socket closed).

        Args:
            socket: The server end that closed.
        """
        self._sockets.discard(socket)
        self.host.maybe_schedule_eviction()

    @property
    def idle(self) -> bool:
        """No event running, no tracked task, no standard WebSocket open, gate open."""
        return (
            self.active == 0
            and not self._tasks
            and not self._sockets
            and not self.input_gate.closed
        )

    def check(self) -> None:
        """Raise the reset error if this incarnation was reset."""
        if self.error is not None:
            raise self.host.error_for_caller(self.error)

    def reset(self, error: BaseException, reason: str) -> None:
        """End this incarnation with ``error``: discard uncommitted writes, fail its events.

        Args:
            error: What callers of this instance see from now on.
            reason: Short cause for the trace (``"abort"``, ``"commit failed"``, ...).
        """
        if self.error is not None:
            return
        if isinstance(error, CpuLimitExceeded):
            error, reason = cpu_limit_error(), "cpu limit"
        self.error = self.host.crossed_error(error)
        was_current = self.live and self.host.incarnation is self
        self.live = False
        self.output_gate.pending = False
        if was_current:
            self.host.discard_writes()
        self.host.retire(self)
        self.input_gate.abandon()
        self.cancel_tasks()
        self.host.record("reset", reason=reason, error=str(error))
        # A reset disconnects the object's WebSockets, hibernatable ones included.
        for socket in list(self._sockets):
            disconnect(socket)
        if was_current:
            self.host.websockets.disconnect_hibernatable()

    def cancel_tasks(self) -> None:
        """Cancel the instance's pending background tasks (it is gone)."""
        this_task = asyncio.current_task() if _loop_running() else None
        for task in list(self._tasks):
            if task is not this_task and not task.done():
                task.cancel()

    def abort(self, reason: str | None) -> None:
        """``ctx.abort(reason)``: reset with the message callers will see.

        Args:
            reason: The message, or ``None`` for the platform's default text.
        """
        error = JsException(reason or MSG_ABORT_DEFAULT, durable_object_reset=True, remote=True)
        self.reset(error, reason="abort")

    def _commit_failed(self, error: BaseException) -> None:
        flagged = platform_error(
            "Error", str(getattr(error, "message", error)), durable_object_reset=True
        )
        self.reset(flagged, reason="commit failed")


def cpu_limit_error() -> BaseException:
    """What callers of an object that exceeded its CPU limit see (flags inferred)."""
    return platform_error("Error", MSG_CPU_RESET, durable_object_reset=True)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ObjectHost:
    """Runs one Durable Object: its storage, its alarm and its successive instances.

    Args:
        namespace: The namespace runtime (class, env, storage settings, app).
        object_id: The object's id.
    """

    def __init__(self, namespace: NamespaceRuntime, object_id: DurableObjectId) -> None:
        self.namespace = namespace
        self.app = namespace.app
        self.trace = namespace.app.trace
        self.clock: VirtualClock = namespace.app.clock
        self.id = object_id
        self.hex_id = object_id.toString()
        self.name = object_id.name
        self.trace_about = (namespace.binding, self.hex_id, self.name)
        """``(namespace, object_id, name)`` of this object's trace events, as one tuple."""
        self.incarnation: Incarnation | None = None
        self._generation = 0
        self._database: Any = None
        self._stored = False
        self.alarms = AlarmScheduler(self, seed=f"{namespace.app.seed}:{self.hex_id}")
        self._eviction_timer: Any = None
        self.pending_fault: Callable[[], None] | None = None
        self.websockets = ObjectSockets(self)

    # -- trace --------------------------------------------------------------------------
    def record(self, kind: str, **detail: Any) -> None:
        """Append a trace event about this object.

        Args:
            kind: The event kind (see :mod:`dosim.trace`).
            **detail: Kind-specific facts.
        """
        self.app.trace.record(
            self.clock.now_ms(), kind, self.namespace.binding, self.hex_id, self.name, **detail
        )

    # -- storage ------------------------------------------------------------------------
    @property
    def database(self) -> Any:
        """The object's SQLite database, opened on first use.

        On disk (``persist_to``) the file is created by the first write and the
        connection is closed while the object is at rest and the app has many open
        (:mod:`dosim.storage.pool`); using the database reopens it.
        """
        if self._database is None:
            path = self.app.database_path(self.namespace, self.hex_id)
            pool = self.app.database_pool if path is not None else None
            self._database = ObjectDatabase(
                path,
                sql_enabled=self.namespace.sql_enabled,
                on_open=self._database_opened if pool is not None else None,
            )
            self.alarms.sync(record=False)
        return self._database

    def _database_opened(self, database: ObjectDatabase) -> None:
        self.app.database_pool.opened(database, lambda: self.release_database(database))

    def release_database(self, database: Any = None) -> bool:
        """Close the object's database file if nothing needs it (see :mod:`dosim.storage.pool`).

        An instance running an event, with background tasks or standard WebSockets keeps
        it; so does a database with anything uncommitted or a cursor being read. Without
        an instance in memory the database object itself is dropped too.

        Args:
            database: The database to release (default: the object's current one).

        Returns:
            Whether it is closed now.
        """
        database = self._database if database is None else database
        if database is None:
            return True
        current = database is self._database
        incarnation = self.incarnation
        if current and incarnation is not None and not incarnation.idle:
            return False
        if not database.release():
            return False
        pool = self.app.database_pool
        if pool is not None:
            pool.closed(database)
        if current:
            self._stored = self._stored or database.stored
            if incarnation is None:
                self._database = None
        return True

    def open_stored(self) -> None:
        """Open the stored database to schedule its alarm, then let it close (a restart).

        Raises:
            CorruptDatabaseError: SQLite says the file is damaged or not a database; the
                object is left as if it had no storage.
        """
        try:
            database = self.database
        except Exception as error:
            database, self._database = self._database, None
            if database is not None:
                database.close()
                if self.app.database_pool is not None:
                    self.app.database_pool.closed(database)
            if is_corrupt(error):
                path = self.app.database_path(self.namespace, self.hex_id)
                raise CorruptDatabaseError(str(path), str(error)) from error
            raise
        self._stored = self._stored or database.stored
        if self.incarnation is None:
            self.release_database(database)

    def storage_for(self, incarnation: Incarnation) -> Any:
        """Build the ``ctx.storage`` object of an incarnation.

        Args:
            incarnation: The instance the storage object belongs to.
        """
        return DurableObjectStorage(
            self.database,
            incarnation,
            delete_all_deletes_alarm=self.app.compatibility.delete_all_deletes_alarm,
        )

    def commit(self) -> None:
        """Commit the implicit transaction (called by the output gate)."""
        database = self.database
        try:
            database.commit()
        except BaseException as error:
            self.record("commit", ok=False, error=str(error))
            raise
        self.record("commit", ok=True)
        self.alarms.sync(record=True)

    def discard_writes(self) -> None:
        """Roll back uncommitted writes (the incarnation was reset)."""
        if self._database is not None:
            self._database.rollback()
            self.alarms.sync(record=True)

    def has_stored_data(self) -> bool:
        """Whether the object has storage (in memory: opened; on disk: it wrote).

        A file-backed object that was only read has none. An evicted file-backed object
        closes its database but still exists.
        """
        if not self._stored:
            database = self._database
            self._stored = database is not None and database.stored
        return self._stored

    # -- incarnations -------------------------------------------------------------------
    def current(self) -> Incarnation:
        """Return the live incarnation, starting a new one if there is none."""
        if self.incarnation is None:
            self._generation += 1
            self.incarnation = Incarnation(self, self._generation)
        return self.incarnation

    def retire(self, incarnation: Incarnation) -> None:
        """Forget ``incarnation`` if it is the current one.

        Args:
            incarnation: An instance that ended (evicted or reset).
        """
        if self.incarnation is incarnation:
            self.incarnation = None
        self._cancel_eviction()

    def crossed_error(self, error: BaseException) -> BaseException:
        """Return ``error`` as the caller side sees it (flagged as remote).

        Args:
            error: Raised inside the object.
        """
        return cross_exception(error, self.namespace.app.compatibility)

    def error_for_caller(self, error: BaseException) -> BaseException:
        """Return a fresh copy of a stored reset error, safe to raise again.

        Args:
            error: The error an incarnation was reset with.
        """
        return copy_exception(error)

    async def deliver(
        self,
        binding: StubBinding,
        kind: str,
        invoke: Callable[[Any], Awaitable[Any]],
        object_id: DurableObjectId | None = None,
    ) -> Any:
        """Deliver one event (fetch, RPC call, alarm) and return its result.

        Runs ``await invoke(instance)`` once the input gate admits the event, with the
        simulation clock active, then lets the result out through the output gate.

        Args:
            binding: The caller's stub binding (which incarnation it reached).
            kind: ``"fetch"``, ``"rpc"`` or ``"alarm"``, for the trace.
            invoke: Calls the right handler on the instance.
            object_id: The id the caller used (sets ``ctx.id`` if the event constructs
                the instance); defaults to the host's id.

        Raises:
            BaseException: What the handler raised, or the reset error.
        """
        incarnation = binding.incarnation
        if incarnation is not None and incarnation.error is not None:
            raise self.error_for_caller(incarnation.error)
        if incarnation is None or not incarnation.live:
            incarnation = self.current()
            binding.incarnation = incarnation
        incarnation.active += 1
        self._cancel_eviction()
        pool = self.app.database_pool
        if pool is not None and self._database is not None:
            pool.used(self._database)
        clock_token = self.clock.activate()
        compat_token = compat.activate(self.namespace.app.compatibility)
        token = current.enter(incarnation)
        # ``from workers import env, waitUntil`` inside the object reach its env and keep
        # this instance alive, as ``ctx.waitUntil`` does.
        restore_globals = set_runtime_globals(
            env=self.namespace.env, wait_until=incarnation.wait_until
        )
        cpu_token = cpulimit.enter(self.app.cpu_ms)
        try:
            if incarnation.instance is None:
                incarnation.construct(object_id or self.id)
            await incarnation.input_gate.enter()
            incarnation.check()
            result = await invoke(incarnation.instance)
            self._fire_pending_fault()
            incarnation.check()
            incarnation.output_gate.release()
            return result
        except DurableObjectAbort:
            raise self.error_for_caller(incarnation.error) from None
        except CpuLimitExceeded as exceeded:
            incarnation.reset(exceeded, reason="cpu limit")
            raise self.error_for_caller(incarnation.error) from None
        except BaseException:
            self._fire_pending_fault()
            incarnation.check()
            incarnation.output_gate.release()  # writes before the exception still commit
            raise
        finally:
            cpulimit.leave(cpu_token)
            restore_globals()
            current.leave(token)
            compat.restore(compat_token)
            VirtualClock.deactivate(clock_token)
            incarnation.active -= 1
            self.maybe_schedule_eviction()
            if pool is not None and pool.over:
                pool.trim()

    def _fire_pending_fault(self) -> None:
        fault, self.pending_fault = self.pending_fault, None
        if fault is not None:
            fault()

    # -- eviction -----------------------------------------------------------------------
    def maybe_schedule_eviction(self) -> None:
        """Start the idle timer if the current incarnation has nothing to do."""
        incarnation = self.incarnation
        if incarnation is None or not incarnation.idle or self._eviction_timer is not None:
            return
        self._eviction_timer = self.clock.call_at(
            self.clock.now_ms() + IDLE_EVICTION_MS, self._evict_if_idle, "idle eviction"
        )

    def _cancel_eviction(self) -> None:
        if self._eviction_timer is not None:
            self._eviction_timer.cancel()
            self._eviction_timer = None

    async def _evict_if_idle(self) -> None:
        self._eviction_timer = None
        incarnation = self.incarnation
        if incarnation is not None and incarnation.idle:
            self.evict()

    def evict(self) -> bool:
        """Drop the in-memory instance now (storage kept). Returns whether one was live.

        Pending writes are committed first. Unlike idle eviction, an explicit eviction
        does not wait for background tasks (``waitUntil``, un-awaited
        ``blockConcurrencyWhile``): they are cancelled, and the old instance's storage
        raises if still used.
        """
        incarnation = self.incarnation
        if incarnation is None:
            return False
        incarnation.output_gate.flush()
        incarnation.live = False
        incarnation.cancel_tasks()
        for socket in list(incarnation._sockets):
            disconnect(socket)  # standard sockets cannot outlive their instance
        self.retire(incarnation)
        self.record("eviction", hibernated_sockets=len(self.websockets.hibernatable))
        if self.app.persist_to is not None:
            # On disk the database can be reopened on the next event: free its files now,
            # so an app with many objects does not hold three open files per object.
            self.release_database()
        return True

    def reset(self, error: BaseException, reason: str) -> bool:
        """Reset the current instance with ``error``.

        Args:
            error: What callers of the instance see.
            reason: Short cause for the trace.

        Returns:
            Whether an instance was in memory.
        """
        incarnation = self.incarnation
        if incarnation is None:
            if not self.websockets.hibernatable:
                return False
            # Hibernated: no instance to reset, but its WebSockets are disconnected.
            self.record("reset", reason=reason, error=str(error))
            self.websockets.disconnect_hibernatable()
            return True
        incarnation.reset(error, reason)
        return True

    # -- what the alarm scheduler and the socket registry ask of their object ---------
    def has_handler(self, name: str) -> bool:
        """Whether the object's class defines the method ``name``.

        Args:
            name: A handler name, e.g. ``"alarm"`` or ``"webSocketMessage"``.
        """
        return callable(getattr(self.namespace.cls, name, None))

    def has_live_instance(self) -> bool:
        """Whether an instance is in memory and not reset."""
        return self.incarnation is not None and self.incarnation.live

    def writes_pending(self) -> None:
        """A write opened the live instance's implicit transaction: commit after its turn."""
        if self.incarnation is not None:
            self.incarnation.writes_pending()

    async def run_event(
        self,
        label: str,
        invoke: Callable[[Any], Awaitable[Any]],
        incarnation: Incarnation | None = None,
    ) -> Any:
        """Deliver an event no stub carries (an alarm, a socket event, a test's probe).

        Args:
            label: The event's name in the trace.
            invoke: Calls the right handler on the instance.
            incarnation: Deliver to this instance, as a standard WebSocket's events are:
                a reset instance fails with its reset error, an evicted one is replaced
                by a fresh instance. By default the current instance (or a new one).

        Returns:
            What ``invoke`` returned.

        Raises:
            BaseException: What the handler raised, or the reset error.
        """
        binding = StubBinding()
        binding.incarnation = incarnation
        return await self.deliver(binding, label, invoke, self.id)

    def close(self) -> None:
        """Close the database (app shutdown)."""
        if self._database is not None:
            self._database.close()
            if self.app.database_pool is not None:
                self.app.database_pool.closed(self._database)
