"""Stubs: how a Worker (or another object) talks to a Durable Object.

``stub.fetch(url, ...)`` delivers an HTTP request to the object's ``fetch`` handler;
any other attribute is an RPC method: ``await stub.increment(5)`` runs the object's
``increment`` method. Creating a stub does not contact the object; the first call
constructs it.

Arguments and results are copied with the Python Workers conversion rules
(:mod:`dosim.serialization`). Python keyword arguments reach the object as one trailing
``dict`` argument — that is what Pyodide does when Python calls a JavaScript function with
keywords, so ``stub.increment(by=5)`` calls ``increment({"by": 5})`` on Cloudflare too.
Use positional arguments across RPC.

An exception raised in the object reaches the caller as it does on Cloudflare: a
``JsException`` (``pyodide.ffi.JsException`` there) named ``Error``, ``remote = True``,
whose message is ``"PythonError: "`` and the object's Python traceback, ending with the
exception line (``ValueError: boom``). See :func:`dosim.errors.cross_exception`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import compat
from .current import current_incarnation
from .eager import start_now
from .errors import (
    MSG_RESERVED_METHOD,
    MSG_UNKNOWN_METHOD,
    JsException,
    call_python,
    cross_exception,
    error_summary,
    platform_error,
)
from .host import StubBinding
from .serialization import rpc_copy
from .workers.fetch import fetch
from .workers.request import method_name

if TYPE_CHECKING:
    from .ids import DurableObjectId
    from .namespaces import NamespaceRuntime

__all__ = ["DurableObjectStub", "RESERVED_METHODS"]

RESERVED_METHODS = frozenset(
    {
        "alarm",
        "webSocketMessage",
        "webSocketClose",
        "webSocketError",
        "dup",
        "constructor",
        "connect",
    }
)
"""Names that cannot be called over RPC (``fetch`` is routed to the fetch handler)."""


class DurableObjectStub:
    """A client for one Durable Object.

    Attributes:
        id: The :class:`~dosim.ids.DurableObjectId` this stub reaches.
        name: The name used to reach it, or ``None``.
    """

    __slots__ = ("_runtime", "id", "name", "_binding")

    def __init__(self, runtime: NamespaceRuntime, object_id: DurableObjectId) -> None:
        self._runtime = runtime
        self.id = object_id
        self.name = object_id.name
        self._binding = StubBinding()

    def __repr__(self) -> str:
        label = f"name={self.name!r}" if self.name is not None else f"id={self.id.toString()[:12]}…"
        return f"DurableObjectStub({self._runtime.binding}, {label})"

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__") and method.endswith("__"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            # The call is made now, as the SDK's wrapper converts the arguments and calls
            # JavaScript before returning: the arguments are copied here (a value that
            # cannot cross raises here), and the event is on its way even if never awaited.
            sent = [rpc_copy(arg) for arg in args]
            if kwargs:
                sent.append(rpc_copy(kwargs))
            return start_now(self._call(method, sent))

        call.__name__ = method
        call.__qualname__ = f"DurableObjectStub.{method}"
        return call

    async def fetch(self, resource: Any, **options: Any) -> Any:
        """Send an HTTP request to the object's ``fetch`` handler.

        On Cloudflare, ``stub.fetch`` goes through the SDK's ``fetch`` and Pyodide's
        ``pyfetch``, which turn every JavaScript error — an invalid URL, a lost
        connection, an exception raised by the object's handler — into ``OSError`` with
        the error's message (the ``remote``/``retryable`` flags do not survive). dosim
        does the same: a Python exception raised by the handler gives an ``OSError``
        whose message is ``"PythonError: Traceback ..."`` (see
        :func:`dosim.errors.cross_exception`).

        Args:
            resource: An absolute URL (the host need not resolve) or a ``Request``.
            **options: ``method``, ``headers``, ``body``, ... as for ``workers.fetch``.

        Returns:
            The object's ``Response`` (``url`` set to the request URL).

        Raises:
            OSError: For every failure, as on the platform.
        """
        return await fetch(resource, fetcher=self._fetch_request, **options)

    async def _fetch_request(self, request: Any) -> Any:
        # What this raises (a JsException) the SDK's fetch turns into OSError(message).
        host = await self._before_call("fetch")
        host.record("fetch", method=method_name(request), url=request.url)
        copy = request.__dosim_wire__()

        async def invoke(instance: Any) -> Any:
            return await _call_method(instance, "fetch", [copy])

        return await self._deliver(host, "fetch", invoke)

    async def _call(self, method: str, sent: list[Any]) -> Any:
        if method in RESERVED_METHODS:
            raise platform_error("TypeError", MSG_RESERVED_METHOD.format(name=method))
        host = await self._before_call(method)
        host.record("rpc.call", method=method)

        async def invoke(instance: Any) -> Any:
            return await _call_method(instance, method, sent)

        result = await self._deliver(host, method, invoke)
        # The result leaves the object: a function in it answers for the object's app.
        token = compat.activate(self._runtime.app.compatibility)
        try:
            result = rpc_copy(result)
        finally:
            compat.restore(token)
        host.record("rpc.return", method=method)
        return result

    async def _before_call(self, label: str) -> Any:
        caller = current_incarnation()
        if caller is not None:
            caller.output_gate.release()  # outgoing messages wait for the caller's writes
        runtime = self._runtime
        runtime.app.faults.before_call(self, label)
        return runtime.host_for(self.id)

    async def _deliver(self, host: Any, label: str, invoke: Any) -> Any:
        faults = self._runtime.app.faults
        try:
            result = await host.deliver(self._binding, label, invoke, self.id)
        except BaseException as error:
            if not isinstance(error, Exception):
                raise
            crossed = cross_exception(error, self._runtime.app.compatibility)
            host.record("rpc.raise", method=label, error=error_summary(crossed))
            raise crossed from None
        faults.after_call(self, label, host)
        return result


async def _call_method(instance: Any, method: str, args: list[Any]) -> Any:
    """Call ``instance.<method>(*args)`` as workerd's Python entry point does.

    workerd answers any name with a function that looks the attribute up on the Python
    instance when called: a missing or non-callable attribute is a JS ``TypeError``
    (``Method <name> does not exist``), anything callable is called -- names starting with
    ``_`` included (workerd src/pyodide/python-entrypoint-helper.ts,
    makeEntrypointProxyHandler). What the method raises leaves Python as a ``PythonError``.
    """
    function = getattr(instance, method, None)
    if not callable(function):
        raise JsException(MSG_UNKNOWN_METHOD.format(name=method), name="TypeError")
    return await call_python(function, *args)
