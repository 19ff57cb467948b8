"""Service bindings: ``env.API.fetch(request)`` and RPC to another Worker's entrypoint.

A ``[[services]]`` entry binds a Worker by name (``service``) and, optionally, one of its
named ``WorkerEntrypoint`` classes (``entrypoint``). On Cloudflare the binding is a
JavaScript ``Fetcher``; the Python SDK wraps it (workers-runtime-sdk 1.9.5 ``workers/rpc.py``
``_FetcherWrapper``) so that ``fetch`` goes through ``workers.fetch`` with the binding as
transport, and every other attribute is an RPC method whose arguments and result convert
as for any binding (:mod:`dosim.bindings.wrapper`).

dosim runs the target entrypoint in this process, as one invocation of the Worker that
defines it (its clock, compatibility date, CPU limit and ``env``): the bound Worker is
this app when ``service`` is its own name, or an app linked with
:meth:`dosim.App.link_worker` (``dosim dev`` links the Workers it serves together).
Arguments and results are copied with the RPC rules; an exception raised by the target
reaches the caller as a ``JsException``, as across a Durable Object stub
(:func:`dosim.errors.cross_exception`). A call failed with
``app.faults.fail_next_binding_call`` raises ``Network connection lost.`` (inferred: the
error a caller sees when the bound Worker cannot be reached).
"""

from __future__ import annotations

from typing import Any

from ..errors import cross_exception, network_lost
from ..serialization import from_wire, to_wire
from ..workers.fetch import fetch
from .host import BindingHost
from .wrapper import BindingProxy, JsClassObject

__all__ = ["ServiceFetcher", "ServiceProxy", "service_fetcher"]


class ServiceFetcher(JsClassObject):
    """The ``Fetcher`` behind a service binding.

    Args:
        host: The binding host of the app holding the binding.
        binding: The binding name.
        service: The bound Worker's name.
        entrypoint: Its named entrypoint class, or ``None`` for ``Default``.
    """

    js_class_name = "Fetcher"

    def __init__(
        self, host: BindingHost, binding: str, service: str, entrypoint: str | None
    ) -> None:
        self._host = host
        self._binding = binding
        self._service = service
        self._entrypoint = entrypoint

    async def fetch(self, request: Any) -> Any:
        """Deliver a ``Request`` to the bound entrypoint's ``fetch`` and return its response.

        Args:
            request: The request built by ``workers.fetch``.
        """
        self._host.before_call(self._binding, "fetch", network_lost)
        self._host.record(self._binding, "service", "fetch", url=str(request.url))
        target = self._host.service_app(self._binding, self._service)
        try:
            return await target.invoke_entrypoint(self._entrypoint, "fetch", (request,))
        except Exception as error:
            raise cross_exception(error, target.compatibility) from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def call(*args: Any) -> Any:
            self._host.before_call(self._binding, name, network_lost)
            self._host.record(self._binding, "service", name)
            target = self._host.service_app(self._binding, self._service)
            received = [from_wire(arg) for arg in args]
            try:
                result = await target.invoke_entrypoint(self._entrypoint, name, received)
            except Exception as error:
                raise cross_exception(error, target.compatibility) from None
            return to_wire(result, functions=True)

        call.__name__ = name
        return call


class ServiceProxy(BindingProxy):
    """A service binding as Python code holds it (the SDK's ``_FetcherWrapper``).

    ``await env.API.fetch(url_or_request, **options)`` sends a request through the
    binding; ``await env.API.method(*args)`` calls an RPC method of the entrypoint.
    """

    __slots__ = ()

    async def fetch(self, resource: Any, **options: Any) -> Any:
        """Send an HTTP request to the bound Worker.

        Args:
            resource: A URL or a ``Request``.
            **options: ``method``, ``headers``, ``body``, ... as for ``workers.fetch``.

        Returns:
            The bound Worker's ``Response``.
        """
        return await fetch(resource, fetcher=self.js_object.fetch, **options)


def service_fetcher(
    host: BindingHost, binding: str, service: str, entrypoint: str | None
) -> ServiceProxy:
    """Make the ``env`` value of a service binding.

    Args:
        host: The binding host of the app holding the binding.
        binding: The binding name.
        service: The bound Worker's name.
        entrypoint: Its named entrypoint class, or ``None``.
    """
    return ServiceProxy(ServiceFetcher(host, binding, service, entrypoint))
