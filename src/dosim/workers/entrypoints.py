"""The entry-point base classes app code subclasses: ``DurableObject`` and ``WorkerEntrypoint``.

Same names and constructor shapes as the Python Workers SDK (``workers.entrypoints``):
the runtime constructs ``Class(ctx, env)``, and the base stores them as ``self.ctx`` and
``self.env`` so a subclass that overrides ``__init__`` only has to call
``super().__init__(ctx, env)``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DurableObject", "WorkerEntrypoint", "DurableObjectAbort"]


class DurableObjectAbort(BaseException):
    """Raised by ``ctx.abort()`` to stop the current event at once.

    A ``BaseException`` (as in the SDK), so ``except Exception`` in app code does not
    swallow it. The object is reset: writes of the aborted event are discarded, the stub
    that reached it keeps failing, and a new stub reaches a fresh instance.
    """


class DurableObject:
    """Base class of a Durable Object.

    Subclass it at the top level of the Worker's main module, bind it in
    ``wrangler.toml`` and give it public ``async def`` methods: each is callable over RPC
    from any stub. Optional handlers: ``fetch(request)``, ``alarm(alarm_info)``,
    ``webSocketMessage``/``webSocketClose``/``webSocketError``.

    Attributes:
        ctx: The object's :class:`~dosim.context.DurableObjectState` (``id``,
            ``storage``, ``blockConcurrencyWhile``, ``abort``, ...).
        env: The Worker's bindings and vars.
    """

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkerEntrypoint:
    """Base class of the Worker's entry point (conventionally ``class Default``).

    Define ``async def fetch(self, request)`` returning a ``Response``. ``self.env``
    holds the bindings (Durable Object namespaces, vars); ``self.ctx`` offers
    ``waitUntil``.

    Attributes:
        ctx: The execution context (``waitUntil``, ``passThroughOnException``).
        env: The Worker's bindings and vars.
    """

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env
