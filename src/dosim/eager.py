"""Calls that start when they are made, not when they are awaited.

On Cloudflare a storage call or an RPC call from Python reaches JavaScript at once: the
SDK's wrapper calls the JS method and hands back a coroutine that awaits its promise. An
un-awaited ``self.ctx.storage.setAlarm(t)`` or ``stub.notify()`` therefore still happens.
A Python ``async def`` does nothing until awaited, so dosim starts such calls itself:

* :func:`settled` runs a coroutine that never suspends (every storage call) to the end at
  once and returns a coroutine that hands over the result, or raises the error, where it
  is awaited;
* :func:`start_now` runs a coroutine (an RPC call) up to its first suspension at once, in
  a copy of the caller's context; if it has not finished, a task carries on from there.
  Awaiting what it returns waits for the outcome.

An error is raised where the call is awaited, as a rejected promise is. A call that is
never awaited draws Python's "coroutine ... was never awaited" warning, as it does in
Pyodide.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["settled", "start_now"]


async def _returning(value: Any) -> Any:
    return value


async def _raising(error: BaseException) -> Any:
    raise error


async def _waiting_for(task: asyncio.Future[Any]) -> Any:
    # Like a promise, the call goes on if whoever awaits it is cancelled.
    return await asyncio.shield(task)


def settled(body: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
    """Run ``body``, which must not suspend, to the end now.

    Args:
        body: A coroutine that finishes without awaiting anything pending.

    Returns:
        A coroutine that returns ``body``'s result, or raises its exception, when awaited.

    Raises:
        RuntimeError: If ``body`` suspended (a bug in the caller: use :func:`start_now`).
    """
    try:
        body.send(None)
    except StopIteration as finished:
        return _returning(finished.value)
    except Exception as error:  # noqa: BLE001 - delivered where the call is awaited
        return _raising(error)
    body.close()
    raise RuntimeError(f"{body.__qualname__} suspended; it was expected to finish at once")


class _Rest:
    """The rest of a coroutine whose first step already ran: awaiting it drives the rest."""

    __slots__ = ("_body", "_yielded")

    def __init__(self, body: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self._body = body
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        body, value = self._body, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                body.close()
                raise
            except BaseException as error:  # noqa: BLE001 - thrown in by the task (cancel)
                try:
                    value = body.throw(error)
                except StopIteration as finished:
                    return finished.value
            else:
                try:
                    value = body.send(sent)
                except StopIteration as finished:
                    return finished.value


async def _drive(rest: _Rest) -> Any:
    return await rest


def start_now(body: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
    """Start ``body`` now; a task finishes it if it suspends.

    The first step runs in a copy of the caller's context, and so does the task, so
    context variables the body sets and resets stay in one context.

    Args:
        body: The coroutine of the call.

    Returns:
        A coroutine that returns ``body``'s result, or raises its exception, when awaited.
    """
    context = contextvars.copy_context()
    try:
        yielded = context.run(body.send, None)
    except StopIteration as finished:
        return _returning(finished.value)
    except Exception as error:  # noqa: BLE001 - delivered where the call is awaited
        return _raising(error)
    loop = asyncio.get_running_loop()
    task = loop.create_task(_drive(_Rest(body, yielded)), context=context)
    return _waiting_for(task)
