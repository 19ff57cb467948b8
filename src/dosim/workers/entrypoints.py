"""The entry-point base classes app code subclasses, and the types around them.

``DurableObject``, ``WorkerEntrypoint`` and ``WorkflowEntrypoint`` have the same names and
constructor shapes as in the Python Workers SDK (``workers.entrypoints``): the runtime
constructs ``Class(ctx, env)``, and the base stores them as ``self.ctx`` and ``self.env``
so a subclass that overrides ``__init__`` only has to call ``super().__init__(ctx, env)``.
``DurableObjectContext`` is the type of a Durable Object's ``self.ctx`` (dosim's
:class:`~dosim.context.DurableObjectState` derives from it) and ``DurableObjectAbort`` is
what ``ctx.abort()`` raises.

A class without a handler still loads. On Cloudflare each Python class is served through
a JavaScript wrapper that answers every property name with a function, and that function
fails only when called and the Python instance has no such method (workerd
``src/pyodide/python-entrypoint-helper.ts``, ``makeEntrypointProxyHandler``). So a
``Default`` without ``fetch`` deploys and fails each request, and a Durable Object without
``alarm()`` may call ``setAlarm``; its alarm then fails when it fires, and is retried as
a failing alarm is. dosim does the same (:data:`MSG_METHOD_MISSING`).

Workflows are not simulated: ``WorkflowEntrypoint`` exists so that code defining one
imports and loads, but dosim has no Workflow binding to start it with.
"""

from __future__ import annotations

from typing import Any

from .compat import handler

__all__ = [
    "DurableObject",
    "DurableObjectAbort",
    "DurableObjectContext",
    "MSG_METHOD_MISSING",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "handler",
]

MSG_METHOD_MISSING = "Method {name} does not exist"
"""The TypeError workerd's Python wrapper raises when a handler the class lacks is called."""


class DurableObjectAbort(BaseException):
    """Raised by ``ctx.abort()`` to stop the current event at once.

    A ``BaseException`` (as in the SDK), so ``except Exception`` in app code does not
    swallow it. The object is reset: writes of the aborted event are discarded, the stub
    that reached it keeps failing, and a new stub reaches a fresh instance.
    """


class DurableObjectContext:
    """The type of a Durable Object's ``self.ctx``.

    In the SDK it wraps workerd's ``DurableObjectState`` (converting ``storage``) and adds
    an ``abort`` that raises :class:`DurableObjectAbort`. In dosim the runtime builds the
    context itself, as :class:`dosim.context.DurableObjectState`, a subclass; app code
    uses this class for ``isinstance`` checks and annotations, not to build one.
    """

    def abort(self, reason: str | None = None) -> None:
        """Stop the current event and reset the object (the runtime's subclass does it).

        Raises:
            DurableObjectAbort: Always.
        """
        raise DurableObjectAbort(reason or "Durable Object abort requested")


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


class WorkflowEntrypoint:
    """Base class of a Workflow (``run(self, event, step)``); dosim does not run Workflows.

    Defining and constructing a subclass works as in the SDK, so a Worker that also holds
    a Workflow loads and its Durable Objects and ``Default`` run; there is no Workflow
    binding to start one with, and no ``step`` object.

    Attributes:
        ctx: The execution context given to the constructor.
        env: The Worker's bindings and vars.
    """

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env
