"""Calls that start when they are made, not when they are awaited.

On Cloudflare a storage call or an RPC call from Python reaches JavaScript at once: the
SDK's wrapper calls the JS method and hands back a coroutine that awaits its promise. An
un-awaited ``self.ctx.storage.setAlarm(t)`` or ``stub.notify()`` therefore still happens.
A Python ``async def`` does nothing until awaited, so dosim starts such calls itself:

* :func:`settled` runs a coroutine that never suspends (every storage call) to the end at
  once and returns a coroutine that hands over the result, or raises the error, where it
  is awaited;
* :func:`start_now` starts a coroutine (an RPC call): awaited at once, it runs inline as
  a plain ``await`` would; left alone, it starts as a task of its own at the next turn of
  the event loop. The caller copies the arguments before, so later changes do not leak.

An error is raised where the call is awaited, as a rejected promise is. A call that is
never awaited draws Python's "coroutine ... was never awaited" warning, as it does in
Pyodide.
"""

from __future__ import annotations

import asyncio
import collections.abc
from collections.abc import Coroutine
from typing import Any

__all__ = ["finished", "settled", "start_now"]


class _Settled(collections.abc.Coroutine):
    """The outcome of a call that already finished, awaitable like a coroutine.

    Like the Promise a platform call returns (and unlike a native coroutine), leaving it
    un-awaited draws no "never awaited" warning: ``ctx.storage.setAlarm(t)`` without
    ``await`` is how Cloudflare's own examples set an alarm. It is a
    :class:`collections.abc.Coroutine`, so ``asyncio.run`` and ``create_task`` take it.
    """

    __slots__ = ("value", "error", "done")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error
        self.done = False

    def send(self, _value: Any) -> Any:
        """Finish at once: raise ``StopIteration(value)`` or the call's error."""
        if self.done:
            raise RuntimeError("cannot reuse already awaited coroutine")
        self.done = True
        if self.error is not None:
            raise self.error
        raise StopIteration(self.value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """Raise the thrown exception (nothing is pending to catch it)."""
        self.done = True
        raise typ if val is None else val

    def close(self) -> None:
        """Mark the call as awaited."""
        self.done = True

    def __await__(self) -> Any:
        # A generator, not ``self``: ``await`` then gets the result the way it gets a
        # coroutine's (no StopIteration raised through a Python-level ``__next__``),
        # which halves the cost of awaiting a storage call.
        if self.done:
            raise RuntimeError("cannot reuse already awaited coroutine")
        self.done = True
        if self.error is not None:
            raise self.error
        return self.value
        yield  # unreachable: makes this method a generator

    def __next__(self) -> Any:
        return self.send(None)

    def __iter__(self) -> Any:
        return self

    def __repr__(self) -> str:
        return "<settled platform call>"


def finished(value: Any = None, error: BaseException | None = None) -> Any:
    """The awaitable of a call that already ran without a coroutine (a storage hot path).

    Args:
        value: What awaiting it returns.
        error: What awaiting it raises instead, if not None.
    """
    return _Settled(value, error)


def settled(body: Coroutine[Any, Any, Any]) -> Any:
    """Run ``body``, which must not suspend, to the end now.

    Args:
        body: A coroutine that finishes without awaiting anything pending.

    Returns:
        An awaitable that returns ``body``'s result, or raises its exception, when awaited.

    Raises:
        RuntimeError: If ``body`` suspended (a bug in the caller: use :func:`start_now`).
    """
    try:
        body.send(None)
    except StopIteration as finished:
        return _Settled(finished.value)
    except Exception as error:  # noqa: BLE001 - delivered where the call is awaited
        return _Settled(error=error)
    body.close()
    raise RuntimeError(f"{body.__qualname__} suspended; it was expected to finish at once")


class _Call:
    """One call started by :func:`start_now`: run inline if awaited at once, else a task."""

    __slots__ = ("body", "start", "task")

    def __init__(self, body: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop) -> None:
        self.body = body
        self.task: asyncio.Task[Any] | None = None
        # call_soon runs the callback in a copy of the caller's context, and the task
        # created there inherits it.
        self.start = loop.call_soon(self._start_task)

    def _start_task(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.body)


async def _outcome(call: _Call) -> Any:
    if call.task is None:
        # Awaited before the loop turned: run the call right here, in the awaiting task,
        # as a plain ``await`` would (nothing else ran in between, so nothing can tell).
        call.start.cancel()
        return await call.body
    # Like a promise, the call goes on if whoever awaits it is cancelled.
    return await asyncio.shield(call.task)


def start_now(body: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
    """Start ``body`` now: it runs whether or not the result is awaited.

    If the caller awaits what this returns at once (the usual ``await stub.method()``),
    ``body`` runs right there, in the caller's task, as an ordinary ``await`` would.
    Otherwise it starts as a task of its own at the next turn of the event loop, in a copy
    of the caller's context (a timeout or task group inside it is its own). Outside a
    running event loop ``body`` is returned as it is and starts when awaited.

    Args:
        body: The coroutine of the call.

    Returns:
        An awaitable that returns ``body``'s result, or raises its exception, when awaited.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return body
    return _outcome(_Call(body, loop))
