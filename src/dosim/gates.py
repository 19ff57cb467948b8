"""Input and output gates: how one object stays consistent while it runs many events.

The rules, as Cloudflare states them and as dosim enforces them:

1. **One event at a time between awaits.** An object runs one event's Python code until
   that code awaits; only then can another event (request, RPC call, alarm) run.
2. **Awaiting storage keeps the input gate closed.** While an event awaits a storage
   call, no other event is delivered to the object. dosim's storage calls finish without
   yielding to the event loop, so nothing can slip in.
3. **Awaiting anything else opens it.** ``asyncio.sleep``, a call to another object, an
   outbound fetch or a KV, D1, R2 or service binding call let other events in; their
   writes may interleave with yours.
4. **blockConcurrencyWhile closes it explicitly.** While the callback runs, new events
   wait (in arrival order); so does each storage ``transaction()``.
5. **Writes between awaits commit together.** Every write opens (or joins) the object's
   implicit transaction; it commits at the end of the current turn of the event loop.
6. **The output gate holds results until writes are durable.** Before a response, an RPC
   result or an outgoing call leaves the object, pending writes are committed. If that
   commit fails, the result is replaced by the error and the object is reset, so nobody
   sees a write that was not stored.

Where dosim differs: storage calls never yield, so ``await put(a); await put(b)`` lands
in the same implicit transaction and commits atomically, as writes without an await
between them do. On the platform, awaiting each ``put`` on a KV-backed object may split
them into separate commits; code that relies on atomicity should not await between
writes (or use ``transaction()``), which is correct on both.

Also: an event that was already suspended on a non-storage await (rule 3)
resumes when its await finishes even if another event has since closed the gate with
``blockConcurrencyWhile``; on Cloudflare it would wait for the gate. Only new events
queue. (asyncio gives no hook to hold a task's wake-up.)
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["InputGate", "OutputGate"]


class InputGate:
    """Admits events to an object one by one, in arrival order, while it is open."""

    def __init__(self) -> None:
        self._locks = 0
        self._queue: deque[asyncio.Future[None]] = deque()
        self.abandoned = False

    @property
    def closed(self) -> bool:
        """True while a ``blockConcurrencyWhile`` (or transaction) holds the gate."""
        return self._locks > 0

    @property
    def waiting(self) -> int:
        """How many events are queued at the gate."""
        return len(self._queue)

    async def enter(self) -> None:
        """Wait until the gate admits this event (immediately if open and nobody queues)."""
        if (self._locks == 0 and not self._queue) or self.abandoned:
            return
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[None] = loop.create_future()
        self._queue.append(ticket)
        while True:
            try:
                await ticket
            except asyncio.CancelledError:
                self._discard(ticket)
                raise
            if self._locks == 0 or self.abandoned:
                break
            # Someone closed the gate again before we ran: keep our place at the front.
            ticket = loop.create_future()
            self._queue.appendleft(ticket)
        self._wake_next()

    def close(self) -> None:
        """Hold new events back (nestable)."""
        self._locks += 1

    def open(self) -> None:
        """Release one :meth:`close`; when none remain, admit the next queued event."""
        self._locks -= 1
        if self._locks == 0:
            self._wake_next()

    def abandon(self) -> None:
        """Release every waiter (the object was reset; they will see that and fail)."""
        self.abandoned = True
        while self._queue:
            ticket = self._queue.popleft()
            if not ticket.done():
                ticket.set_result(None)

    def _wake_next(self) -> None:
        while self._queue and (self._locks == 0 or self.abandoned):
            ticket = self._queue.popleft()
            if not ticket.done():
                ticket.set_result(None)
                return

    def _discard(self, ticket: asyncio.Future[None]) -> None:
        try:
            self._queue.remove(ticket)
        except ValueError:
            # Already woken: pass the turn on so the queue does not stall.
            self._wake_next()


class OutputGate:
    """Commits an object's pending writes at the end of the turn, or before output leaves.

    Args:
        commit: Commits the implicit transaction; raises if the commit fails.
        on_failure: Called with the commit error (the object host resets the object).
    """

    def __init__(self, commit: Callable[[], None], on_failure: Callable[[BaseException], None]):
        self._commit = commit
        self._on_failure = on_failure
        self._scheduled = False
        self.pending = False
        self.failure: BaseException | None = None

    def writes_pending(self) -> None:
        """Note that a write opened the implicit transaction; commit when this turn ends."""
        self.pending = True
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_at_turn_end)

    def _commit_at_turn_end(self) -> None:
        self._scheduled = False
        if self.pending:
            try:
                self.flush()
            except BaseException:  # noqa: S110 - recorded in self.failure, raised at release()
                pass

    def flush(self) -> None:
        """Commit pending writes now; on failure reset the object and raise the error."""
        if not self.pending:
            return
        self.pending = False
        try:
            self._commit()
        except BaseException as error:
            self.failure = error
            self._on_failure(error)
            raise

    def release(self) -> None:
        """Let output leave: commit first; raise if this or an earlier commit failed."""
        self.flush()
        if self.failure is not None:
            raise self.failure
